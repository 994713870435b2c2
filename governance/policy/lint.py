"""``governance policy lint``: constructs the gates must not use, each with its reason.

- Rego v0 syntax (rule bodies without ``if``, partial sets without ``contains``): regopy reads
  ``deny[msg] { ... }`` silently as something else (an object), so a v0 gate never denies.
- ``%q`` in ``sprintf``: regopy does not implement it; it shifts the remaining arguments and, with
  strict built-in errors off, drops the whole message (and with it the deny).
- ``semver.*``: regopy's ``semver.compare("1.10.0", "1.9.0")`` is -1; version comparisons are
  precomputed by the input builder instead.
- ``with input as ...`` (replacing the whole input): crashes regopy 1.5.2 (SIGSEGV); replace
  fields instead (``with input.release as ...``).
- ``with X as data.a.b`` or another rule reference: regopy 1.5.2 evaluates the rule wrongly;
  bind the value to a local first.
- a ``deny_*``/``warn_*`` gate without ``# METADATA`` carrying title, description and
  custom.gate_id (DESIGN section 5);
- a gate rule of ``governance.gates`` that ``governance.decision`` does not collect (the
  decision names its gates: iterating the package is ~3x slower in regopy).
Every finding names file:line:col.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from governance.policy.bundle import PolicyBundle, PolicyFile
from governance.policy.metadata import GATE_RULE, parse_annotations


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int
    col: int
    rule: str
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.rule}: {self.message}"


_CHECKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "rego-v0",
        re.compile(r"^[A-Za-z_][\w.]*\[[^\]]*\]\s*\{"),
        "Rego v0 partial rule `name[x] { ... }`; write `name contains x if { ... }` (regopy "
        "silently reads the v0 form as something else)",
    ),
    (
        "rego-v0",
        re.compile(r"^(?!package\b|import\b|default\b)[A-Za-z_][\w.]*(\([^)]*\))?\s*\{"),
        "Rego v0 rule body without `if`; write `name if { ... }` (Rego v1)",
    ),
    (
        "sprintf-q",
        re.compile(r"sprintf\([^)]*%q"),
        "`%q` in sprintf: regopy does not implement it and shifts the arguments; use %v",
    ),
    (
        "semver",
        re.compile(r"\bsemver\.\w+\s*\("),
        "semver.* gives wrong answers in regopy (1.10.0 < 1.9.0); compare versions in the "
        "input builder (input.versions) instead",
    ),
    (
        "with-input-document",
        re.compile(r"\bwith\s+input\s+as\b"),
        "`with input as ...` crashes regopy 1.5.2; replace fields: `with input.release as ...`",
    ),
    (
        "with-rule-reference",
        re.compile(
            r"\bwith\s+[\w.]+\s+as\s+(data\.[\w.]+|[A-Za-z_]\w*\.[A-Za-z_][\w.]*)\s*($|with\b|[};])"
        ),
        "a `with` value given as a rule reference is mis-evaluated by regopy 1.5.2; bind it to a "
        "local first (`c := fx.config` then `with input.config as c`)",
    ),
)


# Rules that look inside string literals (the sprintf format); the others see code only.
_IN_STRINGS = {"sprintf-q"}


def _split_line(line: str) -> tuple[str, str]:
    """(the line without its comment, the same with string contents blanked), positions kept.

    Knows ``"..."`` strings with backslash escapes and `` `raw` `` strings, so a ``#`` or a
    quote inside a string neither ends the code nor hides what follows it, and text inside a
    string (``"semver.compare("``) is not taken for a call."""
    code: list[str] = []
    masked: list[str] = []
    quote = ""  # '"' or '`' while inside a string
    escaped = False
    for ch in line:
        if quote:
            code.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
                masked.append(ch)
                continue
            masked.append(" ")
            continue
        if ch == "#":
            break
        if ch in ('"', "`"):
            quote = ch
        code.append(ch)
        masked.append(ch)
    return "".join(code), "".join(masked)


def lint_file(f: PolicyFile) -> list[LintFinding]:
    findings: list[LintFinding] = []
    lines = f.source.splitlines()
    for n, raw in enumerate(lines, 1):
        code, masked = _split_line(raw)
        for rule, pattern, message in _CHECKS:
            for m in pattern.finditer(code if rule in _IN_STRINGS else masked):
                findings.append(LintFinding(f.path, n, m.start() + 1, rule, message))
                break
    if f.is_test:
        return findings
    annotated = {a.target: a for a in parse_annotations(f.path, f.source)}
    seen: set[str] = set()
    for n, raw in enumerate(lines, 1):
        head = re.match(r"^([A-Za-z_]\w*)\s+(contains|:=|=|if|\[)", raw)
        if not head or not GATE_RULE.fullmatch(head.group(1)) or head.group(1) in seen:
            continue
        name = head.group(1)
        seen.add(name)
        a = annotated.get(name)
        if a is None:
            findings.append(
                LintFinding(
                    f.path, n, 1, "gate-metadata",
                    f"gate {name} has no # METADATA block (title, description, custom.gate_id)",
                )
            )
            continue
        missing = [
            k
            for k, v in (
                ("title", a.title),
                ("description", a.description),
                ("custom.gate_id", a.gate_id),
            )
            if not v
        ]
        if a.error:
            findings.append(
                LintFinding(
                    f.path, n, 1, "gate-metadata", f"METADATA of {name} is not YAML: {a.error}"
                )
            )
        elif missing:
            findings.append(
                LintFinding(
                    f.path, n, 1, "gate-metadata",
                    f"METADATA of gate {name} lacks {', '.join(missing)}",
                )
            )
    return findings


def _unwired(bundle: PolicyBundle) -> list[LintFinding]:
    """Gate rules of governance.gates that governance.decision does not collect."""
    decision = next(
        (f for f in bundle.policies() if re.search(r"^package governance\.decision\s*$",
                                                   f.source, re.MULTILINE)),
        None,
    )
    if decision is None:
        return []
    wired = set(re.findall(r"\bgates\.((?:deny|warn|pending)_\w+)", decision.source))
    findings = []
    for f in bundle.policies():
        if not re.search(r"^package governance\.gates\s*$", f.source, re.MULTILINE):
            continue
        seen: set[str] = set()
        for n, line in enumerate(f.source.splitlines(), 1):
            m = re.match(r"^((?:deny|warn|pending)_\w+)\s+contains\b", line)
            if m and m.group(1) not in wired and m.group(1) not in seen:
                seen.add(m.group(1))
                findings.append(
                    LintFinding(
                        f.path, n, 1, "gate-unwired",
                        f"{m.group(1)} is not collected by {decision.path}; add it to "
                        "raw_failures/raw_warnings/pending there or it never decides anything",
                    )
                )
    return findings


def lint_bundle(bundle: PolicyBundle) -> list[LintFinding]:
    findings: list[LintFinding] = []
    for f in bundle.files:
        findings.extend(lint_file(f))
    findings.extend(_unwired(bundle))
    return findings
