"""The pure choices of governance.audit.answers: which environment, which previous release,
and the approval status per role with the risk tier's count."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.audit.answers import previous_live, strictest_environment
from governance.audit.explain import explain_release
from governance.domain.config import Environment, GovernanceConfig
from governance.errors import NotFound
from governance.lifecycle import fold_lifecycle
from governance.repo import GovernedRepo
from governance.report.evidence import derive_role_status
from tests.unit.test_lifecycle import M, ev

ROOT = Path(__file__).resolve().parents[3]


def _config(**envs: tuple[str, ...]) -> GovernanceConfig:
    return GovernanceConfig(roles={}, environments={
        name: Environment(name=name, required_approvals=roles) for name, roles in envs.items()})


def test_strictest_environment_has_most_required_roles_later_wins_a_tie() -> None:
    assert strictest_environment(_config(staging=("a",), production=("a", "b"))) == "production"
    assert strictest_environment(_config(staging=("a",), production=("b",))) == "production"
    assert strictest_environment(_config(prod=("a", "b"), canary=("a",))) == "prod"
    assert strictest_environment(_config(staging=("a",)), "staging") == "staging"
    with pytest.raises(NotFound, match="unknown environment 'qa'"):
        strictest_environment(_config(staging=("a",)), "qa")


def test_previous_live_is_the_release_before_this_one_first_went_live() -> None:
    events = [
        ev(0, "deployment_promoted", release_id="r1", environment="production"),
        ev(1, "rollback_executed", environment="production", from_release="r1",
           to_release=None),
        ev(2, "deployment_promoted", release_id="r2", environment="production"),
        ev(3, "deployment_promoted", release_id="r3", environment="production"),
        ev(4, "rollback_executed", environment="production", from_release="r3",
           to_release="r2"),
        ev(5, "deployment_promoted", release_id="r3", environment="production"),
    ]
    state = fold_lifecycle(events)
    assert previous_live(state, M, "production", "r3") == "r2"  # not r2 again after rollback
    assert previous_live(state, M, "production", "r2") == "r1"  # the switched-off gap skipped
    assert previous_live(state, M, "production", "r1") is None
    assert previous_live(state, M, "production", "r9") == "r3"  # never live: the last one
    assert previous_live(state, M, "staging", "r3") is None


def test_role_status_counts_distinct_people_the_tier_requires() -> None:
    loaded = GovernedRepo(ROOT).load_release("fraud-risk-2026-04-10-01")
    rid, digest = loaded.release.release_id, loaded.digest.value
    events = [
        ev(0, "approval_granted", release_id=rid, actor_id="jane.smith", actor_role="risk_owner",
           release_digest=digest),
        ev(1, "approval_granted", release_id=rid, actor_id="jane.smith", actor_role="risk_owner",
           release_digest=digest),  # the same person twice is still one approver
        ev(2, "approval_granted", release_id=rid, actor_id="alice", actor_role="ml_lead",
           release_digest=digest),
        ev(3, "approval_granted", release_id=rid, actor_id="carol", actor_role="ml_lead",
           release_digest=digest),
        ev(4, "approval_granted", release_id=rid, actor_id="bob", actor_role="platform_owner",
           release_digest="sha256:" + "0" * 64),
    ]
    exp = explain_release(loaded, events)
    roles = {r.role: r for r in derive_role_status(
        exp, ["ml_lead", "risk_owner", "platform_owner", "auditor"], needed=2)}
    assert roles["ml_lead"].label == "approved"
    assert roles["risk_owner"].status == "pending"
    assert roles["risk_owner"].label == "pending (1 of 2)"
    assert roles["platform_owner"].label == "stale"
    assert roles["auditor"].label == "pending" and roles["auditor"].actors == ()
