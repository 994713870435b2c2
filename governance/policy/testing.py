"""Rego unit tests: discover ``test_*`` rules in ``*_test.rego`` and summarise engine results.

OPA's own ``opa test`` finds rules named ``test_*`` (and skips ``todo_test_*``); rego-cpp has no
test runner, so discovery is done here from the source and each rule is queried through the
engine (``x := data.<package>.<rule>``): ``true`` passes, ``false``/undefined fails, an engine
error is an error. The same discovery drives ``governance policy test`` for every engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from governance.policy.bundle import PolicyBundle
from governance.policy.engines.port import RegoTestResult

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_TEST_RULE = re.compile(r"^((?:todo_)?test_\w+)\b(?=\s*(?:if\b|\{|:=|=|contains\b))", re.MULTILINE)


@dataclass(frozen=True)
class DiscoveredTest:
    package: str
    name: str
    file: str
    line: int
    skip: bool


def package_of(source: str) -> str | None:
    m = _PACKAGE.search(source)
    return m.group(1) if m else None


def discover_tests(bundle: PolicyBundle) -> list[DiscoveredTest]:
    found: list[DiscoveredTest] = []
    for f in bundle.files:
        if not f.is_test:
            continue
        pkg = package_of(f.source)
        if pkg is None:
            continue
        seen: set[str] = set()
        for m in _TEST_RULE.finditer(f.source):
            name = m.group(1)
            if name in seen:  # an incremental definition: one rule, reported once
                continue
            seen.add(name)
            line = f.source.count("\n", 0, m.start()) + 1
            skip = name.startswith("todo_")
            found.append(DiscoveredTest(pkg, name, f.path, line, skip))
    return found


@dataclass(frozen=True)
class TestSummary:
    results: tuple[RegoTestResult, ...]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.outcome == "pass")

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.outcome == "fail")

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.outcome == "error")

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.failed == 0 and self.errors == 0


def summarise(results: Iterable[RegoTestResult]) -> TestSummary:
    return TestSummary(tuple(results))
