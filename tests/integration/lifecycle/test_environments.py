"""`governance env`: promotion order from governance.yaml, the pointer branch, hand edits.

Fixtures (conftest): ``world`` has r1 live in staging and production; ``approved`` also has r2
approved by every role and live nowhere. Real git, real signatures, a bare origin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World, git


def test_order_first_and_next_come_from_governance_yaml(approved: World) -> None:
    assert approved.run(None, "env", "list").stdout.split() == ["staging", "production"]
    assert approved.run(None, "env", "first").stdout.strip() == "staging"
    doc = approved.json(None, "env", "list")
    assert doc["environments"][1] == {"name": "production", "after": "staging",
                                      "required_approvals": ["ml_lead", "platform_owner",
                                                             "risk_owner"],
                                      "protected_branch": None}
    nxt = approved.json(None, "env", "next", R2)
    assert (nxt["environment"], nxt["pull_request"]) == ("staging", None)
    approved.run(BOT, "promote", R2, "--env", "staging", extra={"GOVERNANCE_PR": ""})
    assert approved.run(None, "env", "next", R2).stdout.strip() == "production"
    approved.run(BOT, "promote", R2, "--env", "production")
    done = approved.run(None, "env", "next", R2, expect=1)
    assert f"{R2} is live in every environment it may be promoted to" in done.stderr


def test_first_environment_follows_a_reordered_configuration(world: World) -> None:
    config = world.ci / "governance.yaml"
    doc = yaml.safe_load(config.read_text())
    envs = doc["environments"]
    doc["environments"] = {"canary": {"required_approvals": ["ml_lead"]},
                           "staging": {**envs["staging"], "after": "canary"},
                           "production": envs["production"]}
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert world.run(None, "env", "first").stdout.strip() == "canary"
    doc["environments"] = {"production": envs["production"], "staging": envs["staging"]}
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    bad = world.run(None, "env", "first", expect=3)
    assert "environment 'production' comes after 'staging', which is not defined before it" in (
        bad.stderr)


def _origin_pointer(world: World, env: str) -> dict[str, object]:
    text = git(world.origin, "show", f"governance/environments:environments/{env}.yaml")
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def _hand_edit_production(world: World) -> tuple[Path, Path, dict[str, Any], str]:
    """Someone with push rights points production at another release on the pointer branch,
    bypassing the ledger: (their clone, the file, its document, the pushed commit)."""
    editor = world.clone("mallory", branch="governance/environments")
    pointer = editor / "environments" / "production.yaml"
    doc = yaml.safe_load(pointer.read_text())
    doc["models"][MODEL]["release_id"] = "fraud-risk-2026-04-10-01"
    pointer.write_text(yaml.safe_dump(doc, sort_keys=False))
    git(editor, "commit", "-qam", "hotfix the pointer")
    git(editor, "push", "-q", "origin", "governance/environments")
    return editor, pointer, doc, git(editor, "rev-parse", "HEAD")


def test_publish_commits_the_ledgers_pointers_and_repairs_on_rerun(approved: World) -> None:
    ci = approved.ci
    first = approved.json(BOT, "env", "publish", "--remote", "origin")
    assert first["changed"] is True and first["files"] == ["environments/production.yaml",
                                                           "environments/staging.yaml"]
    assert _origin_pointer(approved, "staging")["models"][MODEL]["release_id"] == R1
    signed = git(approved.origin, "cat-file", "commit", "governance/environments")
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in signed
    assert "committer Governance CI <governance-ci@acme.example>" in signed
    again = approved.json(BOT, "env", "publish", "--remote", "origin")
    assert again["changed"] is False and again["commit"] == first["commit"]

    # ledger first: a promotion appended locally but not pushed is never published
    approved.run(BOT, "promote", R2, "--env", "staging")
    refused = approved.run(BOT, "env", "publish", "--remote", "origin", expect=3)
    assert "push the ledger before the pointers" in refused.stderr
    git(ci, "push", "-q", "origin", "governance/ledger")
    done = approved.json(BOT, "env", "publish", "--remote", "origin")
    assert done["changed"] is True
    entry = _origin_pointer(approved, "staging")["models"][MODEL]
    event = approved.events()[-1]
    assert (entry["release_id"], entry["ledger_seq"], entry["ledger_event_id"]) == (
        R2, event["seq"], event["event_id"])
    # the working tree's pointer (written by promote) says the same as the published one
    assert approved.run(None, "env", "verify").stdout.strip() == "pointer files match the ledger"


def test_publish_builds_on_a_pointer_branch_that_moved(approved: World) -> None:
    """Another runner promoted and published meanwhile: this one fetches origin's ledger and
    pointer branch, regenerates from the newest ledger and drops nothing of the other's."""
    approved.run(BOT, "env", "publish", "--remote", "origin")
    other = approved.clone("other-runner")
    approved.run(BOT, "promote", R2, "--env", "staging", cwd=other)
    git(other, "push", "-q", "origin", "governance/ledger")
    approved.run(BOT, "env", "publish", "--remote", "origin", cwd=other)
    # this runner's local pointer branch is now behind origin's, and its ledger too
    done = approved.json(BOT, "env", "publish", "--remote", "origin")
    assert done["changed"] is False  # regenerated from origin's ledger: already published
    assert _origin_pointer(approved, "staging")["models"][MODEL]["release_id"] == R2
    log = git(approved.origin, "log", "--format=%s", "governance/environments").splitlines()
    assert len(log) == 2


