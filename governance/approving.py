"""`governance approve`: a git-native, signed approval bound to the release digest.

The approver signs the ledger event with their own key (the ledger checks the key belongs to
the principal named as actor). Here, before signing: the release directory, its model.yaml and
governance.yaml must be committed (``governance.committed``: an approval is of committed
content, never of a local edit); the principal must hold the role in governance.yaml as
committed on the protected branch (never the working tree's) and must not be the release's
trainer (separation of duties). After a grant,
the required-approvals gate decides (``governance.policy.approval_standing``: the same Rego
rule ``check --env`` applies, on the approvals signed by their approvers) whether every role
required by the strictest environment is now filled by distinct people for this digest; if so a
``release_approved`` event binds that digest and records the gate's verdict
(``details.verdict``: policy digest, input digest, decision id, and each approval it counted
with the event id of that signed approval), which the ledger replay checks against the signed
facts (``governance.ledger.replay``) instead of deciding again.

Post-hoc review of a break-glass promotion (DESIGN section 4): ``closes`` names the open
``break_glass`` event this approval reviews; the grant then carries ``details.closes`` and the
lifecycle fold (``governance.lifecycle._close_break_glass``) closes that obligation. Without it
only a new ``release_approved`` closes the obligation, which never comes when the release had
already been approved for this digest before the override. Only a member of a role the
break-glass environment requires may close it, and never the person who broke glass (the
signer, or a deployer named in its ``source.deployers``) nor the trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.committed import release_paths, require_committed
from governance.domain.config import GovernanceConfig
from governance.domain.event_table import (
    ApprovalDenied,
    ApprovalGranted,
    Event,
    ReleaseApproved,
    event_of,
)
from governance.domain.event_types import RELEASE_APPROVED
from governance.domain.events import LedgerEntry
from governance.domain.identity import identity_key, identity_keys, same_identity
from governance.errors import Denied, NotFound, UsageError
from governance.lifecycle import LifecycleState, Obligation, fold_lifecycle
from governance.promotion import decided_on_the_tip
from governance.repo import GovernedRepo

if TYPE_CHECKING:
    from governance.policy.approval_standing import ApprovalStanding


@dataclass(frozen=True)
class ApprovalResult:
    release_id: str
    role: str
    granted: bool
    events: tuple[LedgerEntry, ...]
    approved: bool  # release_approved recorded (now or before) for this digest
    remaining: tuple[str, ...]  # unfilled roles, as the counting rules word them

    def to_json(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "role": self.role, "granted": self.granted,
                "release_approved": self.approved, "remaining": list(self.remaining),
                "events": [{"seq": e.seq, "event_id": e.event_id, "event_type": e.event_type}
                           for e in self.events]}


def strictest_environment(repo: GovernedRepo) -> str:
    """The environment with the most required roles (ties: the later one in file order)."""
    envs = list(repo.config.environments.values())
    if not envs:
        raise NotFound("governance.yaml defines no environments")
    return max(reversed(envs), key=lambda e: len(e.required_approvals)).name


def _may_close(config: GovernanceConfig, obligation: Obligation, role: str, actor: str,
               history: Sequence[LedgerEntry]) -> None:
    """A break-glass review is closed by a member of a role its environment requires, who
    neither broke glass (signer or named deployer of the break_glass event) nor trained the
    release (checked by the caller). Ids compare case-insensitively here: fail closed."""
    env = config.environments.get(obligation.environment or "")
    required = tuple(env.required_approvals) if env is not None else ()
    if role not in required:
        raise Denied(f"a break-glass review of {obligation.environment} is closed only under a "
                     f"role that environment requires ({', '.join(required) or 'none'}), not "
                     f"{role!r}",
                     hint="approve with --role set to one of those roles (as a member of it)")
    event = next((e for e in history if e.event_id == obligation.event_id), None)
    source = event.get("source") if event is not None else None
    deployers = source.get("deployers") if isinstance(source, Mapping) else None
    breakers = {obligation.actor_id or "", *(deployers if isinstance(deployers, list) else ())}
    if event is None or identity_key(actor) in identity_keys(str(b) for b in breakers if b):
        raise Denied(f"{actor} broke glass ({obligation.event_id}) and cannot review it "
                     "(the post-hoc review is someone else's)" if event is not None else
                     f"the break_glass event {obligation.event_id} is not on the ledger",
                     hint="ask another member of a role the environment requires to approve "
                          f"with --closes {obligation.event_id}" if event is not None else
                     "`governance status` lists the open break-glass reviews")


def approve(repo: GovernedRepo, ref: str, role: str, *, actor: str,
            entries: Callable[[], Sequence[LedgerEntry]],
            append: Callable[[Mapping[str, Any]], LedgerEntry],
            deny: bool = False, reason: str | None = None,
            closes: str | None = None) -> ApprovalResult:
    """Record the approval (decided again when the ledger moved under a ``closes`` check, and
    its ``release_approved`` summary decided on the tip it lands on)."""
    return decided_on_the_tip(lambda: _approve(repo, ref, role, actor=actor, entries=entries,
                                               append=append, deny=deny, reason=reason,
                                               closes=closes))


def _approve(repo: GovernedRepo, ref: str, role: str, *, actor: str,
             entries: Callable[[], Sequence[LedgerEntry]],
             append: Callable[[Mapping[str, Any]], LedgerEntry],
             deny: bool = False, reason: str | None = None,
             closes: str | None = None) -> ApprovalResult:
    loaded = repo.load_release(ref)
    release, digest = loaded.release, loaded.digest.value
    paths = release_paths(repo, loaded)
    committed = require_committed(repo, repo.config.protected_branch, paths, action="approve")
    if committed.digests.get(paths[0]) != digest:
        raise Denied(f"{paths[0]} changed while approve read it; approve committed content",
                     hint="let the other change finish, then approve again")
    repo = committed.repo(repo.root)  # roles, environments, risk tiers: the protected branch's
    config = repo.config
    if role not in config.roles:
        raise NotFound(f"unknown role {role!r}", hint=f"roles: {', '.join(config.roles)}")
    if deny and not (reason and reason.strip()):
        raise UsageError("--deny needs --reason")
    if identity_key(actor) not in identity_keys(config.roles[role].members):
        raise Denied(f"{actor} is not a member of role {role!r} in governance.yaml "
                     f"(members: {', '.join(config.roles[role].members) or 'none'})",
                     hint=f"ask a member of {role} to approve: governance approve "
                          f"{release.release_id} --role {role}, or change the role's members "
                          "in governance.yaml through review")
    if same_identity(actor, release.trained_by):  # logins compare case-insensitively
        raise Denied(f"{actor} trained {release.release_id} and cannot approve it "
                     "(separation of duties: train and approve are held by different people)",
                     hint=f"ask another member of {role} to approve: governance approve "
                          f"{release.release_id} --role {role}")
    if closes is not None:
        if deny:
            raise UsageError("--closes records a post-hoc approval; it does not go with --deny")
        history = list(entries())
        open_reviews = fold_lifecycle(
            history, production_env=config.production_environment).obligations
        obligation = open_reviews.get(closes)
        if obligation is None or obligation.release_id != release.release_id:
            mine = sorted(k for k, o in open_reviews.items()
                          if o.release_id == release.release_id)
            raise Denied(f"{closes} is not an open break-glass review of {release.release_id}",
                         hint=f"open for this release: {', '.join(mine) or 'none'} "
                              "(governance status lists them)")
        _may_close(config, obligation, role, actor, history)
    kind: type[Event] = ApprovalDenied if deny else ApprovalGranted
    event = event_of(kind, {
        "release_id": release.release_id, "model_name": release.model_name,
        "model_version": release.model_version, "actor_id": actor, "actor_role": role,
        "approval_state": "denied" if deny else "approved", "release_digest": digest,
        "evidence_refs": [r.uri for _, r in release.evidence_refs()],
        "reason": reason or None,
        "details": {"closes": closes, "post_hoc": True} if closes is not None else None})
    # with --closes: lands only on the tip the obligation was read at
    first = append(event.to_dict())
    written = [first]
    if deny:
        return ApprovalResult(release.release_id, role, False, tuple(written), False, ())
    return decided_on_the_tip(
        lambda: _summarise(repo, loaded, role, actor, first, entries, append))


def _summarise(repo: GovernedRepo, loaded: Any, role: str, actor: str, first: LedgerEntry,
               entries: Callable[[], Sequence[LedgerEntry]],
               append: Callable[[Mapping[str, Any]], LedgerEntry]) -> ApprovalResult:
    """After an approval: record ``release_approved`` when the counted approvals now fill every
    required role, decided on the tip it is appended to."""
    release, digest = loaded.release, loaded.digest.value
    written = [first]
    history = [*entries()]
    if first.seq not in {e.seq for e in history}:
        history.append(first)
    already = any(e.event_type == RELEASE_APPROVED and e.event.get("release_id")
                  == release.release_id and e.event.get("release_digest") == digest
                  for e in history)
    env = strictest_environment(repo)
    from governance.policy.approval_standing import approval_standing  # loads the engine

    state = fold_lifecycle(history, production_env=repo.config.production_environment)
    standing = approval_standing(repo, loaded, state, env, signed_only=True)
    if standing.undecided is not None:
        remaining: tuple[str, ...] = (f"could not decide: {standing.undecided}",)
    else:  # the gate's failures, then who may still fill each unfilled role
        remaining = (*standing.failures,
                     *(f"{r.role} may approve: {r.who_may_approve()}" for r in standing.roles
                       if not r.filled))
    approved = standing.allow and standing.undecided is None
    if approved and not already:
        written.append(append(ReleaseApproved(
            release_id=release.release_id, model_name=release.model_name,
            model_version=release.model_version, actor_id=actor, actor_role=role,
            approval_state="approved", release_digest=digest,
            details={"environment": env,
                     "approvers": [f"{r.role}:{p}" for r in standing.roles
                                   for p in r.counted],
                     "verdict": _verdict(standing, state, release.release_id, digest)}
        ).to_dict()))
    return ApprovalResult(release.release_id, role, True, tuple(written), approved or already,
                          remaining)


def _verdict(standing: ApprovalStanding, state: LifecycleState, release_id: str,
             digest: str) -> dict[str, Any]:
    """The gate's verdict as recorded, each counted approval named by the signed event it is
    (the approver's latest grant for that role binding ``digest``)."""
    record = standing.verdict_record()
    life = state.release(release_id)
    latest: dict[tuple[str, str], str] = {}
    for a in (life.approvals if life is not None else ()):
        if not a.source.get("review_id") and a.source.get("kind") != "github":
            latest[(identity_key(a.actor_id), a.role)] = a.event_id if (
                a.granted and a.digest == digest) else ""
    record["counted"] = [{**c, "event_id": latest.get((identity_key(c["actor_id"]), c["role"]))
                          or None} for c in record["counted"]]
    return record
