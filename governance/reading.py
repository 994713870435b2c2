"""The read use cases: a typed request in, a result out, answered from the verified ledger.

``live``, ``history``, ``audit query``, ``status``, ``explain`` and ``diff`` each parse their
options into one frozen request below and call its use case with the composition root
(``governance.service.Service``), which finds the repository, reads the ledger through the
verified reader and answers from the query index. The result is data; the CLI renders it in
the format asked for (``governance.cli.render``). An answer from the verified prefix of a
ledger that fails verification (``--verified-prefix``) carries a ``PrefixNote`` that every
format shows (DESIGN section 11).

Heavy modules (the status and evidence answers) are imported by the use case that needs them,
so a read query still imports only what it reads (tests/unit/test_import_budget.py); the
live, status and evidence use cases themselves live in ``governance.reading_live``,
``governance.reading_status`` and ``governance.reading_evidence`` and are re-exported here on
first use (history and audit query, which share their result, are here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.audit import queries
from governance.verified_prefix import PrefixNote as PrefixNote
from governance.verified_prefix import prefix_of as prefix_of

if TYPE_CHECKING:
    from governance.reading_evidence import DiffRequest as DiffRequest
    from governance.reading_evidence import ExplainRequest as ExplainRequest
    from governance.reading_evidence import ExplainResult as ExplainResult
    from governance.reading_evidence import ReportRequest as ReportRequest
    from governance.reading_evidence import diff as diff
    from governance.reading_evidence import explain as explain
    from governance.reading_evidence import report as report
    from governance.reading_live import LiveRequest as LiveRequest
    from governance.reading_live import LiveResult as LiveResult
    from governance.reading_live import live as live
    from governance.reading_status import StatusRequest as StatusRequest
    from governance.reading_status import StatusResult as StatusResult
    from governance.reading_status import status as status
    from governance.service import Service

# The use cases of the other read commands and their requests and results, loaded on first use
# (``__getattr__``): creating every command's frozen dataclasses would cost each command
# several milliseconds of start-up (issue 18).
_ELSEWHERE = {
    "LiveRequest": "governance.reading_live", "LiveResult": "governance.reading_live",
    "live": "governance.reading_live",
    "StatusRequest": "governance.reading_status", "StatusResult": "governance.reading_status",
    "status": "governance.reading_status",
    "ExplainRequest": "governance.reading_evidence",
    "ExplainResult": "governance.reading_evidence", "explain": "governance.reading_evidence",
    "DiffRequest": "governance.reading_evidence", "diff": "governance.reading_evidence",
    "ReportRequest": "governance.reading_evidence", "report": "governance.reading_evidence",
}


def __getattr__(name: str) -> Any:
    """The use cases kept in ``governance.reading_live``, ``governance.reading_status`` and
    ``governance.reading_evidence``, imported when first asked for (PEP 562)."""
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


# --- history and audit query ---------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRequest:
    model: str
    verified_prefix: bool = False


@dataclass(frozen=True)
class AuditQueryRequest:
    filter: queries.AuditFilter
    verified_prefix: bool = False


@dataclass(frozen=True)
class EventsResult:
    """Events in ledger order (history, audit query)."""

    events: tuple[queries.AnyIndexedEvent, ...]
    prefix: PrefixNote | None

    def to_json(self) -> Any:
        rows = [e.to_json() for e in self.events]
        if self.prefix is None:
            return rows
        return {"verified_prefix": self.prefix.to_json(), "events": rows}


def history(service: Service, request: HistoryRequest) -> EventsResult:
    """The timeline of a model."""
    source = service.ledger(allow_prefix=request.verified_prefix)
    events = service.answer(lambda conn: queries.timeline(conn, request.model), source=source)
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
