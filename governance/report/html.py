"""Self-contained HTML rendering of the evidence report (no scripts, no external assets)."""

from __future__ import annotations

from html import escape
from typing import Any

from governance.audit.diff import render_text as diff_text
from governance.audit.explain import QUESTIONS
from governance.audit.queries import decision_word
from governance.report.evidence import EvidenceReport

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}.approved{color:#1a7f37}.denied,.stale{color:#cf222e}
.pending{color:#9a6700}pre{background:#f6f8fa;padding:.8em;overflow:auto}
td table{margin:0;font-size:.85em}td{overflow-wrap:anywhere}
"""


def _v(value: Any) -> str:
    if value in (None, "", [], {}):
        return "-"
    if isinstance(value, (list, tuple)):
        return escape("; ".join(str(v) for v in value))
    return escape(str(value))


def _nested(value: Any) -> str:
    """An answer's value as HTML: rows of records as a small table, mappings as key: value
    lines, lists joined; every text escaped."""
    if value in (None, "", [], {}):
        return "-"
    if isinstance(value, (list, tuple)) and all(isinstance(v, dict) for v in value):
        columns: list[str] = []
        for row in value:
            columns += [k for k in row if k not in columns]
        head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_nested(row.get(c))}</td>" for c in columns)
                       + "</tr>" for row in value)
        return f"<table><tr>{head}</tr>{body}</table>"
    if isinstance(value, dict):
        return "<br>".join(f"{escape(str(k))}: {_nested(v)}" for k, v in value.items())
    return _v(value)


def render_html(report: EvidenceReport) -> str:
    exp, card = report.explanation, report.card
    a = exp.answers
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Evidence report {escape(exp.release_id)}</title><style>{STYLE}</style>"
             f"</head><body><h1>Evidence report: {escape(exp.release_id)}</h1>"
             f"<p>Model <code>{escape(exp.model_name)}</code>, generated "
             f"{escape(report.generated_at)}.</p>",
             "<h2>Timeline</h2>", report.timeline_svg, "<h2>The six answers</h2><ol>"]
    for key, question in QUESTIONS:
        parts.append(f"<li><b>{escape(question)}</b><table>")
        for field, value in a[key].items():
            parts.append(f"<tr><th>{escape(field)}</th><td>{_nested(value)}</td></tr>")
        parts.append("</table></li>")
    parts.append("</ol><h2>Model card</h2><table>")
    rows = [("purpose", card.purpose), ("owner", card.owner),
            ("escalation path", card.escalation_path), ("intended use", card.intended_use),
            ("not for use", card.not_for_use), ("training data window",
                                                card.training_data_window),
            ("training data scope", card.training_data_scope),
            ("exclusions", card.training_data_exclusions),
            ("known limitations", card.known_limitations), ("evaluated at", card.evaluated_at)]
    parts += [f"<tr><th>{escape(k)}</th><td>{_v(v)}</td></tr>" for k, v in rows]
    parts.append("</table><table><tr><th>metric</th><th>value</th></tr>")
    parts += [f"<tr><td>{escape(k)}</td><td>{_v(v)}</td></tr>" for k, v in card.metrics.items()]
    for slice_name, values in card.subgroups.items():
        parts += [f"<tr><td>{escape(slice_name)}.{escape(k)}</td><td>{_v(v)}</td></tr>"
                  for k, v in values.items()]
    scope = f" for {escape(report.environment)}" if report.environment else ""
    parts.append(f"</table><h3>Approval status{scope} (derived from the ledger)</h3>")
    standing = report.standing
    if standing is not None and standing.undecided is not None:
        parts.append("<p><strong>Could not decide</strong> the approval status (counts as not "
                     f"approved): {escape(standing.undecided)}</p>")
    else:
        parts.append("<p>Counted by the <code>required_approvals</code> gate.</p><table><tr>"
                     "<th>role</th><th>status</th><th>counted</th><th>events</th>"
                     "<th>not counted (the gate's reason)</th></tr>")
        parts += [f"<tr><td>{escape(r.role)}</td><td class='{escape(r.status.split()[0])}'>"
                  f"{escape(r.label)}</td><td>{_v(r.actors)}</td><td>{_v(r.event_ids)}</td>"
                  f"<td>{_v([why for _, why in r.not_counted])}</td></tr>"
                  for r in report.roles]
        parts.append("</table>")
        if standing is not None and standing.failures:
            parts.append("<ul>" + "".join(f"<li>gate: {escape(f)}</li>"
                                          for f in standing.failures) + "</ul>")
    parts.append("<h2>Approvers</h2>")
    approvals = a["approvals"]["approvals"]
    if not approvals:
        parts.append("<p>No approval or denial recorded on the ledger for this release.</p>")
    else:
        parts.append("<table><tr><th>role</th><th>who</th><th>decision</th><th>when</th>"
                     "<th>bound to this content</th><th>event</th><th>source</th>"
                     "<th>counted by the gate</th></tr>")
        for x in approvals:
            bound = ("<span class='approved'>yes</span>" if x["bound_to_current_content"] else
                     f"<span class='stale'>no: {_v(x['release_digest'])}</span>")
            source = x["source"] if isinstance(x["source"], dict) else {}
            counted = ("not known" if x.get("counted") is None else "yes" if x["counted"]
                       else f"NO: {x['not_counted_because']}")
            parts.append(
                f"<tr><td>{_v(x['actor_role'])}</td><td>{_v(x['actor_id'])}</td>"
                f"<td>{_v(x['approval_state'])}</td><td>{_v(x['timestamp'])}</td>"
                f"<td>{bound}</td><td><code>{_v(x['event_id'])}</code> (seq {_v(x['seq'])})</td>"
                f"<td>{_v([f'{k}={v}' for k, v in sorted(source.items()) if v])}</td>"
                f"<td>{_v(counted)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Gate decision</h2>")
    decision = report.gate_decision
    if decision is None:
        parts.append("<p>No gate evaluation recorded on the ledger for this release.</p>")
    else:
        verdict = decision_word(decision)
        parts.append(f"<p>Decision <code>{_v(decision.get('decision_id'))}</code>: "
                     f"<b class='{'approved' if verdict == 'allow' else 'denied'}'>{verdict}</b>"
                     f" (policy bundle <code>{_v(decision.get('policy_digest'))}</code>, "
                     f"seq {_v(decision.get('seq'))})</p><ul>")
        for kind in ("deny", "warn"):
            for item in decision.get(kind) or []:
                if isinstance(item, dict):
                    parts.append(f"<li>{kind} <code>{_v(item.get('gate_id'))}</code>: "
                                 f"{_v(item.get('msg'))}</li>")
        parts.append("</ul>")
    env = escape(report.environment or "production")
    parts.append(f"<h2>What changed since the previous {env} release</h2>")
    if report.diff:
        parts.append(f"<p>Compared with <code>{escape(report.diff.release_a)}</code>.</p>"
                     f"<pre>{escape(diff_text(report.diff))}</pre>")
    else:
        parts.append(f"<p>No diff: {escape(report.diff_note)}.</p>" if report.diff_note else
                     "<p>No earlier production release to compare with.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
