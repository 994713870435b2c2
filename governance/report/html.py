"""Self-contained HTML rendering of the evidence report (no scripts, no external assets).

Read top-down as an auditor would: a summary first (what is live where, who approved which
content, the gate decision and what it meant, the rollback path, open obligations), which fits
the first screen at 1280x800; then the timeline and the metric changes; then the evidence, each
part a collapsible section (expanded when printed), identifiers shortened on screen with the
full value in the element's text and title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from governance.audit.explain import QUESTIONS
from governance.domain.event_types import BREAK_GLASS, ROLLBACK_EXECUTED
from governance.domain.identity import identity_key
from governance.report.evidence import EvidenceReport
from governance.report.metric_chart import render_metric_chart
from governance.report.values import (
    ABSENT,
    duration_text,
    ident,
    instant,
    label,
    parse_instant,
    value,
)

STYLE = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink)}
main{max-width:1200px;margin:0 auto;padding:12px 24px 40px}
h1{font-size:1.3em;margin:.1em 0 0}h2{font-size:1.1em;margin:1.1em 0 .4em}
.sub{color:var(--muted);margin:0 0 .5em}
.answer{font-size:1.05em;margin:.3em 0 .7em}
.cards{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 12px 8px;min-width:0;
box-shadow:0 1px 2px rgba(31,35,40,.08)}
.card.wide{grid-column:span 2}
.card h2{font-size:.8em;margin:0 0 4px;text-transform:uppercase;letter-spacing:.04em;
color:var(--muted)}
.card ul{margin:0;padding-left:1.1em}.card p{margin:.15em 0}
.badge{display:inline-block;padding:0 .55em;border-radius:1em;font-weight:600;
white-space:nowrap}
.allow,.approved,.yes{background:#dafbe1;color:#116329}
.deny,.denied,.stale,.no{background:#ffebe9;color:#a40e26}
.warn,.pending,.undecided{background:#fff8c5;color:#7d4e00}
.absent,.muted{color:var(--muted)}
.rid,time,.tok,.nw{white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:.3em 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;
overflow-wrap:break-word;word-break:normal;hyphens:manual}
th{background:var(--soft);font-weight:600;white-space:nowrap}
code{font:.92em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code.id{display:inline-block;max-width:calc(var(--w,12ch) + .5ch);overflow:hidden;
text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom;background:var(--soft);
border-radius:3px;padding:0 3px;cursor:text;user-select:all}
code.id.tail{direction:rtl;text-align:left}
pre.note{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);padding:6px;margin:0}
code.id:focus{max-width:100%;white-space:normal;overflow-wrap:anywhere;outline:2px solid #0969da}
svg{max-width:100%;height:auto;display:block}
details{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:0 12px}
details[open]{padding-bottom:8px}
summary{cursor:pointer;font-weight:600;padding:7px 0}
dl.kv{display:grid;grid-template-columns:minmax(8em,max-content) minmax(0,1fr);gap:1px 12px;
margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;min-width:0;overflow-wrap:break-word}
ul.plain{margin:0;padding-left:1.1em}
.q{margin:.6em 0 .2em;font-size:1em}
@media print{
 body{font-size:11pt}main{max-width:none;padding:0}
 .card,details{box-shadow:none;border-color:#999}
 details::details-content{content-visibility:visible;display:block}
 details>summary{list-style:none}
 .card,svg,tr,dl.kv>*{break-inside:avoid}h1,h2,h3,summary{break-after:avoid}
 details{break-inside:auto}
 code.id{max-width:none;white-space:normal;overflow-wrap:anywhere;background:none;
 direction:ltr}
 .badge{border:1px solid currentColor}
}
"""


def _badge(word: str, kind: str) -> str:
    return f"<span class='badge {kind}'>{escape(word)}</span>"


def _release(rid: str | None) -> str:
    """A release id, never broken at its hyphens."""
    return "nothing (switched off)" if not rid else f"<span class='rid'>{escape(rid)}</span>"


