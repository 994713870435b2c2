"""`governance init` to `governance ledger init` with no edits (issue 15, items 1 and 2).

Real git, real ssh-keygen keys; each test has its own git global config (the founder is
read from git's user.name, user.email, gpg.format and user.signingkey).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from governance.cli.app import app
from governance.scaffolding import SCAFFOLD, origin_from_remote

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("ssh-keygen") is None,
    reason="git and ssh-keygen are needed for a real scaffold and genesis")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def signing_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git user who signs with an SSH key, as a new user would have set up."""
    key = tmp_path / "keys" / "sam"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sam", "-f",
                    str(key)], check=True)
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = Sam Doe\n"
                      "\temail = sam@example.com\n"
                      f"\tsigningkey = {key}.pub\n[gpg]\n\tformat = ssh\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.delenv("GOVERNANCE_LEDGER_SIGNING_KEY", raising=False)
    return key


@pytest.fixture
def unsigned_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = Ann\n"
                      "\temail = ann@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.delenv("GOVERNANCE_LEDGER_SIGNING_KEY", raising=False)


def test_init_then_ledger_init_succeeds_with_no_edits(tmp_path: Path, signing_user: Path
                                                       ) -> None:
    repo = tmp_path / "fraud models"
    code, out = run("init", str(repo))
    assert code == 0, out
    assert "ledger origin: github.com/example-org/fraud-models" in out
    assert "added you as person 'sam' (sam@example.com) and ledger rotator" in out
    config = yaml.safe_load((repo / "governance.yaml").read_text())
    assert config["ledger"]["origin"] == "github.com/example-org/fraud-models"
    assert config["ledger"]["rotators"] == ["sam"]
    sam = config["people"][0]
    assert sam["id"] == "sam" and sam["email"] == "sam@example.com"
    assert sam["signing_keys"][0].split()[:2] == \
        (signing_user.parent / "sam.pub").read_text().split()[:2]
    assert [b["id"] for b in config["bots"]] == ["ci-bot"]
    assert "signing_keys" not in config["bots"][0]  # a placeholder: no key yet
    # CODEOWNERS generated, in sync; the repository validates
    assert (repo / ".github" / "CODEOWNERS").is_file()
    assert run("codeowners", "check", "--root", str(repo))[0] == 0
    assert run("validate", str(repo))[0] == 0
    # the genesis, with no edit of any file
    code, out = run("ledger", "init", "--repo", str(repo))
    assert code == 0, out
    assert out.startswith("seq 0 ledger_genesis")
    assert "no deploy bot with a key" in out and "governance keys add ci-bot" in out
    code, out = run("ledger", "verify", "--repo", str(repo))
    assert code == 0, out
    # no model yet: status says what to do next, not an empty line
    code, out = run("status", "--repo", str(repo))
    assert (code, out) == (0, "no models yet: register one with "
                              "`governance model new NAME --owner ID`\n")


def test_a_committed_scaffold_pins_its_commit(tmp_path: Path, signing_user: Path) -> None:
    repo = tmp_path / "g"
    assert run("init", str(repo))[0] == 0
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", "governed repository")
    code, out = run("ledger", "init", "--repo", str(repo), "--format", "json")
    assert code == 0, out
    assert git(repo, "rev-parse", "HEAD") in out  # details.config_commit


def test_origin_and_organization_come_from_the_git_remote(tmp_path: Path,
                                                          signing_user: Path) -> None:
    repo = tmp_path / "g"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://bot:s3cr3t-token@github.com/acme/fraud.git")
    code, out = run("init", str(repo))
    assert code == 0, out
    assert "ledger origin: github.com/acme/fraud" in out
    assert "s3cr3t" not in out and "s3cr3t" not in (repo / "governance.yaml").read_text()
    config = yaml.safe_load((repo / "governance.yaml").read_text())
    assert config["organization"] == "acme"
    assert config["ledger"]["origin"] == "github.com/acme/fraud"


