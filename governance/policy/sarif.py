"""``check --format sarif``: gate decisions as a SARIF 2.1.0 log for GitHub code scanning.

One run (tool ``governance``); every gate is a rule (``ruleId`` = the gate id, its METADATA
title and description, the policy file and line where it is defined); every failed or warning
finding is a result located at the field of the release document it is about (file and line,
found as ``--format github`` finds them), with the remediation in its message. The level comes
from the finding: a denial is ``error``, a warning ``warning``. A release that could not be
decided is an ``error`` result of the rule ``governance/undecided`` and marks the invocation as
unsuccessful; an invalid release (schema, digest) is one ``error`` result per problem, of the
rule ``governance/invalid-record``, so the log is well-formed whatever happened.

Spec: OASIS SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html);
what GitHub reads of it: https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
(``partialFingerprints`` keep an alert the same alert across runs; ``automationDetails.id``
separates readiness runs from each environment's). Tests validate every log against the
OASIS JSON schema (tests/data/sarif/).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from governance import __version__
from governance.errors import GovernanceError, InvalidInput, Problem
from governance.policy.gates import GateDecision, Violation
from governance.policy.locate import locate
from governance.policy.metadata import Annotation

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
UNDECIDED_RULE = "governance/undecided"
INVALID_RULE = "governance/invalid-record"
_LEVEL = {"deny": "error", "warn": "warning"}


def _uri(path: str | None) -> str | None:
    """A repository-relative path as a URI reference (percent-encoded, ``/`` separators)."""
    if not path:
        return None
    posix = PurePosixPath(Path(path).as_posix())
    if posix.is_absolute():
        try:
            posix = PurePosixPath(Path(path).resolve().relative_to(Path.cwd().resolve())
                                  .as_posix())
        except ValueError:
            return "file://" + quote(posix.as_posix())
    return quote(posix.as_posix())


def _location(file: str | None, line: int | None) -> list[dict[str, Any]]:
    uri = _uri(file)
    if uri is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if not uri.startswith("file://"):
        physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return [{"physicalLocation": physical}]


def _fingerprint(*parts: str | None) -> str:
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _rule(gate_id: str, annotation: Annotation | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": gate_id, "name": gate_id}
    if annotation is not None:
        rule["shortDescription"] = {"text": annotation.title or gate_id}
        if annotation.description:
            rule["fullDescription"] = {"text": annotation.description}
        severity = annotation.custom.get("severity")
        rule["properties"] = {"policy_file": annotation.file, "policy_line": annotation.line,
                              **({"severity": severity} if isinstance(severity, str) else {})}
    else:
        rule["shortDescription"] = {"text": gate_id}
    return rule


def _own_rules() -> list[dict[str, Any]]:
    return [
        {"id": UNDECIDED_RULE, "name": "undecided",
         "shortDescription": {"text": "The gates could not decide (counts as a denial)"},
         "defaultConfiguration": {"level": "error"}},
        {"id": INVALID_RULE, "name": "invalid-record",
         "shortDescription": {"text": "A governed document is invalid (schema, digest)"},
         "defaultConfiguration": {"level": "error"}},
    ]


def _violation_result(d: GateDecision, v: Violation, gates: dict[str, Annotation],
                      index: dict[str, int]) -> dict[str, Any]:
    file, line = locate(d, v, gates)
    return {
        "ruleId": v.gate_id,
        "ruleIndex": index[v.gate_id],
        "level": _LEVEL.get(v.level, "warning"),
        "message": {"text": f"{d.release_id}: {v.msg}\nremediation: {v.remediation}"},
        "locations": _location(file, line),
        "partialFingerprints": {"governanceFinding/v1": _fingerprint(
            d.release_id, d.environment, v.gate_id, v.document, v.field, v.msg)},
        "properties": {"release_id": d.release_id, "model_name": d.model_name,
                       "environment": d.environment, "severity": v.severity,
                       "remediation": v.remediation, "document": v.document,
                       "field": v.field, "decision_id": d.record.get("decision_id")},
    }


def _category(decisions: Sequence[GateDecision]) -> str:
    envs = sorted({d.environment for d in decisions if d.environment})
    return "governance/" + ("-".join(envs) if envs else "readiness") + "/"


def _log(results: list[dict[str, Any]], rules: list[dict[str, Any]], *, successful: bool,
         notifications: Iterable[str] = (), category: str = "governance/readiness/"
         ) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": successful}
    notes = [{"level": "error", "message": {"text": text}} for text in notifications]
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "governance", "version": __version__,
                                "semanticVersion": __version__, "rules": rules}},
            "automationDetails": {"id": category},
            "originalUriBaseIds": {"%SRCROOT%": {
                "description": {"text": "The governed repository's root"}}},
            "invocations": [invocation],
            "results": results,
        }],
    }


def render_sarif(decisions: Sequence[GateDecision], gates: dict[str, Annotation]) -> str:
    ids = sorted(set(gates) | {v.gate_id for d in decisions for v in d.failures + d.warnings})
    rules = [_rule(g, gates.get(g)) for g in ids] + _own_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    undecided = []
    for d in decisions:
        if d.undecided is not None:
            undecided.append(f"{d.release_id}: could not decide: {d.undecided}")
            results.append({
                "ruleId": UNDECIDED_RULE, "ruleIndex": index[UNDECIDED_RULE], "level": "error",
                "message": {"text": f"{d.release_id}: could not decide: {d.undecided} (fail "
                                    "closed: counts as a denial)"},
                "locations": _location(d.files.get("release"), None),
                "properties": {"release_id": d.release_id, "environment": d.environment},
            })
            continue
        results += [_violation_result(d, v, gates, index) for v in d.failures + d.warnings]
    log = _log(results, rules, successful=not undecided and bool(decisions),
               notifications=undecided, category=_category(decisions))
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False)


def render_sarif_failure(err: GovernanceError, environment: str | None = None) -> str:
    """The log when ``check`` stopped before deciding: an invalid release's problems as
    located results, any other failure as a notification (never an empty or broken file)."""
    rules = _own_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    problems: list[Problem] = err.problems if isinstance(err, InvalidInput) else []
    results = [{
        "ruleId": INVALID_RULE, "ruleIndex": index[INVALID_RULE], "level": "error",
        "message": {"text": f"{p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "")},
        "locations": _location(p.file if not p.file.startswith("<") else None, p.line),
        "partialFingerprints": {"governanceFinding/v1": _fingerprint(p.file, p.path,
                                                                     p.message)},
    } for p in problems]
    summary = err.message if problems else err.diagnostics()
    category = "governance/" + (environment or "readiness") + "/"
    return json.dumps(_log(results, rules, successful=False, notifications=[summary],
                           category=category), indent=2, sort_keys=True, ensure_ascii=False)
