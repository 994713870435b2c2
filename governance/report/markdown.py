"""Markdown rendering of the evidence report (for a PR comment, a wiki or an archive).

Every recorded value goes through ``governance.safe_text``: text as ``md_text`` (no raw HTML, no
link or image syntax, one table cell), identifiers as ``md_code``, the text answers inside a
``md_fence`` longer than any backtick run they hold, so a card field or a rollback reason can
neither inject HTML or a ``javascript:`` link nor break out of its block.
"""

from __future__ import annotations

from typing import Any

from governance.audit.diff import render_text as diff_text
from governance.audit.explain import QUESTIONS, render_text
from governance.audit.queries import decision_word
from governance.report.evidence import EvidenceReport
from governance.safe_text import md_code, md_fence, md_text

_cell = md_text


def _source(source: Any) -> str:
    """PR, review, CI run and commits of an approval, as ``key=value`` pairs."""
    if not isinstance(source, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(source.items()) if v not in (None, ""))


def _bound(approval: Any) -> str:
    if approval["bound_to_current_content"]:
        return "yes"
    return "NO: " + _cell(approval["release_digest"])


def _counted(approval: Any) -> str:
    """yes, NO with the gate's reason, or not known (the gate's count could not be had)."""
    if approval.get("counted") is None:
        return "not known"
    return "yes" if approval["counted"] else "NO: " + _cell(approval["not_counted_because"])


def render_markdown(report: EvidenceReport) -> str:
    exp, card = report.explanation, report.card
    lines = [f"# Evidence report: {md_text(exp.release_id)}", "",
             f"Model {md_code(exp.model_name)}, generated {md_text(report.generated_at)}.", "",
             "## The six answers", "", *md_fence(render_text(exp)), "",
             "## Model card", "", "| field | value |", "|---|---|"]
    rows = [("purpose", card.purpose), ("owner", card.owner),
            ("escalation path", ", ".join(card.escalation_path)),
            ("intended use", "; ".join(card.intended_use)),
            ("not for use", "; ".join(card.not_for_use)),
            ("training data window", card.training_data_window and
             f"{card.training_data_window.get('start')} to {card.training_data_window.get('end')}"),
            ("training data scope", card.training_data_scope),
            ("exclusions", "; ".join(card.training_data_exclusions)),
            ("known limitations", "; ".join(card.known_limitations)),
            ("evaluated at", card.evaluated_at)]
    lines += [f"| {k} | {_cell(v)} |" for k, v in rows]
    lines += ["", "| metric | value |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in card.metrics.items()]
    for slice_name, values in card.subgroups.items():
        lines += [f"| {_cell(slice_name)}.{_cell(k)} | {_cell(v)} |" for k, v in values.items()]
    scope = f" for {md_text(report.environment)}"
    lines += ["", f"### Approval status{scope} (derived from the ledger)", ""]
    standing = report.standing
    if standing is not None and standing.undecided is not None:
        lines.append(f"**Could not decide** the approval status (counts as not approved): "
                     f"{_cell(standing.undecided)}")
    else:
        lines += ["Counted by the `required_approvals` gate, as `governance check --env` counts "
                  "them.", "",
                  "| role | status | counted | events | not counted (the gate's reason) |",
                  "|---|---|---|---|---|"]
        lines += [f"| {_cell(r.role)} | {_cell(r.label)} | {_cell(', '.join(r.actors))} | "
                  f"{_cell(', '.join(r.event_ids))} | "
                  f"{_cell('; '.join(why for _, why in r.not_counted))} |"
                  for r in report.roles]
        if standing is not None and standing.failures:
            lines += [""] + [f"- gate: {_cell(f)}" for f in standing.failures]
    lines += ["", "## Approvers", ""]
    approvals = exp.answers["approvals"]["approvals"]
    if not approvals:
        lines.append("No approval or denial recorded on the ledger for this release.")
    else:
        lines += ["| role | who | decision | when | bound to this content | event | source "
                  "| counted by the gate |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {_cell(a['actor_role'])} | {_cell(a['actor_id'])} | "
                  f"{_cell(a['approval_state'])} | {_cell(a['timestamp'])} | "
                  f"{_bound(a)}"
                  f" | {_cell(a['event_id'])} (seq {_cell(a['seq'])}) | "
                  f"{_cell(_source(a['source']))} "
                  f"| {_counted(a)} |"
                  for a in approvals]
    lines += ["", "## Gate decision", ""]
    decision = report.gate_decision
    if decision is None:
        lines.append("No gate evaluation recorded on the ledger for this release.")
    else:
        lines.append(f"Decision {md_code(decision.get('decision_id', '-'))}: "
                     f"**{md_text(decision_word(decision))}** "
                     f"(environment {_cell(decision.get('environment'))}, policy bundle "
                     f"{md_code(decision.get('policy_digest') or '-')}, ledger seq "
                     f"{_cell(decision['seq'])}).")
        for kind in ("deny", "warn"):
            for item in decision.get(kind) or []:
                if isinstance(item, dict):
                    lines.append(f"- {kind} {md_code(item.get('gate_id', '-'))}: "
                                 f"{md_text(item.get('msg', ''))}")
    env = md_text(report.environment)
    lines += ["", f"## What changed since the previous {env} release", ""]
    if report.diff:
        lines += [f"Compared with {md_code(report.diff.release_a)}.", "",
                  *md_fence(diff_text(report.diff))]
    else:
        lines.append(f"No diff: {md_text(report.diff_note)}." if report.diff_note else
                     "No earlier production release to compare with.")
    lines += ["", "## Timeline", ""]
    lines += [f"- live in {_cell(s['environment'])} from {_cell(s['since'])} to "
              f"{_cell(s['until'] or 'now')} ({_cell(s['via'])} by {_cell(s['by'])}, "
              f"seq {_cell(s['seq'])})"
              for s in exp.answers["deployed"]["live"]]
    for r in exp.answers["rollback"]["rollbacks"]:
        lines.append(f"- rollback in {_cell(r['environment'])} at {_cell(r['timestamp'])}: "
                     f"{_cell(r['from_release'])} -> {_cell(r['to_release'] or 'switched off')} "
                     f"(incident {_cell(r['incident'])}, seq {_cell(r['seq'])})")
    lines += ["", "(the HTML report draws every release of the model, lane per environment)", ""]
    lines += ["## Questions answered", ""] + [f"{i}. {q}" for i, (_, q) in
                                              enumerate(QUESTIONS, 1)]
    return "\n".join(lines) + "\n"
