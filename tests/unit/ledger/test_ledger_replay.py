"""The lifecycle replay is pure and resumable: its state survives JSON at any seq, and a replay
resumed from it answers exactly as one that never stopped (what the incremental verifier
relies on when it persists the state beside the trust state)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from governance.ledger.replay import LifecycleReplay, LifecycleViolation, pinned_after

D1 = "sha256:" + "a1" * 32
D2 = "sha256:" + "b2" * 32
LIFECYCLE = {"roles": {"risk_owner": ["jane.smith"], "platform_owner": ["bob"]},
             "environments": [{"name": "staging", "required_approvals": ["risk_owner"]},
                              {"name": "production", "after": "staging",
                               "required_approvals": ["risk_owner", "platform_owner"]}]}


def _events() -> list[dict[str, Any]]:
    base = {"model_name": "fraud-risk"}
    out: list[dict[str, Any]] = [{"event_type": "ledger_genesis",
                                  "details": {"lifecycle": LIFECYCLE}}]

    def add(kind: str, **fields: Any) -> None:
        out.append({"event_type": kind, **base, **fields})

    for rid, digest in (("r1", D1), ("r2", D2)):
        add("gate_evaluated", release_id=rid, environment="staging", release_digest=digest,
            decision={"decision_id": f"{rid}s", "allow": True})
        add("deployment_promoted", release_id=rid, environment="staging",
            release_digest=digest, decision={"decision_id": f"{rid}s", "allow": True})
        add("approval_granted", release_id=rid, actor_id="jane.smith", actor_role="risk_owner",
            release_digest=digest)
        add("approval_granted", release_id=rid, actor_id="bob", actor_role="platform_owner",
            release_digest=digest)
        add("release_approved", release_id=rid, actor_id="bob", release_digest=digest,
            details={"approvers": ["risk_owner:jane.smith", "platform_owner:bob"]})
        add("gate_evaluated", release_id=rid, environment="production", release_digest=digest,
            decision={"decision_id": f"{rid}p", "allow": True})
        add("deployment_promoted", release_id=rid, environment="production",
            release_digest=digest)
    add("break_glass", release_id="r2", environment="production", actor_id="bob",
        reason="outage", incident="INC-1")
    add("approval_granted", release_id="r2", actor_id="jane.smith", actor_role="risk_owner",
        release_digest=D2, details={"post_hoc": True})
    add("rollback_executed", release_id="r1", environment="production", from_release="r2",
        to_release="r1", reason="bad")
    add("release_retired", release_id="r2", reason="superseded")
    add("gate_evaluated", release_id="r2", environment="staging", release_digest=D2,
        decision={"allow": True})
    add("deployment_promoted", release_id="r2", environment="staging", release_digest=D2)
    for seq, event in enumerate(out):
        event.update(seq=seq, event_id=f"e{seq}", timestamp=f"2026-01-01T00:00:{seq:02d}Z")
    return out


def _run(replay: LifecycleReplay, events: list[dict[str, Any]]) -> list[str | None]:
    return [replay.check(e["seq"], e) for e in events]


def test_resumed_from_json_at_every_seq_answers_the_same() -> None:
    events = _events()
    straight = LifecycleReplay()
    answers = _run(straight, events)
    assert answers[:-1] == [None] * (len(events) - 1)
    assert answers[-1] is not None and "retired at seq" in answers[-1]
    for cut in range(len(events)):
        first = LifecycleReplay()
        assert _run(first, events[:cut]) == answers[:cut]
        resumed = LifecycleReplay.from_json(json.loads(json.dumps(first.to_json())))
        assert _run(resumed, events[cut:]) == answers[cut:], cut
        assert resumed.to_json() == straight.to_json()


def test_state_version_is_checked() -> None:
    doc = LifecycleReplay().to_json()
    doc["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        LifecycleReplay.from_json(doc)


def test_check_all_names_the_seq() -> None:
    events = _events()
    with pytest.raises(LifecycleViolation, match=rf"^seq {len(events) - 1}: lifecycle: "):
        LifecycleReplay().check_all((e["seq"], e) for e in events)


def test_pinned_configuration_folds_changes() -> None:
    pinned = pinned_after(None, [{"op": "set_role_members", "role": "ml_lead",
                                  "members": ["carol", "alice", "alice"]}])
    assert pinned == {"roles": {"ml_lead": ["alice", "carol"]}, "environments": None}
    assert pinned_after(pinned, [{"op": "add_key"}]) == pinned  # trust ops are not its own
    with pytest.raises(LifecycleViolation, match="listed twice"):
        pinned_after(pinned, [{"op": "set_environments", "environments": [
            {"name": "a", "required_approvals": []}, {"name": "a", "required_approvals": []}]}])
