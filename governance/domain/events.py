"""Ledger events as domain values (DESIGN section 7).

An event is stored on the ledger as canonical JSON bytes; every hash is over those exact bytes.
``LedgerEntry`` is what readers of the ledger (lifecycle fold, query index, export sinks) get:
the parsed event together with the evidence needed to prove it (stored bytes, leaf hash, commit,
covering checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from governance.domain.event_types import EVENT_TYPES as _TABLE_TYPES
from governance.domain.frozen import field, frozen

# The event types, in the order of the one table that describes them (name, dataclass, required
# fields, lifecycle command, fold/replay/index handlers): governance.domain.event_table.
EVENT_TYPES: tuple[str, ...] = _TABLE_TYPES

# Fields every event may carry (the seed's example plus DESIGN section 7). Only event_type,
# event_id, seq, timestamp, actor_id and prev are required on every event; the event schema
# says which others each type requires.
EVENT_FIELDS: tuple[str, ...] = (
    "event_type",
    "event_id",  # UUIDv7
    "seq",
    "timestamp",  # RFC 3339, UTC, "Z"
    "prev",  # hex SHA-256 of the previous event's stored bytes ("" for seq 0)
    "release_id",
    "model_name",
    "model_version",
    "actor_id",
    "actor_role",
    "approval_state",
    "evidence_refs",
    "environment",
    "release_digest",
    "policy_digest",
    "source",  # {pr, head_sha, merge_sha, review_id, ci_run, ...}
    "reason",
    "incident",
    "from_release",
    "to_release",
    "decision",  # gate decision summary (decision_id, result, ...)
    "details",  # type-specific payload
)


@frozen
class LedgerEntry:
    """One event as read back from the ledger, with its proof material."""

    seq: int
    event_id: str
    event_type: str
    timestamp: str
    event: Mapping[str, Any]
    stored: bytes  # the exact canonical JSON bytes committed
    leaf_hash: str  # hex SHA-256(0x00 || stored), RFC 6962 leaf
    commit: str  # ledger commit sha
    checkpoint: str | None = field(default=None)  # covering signed checkpoint note, if known

    def get(self, key: str, default: Any = None) -> Any:
        return self.event.get(key, default)


class EventView(Protocol):
    """What folds and explanations read of an event: a LedgerEntry, or a row of the index."""

    @property
    def seq(self) -> int: ...

    @property
    def event_id(self) -> str: ...

    @property
    def event_type(self) -> str: ...

    @property
    def timestamp(self) -> str: ...

    @property
    def event(self) -> Mapping[str, Any]: ...
