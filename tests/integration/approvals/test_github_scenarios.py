"""The issue's scenarios, end to end: real PyGithub -> fake GitHub on loopback -> facts ->
the required-approvals gate (policies read at the PR's base commit).

Every scenario checks the gate's verdict and the exit code it maps to (0 approved, 1 denied,
3 undecided); no API failure may ever pass.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from governance.approvals.evaluate import (
    PullRequestEvaluation,
    evaluate_pull_request,
    pull_request_decision,
    require_approved,
)
from governance.approvals.github import GitHubSettings, GitHubSource
from governance.errors import ConfigurationError, GovernanceError, Undecided
from tests.support.fake_github import FakeGitHub, Fault
from tests.support.github_scenarios import SCENARIOS, Clone, Scenario

TOKEN = "ghp_do-not-leak-0123456789abcdef"
NUMBER = 7


def source_for(fake: FakeGitHub, retries: int = 1, timeout: int = 1) -> GitHubSource:
    settings = GitHubSettings.from_env(
        env={"GITHUB_REPOSITORY": "acme/models", "GITHUB_API_URL": fake.url},
        timeout=timeout,
        retries=retries,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return GitHubSource(settings, TOKEN)


def exit_code(evaluation: PullRequestEvaluation) -> int:
    try:
        require_approved(evaluation.standing)
    except GovernanceError as err:
        assert TOKEN not in err.diagnostics()
        return err.exit_code
    return 0


def setup_pr(fake: FakeGitHub, clone: Clone, author: str = "dave", **kw: object) -> None:
    fake.add_pull(NUMBER, clone.first, clone.base, author, **kw)  # type: ignore[arg-type]
    fake.add_commit(NUMBER, clone.first, author)
    fake.add_commit(NUMBER, clone.head, author)
    fake.permissions.update(
        dict.fromkeys(("alice", "bob", "carol", "jane.smith", "dave", "zed"), "write")
    )
    fake.permissions["governance-ci"] = "write"


def approve_all(fake: FakeGitHub, clone: Clone, *who: str) -> None:
    for i, login in enumerate(who or ("alice", "bob", "jane.smith")):
        fake.add_review(NUMBER, login, "APPROVED", clone.head, f"2026-04-10T12:0{i}:00Z")


def run(
    fake: FakeGitHub, clone: Clone, env: str = "production", **kw: object
) -> PullRequestEvaluation:
    source = source_for(fake, **kw)  # type: ignore[arg-type]
    try:
        evaluation = evaluate_pull_request(
            clone.root, source, NUMBER, environment=env, risk_tier="medium", trainers=["tina"]
        )
    finally:
        source.close()
    for reason in (*evaluation.standing.reasons(), *evaluation.standing.not_counted()):
        assert TOKEN not in reason
    assert TOKEN not in repr(source)
    return evaluation


def test_all_roles_approved_on_head(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "approved", ev.standing.reasons()
    assert exit_code(ev) == 0
    assert ev.facts.changed_files == (
        "releases/fraud-risk/r1/model-card.yaml",
        "releases/fraud-risk/r1/release.yaml",
    )
    roles = {r.role: r.counted for r in ev.standing.roles}
    assert roles == {"ml_lead": ("alice",), "platform_owner": ("bob",),
                     "risk_owner": ("jane.smith",)}
    assert ev.standing.policy_digest and ev.standing.decision_id


def test_stale_approval_on_old_head(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.add_review(NUMBER, "alice", "APPROVED", clone.first)
    approve_all(fake_github, clone, "bob", "jane.smith")
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert any("stale" in n for n in ev.standing.not_counted())
    assert exit_code(ev) == 1


def test_approval_then_dismissal(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    rid = fake_github.reviews[NUMBER][0]["id"]
    fake_github.dismiss(NUMBER, rid)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert not any(v.actor_id == "alice" for v in ev.standing.approvals)  # dismissed: no state


def test_changes_requested_then_approved(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.add_review(NUMBER, "bob", "CHANGES_REQUESTED", clone.first, "2026-04-10T11:00:00Z")
    approve_all(fake_github, clone)
    assert run(fake_github, clone).standing.outcome == "approved"


def test_changes_requested_outstanding_blocks(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    fake_github.add_review(NUMBER, "carol", "CHANGES_REQUESTED", clone.head, "2026-04-10T13:00:00Z")
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert len(ev.standing.failures) == 1
    assert ev.standing.failures[0].startswith("carol requested changes (review ")


def test_self_approval_by_author(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone, author="alice")
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert any(n.startswith("approval by alice ") and "authors, committers and bots" in n
               for n in ev.standing.not_counted())


def test_approval_by_a_bot(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.add_review(NUMBER, "governance-ci", "APPROVED", clone.head, user_type="Bot")
    approve_all(fake_github, clone, "bob", "jane.smith")
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert any(n.startswith("approval by governance-ci ") and "bot" in n
               for n in ev.standing.not_counted())


def test_one_person_two_required_roles(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone, "carol", "bob")
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert any("different people, but only" in f and "(carol)" in f
               for f in ev.standing.failures)
    # with a second person for the other role it passes
    approve_all(fake_github, clone, "alice")
    assert run(fake_github, clone).standing.outcome == "approved"


def test_team_membership_404_is_not_membership(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone, "zed", "bob", "jane.smith")
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert ("GET", "/orgs/acme/teams/ml-leads/memberships/zed") in fake_github.requests
    # an active member of the role's team fills it; a pending invitation does not
    fake_github.teams["acme/ml-leads"] = {"zed": "pending"}
    assert run(fake_github, clone).standing.outcome == "denied"
    fake_github.teams["acme/ml-leads"] = {"zed": "active"}
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "approved"
    assert {r.role: r.counted for r in ev.standing.roles}["ml_lead"] == ("zed",)


def test_team_unreadable_falls_back_to_roster(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.forbidden_teams.add("acme/ml-leads")
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "approved"
    assert ev.facts.unreadable_teams == frozenset({"acme/ml-leads"})


def test_reviewer_without_write_access(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.permissions["alice"] = "read"
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert any(n.startswith("approval by alice ") and "permission is read" in n
               for n in ev.standing.not_counted())
    fake_github.permissions["alice"] = "maintain"  # maintain has write access
    assert run(fake_github, clone).standing.outcome == "approved"


def test_codeowners_errors_from_api(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    fake_github.codeowners_errors.append(
        {
            "line": 3,
            "column": 1,
            "kind": "Unknown owner",
            "source": "releases/fraud-risk/ @nobody\n",
            "suggestion": "make sure @nobody exists and has write access to the repository",
            "message": "Unknown owner on line 3: make sure @nobody exists",
            "path": ".github/CODEOWNERS",
        }
    )
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "undecided"
    assert "Unknown owner" in ev.standing.reasons()[0]
    assert exit_code(ev) == 3


def test_more_than_100_reviews_across_pages(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    for _i in range(230):
        fake_github.add_review(NUMBER, "carol", "COMMENTED", clone.first, "2026-04-10T10:00:00Z")
    fake_github.add_review(NUMBER, "bob", "CHANGES_REQUESTED", clone.first, "2026-04-10T10:30:00Z")
    approve_all(fake_github, clone)  # on page 3, after 231 earlier reviews
    ev = run(fake_github, clone)
    assert len(ev.facts.reviews) == 234
    assert ev.standing.outcome == "approved"
    pages = [p for m, p in fake_github.requests if p.endswith(f"/pulls/{NUMBER}/reviews")]
    assert len(pages) == 3  # followed the Link headers


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"draft": True}, "is a draft"),
        ({"fork": True}, "comes from a fork"),
        ({"base_ref": "develop"}, "targets 'develop'"),
        ({"state": "closed"}, "closed without being merged"),
    ],
)
def test_pr_shape_fails_closed(
    fake_github: FakeGitHub, clone: Clone, change: dict[str, object], code: str
) -> None:
    setup_pr(fake_github, clone, **change)
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "undecided"
    assert code in ev.standing.reasons()[0]
    assert exit_code(ev) == 3


FAULTS: list[tuple[str, str]] = [
    ("500", r"/pulls/7$"),
    ("500", r"/reviews$"),
    ("rate_limit", r"/reviews$"),
    ("rate_limit", r"/collaborators/"),
    ("rate_limit", r"/memberships/"),
    ("timeout", r"/commits$"),
    ("500", r"/codeowners/errors$"),
]


@pytest.mark.parametrize(("kind", "path"), FAULTS)
def test_api_failures_never_pass(
    fake_github: FakeGitHub, clone: Clone, kind: str, path: str
) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    fake_github.faults.append(Fault(kind, path))
    started = time.monotonic()
    ev = run(fake_github, clone)
    elapsed = time.monotonic() - started
    assert ev.standing.outcome == "undecided", ev.standing.reasons()
    assert exit_code(ev) == 3
    assert "could not be decided" in ev.standing.reasons()[0]
    assert elapsed < 8, "timeouts and retries must stay bounded"


def test_a_single_500_is_retried(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    fake_github.faults.append(Fault("500", r"/reviews$", times=1))
    assert run(fake_github, clone).standing.outcome == "approved"


def test_rate_limit_is_not_waited_out(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.faults.append(Fault("rate_limit", r"/pulls/7$"))
    started = time.monotonic()
    ev = run(fake_github, clone, retries=3)
    assert time.monotonic() - started < 3
    assert ev.standing.outcome == "undecided"
    assert "rate limited" in ev.standing.reasons()[0]


def test_new_push_invalidates_approvals(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    assert run(fake_github, clone).standing.outcome == "approved"
    (clone.root / "late.txt").write_text("late change\n")
    subprocess.run(["git", "-C", str(clone.root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(clone.root), "commit", "-qm", "late"], check=True)
    new_head = (
        subprocess.run(
            ["git", "-C", str(clone.root), "rev-parse", "HEAD"], check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    fake_github.push(NUMBER, new_head)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert all(not r.counted for r in ev.standing.roles)


def test_more_than_250_commits_is_undecided(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    for i in range(249):
        fake_github.add_commit(NUMBER, f"{i:040x}", "dave")
    fake_github.add_commit(NUMBER, clone.head, "dave")  # 252 commits, head last
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "undecided"
    assert "at most 250" in ev.standing.reasons()[0]


def test_rules_come_from_the_base_commit(fake_github: FakeGitHub, clone: Clone) -> None:
    """A PR that edits governance.yaml or CODEOWNERS is judged by the base versions."""
    setup_pr(fake_github, clone)
    (clone.root / "governance.yaml").write_text(
        (clone.root / "governance.yaml")
        .read_text()
        .replace(
            "required_approvals: [ml_lead, platform_owner, risk_owner]", "required_approvals: []"
        )
    )
    (clone.root / ".github" / "CODEOWNERS").write_text("* @dave\n")
    subprocess.run(["git", "-C", str(clone.root), "commit", "-qam", "loosen"], check=True)
    head = (
        subprocess.run(
            ["git", "-C", str(clone.root), "rev-parse", "HEAD"], check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    fake_github.push(NUMBER, head)
    fake_github.add_review(NUMBER, "carol", "APPROVED", head)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "denied"
    assert {r.role for r in ev.standing.roles} == {"ml_lead", "platform_owner", "risk_owner"}


def test_invalid_codeowners_at_base_is_undecided(fake_github: FakeGitHub, clone: Clone) -> None:
    subprocess.run(["git", "-C", str(clone.root), "checkout", "-q", "main"], check=True)
    (clone.root / ".github" / "CODEOWNERS").write_text("* @bob\n!secret @bob\n")
    subprocess.run(["git", "-C", str(clone.root), "commit", "-qam", "bad owners"], check=True)
    base = (
        subprocess.run(
            ["git", "-C", str(clone.root), "rev-parse", "HEAD"], check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    setup_pr(fake_github, clone)
    fake_github.pulls[NUMBER].base_sha = base
    approve_all(fake_github, clone)
    ev = run(fake_github, clone)
    assert ev.standing.outcome == "undecided"
    assert ".github/CODEOWNERS:2" in ev.standing.reasons()[0]


def test_base_commit_missing_locally_is_undecided(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    fake_github.pulls[NUMBER].base_sha = "e" * 40
    approve_all(fake_github, clone)
    source = source_for(fake_github)
    with pytest.raises(Undecided, match="not in the local clone"):
        evaluate_pull_request(
            clone.root, source, NUMBER, environment="production", risk_tier="medium"
        )
    source.close()


def test_unknown_environment_is_a_configuration_error(
    fake_github: FakeGitHub, clone: Clone
) -> None:
    setup_pr(fake_github, clone)
    with pytest.raises(ConfigurationError, match="no environment 'qa'") as err:
        run(fake_github, clone, env="qa")
    assert err.value.exit_code == 3


def test_pull_request_decision_from_environment(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone)
    approve_all(fake_github, clone)
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_REPOSITORY": "acme/models",
        "GOVERNANCE_GITHUB_TIMEOUT": "2",
        "GOVERNANCE_GITHUB_RETRIES": "0",
        "GOVERNANCE_GITHUB_THROTTLE": "0",
    }
    started = time.monotonic()
    ev = pull_request_decision(
        clone.root, NUMBER, environment="production", risk_tier="medium", env=env
    )
    assert ev.standing.outcome == "approved"
    assert time.monotonic() - started < 3  # throttling off
    with pytest.raises(ConfigurationError, match="GOVERNANCE_GITHUB_TIMEOUT"):
        pull_request_decision(
            clone.root,
            NUMBER,
            environment="production",
            risk_tier="medium",
            env={**env, "GOVERNANCE_GITHUB_TIMEOUT": "soon"},
        )
    with pytest.raises(ConfigurationError, match="GITHUB_TOKEN"):
        pull_request_decision(
            clone.root,
            NUMBER,
            environment="production",
            risk_tier="medium",
            env={k: v for k, v in env.items() if k != "GITHUB_TOKEN"},
        )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_table(fake_github: FakeGitHub, clone: Clone, scenario: Scenario) -> None:
    """The issue's list, as one table (the same table a CLI test can drive)."""
    scenario.arrange(fake_github, clone)
    assert exit_code(run(fake_github, clone)) == scenario.exit_code


def test_merged_pr_is_decided_at_its_final_head(fake_github: FakeGitHub, clone: Clone) -> None:
    setup_pr(fake_github, clone, state="closed", merged=True)
    approve_all(fake_github, clone)
    assert run(fake_github, clone).standing.outcome == "approved"
