"""Only the named module produces an approval outcome (issue 20 item 1).

The required-approvals gate (``policies/gates/approvals.rego``) decides; Python reads its
verdict in one place, ``governance/policy/approval_standing.py`` (``ApprovalStanding.outcome``;
``policy/gates.py`` reads the whole gate run's pass / deny / undecided).
This test reads every module of ``governance/`` and fails when another one starts producing an
approval outcome, in any of the shapes a second decider took before:

- an enum-like class with ``APPROVED`` and ``DENIED`` members (``counting.Outcome``);
- a function named ``decide`` (``counting.decide``);
- the words approved / denied / undecided given to something named ``outcome`` (an assignment,
  a keyword argument, a dict key, or what an ``outcome`` function or property returns).

Comparing with those words (``standing.outcome == "approved"``) is reading a verdict, not
producing one, and is allowed anywhere. Each shape is also fed to the checker as a snippet, so
the check cannot pass vacuously.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "governance"
# The readers of the gates' verdict: approval_standing (the required-approvals rule's) and
# gates.GateDecision.outcome (pass / deny / undecided of every gate, approvals included).
AUTHORITY = {"policy/approval_standing.py", "policy/gates.py"}
WORDS = frozenset({"approved", "denied", "undecided"})


def _words_in(node: ast.AST | None) -> bool:
    return node is not None and any(isinstance(n, ast.Constant) and n.value in WORDS
                                    for n in ast.walk(node))


def _named_outcome(target: ast.AST) -> bool:
    return (isinstance(target, ast.Name) and "outcome" in target.id) or (
        isinstance(target, ast.Attribute) and "outcome" in target.attr)


def producers(source: str) -> list[str]:
    """How ``source`` produces an approval outcome (empty: it does not)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            members = {t.id for stmt in node.body if isinstance(stmt, ast.Assign | ast.AnnAssign)
                       for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                       if isinstance(t, ast.Name)}
            if {"APPROVED", "DENIED"} <= members:
                found.append(f"line {node.lineno}: class {node.name} enumerates outcomes")
        elif isinstance(node, ast.FunctionDef) and node.name == "decide":
            found.append(f"line {node.lineno}: def decide")
        elif isinstance(node, ast.FunctionDef) and node.name == "outcome":
            if any(isinstance(n, ast.Return) and _words_in(n.value) for n in ast.walk(node)):
                found.append(f"line {node.lineno}: outcome() returns a verdict")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_named_outcome(t) for t in targets) and _words_in(node.value):
                found.append(f"line {node.lineno}: assigns a verdict to an outcome")
        elif isinstance(node, ast.keyword) and node.arg == "outcome" and _words_in(node.value):
            found.append(f"line {node.value.lineno}: outcome= a verdict")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "outcome" and _words_in(value):
                    found.append(f"line {node.lineno}: 'outcome': a verdict")
    return found


def test_only_the_authority_produces_an_approval_outcome() -> None:
    found = {str(p.relative_to(PACKAGE)): producers(p.read_text(encoding="utf-8"))
             for p in sorted(PACKAGE.rglob("*.py"))}
    assert {path for path, hits in found.items() if hits} == AUTHORITY, {
        path: hits for path, hits in found.items() if hits and path not in AUTHORITY}


SECOND_DECIDERS = [
    "from enum import StrEnum\nclass Outcome(StrEnum):\n    APPROVED = 'approved'\n"
    "    DENIED = 'denied'\n",
    "def decide(policy, facts):\n    return None\n",
    "def f(n):\n    outcome = 'approved' if n else 'denied'\n    return outcome\n",
    "def f(n):\n    return Verdict(outcome='denied', reasons=())\n",
    "def f(n):\n    return {'outcome': 'undecided'}\n",
    "class V:\n    @property\n    def outcome(self):\n        return 'approved'\n",
    "class V:\n    def set(self):\n        self.outcome = 'approved'\n",
]


@pytest.mark.parametrize("source", SECOND_DECIDERS)
def test_the_check_finds_a_second_decider(source: str) -> None:
    assert producers(source)


def test_reading_a_verdict_is_not_producing_one() -> None:
    assert producers("def f(s):\n    return s.outcome == 'approved'\n") == []
    assert producers("if standing.outcome == 'undecided':\n    raise X\n") == []
