"""`check --approvals github --pr N`: the approvals module's decision as gate input.

The conversion is tested on real approvals-module values; the check path replaces only the
fetch at this module's port (the GitHub adapter itself is tested by the approvals suite against
its loopback GitHub server)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.approvals.counting import (
    Approval,
    ApprovalDecision,
    ApprovalFacts,
    Commit,
    Outcome,
    PullRequest,
    Reason,
    RoleResult,
)
from governance.approvals.evaluate import PullRequestEvaluation
from governance.errors import Undecided
from governance.policy import check as check_module
from governance.policy import github_approvals
from governance.policy.check import CheckOptions, run_check
from governance.repo import GovernedRepo

ROOT = Path(__file__).resolve().parents[3]
HEAD = "f" * 40
WHEN = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


def evaluation(outcome: Outcome, reasons: tuple[Reason, ...] = ()) -> PullRequestEvaluation:
    people = {"ml_lead": "alice", "platform_owner": "bob", "risk_owner": "jane.smith"}
    approvals = tuple(
        Approval(person=p, source="github", roles=(r,), membership=((r, "roster"),),
                 review_id=100 + i, commit_id=HEAD, submitted_at=WHEN)
        for i, (r, p) in enumerate(people.items())
    )
    roles = tuple(RoleResult(r, 1, (p,)) for r, p in people.items())
    facts = ApprovalFacts(
        pull_request=PullRequest(7, HEAD, "b" * 40, "main", "dana", False, False),
        commits=(Commit(HEAD, author_login="dana", committer_login="web-flow"),),
    )
    decision = ApprovalDecision(outcome, reasons, (), approvals, roles)
    return PullRequestEvaluation(None, facts, decision)


@pytest.fixture(autouse=True)
def _head_not_in_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The head commit HEAD here is made up: the release digest at it is not read from git
    (the content checked is taken as the head's, as in the gate workflow's overlay)."""
    monkeypatch.setattr(check_module, "digests_at_head", lambda repo, dirs, head: ())


def check_with_pr7():  # type: ignore[no-untyped-def]
    """`governance check fraud-risk-2026-04-10-01 --env production --pr 7 --approvals github`."""
    return run_check(
        GovernedRepo(ROOT),
        CheckOptions(refs=("fraud-risk-2026-04-10-01",), environment="production",
                     approvals="github", pr=7, engine="regopy",
                     now=datetime(2026, 6, 1, tzinfo=UTC)),
    )


def test_filled_slots_become_verified_github_approvals() -> None:
    got = github_approvals.from_evaluation(evaluation(Outcome.APPROVED), 7)
    assert {(a.role, a.actor_id) for a in got.approvals} == {
        ("ml_lead", "alice"), ("platform_owner", "bob"), ("risk_owner", "jane.smith"),
    }
    assert all(a.source == "github" and a.role_verified and a.commit_id == HEAD
               for a in got.approvals)
    assert got.excluded_actors == ("dana", "web-flow")
    assert got.head_sha == HEAD and got.checks == ()


def test_denied_pull_request_is_a_failed_check() -> None:
    reason = Reason("changes_requested", "bob requested changes", "bob")
    got = github_approvals.from_evaluation(evaluation(Outcome.DENIED, (reason,)), 7)
    (check,) = got.checks
    assert check["conclusion"] == "failure" and "bob requested changes" in check["name"]


def test_undecided_pull_request_cannot_decide() -> None:
    reason = Reason("api_failure", "GitHub API answered 502")
    with pytest.raises(Undecided) as err:
        github_approvals.from_evaluation(evaluation(Outcome.UNDECIDED, (reason,)), 7)
    assert "502" in err.value.message


def test_check_binds_head_approvals_to_the_release_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fake_fetch(root, number, *, environment, risk_tier, trainers):  # type: ignore[no-untyped-def]
        assert (number, environment, risk_tier, trainers) == (7, "production", "high", ["dana"])
        return github_approvals.from_evaluation(evaluation(Outcome.APPROVED), number)

    monkeypatch.setattr(github_approvals, "fetch", fake_fetch)
    outcome = check_with_pr7()
    (decision,) = outcome.decisions
    assert decision.undecided is None
    gate_ids = {v.gate_id for v in decision.failures}
    assert "required_approvals" not in gate_ids  # three people, three roles, on the digest
    approvals = decision.record["input"]["approvals"]
    assert {a["digest"] for a in approvals} == {decision.record["input"]["release"]["digest"]}


def test_head_approvals_bind_to_the_digest_at_the_head_not_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a merge the checkout is the merge commit; a review approved the PR head. When the
    release directory differs between the two, the approvals bind to the head's digest and no
    longer count for the release checked."""
    other = "sha256:" + "1" * 64
    monkeypatch.setattr(github_approvals, "fetch", lambda root, number, **kw:
                        github_approvals.from_evaluation(evaluation(Outcome.APPROVED), number))
    monkeypatch.setattr(check_module, "digests_at_head",
                        lambda repo, dirs, head: (("fraud-risk-2026-04-10-01", other),))
    outcome = check_with_pr7()
    (decision,) = outcome.decisions
    assert {a["digest"] for a in decision.record["input"]["approvals"]} == {other}
    assert "required_approvals" in {v.gate_id for v in decision.failures}
    assert not decision.allow


def test_counted_reviews_become_idempotent_ledger_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from governance.policy.record import approval_events, record_approvals
    from tests.unit.test_lifecycle import ev

    monkeypatch.setattr(github_approvals, "fetch",
                        lambda root, number, **kw: github_approvals.from_evaluation(
                            evaluation(Outcome.APPROVED), number))
    outcome = check_with_pr7()
    events = approval_events(outcome.decisions, 7)
    digest = outcome.decisions[0].record["input"]["release"]["digest"]
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
