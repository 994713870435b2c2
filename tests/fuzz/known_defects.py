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


KNOWN: list[KnownDefect] = [
    KnownDefect(
        "int-digits-limit",
        "an integer of 5,000 digits in release.yaml: internal error ValueError (4300 digits)",
        lambda case, finding: (finding.kind in ("internal", "uncaught") and "Exceeds the limit "
                               "(4300 digits)" in finding.output + finding.detail)),
    KnownDefect(
        "raw-control-in-output",
        "newlines and ANSI escapes in recorded fields reach the terminal raw",
        lambda case, finding: finding.kind == "raw-control"),
    KnownDefect(
        "negative-metric",
        "a negative latency_p95_ms in the release's metrics: validate says valid",
        lambda case, finding: (finding.kind == "wrong-pass"
                               and case.why_invalid == "negative latency/count metric")),
    KnownDefect(
        "non-string-keys",
        "model-card keys that are not strings (metrics: {1: 2}, ~: 2, true: 2) pass validate",
        lambda case, finding: (finding.kind == "wrong-pass"
                               and case.why_invalid == "non-string mapping key")),
    KnownDefect(
        "from-eval-deep-json",
        "100k-deep JSON in --from-eval (RecursionError)",
        _internal("release-new", "RecursionError")),
    KnownDefect(
        "from-eval-duplicate-keys",
        "duplicate keys in the --from-eval JSON are accepted",
        _wrong_pass("release-new", "evaluation file: duplicate-keys")),
    KnownDefect(
        "from-eval-evaluated-at",
        "release new writes evaluated_at: not a date and exits 0",
        _wrong_pass("release-new", "evaluation file: evaluated_at")),
    KnownDefect(
        "eval-metric-bounds",
        "item 2, semantic bounds: a negative latency or an absurd value (1e308) in --from-eval",
        _wrong_pass("release-new", "evaluation file: metric-range")),
    KnownDefect(
        "audit-limit-huge",
        "audit query --limit 99999999999999999999 (IntegrityError)",
        _internal("audit-query", "IntegrityError", "OverflowError: Python int too large")),
]


def known_defect(case: Case, finding: Finding) -> str | None:
    for defect in KNOWN:
        if defect.matches(case, finding):
            return defect.id
    return None
