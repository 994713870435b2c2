"""Release diff on the reference history."""

from __future__ import annotations

from pathlib import Path

from governance.audit.diff import diff_releases, render_text
from governance.repo import GovernedRepo

ROOT = Path(__file__).resolve().parents[2]


def test_diff_names_data_code_config_metrics_and_subgroups() -> None:
    repo = GovernedRepo(ROOT)
    a = repo.load_release("fraud-risk-2026-04-10-01")
    b = repo.load_release("fraud-risk-2026-05-06-01")
    diff = diff_releases(
        a,
        b,
        policy={"fraud-risk-2026-04-10-01": "tree1", "fraud-risk-2026-05-06-01": "tree2"},
        approvers={"fraud-risk-2026-04-10-01": ["risk_owner:jane.smith"]},
    )
    changed = {(c.section, c.field) for c in diff.changes}
    assert {
        ("code", "git_commit"),
        ("features", "feature_schema_version"),
        ("data", "training_dataset"),
        ("artifact", "artifact"),
        ("policy", "policy_bundle"),
        ("approvals", "approvers"),
    } <= changed
    assert ("config", "config_version") not in changed  # both risk-thresholds-v4
    intl = next(
        m
        for m in diff.metrics
        if m.subgroup == "first_time_international_merchants" and m.metric == "auc"
    )
    assert (intl.before, intl.after) == (0.86, 0.81) and intl.delta == -0.05
    text = render_text(diff)
    assert "first_time_international_merchants.auc: 0.86 -> 0.81 (-0.05)" in text
    assert diff.to_json()["digest_a"].startswith("sha256:")


def test_diff_of_llm_releases_shows_prompt_and_policy_versions() -> None:
    repo = GovernedRepo(ROOT)
    diff = diff_releases(
        repo.load_release("support-assistant-2026-03-02-01"),
        repo.load_release("support-assistant-2026-04-20-01"),
    )
    changed = {c.field: (c.before, c.after) for c in diff.changes}
    assert changed["prompt_version"] == ("support-prompt-v7", "support-prompt-v8")
    assert changed["policy_version"] == ("safety-policy-v3", "safety-policy-v4")
    assert diff.notes  # says the ledger parts were not read
