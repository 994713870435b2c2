"""Renderers for gate decisions: text, json, github, junit, markdown, sarif (one function each;
SARIF in ``governance.policy.sarif``).

Results are data (``GateDecision``); these only format them. ``github`` writes workflow
commands (``::error file=F,line=L,title=T::message``) escaped as GitHub's runner does
(actions/toolkit ``command.ts``: in the message ``%`` -> ``%25``, CR -> ``%0D``, LF -> ``%0A``;
in property values additionally ``:`` -> ``%3A`` and ``,`` -> ``%2C``), so nothing a release or
a policy writes can inject a second command or property; any other control character (an ANSI
escape the runner's log would interpret) is shown escaped. Text goes through
``governance.safe_text``: one record per line for the terminal, XML 1.0 characters only in JUnit,
markdown escaped for HTML and links.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from governance.errors import GovernanceError, Problem
from governance.policy.gates import GateDecision, Violation
from governance.policy.locate import locate
from governance.policy.metadata import Annotation
from governance.safe_text import escape_json, join_lines, md_code, md_text, one_line, xml_safe

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


_RUNNER_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}


def escape_data(text: str) -> str:
    """The runner's escaping (``%``, CR, LF); every other control character shown escaped."""
    return "".join(_RUNNER_ESCAPES.get(c) or one_line(c) for c in text)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int | None) -> str:
    props = ",".join(
        f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


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
    return join_lines(out)


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
    return escape_json(json.dumps(
        {"results": results, "summary": summary}, indent=2, sort_keys=True, ensure_ascii=False
    ))


# --- junit ----------------------------------------------------------------------------------------


def _xml(text: str) -> str:
    return xml_escape(xml_safe(text))


def _attr(text: str) -> str:
    return quoteattr(xml_safe(text))


def render_junit(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    suites = []
    total = failures = errors = 0
    for d in decisions:
        cases = []
        gate_ids = sorted(set(gates) | {v.gate_id for v in d.failures + d.warnings})
        suite_fail = suite_err = 0
        if d.undecided:
            cases.append(
                f'    <testcase classname={_attr(d.release_id)} name="decision">'
                f"<error message={_attr('could not decide')}>{_xml(d.undecided)}"
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
                        f"<failure message={_attr(fails[0].msg)} type={_attr(gate_id)}>"
                        f"{_xml(text)}</failure>"
                    )
                    suite_fail += 1
                if warns:
                    said = _xml("\n".join(v.msg for v in warns))
                    body += f"<system-out>{said}</system-out>"
                cases.append(
                    f"    <testcase classname={_attr(d.release_id)} name={_attr(gate_id)}>"
                    f"{body}</testcase>"
                )
        total += len(cases)
        failures += suite_fail
        errors += suite_err
        suite_name = d.release_id + (f" --env {d.environment}" if d.environment else "")
        suites.append(
            f"  <testsuite name={_attr(suite_name)} "
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


_md = md_text


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
                    f"| {_md(title)} ({md_code(v.gate_id)}) | {level} | {_md(v.msg)} | "
                    f"{_md(v.remediation)} |"
                )
            out.append("")
        for x in d.exceptions:
            v, w = x.get("violation", {}), x.get("waiver", {})
            out.append(
                f"- Waived {md_code(v.get('gate_id'))}: {_md(v.get('msg'))} — approver "
                f"{_md(w.get('approver'))}, expires {_md(w.get('expires'))}"
            )
        for p in d.pending:
            out.append(f"- {pending_word(p).capitalize()} {md_code(p.get('gate_id'))}: "
                       f"{_md(p.get('msg'))}")
        if not rows and not d.exceptions:
            out.append("All gates passed.")
        out.append("")
        out.append(
            f"<sub>decision {_md(d.record.get('decision_id'))} · policy "
            f"{_md(d.record.get('policy_digest'))} · engine "
            f"{_md((d.record.get('engine') or {}).get('name'))}</sub>"
        )
        out.append("")
    return "\n".join(out)


def render_sarif(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    from governance.policy.sarif import render_sarif as sarif  # its own module (SARIF 2.1.0)

    return sarif(decisions, gates)




# --- a check that stopped before any decision -------------------------------------------------
# An invalid release, an unknown one or a missing configuration stops ``check`` before any gate
# runs. CI still reads the machine formats: each gets a well-formed, non-empty document with a
# located error element (a failing JUnit testcase, a ``::error file=,line=`` annotation), never
# an empty file that a JUnit reader counts as "no tests, no failures".


def _problems(err: GovernanceError) -> list[Problem]:
    listed = list(getattr(err, "problems", None) or [])
    return listed or [Problem(file="", line=None, path="$", message=err.message, hint=err.hint)]


def _stopped_json(err: GovernanceError, refs: Sequence[str]) -> str:
    doc = {"results": [], "refs": list(refs), "error": {
        "exit_code": err.exit_code, "message": err.message, "hint": err.hint,
        "problems": [p.to_json() for p in _problems(err)]},
        "summary": {"releases": 0, "passed": 0, "denied": 0, "undecided": 0,
                    "invalid": len(refs) or 1}}
    return escape_json(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))


def _stopped_github(err: GovernanceError, _refs: Sequence[str]) -> str:
    return "\n".join(
        workflow_command("error", p.message + (f"\nhint: {p.hint}" if p.hint else ""),
                         file=p.file or None, line=p.line, title=f"governance: {p.path}")
        for p in _problems(err))


def _stopped_junit(err: GovernanceError, refs: Sequence[str]) -> str:
    problems = _problems(err)
    kind = "failure" if err.exit_code == 1 else "error"
    cases = []
    for p in problems:
        where = p.location() if p.file else p.path
        file_attr = f" file={_attr(p.file)}" if p.file else ""
        line_attr = f' line="{p.line}"' if p.line is not None else ""
        text = p.render() if p.file else p.message + (f" ({p.hint})" if p.hint else "")
        cases.append(f"    <testcase classname={_attr('governance.check')} name={_attr(where)}"
                     f"{file_attr}{line_attr}><{kind} message={_attr(p.message)} "
                     f"type={_attr(type(err).__name__)}>{_xml(text)}</{kind}></testcase>")
    failures, errors = (len(cases), 0) if kind == "failure" else (0, len(cases))
    name = one_line(" ".join(refs)) or "governance check"  # as typed: bidi shown escaped
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="governance gates" tests="{len(cases)}" failures="{failures}" '
            f'errors="{errors}">\n'
            f'  <testsuite name={_attr(name)} tests="{len(cases)}" failures="{failures}" '
            f'errors="{errors}">\n' + "\n".join(cases) + "\n  </testsuite>\n</testsuites>")


def _stopped_markdown(err: GovernanceError, refs: Sequence[str]) -> str:
    verdict = "Invalid" if err.exit_code == 1 else "Could not check"
    what = ", ".join(md_code(r) for r in refs) or "the request"
    out = ["## Governance gates", "", f"### ❌ {verdict}: {what}", "",
           "| File | Line | Field | Problem |", "|---|---|---|---|"]
    out += [f"| {_md(p.file)} | {_md(p.line)} | {md_code(p.path)} | "
            f"{_md(p.message + (f' ({p.hint})' if p.hint else ''))} |" for p in _problems(err)]
    return "\n".join([*out, "", _md(err.message), ""])


STOPPED_RENDERERS: dict[str, Callable[[GovernanceError, Sequence[str]], str]] = {
    "json": _stopped_json,
    "github": _stopped_github,
    "junit": _stopped_junit,
    "markdown": _stopped_markdown,
}
