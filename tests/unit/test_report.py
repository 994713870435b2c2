"""Evidence report renderers: markdown, HTML and the SVG timeline."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from governance.audit.diff import diff_releases
from governance.audit.explain import explain_release
from governance.lifecycle import fold_lifecycle
from governance.policy.approval_standing import approval_standing
from governance.repo import GovernedRepo
from governance.report.evidence import EvidenceReport, latest_gate_decision, role_statuses
from governance.report.html import render_html
from governance.report.markdown import render_markdown
from governance.report.timeline import render_timeline
from tests.unit.test_lifecycle import ev

ROOT = Path(__file__).resolve().parents[2]


def _report() -> EvidenceReport:
    repo = GovernedRepo(ROOT)
    a = repo.load_release("fraud-risk-2026-03-28-01")
    b = repo.load_release("fraud-risk-2026-04-10-01")
    events = [
        ev(
            0,
            "deployment_promoted",
            release_id=a.release.release_id,
            environment="production",
            actor_id="governance-ci",
        ),
        ev(
            1,
            "gate_evaluated",
            release_id=b.release.release_id,
            environment="production",
            decision={
                "decision_id": "d-9",
                "allow": False,
                "deny": [{"gate_id": "subgroup_regression", "msg": "<slice> fell"}],
            },
        ),
        ev(
            2,
            "approval_granted",
            release_id=b.release.release_id,
            actor_id="jane.smith",
            actor_role="risk_owner",
            release_digest=b.digest.value,
            approval_state="approved",
        ),
        ev(
            3,
            "deployment_promoted",
            release_id=b.release.release_id,
            environment="production",
            actor_id="governance-ci",
        ),
        ev(
            4,
            "rollback_executed",
            environment="production",
            from_release=b.release.release_id,
            to_release=a.release.release_id,
            actor_id="platform-oncall",
            incident="inc-4821",
        ),
    ]
    state = fold_lifecycle(events, production_env="production")
    standing = approval_standing(repo, b, state, "production")
    exp = explain_release(b, events, environment="production", state=state, standing=standing)
    svg = render_timeline(
        "fraud-risk",
        {"production": state.live[("fraud-risk", "production")]},
        highlight=b.release.release_id,
    )
    return EvidenceReport(
        explanation=exp,
        card=b.card,
        roles=role_statuses(standing, exp),
        gate_decision=latest_gate_decision(exp),
        diff=diff_releases(a, b),
        timeline_svg=svg,
        generated_at="2026-04-12T14:00:00Z",
        environment="production",
        standing=standing,
        lanes={"production": tuple(state.live[("fraud-risk", "production")])},
    )


def test_role_status_is_the_gates_count_of_ledger_events() -> None:
    roles = {r.role: r.status for r in _report().roles}
    assert roles == {"ml_lead": "pending", "platform_owner": "pending", "risk_owner": "approved"}


def test_timeline_svg_is_well_formed_and_shows_the_rollback() -> None:
    svg = _report().timeline_svg
    root = ElementTree.fromstring(svg)
    stints = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
              if r.get("class") == "stint"]
    assert len(stints) == 3
    assert "rollback" in svg and "2026-04-10-01" in svg


def test_markdown_and_html_carry_the_evidence_and_escape_values() -> None:
    report = _report()
    md = render_markdown(report)
    assert "| risk_owner | approved | jane.smith |" in md
    # markdown passes raw HTML through: a policy message's <slice> is written as entities
    assert "deny `subgroup_regression`: &lt;slice&gt; fell" in md and "<slice>" not in md
    assert "first_time_international_merchants.auc" in md
    html = render_html(report)
    assert "&lt;slice&gt; fell" in html and "<slice>" not in html
    assert "<script" not in html and "<svg" in html
    assert "weaker performance on first-time international merchants" in html
