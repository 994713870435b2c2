"""Markdown rendering of the evidence report (for a PR comment, a wiki or an archive)."""

from __future__ import annotations

from typing import Any

from governance.audit.diff import render_text as diff_text
from governance.audit.explain import QUESTIONS, render_text
from governance.report.evidence import EvidenceReport


def _cell(value: Any) -> str:
    text = "-" if value in (None, "", [], {}) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: EvidenceReport) -> str:
    exp, card = report.explanation, report.card
    lines = [f"# Evidence report: {exp.release_id}", "",
             f"Model `{exp.model_name}`, generated {report.generated_at}.", "",
             "## The six answers", "", "```", render_text(exp), "```", "",
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
    lines += ["", "### Approval status (derived from the ledger)", "",
              "| role | status | who | events |", "|---|---|---|---|"]
    lines += [f"| {r.role} | {r.status} | {_cell(', '.join(r.actors))} | "
              f"{_cell(', '.join(r.event_ids))} |" for r in report.roles]
    lines += ["", "## Gate decision", ""]
    decision = report.gate_decision
    if decision is None:
        lines.append("No gate evaluation recorded on the ledger for this release.")
    else:
        lines.append(f"Decision `{decision.get('decision_id', '-')}`: "
                     f"**{'allow' if decision.get('allow') else 'deny'}** "
                     f"(environment {decision.get('environment') or '-'}, policy bundle "
                     f"`{decision.get('policy_digest') or '-'}`, ledger seq {decision['seq']}).")
        for kind in ("deny", "warn"):
            for item in decision.get(kind) or []:
                if isinstance(item, dict):
                    lines.append(f"- {kind} `{item.get('gate_id', '-')}`: {item.get('msg', '')}")
    lines += ["", "## What changed since the previous production release", ""]
    lines += ["```", diff_text(report.diff), "```"] if report.diff else \
        ["No earlier production release to compare with."]
    lines += ["", "## Timeline", "", "(see the HTML report for the picture)", ""]
    lines += ["## Questions answered", ""] + [f"{i}. {q}" for i, (_, q) in
                                              enumerate(QUESTIONS, 1)]
    return "\n".join(lines) + "\n"
