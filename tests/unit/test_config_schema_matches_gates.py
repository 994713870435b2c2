"""Every gate setting the Rego policies read is a key governance.yaml may hold (and only those
are): a typo in either place must not be silently ignored."""

from __future__ import annotations

import re
from pathlib import Path

from governance.records import schema_for

ROOT = Path(__file__).resolve().parents[2]


def test_gate_settings_read_by_rego_are_in_the_config_schema() -> None:
    read = set()
    for path in (ROOT / "policies").rglob("*.rego"):
        if path.name.endswith("_test.rego"):
            continue
        read |= set(re.findall(r'lib\.(?:setting|configured|mapping_setting)\("([a-z_0-9]+)"',
                               path.read_text()))
    gates = schema_for("GovernanceConfig")["properties"]["gates"]["properties"]
    allowed = set(gates) - {"model_overrides"}
    assert read, "no settings found: the pattern no longer matches the policies"
    assert read <= allowed, f"read by Rego but not allowed in governance.yaml: {read - allowed}"
    assert allowed <= read, f"allowed in governance.yaml but read by no gate: {allowed - read}"
