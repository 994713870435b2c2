"""The lifecycle as a pure fold over ledger events (DESIGN section 4).

States of a release: draft -> validated -> approved -> production -> rolled_back -> retired,
and rejected. Nothing here is stored by hand: ``fold_lifecycle`` replays the ledger's events in
seq order and derives, for every release, its state and evidence, and for every (model,
environment) the history of what was live, from which the live release and the fallback (the
prior approved release that was live there) follow. Break-glass promotions open obligations
that stay open until a post-hoc approval closes them.

``ReleaseLife.state`` is the furthest milestone a release reached (the gates read it: a release
that reached ``production`` stays promotable). What is true NOW is ``LifecycleState.standings``:
``production`` only for the release live in production now; a release replaced there by a
promotion is ``superseded`` (since when, by which release), one replaced by a rollback is
``rolled_back``; every environment it is live in now and every one it was replaced in.

Event fields read (see governance/domain/events.py): event_type, seq, event_id, timestamp,
release_id, model_name, environment, release_digest, actor_id, actor_role, approval_state,
decision, from_release, to_release, incident, reason, details.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.domain import lifecycle_states as _states
from governance.domain.event_types import (
    APPROVAL_GRANTED,
    BREAK_GLASS,
    RELEASE_APPROVED,
    ROLLBACK_EXECUTED,
)
from governance.domain.events import EventView

# The state names live in governance.domain.lifecycle_states (a read query compares them
# without the fold's classes); they are the fold's names too.
DRAFT = _states.DRAFT
VALIDATED = _states.VALIDATED
APPROVED = _states.APPROVED
REJECTED = _states.REJECTED
PRODUCTION = _states.PRODUCTION
ROLLED_BACK = _states.ROLLED_BACK
RETIRED = _states.RETIRED
SUPERSEDED = _states.SUPERSEDED  # a standing, never a fold milestone: was live, replaced since


@dataclass(frozen=True)
class ApprovalRecord:
    role: str
    actor_id: str
    digest: str | None
    granted: bool
    seq: int
    event_id: str
    timestamp: str
    source: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveSpan:
    """One release live in one environment, from ``since`` until ``until`` (None: still)."""

    release_id: str
    since: str
    seq: int
    event_id: str
    event_type: str  # deployment_promoted | rollback_executed | break_glass
    actor_id: str | None
    digest: str | None
    until: str | None = None
    ended_by_seq: int | None = None
    disabled: bool = False  # a rollback that switched the model off


@dataclass(frozen=True)
class Obligation:
    """An open duty the gates keep reporting, e.g. the post-hoc review of a break-glass."""

    kind: str
    event_id: str
    seq: int
    release_id: str | None
    model_name: str | None
    environment: str | None
    incident: str | None
    opened_at: str
    actor_id: str | None


@dataclass(frozen=True)
class Replacement:
    """A release that was live in ``environment`` and no longer is: since when, by what."""

    environment: str
    since: str  # when it stopped being live there
    by_release: str | None  # the release live after it (None: the model was switched off)
    via: str  # deployment_promoted | rollback_executed | break_glass
    seq: int  # the event that replaced it

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "since": self.since,
                "by_release": self.by_release, "via": self.via, "seq": self.seq}


@dataclass(frozen=True)
class ReleaseStanding:
    """What is true of a release now (``LifecycleState.standings``)."""

    release_id: str
    state: str  # the milestone, but production only while live there (else superseded, ...)
    live: tuple[tuple[str, LiveSpan], ...] = ()  # (environment, current span), live there now
    replaced: tuple[Replacement, ...] = ()  # each environment it was live in and is not now
    first_seen: str | None = None  # the first ledger event naming it

    @property
    def live_in(self) -> tuple[str, ...]:
        return tuple(env for env, _ in self.live)

    def to_json(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id, "state": self.state,
            "live": [{"environment": env, "since": span.since, "by": span.actor_id,
                      "via": span.event_type, "seq": span.seq} for env, span in self.live],
            "replaced": [r.to_json() for r in self.replaced],
        }


@dataclass
class ReleaseLife:
    release_id: str
    model_name: str | None
    state: str = DRAFT
    registered_seq: int | None = None
    approvals: list[ApprovalRecord] = field(default_factory=list)
    approved_digest: str | None = None
    gate_results: list[Mapping[str, Any]] = field(default_factory=list)
    environments_live: set[str] = field(default_factory=set)  # ever live there
    retired: bool = False
    retired_reason: str | None = None
    first_seen: str | None = None  # timestamp of the first event naming the release


@dataclass
class LifecycleState:
    releases: dict[str, ReleaseLife] = field(default_factory=dict)
    # (model, environment) -> spans in order
    live: dict[tuple[str, str], list[LiveSpan]] = field(default_factory=dict)
    obligations: dict[str, Obligation] = field(default_factory=dict)  # by event_id
    last_seq: int = -1
    # the environment whose live release is in ``production``: governance.yaml's last
    # environment (GovernanceConfig.production_environment), e.g. ``prod``; always named
    production_env: str = field(kw_only=True)

    def release(self, release_id: str) -> ReleaseLife | None:
        return self.releases.get(release_id)

    def current(self, model: str, env: str) -> LiveSpan | None:
        spans = self.live.get((model, env), [])
        if spans and spans[-1].until is None and not spans[-1].disabled:
            return spans[-1]
        return None

    def fallback(self, model: str, env: str) -> str | None:
        """The prior approved release that was live in ``env`` before the current one, and was
        neither retired nor rolled back from since."""
        spans = self.live.get((model, env), [])
        current = self.current(model, env)
        for span in reversed(spans):
            if span.disabled or (current is not None and span.release_id == current.release_id):
                continue
            life = self.releases.get(span.release_id)
            if (life is not None and is_approved(life) and not life.retired
                    and life.state != ROLLED_BACK):
                return span.release_id
        return None

    def was_live(self, release_id: str, model: str, env: str) -> bool:
        return any(s.release_id == release_id and not s.disabled
                   for s in self.live.get((model, env), []))

    def open_obligations(self, model: str | None = None) -> list[Obligation]:
        return [o for o in self.obligations.values() if model is None or o.model_name == model]

    def standings(self, model: str) -> dict[str, ReleaseStanding]:
        """release_id -> what is true of it now, for every release of ``model`` the ledger
        names (one pass over the model's spans, whatever the length of its history).

        Per environment only the last span can be live; a release's last span there that ended
        says how it was replaced: by a promotion or break-glass of another release
        (``superseded`` when that was production), by a rollback (``rolled_back``, as the fold
        already records for the release rolled back from), or switched off.
        """
        live: dict[str, list[tuple[str, LiveSpan]]] = {}
        replaced: dict[str, dict[str, Replacement]] = {}
        for (m, env), spans in sorted(self.live.items()):
            if m != model:
                continue
            for i, span in enumerate(spans):
                if span.disabled:
                    continue
                if span.until is None:
                    live.setdefault(span.release_id, []).append((env, span))
                    replaced.get(span.release_id, {}).pop(env, None)
                    continue
                after = spans[i + 1] if i + 1 < len(spans) else None
                replaced.setdefault(span.release_id, {})[env] = Replacement(
                    environment=env, since=span.until,
                    by_release=None if after is None or after.disabled else after.release_id,
                    via=after.event_type if after is not None else "unknown",
                    seq=span.ended_by_seq if span.ended_by_seq is not None else -1)
        out = {}
        for rid, life in self.releases.items():
            if life.model_name != model:
                continue
            now = tuple(live.get(rid, ()))
            gone = tuple(r for env, r in sorted(replaced.get(rid, {}).items())
                         if env not in {e for e, _ in now})
            state = life.state
            if life.retired:
                state = RETIRED
            elif self.production_env in {e for e, _ in now}:
                state = PRODUCTION
            elif state == PRODUCTION:
                ended = next((r for r in gone if r.environment == self.production_env), None)
                state = ROLLED_BACK if ended is not None and ended.via == ROLLBACK_EXECUTED \
                    else SUPERSEDED
            out[rid] = ReleaseStanding(release_id=rid, state=state, live=now, replaced=gone,
                                       first_seen=life.first_seen)
        return out


def is_approved(life: ReleaseLife) -> bool:
    """Approved at some point and not rejected since (retirement is tracked separately)."""
    return life.approved_digest is not None


def _life(state: LifecycleState, event: Mapping[str, Any]) -> ReleaseLife | None:
    release_id = event.get("release_id")
    if not release_id:
        return None
    life = state.releases.get(release_id)
    if life is None:
        life = ReleaseLife(release_id=release_id, model_name=event.get("model_name"),
                           first_seen=event.get("timestamp"))
        state.releases[release_id] = life
    if life.model_name is None:
        life.model_name = event.get("model_name")
    return life


def _start_span(state: LifecycleState, model: str, env: str, span: LiveSpan) -> None:
    spans = state.live.setdefault((model, env), [])
    if spans and spans[-1].until is None:
        last = spans[-1]  # replace() without its per-call field introspection (a hot loop)
        spans[-1] = LiveSpan(last.release_id, last.since, last.seq, last.event_id,
                             last.event_type, last.actor_id, last.digest, until=span.since,
                             ended_by_seq=span.seq, disabled=last.disabled)
    spans.append(span)


def apply(state: LifecycleState, entry: EventView) -> None:
    """Fold one event into the state (events must arrive in seq order): the event table names
    the handler of its type (``EventSpec.fold``; None: no effect beyond the release it names)."""
    e = entry.event
    state.last_seq = entry.seq
    life = _life(state, e)
    handler = _fold_handlers().get(entry.event_type)
    if handler is not None:
        FOLD_HANDLERS[handler](state, entry, life)


@functools.cache
def _fold_handlers() -> dict[str, str]:
    """Event type -> its ``EventSpec.fold`` handler name, from the event table (imported on
    the first fold, not with this module: issue 18)."""
    from governance.domain.event_table import EVENT_TABLE

    return {name: s.fold for name, s in EVENT_TABLE.items() if s.fold is not None}


def _registered(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    if life is not None:
        life.registered_seq = entry.seq


def _gate(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    if life is None:
        return
    decision = entry.event.get("decision") or {}
    life.gate_results.append({"seq": entry.seq, "environment": entry.event.get("environment"),
                              **decision})
    if decision.get("allow") and life.state == DRAFT:
        life.state = VALIDATED


def _approval(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    if life is None:
        return
    e = entry.event
    granted = entry.event_type == APPROVAL_GRANTED
    life.approvals.append(ApprovalRecord(
        role=e.get("actor_role") or "", actor_id=e.get("actor_id") or "",
        digest=e.get("release_digest"), granted=granted, seq=entry.seq,
        event_id=entry.event_id, timestamp=entry.timestamp,
        source=e.get("source") or {}))
    if not granted:
        life.state = REJECTED
        life.approved_digest = None
    _close_break_glass(state, e)


def _release_approved(state: LifecycleState, entry: EventView,
                      life: ReleaseLife | None) -> None:
    if life is None:
        return
    life.approved_digest = entry.event.get("release_digest")
    if life.state in (DRAFT, VALIDATED, REJECTED):
        life.state = APPROVED
    _close_break_glass(state, entry.event)


def _goes_live(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    """A promotion or a break-glass: the release goes live in the environment (a break-glass
    also opens its post-hoc review)."""
    e = entry.event
    model = e.get("model_name") or (life.model_name if life else None)
    env = e.get("environment")
    if life is None or not model or not env:
        return
    kind = entry.event_type
    _start_span(state, model, env, LiveSpan(
        release_id=life.release_id, since=entry.timestamp, seq=entry.seq,
        event_id=entry.event_id, event_type=kind, actor_id=e.get("actor_id"),
        digest=e.get("release_digest")))
    life.environments_live.add(env)
    if env == state.production_env:
        life.state = PRODUCTION
    if kind == BREAK_GLASS:
        state.obligations[entry.event_id] = Obligation(
            kind="break_glass_review", event_id=entry.event_id, seq=entry.seq,
            release_id=life.release_id, model_name=model, environment=env,
            incident=e.get("incident"), opened_at=entry.timestamp,
            actor_id=e.get("actor_id"))


def _rollback(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    e = entry.event
    model = e.get("model_name") or (life.model_name if life else None)
    env = e.get("environment")
    if not model or not env:
        return
    source = e.get("from_release")
    target = e.get("to_release")
    if source and source in state.releases:
        state.releases[source].state = ROLLED_BACK
    disabled = not target
    _start_span(state, model, env, LiveSpan(
        release_id=target or "", since=entry.timestamp, seq=entry.seq,
        event_id=entry.event_id, event_type=entry.event_type, actor_id=e.get("actor_id"),
        digest=e.get("release_digest"), disabled=disabled))
    if target and target in state.releases:
        state.releases[target].environments_live.add(env)
        if env == state.production_env:
            state.releases[target].state = PRODUCTION


def _retired(state: LifecycleState, entry: EventView, life: ReleaseLife | None) -> None:
    if life is None:
        return
    life.state = RETIRED
    life.retired = True
    life.retired_reason = entry.event.get("reason")


# The fold's handlers by the name the event table gives (``EventSpec.fold``);
# tests/unit/test_event_table.py checks every name the table uses is here and every handler
# here is used.
FOLD_HANDLERS: Mapping[str, Callable[[LifecycleState, EventView, ReleaseLife | None], None]] = {
    "registered": _registered,
    "gate": _gate,
    "approval": _approval,
    "approved": _release_approved,
    "goes_live": _goes_live,
    "rollback": _rollback,
    "retired": _retired,
}


def _close_break_glass(state: LifecycleState, event: Mapping[str, Any]) -> None:
    """A post-hoc approval closes the break-glass obligation it names (details.closes), or,
    when it names none, every open break-glass of the same release."""
    details = event.get("details") or {}
    closes = details.get("closes") if isinstance(details, Mapping) else None
    if closes:
        state.obligations.pop(str(closes), None)
        return
    if event.get("event_type") == RELEASE_APPROVED or details.get("post_hoc"):
        for key, ob in list(state.obligations.items()):
            if ob.release_id == event.get("release_id"):
                del state.obligations[key]


def fold_lifecycle(entries: Iterable[EventView], *, production_env: str) -> LifecycleState:
    """``production_env``: the environment whose live release is in ``production``, i.e.
    ``GovernanceConfig.production_environment`` (governance.yaml's last environment); every
    caller names it (there is no default: a repository whose last environment is ``prod``
    must never be folded as if it were called ``production``)."""
    state = LifecycleState(production_env=production_env)
    for entry in entries:
        apply(state, entry)
    return state
