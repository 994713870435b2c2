"""Fail closed: every way of not getting a clear answer denies (DESIGN section 5).

Each scenario runs through the real embedded engine (regopy in its worker process): a syntax
error, a runtime built-in error, infinite recursion, a slow policy (timeout), a killed worker,
an undefined decision, a missing policy directory, a malformed decision. None of them passes.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.errors import ConfigurationError
from governance.policy.bundle import load_bundle
from governance.policy.check import CheckOptions, run_check
from governance.policy.engines.port import EngineError
from governance.policy.engines.regopy_engine import RegopyEngine
from governance.policy.gates import interpret
from governance.repo import GovernedRepo

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 6, 1, tzinfo=UTC)
GOOD_RELEASE = "fraud-risk-2026-04-10-01"

DECISION = """package governance.decision

failures := [v | some v in data.governance.gates.deny_x]

warnings := []

exceptions := []

pending := []

allow := count(failures) == 0
"""


def policy_dir(tmp_path: Path, gate_body: str, decision: str = DECISION) -> Path:
    d = tmp_path / "policies"
    d.mkdir()
    (d / "decision.rego").write_text(decision)
    (d / "gate.rego").write_text(
        "package governance.gates\n\n# METADATA\n# title: t\n# description: d\n"
        "# custom:\n#   gate_id: x\n" + gate_body
    )
    return d


def check_with(tmp_path: Path, policies: Path, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    repo = GovernedRepo(ROOT)
    return run_check(
        repo,
        CheckOptions(
            refs=(GOOD_RELEASE,), policy_dir=policies, now=NOW, engine="regopy",
            timeout_s=timeout_s,
        ),
    )


def assert_undecided(outcome, needle: str) -> None:  # type: ignore[no-untyped-def]
    (decision,) = outcome.decisions
    assert decision.allow is False
    assert decision.outcome == "undecided"
    assert needle in (decision.undecided or ""), decision.undecided
    assert outcome.exit_code() == 3
    assert decision.record["error"] == decision.undecided


def test_the_control_policy_passes(tmp_path: Path) -> None:
    # the same harness with a policy that decides: proves the failures below are the cases'
    outcome = check_with(tmp_path, policy_dir(tmp_path, "deny_x contains 1 if { false }\n"))
    assert outcome.decisions[0].outcome == "pass"
    assert outcome.exit_code() == 0


def test_syntax_error_is_located_and_undecided(tmp_path: Path) -> None:
    outcome = check_with(tmp_path, policy_dir(tmp_path, "deny_x contains msg if { msg := \n}\n"))
    assert_undecided(outcome, "policies/gate.rego:")
    assert "Invalid assignment operator" in (outcome.decisions[0].undecided or "")


def test_runtime_builtin_error_is_undecided(tmp_path: Path) -> None:
    body = 'deny_x contains {"msg": "m"} if { to_number("not a number") > 1 }\n'
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, "eval_builtin_error")


def test_a_runtime_error_names_the_gate_rule_and_the_failing_term(tmp_path: Path) -> None:
    """rego-cpp reports a failing built-in with its term but no position: the engine finds
    the gate rule that fails on this input and, when the term is written once, its line and
    column (gate.rego: 7 header lines, the rule head on line 8)."""
    body = ('deny_x contains {"msg": "m"} if {\n  v := input.release.model_version\n'
            '  to_number("not a number") > 1\n}\n')
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, "policies/gate.rego:10:13: invalid syntax (at term "
                              '"not a number") [eval_builtin_error] (while evaluating deny_x '
                              "of package governance.gates, ")
    assert "policies/gate.rego:8)" in (outcome.decisions[0].undecided or "")


def test_a_runtime_error_on_an_input_value_points_at_the_rule(tmp_path: Path) -> None:
    """The failing term is a value from the input (not in the source): the rule's head."""
    body = 'deny_x contains {"msg": "m"} if {\n  to_number(input.release.model_name) > 1\n}\n'
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, "policies/gate.rego:8: invalid syntax (at term fraud-risk) "
                              "[eval_builtin_error] (while evaluating deny_x of package "
                              "governance.gates)")


