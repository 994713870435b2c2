"""``check --approvals github --pr N``: the approvals module's pull-request decision as gate input.

``governance.approvals.evaluate.pull_request_decision`` reads the pull request, its reviews,
commits, team memberships and CODEOWNERS at the base commit, and counts (DESIGN section 6). This
module turns its answer into the gate input's fixed approval shape:

- every filled role slot becomes an approval (``source: github``, ``role_verified``: the
  approvals module resolved the membership) on the PR's head commit; the input builder binds it
  to the release digest of the content checked out at that head;
- the PR author and every commit author/committer are excluded actors;
- a denial (changes requested, missing roles, ...) becomes a failed check, which the
  ``release_status`` gate reports; an undecided answer (API failure, fork, draft, CODEOWNERS
  errors) is "could not decide" (exit 3), never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import Undecided
from governance.policy.input import ApprovalFact
from governance.timeparse import format_rfc3339_offset


@dataclass(frozen=True)
class PullRequestApprovals:
    approvals: tuple[ApprovalFact, ...]
    excluded_actors: tuple[str, ...]
    head_sha: str | None
    checks: tuple[dict[str, Any], ...]


def from_evaluation(evaluation: Any, number: int) -> PullRequestApprovals:
    """Convert a ``PullRequestEvaluation`` (governance.approvals.evaluate)."""
    from governance.approvals.counting import Outcome

    decision = evaluation.decision
    facts = evaluation.facts
    reasons = "; ".join(r.message for r in decision.reasons)
    if decision.outcome is Outcome.UNDECIDED:
        raise Undecided(f"approvals on pull request #{number} could not be decided: {reasons}")
    pr = facts.pull_request
    head = pr.head_sha if pr is not None else None
    approvals = tuple(
        ApprovalFact(
            role=role,
            actor_id=a.person,
            source="github",
            digest=None,
            commit_id=a.commit_id or head,
            submitted_at=format_rfc3339_offset(a.submitted_at) if a.submitted_at else "",
            role_verified=True,
            review_id=str(a.review_id) if a.review_id is not None else None,
        )
        for role, a in decision.assignments()
    )
    excluded = {pr.author} if pr is not None else set()
    for c in facts.commits:
        excluded.update(x for x in (c.author_login, c.committer_login) if x)
    checks: tuple[dict[str, Any], ...] = ()
    if decision.outcome is not Outcome.APPROVED:
        checks = (
            {"name": f"approvals on pull request #{number} ({reasons})", "conclusion": "failure"},
        )
    return PullRequestApprovals(approvals, tuple(sorted(excluded)), head, checks)


def fetch(
    root: Path, number: int, *, environment: str, risk_tier: str, trainers: Iterable[str]
) -> PullRequestApprovals:
    from governance.approvals.evaluate import pull_request_decision  # the GitHub adapter

    evaluation = pull_request_decision(
        root, number, environment=environment, risk_tier=risk_tier, trainers=trainers
    )
    return from_evaluation(evaluation, number)


def pull_request_head(number: int) -> str:
    """The final head commit of pull request ``number`` (GITHUB_TOKEN, GITHUB_API_URL,
    GITHUB_REPOSITORY): the commit its reviews approved. An API failure is undecided."""
    from governance.approvals.github import (
        ApiFailure,
        GitHubSettings,
        GitHubSource,
        token_from_env,
    )

    source = GitHubSource(GitHubSettings.from_env(None), token_from_env())
    try:
        return source.pull_request(number).head_sha
    except ApiFailure as err:
        raise Undecided(f"pull request #{number} could not be read: {err}") from None
    finally:
        source.close()
