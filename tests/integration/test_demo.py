"""`governance demo` runs the whole lifecycle with real keys and every step answers as expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from governance.demo import run_demo
from governance.domain.event_table import EVENT_TABLE, event_from_dict
from governance.ledger.canonical import canonical_bytes
from governance.ledger.reader import entries


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_demo_walks_the_lifecycle(tmp_path: Path) -> None:
    lines: list[str] = []
    steps = run_demo(lines.append, keep=tmp_path / "demo")
    text = "\n".join(lines)
    codes = dict(steps)
    assert any(c.startswith("governance check fraud-risk-2026-05-06-01 --env production")
               and code == 1 for c, code in codes.items())
    assert "subgroup first_time_international_merchants: auc regressed from 0.86" in text
    assert "rolled back fraud-risk in production: fraud-risk-2026-04-10-01 -> " \
           "fraud-risk-2026-03-28-01" in text
    assert "fraud-risk-2026-04-10-01 is approved: every required role is filled" in text
    assert "ok: 22 events, 22 signatures" in text  # ledger verify
    explain = text[text.index("$ governance explain"):]
    assert explain.splitlines()[1].startswith("fraud-risk-2026-04-10-01")
    assert all(code in (0, 1) for _, code in steps)
    # the environment order comes from the CLI; the pointer branch matches the ledger
    nexts = [(c, code) for c, code in steps if c.startswith("governance env next")]
    assert [code for _, code in nexts] == [0, 0, 1]
    assert "fraud-risk-2026-04-10-01 is live in every environment it may be promoted to" in text
    assert ("governance env verify --ref governance/environments", 0) in steps
    assert "pointer files match the ledger" in text
    # every event the demo's commands wrote gives back its stored bytes through its dataclass
    # (governance.domain.event_types: existing ledgers verify unchanged)
    written = list(entries(tmp_path / "demo" / "repo"))
    for entry in written:
        typed = event_from_dict(entry.event)
        assert type(typed) is EVENT_TABLE[entry.event_type].cls
        assert canonical_bytes(typed.to_dict()) == entry.stored, entry.seq
    assert {e.event_type for e in written} >= {
        "ledger_genesis", "model_registered", "release_registered", "gate_evaluated",
        "approval_granted", "release_approved", "deployment_promoted", "rollback_executed"}
