"""Findings already filed in issue 16 and being fixed on other branches.

One entry per defect. A finding matching an entry is counted as known (and reported with the
entry's id), not failed; delete an entry when its fix merges, and the fuzz test then holds the
fix. Anything not matched here fails tests/fuzz/test_fuzz.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzz.harness import Case, Finding


@dataclass(frozen=True)
class KnownDefect:
    id: str
    issue_text: str  # the line of issue 16 it is
    matches: Callable[[Case, Finding], bool]


def _internal(entry: str | None, *needles: str) -> Callable[[Case, Finding], bool]:
    def match(case: Case, finding: Finding) -> bool:
        return (finding.kind == "internal" and (entry is None or finding.entry == entry)
                and any(n in finding.output for n in needles))
    return match


def _wrong_pass(entry: str, why: str) -> Callable[[Case, Finding], bool]:
    def match(case: Case, finding: Finding) -> bool:
        return (finding.kind == "wrong-pass" and finding.entry == entry
                and case.why_invalid == why)
    return match


# Every defect of issue 16 the harness first ran into is fixed on main (the long run of
# bench/results/fuzz.md was made before the fixes merged): nothing is allowed through.
KNOWN: list[KnownDefect] = [
]


def known_defect(case: Case, finding: Finding) -> str | None:
    for defect in KNOWN:
        if defect.matches(case, finding):
            return defect.id
    return None
