"""Separation of duties: who held which duty, and every pair of duties one identity holds.

Owns the rule data of DESIGN section 6 ("train / approve / deploy / alter-audit are held by
different identities; the deployer is checked against approvers and authors") as a pure
function. Python builds the facts; the Rego gates decide (STYLE: "Python builds the input, Rego
decides"): ``duties_input`` is what goes to ``input.separation_of_duties``, with one overlap per
rule broken, naming the people and the rule so a deny message can quote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.domain.identity import identity_key

DUTIES: tuple[str, ...] = (
    "trainer",
    "pr_author",
    "committer",
    "approver",
    "deployer",
    "audit_config_alterer",
)

# (rule id, duty, duty, why). Each pair must be held by different identities.
RULES: tuple[tuple[str, str, str, str], ...] = (
    ("sod-trainer-approver", "trainer", "approver", "who trained a model may not approve it"),
    ("sod-author-approver", "pr_author", "approver", "the PR author may not approve it"),
    (
        "sod-committer-approver",
        "committer",
        "approver",
        "who committed to the PR may not approve it",
    ),
    ("sod-approver-deployer", "approver", "deployer", "an approver may not deploy the release"),
    ("sod-author-deployer", "pr_author", "deployer", "the PR author may not deploy the release"),
    ("sod-committer-deployer", "committer", "deployer", "a committer may not deploy the release"),
    ("sod-trainer-deployer", "trainer", "deployer", "who trained a model may not deploy it"),
    (
        "sod-audit-trainer",
        "audit_config_alterer",
        "trainer",
        "who alters the audit configuration may not train the release",
    ),
    (
        "sod-audit-approver",
        "audit_config_alterer",
        "approver",
        "who alters the audit configuration may not approve the release",
    ),
    (
        "sod-audit-deployer",
        "audit_config_alterer",
        "deployer",
        "who alters the audit configuration may not deploy the release",
    ),
)


@dataclass(frozen=True)
class DutyHolders:
    """Identities per duty: GitHub logins / people ids, or e-mails mapped through people."""

    trainer: frozenset[str] = frozenset()
    pr_author: frozenset[str] = frozenset()
    committer: frozenset[str] = frozenset()
    approver: frozenset[str] = frozenset()
    deployer: frozenset[str] = frozenset()
    audit_config_alterer: frozenset[str] = frozenset()
    people_emails: Mapping[str, str] = field(default_factory=dict)  # lower-case email -> id

    def normalised(self, duty: str) -> frozenset[str]:
        """One spelling per identity: ids in their normal form (``identity_key``), known
        e-mails replaced by their id."""
        out = set()
        for who in getattr(self, duty):
            key = identity_key(who)
            out.add(identity_key(self.people_emails.get(key, key)))
        return frozenset(out)


@dataclass(frozen=True)
class DutyOverlap:
    rule: str
    duties: tuple[str, str]
    people: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "duties": list(self.duties),
            "people": list(self.people),
            "message": self.message,
        }


def separation_of_duties(holders: DutyHolders) -> tuple[DutyOverlap, ...]:
    """Every rule broken, in rule order, each naming the people holding both duties."""
    sets = {duty: holders.normalised(duty) for duty in DUTIES}
    out = []
    for rule, a, b, why in RULES:
        both = tuple(sorted(sets[a] & sets[b]))
        if both:
            out.append(
                DutyOverlap(
                    rule=rule,
                    duties=(a, b),
                    people=both,
                    message=f"{', '.join(both)} held both {a} and {b}: {why} ({rule})",
                )
            )
    return tuple(out)


def duties_input(holders: DutyHolders) -> dict[str, Any]:
    """``input.separation_of_duties`` for the Rego gates: the duty holders and the overlaps."""
    return {
        "duties": {duty: sorted(holders.normalised(duty)) for duty in DUTIES},
        "rules": [{"rule": r, "duties": [a, b], "why": why} for r, a, b, why in RULES],
        "overlaps": [o.to_json() for o in separation_of_duties(holders)],
    }


def holders_from(
    *,
    trainers: Iterable[str] = (),
    pr_author: str | None = None,
    committers: Iterable[str] = (),
    approvers: Iterable[str] = (),
    deployer: str | None = None,
    deployers: Iterable[str] = (),
    audit_config_alterers: Iterable[str] = (),
    people_emails: Mapping[str, str] | None = None,
) -> DutyHolders:
    return DutyHolders(
        trainer=frozenset(trainers),
        pr_author=frozenset([pr_author] if pr_author else []),
        committer=frozenset(committers),
        approver=frozenset(approvers),
        # every person who deployed (e.g. each reviewer of a GitHub deployment), not one
        deployer=frozenset([*([deployer] if deployer else []), *deployers]),
        audit_config_alterer=frozenset(audit_config_alterers),
        people_emails={identity_key(k): v for k, v in (people_emails or {}).items()},
    )
