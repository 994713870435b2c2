"""Organisation answers from PostgreSQL (``--source``): query, history, live, verify-sink, export.

Thin: the commands (``live``, ``history``, ``audit query``, ``explain``, ``audit verify-sink``)
parse their options into a request of ``governance.org_reading`` and call its use case; here are
the renderer registries for the results. Output formats are the local commands' with the origin
added to every event, and the origins' freshness; the warnings about stale and unpinned origins
go to stderr first.
"""

from __future__ import annotations

import csv
import sys

from governance import org_reading
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.org_reading import OrgEvents, OrgExplanation, OrgLive, OrgSinkCheck


def warn(envelope: org_reading.Envelope) -> None:
    for line in envelope.warnings():
        log(line)


# --- events (history, audit query) ---------------------------------------------------------

EVENTS: Renderers[OrgEvents] = Renderers("organisation events")
EVENTS.register(OutputFormat.json)(emit_to_json)

_COLUMNS = ("origin", "seq", "timestamp", "event_type", "model", "release_id", "environment",
            "actor_id", "actor_role", "incident", "event_id")


@EVENTS.register(OutputFormat.csv)
def _events_csv(result: OrgEvents) -> None:
    from governance.audit import queries

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow((*_COLUMNS, "summary"))
    for o in result.events:
        e = o.event
        writer.writerow((o.origin, *(getattr(e, c) or "" for c in _COLUMNS[1:]),
                         queries.summary(e)))
    for line in result.envelope.stale_lines():
        writer.writerow(("#", line))


@EVENTS.register(OutputFormat.text)
def _events_text(result: OrgEvents) -> None:
    from governance.audit import queries

    events = result.events
    width = max((len(o.origin) for o in events), default=0)
    for o in events:
        e = o.event
        emit_text(f"{o.origin:<{width}}  {e.seq:>8}  {e.timestamp}  {e.event_type:<19}  "
                  f"{queries.summary(e)}")
    for line in result.envelope.stale_lines():
        emit_text(line)
    log(f"{len(events)} event{'s' if len(events) != 1 else ''} from {result.envelope.source}, "
        f"every row verified against its origin's signed checkpoint")


# --- live ----------------------------------------------------------------------------------

LIVE: Renderers[OrgLive] = Renderers("organisation live")
LIVE.register(OutputFormat.json)(emit_to_json)


@LIVE.register(OutputFormat.text)
def _live_text(result: OrgLive) -> None:
    request = result.request
    for origin, answer in result.answers:
        change = answer.change
        emit_text(answer.release_id or "-")
        emit_text(f"origin: {origin}  model: {request.model}  environment: "
                  f"{request.environment}  at: {answer.at}")
        emit_text(f"since: {answer.since} ({change.event_type}, seq {change.seq}, "
                  f"event {change.event_id}, commit {change.commit[:12]})")
        role = f" ({change.actor_role})" if change.actor_role else ""
        emit_text(f"by: {change.actor_id}{role}")
        if change.incident or change.event.get("reason"):
            emit_text(f"incident: {change.incident or '-'}  reason: "
                      f"{change.event.get('reason') or '-'}")
        if answer.retired_at:
            emit_text(f"warning: this release was retired at {answer.retired_at}")
    for line in result.envelope.stale_lines():
        emit_text(line)


# --- explain -------------------------------------------------------------------------------

EXPLAINED: Renderers[OrgExplanation] = Renderers("organisation explain")
EXPLAINED.register(OutputFormat.json)(emit_to_json)

_SECTIONS = (("registered", "registered"), ("evaluation", "evaluations"), ("gates", "gates"),
             ("approvals", "approvals"), ("deployments", "deployments"),
             ("rollbacks", "rollbacks"), ("retired", "retired"))


@EXPLAINED.register(OutputFormat.text)
def _explained_text(result: OrgExplanation) -> None:
    release_id = result.request.release_id
    for g in result.answers:
        emit_text(f"{release_id}  (origin {g['origin']}, model {g['model'] or '-'})")
        for title, key in _SECTIONS:
            items = g[key]
            emit_text(f"  {title}: {'none' if not items else ''}".rstrip())
            for ref in items:
                emit_text(f"    seq {ref['seq']}  {ref['timestamp']}  {ref['summary']}")
        emit_text(f"  audit trail: {len(g['audit_trail'])} verified event(s) (leaf hashes and "
                  "inclusion proofs checked against signed checkpoints)")
    for line in result.envelope.stale_lines():
        emit_text(line)


# --- verify-sink ---------------------------------------------------------------------------

SINK_CHECKED: Renderers[OrgSinkCheck] = Renderers("organisation sink check")
SINK_CHECKED.register(OutputFormat.json)(emit_to_json)


@SINK_CHECKED.register(OutputFormat.text)
def _sink_checked_text(result: OrgSinkCheck) -> None:
    for r in result.reports:
        state = "ok" if r.ok else "FAILED"
        against = ("" if r.ledger_entries is None else
                   f" for {r.ledger_entries} ledger event(s), {r.pending} pending export")
        emit_text(f"{state}: origin {r.origin}: {r.rows} row(s), {r.checkpoints} "
                  f"checkpoint(s){against}")
        if not r.checkpoints and not r.problems:
            emit_text(f"problem: origin {r.origin}: nothing exported")
        for p in r.problems:
            emit_text(f"problem: {p}")
    for line in result.envelope.stale_lines():
        emit_text(line)
