"""`governance config record`: a merged governance change carries its PR's approvals, or is a
recorded violation. GitHub is the fake server on loopback read by the real PyGithub client;
CODEOWNERS (world.CODEOWNERS) gives /governance.yaml and /policies/ to @bob and @jane.smith.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.integration.lifecycle.world import BOT, World, commit_all, git, github_env
from tests.support.fake_github import FakeGitHub, Fault

PR = 31
CI_RUN = {"GITHUB_ACTOR": "merger", "GITHUB_RUN_ID": "77",
          "GITHUB_SERVER_URL": "https://github.example"}


def tighten(clone: Path, limit: int) -> None:
    config = clone / "governance.yaml"
    text = re.sub(r"latency_p95_ms_max: \d+", f"latency_p95_ms_max: {limit}", config.read_text())
    assert text != config.read_text()
    config.write_text(text)


def open_pr(world: World, fake: FakeGitHub, author: str) -> tuple[str, str]:
    """``author`` proposes a tighter latency gate as pull request PR; (base, head)."""
    clone = world.clone(author)
    git(clone, "checkout", "-qb", "tighten-latency")
    tighten(clone, 45)
    head = commit_all(clone, "Tighten the latency gate")
    git(clone, "push", "-q", "origin", "tighten-latency")
    base = git(clone, "rev-parse", "origin/main")
    fake.add_pull(PR, head, base, author)
    fake.add_commit(PR, head, author)
    fake.permissions.update(dict.fromkeys(("alice", "bob", "jane.smith", "dana"), "write"))
    return base, head


def merge(world: World, *, extra_edit: bool = False) -> tuple[str, str]:
    """Merge the branch on main in the CI clone; (before, merge commit)."""
    ci = world.ci
    git(ci, "fetch", "-q", "origin")
    before = git(ci, "rev-parse", "HEAD")
    git(ci, "merge", "-q", "--no-ff", "--no-commit", "origin/tighten-latency")
    if extra_edit:
        tighten(ci, 400)  # what lands is not what was reviewed
    return before, commit_all(ci, f"Merge pull request #{PR}")


def record(world: World, fake: FakeGitHub, before: str, *args: str, expect: int) -> Any:
    done = world.run(BOT, "config", "record", "--before", before, *args, "--format", "json",
                     extra=github_env(fake, **CI_RUN), expect=expect)
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_merged_change_is_recorded_with_its_approvals(world: World,
                                                      fake_github: FakeGitHub) -> None:
    _, head = open_pr(world, fake_github, "alice")
    review = fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:00:00Z")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    before, merged = merge(world)
    out = record(world, fake_github, before, "--pr", str(PR), expect=0)
    assert (out["event_type"], out["paths"]) == ("config_changed", ["governance.yaml"])
    event = world.events()[-1]
    assert event["event_type"] == "config_changed" and event["actor_id"] == BOT
    assert event["approval_state"] == "approved"
    assert event["source"] == {"pr": PR, "head_sha": head, "merge_sha": merged,
                               "before_sha": before, "pusher": "merger",
                               "ci_run": "https://github.example/acme/models/actions/runs/77"}
    [approval] = event["details"]["approvals"]
    assert (approval["actor_id"], approval["review_id"], approval["head_sha"],
            approval["code_owner_of"]) == ("bob", review, head, ["governance.yaml"])
    assert event["details"]["pull_request"] == PR
    assert event["details"]["paths"] == ["governance.yaml"]


def _violation(world: World, before_count: int, why: str) -> dict[str, Any]:
    events = world.events()
    assert [e["event_type"] for e in events[before_count:]] == ["policy_violation"]
    assert why in events[-1]["reason"], events[-1]["reason"]
    return events[-1]


def test_self_approved_change_is_a_violation(world: World, fake_github: FakeGitHub) -> None:
    _, head = open_pr(world, fake_github, "bob")
    fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:00:00Z")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    before, _ = merge(world)
    count = len(world.events())
    out = record(world, fake_github, before, "--pr", str(PR), expect=1)
    assert out["event_type"] == "policy_violation"
    event = _violation(world, count, "no counted approval from a code owner (@bob @jane.smith)")
    assert "has no counted approval at its head" in event["reason"]
    assert event["source"]["pr"] == PR and event["details"]["approvals"] == []


def test_stale_approval_is_a_violation(world: World, fake_github: FakeGitHub) -> None:
    _, first = open_pr(world, fake_github, "alice")
    fake_github.add_review(PR, "jane.smith", "APPROVED", first, "2026-11-26T12:00:00Z")
    alice = world.clone("alice")
    tighten(alice, 44)
    head = commit_all(alice, "One more tweak")
    git(alice, "push", "-q", "origin", "tighten-latency")
    fake_github.add_commit(PR, head, "alice")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    before, _ = merge(world)
    count = len(world.events())
    record(world, fake_github, before, "--pr", str(PR), expect=1)
    _violation(world, count, "stale after a new push")


def test_direct_push_is_a_violation(world: World, fake_github: FakeGitHub) -> None:
    tighten(world.ci, 45)
    before = git(world.ci, "rev-parse", "HEAD")
    commit_all(world.ci, "Loosen nothing, just push")
    count = len(world.events())
    record(world, fake_github, before, expect=1)
    event = _violation(world, count, "governance configuration changed without a merged pull "
                                     "request: governance.yaml")
    assert "pr" not in event["source"]


def test_merge_that_lands_other_content_is_a_violation(world: World,
                                                       fake_github: FakeGitHub) -> None:
    _, head = open_pr(world, fake_github, "alice")
    fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:00:00Z")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    before, _ = merge(world, extra_edit=True)
    count = len(world.events())
    record(world, fake_github, before, "--pr", str(PR), expect=1)
    _violation(world, count, "the pushed content of governance.yaml is not what pull request "
                             f"#{PR} had at its head {head[:12]} (changed by the merge)")


def test_undecided_approvals_record_nothing(world: World, fake_github: FakeGitHub) -> None:
    _, head = open_pr(world, fake_github, "alice")
    fake_github.add_review(PR, "bob", "APPROVED", head, "2026-11-26T12:00:00Z")
    fake_github.pulls[PR].merged, fake_github.pulls[PR].state = True, "closed"
    fake_github.faults.append(Fault("500", r"/reviews$"))
    before, _ = merge(world)
    count = len(world.events())
    done = world.run(BOT, "config", "record", "--before", before, "--pr", str(PR),
                     extra=github_env(fake_github, **CI_RUN), expect=3)
    assert "could not be decided" in done.stderr
    assert len(world.events()) == count


def test_a_push_without_governance_changes_records_nothing(world: World,
                                                           fake_github: FakeGitHub) -> None:
    before = git(world.ci, "rev-parse", "HEAD")
    (world.ci / "NOTES.md").write_text("notes\n")
    commit_all(world.ci, "notes")
    count = len(world.events())
    out = record(world, fake_github, before, expect=0)
    assert out["event_type"] is None and len(world.events()) == count


def test_a_malformed_commit_option_is_a_usage_error(world: World) -> None:
    """Contract: a malformed option value exits 2, before anything is read or recorded."""
    count = len(world.events())
    done = world.run(BOT, "config", "record", "--before", "HEAD~1", expect=2)
    assert "--before 'HEAD~1' is not a full commit sha" in done.stderr
    done = world.run(BOT, "config", "record", "--before", "a" * 40, "--after", "--x", expect=2)
    assert "--after '--x' is not a full commit sha" in done.stderr
    assert len(world.events()) == count
