"""Promote, roll back and retire: the lifecycle's hard gates, behind ports.

Core rules live here; the ledger, the gates and the environment pointer are reached through
the ``Ports`` given by the caller (the CLI wires the real git ledger, the Rego engine and the
files; tests may fake them at this port).

Write order and crash safety (promotion and rollback): the ledger event is appended FIRST and
the pointer file ``environments/<env>.yaml`` is written SECOND (atomically: temp file + rename).
The ledger is the source of truth. A crash between the two leaves the pointer behind the
ledger; ``status`` reports it as drift and re-running the same ``promote`` (or ``rollback``)
sees the event already on the ledger and only repairs the pointer (recording who the ledger
says acted, not who re-ran it). A crash before the append leaves nothing to repair.

Committed state (``governance.committed``): promote and rollback run only on the protected
branch and decide on what its tip holds. The release directory, its model.yaml, the releases it
names, governance.yaml and policies/ must be committed there unchanged; the configuration the
gates use must be governance.yaml of that commit and the recorded ``policy_digest`` the git tree
id of policies/ in that commit. A rollback goes only to the digest that was approved and live in
that environment: content changed since is refused, not warned.

Refused bypass attempts (promoting a retired release, from an unprotected branch, content not
committed there, or out of environment order; rolling back from an unprotected branch, to
uncommitted or changed content, or to a release never approved, retired, or never live in that
environment) are recorded as ``policy_violation`` before the refusal is raised, so the ledger
shows who tried what. Gate denials are recorded by their ``gate_evaluated`` event.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from governance.authoring import dump_document
from governance.committed import CommittedState, release_paths, require_committed
from governance.domain.event_table import (
    BreakGlass,
    DeploymentPromoted,
    GateEvaluated,
    PolicyViolation,
    ReleaseRetired,
    RollbackExecuted,
    event_of,
)
from governance.domain.event_types import ROLLBACK_EXECUTED
from governance.domain.events import LedgerEntry
from governance.domain.model import Deployment
from governance.environments import pointer_body
from governance.errors import (
    ConfigurationError,
    Denied,
    GovernanceError,
    LedgerMoved,
    NotFound,
    Undecided,
)
from governance.lifecycle import LifecycleState, fold_lifecycle, is_approved
from governance.records import display_path
from governance.repo import ENVIRONMENTS, GovernedRepo, LoadedRelease
from governance.status import pointer_drift
from governance.vcs import current_branch

T = TypeVar("T")


@dataclass(frozen=True)
class GateVerdict:
    """What a gate evaluation told us: allow, or why not (``undecided`` means exit 3)."""

    allow: bool
    summary: Mapping[str, Any]  # decision_id, allow, deny[], warn[], engine, ...
    policy_digest: str | None = None
    undecided: str | None = None
    messages: tuple[str, ...] = ()
    # what would remedy each message (the gate's own remediation), in the same order
    remediations: tuple[str, ...] = ()

    def findings(self) -> list[str]:
        """Each finding with its remediation, laid out as ``check`` prints them."""
        fixes = list(self.remediations) + [""] * (len(self.messages) - len(self.remediations))
        lines = []
        for message, fix in zip(self.messages, fixes, strict=False):
            lines.append(f"  - {message}")
            if fix:
                lines.append(f"    remediation: {fix}")
        return lines


@dataclass
class Ports:
    entries: Callable[[], Sequence[LedgerEntry]]
    append: Callable[[Mapping[str, Any]], LedgerEntry]
    gates: Callable[[LoadedRelease, str | None, LifecycleState], GateVerdict]
    actor: str  # who runs this (principal of the signing key, or CI identity)
    # governance.yaml's last environment: the one whose live release is in production
    production_env: str
    pause: Callable[[str], None] = field(default=lambda step: None)  # crash-test hook
    source: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"pr": 12}: on the events
    # The lifecycle of one model (folded from the events naming it, e.g. through the query
    # index); None: fold every entry. Every event the fold acts on names its model.
    fold: Callable[[str], LifecycleState] | None = None
    # When the approvals are a pull request's reviews: (digest of the release directory at the
    # PR's final head, that head sha). Reviews approve the head; the promotion runs on the
    # merge commit, whose release directory must be exactly what was reviewed.
    reviewed: Callable[[LoadedRelease], tuple[str | None, str]] | None = None

    def state(self, model: str) -> LifecycleState:
        if self.fold is not None:
            return self.fold(model)
        return fold_lifecycle(self.entries(), production_env=self.production_env)


@dataclass(frozen=True)
class Outcome:
    action: str
    release_id: str | None
    environment: str
    events: tuple[LedgerEntry, ...]
    pointer: Path | None
    message: str
    warnings: tuple[str, ...] = ()
    repaired: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "release_id": self.release_id,
                "environment": self.environment, "message": self.message,
                "warnings": list(self.warnings), "repaired_pointer": self.repaired,
                "events": [{"seq": e.seq, "event_id": e.event_id, "event_type": e.event_type,
                            "commit": e.commit} for e in self.events],
                "pointer": str(self.pointer) if self.pointer else None}


# --- pointer -----------------------------------------------------------------------------


def pointer_path(repo: GovernedRepo, env: str) -> Path:
    return repo.root / ENVIRONMENTS / f"{env}.yaml"


def write_pointer(repo: GovernedRepo, env: str, model: str, deployment: Deployment | None
                  ) -> Path:
    """Set (or, with None, switch off) ``model`` in environments/<env>.yaml, atomically."""
    state = repo.load_environment(env)
    models = dict(state.models)
    if deployment is None:
        models.pop(model, None)
    else:
        models[model] = deployment
    body = pointer_body(env, models)
    path = pointer_path(repo, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(dump_document("EnvironmentState", body))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def _deployment(loaded: LoadedRelease, entry: LedgerEntry, actor: str) -> Deployment:
    return Deployment(release_id=loaded.release.release_id,
                      model_version=loaded.release.model_version,
                      release_digest=loaded.digest.value, promoted_at=entry.timestamp,
                      promoted_by=actor, ledger_seq=entry.seq, ledger_event_id=entry.event_id)


# --- promote -----------------------------------------------------------------------------


def _environment(repo: GovernedRepo, env: str) -> Any:
    environment = repo.config.environments.get(env)
    if environment is None:
        raise NotFound(f"unknown environment {env!r}",
                       hint=f"known: {', '.join(repo.config.environments)}")
    return environment


def _check_branch(repo: GovernedRepo, env_branch: str | None, action: str = "promotion"
                  ) -> str:
    """The protected branch, when it is what is checked out (else refused)."""
    expected = env_branch or repo.config.protected_branch
    branch = current_branch(repo.root)
    if branch is None:
        raise ConfigurationError(f"{display_path(repo.root)} is not a git checkout on a branch",
                                 hint=f"promote from the protected branch {expected!r}")
    if branch != expected:
        raise Denied(f"{action} runs only from the protected branch {expected!r} "
                     f"(got {branch!r})", hint="merge the release pull request first")
    return expected


def _committed(repo: GovernedRepo, ports: Ports, loaded: LoadedRelease, branch: str,
               action: str, attempt: Mapping[str, Any]) -> CommittedState:
    """The protected branch's committed state for deciding on ``loaded`` (refusals recorded
    as ``policy_violation``). The configuration already read must be the committed one."""
    try:
        committed = require_committed(repo, branch, release_paths(repo, loaded),
                                      action=action, policies=True)
        rel = loaded.directory.resolve().relative_to(repo.root.resolve()).as_posix()
        if committed.config != repo.config or committed.digests.get(rel) != loaded.digest.value:
            raise Denied(f"{rel} or governance.yaml changed while {action} read them; they are "
                         f"not what {branch!r} holds at {committed.commit[:12]}",
                         hint=f"let the other change finish, then run the {action} again")
    except Denied as refusal:
        raise _recorded(ports, refusal, attempt) from None
    return committed


def _committed_policy(verdict: GateVerdict, committed: CommittedState, rid: str) -> str:
    """The policy digest to record: the committed tree, which the gates must have run on."""
    digest = committed.policy_digest
    if digest is None or verdict.policy_digest not in (None, digest):
        raise Undecided(f"the gates for {rid} ran on policies/ {verdict.policy_digest}, but the "
                        f"protected branch holds {digest} at {committed.commit[:12]}",
                        hint="policies/ changed during the run; run again on a clean checkout")
    return digest


def _recorded(ports: Ports, refusal: Denied, fields: Mapping[str, Any]) -> Denied:
    """Record a refused bypass attempt as ``policy_violation`` (who, what, why), then return the
    refusal to raise. If the signer may not record it, the refusal still stands and says so."""
    event = event_of(PolicyViolation, {
        **({"source": dict(ports.source)} if ports.source else {}), **fields,
        "reason": str(refusal)}).to_dict()
    try:
        entry = ports.append(event)
    except LedgerMoved:
        raise  # the refusal was decided on a tip that is gone: decide again
    except GovernanceError as err:
        return Denied(f"{refusal} (the attempt could not be recorded: {err})",
                      hint=refusal.hint)
    return Denied(f"{refusal} (recorded as policy_violation, seq {entry.seq})",
                  hint=refusal.hint)


DECIDE_ATTEMPTS = 20


def decided_on_the_tip(run: Callable[[], T]) -> T:
    """Run a decision and its appends; when the ledger moved under it (LedgerMoved: another
    command appended after our read), nothing of this attempt was appended past the point of
    the move, and the whole decision is made again on the new tip (and may now refuse)."""
    for _ in range(DECIDE_ATTEMPTS):
        try:
            return run()
        except LedgerMoved:
            continue
    raise Undecided(f"the ledger kept moving: no decision held for {DECIDE_ATTEMPTS} attempts",
                    hint="run the command again")


def promote(repo: GovernedRepo, ref: str, env: str, ports: Ports, *,
            break_glass: tuple[str, str] | None = None) -> Outcome:
    """Promote a release to ``env`` if every gate holds for its digest.

    ``break_glass``: (reason, incident) to override a denial loudly: a ``break_glass`` event
    is recorded and an obligation is opened that status and every later gate report.
    Decided on the ledger tip its events land on (``decided_on_the_tip``).
    """
    return decided_on_the_tip(lambda: _promote(repo, ref, env, ports, break_glass=break_glass))


def _promote(repo: GovernedRepo, ref: str, env: str, ports: Ports, *,
             break_glass: tuple[str, str] | None = None) -> Outcome:
    loaded = repo.load_release(ref)
    rid, model = loaded.release.release_id, loaded.release.model_name
    environment = _environment(repo, env)
    state = ports.state(model)
    life = state.release(rid)
    attempt = {"release_id": rid, "model_name": model,
               "model_version": loaded.release.model_version, "environment": env,
               "release_digest": loaded.digest.value}
    if life is not None and life.retired:
        raise _recorded(ports, Denied(
            f"release {rid} is retired ({life.retired_reason or 'no reason'}) and can never be "
            "promoted again",
            hint="create a new release (governance release new) and take it through the gates "
                 "and approvals"), attempt)
    # The branch first: a run off the protected branch is refused (and recorded) before
    # anything else, including the "already live" pointer repair below, writes a file.
    try:
        branch = _check_branch(repo, environment.protected_branch)
    except Denied as refusal:
        raise _recorded(ports, refusal, attempt) from None
    committed = _committed(repo, ports, loaded, branch, "promote", attempt)
    current = state.current(model, env)
    if current is not None and current.release_id == rid and current.digest in (
            None, loaded.digest.value):
        drift = pointer_drift(repo, state, model, env)
        pointer = None
        if drift:  # the ledger has it; a crash left the pointer behind: repair
            event = next(e for e in reversed(ports.entries()) if e.seq == current.seq)
            pointer = write_pointer(repo, env, model, _deployment(
                loaded, event, event.get("actor_id") or ports.actor))
        return Outcome("promote", rid, env, (), pointer,
                       f"{rid} is already live in {env}"
                       + (" (pointer repaired from the ledger)" if drift else ""),
                       repaired=bool(drift))
    if environment.after and not state.was_live(rid, model, environment.after):
        raise _recorded(ports, Denied(
            f"{rid} must be live in {environment.after!r} before {env!r} (environment order in "
            "governance.yaml)",
            hint=f"promote to {environment.after} first: governance promote {rid} --env "
                 f"{environment.after}"), attempt)
    if ports.reviewed is not None:
        at_head, head = ports.reviewed(loaded)
        if at_head != loaded.digest.value:
            raise _recorded(ports, Denied(
                f"the release directory of {rid} here ({loaded.digest.value}) is not what the "
                f"pull request's approvals were given for at its head {head[:12]} "
                f"({at_head or 'the directory does not exist there'})",
                hint="a merge changed the reviewed release; open a new pull request for it"),
                {**attempt, "source": {**dict(ports.source), "head_sha": head}})
    verdict = ports.gates(loaded, env, state)
    policy_digest = _committed_policy(verdict, committed, rid)
    source = dict(ports.source) if ports.source else None
    gate_event = ports.append(GateEvaluated(
        release_id=rid, model_name=model, model_version=loaded.release.model_version,
        environment=env, release_digest=loaded.digest.value, policy_digest=policy_digest,
        decision=dict(verdict.summary), source=source).to_dict())
    events = [gate_event]
    if not verdict.allow and break_glass is None:
        if verdict.undecided:
            raise Undecided(f"could not decide the gates for {rid}: {verdict.undecided}")
        raise Denied(f"promotion of {rid} to {env} denied by the gates:\n"
                     + "\n".join(verdict.findings()),
                     hint=f"fix each finding above, then run `governance check {rid} --env "
                          f"{env}` to see the gates pass before promoting again")
    if break_glass is not None:
        reason, incident = break_glass
        entry = ports.append(BreakGlass(
            release_id=rid, model_name=model, model_version=loaded.release.model_version,
            environment=env, release_digest=loaded.digest.value, policy_digest=policy_digest,
            reason=reason, incident=incident,
            from_release=current.release_id if current else None,
            decision=dict(verdict.summary), source=source).to_dict())
    else:
        entry = ports.append(DeploymentPromoted(
            release_id=rid, model_name=model, model_version=loaded.release.model_version,
            environment=env, release_digest=loaded.digest.value, policy_digest=policy_digest,
            from_release=current.release_id if current else None,
            decision={"decision_id": verdict.summary.get("decision_id"), "allow": True},
            evidence_refs=[ref_.uri for _, ref_ in loaded.release.evidence_refs()],
            source=source).to_dict())
    events.append(entry)
    ports.pause("ledger_appended")
    pointer = write_pointer(repo, env, model, _deployment(loaded, entry, ports.actor))
    verb = "BREAK-GLASS promoted" if break_glass else "promoted"
    return Outcome("promote", rid, env, tuple(events), pointer,
                   f"{verb} {rid} to {env} (seq {entry.seq}, {loaded.digest.value})",
                   warnings=tuple(m for m in verdict.messages if verdict.allow))


# --- rollback ----------------------------------------------------------------------------


def rollback(repo: GovernedRepo, model: str, env: str, ports: Ports, *, reason: str,
             incident: str | None = None, to: str | None = None) -> Outcome:
    """Return ``model`` in ``env`` to a release that was approved and live there before.

    Under the rules of promote (the protected branch; the target, its model, governance.yaml
    and policies/ as committed there) and only to the digest that was approved and live there:
    content changed since is refused. Fast and not blocked by policies added since: the
    target's gates are evaluated and any other denial is reported as a warning only. Decided
    on the ledger tip its event lands on.
    """
    return decided_on_the_tip(lambda: _rollback(repo, model, env, ports, reason=reason,
                                                incident=incident, to=to))


def _rollback(repo: GovernedRepo, model: str, env: str, ports: Ports, *, reason: str,
              incident: str | None = None, to: str | None = None) -> Outcome:
    environment = _environment(repo, env)
    repo.load_model(model)
    state = ports.state(model)
    current = state.current(model, env)
    if current is None:
        raise Denied(f"nothing of {model} is live in {env}; there is nothing to roll back",
                     hint=f"`governance status {model}` shows where it is live")
    try:
        branch = _check_branch(repo, environment.protected_branch, "rollback")
    except Denied as refusal:
        raise _recorded(ports, refusal, {
            "release_id": to or current.release_id, "model_name": model, "environment": env,
            "from_release": current.release_id, **({"to_release": to} if to else {})}
            ) from None
    if (current.event_type == ROLLBACK_EXECUTED and to in (None, current.release_id)
            and pointer_drift(repo, state, model, env)):
        # A crash between the append and the pointer write: the ledger already has this
        # rollback; re-running it repairs the pointer and records nothing twice.
        event = next(e for e in reversed(ports.entries()) if e.seq == current.seq)
        loaded = repo.load_release(current.release_id)
        pointer = write_pointer(repo, env, model, _deployment(
            loaded, event, event.get("actor_id") or ports.actor))
        return Outcome("rollback", current.release_id, env, (), pointer,
                       f"{model} in {env} was already rolled back to {current.release_id} "
                       f"(seq {current.seq}; pointer repaired from the ledger)", repaired=True)
    target = to or state.fallback(model, env)
    warnings: list[str] = []
    target_loaded: LoadedRelease | None = None
    if target is None:
        raise Denied(f"no prior approved release of {model} was live in {env}",
                     hint="name one with --to, or retire the model")
    if target == current.release_id:
        raise Denied(f"{target} is what is live in {env} now",
                     hint="name another release with --to (a prior approved release that was "
                          f"live in {env}; `governance status {model}` lists them)")
    life = state.release(target)
    attempt = {"release_id": target, "model_name": model, "environment": env,
               "from_release": current.release_id, "to_release": target}
    if life is None or not is_approved(life):
        raise _recorded(ports, Denied(
            f"{target} was never approved; rollback goes only to an approved release",
            hint=f"name an approved release that was live in {env} with --to, or omit --to for "
                 "the fallback"), attempt)
    if life.retired:
        raise _recorded(ports, Denied(
            f"{target} is retired and can never be live again",
            hint=f"name another approved release that was live in {env} with --to"), attempt)
    if not state.was_live(target, model, env):
        raise _recorded(ports, Denied(
            f"{target} was never live in {env}; rollback goes only to a release previously live "
            "in that environment",
            hint=f"promote {target} to {env} through the gates instead: governance promote "
                 f"{target} --env {env}"), attempt)
    target_loaded = repo.load_release(target)
    attempt["release_digest"] = target_loaded.digest.value
    committed = _committed(repo, ports, target_loaded, branch, "rollback", attempt)
    digest = target_loaded.digest.value
    live_digests = {s.digest for s in state.live.get((model, env), [])
                    if s.release_id == target and not s.disabled}
    if digest != life.approved_digest or digest not in live_digests:
        raise _recorded(ports, Denied(
            f"{target} is {digest} here, not the content that was approved "
            f"({life.approved_digest}) and live in {env} "
            f"({', '.join(sorted(d or 'no digest' for d in live_digests))}); rollback goes only "
            "to the digest that was approved and live there",
            hint="restore the release directory as it was approved (git history), or promote "
                 "the changed release through review and approval"), attempt)
    verdict = ports.gates(target_loaded, env, state)
    policy_digest = _committed_policy(verdict, committed, target)
    if not verdict.allow:
        warnings += [f"(not blocking a rollback) {m}" for m in verdict.messages] or [
            f"(not blocking a rollback) gates would deny: {verdict.undecided or 'see decision'}"]
    entry = ports.append(RollbackExecuted(
        model_name=model, environment=env, release_id=target,
        model_version=target_loaded.release.model_version,
        from_release=current.release_id, to_release=target,
        release_digest=digest, reason=reason, incident=incident,
        policy_digest=policy_digest,
        decision={"decision_id": verdict.summary.get("decision_id"),
                  "allow": verdict.allow, "blocking": False}).to_dict())
    ports.pause("ledger_appended")
    pointer = write_pointer(repo, env, model, _deployment(target_loaded, entry, ports.actor))
    return Outcome("rollback", target, env, (entry,), pointer,
                   f"rolled back {model} in {env}: {current.release_id} -> {target} "
                   f"(seq {entry.seq}{', incident ' + incident if incident else ''})",
                   warnings=tuple(warnings))


# --- retire ------------------------------------------------------------------------------


def retire(repo: GovernedRepo, release_id: str, ports: Ports, *, reason: str) -> Outcome:
    """Retire a release (never live anywhere now); decided on the tip its event lands on."""
    return decided_on_the_tip(lambda: _retire(repo, release_id, ports, reason=reason))


def _retire(repo: GovernedRepo, release_id: str, ports: Ports, *, reason: str) -> Outcome:
    loaded = repo.load_release(release_id)
    model = loaded.release.model_name
    state = ports.state(model)
    live_in = [env for (m, env) in state.live if m == model
               and (cur := state.current(m, env)) is not None and cur.release_id == release_id]
    if live_in:
        raise Denied(f"{release_id} is live in {', '.join(live_in)}; a live release cannot be "
                     "retired",
                     hint="roll it back (governance rollback MODEL --env ENV --reason ...) or "
                          "promote another release there first")
    life = state.release(release_id)
    if life is not None and life.retired:
        return Outcome("retire", release_id, "", (), None, f"{release_id} is already retired")
    entry = ports.append(ReleaseRetired(
        release_id=release_id, model_name=model, model_version=loaded.release.model_version,
        release_digest=loaded.digest.value, reason=reason).to_dict())
    return Outcome("retire", release_id, "", (entry,), None,
                   f"retired {release_id} (seq {entry.seq})")
