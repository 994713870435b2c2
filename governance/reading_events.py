"""The ``history`` and ``audit query`` use cases (``governance.reading``'s, loaded when one of
them runs): events in ledger order, answered from the verified ledger.

Kept apart from ``governance.reading`` so that the other commands do not create their classes
at start-up (a frozen dataclass costs about a millisecond to create; issue 18);
``governance.reading`` re-exports every name here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.audit import queries
from governance.domain.frozen import frozen
from governance.verified_prefix import PrefixNote, prefix_of

if TYPE_CHECKING:
    from governance.service import Service


@frozen
class HistoryRequest:
    model: str
    verified_prefix: bool = False


@frozen
class AuditQueryRequest:
    filter: queries.AuditFilter
    verified_prefix: bool = False


@frozen
class EventsResult:
    """Events in ledger order (history, audit query)."""

    events: tuple[queries.IndexedEvent, ...]
    prefix: PrefixNote | None

    def to_json(self) -> Any:
        rows = [e.to_json() for e in self.events]
        if self.prefix is None:
            return rows
        return {"verified_prefix": self.prefix.to_json(), "events": rows}


@frozen
class TimelineResult:
    """A timeline as its text shows it: one ``queries.TIMELINE_LINE`` per event, in ledger
    order (``queries.timeline_lines``)."""

    lines: tuple[str, ...]
    prefix: PrefixNote | None


def history_lines(service: Service, request: HistoryRequest) -> TimelineResult:
    """The timeline of a model as its text shows it: the events ``history`` answers with,
    checked the same way, one line each."""
    source = service.ledger(allow_prefix=request.verified_prefix)
    lines = service.answer(lambda conn: queries.timeline_lines(conn, request.model),
                           source=source)
    return TimelineResult(tuple(lines), prefix_of(source))


def history(service: Service, request: HistoryRequest) -> EventsResult:
    """The timeline of a model."""
    source = service.ledger(allow_prefix=request.verified_prefix)
    events = service.answer(lambda conn: queries.history(conn, request.model), source=source)
    return EventsResult(tuple(events), prefix_of(source))


def audit_query(service: Service, request: AuditQueryRequest) -> EventsResult:
    """Events matching every filter; a mistyped environment is named, not answered with no
    events."""
    flt = request.filter
    env = flt.environment
    configured = tuple(service.remembered_config().environments) if env is not None else ()
    source = service.ledger(allow_prefix=request.verified_prefix)

    def query(conn: Any) -> list[queries.IndexedEvent]:
        if env is not None:
            queries.require_environment(conn, env, configured)
        return queries.audit_query(conn, flt)

    return EventsResult(tuple(service.answer(query, source=source)), prefix_of(source))
