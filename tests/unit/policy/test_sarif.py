"""`check --format sarif`: every log validates against the OASIS SARIF 2.1.0 schema, results
are located and leveled from the finding, and a failure still yields a well-formed log."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.errors import InvalidInput, Problem, Undecided
from governance.policy.gates import GateDecision, Violation
from governance.policy.metadata import Annotation
from governance.policy.report import render_sarif
from governance.policy.sarif import INVALID_RULE, UNDECIDED_RULE, render_sarif_failure

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "data" / "sarif" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema,
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _valid(log: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(log)]
    assert errors == []


def test_the_vendored_schema_is_the_one_noted() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA_FILE.read_text())["id"].endswith(
        "/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def _release(tmp_path: Path) -> Path:
    path = tmp_path / "releases" / "m" / "m-1" / "release.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("apiVersion: governance/v1\nkind: Release\nrelease_id: m-1\n"
                    "artifact:\n  uri: s3://b/m\n  sha256: abc\n")
    return path


GATES = {"metric_thresholds": Annotation(file="policies/gates/metrics.rego", line=12,
                                         target="deny_metric_thresholds", title="Metric floors",
                                         description="Every metric meets its minimum.",
                                         custom={"gate_id": "metric_thresholds",
                                                 "severity": "high"})}


def _decision(path: Path, *, failures: tuple[Violation, ...] = (),
              warnings: tuple[Violation, ...] = (), undecided: str | None = None,
              env: str | None = "production") -> GateDecision:
    return GateDecision(release_id="m-1", model_name="m", environment=env, mode="promotion",
                        allow=not failures, failures=failures, warnings=warnings,
                        undecided=undecided,
                        files={"release": str(path.relative_to(path.parents[3]))},
                        record={"decision_id": "d-1"})


def test_findings_are_located_and_leveled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    path = _release(tmp_path)
    monkeypatch.chdir(tmp_path)
    deny = Violation("metric_thresholds", "auc is 0.93, below the minimum 0.935", "high",
                     "retrain or lower the floor through review", "deny", "release",
                     "$.artifact.sha256")
    warn = Violation("latency", "p95 42 ms is close to 50", "low", "profile it", "warn")
    log = json.loads(render_sarif([_decision(path, failures=(deny,), warnings=(warn,))],
                                        GATES))
    _valid(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    first, second = run["results"]
    assert first["ruleId"] == "metric_thresholds" and first["level"] == "error"
    assert rules[first["ruleIndex"]]["id"] == "metric_thresholds"
    assert rules[first["ruleIndex"]]["shortDescription"]["text"] == "Metric floors"
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "releases/m/m-1/release.yaml",
                                       "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 6}  # the line of artifact.sha256
    assert "remediation: retrain or lower the floor through review" in first["message"]["text"]
    assert second["ruleId"] == "latency" and second["level"] == "warning"
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["automationDetails"]["id"] == "governance/production/"
    # the same finding keeps its fingerprint across runs (one alert, not a new one each time)
    again = json.loads(render_sarif([_decision(path, failures=(deny,))], GATES))
    assert again["runs"][0]["results"][0]["partialFingerprints"] == first["partialFingerprints"]


def test_undecided_and_clean_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _release(tmp_path)
    monkeypatch.chdir(tmp_path)
    log = json.loads(render_sarif([_decision(path, undecided="engine timed out")], GATES))
    _valid(log)
    run = log["runs"][0]
    assert run["results"][0]["ruleId"] == UNDECIDED_RULE
    assert run["results"][0]["level"] == "error"
    assert run["invocations"][0]["executionSuccessful"] is False
    clean = json.loads(render_sarif([_decision(path, env=None)], GATES))
    _valid(clean)
    assert clean["runs"][0]["results"] == []
    assert clean["runs"][0]["automationDetails"]["id"] == "governance/readiness/"


def test_an_invalid_release_still_yields_a_located_log() -> None:
    err = InvalidInput([Problem("releases/m/m-1/release.yaml", 14, "$.artifact.sha256",
                                "'ABC' is not a sha256 digest", "64 lowercase hex characters"),
                        Problem("<event>", None, "$", "odd")],
                       message="release m-1 is invalid")
    log = json.loads(render_sarif_failure(err))
    _valid(log)
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == [INVALID_RULE, INVALID_RULE]
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 14}
    assert run["results"][1]["locations"] == []
    assert run["invocations"][0]["executionSuccessful"] is False
    other = json.loads(render_sarif_failure(Undecided("no engine"), "staging"))
    _valid(other)
    assert other["runs"][0]["results"] == []
    assert other["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"][
        "text"] == "no engine"


def test_the_schema_check_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _release(tmp_path)
    monkeypatch.chdir(tmp_path)
    deny = Violation("metric_thresholds", "m", "high", "r", "deny")
    log = json.loads(render_sarif([_decision(path, failures=(deny,))], GATES))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "deny"
    assert list(_validator().iter_errors(broken))
    broken = copy.deepcopy(log)
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert list(_validator().iter_errors(broken))


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.sampled_from(["deny", "warn"]))
def test_any_message_is_a_valid_log(msg: str, remediation: str, level: str) -> None:
    v = Violation("g", msg, "medium", remediation, level, "release", "$")
    decision = GateDecision(release_id="m-1", model_name="m", environment=None,
                            mode="readiness", allow=level != "deny",
                            failures=(v,) if level == "deny" else (),
                            warnings=(v,) if level == "warn" else (),
                            files={"release": "releases/m/m 1/release.yaml"})
    log = json.loads(render_sarif([decision], {}))
    _valid(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "releases/m/m%201/release.yaml"
