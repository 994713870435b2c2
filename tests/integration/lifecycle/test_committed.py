"""Promote, rollback and approve decide on what the protected branch holds (issue 14 items 4, 7
and 8): content nobody committed, a configuration edited locally, a policy loosened in the
working tree, a branch off main or a main without a commit never decide anything.

Every scenario runs the real CLI in the CI clone, signed with real ssh keys, and checks the exit
code, the reason and what the ledger recorded; each also shows the honest flow still works.
Fixtures (conftest): ``world`` (r1 live in staging and production), ``approved`` (plus r2 on
main, approved by every role, not live); ``slow`` here: r2 approved by every role but 60 ms
slow, above the 50 ms the latency gate allows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.lifecycle.world import (
    BOT,
    MODEL,
    R1,
    R2,
    World,
    approve_all,
    commit_all,
    git,
    register,
    write_release,
)

LATENCY = Path("policies") / "gates" / "latency.rego"


def events(world: World) -> list[dict[str, Any]]:
    return world.events()


def recorded_violation(world: World, before: int, actor: str, why: str) -> dict[str, Any]:
    """The refusal left exactly one trace: a policy_violation naming who and why."""
    after = world.events()
    assert [e["event_type"] for e in after[before:]] == ["policy_violation"], after[before:]
    assert after[-1]["actor_id"] == actor and why in after[-1]["reason"], after[-1]
    return after[-1]


def committed_policy_digest(clone: Path) -> str:
    return "git-tree:" + git(clone, "rev-parse", "HEAD:policies")


@pytest.fixture(scope="module")
def slow_template(world_template: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    world = world_template.copy(tmp_path_factory.mktemp("lifecycle-slow") / "world")
    rid = write_release(world, world.ci, "2026-04-10", auc=0.94, intl=0.86, latency=60,
                        rollback_to=R1)
    commit_all(world.ci, f"Release {rid}")
    register(world, world.ci, rid, "2026-04-10")
    approve_all(world, world.ci, rid)
    return world


@pytest.fixture
def slow(slow_template: World, tmp_path: Path) -> World:
    """r2 committed on main, approved by every role for its digest, denied by the latency gate
    (60 ms > 50 ms)."""
    world = slow_template.copy(tmp_path / "world")
    denied = world.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "latency_p95_ms is 60 ms, above the maximum 50 ms" in denied.stderr
    return world


# --- approve: membership at the protected branch -------------------------------------------


def _join_risk_owner(clone: Path, who: str) -> None:
    path = clone / "governance.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["roles"]["risk_owner"]["members"].append(who)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_approve_reads_roles_from_the_protected_branch_not_the_working_tree(
        world: World) -> None:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-04-10")
    before = len(events(world))
    # bob (platform_owner) adds himself to risk_owner without committing it
    _join_risk_owner(ci, "bob")
    local = world.run("bob", "approve", rid, "--role", "risk_owner", expect=1)
    assert "approve decides on what is committed on the protected branch 'main'" in local.stderr
    assert "governance.yaml (modified)" in local.stderr
    assert "commit them and merge them into 'main' through review" in local.stderr
    # committed on his own branch, not merged: the protected branch's roles still decide
    git(ci, "checkout", "-qb", "bob-joins-risk")
    commit_all(ci, "bob joins risk_owner")
    branch = world.run("bob", "approve", rid, "--role", "risk_owner", expect=1)
    assert ("bob is not a member of role 'risk_owner' in governance.yaml "
            "(members: jane.smith)") in branch.stderr
    assert len(events(world)) == before  # nothing was signed
    # the honest flow: the member approves, from main
    git(ci, "checkout", "-q", "main")
    world.run("jane.smith", "approve", rid, "--role", "risk_owner")
    assert events(world)[-1]["event_type"] == "approval_granted"


def test_approve_refuses_a_release_directory_nobody_committed(world: World) -> None:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    register(world, ci, rid, "2026-04-10")
    before = len(events(world))
    done = world.run("alice", "approve", rid, "--role", "ml_lead", expect=1)
    assert f"releases/{MODEL}/{rid}/release.yaml (untracked)" in done.stderr
    assert f"releases/{MODEL}/{rid}/model-card.yaml (untracked)" in done.stderr
    assert len(events(world)) == before
    commit_all(ci, f"Release {rid}")
    world.run("alice", "approve", rid, "--role", "ml_lead")


# --- promote: the release and the configuration as committed -------------------------------


def test_promote_refuses_an_untracked_release_directory(approved: World) -> None:
    ci = approved.ci
    git(ci, "rm", "-rq", "--cached", f"releases/{MODEL}/{R2}")
    git(ci, "commit", "-qm", "r2 is no longer tracked (the files stay on disk)")
    before = len(events(approved))
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert f"releases/{MODEL}/{R2}/release.yaml (untracked)" in done.stderr
    assert "(recorded as policy_violation" in done.stderr
    violation = recorded_violation(approved, before, BOT, "not committed")
    assert (violation["release_id"], violation["environment"]) == (R2, "staging")
    assert not (ci / "environments" / "staging.yaml").read_text().count(R2)
    # the honest flow: committed again, promoted; the policy digest names the committed tree
    commit_all(ci, "Track r2 again")
    approved.run(BOT, "promote", R2, "--env", "staging")
    promoted, gate = events(approved)[-1], events(approved)[-2]
    assert promoted["event_type"] == "deployment_promoted"
    assert promoted["policy_digest"] == gate["policy_digest"] == committed_policy_digest(ci)


def test_promote_refuses_a_release_edited_after_its_commit(approved: World) -> None:
    card = approved.ci / "releases" / MODEL / R2 / "model-card.yaml"
    card.write_text(card.read_text() + "# a local note\n")
    before = len(events(approved))
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert f"releases/{MODEL}/{R2}/model-card.yaml (modified)" in done.stderr
    recorded_violation(approved, before, BOT, "not committed")


def test_promote_refuses_when_the_protected_branch_has_no_commit(approved: World) -> None:
    ci = approved.ci
    git(ci, "branch", "-m", "main", "previous")
    git(ci, "checkout", "-q", "--orphan", "main")  # main unborn; every file still on disk
    before = len(events(approved))
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "the protected branch 'main' has no commit: there is nothing committed to promote" \
        in done.stderr
    recorded_violation(approved, before, BOT, "has no commit")
    approve = approved.run("alice", "approve", R2, "--role", "ml_lead", expect=1)
    assert "the protected branch 'main' has no commit" in approve.stderr


def test_uncommitted_waiver_is_not_applied(slow: World) -> None:
    ci = slow.ci
    path = ci / "governance.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["waivers"] = [{"gate_id": "latency", "model": MODEL, "release_id": R2,
                       "approver": "bob", "reason": "nobody reviewed this",
                       "expires": "2099-01-01"}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    before = len(events(slow))
    done = slow.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "governance.yaml (modified)" in done.stderr
    recorded_violation(slow, before, BOT, "not committed")  # no gate ran with the waiver


def test_uncommitted_policy_edit_does_not_decide(slow: World) -> None:
    ci = slow.ci
    rego = ci / LATENCY
    original = rego.read_text()
    # a `false` line in the deny rule that fires: the gate can no longer deny
    loosened = original.replace("\tgot > latency_max\n", "\tgot > latency_max\n\tfalse\n")
    assert loosened != original
    rego.write_text(loosened)
    before = len(events(slow))
    done = slow.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert f"{LATENCY.as_posix()} (modified)" in done.stderr
    recorded_violation(slow, before, BOT, "not committed")
    # hidden from `git status`: the content itself is compared with the commit
    git(ci, "update-index", "--assume-unchanged", LATENCY.as_posix())
    assert git(ci, "status", "--porcelain", "--", "policies") == ""
    before = len(events(slow))
    hidden = slow.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "here these differ from the commit" in hidden.stderr
    assert "policies/ (tree " in hidden.stderr
    recorded_violation(slow, before, BOT, "differ from the commit")
    # restored: the committed policy decides, and denies
    git(ci, "update-index", "--no-assume-unchanged", LATENCY.as_posix())
    rego.write_text(original)
    denied = slow.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "latency_p95_ms is 60 ms, above the maximum 50 ms" in denied.stderr
    assert events(slow)[-1]["policy_digest"] == committed_policy_digest(ci)


# --- rollback: only the digest that was approved and live there ------------------------------


def _r2_live_everywhere(world: World) -> None:
    world.run(BOT, "promote", R2, "--env", "staging")
    world.run(BOT, "promote", R2, "--env", "production")


def _edit_artifact(clone: Path) -> None:
    path = clone / "releases" / MODEL / R1 / "release.yaml"
    text = path.read_text()
    edited = text.replace(f"s3://model-registry/{MODEL}/2026-03-28/model.joblib",
                          f"s3://attacker/{MODEL}/model.joblib")
    assert edited != text
    path.write_text(edited)


def _rollback(world: World, expect: int) -> Any:
    return world.run("platform-oncall", "rollback", MODEL, "--env", "production", "--to", R1,
                     "--reason", "r2 misbehaves", "--incident", "INC-9", expect=expect)


def test_rollback_from_another_branch_to_edited_content_is_refused(approved: World) -> None:
    ci = approved.ci
    _r2_live_everywhere(approved)
    git(ci, "checkout", "-qb", "evil")
    _edit_artifact(ci)
    commit_all(ci, "point r1 at another artifact")
    before = len(events(approved))
    done = _rollback(approved, 1)
    assert "rollback runs only from the protected branch 'main' (got 'evil')" in done.stderr
    recorded_violation(approved, before, "platform-oncall", "protected branch")
    # the same edit merged into main: not the digest that was approved and live there
    git(ci, "checkout", "-q", "main")
    git(ci, "merge", "-q", "--ff-only", "evil")
    before = len(events(approved))
    merged = _rollback(approved, 1)
    assert ("rollback goes only to the digest that was approved and live there"
            in merged.stderr)
    assert "digest_unchanged" not in merged.stderr  # refused, not warned
    violation = recorded_violation(approved, before, "platform-oncall", "was approved")
    assert violation["release_id"] == R1
    assert approved.run(None, "live", MODEL, "--env", "production", "--at",
                        "now").stdout.splitlines()[0] == R2


def test_rollback_to_uncommitted_edits_is_refused_then_the_approved_content_rolls_back(
        approved: World) -> None:
    ci = approved.ci
    _r2_live_everywhere(approved)
    _edit_artifact(ci)
    before = len(events(approved))
    done = _rollback(approved, 1)
    assert f"releases/{MODEL}/{R1}/release.yaml (modified)" in done.stderr
    recorded_violation(approved, before, "platform-oncall", "not committed")
    # restored: the approved, previously live digest rolls back, without digest warnings
    git(ci, "checkout", "--", f"releases/{MODEL}/{R1}/release.yaml")
    ok = _rollback(approved, 0)
    assert f"rolled back {MODEL} in production: {R2} -> {R1}" in ok.stdout
    assert "digest_unchanged" not in ok.stderr and "required_approvals" not in ok.stderr
    rolled = events(approved)[-1]
    assert rolled["event_type"] == "rollback_executed"
    assert rolled["policy_digest"] == committed_policy_digest(ci)
    r1_promoted = next(e for e in events(approved) if e["event_type"] == "deployment_promoted"
                       and e["release_id"] == R1 and e["environment"] == "production")
    assert rolled["release_digest"] == r1_promoted["release_digest"]
