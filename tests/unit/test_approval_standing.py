"""One counting authority: report, explain and status take approval status from the
required-approvals gate's own rule (``approval_standing``), never from a count of their own.

Real engine (regopy), real policies (this repository's ``policies/``), a governed repository
copied from the reference one with two changes to governance.yaml: dana, the release's trainer,
is also an ml_lead, and alice also holds risk_owner. The gate's decision for the same input
(``governance check --env production``) is computed beside the standing: every reason shown
for an approval that does not count is one of the gate's own messages.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.audit.explain import explain_release, render_text
from governance.lifecycle import LifecycleState, fold_lifecycle
from governance.policy.approval_standing import StandingReader, approval_standing
from governance.policy.check import CheckOptions, run_check
from governance.repo import GovernedRepo, LoadedRelease
from governance.report.evidence import EvidenceReport, role_statuses
from governance.report.markdown import render_markdown
from governance.status import model_status
from governance.status import render_text as status_text
from tests.unit.test_lifecycle import ev

ROOT = Path(__file__).resolve().parents[2]
MODEL = "fraud-risk"
A = "fraud-risk-2026-03-28-01"
B = "fraud-risk-2026-04-10-01"  # trained_by: dana
STALE = "sha256:" + "0" * 64

TRAINER = "approval by dana as ml_lead does not count: the trainer cannot approve their own release"
NON_MEMBER = ("approval by carol as platform_owner does not count: carol is not a member of "
              "role platform_owner")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GovernedRepo:
    root = tmp_path_factory.mktemp("standing")
    config = yaml.safe_load((ROOT / "governance.yaml").read_text())
    config["roles"]["ml_lead"]["members"] = ["alice", "dana"]
    config["roles"]["risk_owner"]["members"] = ["jane.smith", "alice"]
    (root / "governance.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(ROOT / "policies", root / "policies")
    (root / "releases" / MODEL).mkdir(parents=True)
    shutil.copy(ROOT / "releases" / MODEL / "model.yaml", root / "releases" / MODEL)
    for rid in ("fraud-risk-2026-02-14-01", A, B):
        shutil.copytree(ROOT / "releases" / MODEL / rid, root / "releases" / MODEL / rid)
    return GovernedRepo.open(root)


def _history(digest: str) -> list[Any]:
    def grant(seq: int, who: str, role: str, bound: str = digest) -> Any:
        return ev(seq, "approval_granted", release_id=B, actor_id=who, actor_role=role,
                  release_digest=bound, approval_state="approved")

    return [ev(0, "release_registered", release_id=B, release_digest=digest),
            grant(1, "dana", "ml_lead"),  # the trainer (a member of ml_lead)
            grant(2, "carol", "platform_owner"),  # holds no role
            grant(3, "alice", "ml_lead"),
            grant(4, "alice", "risk_owner"),  # the same person for a second role
            grant(5, "bob", "platform_owner", STALE)]  # approved other content


@pytest.fixture(scope="module")
def world(repo: GovernedRepo) -> tuple[LoadedRelease, list[Any], LifecycleState]:
    loaded = repo.load_release(B)
    events = _history(loaded.digest.value)
    return loaded, events, fold_lifecycle(events, production_env="production")


def test_the_standing_is_the_gates_count(repo: GovernedRepo, world: Any) -> None:
    loaded, _events, state = world
    standing = approval_standing(repo, loaded, state, "production")
    assert standing.undecided is None and standing.engine
    roles = {r.role: r for r in standing.roles}
    assert roles["ml_lead"].counted == ("alice",) and roles["risk_owner"].counted == ("alice",)
    assert roles["platform_owner"].counted == ()
    assert not any(r.filled for r in standing.roles) and not standing.allow
    assert {standing.role_word(r) for r in standing.roles} == {"not distinct", "pending"}
    verdicts = {(v.actor_id, v.role): v for v in standing.approvals}
    assert (verdicts[("dana", "ml_lead")].counted, verdicts[("dana", "ml_lead")].reason) == (
        False, TRAINER)
    assert verdicts[("carol", "platform_owner")].reason == NON_MEMBER
    assert verdicts[("bob", "platform_owner")].outcome == "stale"
    assert verdicts[("alice", "ml_lead")].counted and verdicts[("alice", "risk_owner")].counted

    # the gate itself, on the same input: the same failures, the same reasons
    decision = run_check(repo, CheckOptions(refs=(B,), environment="production"),
                         state=state).decisions[0]
    gate_fails = {v.msg for v in decision.failures if v.gate_id == "required_approvals"}
    gate_warns = {v.msg for v in decision.warnings if v.gate_id == "required_approvals"}
    assert set(standing.failures) == gate_fails
    assert {TRAINER, NON_MEMBER} <= gate_warns
    assert {v.reason for v in standing.approvals if v.outcome == "excluded"} == gate_warns
    assert ("roles ml_lead, risk_owner need 2 different people, but only 1 approved (alice)"
            in roles["ml_lead"].shortfalls)


def test_report_and_explain_show_who_did_not_count_and_why(repo: GovernedRepo,
                                                            world: Any) -> None:
    loaded, events, state = world
    standing = approval_standing(repo, loaded, state, "production")
    exp = explain_release(loaded, events, state=state, standing=standing)
    answer = exp.answers["approvals"]
    counted = {(a["actor_id"], a["actor_role"]): (a["counted"], a["not_counted_because"])
               for a in answer["approvals"]}
    assert counted[("dana", "ml_lead")] == (False, TRAINER)
    assert counted[("carol", "platform_owner")] == (False, NON_MEMBER)
    assert counted[("alice", "ml_lead")] == (True, None)
    assert answer["standing"]["allow"] is False
    text = render_text(exp)
    assert f"NOT counted: {TRAINER}" in text and "approvals for production" in text

    roles = {r.role: r for r in role_statuses(standing, exp)}
    assert roles["ml_lead"].status == "not distinct" and roles["ml_lead"].actors == ("alice",)
    assert roles["platform_owner"].status == "pending"
    assert dict(roles["platform_owner"].not_counted)["carol"] == NON_MEMBER
    assert dict(roles["ml_lead"].not_counted) == {"dana": TRAINER}
    md = render_markdown(EvidenceReport(
        explanation=exp, card=loaded.card, roles=tuple(roles.values()), gate_decision=None,
        diff=None, timeline_svg="", generated_at="2026-04-12T14:00:00Z",
        environment="production", standing=standing))
    assert f"| ml_lead | not distinct | alice | e3 | {TRAINER} |" in md
    assert "| ml_lead | approved" not in md and "| platform_owner | approved" not in md
    assert f"| e1 (seq 1) | - | NO: {TRAINER} |" in md  # the Approvers table says so too
    assert ("- gate: roles ml_lead, risk_owner need 2 different people, but only 1 approved "
            "(alice)") in md


def test_status_shows_the_gates_count_for_an_awaiting_release(repo: GovernedRepo,
                                                               world: Any) -> None:
    _loaded, _events, state = world
    status = model_status(repo, state, MODEL)
    [release] = [r for r in status.releases if r["release_id"] == B]
    approvals = release["approvals"]
    assert approvals["environment"] == "production" and approvals["allow"] is False
    by_role = {r["role"]: r for r in approvals["roles"]}
    assert [v["reason"] for v in by_role["ml_lead"]["not_counted"]] == [TRAINER]
    assert by_role["ml_lead"]["status"] == "not distinct"
    assert f"not counted: {TRAINER}" in status_text([status])


def test_a_policy_without_the_rule_is_undecided_never_approved(
        repo: GovernedRepo, world: Any, tmp_path: Path) -> None:
    loaded, events, state = world
    (tmp_path / "p.rego").write_text("package governance.gates\n\nnothing := true\n")
    with StandingReader(repo, state, policy_dir=tmp_path) as reader:
        standing = reader.standing(loaded, "production")
    assert standing.undecided is not None and "undefined" in standing.undecided
    assert standing.roles == () and standing.to_json()["allow"] is False
    exp = explain_release(loaded, events, state=state, standing=standing)
    assert all(a["counted"] is None for a in exp.answers["approvals"]["approvals"])
    md = render_markdown(EvidenceReport(
        explanation=exp, card=loaded.card, roles=role_statuses(standing, exp),
        gate_decision=None, diff=None, timeline_svg="", generated_at="2026-04-12T14:00:00Z",
        environment="production", standing=standing))
    status_section = md.split("## Approvers")[0]
    assert "**Could not decide** the approval status" in status_section
    assert "| approved |" not in status_section and "| role |" not in status_section
    assert "| counted by the gate |" in md and "| not known |" in md
