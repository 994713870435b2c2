"""The organisation's read use cases (``--source``): a typed request in, a result out.

``live``, ``history``, ``audit query`` and ``explain`` with ``--source`` answer across
repositories from the organisation's PostgreSQL (``governance.audit.org``), every row verified
against its origin's signed checkpoints; ``audit verify-sink --sink postgres`` checks each
origin. Each parses its options into one frozen request below and calls its use case, which
resolves the connection string (from the environment, never printed) and the org trust file,
opens the source and answers. The result is data carrying the origins' freshness (the
``Envelope``); the CLI renders it through a renderer registry (``governance.cli.commands_org``).

The PostgreSQL driver and the org source load only inside the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance import ci_context
from governance.ci_context import ENV_DSN, ENV_TRUST
from governance.domain.event_types import (
    APPROVAL_DENIED,
    APPROVAL_GRANTED,
    BREAK_GLASS,
    DEPLOYMENT_PROMOTED,
    EVALUATION_COMPLETED,
    GATE_EVALUATED,
    RELEASE_APPROVED,
    RELEASE_REGISTERED,
    RELEASE_RETIRED,
    ROLLBACK_EXECUTED,
)
from governance.errors import ConfigurationError, NotFound, Tampered, UsageError

if TYPE_CHECKING:  # the PostgreSQL driver loads only when --source is used
    from governance.audit.org import OrgEvent, OrgSource, OrgTrust, OriginReport, OriginStatus
    from governance.audit.queries import AuditFilter, LiveRelease
    from governance.domain.source import LedgerSource
    from governance.report.org import OrgReport



# --- the source ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgRequest:
    """Where the organisation's evidence is: ``--source``, ``--origin``, ``--trust``."""

    source: str  # 'postgres', 'env:NAME' or a postgresql:// URL without a password
    origins: tuple[str, ...] = ()
    trust: Path | None = None


def resolve_dsn(source: str) -> str:
    """The connection string named by ``--source``; refuses a password on the command line
    (it would show in the process list and shell history) without repeating it."""
    text = source.strip()
    if text in ("postgres", "postgresql"):
        var = ENV_DSN
    elif text.startswith("env:"):
        var = text[4:]
        if not var:
            raise UsageError("--source env:NAME: the variable name is empty")
    elif text.startswith(("postgresql://", "postgres://")):
        import psycopg

        try:
            info = psycopg.conninfo.conninfo_to_dict(text)
        except psycopg.ProgrammingError:
            raise UsageError("--source: the postgresql:// URL is malformed (not shown: it may "
                             "hold a password)") from None
        if info.get("password"):
            raise UsageError("--source: the URL carries a password; put the connection string "
                             "in an environment variable and pass --source env:NAME (or set "
                             "PGPASSWORD)")
        return text
    else:
        raise UsageError(f"--source {text[:40]!r}: expected 'postgres', 'env:NAME' or a "
                         "postgresql:// URL")
    dsn = ci_context.current().variable(var)
    if not dsn:
        raise ConfigurationError(f"--source: environment variable {var} is not set",
                                 hint=f"export {var}='host=... dbname=... user=...'")
    return dsn


def resolve_trust(trust: Path | None) -> OrgTrust:
    from governance.audit.org import load_org_trust

    configured = ci_context.current().variable(ENV_TRUST)
    path = trust or (Path(configured) if configured else None)
    if path is None:
        raise ConfigurationError(
            "--source: no org trust file: rows cannot be verified without the log keys pinned "
            "for each origin",
            hint=f"pass --trust FILE or set {ENV_TRUST} (format: docs/audit.md)")
    return load_org_trust(path)


def open_source(request: OrgRequest) -> OrgSource:
    from governance.audit.org import OrgSource

    dsn = resolve_dsn(request.source)
    org_trust = resolve_trust(request.trust)
    return OrgSource(dsn, org_trust, org_trust.require(request.origins))


