"""`governance check --env` reading approvals and lifecycle state from a real signed ledger.

Real git, real ssh-keygen ed25519 keys, the real ledger writer; the reference fraud-risk
releases in a fresh governed repository.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app
from governance.digest import release_digest
from tests.integration.ledger.conftest import Keys, Ledger, make_repo

ROOT = Path(__file__).resolve().parents[3]
TARGET = "fraud-risk-2026-04-10-01"
ROLLBACK_TO = "fraud-risk-2026-03-28-01"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.skip("ssh-keygen and git are needed for real signatures")
    d = tmp_path_factory.mktemp("keys")
    for name in ("jane", "bob", "dana", "ci", "log"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                        "-f", str(d / name)], check=True)
    return Keys(d)


@pytest.fixture
def governed(tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Ledger]:
    root = make_repo(tmp_path / "repo", keys)
    shutil.copytree(ROOT / "releases" / "fraud-risk", root / "releases" / "fraud-risk")
    shutil.copytree(ROOT / "policies", root / "policies")
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "releases"], cwd=root, check=True)
    led = Ledger(root, keys)
    led.init()
    monkeypatch.chdir(root)
    monkeypatch.setenv("GOVERNANCE_NOW", "2026-06-01T00:00:00Z")
    monkeypatch.setenv("GOVERNANCE_ENGINE", "regopy")
    return root, led


def approve(led: Ledger, root: Path, release_id: str) -> str:
    digest = release_digest(root / "releases" / "fraud-risk" / release_id).value
    led.append("release_registered", model_name="fraud-risk", release_id=release_id,
               model_version=release_id[-13:-3], release_digest=digest)
    led.append("approval_granted", model_name="fraud-risk", release_id=release_id,
               actor_role="risk_owner", approval_state="approved", release_digest=digest)
    led.append("release_approved", as_="governance-ci", model_name="fraud-risk",
               release_id=release_id, release_digest=digest, actor_id="governance-ci",
               details={"approvers": ["risk_owner:jane.smith"]})
    return digest


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def test_approved_on_the_ledger_passes_staging(governed: tuple[Path, Ledger]) -> None:
    root, led = governed
    code, out = check(TARGET, "--env", "staging")
    assert code == 1
    assert "staging needs 1 approval(s) from role risk_owner" in out
    approve(led, root, ROLLBACK_TO)
    approve(led, root, TARGET)
    code, out = check(TARGET, "--env", "staging")
    assert code == 0, out
    assert out.startswith(f"PASS {TARGET} (--env staging)")


def test_changed_content_after_approval_is_denied(governed: tuple[Path, Ledger]) -> None:
    root, led = governed
    approve(led, root, ROLLBACK_TO)
    approved = approve(led, root, TARGET)
    card = root / "releases" / "fraud-risk" / TARGET / "model-card.yaml"
    card.write_text(card.read_text() + "# edited after approval\n")
    code, out = check(TARGET, "--env", "staging")
    assert code == 1
    assert "release content changed after approval (digest now sha256:" in out
    assert f"approved {approved})" in out
    assert "approval by jane.smith as risk_owner was given on digest" in out


def test_approvals_none_ignores_the_ledger(governed: tuple[Path, Ledger]) -> None:
    root, led = governed
    approve(led, root, ROLLBACK_TO)
    approve(led, root, TARGET)
    code, out = check(TARGET, "--env", "staging", "--approvals", "none")
    assert code == 1
    assert "no approval source was consulted" in out