def test_a_publication_that_loses_the_push_race_retries_on_the_new_tip(approved: World) -> None:
    """Another runner promotes and publishes between this run's fetch and its push (a pre-push
    hook of this clone does it, once): the push is refused as non-fast-forward, and the retry
    regenerates the pointers from origin's newer ledger on top of origin's new tip, so neither
    publication is lost."""
    import shlex
    import sys

    approved.run(BOT, "env", "publish", "--remote", "origin")
    approved.run(BOT, "promote", R2, "--env", "staging")  # this run has staging to publish
    git(approved.ci, "push", "-q", "origin", "governance/ledger")
    other = approved.clone("racing-runner")
    marker = approved.path / "raced"
    hook = approved.ci / ".git" / "hooks" / "pre-push"
    py, o = shlex.quote(sys.executable), shlex.quote(str(other))
    hook.write_text(  # the other runner moves R2 on to production and publishes first
        "#!/bin/sh\nset -e\n"
        f"[ -e {shlex.quote(str(marker))} ] && exit 0\n"
        f"touch {shlex.quote(str(marker))}\n"
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX\n"  # git sets them for hooks
        f"cd {o}\n"
        f"{py} -m governance promote {R2} --env production >/dev/null\n"
        "git push -q origin governance/ledger\n"
        f"{py} -m governance env publish --remote origin >/dev/null\n")
    hook.chmod(0o755)
    done = approved.json(BOT, "env", "publish", "--remote", "origin")
    assert marker.exists()
    # refused once (non-fast-forward), then origin's newer ledger already said it all
    assert done["attempts"] == 2 and done["changed"] is False
    for env in ("staging", "production"):
        assert _origin_pointer(approved, env)["models"][MODEL]["release_id"] == R2
    log = git(approved.origin, "log", "--format=%s", "governance/environments").splitlines()
    assert len(log) == 2  # the baseline and the other runner's; nothing dropped or duplicated
    approved.run(None, "env", "verify", "--ref", "origin/governance/environments")


