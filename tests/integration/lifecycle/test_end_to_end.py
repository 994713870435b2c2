"""The seed's flow as one: a release branch, approvals, merge, promote, rollback, verify.

People work in their own clones of a bare origin and sign with their own SSH keys; the CI clone
runs what the promote workflow runs (check, promote, push the ledger). GitHub reviews come from
the fake GitHub server on loopback, read by the real PyGithub client.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.integration.lifecycle.world import (
    APPROVERS,
    BOT,
    MODEL,
    R1,
    World,
    git,
    github_env,
    open_reviewed_pr,
    outputs,
    run_step,
)
from tests.support.fake_github import FakeGitHub

PR = 12


def test_release_branch_to_production_and_back(world: World, fake_github: FakeGitHub) -> None:
    # dana proposes release r2 on a branch, registers it on the ledger, and every role
    # approves the pull request on (fake) GitHub: the gate's `check --pr` counts the reviews
    r2, _ = open_reviewed_pr(world, fake_github, PR)
    dana = world.path / "dana"
    gate = world.run(None, "check", r2, "--env", "staging", "--pr", str(PR), "--approvals",
                     "github", cwd=dana, extra=github_env(fake_github))
    assert gate.stdout.startswith(f"PASS {r2}"), gate.stdout

    # each approver signs a git-native approval in their own clone and publishes it
    for who, role in APPROVERS:
        clone = world.clone(who)
        git(clone, "checkout", "-q", "-b", "review", "origin/release/r2")
        out = world.json(who, "approve", r2, "--role", role, "--remote", "origin", cwd=clone)
        assert out["granted"] is True
    assert out["release_approved"] is True and out["remaining"] == []

    # merge to main; CI takes main and the ledger from origin, then promotes in order
    ci = world.ci
    git(ci, "fetch", "-q", "origin")
    git(ci, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR}", "origin/release/r2")
    git(ci, "push", "-q", "origin", "main")
    world.sync_ledger(ci)
    world.run(None, "check", r2, "--env", "staging", cwd=ci)
    for env in ("staging", "production"):
        done = world.json(BOT, "promote", r2, "--env", env, "--remote", "origin", cwd=ci)
        assert [e["event_type"] for e in done["events"]] == ["gate_evaluated",
                                                              "deployment_promoted"]
    live = world.run(None, "live", MODEL, "--env", "production", "--at", "now", cwd=ci)
    assert live.stdout.splitlines()[0] == r2

    # incident: on-call rolls production back to the fallback, r1
    out = world.json("platform-oncall", "rollback", MODEL, "--env", "production", "--reason",
                     "p95 latency regression", "--incident", "INC-4821", "--remote", "origin",
                     cwd=ci)
    assert out["release_id"] == R1
    rollback = world.events(ci)[-1]
    assert rollback["event_type"] == "rollback_executed"
    assert (rollback["from_release"], rollback["to_release"], rollback["incident"],
            rollback["actor_id"], rollback["reason"]) == (
        r2, R1, "INC-4821", "platform-oncall", "p95 latency regression")

    # status: live, fallback, no drift (exit 0)
    status = world.json(None, "status", MODEL, cwd=ci)
    [model] = status["models"]
    envs = {e["environment"]: e for e in model["environments"]}
    assert (envs["production"]["live"], envs["production"]["fallback"]) == (R1, None)
    assert envs["production"]["via"] == "rollback_executed"
    assert (envs["staging"]["live"], envs["staging"]["fallback"]) == (r2, R1)
    assert model["drift"] == [] and model["obligations"] == []
    states = {r["release_id"]: r["state"] for r in model["releases"]}
    assert states == {R1: "production", r2: "rolled_back"}
    assert model == world.full_fold_status(ci)  # the index's per-model fold agrees

    # the ledger everyone pushed to origin verifies from a fresh clone
    auditor = world.clone("auditor")
    verify = world.run(None, "ledger", "verify", cwd=auditor)
    assert verify.stdout.startswith("ok: ")
    kinds = [e["event_type"] for e in world.events(auditor)]
    assert kinds[-10:] == ["release_registered", "approval_granted", "approval_granted",
                           "approval_granted", "release_approved", "gate_evaluated",
                           "deployment_promoted", "gate_evaluated", "deployment_promoted",
                           "rollback_executed"]


def test_promote_workflow_promotes_on_the_merged_pull_requests_reviews(
        world: World, fake_github: FakeGitHub) -> None:
    """What governance-promote.yml runs: `promote` with GOVERNANCE_PR, approvals being the
    merged pull request's reviews at its final head (no git-native approval at all)."""
    r2, head = open_reviewed_pr(world, fake_github, PR)

    ci = world.ci
    git(ci, "fetch", "-q", "origin")
    git(ci, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR}", "origin/release/r2")
    git(ci, "push", "-q", "origin", "main")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    world.sync_ledger(ci)

    # the ledger holds no approval of r2: without the pull request, promote is denied
    denied = world.run(BOT, "promote", r2, "--env", "staging", expect=1)
    assert "staging needs 1 approval(s) from role ml_lead" in denied.stderr
    extra = {**github_env(fake_github), "GOVERNANCE_PR": str(PR)}
    for env in ("staging", "production"):
        world.run(BOT, "promote", r2, "--env", env, extra=extra)
        promoted = world.events()[-1]
        assert (promoted["event_type"], promoted["environment"]) == ("deployment_promoted", env)
        assert promoted["source"] == {"pr": PR}
    bad = world.run(BOT, "promote", r2, "--env", "staging", expect=2,
                    extra={"GOVERNANCE_PR": "12; rm -rf"})
    assert "GOVERNANCE_PR='12; rm -rf' is not a pull request number" in bad.stderr


