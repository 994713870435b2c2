"""The default gates' own Rego unit tests (policies/**/*_test.rego), run through the engine.

One pytest case per ``test_*`` rule, so a failing Rego test shows up by name with file:line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.policy.bundle import load_bundle
from governance.policy.engines.port import RegoTestResult
from governance.policy.engines.regopy_engine import RegopyEngine
from governance.policy.testing import discover_tests

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = load_bundle(ROOT / "policies", display_prefix="policies")
TESTS = discover_tests(BUNDLE)


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, RegoTestResult]]:
    engine = RegopyEngine(timeout_s=60)
    try:
        yield {f"{r.package}.{r.name}": r for r in engine.run_tests(BUNDLE)}
    finally:
        engine.close()


def test_every_policy_has_tests_beside_it() -> None:
    files = {f.path for f in BUNDLE.files}
    for f in BUNDLE.policies():
        assert f.path.replace(".rego", "_test.rego") in files, f"{f.path} has no *_test.rego"


def test_there_are_many_tests() -> None:
    assert len(TESTS) >= 60


@pytest.mark.parametrize("test", TESTS, ids=lambda t: f"{t.package}.{t.name}")
def test_rego(test, results: dict[str, RegoTestResult]) -> None:  # type: ignore[no-untyped-def]
    r = results[f"{test.package}.{test.name}"]
    assert r.outcome == "pass", f"{r.location.render()}: {r.outcome}: {r.message} {r.prints}"
