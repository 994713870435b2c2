"""Approval facts: the normalisations (table tests), and the invariants of the whole path
facts -> gate (Hypothesis properties, decided by the required-approvals gate itself)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.approvals.codeowners import parse
from governance.approvals.facts import (
    ApprovalFacts,
    ApprovalPolicy,
    Commit,
    PullRequest,
    Reason,
    Review,
    RoleDefinition,
    excluded_identities,
    latest_by_reviewer,
    owner_identities,
    required_roles,
    roles_held,
    undecided_reasons,
)
from governance.policy.approval_standing import ApprovalStanding
from tests.unit.approvals.test_one_authority import pr_standing

HEAD = "f" * 40
OLD = "e" * 40
T0 = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)

POLICY = ApprovalPolicy(
    required=required_roles(["ml_lead", "risk_owner"], 1),
    roles={
        "ml_lead": RoleDefinition(members=frozenset({"alice", "carol"}),
                                  teams=frozenset({"acme/ml-leads"})),
        "risk_owner": RoleDefinition(members=frozenset({"jane.smith", "carol"})),
        "platform_owner": RoleDefinition(members=frozenset({"bob"})),
    },
    bots=frozenset({"governance-ci"}),
    trainers=frozenset({"trainer"}),
    people_emails={"dave@example.com": "dave"},
)
PR = PullRequest(number=7, head_sha=HEAD, base_sha="c" * 40, base_ref="main", author="author",
                 draft=False, from_fork=False)
WRITERS = dict.fromkeys(("alice", "bob", "carol", "jane.smith", "author", "trainer", "dave"),
                        "write")


def review(id_: int, who: str, state: str = "APPROVED", commit: str = HEAD, minutes: int = 0,
           kind: str = "User") -> Review:
    return Review(id_, who, state, commit, T0 + timedelta(minutes=minutes), kind)


def facts(*reviews: Review, **kw: object) -> ApprovalFacts:
    base: dict[str, object] = {"pull_request": PR, "reviews": tuple(reviews),
                               "permissions": WRITERS}
    base.update(kw)
    return ApprovalFacts(**base)  # type: ignore[arg-type]


# ---- normalisations -------------------------------------------------------------------------

def test_latest_state_by_submitted_at_then_id() -> None:
    notes: list[Reason] = []
    latest = latest_by_reviewer([review(5, "alice", "CHANGES_REQUESTED"), review(4, "alice"),
                                 review(6, "Alice", "COMMENTED", minutes=9),
                                 review(7, "bob", "PENDING")], notes)
    assert {who: r.id for who, r in latest.items()} == {"alice": 5}  # same time: higher id
    latest = latest_by_reviewer([review(4, "alice", "CHANGES_REQUESTED"), review(5, "alice")],
                                notes)
    assert latest["alice"].state == "APPROVED"
    unsubmitted = dataclasses.replace(review(8, "carol"), submitted_at=None)
    assert latest_by_reviewer([unsubmitted], notes) == {}
    assert [n.code for n in notes] == ["unsubmitted"]


def test_excluded_identities() -> None:
    commits = (
        Commit("1" * 40, author_login="Author"),
        Commit("2" * 40, author_login=None, committer_login="carol"),
        Commit("3" * 40, author_email="Dave@example.com", committer_login="web-flow"),
        Commit("4" * 40, committer_email="1234+erin@users.noreply.github.com"),
    )
    excluded = excluded_identities(POLICY, facts(commits=commits))
    assert excluded == {
        "trainer": "trained the release",
        "author": "authored the PR",
        "carol": f"committed to the PR ({'2' * 12})",
        "dave": f"committed to the PR ({'3' * 12})",
        "erin": f"committed to the PR ({'4' * 12})",
    }


def test_roles_held_by_roster_or_active_team() -> None:
    got = facts(team_members={"acme/ml-leads": frozenset({"zed"})})
    assert roles_held(POLICY, got, "Carol") == {"ml_lead": "roster", "risk_owner": "roster"}
    assert roles_held(POLICY, got, "zed") == {"ml_lead": "team:acme/ml-leads"}
    assert roles_held(POLICY, got, "bob") == {}  # platform_owner is not required here


@pytest.mark.parametrize(("change", "needle"), [
    ({"from_fork": True}, "comes from a fork"),
    ({"draft": True}, "is a draft"),
    ({"base_ref": "release"}, "targets 'release'"),
    ({"state": "closed"}, "closed without being merged"),
])
def test_untrustworthy_pull_requests(change: dict[str, object], needle: str) -> None:
    reasons = undecided_reasons(POLICY, facts(pull_request=dataclasses.replace(PR, **change)))
    assert [r.message for r in reasons if needle in r.message]
    merged = dataclasses.replace(PR, state="closed", merged=True)
    assert undecided_reasons(POLICY, facts(pull_request=merged)) == []


def test_api_failures_and_codeowners_errors_cannot_be_trusted() -> None:
    got = facts(fetch_errors=("GitHub answered 502",), codeowners_api_errors=("Unknown owner",),
                codeowners=parse("* @bob\n!secret @bob\n"))
    codes = [r.code for r in undecided_reasons(POLICY, got)]
    assert codes == ["api_failure", "codeowners_error", "codeowners_error"]


def test_owner_identities() -> None:
    got = facts(team_members={"acme/ml-leads": frozenset({"Zed"})},
                unreadable_teams=frozenset({"acme/risk"}))
    assert owner_identities(POLICY, got, "dave@example.com") == {"dave"}
    assert owner_identities(POLICY, got, "nobody@example.com") == frozenset()
    assert owner_identities(POLICY, got, "@Bob") == {"bob"}
    assert owner_identities(POLICY, got, "@acme/ml-leads") == {"zed"}
    policy = dataclasses.replace(POLICY, roles={
        "risk_owner": RoleDefinition(members=frozenset({"jane.smith"}),
                                     teams=frozenset({"acme/risk"}))})
    assert owner_identities(policy, got, "@acme/risk") == {"jane.smith"}  # roster fallback


def test_required_roles_listed_twice_count_once() -> None:
    assert required_roles(["ml_lead", "risk_owner", "ml_lead"], 2) == (
        ("ml_lead", 2), ("risk_owner", 2))


# ---- properties of facts -> gate --------------------------------------------------------------

PEOPLE = ["alice", "bob", "carol", "jane.smith", "author", "trainer", "mallory", "ci[bot]"]
STATES = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
PERMS = dict(WRITERS, mallory="read")

reviews_st = st.lists(
    st.builds(
        lambda i, who, state, head, minutes: review(i, who, state, HEAD if head else OLD, minutes),
        st.integers(1, 10_000), st.sampled_from(PEOPLE), st.sampled_from(STATES), st.booleans(),
        st.integers(0, 50),
    ),
    max_size=8,
    unique_by=lambda r: r.id,
)


def verdict(standing: ApprovalStanding) -> tuple[object, ...]:
    """The gate's answer without what differs per evaluation (decision id, input digest)."""
    return (standing.outcome, sorted(standing.failures),
            [(r.role, r.counted, r.filled) for r in standing.roles])