@dataclass(frozen=True)
class Envelope:
    """What every organisation answer carries: the source, each origin's freshness, the
    origins not used (not pinned), and how many rows were verified."""

    source: str
    origins: tuple[OriginStatus, ...]
    stale_origins: tuple[str, ...]
    unpinned_origins: tuple[str, ...]
    trust_file: str
    verified_rows: int

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "origins": [s.to_json() for s in self.origins],
                "stale_origins": list(self.stale_origins),
                "unpinned_origins": list(self.unpinned_origins)}

    def warnings(self) -> list[str]:
        """The warnings for stderr: stale origins, unpinned origins."""
        out = [f"warning: origin {s.origin} is stale: last export {s.last_export or 'never'} "
               f"(older than {s.stale_after})" for s in self.origins if s.stale]
        if self.unpinned_origins:
            out.append(f"warning: not used (not pinned in {self.trust_file}): "
                       f"{', '.join(self.unpinned_origins)}")
        return out

    def stale_lines(self) -> list[str]:
        """The stale origins, as the report's closing lines."""
        return [f"STALE: origin {s.origin}: last export {s.last_export or 'never'} "
                f"(older than {s.stale_after})" for s in self.origins if s.stale]


def _envelope(src: OrgSource) -> Envelope:
    status = src.status()
    return Envelope(src.destination, tuple(status),
                    tuple(s.origin for s in status if s.stale), tuple(src.unpinned()),
                    src.trust.file, src.verified_rows)


# --- history and audit query ---------------------------------------------------------------


@dataclass(frozen=True)
class OrgHistoryRequest:
    org: OrgRequest
    model: str


@dataclass(frozen=True)
class OrgQueryRequest:
    org: OrgRequest
    filter: AuditFilter


@dataclass(frozen=True)
class OrgEvents:
    """Events across origins, in time order."""

    envelope: Envelope
    events: tuple[OrgEvent, ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.envelope.to_json(), "verified_rows": self.envelope.verified_rows,
                "events": [e.to_json() for e in self.events]}


def history(request: OrgHistoryRequest) -> OrgEvents:
    with open_source(request.org) as src:
        events = src.history(request.model)
        return OrgEvents(_envelope(src), tuple(events))


def audit_query(request: OrgQueryRequest) -> OrgEvents:
    with open_source(request.org) as src:
        events = src.audit_query(request.filter)
        return OrgEvents(_envelope(src), tuple(events))


# --- live ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgLiveRequest:
    org: OrgRequest
    model: str
    environment: str
    at: datetime


@dataclass(frozen=True)
class OrgLive:
    request: OrgLiveRequest
    envelope: Envelope
    answers: tuple[tuple[str, LiveRelease], ...]  # (origin, what was live there)

    def to_json(self) -> dict[str, Any]:
        return {**self.envelope.to_json(), "verified_rows": self.envelope.verified_rows,
                "answers": [{"origin": o, **a.to_json()} for o, a in self.answers]}

    def nothing_live(self) -> NotFound | None:
        """The lookup's refusal (exit 1) when no origin had a release live then."""
        if all(a.release_id is None for _o, a in self.answers):
            return NotFound(f"nothing was live for {self.request.model!r} in "
                            f"{self.request.environment!r} at {self.answers[0][1].at}: "
                            "switched off by rollback in every origin that holds it")
        return None


def live(request: OrgLiveRequest) -> OrgLive:
    with open_source(request.org) as src:
        answers = src.live_release_at(request.model, request.environment, request.at)
        envelope = _envelope(src)
    return OrgLive(request, envelope, tuple(answers))


# --- explain -------------------------------------------------------------------------------

_ROLES = {
    RELEASE_REGISTERED: "registered",
    EVALUATION_COMPLETED: "evaluations",
    GATE_EVALUATED: "gates",
    APPROVAL_GRANTED: "approvals",
    APPROVAL_DENIED: "approvals",
    RELEASE_APPROVED: "approvals",
    DEPLOYMENT_PROMOTED: "deployments",
    BREAK_GLASS: "deployments",
    ROLLBACK_EXECUTED: "rollbacks",
    RELEASE_RETIRED: "retired",
}


@dataclass(frozen=True)
class OrgExplainRequest:
    org: OrgRequest
    release_id: str
    at: datetime | None


