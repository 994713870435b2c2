"""The evidence bundle of one release, assembled from explain, diff and the timeline.

Approval status in the rendered model card is never read from the card and never counted
here: it is the required-approvals gate's own count (``governance.policy.approval_standing``),
with the gate's reason for every approval that does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.audit.diff import ReleaseDiff
from governance.audit.explain import Explanation
from governance.domain.card import ModelCard
from governance.domain.identity import identity_key, identity_keys
from governance.lifecycle import LiveSpan
from governance.policy.approval_standing import ApprovalStanding


@dataclass(frozen=True)
class RoleStatus:
    """One required role as the required-approvals gate counted it (``ApprovalStanding``)."""

    role: str
    status: str  # approved | denied | not distinct | pending (k of n) | pending | stale | undecided
    actors: tuple[str, ...]  # who counted
    event_ids: tuple[str, ...]  # their approval events for the current content
    needed: int = 1  # distinct approvers the model's risk tier requires for the role
    not_counted: tuple[tuple[str, str], ...] = ()  # (who, the gate's reason)

    @property
    def label(self) -> str:
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
    # whose required roles and release history are shown: the environment asked for, else the
    # strictest of governance.yaml (audit.answers.strictest_environment); always a configured name
    environment: str
    previous_release: str | None = None  # the diff's "before" side
    diff_note: str | None = None  # why there is no diff, when there is none
    standing: ApprovalStanding | None = None  # the gate's count behind ``roles``
    # environment -> every release's live spans there, in order (the timeline's and the
    # summary's "what is live where")
    lanes: Mapping[str, tuple[LiveSpan, ...]] = field(default_factory=dict)


def role_statuses(standing: ApprovalStanding, explanation: Explanation
                  ) -> tuple[RoleStatus, ...]:
    """Per required role what the gate counted (never a count of our own): who counted, with
    their approval events of the current content, and every approval that did not, with the
    gate's reason. An undecided standing shows every role undecided."""
    approvals = explanation.answers["approvals"]["approvals"]
    out = []
    for role in standing.roles:
        events = tuple(a["event_id"] for a in approvals
                       if a["actor_role"] == role.role
                       and identity_key(a["actor_id"] or "") in identity_keys(role.counted)
                       and a["bound_to_current_content"] and a["approval_state"] == "approved")
        not_counted = tuple((v.actor_id, v.reason or v.outcome)
                            for v in standing.verdicts(role.role) if not v.counted)
        out.append(RoleStatus(role=role.role, status=standing.role_word(role),
                              actors=role.counted, event_ids=events, needed=role.need,
                              not_counted=not_counted))
    return tuple(out)


def latest_gate_decision(explanation: Explanation) -> Mapping[str, Any] | None:
    decisions = explanation.answers["evaluation"]["gate_decisions"]
    return decisions[-1] if decisions else None
