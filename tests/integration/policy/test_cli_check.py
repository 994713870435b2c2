"""``governance check`` and ``governance policy test|lint`` end to end on the reference history."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app

ROOT = Path(__file__).resolve().parents[3]
REGRESSED = "fraud-risk-2026-05-06-01"
CLEAN = "fraud-risk-2026-04-10-01"


@pytest.fixture(autouse=True)
def _in_reference_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GOVERNANCE_NOW", "2026-06-01T00:00:00Z")
    monkeypatch.setenv("GOVERNANCE_ENGINE", "regopy")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_regression_is_denied_naming_subgroup_delta_and_baseline() -> None:
    code, out = run("check", REGRESSED)
    assert code == 1, out
    assert out.startswith(f"DENY {REGRESSED} (readiness)")
    assert (
        "subgroup first_time_international_merchants: auc regressed from 0.86 (baseline "
        "fraud-risk-2026-04-10-01) to 0.81, delta -0.05 exceeds tolerance 0.02" in out
    )


def test_reference_readiness_decisions() -> None:
    expected = {
        "fraud-risk-2026-02-14-01": "pass",
        "fraud-risk-2026-03-28-01": "pass",
        CLEAN: "pass",
        REGRESSED: "deny",
        "support-assistant-2026-03-02-01": "pass",
        "support-assistant-2026-04-20-01": "pass",
    }
    code, out = run("check", "--all", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert {r["release_id"]: r["outcome"] for r in doc["results"]} == expected
    assert doc["summary"] == {"releases": 6, "passed": 5, "denied": 1, "undecided": 0}


def test_readiness_lists_approvals_as_pending_and_passes() -> None:
    code, out = run("check", CLEAN)
    assert code == 0, out
    assert "pending required_approvals: production: 0 of 1 approval(s) from risk_owner" in out


def test_promotion_without_approvals_is_denied() -> None:
    code, out = run("check", CLEAN, "--env", "production", "--approvals", "none")
    assert code == 1
    assert "no approval source was consulted" in out
    assert "production requires the release to be live in staging first" in out


def test_fail_on_warn() -> None:
    # readiness passes with a warning (its rollback target is not approved: no ledger here)
    assert run("check", CLEAN)[0] == 0
    assert run("check", CLEAN, "--fail-on-warn")[0] == 1


def test_json_carries_a_decision_record(tmp_path: Path) -> None:
    out_file = tmp_path / "decision.json"
    code, out = run("check", REGRESSED, "--format", "json", "--decision-out", str(out_file))
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert result["failures"][0]["metadata"]["gate_id"] == "subgroup_regression"
    record = json.loads(out_file.read_text())
    assert record == result["decision"]
    for key in ("decision_id", "timestamp", "path", "input", "input_digest", "result",
                "policy_digest", "engine", "data_digest", "bundles"):
        assert key in record
    assert record["path"] == "governance/decision"
    assert record["engine"]["name"] == "regopy"
    assert record["input"]["time"]["now"] == "2026-06-01T00:00:00+00:00"
    assert record["input"]["release"]["evaluation"]["completed_at"].endswith("+00:00")
    from governance.policy.decision_log import json_digest

    assert record["input_digest"] == json_digest(record["input"])


def test_github_annotations_point_at_the_yaml_line() -> None:
    code, out = run("check", REGRESSED, "--format", "github")
    assert code == 1
    error = next(line for line in out.splitlines() if line.startswith("::error "))
    assert f"file=releases/fraud-risk/{REGRESSED}/model-card.yaml,line=" in error
    assert "%0Aremediation%3A" not in error  # message part escapes only % CR LF
    assert "%0Aremediation: " in error


def test_junit_and_markdown() -> None:
    code, out = run("check", REGRESSED, "--format", "junit")
    assert code == 1
    suites = ET.fromstring(out)
    assert suites.get("failures") == "1"
    failed = [c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None]
    assert failed == ["subgroup_regression"]
    code, out = run("check", REGRESSED, "--format", "markdown")
    assert "| Subgroup regression against the baseline (`subgroup_regression`) | deny |" in out


def test_broken_policy_exits_3(tmp_path: Path) -> None:
    pol = tmp_path / "policies"
    pol.mkdir()
    (pol / "p.rego").write_text("package governance.decision\n\nallow := \n")
    result = CliRunner().invoke(app, ["check", CLEAN, "--policies", str(pol)])
    assert result.exit_code == 3
    assert "COULD NOT DECIDE" in result.stdout
    assert "p.rego:" in result.stdout


def test_missing_policy_dir_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", CLEAN, "--policies", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert "does not exist" in result.output


def test_unknown_release_and_environment_exit_1() -> None:
    assert run("check", "no-such-release")[0] == 1
    result = CliRunner().invoke(app, ["check", CLEAN, "--env", "moon"])
    assert result.exit_code == 1


@pytest.mark.slow
def test_policy_test_and_lint_pass_on_policies() -> None:
    code, out = run("policy", "test")
    assert code == 0, out
    assert " 0 failed, 0 errors" in out
    code, out = run("policy", "test", "--format", "json")
    doc = json.loads(out)
    assert doc["failed"] == 0 and doc["passed"] >= 60
    assert all(r["file"].endswith("_test.rego") and r["line"] for r in doc["results"])
    code, out = run("policy", "lint")
    assert code == 0, out


def test_policy_test_reports_failures_with_file_and_line(tmp_path: Path) -> None:
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "p.rego").write_text("package p\n\nx := 1\n")
    (pol / "p_test.rego").write_text(
        "package p_test\n\nimport data.p\n\ntest_ok if { p.x == 1 }\n\n"
        'test_bad if {\n\tprint("x is", p.x)\n\tp.x == 2\n}\n'
    )
    code, out = run("policy", "test", str(pol))
    assert code == 1
    assert f"{pol.as_posix()}/p_test.rego:7: FAIL p_test.test_bad" in out
    assert "1 passed, 1 failed" in out


def test_policy_lint_fails_with_reasons(tmp_path: Path) -> None:
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "p.rego").write_text('package p\n\ndeny[msg] { msg := sprintf("%q", [1]) }\n')
    code, out = run("policy", "lint", str(pol))
    assert code == 1
    assert "p.rego:3:1: rego-v0" in out and "sprintf-q" in out


def test_end_to_end_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "governance", "check", REGRESSED, "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["denied"] == 1


def test_init_scaffolds_the_default_gates(tmp_path: Path) -> None:
    # policies/ is generated from the packaged gates (tests/unit/policy/test_policies_generated)
    shipped = ROOT / "governance" / "scaffold" / "policies"
    assert run("init", str(tmp_path / "g"))[0] == 0
    written = tmp_path / "g" / "policies"
    rego = sorted(p.relative_to(shipped) for p in shipped.rglob("*.rego"))
    assert rego == sorted(p.relative_to(written) for p in written.rglob("*.rego"))
    for rel in rego:  # init writes the one packaged copy, byte for byte
        assert (written / rel).read_bytes() == (shipped / rel).read_bytes(), rel
    code, out = run("policy", "test", str(tmp_path / "g" / "policies"))
    assert code == 0, out
    assert run("policy", "lint", str(tmp_path / "g" / "policies"))[0] == 0


def test_unknown_engine_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["check", CLEAN, "--engine", "wasm"])
    assert result.exit_code == 2
    assert "unknown policy engine 'wasm'" in result.output


def test_policy_timeout_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pol = tmp_path / "policies"
    pol.mkdir()
    (pol / "p.rego").write_text(
        "package governance.decision\n\n"
        "allow := count([x | some x in numbers.range(1, 80000000)]) < 0\n"
    )
    monkeypatch.setenv("GOVERNANCE_POLICY_TIMEOUT", "0.5")
    result = CliRunner().invoke(app, ["check", CLEAN, "--policies", str(pol)])
    assert result.exit_code == 3
    assert "did not answer within 0.5s" in result.stdout
