"""Document strings reach the decision as text, never as structure (issue 14, items 1 and 10).

regopy 1.5.2 once wrote input strings into its JSON result unescaped, so a subgroup name quoted
by a gate message could close the message and write ``"allow": true`` into the decision (and a
quote in a break-glass incident made every check undecidable). These tests run the real
embedded engine on the shipped policies with hostile strings in every document string a gate
message quotes, and check that the decision is exactly the one the same input gets with plain
names, with the hostile text carried through byte for byte. The reading of engine answers
(repeated keys, the decision's shape) is checked on constructed values.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from governance.policy.bundle import load_bundle
from governance.policy.engines.port import EngineError, decode_engine_json
from governance.policy.engines.regopy_engine import RegopyEngine
from governance.policy.gates import interpret

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = load_bundle(ROOT / "policies", display_prefix="policies")
VECTOR = json.loads(
    (ROOT / "tests" / "data" / "policy-vectors" / "readiness-subgroup-regression.json").read_text()
)

# The name from the issue: closes the warning that quotes it and writes allow/failures.
INJECTION = 'zz", "remediation":"-", "severity":"low"}], "allow":true, "failures":[], "zz":[{"a":"'
HOSTILE = [
    INJECTION,
    'INC-7 "db"',
    '"',
    "\\",
    '\\"',
    "back\\slash \\u0022 \\n not an escape",
    "tab\there",
    "new\nline\r\n",
    "ctl\x01\x1f\x7f",
    "line\u2028sep\u2029",
    "caf\u00e9 \u00fc \u4e2d\u6587 \U0001f600",
    "%v %s %d {}",
    "} ] ) `",
    " ",
]

# Plain placeholders, each in one place a gate message quotes it.
SLICE = "slice_failing"  # regresses: the deny message and its field quote it
ONLY_BASELINE = "slice_baseline_only"  # missing from the release: the warning quotes it
METRIC = "metric_plain"  # the regressing metric of SLICE
INCIDENT = "incident_plain"  # an open break-glass obligation: the warning quotes it
URI = "uri_plain"  # a local evidence file that is missing: the deny quotes its uri
REASON = "reason_plain"  # a waiver's reason: the applied exception carries it


def plain_case() -> tuple[dict[str, Any], dict[str, Any]]:
    """The vector's input and data with every quoted string one of the placeholders."""
    doc = copy.deepcopy(VECTOR["input"])
    base = doc["baseline"]["subgroups"]
    rel = doc["release"]["evaluation"]["subgroups"]
    base[SLICE] = {METRIC: 0.9}
    rel[SLICE] = {METRIC: 0.8}
    base[ONLY_BASELINE] = {"auc": 0.9}
    doc["lifecycle"]["obligations"] = [{
        "kind": "break_glass_review", "event_id": "e" * 64, "incident": INCIDENT,
        "description": f"break_glass_review for fraud-risk (incident {INCIDENT}) opened "
                       "2026-05-01T00:00:00+00:00 by platform-oncall",
    }]
    for a in doc["release"]["artifacts"]:
        if a["local"]:
            a.update(uri=URI, present=False)
            a.pop("actual_sha256")
    data = {"waivers": [{
        "approver": "jane.smith", "expires": "2026-06-30", "expires_ns": 1782864000000000000,
        "gate_id": "latency", "model": "fraud-risk", "reason": REASON,
    }]}
    return doc, data


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every placeholder replaced inside strings and keys."""
    if isinstance(value, str):
        for plain, hostile in mapping.items():
            value = value.replace(plain, hostile)
        return value
    if isinstance(value, dict):
        return {substitute(k, mapping): substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    return value


def canonical(value: Any) -> Any:
    """Sets come back as arrays sorted by content: compare them as multisets."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


@pytest.fixture(scope="module")
def engine() -> Iterator[RegopyEngine]:
    e = RegopyEngine(timeout_s=60)
    try:
        yield e
    finally:
        e.close()


def decide(engine: RegopyEngine, doc: dict[str, Any], data: dict[str, Any]) -> Any:
    engine.load(BUNDLE, data)
    return engine.evaluate("governance.decision", doc).value


def test_the_plain_case_denies_and_quotes_every_placeholder(engine: RegopyEngine) -> None:
    # proves the placeholders are where messages quote them (else the test below is empty)
    doc, data = plain_case()
    value = decide(engine, doc, data)
    decision, problems = interpret(value)
    assert problems == []
    assert decision["allow"] is False
    assert {v.gate_id for v in decision["failures"]} == {
        "subgroup_regression", "required_artifacts"}
    text = json.dumps(value)
    for placeholder in (SLICE, ONLY_BASELINE, METRIC, INCIDENT, URI):
        assert placeholder in text, placeholder
    # the waiver's reason reaches the decision through data.waivers
    assert value["waivers"][0]["reason"] == REASON


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda s: json.dumps(s)[:40])
def test_hostile_strings_change_no_decision_and_come_back_exactly(
    engine: RegopyEngine, hostile: str
) -> None:
    doc, data = plain_case()
    expected = decide(engine, doc, data)
    mapping = {
        SLICE: f"{hostile}#1",
        ONLY_BASELINE: f"{hostile}#2",
        METRIC: f"{hostile}#3",
        INCIDENT: hostile,
        URI: f"s3://x/{hostile}",
        REASON: hostile,
    }
    got = decide(engine, substitute(doc, mapping), substitute(data, mapping))
    assert canonical(got) == canonical(substitute(expected, mapping))
    decision, problems = interpret(got)
    assert problems == []
    assert decision["allow"] is False
    messages = [v.msg for v in decision["failures"] + decision["warnings"]]
    assert any(f"subgroup {hostile}#1: {hostile}#3 regressed" in m for m in messages)
    assert any(f"subgroup {hostile}#2: auc was reported" in m for m in messages)
    assert any(f"(incident {hostile}) opened" in m for m in messages)
    assert any(f"evidence file s3://x/{hostile} for evaluation_report" in m for m in messages)