def _state(state: Any) -> str:
    return escape(str(state).replace("_", " "))


def _seconds(since: str, until: str | None) -> float | None:
    if not until:
        return None
    return (parse_instant(until) - parse_instant(since)).total_seconds()


# --- the gate decision and what it meant ------------------------------------------------------


def decision_meaning(decision: Mapping[str, Any], *, rollback: bool = False
                     ) -> tuple[str, str, str]:
    """(word, css class, meaning) of a recorded gate decision. A rollback's gates never block:
    a denial there is a warning, not a ``deny``."""
    failures = [f for f in decision.get("failures") or decision.get("deny") or []
                if isinstance(f, Mapping)]
    warnings = [w for w in decision.get("warnings") or decision.get("warn") or []
                if isinstance(w, Mapping)]
    allow = decision.get("allow")
    undecided = decision.get("undecided")
    if rollback or decision.get("blocking") is False:
        if allow:
            return "allow", "allow", "the rollback target passed every gate"
        return ("warning", "warn", "the gates would not have passed the rollback target then; "
                "a rollback is not blocked by them (reported as a warning only)")
    if undecided:
        return ("could not decide", "undecided",
                f"the gates could not be evaluated ({undecided}); this counts as a deny")
    if allow is True:
        if warnings:
            return ("allow, with warnings", "warn",
                    f"every blocking gate passed; {len(warnings)} warning(s) do not block")
        return "allow", "allow", "every gate passed"
    if allow is False:
        n = len(failures)
        return ("deny", "deny", f"blocked by {n} gate(s)" if n else "blocked by the gates")
    return "unknown", "undecided", "the decision does not say whether it allowed"


def _violations(decision: Mapping[str, Any]) -> str:
    items = []
    for kind, keys in (("deny", ("failures", "deny")), ("warning", ("warnings", "warn"))):
        for key in keys:
            for v in decision.get(key) or []:
                if isinstance(v, Mapping):
                    fix = (f"<br><span class='muted'>remediation: {escape(str(v['remediation']))}"
                           f"</span>" if v.get("remediation") else "")
                    items.append(f"<li>{_badge(kind, 'deny' if kind == 'deny' else 'warn')} "
                                 f"<code>{escape(str(v.get('gate_id', '-')))}</code>: "
                                 f"{escape(str(v.get('msg', '')))}{fix}</li>")
    return "<ul class='plain'>" + "".join(items) + "</ul>" if items else ""


def _decision_for(report: EvidenceReport) -> Mapping[str, Any] | None:
    """The latest gate decision for the report's environment (else the latest at all)."""
    decisions = report.explanation.answers["evaluation"]["gate_decisions"]
    mine = [d for d in decisions if d.get("environment") == report.environment]
    chosen: Mapping[str, Any] | None = (mine or decisions or [None])[-1]
    return chosen


# --- summary cards ----------------------------------------------------------------------------


