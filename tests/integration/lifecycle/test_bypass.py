"""Bypass attempts: each is refused with a specific message and leaves the right trace.

Fixtures (conftest): ``world`` has r1 live in staging and production; ``approved`` also has r2
on main, approved by every role for its digest and not yet live.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
    commit_all,
    git,
    github_env,
    open_reviewed_pr,
    register,
    write_release,
)
from tests.integration.workflows.workflow_files import run_script
from tests.support.fake_github import FakeGitHub

PR = 21


def kinds(world: World, clone: Path | None = None) -> list[str]:
    return [e["event_type"] for e in world.events(clone)]


def last_gate(world: World) -> dict[str, Any]:
    return next(e for e in reversed(world.events()) if e["event_type"] == "gate_evaluated")


def assert_violation(world: World, before: int, actor: str, rid: str, env: str,
                     why: str) -> None:
    """The refusal left exactly one trace: a policy_violation naming who, what and why."""
    events = world.events()
    assert [e["event_type"] for e in events[before:]] == ["policy_violation"]
    v = events[-1]
    assert (v["actor_id"], v["release_id"], v["environment"]) == (actor, rid, env)
    assert why in v["reason"]


# --- a direct push to main -------------------------------------------------------------------


def _direct_push(world: World) -> str:
    """dana commits release r2 straight to main and pushes it: no pull request, no approval."""
    dana = world.clone("dana")
    rid = write_release(world, dana, "2026-04-10", auc=0.94, intl=0.86)
    commit_all(dana, f"Release {rid} (pushed directly)")
    git(dana, "push", "-q", "origin", "main")
    register(world, dana, rid, "2026-04-10")
    git(dana, "push", "-q", "origin", "governance/ledger")
    git(world.ci, "pull", "-q", "--ff-only", "origin", "main")
    world.sync_ledger(world.ci)
    return rid


def violation_event(rid: str, merge_sha: str) -> dict[str, Any]:
    """What the promote workflow's `record` builds for a direct push (no pull request)."""
    return {"event_type": "policy_violation", "release_id": rid, "model_name": MODEL,
            "environment": "staging",
            "reason": "release reached main without a merged pull request",
            "source": {"merge_sha": merge_sha, "pusher": "dana",
                       "ci_run": "https://github.example/acme/models/actions/runs/4242"}}


def test_direct_push_is_not_promoted_and_is_recorded(world: World) -> None:
    rid = _direct_push(world)
    before = len(world.events())
    denied = world.run(BOT, "promote", rid, "--env", "staging", expect=1)
    assert f"promotion of {rid} to staging denied by the gates" in denied.stderr
    assert "approvals: staging needs 1 approval(s) from role ml_lead" in denied.stderr
    gate = last_gate(world)  # the denial itself is on the ledger
    assert gate["release_id"] == rid and gate["decision"]["allow"] is False
    assert kinds(world)[before:] == ["gate_evaluated"]  # and no deployment_promoted
    # the workflow's violation path: `governance ledger append` with the event it builds
    event_file = world.path / "event.json"
    event = violation_event(rid, git(world.ci, "rev-parse", "HEAD"))
    event_file.write_text(json.dumps({k: v for k, v in event.items() if k != "event_type"}))
    world.run(BOT, "ledger", "append", "--type", "policy_violation", "--event",
              str(event_file))
    recorded = world.events()[-1]
    assert recorded["event_type"] == "policy_violation" and recorded["release_id"] == rid
    assert recorded["actor_id"] == BOT and "without a merged pull request" in recorded["reason"]
    status = world.json(None, "status", MODEL)
    assert {r["release_id"]: r["state"] for r in status["models"][0]["releases"]}[rid] in (
        "draft", "validated")


