"""``check --approvals github --pr N``: a pull request's reviews as normalised gate facts.

The GitHub adapter (``governance.approvals.github``, through ``gather.gather_pull_request``)
reads the pull request, its reviews, commits, permissions, team memberships and CODEOWNERS at the
BASE commit (DESIGN section 6). This module turns those facts into the gate input's approval
shape; the required-approvals gate (``policies/gates/approvals.rego``) decides, and its output
carries every reason. Nothing here counts or denies:

- each reviewer's current state is their latest review (``submitted_at`` then ``id``;
  ``COMMENTED``/``PENDING`` ignored; ``DISMISSED`` cancels), GitHub's own semantics;
- an approval becomes one fact per required role the reviewer holds (``role_verified``: the
  roster or an active team membership at the base), or one unverified fact per required role
  when they hold none, so the gate can say "not a member"; each fact carries the reviewer's
  ``permission``, ``account_type`` and the ``commit_id`` reviewed (the gate binds a fact on the
  head commit to the release digest and names every other one stale);
- an outstanding ``CHANGES_REQUESTED`` is a ``changes_requested`` fact (the gate blocks when the
  reviewer has write access);
- the PR author and every commit author/committer (also by email) are excluded actors;
- CODEOWNERS: per owner group of the changed files, the owners, the paths and the people who
  may answer for them (logins, emails' people, team members or the team's roster fallback).

Facts that cannot be trusted are not facts: a fork, a draft, a closed PR, a wrong base, a
CODEOWNERS error or any API failure is "could not decide" (exit 3), never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.approvals.facts import (
    ApprovalFacts,
    ApprovalPolicy,
    Reason,
    excluded_identities,
    latest_by_reviewer,
    owner_identities,
    roles_held,
    undecided_reasons,
)
from governance.errors import Undecided
from governance.policy.input import ApprovalFact
from governance.timeparse import format_rfc3339_offset


@dataclass(frozen=True)
class PullRequestApprovals:
    approvals: tuple[ApprovalFact, ...]
    excluded_actors: tuple[str, ...]
    head_sha: str | None
    codeowners: tuple[dict[str, Any], ...] = ()


def gate_facts(policy: ApprovalPolicy | None, facts: ApprovalFacts,
               number: int) -> PullRequestApprovals:
    """Normalise one pull request's facts for the gate (see the module docstring)."""
    reasons = undecided_reasons(policy or ApprovalPolicy(required=(), roles={}), facts)
    pr = facts.pull_request
    if policy is None or pr is None or reasons:
        text = "; ".join(r.message for r in reasons) or "the pull request could not be read"
        raise Undecided(f"approvals on pull request #{number} could not be decided: {text}")
    notes: list[Reason] = []
    approvals: list[ApprovalFact] = []
    required = [role for role, _ in policy.required]
    for who, review in sorted(latest_by_reviewer(facts.reviews, notes).items()):
        if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
            continue  # DISMISSED cancels the reviewer's state; nothing else is a state
        held = roles_held(policy, facts, review.reviewer)
        roles = [r for r in required if r in held] or required or [""]
        for role in roles if review.state == "APPROVED" else roles[:1]:
            approvals.append(ApprovalFact(
                role=role,
                actor_id=review.reviewer,
                source="github",
                digest=None,  # bound by the input builder when given on the head commit
                commit_id=review.commit_id,
                submitted_at=(format_rfc3339_offset(review.submitted_at)
                              if review.submitted_at else ""),
                state="approved" if review.state == "APPROVED" else "changes_requested",
                role_verified=role in held,
                review_id=str(review.id),
                permission=facts.permissions.get(who) or facts.permissions.get(review.reviewer)
                or "none",
                account_type=review.reviewer_type,
            ))
    excluded = set(excluded_identities(policy, facts))
    return PullRequestApprovals(tuple(approvals), tuple(sorted(excluded)), pr.head_sha,
                                _codeowner_groups(policy, facts))


def _codeowner_groups(policy: ApprovalPolicy, facts: ApprovalFacts
                      ) -> tuple[dict[str, Any], ...]:
    if facts.codeowners is None:
        return ()
    paths: dict[tuple[str, ...], list[str]] = {}
    for path in facts.changed_files:
        owners = facts.codeowners.owners_of(path)
        if owners:
            paths.setdefault(owners, []).append(path)
    return tuple(
        {"owners": list(owners), "paths": files,
         "people": sorted(set().union(*(owner_identities(policy, facts, o) for o in owners)))}
        for owners, files in sorted(paths.items())
    )


def fetch(
    root: Path, number: int, *, environment: str, risk_tier: str, trainers: Iterable[str]
) -> PullRequestApprovals:
    """Read pull request ``number`` (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY) and
    normalise it for ``environment`` and the model's ``risk_tier``."""
    from governance.approvals.gather import gather_pull_request
    from governance.approvals.github import GitHubSettings, GitHubSource, token_from_env

    source = GitHubSource(GitHubSettings.from_env(None), token_from_env())
    try:
        policy, facts = gather_pull_request(root, source, number, environment=environment,
                                            risk_tier=risk_tier, trainers=trainers)
    finally:
        source.close()
    return gate_facts(policy, facts, number)


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