def _live_card(report: EvidenceReport) -> str:
    exp = report.explanation
    rid = exp.release_id
    rows = []
    for env, spans in report.lanes.items():
        current = spans[-1] if spans and spans[-1].until is None else None
        if current is None or current.disabled:
            now = "<span class='muted'>nothing live (switched off)</span>"
        else:
            mark = " <b>(this release)</b>" if current.release_id == rid else ""
            via = " via rollback" if current.event_type == ROLLBACK_EXECUTED else (
                " via BREAK-GLASS" if current.event_type == BREAK_GLASS else "")
            now = (f"{_release(current.release_id)}{mark}<br><span class='muted'>since "
                   f"{instant(current.since)}{via}</span>")
        rows.append(f"<tr><th>{escape(env)}</th><td>{now}</td></tr>")
    stints = []
    replaced = {r["environment"]: r for r in exp.answers["deployed"]["replaced"]}
    for s in exp.answers["deployed"]["live"]:
        seconds = _seconds(s["since"], s["until"])
        if seconds is None:
            stints.append(f"<li>{escape(s['environment'])}: live since {instant(s['since'])}"
                          "</li>")
            continue
        gone = replaced.get(s["environment"])
        how = ""
        if gone and gone["since"] == s["until"]:
            how = (" — rolled back" if gone["via"] == ROLLBACK_EXECUTED else " — replaced")
            how += f" to {_release(gone.get('by_release'))}"
        stints.append(f"<li>{escape(s['environment'])}: live for <b>"
                      f"{escape(duration_text(seconds))}</b> ({instant(s['since'])} to "
                      f"{instant(s['until'])}){how}</li>")
    table = ("<table>" + "".join(rows) + "</table>") if rows else \
        "<p class='muted'>Never promoted anywhere.</p>"
    return ("<section class='card wide' id='live'><h2>What is live where</h2>" + table
            + (f"<p>This release ({_state(exp.answers['deployed']['state'])}):</p>"
               f"<ul>{''.join(stints)}</ul>" if stints else
               "<p>This release was never live.</p>") + "</section>")


def _approval_card(report: EvidenceReport) -> str:
    exp = report.explanation
    digest = exp.answers["deployed"]["release_digest"]
    approvals = exp.answers["approvals"]["approvals"]
    standing = report.standing
    scope = escape(report.environment)
    if standing is not None and standing.undecided is not None:
        head = (f"<p>{_badge('could not decide', 'undecided')} for {scope}: "
                f"{escape(standing.undecided)} (counts as not approved)</p>")
    elif standing is not None:
        ok = standing.allow
        head = (f"<p>{_badge('complete' if ok else 'NOT complete', 'allow' if ok else 'deny')}"
                f" for {scope}, as the <code>required_approvals</code> gate counts</p>")
    else:
        head = "<p class='muted'>The gate's count is not known.</p>"
    items = []
    for role in report.roles:
        who = []
        for actor in role.actors:
            # The approval that counted binds the current content; prefer it to older ones.
            mine = sorted((a for a in approvals
                           if identity_key(a["actor_id"] or "") == identity_key(actor)
                           and a["actor_role"] == role.role),
                          key=lambda a: (bool(a["bound_to_current_content"]), a["seq"]))
            content = ident(mine[-1]["release_digest"], 8) if mine else ABSENT
            who.append(f"{escape(actor)} approved {content}")
        status = role.status.split()[0]
        items.append(f"<li><b>{escape(role.role)}</b> {_badge(role.label, status)} "
                     f"{'; '.join(who) or '<span class=muted>nobody counted</span>'}"
                     f" <span class='muted'>({len(role.actors)} of {role.needed})</span></li>")
    stale = [a for a in approvals if not a["bound_to_current_content"]]
    note = (f"<p>{_badge(f'{len(stale)} stale', 'stale')} approval(s) of other content do not "
            "count</p>" if stale else "")
    return (f"<section class='card' id='approvals-summary'><h2>Who approved which content"
            f"</h2><p>content {ident(digest, 8)}</p>{head}<ul>{''.join(items)}</ul>{note}"
            "</section>")


def _gate_card(report: EvidenceReport) -> str:
    exp = report.explanation
    decision = _decision_for(report)
    parts = []
    if decision is None:
        parts.append("<p class='muted'>No gate evaluation recorded for this release.</p>")
    else:
        word, kind, meaning = decision_meaning(decision)
        parts.append(f"<p>{_badge(word, kind)} in {escape(str(decision.get('environment')))}"
                     f": {escape(meaning)}</p><p class='muted'>{instant(decision['timestamp'])}"
                     f", policy {ident(decision.get('policy_digest'), 8)}</p>")
        reasons = _violations(decision)
        if reasons:
            parts.append(reasons)
    for r in exp.answers["rollback"]["rollbacks"]:
        if r.get("to_release") == exp.release_id and isinstance(r.get("decision"), Mapping):
            word, kind, meaning = decision_meaning(r["decision"], rollback=True)
            parts.append(f"<p>made live again by rollback in {escape(r['environment'])}: "
                         f"{_badge(word, kind)} {escape(meaning)}</p>")
    return ("<section class='card' id='gate'><h2>Gate decision</h2>" + "".join(parts)
            + "</section>")


