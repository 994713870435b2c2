"""An indexed event as a tuple (``IndexedRow``): what ``governance.audit.queries.timeline``
answers with (``history`` as JSON or CSV), re-exported by ``governance.audit.queries``.

A module of its own, imported only by the timeline: creating a named tuple class costs about two
milliseconds, which ``live``, ``status`` and ``history`` as text (lines written by SQLite) need
not pay at start-up (issue 18).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class IndexedRow(NamedTuple):
    """An ``IndexedEvent``'s fields (same names, same order, same JSON) as a tuple: what a
    timeline answers with (``queries.timeline``). History prints thousands of events (6,001
    for one model at 1,000 releases): a tuple is built from its row in a fraction of the time
    a dataclass instance takes, and read the same way."""

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
        from governance.audit.values import event_json

        return event_json(self)
