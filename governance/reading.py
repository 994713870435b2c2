"""The read use cases: a typed request in, a result out, answered from the verified ledger.

``live``, ``history``, ``audit query``, ``status``, ``explain`` and ``diff`` each parse their
options into one frozen request (re-exported here) and call its use case with the composition root
(``governance.service.Service``), which finds the repository, reads the ledger through the
verified reader and answers from the query index. The result is data; the CLI renders it in
the format asked for (``governance.cli.render``). An answer from the verified prefix of a
ledger that fails verification (``--verified-prefix``) carries a ``PrefixNote`` that every
format shows (DESIGN section 11).

Heavy modules (the status and evidence answers) are imported by the use case that needs them,
so a read query still imports only what it reads (tests/unit/test_import_budget.py); the
use cases themselves live in ``governance.reading_live`` (live), ``governance.reading_events``
(history, audit query), ``governance.reading_status`` and ``governance.reading_evidence``
(explain, diff, report), each loaded when its command first asks for one of its names here:
a command creates only its own request and result classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

# Each read command's use case with its request and result, loaded on first use
# (``__getattr__``): creating every command's frozen dataclasses would cost each command
# several milliseconds of start-up (issue 18).
_ELSEWHERE = {
    "HistoryRequest": "governance.reading_events", "AuditQueryRequest": "governance.reading_events",
    "EventsResult": "governance.reading_events", "history": "governance.reading_events",
    "audit_query": "governance.reading_events", "history_lines": "governance.reading_events",
    "TimelineResult": "governance.reading_events",
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
    """The use cases kept in ``governance.reading_live``, ``governance.reading_events``,
    ``governance.reading_status`` and ``governance.reading_evidence``, imported when first
    asked for (PEP 562)."""
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
