"""Approval counting: DESIGN section 6's rules as one pure function over plain facts.

Owns the decision "do these reviews (or signed git-native approvals) satisfy the required roles
for this release", with every reason. No I/O and no PyGithub: the GitHub adapter
(``governance.approvals.github``) and the ledger gather ``ApprovalFacts``; ``decide`` answers.

The rules, with the GitHub documentation they come from:
- One state per reviewer: the latest review by ``submitted_at`` then ``id``. ``COMMENTED`` does
  not change a reviewer's state and ``PENDING`` reviews are not submitted, so both are ignored; a
  ``DISMISSED`` review cancels that reviewer's state ("Dismissing a pull request review",
  https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/reviewing-changes-in-pull-requests/dismissing-a-pull-request-review).
- An approval counts only when given on the current head commit (``commit_id == head sha``): a
  new push makes every earlier approval stale (GitHub's "Dismiss stale pull request approvals
  when new commits are pushed", applied always).
- An outstanding ``CHANGES_REQUESTED`` from someone with write access blocks, as GitHub's
  "Require approvals" does (branch protection docs: reviews from people with write access count).
- Bots and non-``User`` accounts, the PR author, the release's trainer(s) and anyone who
  committed to the PR never count; reviewers without write permission (admin, maintain, write)
  never count.
- Every required role is filled by a different person: a maximum bipartite matching between
  people and role slots (one slot per approval required), not a greedy assignment, so a person
  holding two roles is placed where they unblock the most.
- CODEOWNERS: every changed file with owners needs at least one counted approver among its
  owners (GitHub "Require review from Code Owners").
- Fail closed: a fork, a draft, a wrong base branch, CODEOWNERS errors or any API failure make
  the decision ``undecided`` (exit 3), never a pass.
- Identities compare in one normal form (``governance.domain.identity.identity_key``): GitHub
  logins are case-insensitive, so ``Alice`` and ``alice`` are one person everywhere above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from governance.approvals.codeowners import Codeowners
from governance.domain.identity import identity_key, identity_keys
from governance.timeparse import format_rfc3339_offset

# Collaborator permission levels with write access
# (GET /repos/{owner}/{repo}/collaborators/{username}/permission: admin, maintain, write, ...).
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
IGNORED_STATES = frozenset({"COMMENTED", "PENDING"})


class Outcome(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"
    UNDECIDED = "undecided"


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
class SignedApproval:
    """A git-native ``approval_granted`` / ``approval_denied`` ledger event, already verified
    (or not) by the ledger: the actor is the signer's principal."""

    event_id: str
    actor: str
    role: str
    release_digest: str
    timestamp: datetime
    granted: bool = True
    verified: bool = True


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
    """What was observed. A GitHub source sets ``pull_request``; a git source ``signed``."""

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
    signed: tuple[SignedApproval, ...] = ()
    release_digest: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    who: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "who": self.who}


@dataclass(frozen=True)
class Approval:
    """An approval that passed every individual rule (whether or not a role slot used it)."""

    person: str
    source: str  # "github" or "git"
    roles: tuple[str, ...]  # required roles this person may fill
    membership: tuple[tuple[str, str], ...]  # (role, how: "roster" | "team:org/slug")
    review_id: int | None = None
    event_id: str | None = None
    commit_id: str | None = None
    submitted_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "source": self.source,
            "roles": list(self.roles),
            "membership": dict(self.membership),
            "review_id": self.review_id,
            "event_id": self.event_id,
            "commit_id": self.commit_id,
            "submitted_at": format_rfc3339_offset(self.submitted_at) if self.submitted_at else None,
        }


@dataclass(frozen=True)
class RoleResult:
    role: str
    required: int
    filled_by: tuple[str, ...]

    @property
    def satisfied(self) -> bool:
        return len(self.filled_by) >= self.required


