"""Counting rules: table tests for each rule plus Hypothesis properties for the invariants."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.approvals.codeowners import parse
from governance.approvals.counting import (
    ApprovalFacts,
    ApprovalPolicy,
    Commit,
    Outcome,
    PullRequest,
    Review,
    RoleDefinition,
    SignedApproval,
    decide,
    required_roles,
)

HEAD = "a" * 40
OLD = "b" * 40
T0 = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)

POLICY = ApprovalPolicy(
    required=required_roles(["ml_lead", "risk_owner"], 1),
    roles={
        "ml_lead": RoleDefinition(members=frozenset({"alice", "carol"}), teams=frozenset()),
        "risk_owner": RoleDefinition(members=frozenset({"jane.smith", "carol"})),
        "platform_owner": RoleDefinition(members=frozenset({"bob"})),
    },
    bots=frozenset({"governance-ci"}),
    trainers=frozenset({"trainer"}),
    people_emails={"dave@example.com": "dave"},
)
PR = PullRequest(
    number=7,
    head_sha=HEAD,
    base_sha="c" * 40,
    base_ref="main",
    author="author",
    draft=False,
    from_fork=False,
)
WRITERS = dict.fromkeys(
    ("alice", "bob", "carol", "jane.smith", "author", "trainer", "dave"), "write"
)


def review(
    id_: int,
    who: str,
    state: str = "APPROVED",
    commit: str = HEAD,
    minutes: int = 0,
    kind: str = "User",
) -> Review:
    return Review(id_, who, state, commit, T0 + timedelta(minutes=minutes), kind)


def facts(*reviews: Review, **kw: object) -> ApprovalFacts:
    base: dict[str, object] = {
        "pull_request": PR,
        "reviews": tuple(reviews),
        "permissions": WRITERS,
    }
    base.update(kw)
    return ApprovalFacts(**base)  # type: ignore[arg-type]


def codes(decision_reasons: object) -> list[str]:
    return [r.code for r in decision_reasons]  # type: ignore[attr-defined]


def test_two_roles_two_people_approved() -> None:
    d = decide(POLICY, facts(review(1, "alice"), review(2, "jane.smith")))
    assert d.outcome is Outcome.APPROVED
    assert {(r.role, r.filled_by) for r in d.roles} == {
        ("ml_lead", ("alice",)),
        ("risk_owner", ("jane.smith",)),
    }
    assert d.approvals[0].membership == (("ml_lead", "roster"),)


def test_stale_approval_on_old_head_does_not_count() -> None:
    d = decide(POLICY, facts(review(1, "alice", commit=OLD), review(2, "jane.smith")))
    assert d.outcome is Outcome.DENIED
    assert any("stale" in n.message for n in d.notes)
    assert "role_unfilled" in codes(d.reasons)


def test_dismissal_cancels_approval() -> None:
    d = decide(
        POLICY,
        facts(review(1, "alice", "DISMISSED"), review(2, "jane.smith")),
    )
    assert d.outcome is Outcome.DENIED
    assert "dismissed" in codes(d.notes)


def test_changes_requested_then_approved_counts() -> None:
    d = decide(
        POLICY,
        facts(
            review(1, "alice", "CHANGES_REQUESTED", commit=OLD),
            review(2, "alice", minutes=5),
            review(3, "jane.smith"),
        ),
    )
    assert d.outcome is Outcome.APPROVED


def test_outstanding_changes_requested_from_writer_blocks() -> None:
    d = decide(
        POLICY,
        facts(review(1, "alice"), review(2, "jane.smith"), review(3, "bob", "CHANGES_REQUESTED")),
    )
    assert d.outcome is Outcome.DENIED
    assert codes(d.reasons) == ["changes_requested"]


def test_changes_requested_from_reader_does_not_block() -> None:
    perms = dict(WRITERS, mallory="read")
    d = decide(
        POLICY,
        facts(
            review(1, "alice"),
            review(2, "jane.smith"),
            review(3, "mallory", "CHANGES_REQUESTED"),
            permissions=perms,
        ),
    )
    assert d.outcome is Outcome.APPROVED
    assert "changes_requested_no_write" in codes(d.notes)


def test_comment_after_approval_keeps_approval() -> None:
    d = decide(
        POLICY,
        facts(
            review(1, "alice"), review(2, "alice", "COMMENTED", minutes=9), review(3, "jane.smith")
        ),
    )
    assert d.outcome is Outcome.APPROVED


def test_latest_state_by_submitted_at_then_id() -> None:
    # same timestamp: the higher id is later
    d = decide(
        POLICY,
        facts(review(5, "alice", "CHANGES_REQUESTED"), review(4, "alice"), review(6, "jane.smith")),
    )
    assert d.outcome is Outcome.DENIED
    d = decide(
        POLICY,
        facts(review(4, "alice", "CHANGES_REQUESTED"), review(5, "alice"), review(6, "jane.smith")),
    )
    assert d.outcome is Outcome.APPROVED


@pytest.mark.parametrize(
    ("reviewer", "kind", "fragment"),
    [
        ("author", "User", "authored the PR"),
        ("governance-ci", "User", "bot"),
        ("dependabot[bot]", "Bot", "bot"),
        ("alice", "Bot", "bot"),
        ("trainer", "User", "trained the release"),
        ("carol", "User", "committed to the PR"),
        ("dave", "User", "committed to the PR"),
        ("erin", "User", "committed to the PR"),
    ],
)
def test_never_counts(reviewer: str, kind: str, fragment: str) -> None:
    policy = dataclasses.replace(
        POLICY,
        roles={
            "ml_lead": RoleDefinition(members=frozenset({reviewer})),
            "risk_owner": RoleDefinition(members=frozenset({"jane.smith"})),
        },
    )
    commits = (
        Commit("1" * 40, author_login="author"),
        Commit("2" * 40, author_login=None, committer_login="carol"),
        Commit("3" * 40, author_email="Dave@example.com"),
        Commit("4" * 40, committer_email="1234+erin@users.noreply.github.com"),
    )
    d = decide(
        policy,
        facts(review(1, reviewer, kind=kind), review(2, "jane.smith"), commits=commits),
    )
    assert d.outcome is Outcome.DENIED
    assert any(fragment in n.message for n in d.notes if n.who == reviewer)


def test_reviewer_without_write_does_not_count() -> None:
    perms = dict(WRITERS, alice="read")
    d = decide(POLICY, facts(review(1, "alice"), review(2, "jane.smith"), permissions=perms))
    assert d.outcome is Outcome.DENIED
    assert any("write access is required" in n.message for n in d.notes)


def test_one_person_two_roles_fills_only_one() -> None:
    d = decide(POLICY, facts(review(1, "carol")))
    assert d.outcome is Outcome.DENIED
    assert sum(len(r.filled_by) for r in d.roles) == 1


def test_matching_not_greedy() -> None:
    # carol holds both roles, alice only ml_lead: a greedy pass giving carol ml_lead would leave
    # risk_owner empty; the matching puts carol on risk_owner.
    d = decide(POLICY, facts(review(1, "carol"), review(2, "alice")))
    assert d.outcome is Outcome.APPROVED
    assert {r.role: r.filled_by for r in d.roles} == {
        "ml_lead": ("alice",),
        "risk_owner": ("carol",),
    }


def test_risk_tier_requires_two_per_role() -> None:
    policy = dataclasses.replace(POLICY, required=required_roles(["ml_lead"], 2))
    assert decide(policy, facts(review(1, "alice"))).outcome is Outcome.DENIED
    assert decide(policy, facts(review(1, "alice"), review(2, "carol"))).outcome is Outcome.APPROVED


def test_team_membership_establishes_role() -> None:
    policy = dataclasses.replace(
        POLICY,
        required=required_roles(["ml_lead"], 1),
        roles={"ml_lead": RoleDefinition(teams=frozenset({"acme/ml-leads"}))},
    )
    d = decide(policy, facts(review(1, "zed")))
    assert d.outcome is Outcome.DENIED  # membership unknown (404 = not a member)
    d = decide(
        policy,
        facts(
            review(1, "zed"),
            team_members={"acme/ml-leads": frozenset({"zed"})},
            permissions=dict(WRITERS, zed="maintain"),
        ),
    )
    assert d.outcome is Outcome.APPROVED
    assert d.approvals[0].membership == (("ml_lead", "team:acme/ml-leads"),)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"from_fork": True}, "fork"),
        ({"draft": True}, "draft"),
        ({"base_ref": "release"}, "wrong_base"),
    ],
)
def test_fail_closed_on_pr_shape(change: dict[str, object], code: str) -> None:
    pr = dataclasses.replace(PR, **change)  # type: ignore[arg-type]
    d = decide(POLICY, facts(review(1, "alice"), review(2, "jane.smith"), pull_request=pr))
    assert d.outcome is Outcome.UNDECIDED
    assert codes(d.reasons) == [code]


def test_fail_closed_on_api_failure_and_codeowners_errors() -> None:
    ok = (review(1, "alice"), review(2, "jane.smith"))
    d = decide(POLICY, facts(*ok, fetch_errors=("GET reviews: 500",)))
    assert d.outcome is Outcome.UNDECIDED and codes(d.reasons) == ["api_failure"]
    d = decide(POLICY, facts(*ok, codeowners_api_errors=("line 3: Unknown owner",)))
    assert d.outcome is Outcome.UNDECIDED
    d = decide(POLICY, facts(*ok, codeowners=parse("!x @a\n", ".github/CODEOWNERS")))
    assert d.outcome is Outcome.UNDECIDED
    assert ".github/CODEOWNERS:1" in d.reasons[0].message


def test_codeowner_review_required_for_owned_files() -> None:
    co = parse("* @alice\nreleases/fraud-risk/ @acme/risk\n")
    f = facts(
        review(1, "alice"),
        review(2, "jane.smith"),
        codeowners=co,
        changed_files=("README.md", "releases/fraud-risk/r1/release.yaml"),
    )
    d = decide(POLICY, f)
    assert d.outcome is Outcome.DENIED
    assert codes(d.reasons) == ["codeowner_review_missing"]
    assert "@acme/risk" in d.reasons[0].message
    # live team membership satisfies it
    d = decide(
        POLICY, dataclasses.replace(f, team_members={"acme/risk": frozenset({"jane.smith"})})
    )
    assert d.outcome is Outcome.APPROVED
    # roster fallback when the team cannot be read: role teams map to role members
    policy = dataclasses.replace(
        POLICY,
        roles=dict(POLICY.roles)
        | {"risk_owner": RoleDefinition(frozenset({"jane.smith"}), frozenset({"acme/risk"}))},
    )
    d = decide(policy, dataclasses.replace(f, unreadable_teams=frozenset({"acme/risk"})))
    assert d.outcome is Outcome.APPROVED


def test_git_native_signed_approvals() -> None:
    digest = "sha256:" + "d" * 64
    ev = [
        SignedApproval("e1", "alice", "ml_lead", digest, T0),
        SignedApproval("e2", "jane.smith", "risk_owner", digest, T0),
    ]
    git_facts = ApprovalFacts(signed=tuple(ev), release_digest=digest)
    assert decide(POLICY, git_facts).outcome is Outcome.APPROVED
    # digest changed since: approvals no longer bind the content
    stale = dataclasses.replace(git_facts, release_digest="sha256:" + "e" * 64)
    d = decide(POLICY, stale)
    assert d.outcome is Outcome.DENIED and "digest_mismatch" in codes(d.notes)
    # a role the signer does not hold
    wrong = ApprovalFacts(
        signed=(SignedApproval("e3", "bob", "ml_lead", digest, T0), ev[1]), release_digest=digest
    )
    assert decide(POLICY, wrong).outcome is Outcome.DENIED
    # a later denial blocks
    denied = dataclasses.replace(
        git_facts,
        signed=(*ev, SignedApproval("e4", "alice", "ml_lead", digest, T0 + timedelta(1), False)),
    )
    assert codes(decide(POLICY, denied).reasons)[0] == "approval_denied"
    # unverified events never count
    unverified = dataclasses.replace(
        git_facts, signed=(dataclasses.replace(ev[0], verified=False), ev[1])
    )
    assert decide(POLICY, unverified).outcome is Outcome.DENIED
    # the trainer never counts, whatever the source
    trainer = dataclasses.replace(POLICY, trainers=frozenset({"alice"}))
    assert decide(trainer, git_facts).outcome is Outcome.DENIED


def test_json_shape() -> None:
    d = decide(POLICY, facts(review(1, "alice"), review(2, "jane.smith")))
    data = d.to_json()
    assert data["outcome"] == "approved"
    assert data["approvals"][0]["review_id"] == 1
    assert data["roles"][0] == {"role": "ml_lead", "required": 1, "filled_by": ["alice"]}


# ---- properties -----------------------------------------------------------------------------

PEOPLE = ["alice", "bob", "carol", "jane.smith", "author", "trainer", "mallory", "ci[bot]"]
STATES = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]

reviews_st = st.lists(
    st.builds(
        lambda i, who, state, head, minutes: review(i, who, state, HEAD if head else OLD, minutes),
        st.integers(1, 10_000),
        st.sampled_from(PEOPLE),
        st.sampled_from(STATES),
        st.booleans(),
        st.integers(0, 50),
    ),
    max_size=12,
    unique_by=lambda r: r.id,
)
policy_st = st.builds(
    lambda members, n: dataclasses.replace(
        POLICY,
        required=required_roles(["ml_lead", "risk_owner"], n),
        roles={
            "ml_lead": RoleDefinition(frozenset(members[: len(members) // 2 + 1])),
            "risk_owner": RoleDefinition(frozenset(members[len(members) // 2 :])),
        },
    ),
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=6, unique=True),
    st.integers(0, 2),
)
perms = dict(WRITERS, mallory="read")


@settings(max_examples=150, deadline=None)
@given(policy_st, reviews_st)
def test_property_author_never_counts(policy: ApprovalPolicy, reviews: list[Review]) -> None:
    d = decide(policy, facts(*reviews, permissions=perms))
    assert all(a.person != PR.author for a in d.approvals)
    assert all(PR.author not in r.filled_by for r in d.roles)


@settings(max_examples=150, deadline=None)
@given(policy_st, reviews_st, st.sampled_from(PEOPLE), st.integers(0, 60), st.booleans())
def test_property_commented_review_changes_nothing(
    policy: ApprovalPolicy, reviews: list[Review], who: str, minutes: int, head: bool
) -> None:
    before = decide(policy, facts(*reviews, permissions=perms))
    extra = review(20_000, who, "COMMENTED", HEAD if head else OLD, minutes)
    after = decide(policy, facts(*reviews, extra, permissions=perms))
    assert after == before


@settings(max_examples=150, deadline=None)
@given(policy_st, reviews_st)
def test_property_new_push_invalidates_every_earlier_approval(
    policy: ApprovalPolicy, reviews: list[Review]
) -> None:
    pushed = dataclasses.replace(PR, head_sha="f" * 40)
    d = decide(policy, facts(*reviews, permissions=perms, pull_request=pushed))
    assert d.approvals == ()
    if any(count for _, count in policy.required):
        assert d.outcome is not Outcome.APPROVED


@settings(max_examples=150, deadline=None)
@given(policy_st, reviews_st, st.randoms(use_true_random=False))
def test_property_order_independent(
    policy: ApprovalPolicy, reviews: list[Review], rnd: object
) -> None:
    shuffled = list(reviews)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert decide(policy, facts(*reviews, permissions=perms)) == decide(
        policy, facts(*shuffled, permissions=perms)
    )


def test_roster_reconciled_with_live_team() -> None:
    policy = dataclasses.replace(
        POLICY,
        required=required_roles(["ml_lead"], 1),
        roles={"ml_lead": RoleDefinition(frozenset({"alice"}), frozenset({"acme/ml-leads"}))},
    )
    # alice is on the roster but the live team does not list her: counts, and is reported
    d = decide(policy, facts(review(1, "alice"), team_members={"acme/ml-leads": frozenset()}))
    assert d.outcome is Outcome.APPROVED
    assert [n.code for n in d.notes] == ["roster_drift"]
    # listed by the live team too: nothing to report
    d = decide(
        policy, facts(review(1, "alice"), team_members={"acme/ml-leads": frozenset({"alice"})})
    )
    assert d.notes == ()
    # team unreadable: the roster alone decides, no drift claimed
    d = decide(
        policy,
        facts(
            review(1, "alice"),
            team_members={"acme/ml-leads": frozenset()},
            unreadable_teams=frozenset({"acme/ml-leads"}),
        ),
    )
    assert d.outcome is Outcome.APPROVED and d.notes == ()


def test_ledger_evidence_names_role_review_and_membership() -> None:
    d = decide(POLICY, facts(review(11, "carol"), review(12, "alice")))
    evidence = d.ledger_evidence(pr_number=7)
    assert [(e["actor_id"], e["actor_role"]) for e in evidence] == [
        ("alice", "ml_lead"),
        ("carol", "risk_owner"),
    ]
    assert evidence[1]["source"] == {
        "kind": "github",
        "pr": 7,
        "head_sha": HEAD,
        "review_id": 11,
        "submitted_at": T0.isoformat(),
    }
    assert evidence[1]["details"] == {"membership": "roster"}


def test_required_roles_listed_twice_count_once() -> None:
    assert required_roles(["ml_lead", "risk_owner", "ml_lead"], 2) == (
        ("ml_lead", 2),
        ("risk_owner", 2),
    )


def test_summary_lines_answer_first() -> None:
    d = decide(POLICY, facts(review(1, "alice"), review(2, "author")))
    lines = d.summary_lines()
    assert lines[0] == "approvals: denied"
    assert "  ml_lead: 1/1 ok (alice)" in lines
    assert "  risk_owner: 0/1 MISSING" in lines
    assert any(line.startswith("  note: author:") for line in lines)


signed_st = st.lists(
    st.builds(
        lambda i, who, role, ok, granted, minutes: SignedApproval(
            f"e{i}",
            who,
            role,
            "sha256:" + ("d" if ok else "e") * 64,
            T0 + timedelta(minutes=minutes),
            granted,
        ),
        st.integers(1, 10_000),
        st.sampled_from(PEOPLE),
        st.sampled_from(["ml_lead", "risk_owner", "platform_owner"]),
        st.booleans(),
        st.booleans(),
        st.integers(0, 30),
    ),
    max_size=10,
    unique_by=lambda s: s.event_id,
)


@settings(max_examples=150, deadline=None)
@given(policy_st, signed_st, st.randoms(use_true_random=False))
def test_property_signed_approvals_order_independent_and_bound_to_digest(
    policy: ApprovalPolicy, signed: list[SignedApproval], rnd: Any
) -> None:
    digest = "sha256:" + "d" * 64
    shuffled = list(signed)
    rnd.shuffle(shuffled)
    a = decide(policy, ApprovalFacts(signed=tuple(signed), release_digest=digest))
    b = decide(policy, ApprovalFacts(signed=tuple(shuffled), release_digest=digest))
    assert a == b
    # nothing approved for another digest ever counts
    assert all(
        next(s for s in signed if s.event_id == ap.event_id).release_digest == digest
        for ap in a.approvals
    )
