"""Subgroup, metric and gate names are identifiers (issue 14): the schema patterns accept real
names and refuse quotes, control characters and a trailing newline, in Python's regex engine as
the validators use it (``re.search``) and in the ECMA form the schemas are published in."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "tools" / "gen_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
NAMES = {
    "SUBGROUP_NAME": ["domestic_merchants", "new_merchants_under_30_days", "age:18-25",
                      "age_65+", "region=eu", "region.eu", "A" * 128],
    "METRIC_NAME": ["auc", "latency_p95_ms", "precision_at_review_queue", "f1:macro", "_loss"],
    "GATE_ID": ["latency", "subgroup_regression", "required_approvals"],
}
NOT_NAMES = ['zz", "allow":true, "x":"', "ok\n", "ok\r\n", "tab\tname", "", "a b", "quo\"te",
             "back\\slash", "caf\u00e9", "x" * 129, "ok\u2028", "ok\x00"]


@pytest.mark.parametrize("name", sorted(NAMES))
def test_real_names_match(name: str) -> None:
    pattern = getattr(GEN, name)["pattern"]
    for good in NAMES[name]:
        assert re.search(pattern, good), (name, good)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_text_that_is_not_a_name_does_not_match(name: str) -> None:
    pattern = getattr(GEN, name)["pattern"]
    for bad in NOT_NAMES + [good + "\n" for good in NAMES[name]]:
        assert not re.search(pattern, bad), (name, bad)


def test_the_shipped_schemas_use_the_name_patterns() -> None:
    card = json.loads((ROOT / "governance" / "schemas" / "model-card.schema.json").read_text())
    config = json.loads(
        (ROOT / "governance" / "schemas" / "governance-config.schema.json").read_text())
    assert card["properties"]["subgroups"]["propertyNames"] == GEN.SUBGROUP_NAME
    assert card["$defs"]["metrics"]["propertyNames"] == GEN.METRIC_NAME
    waiver = config["properties"]["waivers"]["items"]["properties"]
    assert waiver["gate_id"] == GEN.GATE_ID
    gates = config["properties"]["gates"]["properties"]
    assert gates["latency_metric"] == GEN.METRIC_NAME
    assert gates["lower_is_better"]["items"] == GEN.METRIC_NAME
