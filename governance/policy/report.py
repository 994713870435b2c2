"""Renderers for gate decisions: text, json, github, junit, markdown, sarif (one function each;
SARIF in ``governance.policy.sarif``).

Results are data (``GateDecision``); these only format them. ``github`` writes workflow
commands (``::error file=F,line=L,title=T::message``) escaped as GitHub's runner does
(actions/toolkit ``command.ts``: in the message ``%`` -> ``%25``, CR -> ``%0D``, LF -> ``%0A``;
in property values additionally ``:`` -> ``%3A`` and ``,`` -> ``%2C``), so nothing a release or
a policy writes can inject a second command or property.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from governance.policy.gates import GateDecision, Violation
from governance.policy.metadata import Annotation

# --- shared wording ---------------------------------------------------------------------------


def pending_word(p: Mapping[str, Any]) -> str:
    """``satisfied`` or ``pending`` for a readiness approval line: the gate says which
    (``satisfied``); a policy written before it said so is read from its own have/need."""
    satisfied = p.get("satisfied")
    if not isinstance(satisfied, bool):
        have, need = p.get("have"), p.get("need")
        satisfied = isinstance(have, int) and isinstance(need, int) and have >= need
    return "satisfied" if satisfied else "pending"


def totals(decisions: Sequence[GateDecision]) -> dict[str, int]:
    """How many releases passed, were denied, could not be decided."""
    return {
        "releases": len(decisions),
        "passed": sum(1 for d in decisions if d.outcome == "pass"),
        "denied": sum(1 for d in decisions if d.outcome == "deny"),
        "undecided": sum(1 for d in decisions if d.outcome == "undecided"),
        "warnings": sum(len(d.warnings) for d in decisions),
    }


def render_totals(decisions: Sequence[GateDecision]) -> str:
    """The closing line of a run over several releases (``check --all``)."""
    t = totals(decisions)
    return (f"{t['releases']} release{'s' if t['releases'] != 1 else ''} checked: "
            f"{t['passed']} passed, {t['denied']} denied, {t['undecided']} could not be "
            f"decided; {t['warnings']} warning{'s' if t['warnings'] != 1 else ''}")


# --- GitHub workflow commands -----------------------------------------------------------------


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int | None) -> str:
    props = ",".join(
        f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


@lru_cache(maxsize=256)
def _yaml_doc(path: str) -> Any:
    from governance.yaml_source import load_yaml_file

    try:
        return load_yaml_file(Path(path))
    except Exception:  # noqa: BLE001 - a location is a nicety; never fail the report for it
        return None


def line_of(path: str, field: str) -> int | None:
    doc = _yaml_doc(path)
    if doc is None:
        return None
    probe = field
    while probe:
        line = doc.line_of(probe)
        if line is not None:
            return int(line)
        if probe == "$" or "." not in probe:
            break
        probe = probe.rsplit(".", 1)[0]
    return 1


def locate(
    decision: GateDecision, v: Violation, gates: dict[str, Annotation]
) -> tuple[str | None, int | None]:
    """Where a violation points: the field in the release's YAML, else the gate's rule."""
    file = decision.files.get(v.document)
    if file is not None and Path(file).is_file():
        return file, line_of(file, v.field)
    annotation = gates.get(v.gate_id)
    if annotation is not None:
        return annotation.file, annotation.line
    return decision.files.get("release"), None


def render_github(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    lines = []
    for d in decisions:
        if d.undecided is not None:
            lines.append(
                workflow_command(
                    "error",
                    f"{d.release_id}: could not decide: {d.undecided}",
                    file=d.files.get("release"),
                    title=f"governance: {d.release_id} undecided",
                )
            )
            continue
        for v in d.failures + d.warnings:
            file, line = locate(d, v, gates)
            lines.append(
                workflow_command(
                    "error" if v.level == "deny" else "warning",
                    f"{v.msg}\nremediation: {v.remediation}",
                    file=file,
                    line=line,
                    title=f"{v.gate_id} ({d.release_id})",
                )
            )
        for p in d.pending:
            lines.append(
                workflow_command(
                    "notice",
                    f"{pending_word(p)}: {p.get('msg')}",
                    file=d.files.get("release"),
                    title=f"{p.get('gate_id')} ({d.release_id})",
                )
            )
        if not d.failures and not d.undecided:
            lines.append(
                workflow_command(
                    "notice",
                    f"{d.release_id}: all gates passed ({d.mode})",
                    title="governance gates",
                )
            )
    return "\n".join(lines)


# --- text ---------------------------------------------------------------------------------------


def _headline(d: GateDecision) -> str:
    where = f"--env {d.environment}" if d.environment else "readiness"
    verdict = {"pass": "PASS", "deny": "DENY", "undecided": "COULD NOT DECIDE"}[d.outcome]
    return f"{verdict} {d.release_id} ({where})"


def render_text(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    out: list[str] = []
    for d in decisions:
        out.append(_headline(d))
        if d.undecided:
            out.append(f"  could not decide: {d.undecided}")
            out.append("  (fail closed: an undecided gate counts as a denial)")
            continue
        by_gate: dict[str, list[Violation]] = {}
        for v in d.failures + d.warnings:
            by_gate.setdefault(v.gate_id, []).append(v)
        for gate_id in sorted(by_gate):
            title = gates[gate_id].title if gate_id in gates else gate_id
            out.append(f"  {gate_id}: {title}")
            for v in by_gate[gate_id]:
                mark = "x" if v.level == "deny" else "!"
                out.append(f"    [{mark}] {v.msg}")
                out.append(f"        remediation: {v.remediation}")
        for x in d.exceptions:
            v, w = x.get("violation", {}), x.get("waiver", {})
            out.append(
                f"  waived {v.get('gate_id')}: {v.get('msg')} (approver {w.get('approver')}, "
                f"expires {w.get('expires')}, reason: {w.get('reason')})"
            )
        for p in d.pending:
            out.append(f"  {pending_word(p)} {p.get('gate_id')}: {p.get('msg')}")
        if not by_gate and not d.exceptions:
            out.append("  all gates passed")
    return "\n".join(out)


# --- json (conftest-like) -----------------------------------------------------------------------


def _conftest_result(v: Violation) -> dict[str, Any]:
    return {
        "msg": v.msg,
        "metadata": {
            "gate_id": v.gate_id,
            "severity": v.severity,
            "remediation": v.remediation,
            "document": v.document,
            "field": v.field,
        },
    }


def render_json(decisions: Sequence[GateDecision], _gates: dict[str, Annotation]) -> str:
    results = []
    for d in decisions:
        results.append(
            {
                "filename": d.files.get("release"),
                "namespace": "governance.decision",
                "release_id": d.release_id,
                "model_name": d.model_name,
                "environment": d.environment,
                "mode": d.mode,
                "outcome": d.outcome,
                "undecided": d.undecided,
                "failures": [_conftest_result(v) for v in d.failures],
                "warnings": [_conftest_result(v) for v in d.warnings],
                "exceptions": list(d.exceptions),
                "pending": list(d.pending),
                "decision": dict(d.record),
            }
        )
    summary = {k: v for k, v in totals(decisions).items() if k != "warnings"}
    return json.dumps(
        {"results": results, "summary": summary}, indent=2, sort_keys=True, ensure_ascii=False
    )


# --- junit ----------------------------------------------------------------------------------------


def render_junit(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    suites = []
    total = failures = errors = 0
    for d in decisions:
        cases = []
        gate_ids = sorted(set(gates) | {v.gate_id for v in d.failures + d.warnings})
        suite_fail = suite_err = 0
        if d.undecided:
            cases.append(
                f'    <testcase classname={quoteattr(d.release_id)} name="decision">'
                f"<error message={quoteattr('could not decide')}>{xml_escape(d.undecided)}"
                "</error></testcase>"
            )
            suite_err += 1
        else:
            for gate_id in gate_ids:
                fails = [v for v in d.failures if v.gate_id == gate_id]
                warns = [v for v in d.warnings if v.gate_id == gate_id]
                body = ""
                if fails:
                    text = "\n".join(f"{v.msg}\nremediation: {v.remediation}" for v in fails)
                    body = (
                        f"<failure message={quoteattr(fails[0].msg)} type={quoteattr(gate_id)}>"
                        f"{xml_escape(text)}</failure>"
                    )
                    suite_fail += 1
                if warns:
                    said = xml_escape("\n".join(v.msg for v in warns))
                    body += f"<system-out>{said}</system-out>"
                cases.append(
                    f"    <testcase classname={quoteattr(d.release_id)} name={quoteattr(gate_id)}>"
                    f"{body}</testcase>"
                )
        total += len(cases)
        failures += suite_fail
        errors += suite_err
        suite_name = d.release_id + (f" --env {d.environment}" if d.environment else "")
        suites.append(
            f"  <testsuite name={quoteattr(suite_name)} "
            f'tests="{len(cases)}" failures="{suite_fail}" errors="{suite_err}">\n'
            + "\n".join(cases)
            + "\n  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="governance gates" tests="{total}" failures="{failures}" '
        f'errors="{errors}">\n' + "\n".join(suites) + "\n</testsuites>"
    )


# --- markdown -------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    out = ["## Governance gates", ""]
    for d in decisions:
        icon = {"pass": "✅", "deny": "❌", "undecided": "⚠️"}[d.outcome]
        out.append(f"### {icon} {_md(_headline(d))}")
        out.append("")
        if d.undecided:
            out.append(f"**Could not decide** (counts as a denial): {_md(d.undecided)}")
            out.append("")
            continue
        rows = [(v, "deny" if v.level == "deny" else "warn") for v in d.failures + d.warnings]
        if rows:
            out.append("| Gate | Level | Finding | Remediation |")
            out.append("|---|---|---|---|")
            for v, level in rows:
                title = gates[v.gate_id].title if v.gate_id in gates else v.gate_id
                out.append(
                    f"| {_md(title)} (`{v.gate_id}`) | {level} | {_md(v.msg)} | "
                    f"{_md(v.remediation)} |"
                )
            out.append("")
        for x in d.exceptions:
            v, w = x.get("violation", {}), x.get("waiver", {})
            out.append(
                f"- Waived `{v.get('gate_id')}`: {_md(str(v.get('msg')))} — approver "
                f"{w.get('approver')}, expires {w.get('expires')}"
            )
        for p in d.pending:
            out.append(f"- {pending_word(p).capitalize()} `{p.get('gate_id')}`: "
                       f"{_md(str(p.get('msg')))}")
        if not rows and not d.exceptions:
            out.append("All gates passed.")
        out.append("")
        out.append(
            f"<sub>decision {d.record.get('decision_id')} · policy "
            f"{d.record.get('policy_digest')} · engine "
            f"{(d.record.get('engine') or {}).get('name')}</sub>"
        )
        out.append("")
    return "\n".join(out)


def render_sarif(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    from governance.policy.sarif import render_sarif as sarif  # its own module (SARIF 2.1.0)

    return sarif(decisions, gates)


RENDERERS: dict[str, Callable[[Sequence[GateDecision], dict[str, Annotation]], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
    "markdown": render_markdown,
    "sarif": render_sarif,
}