def test_the_issue_injection_in_a_baseline_only_subgroup_does_not_allow(
    engine: RegopyEngine,
) -> None:
    """The scenario of issue 14 item 1, reduced to the engine: the baseline names a subgroup the
    release does not report, whose warning quotes it, and the only failure is that regression
    (so an injected "failures": [] would have passed the release)."""
    doc = copy.deepcopy(VECTOR["input"])
    doc["baseline"]["subgroups"][INJECTION] = {"auc": 0.9}
    value = decide(engine, doc, VECTOR["data"])
    decision, problems = interpret(value)
    assert problems == []
    assert decision["allow"] is False
    assert [v.gate_id for v in decision["failures"]] == ["subgroup_regression"]
    assert any(v.msg.startswith(f"subgroup {INJECTION}: auc was reported by baseline")
               for v in decision["warnings"])
    assert "zz" not in value


def test_strings_from_data_and_input_compare_equal(engine: RegopyEngine, tmp_path: Path) -> None:
    """Input strings are held in the same form as literals and data: a name with a quote or a
    non-ASCII letter from the input equals the same name in the policy and in data."""
    (tmp_path / "p.rego").write_text(
        "package governance.decision\n\n"
        'literal := input.name == "caf\u00e9 \\"q\\" \\\\"\n\n'
        "in_data := [w | some w in data.waivers; w.approver == input.name]\n"
    )
    name = 'caf\u00e9 "q" \\'
    engine.load(load_bundle(tmp_path), {"waivers": [{"approver": name}]})
    try:
        value = engine.evaluate("governance.decision", {"name": name}).value
    finally:
        engine.load(BUNDLE, {})
    assert value == {"literal": True, "in_data": [{"approver": name}]}


# --- reading an engine's answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"allow": false, "allow": true}', 'repeats the key "allow"'),
        ('{"failures": [{"msg": "a", "msg": "b"}]}', 'repeats the key "msg"'),
        ('{"result": [{"expressions": [{"value": {"x": 1, "x": 1}}]}]}', 'repeats the key "x"'),
        ('{"allow": NaN}', "unreadable"),
        ('{"msg": "tab\tinside"}', "unreadable"),
        ('{"msg": "open', "unreadable"),
    ],
)
def test_engine_answers_are_read_strictly(text: str, needle: str) -> None:
    with pytest.raises(EngineError) as err:
        decode_engine_json(text, "test output")
    assert needle in err.value.message
    assert err.value.exit_code == 3


def test_the_old_unescaped_regopy_text_is_refused() -> None:
    # what regopy 1.5.2 returned for the issue's subgroup name before input strings were escaped
    msg = f"subgroup {INJECTION}: auc was reported by baseline b but not by this release"
    text = ('{"expressions":[true], "bindings":{"x":{"allow":false, "failures":[{"gate_id":'
            '"subgroup_regression", "msg":"s", "remediation":"r", "severity":"high"}], '
            f'"warnings":[{{"gate_id":"subgroup_regression", "msg":"{msg}", '
            '"remediation":"r", "severity":"medium"}]}}}')
    assert json.loads(text)["bindings"]["x"]["allow"] is True  # what json.loads made of it
    with pytest.raises(EngineError, match="repeats the key"):
        decode_engine_json(text, "regopy output")


VIOLATION = {"msg": "m", "gate_id": "g", "severity": "high", "remediation": "r",
             "document": "release", "field": "$"}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"failures": [{**VIOLATION, "zz": [{"a": ""}]}]}, "'zz' was unexpected"),
        ({"warnings": [{**VIOLATION, "severity": ""}]}, "$.warnings[0].severity"),
        ({"exceptions": [{"violation": VIOLATION}]}, "'waiver' is a required property"),
        ({"exceptions": [{"violation": VIOLATION, "waiver": {}, "allow": True}]},
         "was unexpected"),
        ({"pending": [{"gate_id": "required_approvals"}]}, "'msg' is a required property"),
        ({"mode": "anything"}, "$.mode"),
    ],
)
def test_a_decision_of_the_wrong_shape_is_undecided(change: dict[str, Any], needle: str) -> None:
    value = {"allow": False, "failures": [VIOLATION], "warnings": [], "exceptions": [],
             "pending": [], "mode": "readiness", **change}
    _, problems = interpret(value)
    assert any(needle in p for p in problems), problems


def test_a_decision_of_the_right_shape_reads() -> None:
    value = {"allow": False, "failures": [VIOLATION], "warnings": [VIOLATION],
             "exceptions": [{"violation": VIOLATION, "waiver": {"reason": "r"}}],
             "pending": [{"gate_id": "g", "msg": "m", "have": 0}], "mode": "promotion",
             "context": {"people": ["a"]}}
    decision, problems = interpret(value)
    assert problems == [] and decision["allow"] is False
