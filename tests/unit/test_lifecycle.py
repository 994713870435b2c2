"""Lifecycle fold: state, live release, fallback and obligations derived from events only."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from governance.domain.config import DEFAULT_PRODUCTION, Environment, GovernanceConfig
from governance.domain.events import LedgerEntry
from governance.lifecycle import (
    APPROVED,
    PRODUCTION,
    REJECTED,
    RETIRED,
    ROLLED_BACK,
    VALIDATED,
    fold_lifecycle,
)

M = "fraud-risk"


def ev(seq: int, kind: str, **fields: Any) -> LedgerEntry:
    body = {
        "event_type": kind,
        "event_id": f"e{seq}",
        "seq": seq,
        "timestamp": f"2026-04-{seq + 1:02d}T00:00:00Z",
        "model_name": M,
        **fields,
    }
    stored = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return LedgerEntry(
        seq=seq,
        event_id=f"e{seq}",
        event_type=kind,
        timestamp=body["timestamp"],
        event=body,
        stored=stored,
        leaf_hash=hashlib.sha256(b"\0" + stored).hexdigest(),
        commit=f"c{seq}",
    )


def history() -> list[LedgerEntry]:
    return [
        ev(0, "release_registered", release_id="a"),
        ev(1, "gate_evaluated", release_id="a", decision={"allow": True}),
        ev(2, "release_approved", release_id="a", release_digest="sha256:aa"),
        ev(
            3,
            "deployment_promoted",
            release_id="a",
            environment="production",
            actor_id="bob",
            release_digest="sha256:aa",
        ),
        ev(4, "release_registered", release_id="b"),
        ev(5, "release_approved", release_id="b", release_digest="sha256:bb"),
        ev(6, "deployment_promoted", release_id="b", environment="production", actor_id="bob"),
        ev(
            7,
            "rollback_executed",
            environment="production",
            from_release="b",
            to_release="a",
            actor_id="platform-oncall",
            incident="inc-4821",
        ),
    ]


def test_promotions_and_rollback_define_live_and_fallback() -> None:
    state = fold_lifecycle(history()[:7], production_env="production")
    assert state.current(M, "production").release_id == "b"  # type: ignore[union-attr]
    assert state.fallback(M, "production") == "a"
    state = fold_lifecycle(history(), production_env="production")
    live = state.current(M, "production")
    assert live is not None and live.release_id == "a" and live.event_type == "rollback_executed"
    assert state.releases["b"].state == ROLLED_BACK
    assert state.releases["a"].state == PRODUCTION
    assert state.was_live("b", M, "production") and not state.was_live("b", M, "staging")
    spans = state.live[(M, "production")]
    assert [s.release_id for s in spans] == ["a", "b", "a"]
    assert spans[0].until == spans[1].since and spans[1].until == spans[2].since


def test_states_validated_approved_rejected_retired() -> None:
    events = history()[:3]
    assert fold_lifecycle(events[:2], production_env="production").releases["a"].state == VALIDATED
    assert fold_lifecycle(events, production_env="production").releases["a"].state == APPROVED
    denied = [
        *events,
        ev(3, "approval_denied", release_id="a", actor_id="jane.smith", actor_role="risk_owner"),
    ]
    life = fold_lifecycle(denied, production_env="production").releases["a"]
    assert life.state == REJECTED and life.approved_digest is None
    retired = [*history(), ev(8, "release_retired", release_id="b", reason="superseded")]
    state = fold_lifecycle(retired, production_env="production")
    assert state.releases["b"].state == RETIRED and state.releases["b"].retired


def test_rollback_that_disables_the_model_leaves_nothing_live() -> None:
    events = [
        *history()[:4],
        ev(4, "rollback_executed", environment="production", from_release="a", to_release=None),
    ]
    state = fold_lifecycle(events, production_env="production")
    assert state.current(M, "production") is None


def test_break_glass_opens_an_obligation_until_post_hoc_approval() -> None:
    events = [
        ev(0, "release_registered", release_id="c"),
        ev(
            1,
            "break_glass",
            release_id="c",
            environment="production",
            actor_id="bob",
            incident="inc-9",
            reason="fraud wave",
        ),
    ]
    state = fold_lifecycle(events, production_env="production")
    assert [o.event_id for o in state.open_obligations(M)] == ["e1"]
    assert state.current(M, "production").release_id == "c"  # type: ignore[union-attr]
    closing = ev(
        2,
        "approval_granted",
        release_id="c",
        actor_id="jane.smith",
        actor_role="risk_owner",
        details={"closes": "e1"},
    )
    assert fold_lifecycle([*events, closing], production_env="production").open_obligations() == []
    unrelated = ev(
        2, "approval_granted", release_id="c", actor_id="jane.smith", actor_role="risk_owner"
    )
    state = fold_lifecycle([*events, unrelated], production_env="production")
    assert len(state.open_obligations()) == 1


def _prod_history() -> list[LedgerEntry]:
    return [
        ev(0, "release_registered", release_id="a"),
        ev(1, "release_approved", release_id="a", release_digest="sha256:aa"),
        ev(2, "deployment_promoted", release_id="a", environment="staging", actor_id="bob"),
        ev(3, "deployment_promoted", release_id="a", environment="prod", actor_id="bob"),
        ev(4, "release_registered", release_id="b"),
        ev(5, "release_approved", release_id="b", release_digest="sha256:bb"),
        ev(6, "deployment_promoted", release_id="b", environment="prod", actor_id="bob"),
        ev(7, "rollback_executed", environment="prod", from_release="b", to_release="a"),
    ]


def test_production_is_the_configured_last_environment_not_a_fixed_name() -> None:
    """Issue 20: a repository whose last environment is ``prod`` shows the production state."""
    state = fold_lifecycle(_prod_history()[:4], production_env="prod")
    assert state.releases["a"].state == PRODUCTION
    assert state.standings(M)["a"].state == PRODUCTION
    # the rollback puts the target back in production and marks the source rolled back
    state = fold_lifecycle(_prod_history(), production_env="prod")
    assert state.releases["a"].state == PRODUCTION
    standings = state.standings(M)
    assert (standings["a"].state, standings["b"].state) == (PRODUCTION, ROLLED_BACK)


def test_a_promotion_to_an_earlier_environment_is_not_production() -> None:
    state = fold_lifecycle(_prod_history()[:3], production_env="prod")
    assert state.releases["a"].state == APPROVED
    # folded with the old fixed name, "prod" never reaches production (the defect)
    old = fold_lifecycle(_prod_history()[:4], production_env="production")
    assert old.releases["a"].state == APPROVED


def test_the_production_environment_is_governance_yaml_s_last() -> None:
    envs = {name: Environment(name) for name in ("dev", "staging", "prod")}
    assert GovernanceConfig(roles={}, environments=envs).production_environment == "prod"
    assert GovernanceConfig(roles={}, environments={}).production_environment == \
        DEFAULT_PRODUCTION == "production"


def test_an_ended_span_is_the_span_with_its_end_and_nothing_else_changed() -> None:
    """_start_span ends the live span with LiveSpan's constructor, not dataclasses.replace (a
    hot loop in status): every other field kept. A field added to LiveSpan fails here until
    _start_span copies it too."""
    import dataclasses

    from governance.lifecycle import LiveSpan

    assert [f.name for f in dataclasses.fields(LiveSpan)] == [
        "release_id", "since", "seq", "event_id", "event_type", "actor_id", "digest", "until",
        "ended_by_seq", "disabled"]
    state = fold_lifecycle([
        ev(0, "release_registered", release_id="r1"),
        ev(1, "deployment_promoted", release_id="r1", environment="staging",
           release_digest="sha256:1", actor_id="ci"),
        ev(2, "rollback_executed", environment="staging", from_release="r1", actor_id="bob"),
        ev(3, "deployment_promoted", release_id="r1", environment="staging", actor_id="ci"),
    ], production_env="production")
    spans = state.live[(M, "staging")]
    assert spans[0] == LiveSpan("r1", "2026-04-02T00:00:00Z", 1, "e1", "deployment_promoted",
                                "ci", "sha256:1", until="2026-04-03T00:00:00Z", ended_by_seq=2)
    assert spans[1] == LiveSpan("", "2026-04-03T00:00:00Z", 2, "e2", "rollback_executed", "bob",
                                None, until="2026-04-04T00:00:00Z", ended_by_seq=3,
                                disabled=True)
    assert spans[2].until is None and spans[2].seq == 3
