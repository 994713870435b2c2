"""Gather a pull request's approval facts: GitHub (through the adapter) and the local clone.

Owns the order of the work and the fail-closed wiring around it: the pull request first (its
BASE commit fixes which governance.yaml and CODEOWNERS apply, DESIGN section 6), then reviews,
commits, permissions, team memberships and CODEOWNERS errors from GitHub, changed files from
``git diff base...head``. Any API failure is recorded as a fetch error, so every consumer
refuses to decide (exit 3) instead of passing on partial data. Nothing here decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from governance.approvals import codeowners as co
from governance.approvals import gitfiles
from governance.approvals.facts import ApprovalFacts, ApprovalPolicy, Commit, Review
from governance.approvals.github import ApiFailure, GitHubSource, memberships
from governance.approvals.policy import (
    approval_policy,
    config_at,
    governance_policy,
    teams_to_check,
)
from governance.domain.identity import identity_key
from governance.errors import ConfigurationError, Undecided


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


def _owner_teams(owners: co.Codeowners | None, changed: Iterable[str]) -> list[str]:
    if owners is None:
        return []
    teams = {o[1:] for path in changed for o in owners.owners_of(path) if o.startswith("@")}
    return sorted(t for t in teams if "/" in t)
