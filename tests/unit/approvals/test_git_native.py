"""Ledger approval events -> counting facts -> decision (``--approvals git``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from governance.approvals.counting import (
    ApprovalFacts,
    ApprovalPolicy,
    Outcome,
    RoleDefinition,
    decide,
    required_roles,
)
from governance.approvals.git_native import signed_approvals
from governance.errors import Tampered

DIGEST = "sha256:" + "a" * 64


@dataclass(frozen=True)
class Entry:
    seq: int
    event_id: str
    event_type: str
    timestamp: str
    event: Mapping[str, Any] = field(default_factory=dict)


def ev(seq: int, kind: str, actor: str, role: str, **kw: Any) -> Entry:
    body = {
        "release_id": "r1",
        "actor_id": actor,
        "actor_role": role,
        "release_digest": DIGEST,
        **kw,
    }
    return Entry(seq, f"e{seq}", kind, f"2026-04-10T12:00:0{seq}Z", body)


POLICY = ApprovalPolicy(
    required=required_roles(["ml_lead", "risk_owner"], 1),
    roles={
        "ml_lead": RoleDefinition(frozenset({"alice"})),
        "risk_owner": RoleDefinition(frozenset({"jane.smith"})),
    },
    trainers=frozenset({"dana"}),
)


def test_granted_events_fill_roles() -> None:
    entries = [
        ev(1, "approval_granted", "alice", "ml_lead"),
        ev(2, "approval_granted", "jane.smith", "risk_owner"),
        ev(3, "gate_evaluated", "governance-ci", ""),
        ev(4, "approval_granted", "bob", "ml_lead", release_id="r2"),
    ]
    signed = signed_approvals(entries, "r1")
    assert [s.event_id for s in signed] == ["e1", "e2"]
    d = decide(POLICY, ApprovalFacts(signed=signed, release_digest=DIGEST))
    assert d.outcome is Outcome.APPROVED
    assert d.ledger_evidence()[0]["source"]["event_id"] == "e1"


def test_later_denial_and_environment_scope() -> None:
    entries = [
        ev(1, "approval_granted", "alice", "ml_lead"),
        ev(2, "approval_granted", "jane.smith", "risk_owner", environment="staging"),
        ev(3, "approval_denied", "alice", "ml_lead", reason="subgroup regression"),
    ]
    prod = signed_approvals(entries, "r1", environment="production")
    assert [s.event_id for s in prod] == ["e1", "e3"]
    d = decide(POLICY, ApprovalFacts(signed=prod, release_digest=DIGEST))
    assert d.outcome is Outcome.DENIED
    assert d.reasons[0].code == "approval_denied"


def test_unverified_ledger_counts_nothing() -> None:
    entries = [
        ev(1, "approval_granted", "alice", "ml_lead"),
        ev(2, "approval_granted", "jane.smith", "risk_owner"),
    ]
    signed = signed_approvals(entries, "r1", verified=False)
    d = decide(POLICY, ApprovalFacts(signed=signed, release_digest=DIGEST))
    assert d.outcome is Outcome.DENIED and d.approvals == ()


def test_a_timestamp_without_offset_is_refused_not_taken_as_utc() -> None:
    """Issue 20: git-native approvals used to read ``2026-04-10T12:00:00`` as UTC silently."""
    naive = Entry(1, "e1", "approval_granted", "2026-04-10T12:00:00",
                  {"release_id": "r1", "actor_id": "alice", "actor_role": "ml-lead",
                   "release_digest": DIGEST})
    with pytest.raises(Tampered, match=r"e1 \(approval_granted\): timestamp found "
                                        r"'2026-04-10T12:00:00', which has no UTC offset"):
        signed_approvals([naive], "r1")
    offset = Entry(2, "e2", "approval_granted", "2026-04-10T14:00:00+02:00", naive.event)
    (approval,) = signed_approvals([offset], "r1")
    assert approval.timestamp.isoformat() == "2026-04-10T12:00:00+00:00"