def test_workflow_steps_promote_in_environment_order_and_publish_the_pointers(
        world: World, fake_github: FakeGitHub) -> None:
    """The workflows' own scripts with the real CLI: a merge promotes into the FIRST
    environment (`env first`), a dispatch of governance-promote-next.yml takes the release to
    the next one on the same pull request's reviews, and each run publishes the pointers to
    governance/environments on origin, after the ledger."""
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's ubuntu runners ship it)")
    r2, head = open_reviewed_pr(world, fake_github, PR)
    ci = world.ci
    git(ci, "fetch", "-q", "origin")
    before = git(ci, "rev-parse", "HEAD")
    git(ci, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR}", "origin/release/r2")
    merge = git(ci, "rev-parse", "HEAD")
    git(ci, "push", "-q", "origin", "main")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    # GitHub keeps the reviewed head as refs/pull/N/head
    git(world.path / "dana", "push", "-q", "origin", f"{head}:refs/pull/{PR}/head")
    world.sync_ledger(ci)
    gh = {**github_env(fake_github), "GITHUB_SHA": merge}
    done = run_step(world, "governance-promote.yml", "verify", "Fetch the pull request's head",
                    ci, GH_TOKEN="unused", PR=str(PR))
    assert done.returncode == 0, done.stderr
    deployer = world.path / "runner-temp" / "deployer"

    # governance-promote.yml on the push: the first environment, verify, promote, publish
    done = run_step(world, "governance-promote.yml", "verify", "Name the first environment", ci)
    assert done.returncode == 0, done.stderr
    assert outputs(world) == {"env": "staging"}
    done = run_step(world, "governance-promote.yml", "verify",
                    "Re-verify each release at the pull request's final head", ci, **gh,
                    PR=str(PR), RELEASES=f"{MODEL}/{r2}", CONFIG="0", POINTERS="0",
                    BEFORE=before, TARGET_ENV="staging")
    assert done.returncode == 0, done.stdout + done.stderr
    deployer.write_text("dora\n")  # what the deployer check leaves for the promote step
    done = run_step(world, "governance-promote.yml", "promote", "Promote", ci, **gh,
                    GOVERNANCE_PR=str(PR), RELEASES=f"{MODEL}/{r2}", TARGET_ENV="staging")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (world.events()[-1]["event_type"], world.events()[-1]["environment"]) == (
        "deployment_promoted", "staging")
    done = run_step(world, "governance-promote.yml", "promote",
                    "Push the ledger, then publish the pointers", ci, GH_TOKEN="unused",
                    TARGET_ENV="staging")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(world.origin, "rev-parse", "governance/ledger") == git(ci, "rev-parse",
                                                                      "governance/ledger")
    staging = yaml.safe_load(git(world.origin, "show",
                                 "governance/environments:environments/staging.yaml"))
    assert staging["models"][MODEL]["release_id"] == r2

    # governance-promote-next.yml by dispatch: the next environment, on the PR's reviews
    done = run_step(world, "governance-promote-next.yml", "plan",
                    "Name the target environment and re-verify the approvals", ci,
                    **github_env(fake_github), RELEASE=r2, REQUESTED_ENV="")
    assert done.returncode == 0, done.stdout + done.stderr
    planned = outputs(world)
    assert planned == {"env": "production", "pr": str(PR), "release": r2}
    deployer.write_text("dora,erin\n")
    done = run_step(world, "governance-promote-next.yml", "promote", "Promote", ci,
                    **github_env(fake_github), GOVERNANCE_PR=planned["pr"], RELEASE=r2,
                    TARGET_ENV=planned["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    promoted = world.events()[-1]
    # the deployment run's approvers are on the event, beside the bot that signed it
    assert (promoted["event_type"], promoted["environment"], promoted["source"]) == (
        "deployment_promoted", "production", {"pr": PR, "deployers": ["dora", "erin", BOT]})
    done = run_step(world, "governance-promote-next.yml", "promote",
                    "Push the ledger, then publish the pointers", ci, GH_TOKEN="unused",
                    TARGET_ENV="production")
    assert done.returncode == 0, done.stdout + done.stderr
    production = yaml.safe_load(git(world.origin, "show",
                                    "governance/environments:environments/production.yaml"))
    assert production["models"][MODEL]["release_id"] == r2
    world.run(None, "env", "next", r2, expect=1)
    # a dispatch asking to skip ahead or repeat is refused by the plan
    done = run_step(world, "governance-promote-next.yml", "plan",
                    "Name the target environment and re-verify the approvals", ci,
                    **github_env(fake_github), RELEASE=r2, REQUESTED_ENV="staging")
    assert done.returncode != 0
