"""The values the query index's questions answer with, beside ``governance.audit.queries``
(which re-exports them): an indexed event (``IndexedEvent``), what was live
(``LiveRelease``) and the filters of ``audit query`` (``AuditFilter``).

Kept apart so that ``history`` as text (lines written by SQLite) and ``status`` do not create
these classes at start-up (issue 18).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from governance.domain.event_types import EVENT_TYPES
from governance.domain.frozen import frozen
from governance.errors import UsageError
from governance.timeparse import format_rfc3339


class IndexedEvent(NamedTuple):
    """One ledger event as the index holds it (with its proof references).

    A named tuple: ``history`` answers with thousands (6,001 events for one model at 1,000
    releases), each built from its index row in one step (``tuple.__new__``), a fraction of the
    time a frozen class's per-field assignment takes; read the same way (by field name)."""

    seq: int
    event_id: str
    event_type: str
    timestamp: str
    model: str | None
    release_id: str | None
    environment: str | None
    actor_id: str | None
    actor_role: str | None
    incident: str | None
    from_release: str | None
    to_release: str | None
    leaf_hash: str
    commit: str
    checkpoint: str | None
    event: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return event_json(self)


@frozen
class LiveRelease:
    """Which release was live for a model in an environment at a moment, and on whose say."""

    model: str
    environment: str
    at: str
    release_id: str | None  # None: the model was switched off by a rollback without target
    since: str
    change: IndexedEvent  # the event that started the live stretch
    retired_at: str | None = None

    @property
    def actor_id(self) -> str | None:
        return self.change.actor_id

    @property
    def decision(self) -> Any:
        return self.change.event.get("decision")

    def to_json(self) -> dict[str, Any]:
        e = self.change.event
        return {
            "model": self.model,
            "environment": self.environment,
            "at": self.at,
            "release_id": self.release_id,
            "live": self.release_id is not None,
            "since": self.since,
            "since_seq": self.change.seq,
            "by": {"actor_id": self.change.actor_id, "actor_role": self.change.actor_role},
            "change_event": {
                "event_type": self.change.event_type,
                "event_id": self.change.event_id,
                "seq": self.change.seq,
                "commit": self.change.commit,
                "leaf_hash": self.change.leaf_hash,
            },
            "decision": e.get("decision"),
            "policy_digest": e.get("policy_digest"),
            "release_digest": e.get("release_digest"),
            "source": e.get("source"),
            "incident": self.change.incident,
            "reason": e.get("reason"),
            "retired_at": self.retired_at,
        }


@frozen
class AuditFilter:
    """``audit query`` filters; every given filter must match (AND). ``release`` matches the
    event's release_id, from_release or to_release (a rollback names two releases)."""

    model: str | None = None
    event_types: tuple[str, ...] = ()
    actor: str | None = None
    role: str | None = None
    environment: str | None = None
    release: str | None = None
    incident: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # inclusive
    limit: int | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.event_types if t not in EVENT_TYPES]
        if unknown:
            raise UsageError(
                f"--type: unknown event type {', '.join(map(repr, unknown))} "
                f"(expected one of {', '.join(EVENT_TYPES)})"
            )
        if self.since and self.until and self.since > self.until:
            raise UsageError(
                f"--since {format_rfc3339(self.since)} is after --until "
                f"{format_rfc3339(self.until)}"
            )
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit: {self.limit} (expected a positive integer)")


def event_json(e: Any) -> dict[str, Any]:
    """An indexed event (``IndexedEvent``) as JSON."""
    return {
        "seq": e.seq,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "timestamp": e.timestamp,
        "model": e.model,
        "release_id": e.release_id,
        "environment": e.environment,
        "actor_id": e.actor_id,
        "actor_role": e.actor_role,
        "incident": e.incident,
        "from_release": e.from_release,
        "to_release": e.to_release,
        "leaf_hash": e.leaf_hash,
        "commit": e.commit,
        "checkpoint": e.checkpoint,
        "event": dict(e.event),
    }