def test_a_runtime_error_in_a_helper_is_found_in_the_bundle(tmp_path: Path) -> None:
    body = ('deny_x contains {"msg": "m"} if {\n  helper(1) > 1\n}\n\n'
            'helper(n) := to_number("twelve") if { n > 0 }\n')
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, 'policies/gate.rego:12:24: invalid syntax (at term "twelve")')
    assert "while evaluating deny_x of package governance.gates, " in (
        outcome.decisions[0].undecided or "")


def test_runtime_errors_are_located_once_each_and_at_most_a_few_times(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locating costs a probe worker: the same error on many inputs is probed once, and an
    engine stops probing after MAX_LOCATED distinct errors (the message then has no place)."""
    from governance.policy.engines import regopy_engine

    body = ('deny_x contains {"msg": "m"} if {\n'
            '  to_number(sprintf("x%v", [input.n])) > 1\n}\n')
    bundle = load_bundle(policy_dir(tmp_path, body))
    probes = []
    real = RegopyEngine._probe

    def counting(self, *args):  # type: ignore[no-untyped-def]
        probes.append(args)
        return real(self, *args)

    monkeypatch.setattr(RegopyEngine, "_probe", counting)
    monkeypatch.setattr(regopy_engine, "MAX_LOCATED", 2)
    with RegopyEngine(timeout_s=20) as engine:
        engine.load(bundle)
        messages = []
        for n in (1, 1, 1, 2, 3):
            with pytest.raises(EngineError) as failed:
                engine.evaluate("governance.decision", {"n": n})
            messages.append(str(failed.value))
    assert len(probes) == 2  # n=1 once, n=2 once; n=3 is past the limit
    assert all("policies/gate.rego:8: " in m for m in messages[:4]), messages
    assert "gate.rego" not in messages[4] and "(at term x3)" in messages[4]


def test_sprintf_q_does_not_drop_a_deny(tmp_path: Path) -> None:
    # without strict built-in errors regopy returns undefined here and the deny vanishes
    body = 'deny_x contains {"msg": sprintf("%q is %d", ["a", 5])} if { true }\n'
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, "could not decide")


def test_infinite_recursion_is_undecided(tmp_path: Path) -> None:
    body = "f(x) := f(x + 1)\n\ndeny_x contains y if { y := f(1) }\n"
    outcome = check_with(tmp_path, policy_dir(tmp_path, body))
    assert_undecided(outcome, "ecursion")


def test_slow_policy_times_out(tmp_path: Path) -> None:
    body = "deny_x contains n if { n := count([x | some x in numbers.range(1, 50000000)]) < 0 }\n"
    started = time.monotonic()
    outcome = check_with(tmp_path, policy_dir(tmp_path, body), timeout_s=1.0)
    assert time.monotonic() - started < 15
    assert_undecided(outcome, "did not answer within 1s")


def test_undefined_decision_is_undecided(tmp_path: Path) -> None:
    other = "package governance.other\n\nx := 1\n"
    d = policy_dir(tmp_path, "deny_x contains 1 if { false }\n", decision=other)
    outcome = check_with(tmp_path, d)
    assert_undecided(outcome, "could not decide")


def test_missing_decision_fields_are_undecided(tmp_path: Path) -> None:
    d = policy_dir(
        tmp_path, "deny_x contains 1 if { false }\n",
        decision="package governance.decision\n\nallow := true\n",
    )
    assert_undecided(check_with(tmp_path, d), "set is not a list")


def test_missing_policy_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        check_with(tmp_path, tmp_path / "nowhere")
    assert err.value.exit_code == 3


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (None, "expected an object"),
        ({"allow": "yes", "failures": [], "warnings": []}, "expected true or false"),
        (
            {"allow": True, "failures": [{"msg": "m", "gate_id": "g", "severity": "high",
                                          "remediation": "r"}], "warnings": []},
            "allow is true but 1 failure",
        ),
        ({"allow": False, "failures": [], "warnings": []}, "no failure says why"),
        ({"allow": False, "failures": [{"msg": "m"}], "warnings": []}, "lacks msg/gate_id"),
    ],
)
def test_malformed_decisions_are_rejected(value: object, needle: str) -> None:
    _, problems = interpret(value)
    assert any(needle in p for p in problems), problems


def _slow_bundle(tmp_path: Path):  # type: ignore[no-untyped-def]
    d = tmp_path / "slow"
    d.mkdir()
    (d / "p.rego").write_text(
        "package governance.decision\n\n"
        "allow := count([x | some x in numbers.range(1, input.n)]) > 0\n"
    )
    return load_bundle(d)


def test_killing_the_worker_mid_evaluation_fails_closed(tmp_path: Path) -> None:
    engine = RegopyEngine(timeout_s=60)
    try:
        engine.load(_slow_bundle(tmp_path))
        pid = engine.worker_pid
        assert pid is not None
        errors: list[EngineError] = []

        def evaluate() -> None:
            try:
                engine.evaluate("governance.decision", {"n": 80_000_000})
            except EngineError as err:
                errors.append(err)

        t = threading.Thread(target=evaluate)
        t.start()
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)  # the worker this test's engine started
        t.join(30)
        assert errors and errors[0].kind == "crash"
        assert "SIGKILL" in errors[0].message
        # the next evaluation gets a fresh worker and a real answer
        assert engine.evaluate("governance.decision", {"n": 3}).value == {"allow": True}
        assert engine.worker_pid not in (None, pid)
    finally:
        engine.close()


def test_worker_is_reused_across_evaluations(tmp_path: Path) -> None:
    engine = RegopyEngine()
    try:
        engine.load(_slow_bundle(tmp_path))
        pid = engine.worker_pid
        for n in range(1, 20):
            assert engine.evaluate("governance.decision", {"n": n}).value == {"allow": True}
        assert engine.worker_pid == pid
    finally:
        engine.close()


def test_segfaulting_test_module_is_an_error_not_a_pass(tmp_path: Path) -> None:
    d = tmp_path / "crash"
    shutil.copytree(ROOT / "policies", d)
    (d / "crash_test.rego").write_text(
        "package crash_test\n\nimport data.governance.lib\n\n"
        'test_crash if {\n\tlib.mode == "readiness" with input as {"environment": null}\n}\n'
    )
    engine = RegopyEngine(timeout_s=60)
    try:
        with pytest.raises(EngineError) as err:
            engine.run_tests(load_bundle(d))
        assert err.value.kind == "crash"
        assert "with input as" in err.value.hint
    finally:
        engine.close()


def test_pipelined_workers_decide_like_one_worker() -> None:
    from governance.lifecycle import LifecycleState
    from governance.policy.gates import GateRun
    from governance.policy.input import GateRequest

    repo = GovernedRepo(ROOT)
    bundle = load_bundle(ROOT / "policies")
    dirs = repo.release_dirs()
    request = GateRequest(now=NOW)

    def outcomes(workers: int) -> list[tuple[str, str, tuple[str, ...]]]:
        state = LifecycleState(production_env=repo.config.production_environment)
        run = GateRun(repo, bundle, RegopyEngine(), request, state)
        extra = [RegopyEngine() for _ in range(workers - 1)]
        try:
            loaded = [repo.load_release(d) for d in dirs] * 3  # more releases than workers
            return [
                (d.release_id, d.outcome, tuple(v.gate_id for v in d.failures))
                for d in run.evaluate_all(loaded, extra)
            ]
        finally:
            run.close()
            for e in extra:
                e.close()

    one = outcomes(1)
    assert outcomes(3) == one
    assert [r for r, _, _ in one] == [d.name for d in dirs] * 3


def test_gates_port_for_promotion() -> None:
    from governance.lifecycle import LifecycleState
    from governance.policy.port import gates_port

    repo = GovernedRepo(ROOT)
    port = gates_port(repo, engine="regopy")
    state = LifecycleState(production_env=repo.config.production_environment)
    verdict = port(repo.load_release(GOOD_RELEASE), "production", state)
    assert verdict.allow is False and verdict.undecided is None
    assert verdict.policy_digest and verdict.policy_digest.startswith("git-tree:")
    assert any(m.startswith("required_approvals:") for m in verdict.messages)
    assert verdict.summary["decision_id"]
