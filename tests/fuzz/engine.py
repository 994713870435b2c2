"""Drive many generated cases through one workspace and tally what happened.

Used by the CI test (tests/fuzz/test_fuzz.py, a few hundred cases) and by ``bench.fuzz``
(>= 200,000 cases over several workers). Generation is Hypothesis with the generate phase only
(no shrinking in bulk runs), a fixed seed and no example database, so a run is reproducible.
"""

from __future__ import annotations

import re
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.harness import Case, Finding, Workspace, judge
from tests.fuzz.known_defects import known_defect
from tests.fuzz.strategies import STRATEGIES


@dataclass
class Tally:
    cases: int = 0
    exits: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # finding kind -> cases
    known: Counter[str] = field(default_factory=Counter)  # known defect id -> cases
    unknown: dict[str, list[str]] = field(default_factory=dict)  # signature -> examples
    seconds: float = 0.0
    slowest: float = 0.0

    def merge(self, other: Tally) -> None:
        self.cases += other.cases
        self.exits.update(other.exits)
        self.kinds.update(other.kinds)
        self.known.update(other.known)
        for sig, examples in other.unknown.items():
            self.unknown.setdefault(sig, []).extend(examples[: 3 - len(self.unknown[sig])])
        self.seconds += other.seconds
        self.slowest = max(self.slowest, other.slowest)

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "exits": dict(self.exits), "kinds": dict(self.kinds),
                "known": dict(self.known), "unknown": self.unknown, "seconds": self.seconds,
                "slowest": self.slowest}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Tally:
        return cls(doc["cases"], Counter(doc["exits"]), Counter(doc["kinds"]),
                   Counter(doc["known"]), doc["unknown"], doc["seconds"], doc["slowest"])


def signature(finding: Finding) -> str:
    detail = finding.detail
    for cut in (" at ", " (", "'", '"', "\\", " in position"):
        detail = detail.split(cut)[0]
    detail = re.sub(r"\d+", "N", re.sub(r"#x[0-9a-fA-F]+", "#x..", detail))
    return f"{finding.entry}|{finding.kind}|{detail[:120]}"


def record(tally: Tally, case: Case, findings: list[Finding], exit_code: int | None,
           seconds: float) -> list[Finding]:
    """Count one case; returns the findings no known defect explains."""
    tally.cases += 1
    tally.exits["hang" if exit_code is None else str(exit_code)] += 1
    tally.seconds += seconds
    tally.slowest = max(tally.slowest, seconds)
    unknown = []
    for finding in findings:
        tally.kinds[finding.kind] += 1
        defect = known_defect(case, finding)
        if defect is not None:
            tally.known[defect] += 1
            continue
        unknown.append(finding)
        tally.kinds["unknown"] += 1
        examples = tally.unknown.setdefault(signature(finding), [])
        if len(examples) < 3:
            examples.append(f"{finding.line()}\n    case: {case.describe()[:1500]}\n"
                            f"    output: {finding.output[-600:]!r}")
    return unknown


def run_entry(workspace: Workspace, entry: str, examples: int, seed_value: int,
              timeout: float, on_case: Callable[[Case, list[Finding]], None] | None = None
              ) -> Tally:
    tally = Tally()
    strategy = STRATEGIES[entry](str(workspace.ci))

    @seed(seed_value)
    @settings(max_examples=examples, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategy)
    def body(case: Case) -> None:
        started = time.perf_counter()
        outcome = workspace.run(case, timeout)
        findings = judge(case, outcome)
        unknown = record(tally, case, findings, outcome.exit_code,
                         time.perf_counter() - started)
        if on_case is not None:
            on_case(case, unknown)

    try:
        body()
    except Exception as err:  # noqa: BLE001 - a harness failure is reported, not fatal
        tally.unknown.setdefault(f"{entry}|harness-error|{type(err).__name__}", []).append(
            "".join(traceback.format_exception(err)[-4:])[:3000])
        tally.kinds["harness-error"] += 1
    return tally
