"""Approval facts: DESIGN section 6's observations, normalised; no verdict.

Owns the plain facts the approval sources gather (the GitHub adapter ``governance.approvals.
github``; ``evaluate.gather_pull_request``) and the normalisations every consumer needs, in one
place: which review is a reviewer's current state, who is excluded, which roles a person holds,
which facts cannot be trusted, who a CODEOWNERS owner names. Whether approvals suffice is not
decided here nor anywhere else in Python: the required-approvals gate
(``policies/gates/approvals.rego``) decides, read through ``governance.policy.approval_standing``
(issue 20 item 1; ``tests/unit/test_approval_authority_ast.py`` keeps it that way).

The normalisations, with the GitHub documentation they come from:
- One state per reviewer: the latest review by ``submitted_at`` then ``id``. ``COMMENTED`` does
  not change a reviewer's state and ``PENDING`` reviews are not submitted, so both are ignored; a
  ``DISMISSED`` review cancels that reviewer's state ("Dismissing a pull request review",
  https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/reviewing-changes-in-pull-requests/dismissing-a-pull-request-review).
- Excluded identities: the PR author, the release's trainer(s) and anyone who committed to the
  PR (by login, by a governance.yaml person's email, or by a GitHub no-reply address).
- Roles held: the governance.yaml roster at the base commit, or an active member of one of the
  role's teams.
- Facts that cannot be trusted: a fork, a draft, a PR closed unmerged, a wrong base branch,
  CODEOWNERS errors or any API failure; the consumers refuse to decide on them (exit 3).
- Identities compare in one normal form (``governance.domain.identity.identity_key``): GitHub
  logins are case-insensitive, so ``Alice`` and ``alice`` are one person everywhere above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance.approvals.codeowners import Codeowners
from governance.domain.identity import identity_key, identity_keys

IGNORED_STATES = frozenset({"COMMENTED", "PENDING"})


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    author: str
    draft: bool
    from_fork: bool
    author_type: str = "User"
    state: str = "open"  # "open" or "closed"
    merged: bool = False


@dataclass(frozen=True)
class Review:
    """One pull request review as GitHub reports it."""

    id: int
    reviewer: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str | None
    submitted_at: datetime | None
    reviewer_type: str = "User"  # GitHub account type: User, Bot, Organization, Mannequin


@dataclass(frozen=True)
class Commit:
    sha: str
    author_login: str | None = None
    committer_login: str | None = None
    author_email: str | None = None
    committer_email: str | None = None


@dataclass(frozen=True)
class RoleDefinition:
    """A role from governance.yaml (read at the base commit): people ids and org/slug teams."""

    members: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ApprovalPolicy:
    """What must hold, from governance.yaml at the base commit and the release."""

    required: tuple[tuple[str, int], ...]  # (role, approvals needed), from the env and risk tier
    roles: Mapping[str, RoleDefinition]
    protected_branch: str = "main"
    bots: frozenset[str] = frozenset()
    trainers: frozenset[str] = frozenset()
    people_emails: Mapping[str, str] = field(default_factory=dict)  # lower-case email -> id


@dataclass(frozen=True)
class ApprovalFacts:
    """What was observed on a pull request (``pull_request`` None: it could not be read)."""

    pull_request: PullRequest | None = None
    reviews: tuple[Review, ...] = ()
    commits: tuple[Commit, ...] = ()
    permissions: Mapping[str, str] = field(default_factory=dict)  # login -> permission
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # active members
    unreadable_teams: frozenset[str] = frozenset()  # token could not read: roster only
    codeowners: Codeowners | None = None
    changed_files: tuple[str, ...] = ()
    codeowners_api_errors: tuple[str, ...] = ()
    fetch_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    who: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "who": self.who}


def required_roles(roles: Sequence[str], approvals_per_role: int) -> tuple[tuple[str, int], ...]:
    """The environment's required roles (each once, in order), each needing the tier's count."""
    return tuple((role, approvals_per_role) for role in dict.fromkeys(roles))


def undecided_reasons(policy: ApprovalPolicy, facts: ApprovalFacts) -> list[Reason]:
    out = [Reason("api_failure", msg) for msg in facts.fetch_errors]
    pr = facts.pull_request
    if pr is not None:
        if pr.from_fork:
            out.append(Reason("fork", f"PR #{pr.number} comes from a fork; refusing to decide"))
        if pr.state != "open" and not pr.merged:
            out.append(Reason("closed", f"PR #{pr.number} was closed without being merged"))
        if pr.draft:
            out.append(Reason("draft", f"PR #{pr.number} is a draft; mark it ready for review"))
        if pr.base_ref != policy.protected_branch:
            out.append(
                Reason(
                    "wrong_base",
                    f"PR #{pr.number} targets {pr.base_ref!r} "
                    f"(expected {policy.protected_branch!r})",
                )
            )
    out.extend(
        Reason("codeowners_error", f"GitHub reports: {m}") for m in facts.codeowners_api_errors
    )
    if facts.codeowners is not None:
        out.extend(Reason("codeowners_error", m) for m in facts.codeowners.error_lines())
    return out


def excluded_identities(policy: ApprovalPolicy, facts: ApprovalFacts) -> dict[str, str]:
    """login (``identity_key``) -> why this identity can never count."""
    out: dict[str, str] = {}
    for trainer in policy.trainers:
        out.setdefault(identity_key(trainer), "trained the release")
    for commit in facts.commits:
        for login in (commit.author_login, commit.committer_login):
            if login and login != "web-flow":  # web-flow: GitHub's committer for web edits
                out.setdefault(identity_key(login), f"committed to the PR ({commit.sha[:12]})")
        for email in (commit.author_email, commit.committer_email):
            person = policy.people_emails.get((email or "").lower()) or _noreply_login(email)
            if person:
                out.setdefault(identity_key(person), f"committed to the PR ({commit.sha[:12]})")
    if facts.pull_request is not None:
        out[identity_key(facts.pull_request.author)] = "authored the PR"
    return out


_NOREPLY = re.compile(r"^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com\Z", re.I)


def _noreply_login(email: str | None) -> str | None:
    """The login in a GitHub no-reply address (``ID+login@users.noreply.github.com``), see
    https://docs.github.com/en/account-and-profile/setting-up-and-managing-your-personal-account-on-github/managing-email-preferences/setting-your-commit-email-address
    """
    match = _NOREPLY.fullmatch(email or "")
    return match.group(1) if match else None


def roles_held(policy: ApprovalPolicy, facts: ApprovalFacts, person: str) -> dict[str, str]:
    """Required roles ``person`` holds -> how membership was established."""
    held: dict[str, str] = {}
    who = identity_key(person)
    for role, _ in policy.required:
        definition = policy.roles.get(role)
        if definition is None:
            continue
        if who in identity_keys(definition.members):
            held[role] = "roster"
            continue
        for team in sorted(definition.teams):
            if who in identity_keys(facts.team_members.get(team, frozenset())):
                held[role] = f"team:{team}"
                break
    return held


def latest_by_reviewer(reviews: Iterable[Review], notes: list[Reason]) -> dict[str, Review]:
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=_review_key):
        if review.state in IGNORED_STATES:
            continue  # neither comments nor unsubmitted reviews change a reviewer's state
        if review.submitted_at is None:
            notes.append(
                Reason("unsubmitted", f"review {review.id} has no submitted_at", review.reviewer)
            )
            continue
        latest[identity_key(review.reviewer)] = review
    return latest


def _review_key(review: Review) -> tuple[float, int]:
    ts = review.submitted_at.timestamp() if review.submitted_at else float("-inf")
    return (ts, review.id)


def owner_identities(policy: ApprovalPolicy, facts: ApprovalFacts, owner: str) -> frozenset[str]:
    """The people (``identity_key``) a CODEOWNERS owner names: an email's person, a login, or a
    team's active members (its roster fallback when the team cannot be read or is empty)."""
    if "@" in owner and not owner.startswith("@"):
        person = policy.people_emails.get(owner.lower())
        return frozenset() if person is None else frozenset({identity_key(person)})
    name = owner[1:]
    if "/" not in name:
        return frozenset({identity_key(name)})
    members = set(identity_keys(facts.team_members.get(name, frozenset())))
    if name in facts.unreadable_teams or not members:
        # roster fallback: people of every role whose teams include this team
        for definition in policy.roles.values():
            if name in definition.teams:
                members |= identity_keys(definition.members)
    return frozenset(members)
