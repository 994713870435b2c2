"""Git-native approvals on a real SSH-signed ledger: what verification refuses before anything
is counted. Counting itself is the required-approvals gate's (``--approvals git``: the ledger's
approvals in the gate input; tests/integration/lifecycle/test_approval_authority.py and
tests/unit/approvals/test_one_authority.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from governance.errors import Tampered
from governance.ledger import append_event, init_ledger, verify_repo
from governance.ledger.reader import ledger_source

DIGEST = "sha256:" + "ab" * 32
KEYS = ("jane", "bob", "dana", "ci", "log")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.skip("ssh-keygen and git are needed for real signatures")
    d = tmp_path_factory.mktemp("keys")
    for name in KEYS:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)],
            check=True,
        )
    return d


def _pub(keys: Path, name: str) -> str:
    return (keys / f"{name}.pub").read_text().strip()


@pytest.fixture
def repo(tmp_path: Path, keys: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    people = "".join(
        f"  - id: {pid}\n    name: {pid}\n    email: {pid}@example.com\n"
        f'    signing_keys: ["{_pub(keys, key)}"]\n'
        for pid, key in (("jane.smith", "jane"), ("bob", "bob"), ("dana", "dana"))
    )
    (root / "governance.yaml").write_text(
        "apiVersion: governance/v1\nkind: GovernanceConfig\norganization: acme\n"
        f"people:\n{people}"
        "bots:\n  - id: governance-ci\n    name: CI\n    email: ci@example.com\n"
        f'    signing_keys: ["{_pub(keys, "ci")}"]\n    may_emit: [approval_granted]\n'
        "roles:\n  risk_owner: {members: [jane.smith]}\n  platform_owner: {members: [bob, dana]}\n"
        "environments:\n  production: {required_approvals: [risk_owner, platform_owner]}\n"
        "risk_tiers:\n  high: {approvals_per_role: 1}\n"
        "ledger:\n  branch: governance/ledger\n  origin: example.com/acme/models\n"
        f'  checkpoint_every: 100\n  log_public_key: "{_pub(keys, "log")}"\n'
        "  rotators: [jane.smith]\n  clock_skew_seconds: 300\n"
    )
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "governance"], check=True)
    init_ledger(root, signing_key=keys / "jane", log_key=keys / "log")
    return root


def _approve(root: Path, keys: Path, key: str, role: str, digest: str = DIGEST) -> None:
    append_event(
        root,
        {
            "event_type": "approval_granted",
            "model_name": "fraud-risk",
            "release_id": "r1",
            "actor_role": role,
            "approval_state": "approved",
            "release_digest": digest,
        },
        signing_key=keys / key,
        log_key=keys / "log",
    )


def test_approval_for_a_role_not_held_fails_verification(repo: Path, keys: Path) -> None:
    """An approval signed for a role its signer does not hold is a lifecycle violation of the
    ledger (issue 13): verification fails at it, and the verified reader refuses the ledger
    past it, so nothing is counted from it."""
    _approve(repo, keys, "jane", "risk_owner")
    _approve(repo, keys, "dana", "platform_owner")
    assert verify_repo(repo).ok
    _approve(repo, keys, "dana", "risk_owner")  # dana does not hold risk_owner
    report = verify_repo(repo)
    assert report.failure is not None
    assert "dana is not a member of role 'risk_owner'" in report.failure.reason
    with pytest.raises(Tampered, match="ledger tampered at seq 3: lifecycle: approval_granted"):
        list(ledger_source(repo).entries())
