"""Environment order and the pointer files as the ledger says they should be.

Owns three questions the workflows ask the CLI instead of hard-coding an environment name:

- the promotion order of governance.yaml (file order; ``after`` names the environment a
  release must have been live in first), its first environment (where a merge promotes) and
  the next environment for a release (where a dispatched promotion goes by default);
- the pull request a release came through, read from the ledger (``source.pr`` of the events
  that name the release and its digest), so a later promotion re-verifies the same reviews;
- the pointer files ``environments/<env>.yaml`` derived from the ledger alone: what
  ``env publish`` commits to the pointer branch and what ``env verify`` compares a pushed
  pointer with (a pointer edited by hand has no matching ledger event).

Pure: the ledger entries and the configuration come in as values. The use cases of
``governance env next`` (``next_step``) and ``governance env verify`` (``check_pointers``, which
records a mismatch through the ``append`` port it is given) are here too; the composition root
(``governance.service.Service``) hands them the verified entries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.domain.config import Environment, GovernanceConfig
from governance.domain.event_table import PolicyViolation
from governance.domain.event_types import (
    APPROVAL_GRANTED,
    DEPLOYMENT_PROMOTED,
    GATE_EVALUATED,
    RELEASE_APPROVED,
)
from governance.domain.events import EventView
from governance.domain.model import Deployment
from governance.errors import ConfigurationError, Denied
from governance.lifecycle import LifecycleState, fold_lifecycle

if TYPE_CHECKING:
    from governance.domain.events import LedgerEntry

# The event schema's environment pattern: also what the workflows may hand to GitHub as a
# deployment environment name and write to $GITHUB_OUTPUT (no newline, no quote, no '$').
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}\Z")
# Events that carry the pull request a release came through (for the same release digest).
PR_EVENTS = (APPROVAL_GRANTED, GATE_EVALUATED, DEPLOYMENT_PROMOTED, RELEASE_APPROVED)


def promotion_order(config: GovernanceConfig) -> tuple[Environment, ...]:
    """The environments in governance.yaml order, each checked to be a slug whose ``after``
    names an EARLIER environment (so the order is a promotion path, never a cycle)."""
    seen: set[str] = set()
    out = []
    for name, env in config.environments.items():
        if not SLUG.fullmatch(name):
            raise ConfigurationError(f"governance.yaml: environment name {name!r} is not a slug")
        if env.after is not None and env.after not in seen:
            raise ConfigurationError(
                f"governance.yaml: environment {name!r} comes after {env.after!r}, which is not "
                "defined before it", hint="list environments in promotion order")
        seen.add(name)
        out.append(env)
    if not out:
        raise ConfigurationError("governance.yaml defines no environment",
                                 hint="add e.g. environments: {staging: {...}}")
    return tuple(out)


def first_environment(config: GovernanceConfig) -> Environment:
    """Where a merged release goes first: the first environment without ``after``."""
    order = promotion_order(config)
    return next((e for e in order if e.after is None), order[0])


def next_environment(config: GovernanceConfig, state: LifecycleState, release_id: str,
                     model: str) -> Environment | None:
    """The first environment, in order, where the release is not live now and whose ``after``
    environment has had it live; None when it is live everywhere it may go."""
    for env in promotion_order(config):
        current = state.current(model, env.name)
        if current is not None and current.release_id == release_id:
            continue
        if env.after is None or state.was_live(release_id, model, env.after):
            return env
    return None


def pull_request_of(entries: Iterable[EventView], release_id: str, digest: str) -> int | None:
    """The pull request the release (with exactly this digest) came through, from the ledger:
    the latest ``source.pr`` on an approval, gate or promotion event naming both. None when
    no event names one (the approvals are then the git-native ones)."""
    found: int | None = None
    for entry in entries:
        e = entry.event
        if (entry.event_type in PR_EVENTS and e.get("release_id") == release_id
                and e.get("release_digest") == digest):
            pr = (e.get("source") or {}).get("pr")
            if isinstance(pr, int) and pr > 0:
                found = pr
            elif isinstance(pr, str) and pr.isdigit() and int(pr) > 0:
                found = int(pr)
    return found


# --- pointer files from the ledger -------------------------------------------------------


def pointers_from_ledger(config: GovernanceConfig, state: LifecycleState,
                         entries: Sequence[EventView]) -> dict[str, dict[str, Deployment]]:
    """environment -> model -> what is live there now, for every environment of the
    configuration (an environment with nothing live maps to no models)."""
    by_seq = {e.seq: e for e in entries}
    out: dict[str, dict[str, Deployment]] = {env.name: {} for env in
                                               promotion_order(config)}
    for (model, env), _spans in sorted(state.live.items()):
        current = state.current(model, env)
        if current is None or env not in out:
            continue
        event = by_seq.get(current.seq)
        version = event.event.get("model_version") if event is not None else None
        out[env][model] = Deployment(
            release_id=current.release_id, model_version=version, release_digest=current.digest,
            promoted_at=current.since, promoted_by=current.actor_id, ledger_seq=current.seq,
            ledger_event_id=current.event_id)
    return out


def pointer_body(env: str, models: Mapping[str, Deployment]) -> dict[str, Any]:
    """The EnvironmentState document body (without apiVersion/kind) for ``env``: what
    `promote`/`rollback` write and what `env publish` regenerates from the ledger."""
    return {"environment": env,
            "models": {name: models[name].to_json() for name in sorted(models)}}


@dataclass(frozen=True)
class PointerMismatch:
    environment: str
    model: str
    found: str | None  # release id in the pointer file (None: absent)
    expected: str | None  # release id live on the ledger (None: nothing)
    why: str

    def message(self) -> str:
        return (f"environments/{self.environment}.yaml: {self.model} -> "
                f"{self.found or 'nothing'}, the ledger says {self.expected or 'nothing'} "
                f"({self.why})")

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "model": self.model, "found": self.found,
                "expected": self.expected, "why": self.why, "message": self.message()}


def pointer_violation(what: str, mismatches: Sequence[PointerMismatch],
                      details: Mapping[str, Any], source: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """The ``policy_violation`` event recording pointer files that differ from the ledger
    (``what``: which files, e.g. "pointer files differ"), for ``append_event``."""
    return PolicyViolation(
        reason=f"{what} from the ledger (edited by hand?): "
               + "; ".join(m.message() for m in mismatches),
        details={**details, "pointer_mismatches": [m.to_json() for m in mismatches]},
        source=source).to_dict()


def compare_pointers(expected: Mapping[str, Mapping[str, Deployment]],
                     found: Mapping[str, Mapping[str, Mapping[str, Any]]]
                     ) -> list[PointerMismatch]:
    """Every difference between pointer files (env -> model -> fields as written) and the
    ledger: a release the ledger does not have live, a model the ledger has live but the file
    omits, or an entry naming a ledger event that is not the one that made it live."""
    out: list[PointerMismatch] = []
    for env in sorted(set(expected) | set(found)):
        want = expected.get(env)
        have = found.get(env, {})
        if want is None:
            out.extend(PointerMismatch(env, m, str(v.get("release_id")), None,
                                       "not an environment of governance.yaml")
                       for m, v in sorted(have.items()))
            continue
        for model in sorted(set(want) | set(have)):
            w, h = want.get(model), have.get(model)
            if h is None:
                assert w is not None
                out.append(PointerMismatch(env, model, None, w.release_id,
                                           "missing from the pointer"))
            elif w is None:
                out.append(PointerMismatch(env, model, str(h.get("release_id")), None,
                                           "no ledger event made it live"))
            elif h.get("release_id") != w.release_id:
                out.append(PointerMismatch(env, model, str(h.get("release_id")), w.release_id,
                                           "no ledger event made it live"))
            elif ((h.get("ledger_seq"), h.get("ledger_event_id"), h.get("release_digest"))
                  != (w.ledger_seq, w.ledger_event_id, w.release_digest)):
                out.append(PointerMismatch(
                    env, model, str(h.get("release_id")), w.release_id,
                    f"names ledger seq {h.get('ledger_seq')} / digest "
                    f"{h.get('release_digest')}, the live event is seq {w.ledger_seq}"))
    return out


# --- use cases: env next, env verify ------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """Where a release goes next, and the pull request the ledger says it came through."""

    release_id: str
    model_name: str
    release_digest: str
    environment: Environment
    pull_request: int | None

    def to_json(self) -> dict[str, Any]:
        env = self.environment
        return {"release_id": self.release_id, "model_name": self.model_name,
                "environment": env.name, "after": env.after,
                "required_approvals": list(env.required_approvals),
                "pull_request": self.pull_request, "release_digest": self.release_digest}


def next_step(config: GovernanceConfig, release_id: str, model: str, digest: str,
              entries: Sequence[EventView]) -> NextStep:
    """The next environment of the release (``next_environment`` over the folded ledger);
    Denied (exit 1) when it is live everywhere it may be promoted to."""
    env = next_environment(config, fold_lifecycle(
        entries, production_env=config.production_environment), release_id, model)
    if env is None:
        raise Denied(f"{release_id} is live in every environment it may be promoted to",
                     hint="nothing is left to promote; a new release starts again at the first "
                          "environment (governance env first)")
    return NextStep(release_id, model, digest, env, pull_request_of(entries, release_id, digest))


@dataclass(frozen=True)
class PointerCheck:
    """The pointer files compared with the ledger, and the violation recorded (if asked)."""

    mismatches: tuple[PointerMismatch, ...]
    recorded: LedgerEntry | None

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "mismatches": [m.to_json() for m in self.mismatches],
                "recorded_seq": self.recorded.seq if self.recorded else None}


def check_pointers(config: GovernanceConfig, entries: Sequence[EventView],
                   found: Mapping[str, Mapping[str, Mapping[str, Any]]], *, ref: str | None,
                   record: Callable[[Mapping[str, Any]], LedgerEntry] | None,
                   source: Mapping[str, Any]) -> PointerCheck:
    """Compare the pointer files ``found`` (at ``ref``, None: the working tree) with the
    ledger; with ``record``, append a mismatch as ``policy_violation`` carrying ``source``."""
    expected = pointers_from_ledger(
        config, fold_lifecycle(entries, production_env=config.production_environment), entries)
    mismatches = tuple(compare_pointers(expected, found))
    recorded = None
    if mismatches and record is not None:
        recorded = record(pointer_violation("pointer files differ", mismatches,
                                            {"ref": ref} if ref else {}, source))
    return PointerCheck(mismatches, recorded)
