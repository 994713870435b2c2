"""`--approvals git` end to end: real SSH-signed ledger events -> verified -> counted."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.approvals.counting import (
    ApprovalFacts,
    Outcome,
    PullRequest,
    Review,
    decide,
)
from governance.approvals.git_native import signed_approvals
from governance.approvals.policy import approval_policy
from governance.config import load_config
from governance.ledger import append_event, entries, init_ledger, verify_repo

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
HEAD = "a" * 40
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


def _decide(root: Path, trainers: tuple[str, ...] = ()) -> Outcome:
    report = verify_repo(root)
    signed = signed_approvals(entries(root), "r1", environment="production", verified=report.ok)
    policy = approval_policy(load_config(root), "production", "high", trainers)
    return decide(policy, ApprovalFacts(signed=signed, release_digest=DIGEST)).outcome


def test_signed_approvals_by_role_holders_approve(repo: Path, keys: Path) -> None:
    _approve(repo, keys, "jane", "risk_owner")
    assert _decide(repo) is Outcome.DENIED  # platform_owner still missing
    _approve(repo, keys, "bob", "platform_owner")
    assert _decide(repo) is Outcome.APPROVED
    # the trainer never counts, even when holding the role
    assert _decide(repo, trainers=("bob",)) is Outcome.DENIED


def test_approval_of_another_digest_does_not_count(repo: Path, keys: Path) -> None:
    _approve(repo, keys, "jane", "risk_owner")
    _approve(repo, keys, "bob", "platform_owner", digest=OTHER)  # content changed since
    assert _decide(repo) is Outcome.DENIED
    _approve(repo, keys, "dana", "platform_owner")
    assert _decide(repo) is Outcome.APPROVED


def test_approval_for_a_role_not_held_fails_verification(repo: Path, keys: Path) -> None:
    """An approval signed for a role its signer does not hold is a lifecycle violation of the
    ledger (issue 13): verification fails at it, and an unverified ledger counts nothing."""
    _approve(repo, keys, "jane", "risk_owner")
    _approve(repo, keys, "dana", "platform_owner")
    assert _decide(repo) is Outcome.APPROVED
    _approve(repo, keys, "dana", "risk_owner")  # dana does not hold risk_owner
    report = verify_repo(repo)
    assert report.failure is not None
    assert "dana is not a member of role 'risk_owner'" in report.failure.reason
    # the verified reader refuses the ledger past it: nothing is counted from it
    from governance.errors import Tampered

    with pytest.raises(Tampered, match="ledger tampered at seq 3: lifecycle: approval_granted"):
        _decide(repo)


def test_github_evidence_recorded_by_ci_is_not_a_git_native_approval(
    repo: Path, keys: Path
) -> None:
    review = Review(41, "jane.smith", "APPROVED", HEAD, datetime(2026, 4, 10, 12, 0, tzinfo=UTC))
    pr = PullRequest(7, HEAD, "b" * 40, "main", "dana", draft=False, from_fork=False)
    policy = approval_policy(load_config(repo), "production", "high")
    decision = decide(
        policy,
        ApprovalFacts(pull_request=pr, reviews=(review,), permissions={"jane.smith": "write"}),
    )
    [evidence] = decision.ledger_evidence(pr_number=7)
    entry = append_event(  # the ledger's schema accepts the evidence fields
        repo,
        {
            "event_type": "approval_granted",
            "model_name": "fraud-risk",
            "release_id": "r1",
            "release_digest": DIGEST,
            **evidence,
        },
        signing_key=keys / "ci",
        log_key=keys / "log",
    )
    assert entry.event["source"] == {
        "kind": "github",
        "pr": 7,
        "head_sha": HEAD,
        "review_id": 41,
        "submitted_at": "2026-04-10T12:00:00+00:00",
    }
    assert entry.event["actor_id"] == "jane.smith"
    assert signed_approvals(entries(repo), "r1") == ()