def test_a_pointer_edited_by_hand_is_a_recorded_violation(world: World) -> None:
    world.run(BOT, "env", "publish", "--remote", "origin")
    editor, pointer, doc, pushed = _hand_edit_production(world)
    git(world.ci, "fetch", "-q", "origin")
    before = len(world.events())
    done = world.run(BOT, "env", "verify", "--ref", pushed, "--record", "--format", "json",
                     expect=1)
    report = json.loads(done.stdout)
    [mismatch] = report["mismatches"]
    assert (mismatch["environment"], mismatch["model"], mismatch["found"],
            mismatch["expected"]) == ("production", MODEL, "fraud-risk-2026-04-10-01", R1)
    events = world.events()
    assert [e["event_type"] for e in events[before:]] == ["policy_violation"]
    assert "pointer files differ from the ledger" in events[-1]["reason"]
    assert events[-1]["details"]["ref"] == pushed
    # a pointer that names the live release but another ledger event is caught too
    doc["models"][MODEL]["release_id"] = R1
    doc["models"][MODEL]["ledger_seq"] = 1
    pointer.write_text(yaml.safe_dump(doc, sort_keys=False))
    git(editor, "commit", "-qam", "fake the seq")
    git(editor, "push", "-q", "origin", "governance/environments")
    git(world.ci, "fetch", "-q", "origin")
    out = world.run(None, "env", "verify", "--ref", git(editor, "rev-parse", "HEAD"), expect=1)
    assert "names ledger seq 1" in out.stderr


def test_the_scheduled_reconciliation_records_and_repairs_a_hand_edit(world: World) -> None:
    """governance-pointers.yml's step, with the real CLI: a hand-pushed pointer is recorded as
    policy_violation once and published over; the next run finds nothing to do."""
    from tests.integration.lifecycle.world import run_step

    step = ("governance-pointers.yml", "reconcile",
            "Verify the ledger, then reconcile the pointer branch")
    world.run(BOT, "env", "publish", "--remote", "origin")
    _hand_edit_production(world)
    before = len(world.events())
    done = run_step(world, *step, world.ci, GH_TOKEN="unused-locally")
    assert done.returncode == 0, done.stderr
    assert "::warning::governance/environments did not match the ledger" in done.stdout
    git(world.ci, "fetch", "-q", "origin")
    git(world.ci, "branch", "--force", "governance/ledger", "origin/governance/ledger")
    events = world.events()
    assert [e["event_type"] for e in events[before:]] == ["policy_violation"]
    assert _origin_pointer(world, "production")["models"][MODEL]["release_id"] == R1
    again = run_step(world, *step, world.ci, GH_TOKEN="unused-locally")
    assert again.returncode == 0, again.stderr
    assert "::warning::" not in again.stdout
    assert len(world.events()) == before + 1  # recorded once


def test_verify_reads_the_working_tree_by_default(world: World) -> None:
    world.run(None, "env", "verify")
    pointer: Path = world.ci / "environments" / "staging.yaml"
    pointer.write_text(pointer.read_text().replace(R1, "fraud-risk-2099-01-01-01"))
    done = world.run(None, "env", "verify", expect=1)
    assert "MISMATCH environments/staging.yaml: fraud-risk -> fraud-risk-2099-01-01-01" in (
        done.stderr)


def test_publish_records_a_hand_edited_tip_once_and_repairs_it(world: World) -> None:
    world.run(BOT, "env", "publish", "--remote", "origin")
    editor = world.clone("mallory", branch="governance/environments")
    pointer = editor / "environments" / "staging.yaml"
    pointer.write_text(pointer.read_text().replace(R1, "fraud-risk-2099-01-01-01"))
    git(editor, "commit", "-qam", "point staging elsewhere")
    git(editor, "push", "-q", "origin", "governance/environments")
    edited = git(editor, "rev-parse", "HEAD")
    before = len(world.events())
    done = world.json(BOT, "env", "publish", "--remote", "origin")
    assert done["changed"] is True
    world.sync_ledger(world.ci)
    events = world.events()
    assert [e["event_type"] for e in events[before:]] == ["policy_violation"]
    assert events[-1]["details"]["pointer_commit"] == edited
    assert "environments/staging.yaml: fraud-risk -> fraud-risk-2099-01-01-01" in (
        events[-1]["reason"])
    assert _origin_pointer(world, "staging")["models"][MODEL]["release_id"] == R1  # repaired
    git(world.origin, "merge-base", "--is-ancestor", edited, "governance/environments")
    again = world.json(BOT, "env", "publish", "--remote", "origin")
    assert again["changed"] is False and len(world.events()) == len(events)
