"""The organisation report (``governance report --org --source ...``): every origin's models,
their live release per environment, open break-glass obligations, evaluations past their
freshness limit, and the approvals and rollbacks of a period; rendered as self-contained HTML
(no scripts, no external assets, every text escaped) or Markdown.

Built from verified rows only (``governance.audit.org.OrgSource``): each origin's events are
folded in seq order with the same fold as the local commands (``governance.lifecycle``), so
"live", "open obligation" and "approved" mean here what they mean in each repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any

from governance.audit.org import OrgEvent, OrgSource
from governance.audit.queries import summary
from governance.domain.config import DEFAULT_PRODUCTION
from governance.domain.event_types import (
    APPROVAL_DECISIONS,
    EVALUATION_COMPLETED,
    KEY_ROTATED,
    LEDGER_GENESIS,
    RELEASE_APPROVED,
    ROLLBACK_EXECUTED,
)
from governance.errors import Tampered
from governance.ledger.replay import pinned_after
from governance.lifecycle import fold_lifecycle
from governance.timeparse import format_rfc3339, parse_instant

APPROVAL_TYPES = (*APPROVAL_DECISIONS, RELEASE_APPROVED)


@dataclass
class OriginSection:
    origin: str
    stale: bool
    last_export: str | None
    live: list[dict[str, Any]] = field(default_factory=list)  # model, environment, release...
    obligations: list[dict[str, Any]] = field(default_factory=list)
    stale_evaluations: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    rollbacks: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


@dataclass
class OrgReport:
    source: str
    generated_at: str
    since: str
    until: str
    max_evaluation_age: str
    verified_rows: int
    sections: list[OriginSection]
    unpinned: list[str]

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k != "sections"},
                "sections": [s.__dict__ for s in self.sections]}


def _ref(o: OrgEvent) -> dict[str, Any]:
    e = o.event
    return {"seq": e.seq, "timestamp": e.timestamp, "event_type": e.event_type,
            "model": e.model, "release_id": e.release_id, "environment": e.environment,
            "actor_id": e.actor_id, "actor_role": e.actor_role, "incident": e.incident,
            "summary": summary(e)}


def origin_production(origin: str, events: Sequence[OrgEvent]) -> str:
    """The production environment of one origin: the last of the environment order its own
    ledger pins (genesis ``details.lifecycle``, then ``key_rotated`` ``set_environments``), the
    same governance.yaml order the origin's commands fold with. The org source holds ledgers,
    not governance.yaml, so an origin whose ledger pins no order (a genesis written before
    lifecycle pinning) is folded with the default name, as its own commands would without an
    environments list."""
    pinned: dict[str, Any] | None = None
    for o in events:
        e = o.event
        if e.event_type not in (LEDGER_GENESIS, KEY_ROTATED):
            continue
        try:
            details = e.event.get("details") or {}
            if e.event_type == LEDGER_GENESIS:
                pinned = pinned_after(details.get("lifecycle"), ())
            else:
                pinned = pinned_after(pinned, details.get("changes") or ())
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise Tampered(f"origin {origin}: seq {e.seq}: the pinned environment order cannot "
                           f"be read ({err})", hint="run `governance ledger verify` in that "
                           "repository") from None
    order = (pinned or {}).get("environments")
    return str(order[-1]["name"]) if order else DEFAULT_PRODUCTION


def build_org_report(src: OrgSource, *, since: datetime, until: datetime,
                     max_evaluation_age: timedelta, now: datetime) -> OrgReport:
    sections = []
    for status in src.status():
        origin = status.origin
        events = src.origin_events(origin)
        state = fold_lifecycle((e.event for e in events),
                               production_env=origin_production(origin, events))
        section = OriginSection(origin, status.stale, status.last_export)
        last_eval: dict[str, OrgEvent] = {}
        for o in events:
            if o.event.event_type == EVALUATION_COMPLETED and o.event.release_id:
                last_eval[o.event.release_id] = o
            moment = parse_instant(o.event.timestamp)
            if since <= moment <= until:
                if o.event.event_type in APPROVAL_TYPES:
                    section.approvals.append(_ref(o))
                elif o.event.event_type == ROLLBACK_EXECUTED:
                    section.rollbacks.append(_ref(o))
        models = {life.model_name for life in state.releases.values() if life.model_name}
        models |= {m for m, _env in state.live}
        section.models = sorted(models)
        for (model, env) in sorted(state.live):
            span = state.current(model, env)
            if span is None:
                continue
            section.live.append({"model": model, "environment": env,
                                 "release_id": span.release_id, "since": span.since,
                                 "seq": span.seq, "via": span.event_type})
            evaluation = last_eval.get(span.release_id)
            age = None if evaluation is None else \
                now - parse_instant(evaluation.event.timestamp)
            if age is None or age > max_evaluation_age:
                section.stale_evaluations.append({
                    "model": model, "environment": env, "release_id": span.release_id,
                    "evaluated_at": None if evaluation is None else evaluation.event.timestamp,
                    "age_days": None if age is None else age.days})
        for ob in sorted(state.open_obligations(), key=lambda o: o.seq):
            section.obligations.append({"kind": ob.kind, "seq": ob.seq,
                                        "release_id": ob.release_id, "model": ob.model_name,
                                        "environment": ob.environment, "incident": ob.incident,
                                        "opened_at": ob.opened_at, "actor_id": ob.actor_id})
        sections.append(section)
    return OrgReport(src.destination, format_rfc3339(now), format_rfc3339(since),
                     format_rfc3339(until), _days(max_evaluation_age), src.verified_rows,
                     sections, src.unpinned())


def _days(delta: timedelta) -> str:
    return f"{delta.days}d" if delta.seconds == 0 else f"{int(delta.total_seconds())}s"


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}td{overflow-wrap:anywhere}
.badge{display:inline-block;padding:.15em .6em;border-radius:.3em;color:#fff;font-weight:600}
.fresh{background:#1a7f37}.stale{background:#cf222e}.warn{color:#cf222e;font-weight:600}
"""


