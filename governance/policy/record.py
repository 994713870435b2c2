"""Recording the GitHub approvals a gate decision counted, as ledger evidence (DESIGN 6, 7).

``check --pr N --approvals github --record`` appends one ``approval_granted`` event per counted
review, signed by the CI identity for the reviewer (``source.kind: github``: evidence of a
review, not an approval signed by the reviewer; git-native counting ignores these). Each event
binds the release digest the gates saw and carries the PR number, review id, the head commit the
review was given on, submitted_at, and how role membership was established. Re-running is
idempotent: a review already recorded for the same digest is not appended again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from governance.domain.event_table import ApprovalGranted, event_of
from governance.domain.event_types import APPROVAL_GRANTED
from governance.domain.events import EventView, LedgerEntry
from governance.policy.gates import GateDecision


def approval_events(decisions: Sequence[GateDecision], pr: int) -> list[dict[str, Any]]:
    """The events to record: one per GitHub approval the gate counted (its decision's
    ``counted_approvals``; a policy without that rule counts nothing to record)."""
    out = []
    for decision in decisions:
        doc = decision.record.get("input") or {}
        release = doc.get("release") or {}
        result = decision.record.get("result")
        counted = result.get("counted_approvals") if isinstance(result, dict) else None
        keys = {(c.get("actor_id"), c.get("role"), c.get("review_id"))
                for c in counted or () if isinstance(c, dict)}
        for a in doc.get("approvals") or []:
            if a.get("source") != "github" or a.get("state", "approved") != "approved":
                continue
            if (a.get("actor_id"), a.get("role"), a.get("review_id")) not in keys:
                continue
            source = {"kind": "github", "pr": pr, "head_sha": a.get("commit_id"),
                      "review_id": a.get("review_id"), "submitted_at": a.get("submitted_at")}
            # facts read from the gate's record (any of them may be missing: the schema then
            # refuses the event at append, naming the field)
            out.append(event_of(ApprovalGranted, {
                "release_id": decision.release_id, "model_name": decision.model_name,
                "model_version": release.get("model_version"),
                "environment": decision.environment,
                "actor_id": a.get("actor_id"), "actor_role": a.get("role"),
                "approval_state": "approved",
                "release_digest": release.get("digest"),
                "source": {k: v for k, v in source.items() if v not in (None, "")},
                "details": {"membership": "resolved from GitHub team membership or the "
                                          "governance.yaml roster at the PR's base commit"},
            }).to_dict())
    return out


def _key(fields: Mapping[str, Any]) -> tuple[Any, ...]:
    source = fields.get("source") or {}
    return (fields.get("release_id"), fields.get("release_digest"), fields.get("actor_role"),
            fields.get("actor_id"), source.get("pr"), source.get("review_id"))


def record_approvals(events: Iterable[Mapping[str, Any]], existing: Iterable[EventView],
                     append: Callable[[Mapping[str, Any]], LedgerEntry]) -> list[LedgerEntry]:
    seen = {_key(e.event) for e in existing if e.event_type == APPROVAL_GRANTED}
    written = []
    for fields in events:
        if _key(fields) in seen:
            continue
        seen.add(_key(fields))
        written.append(append({k: v for k, v in fields.items() if v is not None}))
    return written
