"""The fuzz harness in CI (issue 16, item 4): a bounded, reproducible run per entry point.

Each entry point gets a fixed number of Hypothesis examples with ``derandomize=True`` and no
example database, so every run draws the same cases. A case fails the test when the harness
finds anything tests/fuzz/known_defects.py does not list: an internal error, an uncaught
exception, a hang, an exit code outside 0-3, a refusal without a message, a pass on invalid
input, unparsable JSON output. Hypothesis then shrinks the case and prints it (the reproducer).
The long run is ``python -m bench.fuzz`` (BENCHMARKS.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import ENTRY_POINTS, Case, Workspace, build_template, judge
from tests.fuzz.known_defects import KNOWN, known_defect
from tests.fuzz.strategies import STRATEGIES

# examples per entry point: about 230 cases; 12 s wall (10 s CPU) for this module on a quiet
# 2-core machine, the prepared repository (built once) included; 7 minutes at load 11.
EXAMPLES = {"validate": 40, "check": 8, "release-new": 25, "approve": 15, "live": 40,
            "audit-query": 40, "runtime": 20, "ledger-append": 15}
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    for tool in ("git", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the prepared repository needs it")
    base = tmp_path_factory.mktemp("fuzz")
    template = build_template(base / "template")
    return Workspace(template, base / "worker")


def test_every_entry_point_has_a_strategy_and_a_budget() -> None:
    assert set(STRATEGIES) == set(ENTRY_POINTS) == set(EXAMPLES)
    assert len({d.id for d in KNOWN}) == len(KNOWN), "one entry per known defect"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_fuzz(workspace: Workspace, entry: str) -> None:
    strategy = STRATEGIES[entry](str(workspace.ci))

    @settings(max_examples=EXAMPLES[entry], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def body(data: st.DataObject) -> None:
        case: Case = data.draw(strategy, label="case")
        outcome = workspace.run(case, TIMEOUT)
        unknown = [f for f in judge(case, outcome) if known_defect(case, f) is None]
        assert not unknown, "\n".join(
            [f.line() for f in unknown]
            + [f"exit {outcome.exit_code}", f"case: {case.describe()}",
               f"output: {(outcome.stdout + outcome.stderr)[-1500:]!r}"])

    body()


def test_the_harness_catches_what_it_looks_for(workspace: Workspace, tmp_path: Path) -> None:
    """The oracle can fail: an invalid document passed, a crash, a hang, a silent refusal."""
    from tests.fuzz.harness import Outcome

    invalid = Case("validate", ["validate"], may_pass=False, why_invalid="schema")
    assert [f.kind for f in judge(invalid, Outcome(0, "valid\n", "", 0.0))] == ["wrong-pass"]
    assert [f.kind for f in judge(invalid, Outcome(3, "", "internal error: X: y\n", 0.0))] == [
        "internal"]
    assert [f.kind for f in judge(invalid, Outcome(None, "", "", 0.0, hang=True))] == ["hang"]
    assert [f.kind for f in judge(invalid, Outcome(1, "", "", 0.0))] == ["silent"]
    assert [f.kind for f in judge(invalid, Outcome(1, "", "x\x1b[2J\n", 0.0))] == [
        "raw-control"]
    # and a real run: the valid repository validates, a damaged release.yaml does not
    ok = workspace.run(Case("validate", ["validate"]), TIMEOUT)
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    broken = workspace.run(Case("validate", ["validate"], {
        "releases/fraud-risk/fraud-risk-2026-03-28-01/release.yaml": b"kind: Release\n"},
        may_pass=False), TIMEOUT)
    assert broken.exit_code == 1 and "release.yaml" in broken.stderr + broken.stdout
    # the file is put back after the case
    again = workspace.run(Case("validate", ["validate"]), TIMEOUT)
    assert again.exit_code == 0, again.stdout + again.stderr


def test_the_oracle_reads_yaml_as_the_contract_says() -> None:
    from tests.fuzz import oracle

    model = (Path(__file__).resolve().parents[1] / "data" / "valid" / "model.yaml").read_bytes()
    assert oracle.document_is_valid("Model", model)
    assert oracle.document_is_valid("Model", model + b"title: Demo\tmodel\n")  # tab in a scalar
    assert not oracle.document_is_valid("Model", model + b"owner: again\n")  # duplicate key
    assert not oracle.document_is_valid("Model", b"\xef\xbb\xbf" + model)  # BOM
    assert not oracle.document_is_valid("Model", model.replace(b"kind: Model", b"kind: [Model]"))
    assert not oracle.document_is_valid("Model", model + b"x: &x {self: *x}\n")
    assert oracle.time_is_valid("2026-04-10T09:14:11Z") and oracle.time_is_valid("30d")
    assert not oracle.time_is_valid("2026-02-30") and oracle.hostile_time("۶૧s")
    assert oracle.evaluation_problem(b'{"metrics": {"auc": 0.9, "auc": 0.1}}') == "duplicate-keys"
    assert oracle.evaluation_problem(b'{"metrics": {"auc": NaN}}') == "not-json"
    assert oracle.evaluation_problem(b'{"metrics": {"auc": 0.9}}') == ""