def _rollback_card(report: EvidenceReport) -> str:
    rb = report.explanation.answers["rollback"]
    target = rb["rollback_target"] or {}
    if target.get("release_id"):
        path = f"roll back to <b>{_release(target['release_id'])}</b>"
    elif target.get("disable"):
        path = ("switch the model off" + (f" ({escape(str(target['reason']))})"
                                          if target.get("reason") else ""))
    else:
        path = "<span class='muted'>none declared</span>"
    fallback = "".join(
        f"<li>{escape(env)}: " + (_release(rel) if rel else
                                   "<span class='muted'>no earlier approved release live "
                                   "there</span>") + "</li>"
        for env, rel in rb["fallback_now"].items())
    used = "".join(
        f"<li>{instant(r['timestamp'])} in {escape(r['environment'])}: "
        f"{_release(r['from_release'])} → {_release(r['to_release'])}"
        f" by {escape(r['actor_id'] or '-')}"
        + (f", incident <b>{escape(r['incident'])}</b>" if r["incident"] else "")
        + (f": {escape(r['reason'])}" if r["reason"] else "") + "</li>"
        for r in rb["rollbacks"])
    return ("<section class='card' id='rollback-path'><h2>Rollback path</h2>"
            f"<p>declared: {path}</p>"
            + (f"<p>fallback now:</p><ul>{fallback}</ul>" if fallback else "")
            + (f"<p>used:</p><ul>{used}</ul>" if used else "<p>never used</p>")
            + "</section>")


def _obligations_card(report: EvidenceReport) -> str:
    open_ = report.explanation.answers["rollback"]["open_obligations"]
    if not open_:
        body = f"<p>{_badge('none open', 'allow')}</p>"
    else:
        body = "<ul>" + "".join(
            f"<li>{_badge('open', 'deny')} {label(str(o.get('kind', 'obligation')))} for "
            f"{_release(o.get('release_id'))} in {escape(str(o.get('environment')))}"
            f" since {instant(o.get('opened_at'))}"
            + (f", incident {escape(str(o['incident']))}" if o.get("incident") else "")
            + (f", by {escape(str(o['actor_id']))}" if o.get("actor_id") else "")
            + "</li>" for o in open_) + "</ul>"
    return ("<section class='card' id='obligations'><h2>Open obligations</h2>" + body
            + "</section>")


def _headline(report: EvidenceReport) -> str:
    exp = report.explanation
    rid = exp.release_id
    live_now = [env for env, spans in report.lanes.items()
                if spans and spans[-1].until is None and spans[-1].release_id == rid
                and not spans[-1].disabled]
    where = (f"is live in <b>{escape(', '.join(live_now))}</b>" if live_now
             else "is <b>not live</b> anywhere")
    return (f"<p class='answer'><b>{_release(rid)}</b> {where}; state "
            f"{_state(exp.answers['deployed']['state'])}.</p>")


# --- evidence sections ------------------------------------------------------------------------


def _answer_section(key: str, question: str, answer: Mapping[str, Any]) -> str:
    rows = "".join(f"<dt>{label(k)}</dt><dd>{value(k, v)}</dd>" for k, v in answer.items())
    return (f"<details id='q-{key}'><summary>{escape(question)}</summary>"
            f"<dl class='kv'>{rows}</dl></details>")