def test_promote_workflow_violation_step_records_a_direct_push(world: World) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's ubuntu runners ship it)")
    rid = _direct_push(world)
    script, literal, _ = run_script("governance-promote.yml", "verify",
                                    "Re-verify each release at the pull request's final head")
    bin_dir = world.path / "bin"
    bin_dir.mkdir()
    (bin_dir / "governance").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m governance "$@"\n')
    (bin_dir / "governance").chmod(0o755)
    (world.path / "step.sh").write_text(script)
    runner_temp = world.path / "runner-temp"
    runner_temp.mkdir()
    env = {**world.env(None), **literal, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(runner_temp), "GITHUB_REPOSITORY": "acme/models",
           "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "4242",
           "GITHUB_ACTOR": "dana", "GITHUB_REF_NAME": "main",
           "GITHUB_SHA": git(world.ci, "rev-parse", "HEAD"), "GITHUB_TOKEN": "unused",
           # what the step's env maps from the secrets GOVERNANCE_SIGNING_KEY / _LOG_KEY
           "GOVERNANCE_LEDGER_SIGNING_KEY": (world.keys / BOT).read_text(),
           "GOVERNANCE_LEDGER_LOG_KEY": (world.keys / "log").read_text(),
           "PR": "", "RELEASES": f"{MODEL}/{rid}", "CONFIG": "0", "POINTERS": "0",
           "TARGET_ENV": world.run(None, "env", "first").stdout.strip(),
           "BEFORE": git(world.ci, "rev-parse", "HEAD~1")}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                           str(world.path / "step.sh")], cwd=world.ci, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1  # the job fails: a violation
    recorded = world.events()[-1]
    assert recorded["event_type"] == "policy_violation", done.stdout + done.stderr
    assert recorded["release_id"] == rid and recorded["environment"] == "staging"


# --- pull requests: counting refuses ---------------------------------------------------------


def _pull_request(world: World, fake: FakeGitHub, author: str, files: dict[str, str]
                  ) -> tuple[Path, str, str]:
    """A branch by ``author`` adding r2 and ``files``, opened as pull request PR."""
    clone = world.clone(author)
    git(clone, "checkout", "-qb", "change")
    write_release(world, clone, "2026-04-10", auc=0.94, intl=0.86)
    first = commit_all(clone, "Release r2")
    for rel, text in files.items():
        (clone / rel).write_text(text)
    head = commit_all(clone, "More changes")
    fake.add_pull(PR, head, git(clone, "rev-parse", "origin/main"), author)
    fake.add_commit(PR, first, author)
    fake.add_commit(PR, head, author)
    fake.permissions.update(dict.fromkeys(("alice", "bob", "jane.smith", "dana"), "write"))
    return clone, first, head


def test_policy_pull_request_approved_only_by_its_author(world: World,
                                                         fake_github: FakeGitHub) -> None:
    latency = world.ci / "policies" / "gates" / "latency.rego"
    weakened = latency.read_text().replace("package governance.gates",
                                           "package governance.gates\n\n# loosened")
    clone, _, head = _pull_request(world, fake_github, "bob",
                                   {"policies/gates/latency.rego": weakened})
    fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:00:00Z")  # the author
    fake_github.add_review(PR, "alice", "APPROVED", head, "2026-11-26T12:01:00Z")  # ml_lead
    done = world.run(None, "check", R2, "--env", "staging", "--pr", str(PR), "--approvals",
                     "github", cwd=clone, extra=github_env(fake_github), expect=1)
    assert done.stdout.startswith(f"DENY {R2}")
    # the roles are filled; what is missing is a code owner of policies/ other than the author
    assert ("no counted approval from a code owner (@bob @jane.smith) for "
            "policies/gates/latency.rego") in done.stdout
    assert "role ml_lead needs" not in done.stdout
    fake_github.add_review(PR, "jane.smith", "APPROVED", head, "2026-11-26T12:02:00Z")
    world.run(None, "check", R2, "--env", "staging", "--pr", str(PR), "--approvals", "github",
              cwd=clone, extra=github_env(fake_github), expect=0)


def test_approval_on_an_old_head_does_not_count(world: World, fake_github: FakeGitHub) -> None:
    clone, first, head = _pull_request(world, fake_github, "dana", {"NOTES.md": "late\n"})
    fake_github.add_review(PR, "alice", "APPROVED", first, "2026-11-26T12:00:00Z")
    done = world.run(None, "check", R2, "--env", "staging", "--pr", str(PR), "--approvals",
                     "github", cwd=clone, extra=github_env(fake_github), expect=1)
    assert done.stdout.startswith(f"DENY {R2}")
    # alice's approval was for the first commit; the head has none (the gate says so)
    assert "staging needs 1 approval(s) from role ml_lead for digest" in done.stdout
    assert "approval by alice as ml_lead does not count: review " in done.stdout
    assert (f"was given on {first[:12]}, not on the head {head[:12]} (stale after a new push)"
            in done.stdout)
    fake_github.add_review(PR, "alice", "APPROVED", head, "2026-11-26T12:05:00Z")
    fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:06:00Z")  # owns NOTES.md
    world.run(None, "check", R2, "--env", "staging", "--pr", str(PR), "--approvals", "github",
              cwd=clone, extra=github_env(fake_github), expect=0)


