"""``--repo R`` from elsewhere gives the answer running inside R gives (issue 20 item 3).

Every command with ``--repo`` (tests/unit/test_repo_option.py lists those without) runs twice
on two identical copies of one governed repository with a real signed ledger: once from the
repository root without ``--repo``, once from an unrelated directory with ``--repo COPY``. The
exit code, stdout and stderr must be the same, with only what differs between two runs of a
writing command masked (event ids, commit ids, times) and each copy's path written
``<repo>``: a file of the repository is named relative to its root in both (or the test
fails). A command that refuses here (no GitHub, nothing to promote) must refuse the same way,
which it cannot do unless ``--repo`` found the repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app
from governance.digest import release_digest
from tests.integration.ledger.conftest import Keys, Ledger, make_repo
from tests.unit.test_repo_option import WITH_REPO

MODEL = "fraud-risk"
R0, R1 = "fraud-risk-2026-02-14-01", "fraud-risk-2026-03-28-01"
SOURCE = Path(__file__).resolve().parents[2]

# argv of each command (without --repo); {keys} is the keys directory, {before} the commit
# before the last one of the repository
CASES: dict[str, list[str]] = {
    "validate": ["validate"],
    "digest": ["digest", R1],
    "live": ["live", MODEL, "--env", "staging"],
    "history": ["history", MODEL, "--format", "csv"],
    "diff": ["diff", R0, R1],
    "explain": ["explain", R1],
    "report": ["report", R1],
    "check": ["check", R1, "--format", "json", "--approvals", "none"],
    "promote": ["promote", R0, "--env", "staging"],
    "rollback": ["rollback", MODEL, "--env", "staging", "--reason", "drill"],
    "retire": ["retire", R0, "--reason", "superseded"],
    "status": ["status", MODEL, "--format", "json"],
    "approve": ["approve", R1, "--role", "risk_owner"],
    "doctor": ["doctor", "--format", "json"],
    "model new": ["model", "new", "churn", "--owner", "jane.smith"],
    "release new": ["release", "new", "--model", MODEL, "--version", "2026-06-01",
                    "--artifact", "s3://models/fraud-risk/2026-06-01.onnx",
                    "--sha256", "a" * 64],
    "release register": ["release", "register", R1],
    "release propose": ["release", "propose", R1],
    "ledger init": ["ledger", "init"],
    "ledger append": ["ledger", "append", "--type", "model_registered",
                      "--field", "model_name=churn"],
    "ledger log": ["ledger", "log", "--format", "json"],
    "ledger checkpoint": ["ledger", "checkpoint"],
    "ledger verify": ["ledger", "verify"],
    "audit query": ["audit", "query", "--model", MODEL, "--env", "staging"],
    "audit export": ["audit", "export"],
    "audit verify-sink": ["audit", "verify-sink"],
    "audit sink-init": ["audit", "sink-init"],
    "codeowners generate": ["codeowners", "generate"],
    "codeowners check": ["codeowners", "check"],
    "env list": ["env", "list", "--format", "json"],
    "env first": ["env", "first"],
    "env next": ["env", "next", R1, "--format", "json"],
    "env publish": ["env", "publish"],
    "env verify": ["env", "verify", "--format", "json"],
    "config record": ["config", "record", "--before", "{before}"],
    "pins write": ["pins", "write"],
    "people add": ["people", "add", "erin", "--name", "Erin", "--email", "erin@example.com"],
    "people remove": ["people", "remove", "dana"],
    "people roles": ["people", "roles", "bob", "--add", "risk_owner"],
    "people list": ["people", "list"],
    "people sync": ["people", "sync"],
    "keys add": ["keys", "add", "bob", "{keys}/dana.pub"],
    "keys retire": ["keys", "retire", "dana", "{dana}"],
    "keys log": ["keys", "log", "{keys}/log.pub"],
}

# what two runs of a writing command may differ in: event and commit ids, times, the engine's
# timers
_VARYING = (re.compile(r'"timer_[a-z_]+": \d+'),
            re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
            re.compile(r"\b[0-9a-f]{12,64}\b"),
            re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"),
            re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"))


def test_every_command_with_repo_has_a_case() -> None:
    assert sorted(CASES) == WITH_REPO


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Keys, dict[str, str]]:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.skip("ssh-keygen and git are needed for a real signed ledger")
    base = tmp_path_factory.mktemp("repo-option")
    keys = Keys(base / "keys")
    keys.dir.mkdir()
    for name in ("jane", "bob", "dana", "ci", "log"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                        "-f", str(keys.dir / name)], check=True)
    root = make_repo(base / "repo", keys)
    shutil.copytree(SOURCE / "releases" / MODEL, root / "releases" / MODEL)
    shutil.copytree(SOURCE / "policies", root / "policies")
    (root / ".gitignore").write_text(".governance/\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "releases"], cwd=root, check=True)
    digest = {r: release_digest(root / "releases" / MODEL / r).value for r in (R0, R1)}
    led = Ledger(root, keys)
    led.init()
    led.append("model_registered", model_name=MODEL)
    for release, version in ((R0, "2026-02-14"), (R1, "2026-03-28")):
        led.append("release_registered", model_name=MODEL, release_id=release,
                   model_version=version, release_digest=digest[release])
    led.append("gate_evaluated", as_="governance-ci", model_name=MODEL, release_id=R1,
               environment="staging", release_digest=digest[R1], actor_id="governance-ci",
               decision={"decision_id": "d-1", "allow": True})
    led.append("approval_granted", model_name=MODEL, release_id=R1, actor_role="risk_owner",
               approval_state="approved", release_digest=digest[R1])
    led.append("deployment_promoted", as_="governance-ci", model_name=MODEL, release_id=R1,
               environment="staging", release_digest=digest[R1], actor_id="governance-ci")
    before = subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.strip()
    dana = subprocess.run(["ssh-keygen", "-l", "-f", str(keys.dir / "dana.pub")], check=True,
                          capture_output=True, text=True).stdout.split()[1]
    return root, keys, {"keys": str(keys.dir), "before": before, "dana": dana}


def _run(argv: list[str], cwd: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
         ) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    env = {"GOVERNANCE_LEDGER_SIGNING_KEY": str(keys.path("jane")),
           "GOVERNANCE_LEDGER_LOG_KEY": str(keys.path("log")),
           "GITHUB_REPOSITORY": None, "GITHUB_TOKEN": None, "GOVERNANCE_PR": None}
    result = CliRunner().invoke(app, argv, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _same(text: str, repo: Path) -> str:
    text = text.replace(str(repo.resolve()), "<repo>").replace(str(repo), "<repo>")
    for pattern in _VARYING:
        text = pattern.sub("<varies>", text)
    return text


@pytest.mark.parametrize("name", WITH_REPO)
def test_repo_gives_the_answer_given_inside_the_repository(
        name: str, template: tuple[Path, Keys, dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    root, keys, values = template
    argv = [a.format(**values) for a in CASES[name]]
    inside, given = tmp_path / "inside", tmp_path / "given"
    for copy in (inside, given):
        shutil.copytree(root, copy, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code_a, out_a, err_a = _run(argv, inside, keys, monkeypatch)
    code_b, out_b, err_b = _run([*argv, "--repo", str(given)], elsewhere, keys, monkeypatch)
    assert "internal error" not in err_a, err_a
    assert code_b == code_a, err_b
    assert _same(out_b, given).splitlines() == _same(out_a, inside).splitlines()
    assert _same(err_b, given).splitlines() == _same(err_a, inside).splitlines()
    assert not (elsewhere / ".governance").exists()  # nothing written where the command ran
    assert sorted(p.name for p in elsewhere.iterdir()) == []
