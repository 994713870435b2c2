"""The pure choices of governance.audit.answers: which environment, which previous release,
(approval status per role is the gate's count: tests/unit/test_approval_standing.py)."""

from __future__ import annotations

import pytest

from governance.audit.answers import previous_live, strictest_environment
from governance.domain.config import Environment, GovernanceConfig
from governance.errors import NotFound
from governance.lifecycle import fold_lifecycle
from tests.unit.test_lifecycle import M, ev


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
    state = fold_lifecycle(events, production_env="production")
    assert previous_live(state, M, "production", "r3") == "r2"  # not r2 again after rollback
    assert previous_live(state, M, "production", "r2") == "r1"  # the switched-off gap skipped
    assert previous_live(state, M, "production", "r1") is None
    assert previous_live(state, M, "production", "r9") == "r3"  # never live: the last one
    assert previous_live(state, M, "staging", "r3") is None