# --- promote and rollback refuse ------------------------------------------------------------


def test_deployer_who_approved_is_denied_by_separation_of_duties(approved: World) -> None:
    before = len(approved.events())
    done = approved.run("alice", "promote", R2, "--env", "staging", expect=1)
    assert ("separation_of_duties: alice held both approver and deployer: an approver may not "
            "deploy the release (sod-approver-deployer)") in done.stderr
    assert kinds(approved)[before:] == ["gate_evaluated"]
    gate = last_gate(approved)
    assert gate["actor_id"] == "alice" and gate["decision"]["allow"] is False
    approved.run(BOT, "promote", R2, "--env", "staging")  # someone else may


def test_rollback_to_a_release_never_live_there(approved: World) -> None:
    approved.run(BOT, "promote", R2, "--env", "staging")
    before = len(approved.events())
    done = approved.run("platform-oncall", "rollback", MODEL, "--env", "production", "--to", R2,
                        "--reason", "try the new one", expect=1)
    assert (f"{R2} was never live in production; rollback goes only to a release previously "
            "live in that environment (recorded as policy_violation") in done.stderr
    assert_violation(approved, before, "platform-oncall", R2, "production", "was never live")
    assert approved.run(None, "live", MODEL, "--env", "production", "--at",
                        "now").stdout.splitlines()[0] == R1


def test_retired_release_is_never_promoted(approved: World) -> None:
    approved.run("jane.smith", "retire", R2, "--reason", "superseded before launch")
    before = len(approved.events())
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert (f"release {R2} is retired (superseded before launch) and can never be promoted "
            "again (recorded as policy_violation") in done.stderr
    assert_violation(approved, before, BOT, R2, "staging", "is retired")


def test_release_changed_after_approval(approved: World) -> None:
    card = approved.ci / "releases" / MODEL / R2 / "model-card.yaml"
    card.write_text(card.read_text().replace("weaker on first-time international merchants",
                                             "no known limitations"))
    commit_all(approved.ci, "Edit the card after approval")
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "digest_unchanged" in done.stderr
    assert last_gate(approved)["decision"]["allow"] is False
    # the approvals were for the old digest: they lapse, the check says who must re-approve
    check = approved.run(None, "check", R2, "--env", "staging", expect=1)
    assert "staging needs 1 approval(s) from role ml_lead for digest sha256:" in check.stdout


def test_promotion_from_a_branch_that_is_not_protected(approved: World) -> None:
    git(approved.ci, "checkout", "-qb", "hotfix")
    before = len(approved.events())
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1)
    assert "promotion runs only from the protected branch 'main' (got 'hotfix')" in done.stderr
    assert_violation(approved, before, BOT, R2, "staging", "protected branch")


def test_production_before_staging(approved: World) -> None:
    before = len(approved.events())
    done = approved.run(BOT, "promote", R2, "--env", "production", expect=1)
    assert (f"{R2} must be live in 'staging' before 'production' (environment order in "
            "governance.yaml) (recorded as policy_violation") in done.stderr
    assert_violation(approved, before, BOT, R2, "production", "environment order")


# --- every deployer, and the branch before the pointer repair --------------------------------


