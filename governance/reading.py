"""The read use cases: a typed request in, a result out, answered from the verified ledger.

``live``, ``history``, ``audit query``, ``status``, ``explain`` and ``diff`` each parse their
options into one frozen request below and call its use case with the composition root
(``governance.service.Service``), which finds the repository, reads the ledger through the
verified reader and answers from the query index. The result is data; the CLI renders it in
the format asked for (``governance.cli.render``). An answer from the verified prefix of a
ledger that fails verification (``--verified-prefix``) carries a ``PrefixNote`` that every
format shows (DESIGN section 11).

Heavy modules (the status and evidence answers) are imported by the use case that needs them,
so a read query still imports only what it reads (tests/unit/test_import_budget.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.audit import queries

if TYPE_CHECKING:
    from governance.audit.answers import LiveExplanation
    from governance.audit.diff import ReleaseDiff
    from governance.audit.explain import Explanation
    from governance.domain.source import LedgerSource
    from governance.report.evidence import EvidenceReport
    from governance.service import Service
    from governance.status import ModelStatus


@dataclass(frozen=True)
class PrefixNote:
    """An answer from the verified prefix only: up to which seq, and why the rest is not."""

    verified_through_seq: int
    failed_seq: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"verified_through_seq": self.verified_through_seq, "failed_seq": self.failed_seq,
                "reason": self.reason}

    def line(self) -> str:
        return (f"VERIFIED PREFIX ONLY: seq 0..{self.verified_through_seq}; the ledger fails "
                f"verification at seq {self.failed_seq}: {self.reason}")

    def warning(self) -> str:
        return (f"warning: answered from the verified prefix only (seq "
                f"0..{self.verified_through_seq}); the ledger fails verification at seq "
                f"{self.failed_seq}: {self.reason}")


def prefix_of(source: LedgerSource) -> PrefixNote | None:
    """What an answer from ``source`` must carry, or None for a verified ledger."""
    failure = getattr(source, "failure", None)
    if failure is None:
        return None
    return PrefixNote((failure.seq or 0) - 1, failure.seq, failure.reason)


# --- live ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveRequest:
    model: str
    environment: str
    at: datetime
    verified_prefix: bool = False


@dataclass(frozen=True)
class LiveResult:
    request: LiveRequest
    answer: queries.LiveRelease
    prefix: PrefixNote | None

    def to_json(self) -> dict[str, Any]:
        data = self.answer.to_json()
        if self.prefix is not None:
            data["verified_prefix"] = self.prefix.to_json()
        return data


def live(service: Service, request: LiveRequest) -> LiveResult:
    """Which release was live for the model in the environment at the time."""
    configured = tuple(service.remembered_config().environments)
    source = service.ledger(allow_prefix=request.verified_prefix)
    answer = service.answer(lambda conn: queries.live_release_at(
        conn, request.model, request.environment, request.at, configured=configured),
        source=source)
    return LiveResult(request, answer, prefix_of(source))


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

    events: tuple[queries.IndexedEvent, ...]
    prefix: PrefixNote | None

    def to_json(self) -> Any:
        rows = [e.to_json() for e in self.events]
        if self.prefix is None:
            return rows
        return {"verified_prefix": self.prefix.to_json(), "events": rows}


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


# --- status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRequest:
    model: str | None  # None: every model
    limit: int | None  # releases listed per model, newest first; None: every one
    verified_prefix: bool = False


@dataclass(frozen=True)
class StatusResult:
    statuses: tuple[ModelStatus, ...]
    ledger_seq: int  # the head the answer rests on (-1: no ledger yet)
    prefix: PrefixNote | None

    @property
    def drift(self) -> bool:
        """A pointer file disagrees with the ledger somewhere (the command exits 1)."""
        return any(s.drift for s in self.statuses)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"models": [s.to_json() for s in self.statuses],
                               "ledger_seq": self.ledger_seq}
        if self.prefix is not None:
            doc["verified_prefix"] = self.prefix.to_json()
        return doc


def status(service: Service, request: StatusRequest) -> StatusResult:
    """Live release per environment, fallback, drift, open obligations and releases, per
    model (an unknown model is NotFound, exit 1, with a hint)."""
    from governance.status import StatusFiles, model_state, model_summary, status_of
    from governance.status_memo import StatusMemo

    # a read query: governance.yaml as remembered for its exact bytes (governance.config_cache),
    # model.yaml and the pointer files as remembered for theirs (governance.status_memo; the
    # source is only opened here, verified when the index catches up)
    config = service.remembered_config()
    source = service.ledger(allow_prefix=request.verified_prefix)
    memo = StatusMemo.for_source(source)
    governed = StatusFiles(service.root, config, memo)
    models = [request.model] if request.model else governed.model_names()
    if request.model:
        governed.check_model(request.model)
    production = governed.config.production_environment

    def one(conn: Any, model: str) -> ModelStatus:
        summary, state = model_summary(conn, model, production_env=production, memo=memo)
        return status_of(governed, summary, model, request.limit,
                         lambda: state if state is not None else model_state(
                             conn, model, production_env=production))

    try:
        statuses = service.answer(lambda conn: [one(conn, m) for m in models], source=source)
    finally:
        if memo is not None:
            memo.close()
    head = source.head()
    return StatusResult(tuple(statuses), head.seq if head else -1, prefix_of(source))


# --- explain and diff ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainRequest:
    target: str  # a release id, or a model name with ``environment``
    environment: str | None
    at: datetime | None  # None: now (only events up to it count)


@dataclass(frozen=True)
class ExplainResult:
    explanation: Explanation
    live: LiveExplanation | None  # for MODEL --env E: what was live then

    def to_json(self) -> dict[str, Any]:
        return self.live.to_json() if self.live is not None else self.explanation.to_json()


def explain(service: Service, request: ExplainRequest) -> ExplainResult:
    """The six answers for a release id, or for the release of a model live in an
    environment at a time."""
    from governance.audit import answers
    from governance.timeparse import utc_now

    governed = service.repo
    if request.environment is None:
        explanation = service.answer(lambda conn: answers.explain_release_id(
            governed, conn, request.target, request.at))
        return ExplainResult(explanation, None)
    env, at = request.environment, request.at or utc_now()
    found = service.answer(lambda conn: answers.explain_live(
        governed, conn, request.target, env, at))
    return ExplainResult(found.explanation, found)


@dataclass(frozen=True)
class DiffRequest:
    release_a: str
    release_b: str


def diff(service: Service, request: DiffRequest) -> ReleaseDiff:
    """What changed from one release to the other, with the ledger's facts."""
    from governance.audit import answers

    governed = service.repo
    return service.answer(lambda conn: answers.diff_by_id(governed, conn, request.release_a,
                                                          request.release_b))


@dataclass(frozen=True)
class ReportRequest:
    release_id: str
    environment: str | None  # whose required roles and history are shown (None: strictest)


def report(service: Service, request: ReportRequest) -> EvidenceReport:
    """The evidence bundle of a release (rendered as markdown or HTML by the CLI)."""
    from governance.audit import answers
    from governance.timeparse import utc_now

    governed = service.repo
    return service.answer(lambda conn: answers.build_report(
        governed, conn, request.release_id, environment=request.environment, now=utc_now()))