def test_origin_option_wins_and_is_checked(tmp_path: Path, signing_user: Path) -> None:
    code, out = run("init", str(tmp_path / "g"), "--origin", "models.acme.example/risk",
                    "--organization", "acme", "--login", "sam-doe")
    assert code == 0, out
    config = yaml.safe_load((tmp_path / "g" / "governance.yaml").read_text())
    assert config["ledger"]["origin"] == "models.acme.example/risk"
    assert config["organization"] == "acme"
    assert config["ledger"]["rotators"] == ["sam-doe"]
    code, out = run("init", str(tmp_path / "h"), "--origin", "has space")
    assert code == 2 and "is not a checkpoint origin line" in out
    assert not (tmp_path / "h").exists()


@pytest.mark.parametrize(("url", "origin"), [
    ("git@github.com:acme/models.git", "github.com/acme/models"),
    ("https://github.com/acme/models", "github.com/acme/models"),
    ("https://user:token@GitHub.com:443/acme/models.git/", "github.com/acme/models"),
    ("ssh://git@git.acme.example:2222/ml/fraud.git", "git.acme.example/ml/fraud"),
    ("/srv/git/models.git", None),
    ("file:///srv/git/models.git", None),
    ("../models", None),
])
def test_origin_from_remote(url: str, origin: str | None) -> None:
    assert origin_from_remote(url) == origin


def test_init_inside_an_enclosing_repository_stops_and_says_so(tmp_path: Path,
                                                               signing_user: Path) -> None:
    top = tmp_path / "mono"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    code, out = run("init", str(top / "gov" / "models"))
    assert code == 2, out
    assert "is inside the git repository at" in out and "nothing was written" in out
    assert "--new-repository" in out and "--subdirectory" in out
    assert not (top / "gov").exists()  # the directories it would have created are gone
    (top / "existing").mkdir()
    code, out = run("init", str(top / "existing"))
    assert code == 2 and list((top / "existing").iterdir()) == []
    # a new repository in DIR
    code, out = run("init", str(top / "gov"), "--new-repository")
    assert code == 0, out
    assert (top / "gov" / ".git").is_dir()
    assert git(top / "gov", "rev-parse", "--show-toplevel") == str((top / "gov").resolve())
    assert run("ledger", "init", "--repo", str(top / "gov"))[0] == 0
    # or a subdirectory of the enclosing one, said out loud
    code, out = run("init", str(top / "sub"), "--subdirectory")
    assert code == 0, out
    assert "GitHub runs workflows and reads CODEOWNERS only at the top" in out
    assert not (top / "sub" / ".git").exists()
    code, out = run("init", str(top / "x"), "--subdirectory", "--new-repository")
    assert code == 2


