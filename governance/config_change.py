"""Governance configuration merged to the protected branch: ``config_changed`` or a violation.

Issue 6 item 6: a merged change to governance.yaml (gates, environments, roles), policies/ or
.github/ (CODEOWNERS, workflows) is recorded as ``config_changed`` carrying the approvals of its
pull request. This module decides which event to record, from facts gathered by the adapters:

- the paths the push changed under GOVERNANCE_PATHS (``git diff before after``);
- the merged pull request, re-verified at its FINAL head by the required-approvals gate
  (``governance.approvals.evaluate.config_review``: CODEOWNERS, governance.yaml and the policies
  read at the PR's base, one state per reviewer, approvals only on the head, the author,
  committers and bots never count), with no role requirement but every changed governance path
  needing a counted approval from one of its code owners;
- whether each changed path's content at the pushed commit equals its content at the PR head
  (what the reviewers approved; an admin or "evil" merge can land something else).

Fail closed: no pull request (a direct push), a governance path no CODEOWNERS rule owns, no
counted approval at all, a self-approval, stale approvals or content that differs from the
head -> ``policy_violation``. Anything the adapters could not read -> undecided (exit 3),
nothing recorded, re-run.

``record_config_change`` is the use case ``governance config record`` runs: it gathers those
facts through ``ConfigChangePorts`` (wired by ``governance.service.Service``), decides and
appends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.domain.events import LedgerEntry

from governance.domain.event_table import ConfigChanged, PolicyViolation

# Paths whose change is a governance configuration change (environments/ is the pointer, checked
# against the ledger by `governance env verify`, not approved by pull requests).
GOVERNANCE_PATHS = ("governance.yaml", "policies/", ".github/")


def governance_paths(changed: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(p for p in changed
                        if p == GOVERNANCE_PATHS[0] or p.startswith(GOVERNANCE_PATHS[1:])))


@dataclass(frozen=True)
class ReviewFacts:
    """The re-verified pull request, reduced to what the decision needs."""

    number: int
    head_sha: str
    outcome: str  # approved | denied | undecided: the gate's (ApprovalStanding.outcome)
    reasons: tuple[str, ...]
    approvals: tuple[Mapping[str, Any], ...]  # counted: actor_id, review_id, head_sha, ...
    unowned: tuple[str, ...]  # changed governance paths no CODEOWNERS rule owns
    pr_files: tuple[str, ...]  # every path the pull request changes (base...head)


@dataclass(frozen=True)
class ConfigDecision:
    event: dict[str, Any] | None  # fields for `append_event`, None: nothing changed
    approved: bool

    @property
    def event_type(self) -> str | None:
        return self.event["event_type"] if self.event else None


def decide_config_change(paths: Sequence[str], review: ReviewFacts | None,
                         differs_from_head: Sequence[str], source: Mapping[str, Any]
                         ) -> ConfigDecision:
    """The event to record for a push that changed ``paths`` (governance paths only).

    ``review`` None: the push came from no pull request. ``differs_from_head``: paths whose
    content at the pushed commit is not their content at the PR head. Raises nothing: an
    undecided review must be handled by the caller before (nothing is recorded then).
    """
    if not paths:
        return ConfigDecision(None, True)
    base = {"details": {"paths": list(paths)}, "source": dict(source)}
    if review is None:
        return ConfigDecision(PolicyViolation(
            source=base["source"], details=base["details"],
            reason="governance configuration changed without a merged pull request: "
                   + ", ".join(paths)).to_dict(), False)
    base["source"] = {**base["source"], "pr": review.number, "head_sha": review.head_sha}
    problems = list(review.reasons) if review.outcome != "approved" else []
    if review.unowned:
        problems.append("no CODEOWNERS rule names an owner for " + ", ".join(review.unowned)
                        + " (governance paths need their owners' review)")
    if not review.approvals:
        problems.append(f"pull request #{review.number} has no counted approval at its head "
                        f"{review.head_sha[:12]} (a self-approval or a stale one never counts)")
    if differs_from_head:
        problems.append("the pushed content of " + ", ".join(differs_from_head)
                        + f" is not what pull request #{review.number} had at its head "
                        f"{review.head_sha[:12]} (changed by the merge)")
    details = {**base["details"], "pull_request": review.number, "head_sha": review.head_sha,
               "approvals": [dict(a) for a in review.approvals]}
    if problems:
        return ConfigDecision(PolicyViolation(
            source=base["source"], details={**details, "problems": problems},
            reason=f"governance configuration merged by pull request #{review.number} "
                   "without valid approvals: " + "; ".join(problems)).to_dict(), False)
    who = ", ".join(sorted({str(a["actor_id"]) for a in review.approvals}))
    return ConfigDecision(ConfigChanged(
        source=base["source"], details=details, approval_state="approved",
        reason=f"governance configuration changed by pull request #{review.number}, "
               f"approved at {review.head_sha[:12]} by {who}").to_dict(), True)


@dataclass(frozen=True)
class ConfigChangePorts:
    """The adapters the use case gathers its facts through (``Service.config_change_ports``)."""

    changed: Callable[[str, str], Iterable[str]]  # paths changed from one commit to another
    review: Callable[[int, tuple[str, ...]], ReviewFacts]  # the merged PR, re-verified
    object_at: Callable[[str, str], str | None]  # object id of a path at a commit (None: absent)
    append: Callable[[Mapping[str, Any]], LedgerEntry]  # one signed event on the verified tip


@dataclass(frozen=True)
class ConfigRecord:
    """What ``record_config_change`` found and recorded."""

    paths: tuple[str, ...]
    decision: ConfigDecision
    entry: LedgerEntry | None  # None: no governance path changed

    @property
    def reason(self) -> str | None:
        return self.decision.event.get("reason") if self.decision.event else None

    def to_json(self) -> dict[str, Any]:
        return {"paths": list(self.paths), "event_type": self.decision.event_type,
                "seq": self.entry.seq if self.entry else None, "reason": self.reason}


def record_config_change(before: str, after: str, pr: int | None, source: Mapping[str, Any],
                         ports: ConfigChangePorts) -> ConfigRecord:
    """Record the push from ``before`` to ``after``: the governance paths it changed, the
    merged pull request ``pr`` re-verified (None: a direct push), the pushed content compared
    with the PR head, then ``config_changed`` or ``policy_violation`` appended. A review that
    cannot be decided raises Undecided (exit 3) before anything is recorded."""
    paths = governance_paths(ports.changed(before, after))
    review = ports.review(pr, paths) if (paths and pr is not None) else None
    differs = [p for p in paths
               if review is not None
               and ports.object_at(after, p) != ports.object_at(review.head_sha, p)]
    decision = decide_config_change(paths, review, differs,
                                    {**source, "merge_sha": after, "before_sha": before})
    entry = ports.append(decision.event) if decision.event else None
    return ConfigRecord(paths, decision, entry)