# Each example runs the gate (one engine load and evaluation): few examples, every property.
GATE_RUNS = settings(max_examples=20, deadline=None)


@GATE_RUNS
@given(reviews_st)
def test_property_author_never_counts(reviews: list[Review]) -> None:
    standing = pr_standing(POLICY, facts(*reviews, permissions=PERMS))
    assert all(PR.author not in r.counted for r in standing.roles)
    assert PR.author not in standing.reviewers


@GATE_RUNS
@given(reviews_st, st.sampled_from(PEOPLE), st.integers(0, 60), st.booleans())
def test_property_commented_review_changes_nothing(reviews: list[Review], who: str,
                                                   minutes: int, head: bool) -> None:
    before = pr_standing(POLICY, facts(*reviews, permissions=PERMS))
    extra = review(20_000, who, "COMMENTED", HEAD if head else OLD, minutes)
    after = pr_standing(POLICY, facts(*reviews, extra, permissions=PERMS))
    assert verdict(after) == verdict(before)


@GATE_RUNS
@given(reviews_st)
def test_property_new_push_invalidates_every_earlier_approval(reviews: list[Review]) -> None:
    pushed = dataclasses.replace(PR, head_sha="d" * 40)
    standing = pr_standing(POLICY, facts(*reviews, permissions=PERMS, pull_request=pushed))
    assert all(not r.counted for r in standing.roles)
    assert standing.outcome == "denied"


@GATE_RUNS
@given(reviews_st, st.randoms(use_true_random=False))
def test_property_order_independent(reviews: list[Review], rnd: object) -> None:
    shuffled = list(reviews)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert verdict(pr_standing(POLICY, facts(*reviews, permissions=PERMS))) == verdict(
        pr_standing(POLICY, facts(*shuffled, permissions=PERMS)))
