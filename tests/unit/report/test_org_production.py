"""The organisation report folds each origin with that origin's own production environment:
the last of the environment order its ledger pins (genesis, then key_rotated set_environments)."""

from __future__ import annotations

from typing import Any

import pytest

from governance.audit.org import OrgEvent
from governance.audit.queries import IndexedEvent
from governance.domain.event_types import DEPLOYMENT_PROMOTED, KEY_ROTATED, LEDGER_GENESIS
from governance.errors import Tampered
from governance.lifecycle import PRODUCTION, fold_lifecycle
from governance.report.org import origin_production

ORDER = [{"name": "dev", "required_approvals": []},
         {"name": "prod", "after": "dev", "required_approvals": ["risk"]}]


def _row(seq: int, kind: str, **event: Any) -> OrgEvent:
    body = {"event_type": kind, "seq": seq, "event_id": f"id-{seq}",
            "timestamp": f"2026-01-01T00:00:{seq:02d}Z", "actor_id": "bot", **event}
    return OrgEvent("acme/repo", IndexedEvent(
        seq=seq, event_id=f"id-{seq}", event_type=kind, timestamp=body["timestamp"],
        model=event.get("model_name"), release_id=event.get("release_id"),
        environment=event.get("environment"), actor_id="bot", actor_role=None, incident=None,
        from_release=None, to_release=None, leaf_hash="0" * 64, commit="c" * 40,
        checkpoint=None, event=body), checkpoint_size=seq + 1)


def _genesis(lifecycle: Any) -> OrgEvent:
    details: dict[str, Any] = {"origin": "acme/repo"}
    if lifecycle is not None:
        details["lifecycle"] = lifecycle
    return _row(0, LEDGER_GENESIS, details=details)


def test_the_last_pinned_environment_is_the_origin_s_production() -> None:
    events = [_genesis({"roles": {"risk": ["ann"]}, "environments": ORDER})]
    assert origin_production("acme/repo", events) == "prod"
    promoted = _row(1, DEPLOYMENT_PROMOTED, model_name="m", release_id="m-1",
                    environment="prod", release_digest="sha256:" + "a" * 64)
    state = fold_lifecycle([e.event for e in [*events, promoted]],
                           production_env=origin_production("acme/repo", events))
    assert state.production_env == "prod"
    assert state.releases["m-1"].state == PRODUCTION


def test_a_set_environments_rotation_moves_production() -> None:
    events = [_genesis({"roles": {}, "environments": ORDER}),
              _row(1, KEY_ROTATED, reason="rename", details={"changes": [
                  {"op": "set_environments",
                   "environments": [*ORDER, {"name": "live", "after": "prod",
                                             "required_approvals": []}]}]})]
    assert origin_production("acme/repo", events) == "live"


def test_an_origin_pinning_no_order_keeps_the_default_name() -> None:
    assert origin_production("acme/repo", [_genesis(None)]) == "production"
    assert origin_production("acme/repo", []) == "production"


@pytest.mark.parametrize("environments", [
    [{"name": "prod", "after": "nowhere", "required_approvals": []}],  # after an unknown one
    [{"after": "dev"}],  # no name
    "prod",  # not a list of environments
])
def test_an_unreadable_pinned_order_is_refused_naming_origin_and_seq(environments: Any) -> None:
    with pytest.raises(Tampered, match="origin acme/repo: seq 0: the pinned environment order"):
        origin_production("acme/repo", [_genesis({"roles": {}, "environments": environments})])
