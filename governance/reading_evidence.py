"""The evidence use cases (``governance.reading``'s, loaded when one of them runs):
``explain``, ``diff`` and ``report``, each a typed request in and its answer out.

Kept apart from ``governance.reading`` so that ``live``, ``history`` and ``status`` do not
create their classes at start-up (a frozen dataclass costs about a millisecond to create;
issue 18); ``governance.reading`` re-exports every name here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.domain.frozen import frozen

if TYPE_CHECKING:
    from governance.audit.answers import LiveExplanation
    from governance.audit.diff import ReleaseDiff
    from governance.audit.explain import Explanation
    from governance.report.evidence import EvidenceReport
    from governance.service import Service


@frozen
class ExplainRequest:
    target: str  # a release id, or a model name with ``environment``
    environment: str | None
    at: datetime | None  # None: now (only events up to it count)


@frozen
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


@frozen
class DiffRequest:
    release_a: str
    release_b: str


def diff(service: Service, request: DiffRequest) -> ReleaseDiff:
    """What changed from one release to the other, with the ledger's facts."""
    from governance.audit import answers

    governed = service.repo
    return service.answer(lambda conn: answers.diff_by_id(governed, conn, request.release_a,
                                                          request.release_b))


@frozen
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
