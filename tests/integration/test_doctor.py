"""`governance doctor` (issue 15, item 6): ready, and each finding with the command that fixes it.

A repository built the way a team would (init, people and keys in governance.yaml, CODEOWNERS
generated, the workflows' pins written, committed, the genesis signed with real ssh-keygen keys)
is ready; each test then breaks one thing and expects exactly that finding.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from governance import __version__
from governance.cli.app import app
from governance.pins import REQUIREMENTS, requirements_text
from tests.support.shared import shared_dir

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("ssh-keygen") is None,
    reason="git and ssh-keygen are needed for a real ledger")

H = "d" * 64
LOCK = f"pyyaml==6.0.2 \\\n    --hash=sha256:{H}\n"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout.strip()


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f",
                    str(path)], check=True)
    return Path(f"{path}.pub").read_text().strip()


TEAM = ("sam", "alice", "bob", "jane", "ci-bot", "log", "stranger")


class Team:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The team's keys in ``tmp/keys`` (generated unless a copied template holds them)."""
        self.keys = tmp / "keys"
        if self.keys.is_dir():
            self.pub = {who: Path(f"{self.keys / who}.pub").read_text().strip() for who in TEAM}
        else:
            self.keys.mkdir()
            self.pub = {who: keygen(self.keys / who) for who in TEAM}
        self.gitconfig = tmp / "gitconfig"
        self.sign_as("sam")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(self.gitconfig))
        monkeypatch.delenv("GOVERNANCE_LEDGER_SIGNING_KEY", raising=False)
        monkeypatch.delenv("GOVERNANCE_LEDGER_LOG_KEY", raising=False)
        self.root = tmp / "repo"

    def sign_as(self, who: str | None) -> None:
        text = ("[init]\n\tdefaultBranch = main\n[user]\n\tname = Sam Doe\n"
                "\temail = sam@example.com\n")
        if who is not None:
            text += f"\tsigningkey = {self.keys / who}.pub\n[gpg]\n\tformat = ssh\n"
        self.gitconfig.write_text(text)

    def config(self) -> dict[str, Any]:
        doc = yaml.safe_load((self.root / "governance.yaml").read_text())
        assert isinstance(doc, dict)
        return doc

    def write_config(self, doc: dict[str, Any]) -> None:
        (self.root / "governance.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def build(self) -> Path:
        assert run("init", str(self.root), "--organization", "acme")[0] == 0
        doc = self.config()
        for who, role in (("alice", "ml_lead"), ("bob", "platform_owner"),
                          ("jane", "risk_owner")):
            doc["people"].append({"id": who, "name": who.title(), "email": f"{who}@example.com",
                                  "signing_keys": [self.pub[who]]})
            doc["roles"][role]["members"] = [who]
        doc["bots"][0]["signing_keys"] = [self.pub["ci-bot"]]
        doc["ledger"]["log_public_key"] = self.pub["log"]
        self.write_config(doc)
        assert run("codeowners", "generate", "--root", str(self.root))[0] == 0
        (self.root / REQUIREMENTS).write_text(requirements_text(__version__, [H], LOCK))
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", "governed repository")
        code, out = run("ledger", "init", "--repo", str(self.root))
        assert code == 0, out
        return self.root


@pytest.fixture(scope="session")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ready repository and its keys, built once per run (the real init, CODEOWNERS and a
    signed genesis); each test gets a copy."""
    def build(path: Path) -> None:
        path.mkdir()
        with pytest.MonkeyPatch.context() as monkeypatch:
            Team(path, monkeypatch).build()

    return shared_dir(tmp_path_factory, "doctor-team", build)


@pytest.fixture
def team(team_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    shutil.copytree(team_template, tmp_path, symlinks=True, dirs_exist_ok=True)
    t = Team(tmp_path, monkeypatch)  # keys copied: the git config points at this copy's
    monkeypatch.chdir(t.root)
    return t


def doctor() -> tuple[int, dict[str, Any]]:
    code, out = run("doctor", "--format", "json")
    return code, json.loads(out)


def errors(report: dict[str, Any]) -> list[dict[str, str]]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def only_error(check: str) -> dict[str, str]:
    code, report = doctor()
    assert code == 1 and report["ready"] is False
    found = errors(report)
    assert [f["check"] for f in found] == [check], found
    return found[0]


def test_a_complete_repository_is_ready(team: Team) -> None:
    code, report = doctor()
    assert code == 0, report
    assert report["ready"] is True and errors(report) == []
    assert {"signing", "ledger", "origin", "log-key", "codeowners", "workflows", "pins",
            "branch-protection"} <= set(report["checked"])
    # advice is given (what only GitHub enforces) but never fails the run
    assert any(f["check"] == "branch-protection" for f in report["findings"])
    code, text = run("doctor")
    assert code == 0 and text.startswith("ready\n")
    assert "advice [branch-protection]" in text and "  fix: Settings > Rules" in text


def test_signing_not_configured(team: Team) -> None:
    team.sign_as(None)
    f = only_error("signing")
    assert "git has no SSH signing configured (gpg.format and user.signingkey are unset)" \
        in f["message"]
    assert "git config --global gpg.format ssh" in f["fix"]


def test_signing_key_of_nobody_in_governance_yaml(team: Team) -> None:
    team.sign_as("stranger")
    f = only_error("signing")
    assert "is not a key of any person in governance.yaml" in f["message"]
    assert "governance people add" in f["fix"]


def test_a_key_in_governance_yaml_the_ledger_has_not_recorded(team: Team) -> None:
    doc = team.config()
    doc["people"][0]["signing_keys"].append(team.pub["stranger"])
    team.write_config(doc)
    team.sign_as("stranger")
    f = only_error("signing")
    assert "the ledger does not accept your key" in f["message"]
    assert "governance keys add" in f["fix"]


def test_no_ledger(team: Team) -> None:
    git(team.root, "branch", "-D", "governance/ledger")
    shutil.rmtree(team.root / ".governance", ignore_errors=True)
    f = only_error("ledger")
    assert f["message"] == "no ledger yet" and f["fix"].startswith("governance ledger init")


def test_a_ledger_that_does_not_verify(team: Team) -> None:
    # an unsigned commit on the ledger branch, as a careless push would leave it
    tip = git(team.root, "rev-parse", "governance/ledger")
    tree = git(team.root, "rev-parse", f"{tip}^{{tree}}")
    forged = git(team.root, "commit-tree", tree, "-p", tip, "-m", "not a ledger event")
    git(team.root, "update-ref", "refs/heads/governance/ledger", forged)
    f = only_error("ledger")
    assert "the ledger does not verify" in f["message"]
    assert f["fix"].startswith("governance ledger verify")


def test_origin_placeholder_and_origin_changed_after_the_genesis(team: Team) -> None:
    doc = team.config()
    doc["ledger"]["origin"] = "github.com/acme/other"
    team.write_config(doc)
    f = only_error("origin")
    assert "genesis pinned 'github.com/acme/repo'" in f["message"]
    assert "set ledger.origin back to 'github.com/acme/repo'" in f["fix"]
    doc["ledger"]["origin"] = "example.com/example-org/models"
    team.write_config(doc)
    code, report = doctor()
    assert any("placeholder" in e["message"] for e in errors(report))


def test_log_key_missing_or_unknown_to_the_ledger(team: Team) -> None:
    doc = team.config()
    doc["ledger"]["log_public_key"] = team.pub["stranger"]
    team.write_config(doc)
    f = only_error("log-key")
    assert "is not a log key of the ledger's trust" in f["message"]
    assert "add_log_key" in f["fix"]
    del doc["ledger"]["log_public_key"]
    team.write_config(doc)
    f = only_error("log-key")
    assert "no ledger.log_public_key" in f["message"]
    assert "ssh-keygen -t ed25519" in f["fix"] and "GOVERNANCE_LOG_KEY" in f["fix"]


def test_a_required_role_without_members(team: Team) -> None:
    doc = team.config()
    doc["roles"]["risk_owner"]["members"] = []
    team.write_config(doc)
    code, report = doctor()
    found = errors(report)
    assert code == 1
    roles = [f for f in found if f["check"] == "roles"]
    assert len(roles) == 1 and "role risk_owner has no members or teams" in roles[0]["message"]
    assert "--role risk_owner" in roles[0]["fix"]
    # the role change also left CODEOWNERS behind: reported with its own fix
    assert [f["fix"] for f in found if f["check"] == "codeowners"] == [
        "governance codeowners generate"]


def test_no_ci_bot_key(team: Team) -> None:
    doc = team.config()
    del doc["bots"][0]["signing_keys"]
    team.write_config(doc)
    f = only_error("bot")
    assert "governance keys add ci-bot ci-bot.pub" in f["fix"]
    assert "GOVERNANCE_SIGNING_KEY" in f["fix"]


def test_codeowners_out_of_sync(team: Team) -> None:
    (team.root / ".github" / "CODEOWNERS").write_text("* @someone\n")
    f = only_error("codeowners")
    assert f["fix"] == "governance codeowners generate"


def test_a_missing_workflow_and_a_changed_one(team: Team) -> None:
    workflows = team.root / ".github" / "workflows"
    (workflows / "governance-gate.yml").write_text(
        (workflows / "governance-gate.yml").read_text() + "# local change\n")
    code, report = doctor()
    assert code == 0  # a local change is advice, not a failure
    assert any(f["check"] == "workflows" and f["severity"] == "advice"
               for f in report["findings"])
    (workflows / "governance-rollback.yml").unlink()
    f = only_error("workflows")
    assert "governance-rollback.yml is missing" in f["message"]
    assert "cp " in f["fix"] and "governance init" in f["fix"]


def test_pins_that_disagree_with_the_installed_version(team: Team) -> None:
    (team.root / REQUIREMENTS).write_text(requirements_text("0.0.1", [H], LOCK))
    f = only_error("pins")
    assert f"pins model-governance 0.0.1, but {__version__} is installed" in f["message"]
    assert f["fix"].startswith("governance pins write --artifact")
    (team.root / REQUIREMENTS).unlink()
    f = only_error("pins")
    assert "does not exist" in f["message"]


def test_an_invalid_governance_yaml_stops_the_checks(team: Team) -> None:
    (team.root / "governance.yaml").write_text("apiVersion: governance/v1\nkind: Nope\n")
    f = only_error("config")
    assert f["fix"].startswith("governance validate")


def test_a_fresh_scaffold_is_not_ready_and_says_what_to_do(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    t = Team(tmp_path, monkeypatch)
    assert run("init", str(t.root))[0] == 0
    monkeypatch.chdir(t.root)
    code, text = run("doctor")
    assert code == 1 and text.startswith("not ready: ")
    for check in ("ledger", "log-key", "roles", "bot", "pins"):
        assert f"error [{check}]" in text
    assert text.count("  fix: ") == text.count("error [") + text.count("advice [")
