"""`check --approvals github --pr N`: a pull request's reviews normalised as gate facts, and the
required-approvals gate deciding on them (the one authority; no Python verdict in between).

The facts are real approvals-module values; the check path replaces only the fetch at this
module's port (the GitHub adapter itself is tested by the approvals suite against its loopback
GitHub server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from governance.approvals import pull_request
from governance.approvals.codeowners import parse
from governance.approvals.facts import (
    ApprovalFacts,
    ApprovalPolicy,
    Commit,
    PullRequest,
    Review,
    RoleDefinition,
)
from governance.errors import Undecided
from governance.policy import request as request_module
from governance.policy.check import CheckOptions, run_check
from governance.repo import GovernedRepo

ROOT = Path(__file__).resolve().parents[3]
HEAD = "f" * 40
OLD = "e" * 40
WHEN = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
ROLES = {"ml_lead": "alice", "platform_owner": "bob", "risk_owner": "jane.smith"}

POLICY = ApprovalPolicy(
    required=(("ml_lead", 1), ("platform_owner", 1), ("risk_owner", 1)),
    roles={"ml_lead": RoleDefinition(frozenset({"alice"})),
           "platform_owner": RoleDefinition(frozenset({"bob"})),
           "risk_owner": RoleDefinition(frozenset({"jane.smith", "carol"}))},
)


def review(i: int, who: str, state: str = "APPROVED", commit: str = HEAD,
           kind: str = "User") -> Review:
    return Review(id=100 + i, reviewer=who, state=state, commit_id=commit,
                  submitted_at=WHEN + timedelta(minutes=i), reviewer_type=kind)


def facts(*reviews: Review, **extra: Any) -> ApprovalFacts:
    people = {r.reviewer for r in reviews}
    base = ApprovalFacts(
        pull_request=PullRequest(7, HEAD, "b" * 40, "main", "erin", False, False),
        reviews=reviews,
        commits=(Commit(HEAD, author_login="erin", committer_login="web-flow"),),
        permissions=dict.fromkeys(people, "write"),
    )
    return replace(base, **extra)


APPROVED = tuple(review(i, who) for i, who in enumerate(ROLES.values()))


@pytest.fixture(autouse=True)
def _head_not_in_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The head commit HEAD here is made up: the release digest at it is not read from git
    (the content checked is taken as the head's, as in the gate workflow's overlay)."""
    monkeypatch.setattr(request_module, "digests_at_head", lambda repo, dirs, head: ())


def check_with(monkeypatch: pytest.MonkeyPatch, got: ApprovalFacts,
               policy: ApprovalPolicy = POLICY) -> Any:
    """`governance check fraud-risk-2026-04-10-01 --env production --pr 7 --approvals github`."""
    def fake_fetch(root, number, *, environment, risk_tier, trainers):  # type: ignore[no-untyped-def]
        assert (number, environment, risk_tier, trainers) == (7, "production", "high", ["dana"])
        return pull_request.gate_facts(policy, got, number)

    monkeypatch.setattr(pull_request, "fetch", fake_fetch)
    outcome = run_check(
        GovernedRepo(ROOT),
        CheckOptions(refs=("fraud-risk-2026-04-10-01",), environment="production",
                     approvals="github", pr=7, engine="regopy",
                     now=datetime(2026, 6, 1, tzinfo=UTC)),
    )
    (decision,) = outcome.decisions
    assert decision.undecided is None, decision.undecided
    return decision


def approval_messages(decision: Any) -> tuple[set[str], set[str]]:
    return ({v.msg for v in decision.failures if v.gate_id == "required_approvals"},
            {v.msg for v in decision.warnings if v.gate_id == "required_approvals"})


def test_reviews_become_facts_not_verdicts() -> None:
    got = pull_request.gate_facts(POLICY, facts(*APPROVED, review(9, "mallory", commit=OLD)), 7)
    assert {(a.role, a.actor_id, a.role_verified) for a in got.approvals} == {
        ("ml_lead", "alice", True), ("platform_owner", "bob", True),
        ("risk_owner", "jane.smith", True),
        # mallory holds no role: one unverified fact per required role, for the gate to judge
        ("ml_lead", "mallory", False), ("platform_owner", "mallory", False),
        ("risk_owner", "mallory", False)}
    assert {a.commit_id for a in got.approvals if a.actor_id == "mallory"} == {OLD}
    assert all(a.source == "github" and a.permission == "write" and a.account_type == "User"
               and a.digest is None for a in got.approvals)
    assert got.excluded_actors == ("erin",)  # web-flow: GitHub's committer for web edits
    assert got.head_sha == HEAD


def test_latest_review_wins_and_dismissed_cancels() -> None:
    got = pull_request.gate_facts(POLICY, facts(
        review(0, "alice", "CHANGES_REQUESTED"), review(1, "alice"),
        review(2, "bob"), review(3, "bob", "DISMISSED"),
        review(4, "carol", "COMMENTED")), 7)
    assert [(a.actor_id, a.state) for a in got.approvals] == [("alice", "approved")]


