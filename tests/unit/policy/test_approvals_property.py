"""Property: the approvals gate admits exactly the approval sets where every required role slot
can be filled by a different person (checked against a brute-force matching in Python)."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.policy.bundle import load_bundle
from governance.policy.engines.regopy_engine import RegopyEngine

ROOT = Path(__file__).resolve().parents[3]
BASE = json.loads((ROOT / "tests/data/policy-vectors/promotion-pass.json").read_text())["input"]
ROLES = ["ml_lead", "platform_owner", "risk_owner"]
PEOPLE = ["alice", "bob", "jane.smith", "erin"]


@pytest.fixture(scope="module")
def engine() -> Iterator[RegopyEngine]:
    e = RegopyEngine(timeout_s=60)
    e.load(load_bundle(ROOT / "policies"), {"waivers": []})
    yield e
    e.close()


def fillable(required: list[str], per_role: int, approvals: set[tuple[str, str]]) -> bool:
    slots = [role for role in required for _ in range(per_role)]
    for people in itertools.permutations(PEOPLE, len(slots)):
        if all((role, person) in approvals for role, person in zip(slots, people, strict=True)):
            return True
    return False


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    required=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True),
    per_role=st.sampled_from([1, 2]),
    approvals=st.sets(st.tuples(st.sampled_from(ROLES), st.sampled_from(PEOPLE)), max_size=8),
)
def test_distinct_people_fill_every_role(
    engine: RegopyEngine, required: list[str], per_role: int, approvals: set[tuple[str, str]]
) -> None:
    doc: dict[str, Any] = copy.deepcopy(BASE)
    doc["environment"]["required_approvals"] = required
    doc["model"]["risk_tier"] = "tier"
    doc["config"]["risk_tiers"]["tier"] = {"approvals_per_role": per_role}
    for role in ROLES:
        doc["config"]["roles"][role] = {"members": PEOPLE, "teams": []}
    template = BASE["approvals"][0]
    doc["approvals"] = [dict(template, role=r, actor_id=p) for r, p in sorted(approvals)]
    denials = engine.evaluate("governance.gates.deny_required_approvals", doc).value
    assert (denials == []) == fillable(required, per_role, approvals), denials
