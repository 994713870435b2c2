"""Judge a pull request's approvals with the required-approvals gate.

Gathers the facts (``governance.approvals.gather``), normalises them as the gate path does
(``governance.approvals.pull_request.gate_facts``) and asks the gate itself
(``governance.policy.approval_standing.pull_request_standing``) with the policies read at the
pull request's BASE commit: the same rule ``check --approvals github`` and ``promote`` apply,
so a pull request evaluation and ``config record`` cannot disagree with the gate (issue 20
item 1). Facts that cannot be trusted (a fork, a draft, a closed PR, a wrong base, CODEOWNERS
errors, an API failure) make the answer undecided (exit 3), never a pass.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from governance.approvals import codeowners as co
from governance.approvals import gitfiles
from governance.approvals.facts import ApprovalFacts, ApprovalPolicy, latest_by_reviewer
from governance.approvals.gather import gather_pull_request
from governance.approvals.github import GitHubSettings, GitHubSource, token_from_env
from governance.approvals.pull_request import gate_facts
from governance.config_change import ReviewFacts
from governance.domain.identity import identity_key, same_identity
from governance.errors import ConfigurationError, Denied, Undecided
from governance.policy.approval_standing import (
    ApprovalStanding,
    pull_request_standing,
    undecided_standing,
)
from governance.policy.bundle import POLICY_DIR, load_bundle
from governance.timeparse import format_rfc3339_offset

POLICY_DIRECTORY = POLICY_DIR  # read at the pull request's base commit


@dataclass(frozen=True)
class PullRequestEvaluation:
    policy: ApprovalPolicy | None
    facts: ApprovalFacts
    standing: ApprovalStanding  # the required-approvals gate's verdict


def evaluate_pull_request(
    root: Path,
    source: GitHubSource,
    number: int,
    *,
    environment: str | None,
    risk_tier: str,
    trainers: Iterable[str] = (),
    engine_name: str | None = None,
) -> PullRequestEvaluation:
    """The gate's verdict on PR ``number`` for ``environment``; never raises on API errors.
    ``environment`` None: a governance change, judged by CODEOWNERS alone (no roles)."""
    policy, facts = gather_pull_request(root, source, number, environment=environment,
                                        risk_tier=risk_tier, trainers=trainers)
    label = environment or "governance configuration"
    pr = facts.pull_request
    if policy is None or pr is None:
        reason = "; ".join(facts.fetch_errors) or "the pull request could not be read"
        return PullRequestEvaluation(policy, facts, undecided_standing(
            f"pull request #{number}", label,
            f"approvals on pull request #{number} could not be decided: {reason}"))
    try:
        normalised = gate_facts(policy, facts, number)
    except Undecided as err:
        return PullRequestEvaluation(policy, facts, undecided_standing(
            f"pull request #{number}", label, err.message))
    policies = gitfiles.files_under(root, pr.base_sha, POLICY_DIRECTORY)
    if not any(name.endswith(".rego") for name in policies):
        raise ConfigurationError(
            f"{POLICY_DIRECTORY}/ holds no policy at the base commit {pr.base_sha[:12]} of PR "
            f"#{number}: the required-approvals gate that judges it cannot be read",
            hint="commit the policies (governance init writes them) to the protected branch")
    with tempfile.TemporaryDirectory(prefix="governance-policies-") as tmp:
        directory = Path(tmp) / POLICY_DIRECTORY
        for name, data in policies.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        bundle = load_bundle(directory,
                             display_prefix=f"{POLICY_DIRECTORY}@{pr.base_sha[:12]}")
        standing = pull_request_standing(
            bundle, policy, normalised.approvals, number=number,
            head_sha=normalised.head_sha or pr.head_sha,
            excluded_actors=normalised.excluded_actors, codeowners=normalised.codeowners,
            environment=environment, risk_tier=risk_tier, engine_name=engine_name)
    return PullRequestEvaluation(policy, facts, standing)


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
    (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY)."""
    source = GitHubSource(GitHubSettings.from_env(repository, env), token_from_env(env))
    try:
        return evaluate_pull_request(
            root, source, number, environment=environment, risk_tier=risk_tier, trainers=trainers
        )
    finally:
        source.close()


def require_approved(standing: ApprovalStanding) -> None:
    """Map the gate's verdict onto the error hierarchy: undecided -> exit 3, denied -> exit 1."""
    if standing.outcome == "approved":
        return
    text = "; ".join(standing.reasons())
    if standing.outcome == "undecided":
        raise Undecided(f"approvals could not be decided: {text}")
    raise Denied(f"approvals are not sufficient: {text}")


def review_config_change(root: Path, number: int, paths: Iterable[str],
                         env: Mapping[str, str] | None = None) -> ReviewFacts:
    """Re-verify pull request ``number`` for a governance change to ``paths`` at its final head
    (GitHub source from the environment), as the gate judges it. Undecided (exit 3) when GitHub
    or git could not answer: nothing may be recorded on partial facts."""
    evaluation = pull_request_decision(root, number, environment=None, risk_tier="", env=env)
    return config_review(evaluation, number, paths)


def config_review(evaluation: PullRequestEvaluation, number: int,
                  paths: Iterable[str]) -> ReviewFacts:
    """The gate's verdict on a governance change, as ``config_change`` takes it: the outcome,
    the gate's reasons, and the reviews the gate counted as a person's with what each owns."""
    standing, facts = evaluation.standing, evaluation.facts
    if standing.outcome == "undecided" or facts.pull_request is None:
        raise Undecided(f"the approvals of pull request #{number} could not be decided: "
                        + "; ".join(standing.reasons()))
    owners = facts.codeowners
    paths = tuple(paths)
    unowned = tuple(p for p in paths if owners is None or not owners.owners_of(p))
    latest = latest_by_reviewer(facts.reviews, [])
    counted = {identity_key(r) for r in standing.reviewers}
    approvals = tuple(
        {"actor_id": review.reviewer, "review_id": review.id, "head_sha": review.commit_id,
         "submitted_at": (format_rfc3339_offset(review.submitted_at)
                          if review.submitted_at else None),
         "code_owner_of": sorted(p for p in paths if owners is not None
                                 and _owns_path(owners, p, review.reviewer))}
        for who, review in sorted(latest.items())
        if who in counted and review.state == "APPROVED"
    )
    return ReviewFacts(number=number, head_sha=facts.pull_request.head_sha,
                       outcome=standing.outcome,
                       # the gate's failures, then why each review that did not count did not
                       reasons=standing.reasons() + standing.reviewer_exclusions,
                       approvals=approvals, unowned=unowned, pr_files=facts.changed_files)


def _owns_path(owners: co.Codeowners, path: str, person: str) -> bool:
    return any(same_identity(o[1:], person) for o in owners.owners_of(path))