@pytest.mark.parametrize("extra, needle", [
    ({"pull_request": PullRequest(7, HEAD, "b" * 40, "main", "dana", False, True)}, "fork"),
    ({"pull_request": PullRequest(7, HEAD, "b" * 40, "main", "dana", True, False)}, "draft"),
    ({"pull_request": PullRequest(7, HEAD, "b" * 40, "dev", "dana", False, False)},
     "targets 'dev'"),
    ({"fetch_errors": ("GitHub API answered 502",)}, "502"),
])
def test_untrustworthy_facts_cannot_decide(extra: dict[str, Any], needle: str) -> None:
    with pytest.raises(Undecided) as err:
        pull_request.gate_facts(POLICY, facts(*APPROVED, **extra), 7)
    assert needle in err.value.message and "could not be decided" in err.value.message


# The scenario table: each row's facts go to the gate, and the gate's own messages say why.
SCENARIOS = [
    ("three reviewers on the head", APPROVED, {}, set(), set()),
    ("stale after a new push", (APPROVED[0], review(1, "bob", commit=OLD), APPROVED[2]), {},
     {"production needs 1 approval(s) from role platform_owner"},
     {"approval by bob as platform_owner does not count: review 101 was given on eeeeeeeeeeee, "
      "not on the head ffffffffffff (stale after a new push)"}),
    ("PR author cannot approve (separation of duties)",
     (APPROVED[0], review(1, "erin"), APPROVED[2]), {},
     {"production needs 1 approval(s) from role platform_owner"},
     {"approval by erin as ml_lead does not count: authors, committers and bots never count"}),
    ("trainer cannot approve (separation of duties)",
     (APPROVED[0], review(1, "dana"), APPROVED[2]), {},
     {"production needs 1 approval(s) from role platform_owner"},
     {"approval by dana as ml_lead does not count: the trainer cannot approve their own "
      "release"}),
    ("non-member", (APPROVED[0], review(1, "mallory"), APPROVED[2]), {},
     {"production needs 1 approval(s) from role platform_owner"},
     {"approval by mallory as platform_owner does not count: mallory is not a member of role "
      "platform_owner"}),
    ("bot", (*APPROVED, review(5, "renovate[bot]", kind="Bot")), {}, set(),
     {"approval by renovate[bot] as ml_lead does not count: a bot or non-User account (Bot) "
      "never counts"}),
    ("changes requested", (*APPROVED, review(6, "carol", "CHANGES_REQUESTED")), {},
     {"carol requested changes (review 106) and has not approved since; the request must be "
      "resolved or dismissed"}, set()),
    ("CODEOWNERS review missing", APPROVED,
     {"codeowners": parse("releases/ @carol\n"),
      "changed_files": ("releases/fraud-risk/x.yaml",)},
     {"no counted approval from a code owner (@carol) for releases/fraud-risk/x.yaml"}, set()),
]


@pytest.mark.parametrize("name, reviews, extra, denied, warned", SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_the_gate_decides_each_scenario(monkeypatch: pytest.MonkeyPatch, name: str,
                                        reviews: tuple[Review, ...], extra: dict[str, Any],
                                        denied: set[str], warned: set[str]) -> None:
    decision = check_with(monkeypatch, facts(*reviews, **extra))
    failures, warnings = approval_messages(decision)
    assert {m.split(" for digest")[0] for m in failures} == denied
    assert warned <= warnings
    if not denied:
        assert "required_approvals" not in {v.gate_id for v in decision.failures}
    # no Python verdict reaches the gates as a failed check any more
    assert decision.record["input"]["checks"] == []


def test_head_approvals_bind_to_the_digest_at_the_head_not_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a merge the checkout is the merge commit; a review approved the PR head. When the
    release directory differs between the two, the approvals bind to the head's digest and no
    longer count for the release checked."""
    other = "sha256:" + "1" * 64
    monkeypatch.setattr(request_module, "digests_at_head",
                        lambda repo, dirs, head: (("fraud-risk-2026-04-10-01", other),))
    decision = check_with(monkeypatch, facts(*APPROVED))
    assert {a["digest"] for a in decision.record["input"]["approvals"]} == {other}
    assert "required_approvals" in {v.gate_id for v in decision.failures}
    assert not decision.allow


def test_counted_reviews_become_idempotent_ledger_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from governance.policy.record import approval_events, record_approvals
    from tests.unit.test_lifecycle import ev

    # mallory (no role) and a stale review by carol are in the input but the gate counts
    # neither, so neither is recorded
    decision = check_with(monkeypatch, facts(*APPROVED, review(7, "mallory"),
                                             review(8, "carol", commit=OLD)))
    events = approval_events([decision], 7)
    digest = decision.record["input"]["release"]["digest"]
    assert {(e["actor_role"], e["actor_id"]) for e in events} == {
        ("ml_lead", "alice"), ("platform_owner", "bob"), ("risk_owner", "jane.smith")}
    assert all(e["release_digest"] == digest and e["source"]["kind"] == "github"
               and e["source"]["pr"] == 7 and e["source"]["head_sha"] == HEAD
               and e["source"]["review_id"] for e in events)
    appended: list[dict] = []  # type: ignore[type-arg]

    def append(fields):  # type: ignore[no-untyped-def]
        appended.append(dict(fields))
        return ev(len(appended), "approval_granted", **{k: v for k, v in fields.items()
                                                        if k != "event_type"})

    first = record_approvals(events, [], append)
    assert len(first) == 3
    again = record_approvals(events, first, append)
    assert again == [] and len(appended) == 3  # re-running records nothing twice