@dataclass(frozen=True)
class ApprovalDecision:
    outcome: Outcome
    reasons: tuple[Reason, ...]  # why not approved (undecided or denied); empty when approved
    notes: tuple[Reason, ...]  # every review or approval that did not count, and why
    approvals: tuple[Approval, ...]
    roles: tuple[RoleResult, ...]

    def summary_lines(self) -> list[str]:
        """Plain text, answer first: outcome, each role, then every reason and note."""
        lines = [f"approvals: {self.outcome.value}"]
        for r in self.roles:
            mark = "ok" if r.satisfied else "MISSING"
            lines.append(
                f"  {r.role}: {len(r.filled_by)}/{r.required} {mark}"
                + (f" ({', '.join(r.filled_by)})" if r.filled_by else "")
            )
        lines += [f"  - {reason.message}" for reason in self.reasons]
        lines += [f"  note: {note.message}" for note in self.notes]
        return lines

    def assignments(self) -> tuple[tuple[str, Approval], ...]:
        """(role, approval) for every filled role slot: what the ledger records."""
        by_person = {a.person: a for a in self.approvals}
        return tuple((r.role, by_person[p]) for r in self.roles for p in r.filled_by)

    def ledger_evidence(self, pr_number: int | None = None) -> list[dict[str, Any]]:
        """Fields for one ``approval_granted`` event per filled slot (DESIGN section 7 names).

        Absent facts are left out rather than written as null (the event schema types them).
        """
        out = []
        for role, approval in self.assignments():
            source = {
                "kind": approval.source,
                "pr": pr_number,
                "head_sha": approval.commit_id,
                "review_id": approval.review_id,
                "event_id": approval.event_id,
                "submitted_at": format_rfc3339_offset(approval.submitted_at)
                if approval.submitted_at
                else None,
            }
            out.append(
                {
                    "actor_id": approval.person,
                    "actor_role": role,
                    "approval_state": "approved",
                    "source": {k: v for k, v in source.items() if v is not None},
                    "details": {"membership": dict(approval.membership).get(role)},
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reasons": [r.to_json() for r in self.reasons],
            "notes": [r.to_json() for r in self.notes],
            "approvals": [a.to_json() for a in self.approvals],
            "roles": [
                {"role": r.role, "required": r.required, "filled_by": list(r.filled_by)}
                for r in self.roles
            ],
        }


def required_roles(roles: Sequence[str], approvals_per_role: int) -> tuple[tuple[str, int], ...]:
    """The environment's required roles (each once, in order), each needing the tier's count."""
    return tuple((role, approvals_per_role) for role in dict.fromkeys(roles))


def decide(policy: ApprovalPolicy, facts: ApprovalFacts) -> ApprovalDecision:
    """Apply every counting rule; the outcome and all reasons (pure, order-independent)."""
    undecided = undecided_reasons(policy, facts)
    blockers: list[Reason] = []
    notes: list[Reason] = []
    excluded = excluded_identities(policy, facts)
    candidates: dict[str, Approval] = {}

    if facts.pull_request is not None:
        _count_reviews(policy, facts, excluded, candidates, blockers, notes)
    if facts.signed:
        _count_signed(policy, facts, excluded, candidates, blockers, notes)

    roles = _match(policy, candidates)
    counted = identity_keys(p for r in roles for p in r.filled_by)
    for result in roles:
        if not result.satisfied:
            blockers.append(
                Reason(
                    "role_unfilled",
                    f"role {result.role} needs {result.required} approval(s) from distinct "
                    f"people, got {len(result.filled_by)} "
                    f"(filled by: {', '.join(result.filled_by) or 'nobody'}; "
                    f"may approve: {_may_approve(policy, result.role, excluded, counted)})",
                )
            )
    blockers.extend(_codeowner_gaps(policy, facts, candidates))

    if undecided:
        outcome, reasons = Outcome.UNDECIDED, undecided + blockers
    elif blockers:
        outcome, reasons = Outcome.DENIED, blockers
    else:
        outcome, reasons = Outcome.APPROVED, []
    return ApprovalDecision(
        outcome=outcome,
        reasons=tuple(reasons),
        notes=tuple(sorted(notes, key=lambda r: (r.who or "", r.code, r.message))),
        approvals=tuple(candidates[p] for p in sorted(candidates)),
        roles=roles,
    )


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


def is_bot(policy: ApprovalPolicy, login: str, account_type: str) -> bool:
    return (
        account_type != "User"
        or login.endswith("[bot]")
        or identity_key(login) in identity_keys(policy.bots)
    )


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


def _count_reviews(
    policy: ApprovalPolicy,
    facts: ApprovalFacts,
    excluded: Mapping[str, str],
    candidates: dict[str, Approval],
    blockers: list[Reason],
    notes: list[Reason],
) -> None:
    pr = facts.pull_request
    assert pr is not None
    for who, review in sorted(latest_by_reviewer(facts.reviews, notes).items()):
        login = review.reviewer
        permission = facts.permissions.get(who) or facts.permissions.get(login)
        if review.state == "DISMISSED":
            notes.append(Reason("dismissed", f"review {review.id} by {login} was dismissed", login))
            continue
        if review.state == "CHANGES_REQUESTED":
            if permission is None or permission in WRITE_PERMISSIONS:
                blockers.append(
                    Reason(
                        "changes_requested",
                        f"{login} requested changes (review {review.id}) and has not approved "
                        "since; the request must be resolved or dismissed",
                        login,
                    )
                )
            else:
                notes.append(
                    Reason(
                        "changes_requested_no_write",
                        f"{login} requested changes but has {permission!r} permission "
                        "(not write); not blocking",
                        login,
                    )
                )
            continue
        if review.state != "APPROVED":
            notes.append(Reason("unknown_state", f"review {review.id}: {review.state}", login))
            continue
        why = _why_not(policy, facts, excluded, login, review.reviewer_type, permission)
        if review.commit_id != pr.head_sha:
            why = why or (
                f"approval {review.id} was given on {str(review.commit_id)[:12]}, "
                f"not on the head {pr.head_sha[:12]} (stale after a new push)"
            )
        if why:
            notes.append(Reason("not_counted", f"{login}: {why}", login))
            continue
        held = roles_held(policy, facts, login)
        candidates[who] = Approval(
            person=login,
            source="github",
            roles=tuple(r for r, _ in policy.required if r in held),
            membership=tuple(sorted(held.items())),
            review_id=review.id,
            commit_id=review.commit_id,
            submitted_at=review.submitted_at,
        )
        if not held:
            notes.append(Reason("no_role", f"{login} holds none of the required roles", login))
        notes.extend(_roster_drift(policy, facts, login, held))


def _roster_drift(
    policy: ApprovalPolicy, facts: ApprovalFacts, login: str, held: Mapping[str, str]
) -> list[Reason]:
    """Reconcile the roster with live teams: a roster member absent from every readable team
    of the role still counts (the roster at the base commit is reviewed configuration) but is
    reported, so the roster or the team can be corrected."""
    out = []
    for role, how in sorted(held.items()):
        teams = policy.roles[role].teams
        readable = [
            t for t in sorted(teams) if t in facts.team_members and t not in facts.unreadable_teams
        ]
        in_team = any(identity_key(login) in identity_keys(facts.team_members[t]) for t in readable)
        if how == "roster" and readable and not in_team:
            out.append(
                Reason(
                    "roster_drift",
                    f"{login} holds {role} by the governance.yaml roster but is not an active "
                    f"member of {', '.join('@' + t for t in readable)}",
                    login,
                )
            )
    return out


def _why_not(
    policy: ApprovalPolicy,
    facts: ApprovalFacts,
    excluded: Mapping[str, str],
    login: str,
    account_type: str,
    permission: str | None,
    need_write: bool = True,
) -> str:
    if is_bot(policy, login, account_type):
        return f"a bot or non-User account ({account_type}) never counts"
    if identity_key(login) in excluded:
        return f"{excluded[identity_key(login)]}; separation of duties: never counts as approver"
    if need_write and permission not in WRITE_PERMISSIONS:
        return f"permission is {permission or 'unknown'!r}, write access is required"
    return ""


def _count_signed(
    policy: ApprovalPolicy,
    facts: ApprovalFacts,
    excluded: Mapping[str, str],
    candidates: dict[str, Approval],
    blockers: list[Reason],
    notes: list[Reason],
) -> None:
    latest: dict[tuple[str, str], SignedApproval] = {}
    for event in sorted(facts.signed, key=lambda e: (e.timestamp.timestamp(), e.event_id)):
        if not event.verified:
            notes.append(
                Reason("unverified", f"event {event.event_id} does not verify", event.actor)
            )
            continue
        latest[(identity_key(event.actor), event.role)] = event
    for (who, role), event in sorted(latest.items()):
        held = roles_held(policy, facts, event.actor)
        if role not in held:
            notes.append(
                Reason("no_role", f"{event.actor} signed for {role} but does not hold it", who)
            )
            continue
        if not event.granted:
            blockers.append(
                Reason("approval_denied", f"{event.actor} denied as {role} ({event.event_id})", who)
            )
            continue
        if event.release_digest != facts.release_digest:
            notes.append(
                Reason(
                    "digest_mismatch",
                    f"{event.actor}'s approval {event.event_id} binds {event.release_digest}, "
                    f"the release is now {facts.release_digest}",
                    who,
                )
            )
            continue
        why = _why_not(policy, facts, excluded, event.actor, "User", None, need_write=False)
        if why:
            notes.append(Reason("not_counted", f"{event.actor}: {why}", who))
            continue
        previous = candidates.get(who)
        roles = set(previous.roles if previous else ()) | {role}
        membership = dict(previous.membership if previous else ()) | {role: held[role]}
        candidates[who] = Approval(
            person=event.actor,
            source="git" if previous is None or previous.source == "git" else "github+git",
            roles=tuple(r for r, _ in policy.required if r in roles),
            membership=tuple(sorted(membership.items())),
            review_id=previous.review_id if previous else None,
            event_id=event.event_id,
            commit_id=previous.commit_id if previous else None,
            submitted_at=event.timestamp,
        )


def _may_approve(policy: ApprovalPolicy, role: str, excluded: Mapping[str, str],
                 counted: frozenset[str]) -> str:
    """Who could still fill ``role``: its members (governance.yaml) who are not excluded (the
    trainer, the PR author, committers, bots) and not already counted for a role (every role
    needs distinct people), then its teams. Said plainly when nobody can."""
    definition = policy.roles.get(role, RoleDefinition())
    people = sorted(m for m in definition.members
                    if identity_key(m) not in excluded and identity_key(m) not in counted
                    and identity_key(m) not in identity_keys(policy.bots))
    teams = [f"members of team {t}" for t in sorted(definition.teams)]
    if people or teams:
        return ", ".join([*people, *teams])
    if not definition.members:
        return "nobody (the role has no members in governance.yaml)"
    return "nobody else (every member is excluded or already counted for a role)"


def _match(policy: ApprovalPolicy, candidates: Mapping[str, Approval]) -> tuple[RoleResult, ...]:
    """Maximum bipartite matching of people to role slots (Kuhn's augmenting paths)."""
    slots = [(role, k) for role, count in policy.required for k in range(count)]
    holder: dict[int, str] = {}  # slot index -> person
    people = sorted(candidates)

    def augment(person: str, seen: set[int]) -> bool:
        for index, (role, _) in enumerate(slots):
            if role not in candidates[person].roles or index in seen:
                continue
            seen.add(index)
            if index not in holder or augment(holder[index], seen):
                holder[index] = person
                return True
        return False

    for person in people:
        augment(person, set())
    results = []
    for role, count in policy.required:
        filled = sorted(
            candidates[holder[i]].person
            for i, (r, _) in enumerate(slots)
            if r == role and i in holder
        )
        results.append(RoleResult(role, count, tuple(filled)))
    return tuple(results)


def _codeowner_gaps(
    policy: ApprovalPolicy, facts: ApprovalFacts, candidates: Mapping[str, Approval]
) -> list[Reason]:
    if facts.pull_request is None or facts.codeowners is None:
        return []
    approvers = {p for p, a in candidates.items() if a.source != "git"}
    uncovered: dict[tuple[str, ...], list[str]] = {}
    for path in facts.changed_files:
        owners = facts.codeowners.owners_of(path)
        if owners and not any(_owns(policy, facts, o, approvers) for o in owners):
            uncovered.setdefault(owners, []).append(path)
    out = []
    for owners, paths in sorted(uncovered.items()):
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        out.append(
            Reason(
                "codeowner_review_missing",
                f"no counted approval from a code owner ({' '.join(owners)}) for {shown}",
            )
        )
    return out


def _owns(policy: ApprovalPolicy, facts: ApprovalFacts, owner: str, approvers: set[str]) -> bool:
    return bool(owner_identities(policy, facts, owner) & approvers)


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
