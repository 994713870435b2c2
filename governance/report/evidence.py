"""The evidence bundle of one release, assembled from explain, diff and the timeline.

Approval status in the rendered model card is derived here from the ledger's approval events
for the required roles, never read from the card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.audit.diff import ReleaseDiff
from governance.audit.explain import Explanation
from governance.domain.card import ModelCard


@dataclass(frozen=True)
class RoleStatus:
    role: str
    status: str  # approved | denied | pending | stale (approved other content)
    actors: tuple[str, ...]
    event_ids: tuple[str, ...]
    needed: int = 1  # distinct approvers the model's risk tier requires for the role

    @property
    def label(self) -> str:
        """The status with the count when approvals are still missing, e.g. "pending (1 of 2)"."""
        if self.status == "pending" and self.actors:
            return f"pending ({len(set(self.actors))} of {self.needed})"
        return self.status


@dataclass(frozen=True)
class EvidenceReport:
    explanation: Explanation
    card: ModelCard
    roles: tuple[RoleStatus, ...]
    gate_decision: Mapping[str, Any] | None
    diff: ReleaseDiff | None
    timeline_svg: str
    generated_at: str
    environment: str | None = None  # whose required roles and production history are shown
    previous_release: str | None = None  # the diff's "before" side
    diff_note: str | None = None  # why there is no diff, when there is none


def derive_role_status(explanation: Explanation, required_roles: Sequence[str], *,
                       needed: int = 1) -> tuple[RoleStatus, ...]:
    """Per required role: denied (a denial of the current content), approved (``needed``
    distinct people approved the current content), pending (fewer, or none), or stale (only
    approvals of other content: the release changed after it was approved)."""
    approvals = explanation.answers["approvals"]["approvals"]
    out = []
    for role in required_roles:
        mine = [a for a in approvals if a["actor_role"] == role]
        bound = [a for a in mine if a["bound_to_current_content"]]
        denied = [a for a in bound if a["approval_state"] != "approved"]
        granted = [a for a in bound if a["approval_state"] == "approved"]
        if denied:
            status, chosen = "denied", denied
        elif len({a["actor_id"] for a in granted}) >= needed:
            status, chosen = "approved", granted
        elif granted:
            status, chosen = "pending", granted
        elif mine:
            status, chosen = "stale", mine
        else:
            status, chosen = "pending", []
        out.append(RoleStatus(role=role, status=status,
                              actors=tuple(a["actor_id"] for a in chosen),
                              event_ids=tuple(a["event_id"] for a in chosen),
                              needed=needed))
    return tuple(out)


def latest_gate_decision(explanation: Explanation) -> Mapping[str, Any] | None:
    decisions = explanation.answers["evaluation"]["gate_decisions"]
    return decisions[-1] if decisions else None
