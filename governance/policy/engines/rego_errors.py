"""rego-cpp errors (S-expressions with byte offsets) translated to ``file:line:col`` messages.

regopy reports compile errors as the textual form of a trieste AST, e.g.::

    (rego-errorseq
      (error 6:t.rego|37|2
        (errormsg 27:Invalid assignment operator)
        (errorast |37|2 (rego-assign |37|2))
        (rego-errorcode)))

A token ``N:text`` is a length-prefixed string; ``file|offset|length`` (or ``|offset|length``,
meaning "the same file") is a source location given as a byte offset. This module parses that
form and turns offsets into 1-based line and column using the module source, so that a policy
author sees ``policies/latency.rego:4:12: Invalid assignment operator``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from governance.policy.engines.port import SourceLocation


@dataclass
class _Node:
    kind: str
    file: str | None = None
    offset: int | None = None
    length: int | None = None
    text: str | None = None
    children: list[_Node] = field(default_factory=list)


@dataclass(frozen=True)
class RegoDiagnostic:
    message: str
    code: str
    location: SourceLocation | None
    snippet: str = ""

    def render(self) -> str:
        where = f"{self.location.render()}: " if self.location else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{where}{self.message}{code}"


def _parse(text: str) -> list[_Node]:
    pos = 0
    n = len(text)
    roots: list[_Node] = []
    stack: list[_Node] = []

    def read_location(node: _Node, start: int) -> int:
        # "|offset|length"
        p = start + 1
        q = text.index("|", p)
        node.offset = int(text[p:q])
        r = q + 1
        while r < n and text[r].isdigit():
            r += 1
        node.length = int(text[q + 1 : r])
        return r

    while pos < n:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif ch == "(":
            end = pos + 1
            while end < n and not text[end].isspace() and text[end] not in "()":
                end += 1
            node = _Node(text[pos + 1 : end])
            if stack:
                stack[-1].children.append(node)
            else:
                roots.append(node)
            stack.append(node)
            pos = end
        elif ch == ")":
            if stack:
                stack.pop()
            pos += 1
        elif ch == "|" and stack:
            pos = read_location(stack[-1], pos)
        elif ch.isdigit():
            colon = text.find(":", pos)
            if colon == -1 or not text[pos:colon].isdigit():
                pos += 1
                continue
            size = int(text[pos:colon])
            value = text[colon + 1 : colon + 1 + size]
            pos = colon + 1 + size
            if not stack:
                continue
            if pos < n and text[pos] == "|":  # a file name followed by its location
                stack[-1].file = value
                pos = read_location(stack[-1], pos)
            else:
                stack[-1].text = value
        else:
            pos += 1
    return roots


def _walk(node: _Node) -> list[_Node]:
    out = [node]
    for c in node.children:
        out.extend(_walk(c))
    return out


def line_col(source: str, byte_offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a UTF-8 byte offset."""
    prefix = source.encode("utf-8")[:byte_offset].decode("utf-8", "replace")
    line = prefix.count("\n") + 1
    col = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, col


def looks_like_error(text: str) -> bool:
    """regopy sometimes returns an error AST as an *ok* output string (e.g. recursion)."""
    stripped = text.lstrip()
    return stripped.startswith("(error") or stripped.startswith("(rego-errorseq")


def translate(
    text: str, source_of: Callable[[str], str | None] | None = None
) -> list[RegoDiagnostic]:
    """All errors in an S-expression error text, located when the source is known."""
    try:
        roots = _parse(text)
    except (ValueError, IndexError):
        return [RegoDiagnostic(text.strip(), "", None)]
    diags: list[RegoDiagnostic] = []
    for root in roots:
        for node in _walk(root):
            if node.kind != "error":
                continue
            message = ""
            code = ""
            snippet = ""
            for child in node.children:
                if child.kind == "errormsg":
                    message = child.text or ""
                elif child.kind == "errorcode" or child.kind == "rego-errorcode":
                    code = child.text or ""
                elif child.kind == "errorast":
                    snippet = " ".join(
                        n.text for n in _walk(child) if n.text and n.kind != "errorast"
                    )
            location = None
            if node.file is not None:
                src = source_of(node.file) if source_of else None
                if src is not None and node.offset is not None:
                    line, col = line_col(src, node.offset)
                    location = SourceLocation(node.file, line, col)
                else:
                    location = SourceLocation(node.file)
            diags.append(RegoDiagnostic(message or "error", code, location, snippet))
    if not diags:
        diags.append(RegoDiagnostic(text.strip() or "unknown engine error", "", None))
    return diags


# --- runtime errors: rego-cpp names the failing term, not where it is ----------------------

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.M)
_GATE_HEAD = re.compile(r"^((?:deny|warn|pending)_\w+)\b", re.M)
_TOP_LEVEL = re.compile(r"^[^\s#}]", re.M)


def _char_line_col(source: str, at: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    return source.count("\n", 0, at) + 1, at - (source.rfind("\n", 0, at) + 1) + 1


@dataclass(frozen=True)
class GateRule:
    """One definition of a gate rule (incremental rules have several): where its body is."""

    package: str
    rule: str
    file: str
    line: int  # the head's line, 1-based
    start: int  # character offsets of the definition in the file's source
    end: int

    @property
    def ref(self) -> str:
        return f"{self.package}.{self.rule}"


def gate_rules(files: Sequence[tuple[str, str]]) -> list[GateRule]:
    """Every ``deny_*``/``warn_*``/``pending_*`` definition written at the start of a line in
    the (path, source) modules, with the span up to the next top-level statement."""
    out: list[GateRule] = []
    for path, source in files:
        pkg = _PACKAGE.search(source)
        if pkg is None:
            continue
        tops = [m.start() for m in _TOP_LEVEL.finditer(source)] + [len(source)]
        for head in _GATE_HEAD.finditer(source):
            end = next(t for t in tops if t > head.start())
            out.append(GateRule(pkg.group(1), head.group(1), path,
                                _char_line_col(source, head.start())[0], head.start(), end))
    return out


def locate_term(term: str, spans: Sequence[tuple[str, str, int, int]]
                ) -> SourceLocation | None:
    """Where ``term`` (a failing term's source text, as rego-cpp prints it) occurs, when it
    occurs exactly once in the (path, source, start, end) spans; None when absent or
    ambiguous (a guess would point an author at the wrong line)."""
    term = term.strip()
    if len(term) < 2:
        return None
    found: list[SourceLocation] = []
    for path, source, start, end in spans:
        at = source.find(term, start, end)
        while at != -1:
            line, col = _char_line_col(source, at)
            found.append(SourceLocation(path, line, col))
            if len(found) > 1:
                return None
            at = source.find(term, at + 1, end)
    return found[0] if found else None
