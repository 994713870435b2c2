"""Conformance vectors (tests/data/policy-vectors/) against every engine available here.

Each vector is a gate input with the decision it must get (allow, deny and warn gate-id sets,
waived gate ids). regopy always runs; the real `opa` binary runs them when it is on PATH, an
OPA server when GOVERNANCE_OPA_URL is set; otherwise those cases are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from governance.policy.bundle import load_bundle
from governance.policy.engines.port import PolicyEngine
from governance.policy.gates import input_problems, interpret

ROOT = Path(__file__).resolve().parents[3]
VECTORS = sorted((ROOT / "tests" / "data" / "policy-vectors").glob("*.json"))
BUNDLE = load_bundle(ROOT / "policies", display_prefix="policies")


def _engine(name: str) -> PolicyEngine:
    if name == "regopy":
        from governance.policy.engines.regopy_engine import RegopyEngine

        return RegopyEngine(timeout_s=60)
    if name == "opa-cli":
        if shutil.which("opa") is None:
            pytest.skip("opa binary not on PATH: the real-OPA conformance run is skipped")
        from governance.policy.engines.opa_cli import OpaCliEngine

        return OpaCliEngine()
    url = os.environ.get("GOVERNANCE_OPA_URL")
    if not url:
        pytest.skip("GOVERNANCE_OPA_URL not set: the OPA-server conformance run is skipped")
    from governance.policy.engines.opa_server import OpaServerEngine

    return OpaServerEngine.from_url(url)


@pytest.fixture(scope="module", params=["regopy", "opa-cli", "opa-server"])
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def engines() -> Iterator[dict[str, PolicyEngine]]:
    cache: dict[str, PolicyEngine] = {}
    yield cache
    for e in cache.values():
        e.close()


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 12


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_vector(path: Path, engine_name: str, engines: dict[str, PolicyEngine]) -> None:
    vector: dict[str, Any] = json.loads(path.read_text())
    assert input_problems(vector["input"]) == []  # every vector is a valid gate input
    if engine_name not in engines:
        engines[engine_name] = _engine(engine_name)
    engine = engines[engine_name]
    engine.load(BUNDLE, vector["data"])
    value = engine.evaluate("governance.decision", vector["input"]).value
    decision, problems = interpret(value)
    assert problems == []
    expected = vector["expected"]
    assert decision["allow"] is expected["allow"]
    assert sorted({v.gate_id for v in decision["failures"]}) == expected["deny"]
    assert sorted({v.gate_id for v in decision["warnings"]}) == expected["warn"]
    waived = sorted({x["violation"]["gate_id"] for x in decision["exceptions"]})
    assert waived == expected["exceptions"]


def test_a_duty_rule_must_pair_two_different_duties() -> None:
    # The separation-of-duties gate skips its rules when fewer than two duties are held; that
    # is exact only because a rule names two different duties, which the input schema enforces.
    vector: dict[str, Any] = json.loads(VECTORS[0].read_text())
    doc = vector["input"]
    doc["separation_of_duties"] = {
        "duties": {"trainer": ["dana"]},
        "rules": [{"rule": "sod-x", "duties": ["trainer", "trainer"], "why": "twice"}],
    }
    problems = input_problems(doc)
    assert any("separation_of_duties.rules.0.duties" in p and "non-unique" in p
               for p in problems), problems
    doc["separation_of_duties"]["rules"][0]["duties"] = ["trainer", "approver"]
    assert input_problems(doc) == []