def _v(value: Any) -> str:
    return "-" if value in (None, "") else escape(str(value))


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_v(r.get(c))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_org_html(report: OrgReport) -> str:
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>Organisation evidence report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Organisation evidence report</h1>",
        f"<p>Source {_v(report.source)}; generated {_v(report.generated_at)}; period "
        f"{_v(report.since)} to {_v(report.until)}; {report.verified_rows} rows verified against "
        "their origins' signed checkpoints; evaluations older than "
        f"{_v(report.max_evaluation_age)} are flagged.</p>",
        "<h2>Origins</h2><table><tr><th>origin</th><th>status</th><th>last export</th>"
        "<th>models</th><th>open break-glass</th><th>approvals</th><th>rollbacks</th></tr>",
    ]
    for s in report.sections:
        badge = ('<span class="badge stale">STALE</span>' if s.stale
                 else '<span class="badge fresh">fresh</span>')
        parts.append(f"<tr><td>{_v(s.origin)}</td><td>{badge}</td><td>{_v(s.last_export)}</td>"
                     f"<td>{len(s.models)}</td><td>{len(s.obligations)}</td>"
                     f"<td>{len(s.approvals)}</td><td>{len(s.rollbacks)}</td></tr>")
    parts.append("</table>")
    if report.unpinned:
        parts.append(f"<p class=\"warn\">Not used (origins not pinned in the trust file): "
                     f"{_v(', '.join(report.unpinned))}</p>")
    for s in report.sections:
        parts.append(f"<h2>{_v(s.origin)}</h2>")
        parts.append("<h3>Live releases</h3>")
        parts.append(_table(s.live, ("model", "environment", "release_id", "since", "via", "seq"),
                            "nothing live"))
        parts.append("<h3>Open break-glass obligations</h3>")
        parts.append(_table(s.obligations, ("model", "environment", "release_id", "incident",
                                            "opened_at", "actor_id", "seq"), "none"))
        parts.append("<h3>Live releases with evaluations past their freshness limit</h3>")
        parts.append(_table(s.stale_evaluations, ("model", "environment", "release_id",
                                                  "evaluated_at", "age_days"), "none"))
        parts.append("<h3>Approvals in the period</h3>")
        parts.append(_table(s.approvals, ("timestamp", "summary", "actor_role", "seq"), "none"))
        parts.append("<h3>Rollbacks in the period</h3>")
        parts.append(_table(s.rollbacks, ("timestamp", "summary", "incident", "seq"), "none"))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render_org_markdown(report: OrgReport) -> str:
    def cell(value: Any) -> str:
        return "-" if value in (None, "") else str(value).replace("|", "\\|").replace("\n", " ")

    def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
        if not rows:
            return ["none", ""]
        out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
        return [*out, ""]

    lines = ["# Organisation evidence report", "",
             f"Source {report.source}; generated {report.generated_at}; period {report.since} to "
             f"{report.until}; {report.verified_rows} rows verified.", ""]
    for s in report.sections:
        lines += [f"## {cell(s.origin)}{' (STALE)' if s.stale else ''}", "", "### Live", ""]
        lines += table(s.live, ("model", "environment", "release_id", "since", "via"))
        lines += ["### Open break-glass obligations", ""]
        lines += table(s.obligations, ("model", "environment", "release_id", "incident",
                                       "opened_at"))
        lines += ["### Evaluations past their freshness limit", ""]
        lines += table(s.stale_evaluations, ("model", "environment", "release_id",
                                             "evaluated_at", "age_days"))
        lines += ["### Approvals in the period", ""]
        lines += table(s.approvals, ("timestamp", "summary"))
        lines += ["### Rollbacks in the period", ""]
        lines += table(s.rollbacks, ("timestamp", "summary", "incident"))
    return "\n".join(lines)