def test_every_deployer_is_checked_not_only_the_first(approved: World) -> None:
    """GOVERNANCE_DEPLOYER lists everyone who approved the deployment run; a second reviewer who
    also approved the release is caught (taking only the first login let her through)."""
    before = len(approved.events())
    done = approved.run(BOT, "promote", R2, "--env", "staging", expect=1,
                        extra={"GOVERNANCE_DEPLOYER": "dora, alice"})
    assert ("separation_of_duties: alice held both approver and deployer: an approver may not "
            "deploy the release (sod-approver-deployer)") in done.stderr
    assert kinds(approved)[before:] == ["gate_evaluated"]
    bad = approved.run(BOT, "promote", R2, "--env", "staging", expect=2,
                       extra={"GOVERNANCE_DEPLOYER": "dora,$(id)"})
    assert "GOVERNANCE_DEPLOYER names '$(id)', which is not a login" in bad.stderr
    approved.run(BOT, "promote", R2, "--env", "staging", extra={"GOVERNANCE_DEPLOYER": "dora"})
    # the ledger says who deployed (the reviewer of the deployment run), not only the bot
    promoted = approved.events()[-1]
    assert promoted["event_type"] == "deployment_promoted"
    assert promoted["actor_id"] == BOT
    assert promoted["source"]["deployers"] == ["dora", BOT]
    assert last_gate(approved)["source"]["deployers"] == ["dora", BOT]


def test_off_branch_run_is_refused_before_the_pointer_repair(world: World) -> None:
    """r1 is live in staging on the ledger and the pointer lags (as after a crash): re-running
    promote repairs it, but only from the protected branch; off it, the run is refused and
    recorded first and no file is written."""
    pointer = world.ci / "environments" / "staging.yaml"
    doc = yaml.safe_load(pointer.read_text())
    doc["models"] = {}
    pointer.write_text(yaml.safe_dump(doc, sort_keys=False))
    lagging = pointer.read_text()
    git(world.ci, "checkout", "-qb", "hotfix")
    before = len(world.events())
    done = world.run(BOT, "promote", R1, "--env", "staging", expect=1)
    assert "promotion runs only from the protected branch 'main' (got 'hotfix')" in done.stderr
    assert_violation(world, before, BOT, R1, "staging", "protected branch")
    assert pointer.read_text() == lagging  # not repaired off the protected branch
    git(world.ci, "checkout", "-q", "main")
    out = world.json(BOT, "promote", R1, "--env", "staging")
    assert out["repaired_pointer"] is True and out["events"] == []


# --- the merge commit holds what the reviews approved -----------------------------------------


def test_merge_that_changes_the_reviewed_release_is_refused_and_recorded(
        world: World, fake_github: FakeGitHub) -> None:
    """Reviews approve the PR's head; promotion runs on the merge commit. An (evil) merge whose
    release directory differs from the head's gets no approval: `check --pr` denies (the
    reviews bind to the head's digest) and promote refuses with a policy_violation."""
    r2, head = open_reviewed_pr(world, fake_github, PR)
    ci = world.ci
    git(ci, "fetch", "-q", "origin")
    git(ci, "merge", "-q", "--no-ff", "--no-commit", "origin/release/r2")
    card = ci / "releases" / MODEL / r2 / "model-card.yaml"
    card.write_text(card.read_text().replace("weaker on first-time international merchants",
                                             "no known limitations"))
    merge = commit_all(ci, f"Merge pull request #{PR}")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    world.sync_ledger(ci)
    extra = {**github_env(fake_github), "GOVERNANCE_PR": str(PR)}

    check = world.run(None, "check", r2, "--env", "staging", "--pr", str(PR), "--approvals",
                      "github", extra=github_env(fake_github), expect=1)
    assert "staging needs 1 approval(s) from role ml_lead" in check.stdout
    before = len(world.events())
    done = world.run(BOT, "promote", r2, "--env", "staging", extra=extra, expect=1)
    assert (f"the release directory of {r2} here (sha256:") in done.stderr
    assert (f"is not what the pull request's approvals were given for at its head "
            f"{head[:12]}") in done.stderr
    assert kinds(world)[before:] == ["policy_violation"]
    violation = world.events()[-1]
    assert violation["source"] == {"pr": PR, "head_sha": head}
    assert violation["release_id"] == r2 and merge != head

    # the same merge without the edit: the digest at the merge equals the head's, promoted
    git(ci, "reset", "-q", "--hard", "HEAD~1")
    git(ci, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR}", "origin/release/r2")
    world.run(BOT, "promote", r2, "--env", "staging", extra=extra)
    assert world.events()[-1]["event_type"] == "deployment_promoted"
