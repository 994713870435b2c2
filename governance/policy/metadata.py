"""``# METADATA`` annotations of Rego modules (OPA's annotation format, YAML in comments).

OPA exposes annotations through ``opa inspect -a`` and ``rego.metadata``; rego-cpp does not, so
they are read here, once, for every engine: ``governance policy lint`` requires title,
description and custom.gate_id on every gate rule, and reports point GitHub annotations at the
gate's rule when a violation has no better location. Format:
https://www.openpolicyagent.org/docs/latest/policy-language/#annotations
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from governance.policy.bundle import PolicyBundle
from governance.yaml_source import YamlProblem, parse_yaml_text

_RULE_HEAD = re.compile(r"^(default\s+)?([A-Za-z_]\w*)")
GATE_RULE = re.compile(r"^(deny|warn)_\w+\Z")


@dataclass(frozen=True)
class Annotation:
    file: str
    line: int  # the annotated rule's (or package's) line
    target: str  # rule name, or "package <name>"
    title: str = ""
    description: str = ""
    custom: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # YAML that did not parse

    @property
    def gate_id(self) -> str | None:
        value = self.custom.get("gate_id")
        return value if isinstance(value, str) else None


def parse_annotations(path: str, source: str) -> list[Annotation]:
    lines = source.splitlines()
    found: list[Annotation] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].lstrip().startswith("#"):
            text = lines[j].lstrip()[1:]
            body.append(text[1:] if text.startswith(" ") else text)
            j += 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        target = ""
        if j < len(lines):
            head = lines[j].strip()
            if head.startswith("package "):
                target = head
            else:
                m = _RULE_HEAD.match(head)
                target = m.group(2) if m else head
        error = ""
        doc: Any = {}
        try:  # the project's hardened loader: no alias bombs or duplicate keys here either
            doc = parse_yaml_text("\n".join(body), f"{path}:{i + 1} METADATA").data or {}
        except YamlProblem as err:
            error = err.problem.message
        if not isinstance(doc, dict):
            error, doc = error or "METADATA is not a mapping", {}
        custom = doc.get("custom") if isinstance(doc.get("custom"), dict) else {}
        found.append(
            Annotation(
                path,
                j + 1,
                target,
                str(doc.get("title") or ""),
                str(doc.get("description") or ""),
                dict(custom or {}),
                error,
            )
        )
        i = j
    return found


def bundle_annotations(bundle: PolicyBundle) -> list[Annotation]:
    out: list[Annotation] = []
    for f in bundle.policies():
        out.extend(parse_annotations(f.path, f.source))
    return out


def gate_annotations(bundle: PolicyBundle) -> dict[str, Annotation]:
    """gate_id -> the first annotated deny_* rule for it (where a gate is defined)."""
    gates: dict[str, Annotation] = {}
    for a in bundle_annotations(bundle):
        if a.gate_id and GATE_RULE.fullmatch(a.target):
            if a.gate_id not in gates or a.target.startswith("deny_"):
                gates.setdefault(a.gate_id, a)
    return gates
