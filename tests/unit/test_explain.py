"""The six answers for a reference release, from events only."""

from __future__ import annotations

from pathlib import Path

from governance.audit.explain import QUESTIONS, explain_release, render_text
from governance.lifecycle import fold_lifecycle
from governance.repo import GovernedRepo
from tests.unit.test_lifecycle import ev

ROOT = Path(__file__).resolve().parents[2]


def test_six_answers_with_evidence() -> None:
    repo = GovernedRepo(ROOT)
    a = repo.load_release("fraud-risk-2026-03-28-01")
    b = repo.load_release("fraud-risk-2026-04-10-01")
    da, db = a.digest.value, b.digest.value
    events = [
        ev(0, "release_approved", release_id=a.release.release_id, release_digest=da),
        ev(
            1,
            "deployment_promoted",
            release_id=a.release.release_id,
            environment="production",
            actor_id="governance-ci",
            release_digest=da,
        ),
        ev(
            2,
            "gate_evaluated",
            release_id=b.release.release_id,
            environment="production",
            policy_digest="tree1",
            decision={"decision_id": "d-1", "allow": True},
        ),
        ev(
            3,
            "approval_granted",
            release_id=b.release.release_id,
            actor_id="jane.smith",
            actor_role="risk_owner",
            release_digest=db,
        ),
        ev(
            4,
            "approval_granted",
            release_id=b.release.release_id,
            actor_id="alice",
            actor_role="ml_lead",
            release_digest="sha256:" + "0" * 64,
        ),
        ev(5, "release_approved", release_id=b.release.release_id, release_digest=db),
        ev(
            6,
            "deployment_promoted",
            release_id=b.release.release_id,
            environment="production",
            actor_id="governance-ci",
            release_digest=db,
            decision={"decision_id": "d-1"},
        ),
        ev(
            7,
            "rollback_executed",
            environment="production",
            from_release=b.release.release_id,
            to_release=a.release.release_id,
            actor_id="platform-oncall",
            reason="latency regression and elevated false positive rate",
            incident="inc-4821",
        ),
    ]
    exp = explain_release(b, events, environment="production",
                          state=fold_lifecycle(events, production_env="production"))
    assert list(exp.answers) == [q for q, _ in QUESTIONS]
    deployed = exp.answers["deployed"]
    assert deployed["artifact"]["uri"].endswith("2026-04-10/model.joblib")
    assert deployed["live"][0]["since"] == events[6].timestamp
    assert deployed["live"][0]["until"] == events[7].timestamp
    assert deployed["promotions"][0]["decision_id"] == "d-1"
    assert exp.answers["based_on"]["training_dataset"]["uri"] == "s3://ml-datasets/fraud/2026-04-07"
    assert exp.answers["evaluation"]["metrics"]["auc"] == 0.94
    assert exp.answers["evaluation"]["gate_decisions"][0]["decision_id"] == "d-1"
    bound = {
        x["actor_id"]: x["bound_to_current_content"] for x in exp.answers["approvals"]["approvals"]
    }
    assert bound == {"jane.smith": True, "alice": False}
    rb = exp.answers["rollback"]
    assert rb["rollbacks"][0]["incident"] == "inc-4821"
    assert rb["rollback_target"] == {"release_id": "fraud-risk-2026-03-28-01"}
    text = render_text(exp)
    assert "NOT bound to the current content" in text
    assert "rollback fraud-risk-2026-04-10-01 -> fraud-risk-2026-03-28-01" in text
    assert len(exp.answers["audit_trail"]["events"]) == 6