def _card_section(report: EvidenceReport) -> str:
    card = report.card
    window = card.training_data_window or {}
    fields: Sequence[tuple[str, Any]] = (
        ("purpose", card.purpose), ("owner", card.owner),
        ("escalation path", list(card.escalation_path)),
        ("intended use", list(card.intended_use)), ("not for use", list(card.not_for_use)),
        ("training data window", f"{window.get('start', '?')} to {window.get('end', '?')}"
         if window else None),
        ("training data scope", card.training_data_scope),
        ("exclusions", list(card.training_data_exclusions)),
        ("known limitations", list(card.known_limitations)),
        ("evaluated at", card.evaluated_at),
        ("metrics", dict(card.metrics)),
        ("subgroups", {k: dict(v) for k, v in card.subgroups.items()}),
    )
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{value(k, v)}</dd>" for k, v in fields)
    return (f"<details id='card'><summary>Model card</summary><dl class='kv'>{rows}</dl>"
            "</details>")


def _approvals_section(report: EvidenceReport) -> str:
    approvals = report.explanation.answers["approvals"]["approvals"]
    if not approvals:
        body = "<p>No approval or denial recorded on the ledger for this release.</p>"
    else:
        rows = []
        for x in approvals:
            bound = (_badge("this content", "yes") if x["bound_to_current_content"] else
                     _badge("other content", "stale"))
            counted = ("<span class='muted'>not known</span>" if x.get("counted") is None
                       else _badge("yes", "yes") if x["counted"] else
                       f"{_badge('no', 'no')} {escape(str(x['not_counted_because']))}")
            source = x["source"] if isinstance(x["source"], Mapping) else {}
            src = ", ".join(f"{label(str(k))} {value(str(k), v)}"
                            for k, v in sorted(source.items()) if v not in (None, ""))
            rows.append(
                f"<tr><td>{escape(str(x['actor_role']))}</td><td>{escape(str(x['actor_id']))}"
                f"</td><td>{escape(str(x['approval_state']))}</td><td>{instant(x['timestamp'])}"
                f"</td><td>{ident(x['release_digest'], 8)} {bound}</td><td>{counted}</td>"
                f"<td class='nw'>{ident(x['event_id'], 8)} "
                f"<span class='muted'>seq {x['seq']}</span></td>"
                f"<td>{src or ABSENT}</td></tr>")
        body = ("<table><tr><th>role</th><th>who</th><th>decision</th><th>when</th>"
                "<th>content approved</th><th>counted by the gate</th><th>event</th>"
                "<th>source</th></tr>" + "".join(rows) + "</table>")
    standing = report.standing
    failures = ("<ul>" + "".join(f"<li>gate: {escape(f)}</li>" for f in standing.failures)
                + "</ul>") if standing is not None and standing.failures else ""
    return (f"<details id='approvals'><summary>Approvals and denials ({len(approvals)})"
            f"</summary>{body}{failures}</details>")


def _gates_section(report: EvidenceReport) -> str:
    decisions = report.explanation.answers["evaluation"]["gate_decisions"]
    items = []
    for d in decisions:
        word, kind, meaning = decision_meaning(d)
        items.append(f"<li>{instant(d['timestamp'])} {escape(str(d.get('environment')))}: "
                     f"{_badge(word, kind)} {escape(meaning)}; decision "
                     f"{ident(d.get('decision_id'), 8)}, policy "
                     f"{ident(d.get('policy_digest'), 8)}, event {ident(d['event_id'], 8)} "
                     f"<span class='muted'>seq {d['seq']}</span>{_violations(d)}</li>")
    body = ("<ul class='plain'>" + "".join(items) + "</ul>" if items else
            "<p>No gate evaluation recorded on the ledger for this release.</p>")
    return (f"<details id='gates'><summary>Gate decisions ({len(decisions)})</summary>{body}"
            "</details>")


