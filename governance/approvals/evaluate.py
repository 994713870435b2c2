"""Decide a pull request's approvals: gather facts (GitHub + local git), then count.

Owns the order of the work and the fail-closed wiring around it: the pull request first (its
BASE commit fixes which governance.yaml and CODEOWNERS apply, DESIGN section 6), then reviews,
commits, permissions, team memberships and CODEOWNERS errors from GitHub, changed files from
``git diff base...head``. Any API failure is recorded as a fetch error, so ``decide`` answers
``undecided`` (exit 3) instead of passing on partial data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from governance.approvals import codeowners as co
from governance.approvals import gitfiles
from governance.approvals.counting import (
    ApprovalDecision,
    ApprovalFacts,
    ApprovalPolicy,
    Commit,
    Outcome,
    Review,
    decide,
)
from governance.approvals.github import (
    ApiFailure,
    GitHubSettings,
    GitHubSource,
    memberships,
    token_from_env,
)
from governance.approvals.policy import (
    approval_policy,
    config_at,
    governance_policy,
    teams_to_check,
)
from governance.config_change import ReviewFacts
from governance.domain.identity import identity_key, same_identity
from governance.errors import ConfigurationError, Denied, Undecided
from governance.timeparse import format_rfc3339_offset


@dataclass(frozen=True)
class PullRequestEvaluation:
    policy: ApprovalPolicy | None
    facts: ApprovalFacts
    decision: ApprovalDecision


def evaluate_pull_request(
    root: Path,
    source: GitHubSource,
    number: int,
    *,
    environment: str | None,
    risk_tier: str,
    trainers: Iterable[str] = (),
) -> PullRequestEvaluation:
    """Everything needed to decide PR ``number`` for ``environment``; never raises on API errors.
    ``environment`` None: a governance change, judged by CODEOWNERS alone (no roles)."""
    policy, facts = gather_pull_request(root, source, number, environment=environment,
                                        risk_tier=risk_tier, trainers=trainers)
    if policy is None:
        return PullRequestEvaluation(None, facts, _undecided_without_policy(facts))
    return PullRequestEvaluation(policy, facts, decide(policy, facts))


def gather_pull_request(
    root: Path,
    source: GitHubSource,
    number: int,
    *,
    environment: str | None,
    risk_tier: str,
    trainers: Iterable[str] = (),
) -> tuple[ApprovalPolicy | None, ApprovalFacts]:
    """The facts of PR ``number`` and the rules at its base commit, without deciding; an API
    failure is a fetch error in the facts (no policy when the PR itself could not be read)."""
    try:
        pr = source.pull_request(number)
    except ApiFailure as err:
        return None, ApprovalFacts(fetch_errors=(str(err),))

    errors: list[str] = []
    config_bytes = gitfiles.file_at(root, pr.base_sha, "governance.yaml")
    if config_bytes is None:
        raise ConfigurationError(
            f"governance.yaml does not exist at the base commit {pr.base_sha[:12]} of PR #{number}"
        )
    base_config = config_at(config_bytes, f"governance.yaml@{pr.base_sha[:12]}")
    policy = (
        governance_policy(base_config)
        if environment is None
        else approval_policy(base_config, environment, risk_tier, trainers)
    )
    try:
        owners = co.load(lambda path: gitfiles.file_at(root, pr.base_sha, path))
    except co.CodeownersTooLarge as err:
        owners = None
        errors.append(str(err))
    try:
        changed = gitfiles.changed_files(root, pr.base_sha, pr.head_sha)
    except Undecided as err:
        changed = ()
        errors.append(err.message)

    reviews: tuple[Review, ...] = ()
    commits: tuple[Commit, ...] = ()
    permissions: dict[str, str] = {}
    team_members: dict[str, frozenset[str]] = {}
    unreadable: frozenset[str] = frozenset()
    api_codeowners_errors: tuple[str, ...] = ()
    try:
        reviews = source.reviews(number)
        commits = source.commits(number)
        people = sorted({r.reviewer for r in reviews if r.state not in ("COMMENTED", "PENDING")})
        for login in people:
            permissions[identity_key(login)] = source.permission(login)
        code_teams = _owner_teams(owners, changed)
        team_members, unreadable = memberships(source, teams_to_check(policy, code_teams), people)
        if owners is not None:
            api_codeowners_errors = source.codeowners_errors(pr.base_sha)
    except ApiFailure as err:
        errors.append(str(err))

    facts = ApprovalFacts(
        pull_request=pr,
        reviews=reviews,
        commits=commits,
        permissions=permissions,
        team_members=team_members,
        unreadable_teams=unreadable,
        codeowners=owners,
        changed_files=changed,
        codeowners_api_errors=api_codeowners_errors,
        fetch_errors=tuple(errors),
    )
    return policy, facts


def pull_request_decision(
    root: Path,
    number: int,
    *,
    environment: str | None,
    risk_tier: str,
    trainers: Iterable[str] = (),
    repository: str | None = None,
    env: Mapping[str, str] | None = None,
) -> PullRequestEvaluation:
    """``evaluate_pull_request`` with a GitHub source configured from the environment
    (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY): what ``check --approvals github`` calls."""
    source = GitHubSource(GitHubSettings.from_env(repository, env), token_from_env(env))
    try:
        return evaluate_pull_request(
            root, source, number, environment=environment, risk_tier=risk_tier, trainers=trainers
        )
    finally:
        source.close()


def _owner_teams(owners: co.Codeowners | None, changed: Iterable[str]) -> list[str]:
    if owners is None:
        return []
    teams = {o[1:] for path in changed for o in owners.owners_of(path) if o.startswith("@")}
    return sorted(t for t in teams if "/" in t)


def _undecided_without_policy(facts: ApprovalFacts) -> ApprovalDecision:
    return decide(ApprovalPolicy(required=(), roles={}), facts)


def require_approved(decision: ApprovalDecision) -> None:
    """Map a decision onto the error hierarchy: undecided -> exit 3, denied -> exit 1."""
    if decision.outcome is Outcome.APPROVED:
        return
    text = "; ".join(r.message for r in decision.reasons)
    if decision.outcome is Outcome.UNDECIDED:
        raise Undecided(f"approvals could not be decided: {text}")
    raise Denied(f"approvals are not sufficient: {text}")


def review_config_change(root: Path, number: int, paths: Iterable[str],
                         env: Mapping[str, str] | None = None) -> ReviewFacts:
    """Re-verify pull request ``number`` for a governance change to ``paths`` at its final head
    (GitHub source from the environment). Undecided (exit 3) when GitHub or git could not
    answer: nothing may be recorded on partial facts."""
    evaluation = pull_request_decision(root, number, environment=None, risk_tier="", env=env)
    decision, facts = evaluation.decision, evaluation.facts
    if decision.outcome is Outcome.UNDECIDED or facts.pull_request is None:
        raise Undecided(f"the approvals of pull request #{number} could not be decided: "
                        + "; ".join(r.message for r in decision.reasons))
    owners = facts.codeowners
    unowned = tuple(p for p in paths if owners is None or not owners.owners_of(p))
    approvals = tuple(
        {"actor_id": a.person, "review_id": a.review_id, "head_sha": a.commit_id,
         "submitted_at": format_rfc3339_offset(a.submitted_at) if a.submitted_at else None,
         "code_owner_of": sorted(p for p in paths if owners is not None
                                 and _owns_path(owners, p, a.person))}
        for a in decision.approvals if a.source == "github"
    )
    return ReviewFacts(number=number, head_sha=facts.pull_request.head_sha,
                       outcome=decision.outcome.value,
                       # the reasons, then why each review that did not count did not
                       reasons=tuple(r.message for r in decision.reasons)
                       + tuple(n.message for n in decision.notes if n.code == "not_counted"),
                       approvals=approvals, unowned=unowned, pr_files=facts.changed_files)


def _owns_path(owners: co.Codeowners, path: str, person: str) -> bool:
    return any(same_identity(o[1:], person) for o in owners.owners_of(path))