def test_init_at_the_top_of_an_existing_repository_scaffolds_into_it(
        tmp_path: Path, signing_user: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    code, out = run("init", str(repo))
    assert code == 0, out
    assert "initialised a git repository" not in out


def test_ledger_init_refuses_a_genesis_without_a_rotator(tmp_path: Path,
                                                         unsigned_user: None) -> None:
    repo = tmp_path / "g"
    code, out = run("init", str(repo))
    assert code == 0, out
    assert "no founder added (no ledger signing key" in out
    assert "git has no SSH signing configured (gpg.format and user.signingkey are unset)" in out
    assert "governance people add ID" in out
    config = yaml.safe_load((repo / "governance.yaml").read_text())
    assert config["ledger"]["rotators"] == [] and config["people"] == []
    code, out = run("ledger", "init", "--repo", str(repo))
    assert code == 3, out
    assert "$.ledger.rotators: no rotator" in out and "freezes the trust" in out
    assert "governance people add" in out
    assert not git(repo, "branch", "--list", "governance/ledger")


def test_ledger_init_refuses_a_rotator_who_is_nobody_or_has_no_key(
        tmp_path: Path, signing_user: Path) -> None:
    repo = tmp_path / "g"
    assert run("init", str(repo))[0] == 0
    path = repo / "governance.yaml"
    text = path.read_text()
    path.write_text(text.replace("rotators: [sam]", "rotators: [nobody]"))
    code, out = run("ledger", "init", "--repo", str(repo))
    assert code == 3 and "nobody is not a person or bot of governance.yaml" in out
    path.write_text(text.replace("rotators: [sam]", "rotators: [ci-bot]"))
    code, out = run("ledger", "init", "--repo", str(repo))
    assert code == 3 and "no rotator has a signing key" in out


def test_scaffold_placeholders_are_documented() -> None:
    """The placeholders the people commands fill are named in the scaffold's comments."""
    text = (SCAFFOLD / "governance.yaml").read_text()
    assert "rotators: []" in text and "- id: ci-bot" in text
    assert "governance keys add ci-bot KEY.pub" in text
    assert "governance people add ID --name N --email E --key KEY.pub" in text


def _quoted_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(SCAFFOLD.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".md", ".rego", ""):
            for cmd in re.findall(r"`governance ([a-z][a-z -]*?)(?: [A-Z\-\[<.]|`)",
                                  path.read_text(encoding="utf-8")):
                found.append((path.relative_to(SCAFFOLD).as_posix(), cmd.split()))
    return found


@pytest.mark.parametrize(("where", "words"), _quoted_commands())
def test_every_command_the_scaffold_quotes_exists(where: str, words: list[str]) -> None:
    if words[0] in ("people", "keys") and run(words[0], "--help")[0] != 0:
        pytest.skip(f"`governance {words[0]}` comes with the people commands (issue 15 item 3)")
    code, out = run(*words, "--help")
    assert code == 0, f"{where} quotes `governance {' '.join(words)}`, which does not exist"


def test_init_pins_the_given_artifact_and_refuses_a_wrong_one_before_writing(
        tmp_path: Path, signing_user: Path) -> None:
    import hashlib

    from governance import __version__
    from governance.pins import REQUIREMENTS, check_requirements, parse_requirements

    wrong = tmp_path / "model_governance-9.9.9-py3-none-any.whl"
    wrong.write_bytes(b"another release")
    code, out = run("init", str(tmp_path / "g"), "--artifact", str(wrong))
    assert code == 2 and "not a wheel or sdist of model-governance" in out
    assert not (tmp_path / "g").exists()
    wheel = tmp_path / f"model_governance-{__version__}-py3-none-any.whl"
    wheel.write_bytes(b"this release")
    code, out = run("init", str(tmp_path / "g"), "--artifact", str(wheel))
    assert code == 0, out
    assert "without its sha256" not in out
    pins = parse_requirements((tmp_path / "g" / REQUIREMENTS).read_text())
    assert (pins[0].name, pins[0].version) == ("model-governance", __version__)
    assert pins[0].hashes == (hashlib.sha256(b"this release").hexdigest(),)
    # what remains is the dependency lock, which only a published release ships
    assert [p.message for p in check_requirements(tmp_path / "g")] == [
        "no dependencies listed (pip --require-hashes refuses model-governance's unlisted "
        "dependencies)"]


def test_pins_write_renews_the_requirements(tmp_path: Path, signing_user: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from governance import __version__
    from governance.pins import REQUIREMENTS, parse_requirements

    repo = tmp_path / "g"
    assert run("init", str(repo))[0] == 0
    sdist = tmp_path / f"model_governance-{__version__}.tar.gz"
    sdist.write_bytes(b"the sdist")
    monkeypatch.chdir(repo)
    code, out = run("pins", "write", "--artifact", str(sdist))
    assert code == 0 and f"wrote {REQUIREMENTS}" in out
    assert "no dependency lock" in out  # said on stderr: this install is not a release
    assert parse_requirements((repo / REQUIREMENTS).read_text())[0].hashes == (
        hashlib.sha256(b"the sdist").hexdigest(),)


def test_model_new_keeps_codeowners_in_sync(tmp_path: Path, signing_user: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "models"
    assert run("init", str(repo))[0] == 0
    monkeypatch.chdir(repo)
    code, out = run("model", "new", "fraud-risk", "--owner", "sam")
    assert code == 0, out
    assert ".github/CODEOWNERS: regenerated" in out
    assert "/releases/fraud-risk/**" in (repo / ".github" / "CODEOWNERS").read_text()
    assert run("codeowners", "check", "--root", str(repo))[0] == 0