def _diff_section(report: EvidenceReport) -> str:
    env = escape(report.environment)
    diff = report.diff
    if diff is None:
        why = escape(report.diff_note) if report.diff_note else \
            "no earlier production release to compare with"
        return (f"<details id='diff'><summary>What changed since the previous {env} release"
                f"</summary><p>No diff: {why}.</p></details>")
    rows = "".join(
        f"<tr><td>{escape(c.section)}</td><td>{label(c.field)}</td>"
        f"<td>{value(c.field, c.before)}</td><td>{value(c.field, c.after)}</td></tr>"
        for c in diff.changes)
    table = ("<table><tr><th>section</th><th>field</th><th>before</th><th>after</th></tr>"
             f"{rows}</table>" if rows else
             "<p>No changes in data, code, config, artifact or card.</p>")
    notes = "".join(f"<p class='muted'>note: {escape(n)}</p>" for n in diff.notes)
    return (f"<details id='diff'><summary>What changed since the previous {env} release "
            f"({len(diff.changes)} field(s))</summary><p>{escape(diff.release_a)} → "
            f"{escape(diff.release_b)}; content {ident(diff.digest_a, 8)} → "
            f"{ident(diff.digest_b, 8)}</p>{table}{notes}</details>")


def _events_section(report: EvidenceReport) -> str:
    trail = report.explanation.answers["audit_trail"]
    rows = "".join(
        f"<tr><td>{e['seq']}</td><td>{label(str(e['event_type']))}</td>"
        f"<td>{instant(e['timestamp'])}</td><td>{ident(e['event_id'], 8)}</td>"
        f"<td>{ident(e.get('commit'), 8)}</td><td>{ident(e.get('leaf_hash'), 8)}</td></tr>"
        for e in trail["events"])
    return (f"<details id='events'><summary>Ledger events ({len(trail['events'])})</summary>"
            "<table><tr><th>seq</th><th>event</th><th>when</th><th>event id</th><th>commit</th>"
            f"<th>leaf hash</th></tr>{rows}</table><p>Verify with "
            f"<code>{escape(str(trail['how_to_verify']))}</code>; latest checkpoint: "
            f"{value('checkpoint', trail['latest_checkpoint'])}</p></details>")


def _metrics(report: EvidenceReport) -> str:
    env = escape(report.environment)
    if report.diff is None:
        why = escape(report.diff_note) if report.diff_note else "no earlier release"
        return (f"<section id='metrics'><h2>Metrics against the previous {env} release</h2>"
                f"<p>Nothing to compare: {why}.</p></section>")
    return (f"<section id='metrics'><h2>Metrics against the previous {env} release, "
            f"{_release(report.diff.release_a)}</h2>"
            + render_metric_chart(report.diff.metrics, report.diff.release_a,
                                  report.diff.release_b) + "</section>")


def render_html(report: EvidenceReport) -> str:
    exp = report.explanation
    a = exp.answers
    scope = f" for {escape(report.environment)}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Evidence report {escape(exp.release_id)}</title><style>{STYLE}</style>"
        "</head><body><main>",
        f"<header><h1>Evidence report: {escape(exp.release_id)}</h1><p class='sub'>Model "
        f"<code>{escape(exp.model_name)}</code>; approvals and gates{scope}; generated "
        f"{instant(report.generated_at)} from the verified ledger.</p></header>",
        "<section id='summary' aria-label='summary'>", _headline(report),
        "<div class='cards'>", _live_card(report), _gate_card(report),
        _approval_card(report), _rollback_card(report), _obligations_card(report),
        "</div></section>",
        "<section id='timeline'><h2>Timeline: what was live where</h2>",
        report.timeline_svg, "</section>",
        _metrics(report),
        "<section id='evidence'><h2>Evidence</h2>",
        _approvals_section(report), _gates_section(report), _diff_section(report),
        _events_section(report), _card_section(report),
        "<h3 class='q'>The six answers</h3>",
    ]
    parts += [_answer_section(key, question, a[key]) for key, question in QUESTIONS]
    parts.append("</section></main></body></html>")
    return "\n".join(parts)
