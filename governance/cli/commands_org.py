"""Organisation answers from PostgreSQL (``--source``): query, history, live, verify-sink, export.

Thin: resolve the connection string (from the environment, never printed) and the org trust
file, call ``governance.audit.org`` or ``governance.sinks.postgres_org``, render. Output formats
are the local commands' with the origin added to every event, and the origins' freshness.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance import ci_context
from governance.audit import queries
from governance.cli.options import ENV_DSN, ENV_TRUST
from governance.cli.output import emit_json, emit_text, log
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
from governance.timeparse import format_rfc3339

if TYPE_CHECKING:  # the PostgreSQL driver loads only when --source is used
    from governance.audit.org import OrgEvent, OrgSource, OrgTrust
    from governance.audit.source import LedgerSource


def check_flags(source: str | None, origins: Sequence[str], trust: Path | None,
                verified_prefix: bool = False) -> None:
    """--origin and --trust only mean something with --source; --verified-prefix only without
    (the database answers from verified rows or refuses)."""
    if source is None and (origins or trust is not None):
        raise UsageError("--origin and --trust need --source (the organisation database)")
    if source is not None and verified_prefix:
        raise UsageError("--verified-prefix applies to the local ledger, not to --source: "
                         "a row that fails verification makes the answer refuse")


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


def open_source(source: str, origins: Sequence[str], trust: Path | None) -> OrgSource:
    from governance.audit.org import OrgSource

    dsn = resolve_dsn(source)
    org_trust = resolve_trust(trust)
    return OrgSource(dsn, org_trust, org_trust.require(origins))


def _envelope(src: OrgSource) -> dict[str, Any]:
    status = src.status()
    unpinned = src.unpinned()
    for s in status:
        if s.stale:
            last = s.last_export or "never"
            log(f"warning: origin {s.origin} is stale: last export {last} "
                f"(older than {s.stale_after})")
    if unpinned:
        log(f"warning: not used (not pinned in {src.trust.file}): {', '.join(unpinned)}")
    return {"source": src.destination, "origins": [s.to_json() for s in status],
            "stale_origins": [s.origin for s in status if s.stale],
            "unpinned_origins": unpinned}


def _stale_lines(env: dict[str, Any]) -> list[str]:
    out = []
    for s in env["origins"]:
        if s["stale"]:
            out.append(f"STALE: origin {s['origin']}: last export {s['last_export'] or 'never'} "
                       f"(older than {s['stale_after']})")
    return out


_COLUMNS = ("origin", "seq", "timestamp", "event_type", "model", "release_id", "environment",
            "actor_id", "actor_role", "incident", "event_id")


def render_events(src: OrgSource, events: Sequence[OrgEvent], fmt: str) -> None:
    env = _envelope(src)
    if fmt == "json":
        emit_json({**env, "verified_rows": src.verified_rows,
                   "events": [e.to_json() for e in events]})
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow((*_COLUMNS, "summary"))
        for o in events:
            e = o.event
            writer.writerow((o.origin, *(getattr(e, c) or "" for c in _COLUMNS[1:]),
                             queries.summary(e)))
        for line in _stale_lines(env):
            writer.writerow(("#", line))
        return
    width = max((len(o.origin) for o in events), default=0)
    for o in events:
        e = o.event
        emit_text(f"{o.origin:<{width}}  {e.seq:>8}  {e.timestamp}  {e.event_type:<19}  "
                  f"{queries.summary(e)}")
    for line in _stale_lines(env):
        emit_text(line)
    log(f"{len(events)} event{'s' if len(events) != 1 else ''} from {env['source']}, every "
        f"row verified against its origin's signed checkpoint")


def query(src: OrgSource, flt: queries.AuditFilter, fmt: str) -> None:
    with src:
        render_events(src, src.audit_query(flt), fmt)


def history(src: OrgSource, model: str, fmt: str) -> None:
    with src:
        render_events(src, src.history(model), fmt)


def live(src: OrgSource, model: str, env_name: str, moment: datetime, fmt: str) -> None:
    with src:
        answers = src.live_release_at(model, env_name, moment)
        envelope = _envelope(src)
    if fmt == "json":
        emit_json({**envelope, "verified_rows": src.verified_rows,
                   "answers": [{"origin": o, **a.to_json()} for o, a in answers]})
    else:
        for origin, answer in answers:
            change = answer.change
            emit_text(answer.release_id or "-")
            emit_text(f"origin: {origin}  model: {model}  environment: {env_name}  "
                      f"at: {answer.at}")
            emit_text(f"since: {answer.since} ({change.event_type}, seq {change.seq}, "
                      f"event {change.event_id}, commit {change.commit[:12]})")
            role = f" ({change.actor_role})" if change.actor_role else ""
            emit_text(f"by: {change.actor_id}{role}")
            if change.incident or change.event.get("reason"):
                emit_text(f"incident: {change.incident or '-'}  reason: "
                          f"{change.event.get('reason') or '-'}")
            if answer.retired_at:
                emit_text(f"warning: this release was retired at {answer.retired_at}")
        for line in _stale_lines(envelope):
            emit_text(line)
    if all(a.release_id is None for _o, a in answers):
        raise NotFound(f"nothing was live for {model!r} in {env_name!r} at {answers[0][1].at}: "
                       "switched off by rollback in every origin that holds it")


def verify_sink(src: OrgSource, fmt: str, ledger: LedgerSource | None = None) -> None:
    """Each origin's rows and checkpoints; the first origin's against ``ledger`` when given
    (``verify-sink`` run in its repository)."""
    with src:
        reports = [src.verify_origin(o) for o in src.origins]
        if ledger is not None:
            src.compare_with_ledger(reports[0], ledger)
        envelope = _envelope(src)
    if fmt == "json":
        emit_json({**envelope, "ok": all(r.ok for r in reports),
                   "reports": [r.to_json() for r in reports]})
    else:
        for r in reports:
            state = "ok" if r.ok else "FAILED"
            against = ("" if r.ledger_entries is None else
                       f" for {r.ledger_entries} ledger event(s), {r.pending} pending export")
            emit_text(f"{state}: origin {r.origin}: {r.rows} row(s), {r.checkpoints} "
                      f"checkpoint(s){against}")
            if not r.checkpoints and not r.problems:
                emit_text(f"problem: origin {r.origin}: nothing exported")
            for p in r.problems:
                emit_text(f"problem: {p}")
        for line in _stale_lines(envelope):
            emit_text(line)
    bad = [r for r in reports if not r.ok]
    if bad:
        first = next((p for r in bad for p in r.problems), "nothing exported")
        raise Tampered(f"postgres sink {src.destination}: {len(bad)} origin(s) fail "
                       f"verification ({', '.join(r.origin for r in bad)}); first: {first}")


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


def explain(src: OrgSource, release_id: str, moment: datetime | None, fmt: str) -> None:
    """The ledger's part of the six answers for a release, from the organisation database: who
    registered it, its evaluations and gate decisions, who approved or denied it, where and when
    it was promoted or rolled back, and the audit trail (every row verified). The release record
    itself (artifact digests, data, code, model card) lives in its repository: ``governance
    explain`` there gives the rest."""
    with src:
        events = src.release_events(release_id, moment)
        envelope = _envelope(src)
    groups: dict[str, dict[str, Any]] = {}
    for o in events:
        e = o.event
        g = groups.setdefault(o.origin, {
            "origin": o.origin, "release_id": release_id, "model": None, "registered": [],
            "evaluations": [], "gates": [], "approvals": [], "deployments": [], "rollbacks": [],
            "retired": [], "audit_trail": []})
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
    answers = list(groups.values())
    if fmt == "json":
        emit_json({**envelope, "verified_rows": src.verified_rows,
                   "at": None if moment is None else format_rfc3339(moment), "answers": answers})
        return
    for g in answers:
        emit_text(f"{release_id}  (origin {g['origin']}, model {g['model'] or '-'})")
        for title, key in (("registered", "registered"), ("evaluation", "evaluations"),
                           ("gates", "gates"), ("approvals", "approvals"),
                           ("deployments", "deployments"), ("rollbacks", "rollbacks"),
                           ("retired", "retired")):
            items = g[key]
            emit_text(f"  {title}: {'none' if not items else ''}".rstrip())
            for ref in items:
                emit_text(f"    seq {ref['seq']}  {ref['timestamp']}  {ref['summary']}")
        emit_text(f"  audit trail: {len(g['audit_trail'])} verified event(s) (leaf hashes and "
                  "inclusion proofs checked against signed checkpoints)")
    for line in _stale_lines(envelope):
        emit_text(line)