@dataclass(frozen=True)
class OrgExplanation:
    request: OrgExplainRequest
    envelope: Envelope
    answers: tuple[dict[str, Any], ...]  # per origin: the six answers' ledger part

    def to_json(self) -> dict[str, Any]:
        from governance.timeparse import format_rfc3339

        at = self.request.at
        return {**self.envelope.to_json(), "verified_rows": self.envelope.verified_rows,
                "at": None if at is None else format_rfc3339(at), "answers": list(self.answers)}


def explain(request: OrgExplainRequest) -> OrgExplanation:
    """The ledger's part of the six answers for a release, from the organisation database: who
    registered it, its evaluations and gate decisions, who approved or denied it, where and when
    it was promoted or rolled back, and the audit trail (every row verified). The release record
    itself (artifact digests, data, code, model card) lives in its repository: ``governance
    explain`` there gives the rest."""
    from governance.audit import queries

    with open_source(request.org) as src:
        events = src.release_events(request.release_id, request.at)
        envelope = _envelope(src)
    groups: dict[str, dict[str, Any]] = {}
    for o in events:
        e = o.event
        g = groups.setdefault(o.origin, {
            "origin": o.origin, "release_id": request.release_id, "model": None,
            "registered": [], "evaluations": [], "gates": [], "approvals": [],
            "deployments": [], "rollbacks": [], "retired": [], "audit_trail": []})
        g["model"] = g["model"] or e.model
        ref = {"seq": e.seq, "event_id": e.event_id, "event_type": e.event_type,
               "timestamp": e.timestamp, "actor_id": e.actor_id, "actor_role": e.actor_role,
               "environment": e.environment, "summary": queries.summary(e),
               "leaf_hash": e.leaf_hash, "commit": e.commit,
               "checkpoint_size": o.checkpoint_size}
        if e.event_type == GATE_EVALUATED:
            ref["decision"] = queries.decision_word(e.event.get("decision"))
        if e.event_type == ROLLBACK_EXECUTED:
            ref.update(incident=e.incident, from_release=e.from_release,
                       to_release=e.to_release)
        kind = _ROLES.get(e.event_type)
        if kind is not None:
            g[kind].append(ref)
        g["audit_trail"].append(ref)
    return OrgExplanation(request, envelope, tuple(groups.values()))


# --- verify-sink ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSinkCheck:
    envelope: Envelope
    reports: tuple[OriginReport, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    def to_json(self) -> dict[str, Any]:
        return {**self.envelope.to_json(), "ok": self.ok,
                "reports": [r.to_json() for r in self.reports]}

    def failure(self) -> Tampered | None:
        """The refusal (exit 1) when an origin fails verification."""
        bad = [r for r in self.reports if not r.ok]
        if not bad:
            return None
        first = next((p for r in bad for p in r.problems), "nothing exported")
        return Tampered(f"postgres sink {self.envelope.source}: {len(bad)} origin(s) fail "
                        f"verification ({', '.join(r.origin for r in bad)}); first: {first}")


def verify_sink(src: OrgSource, ledger: LedgerSource | None = None) -> OrgSinkCheck:
    """Each origin's rows and checkpoints; the first origin's against ``ledger`` when given
    (``verify-sink`` run in its repository)."""
    with src:
        reports = [src.verify_origin(o) for o in src.origins]
        if ledger is not None:
            src.compare_with_ledger(reports[0], ledger)
        return OrgSinkCheck(_envelope(src), tuple(reports))


# --- the organisation report ---------------------------------------------------------------


@dataclass(frozen=True)
class OrgReportRequest:
    org: OrgRequest
    since: datetime
    until: datetime
    max_evaluation_age: timedelta  # live releases with an older latest evaluation are flagged
    now: datetime


def report(request: OrgReportRequest) -> OrgReport:
    """Every origin's models, live releases, open break-glass obligations, stale evaluations,
    approvals and rollbacks in the period (``governance.report.org``)."""
    from governance.report.org import build_org_report

    with open_source(request.org) as src:
        return build_org_report(src, since=request.since, until=request.until,
                                max_evaluation_age=request.max_evaluation_age, now=request.now)
