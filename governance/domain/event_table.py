"""The one table of ledger event types (DESIGN section 7; issue 20 item 5).

Every event type the ledger knows is one ``EventSpec`` in ``EVENT_TABLE``: its name, the frozen
dataclass holding its fields, the fields the event schema requires for it, the command that
alone may write it (the lifecycle replay's rule), and the names of the handlers that fold,
replay and index it (None: the event has no effect there, said explicitly). The consumers look
the handler names up in their own handler maps (``governance.lifecycle.FOLD_HANDLERS``,
``governance.ledger.replay.REPLAY_HANDLERS``, ``governance.audit.index.INDEX_HANDLERS``);
tests/unit/test_event_table.py holds the table, the shipped schema and those maps to each
other, so a new event type is one entry here, its name in ``governance.domain.event_types``,
plus its handlers and tests (docs/ledger.md, "Adding an event type").

The names and their groupings (``EVENT_TYPES``, ``CHECKPOINT_TYPES``, ``INDEX_HANDLER_OF``
and the ``GOES_LIVE`` and ``LIVE_CHANGES`` derived from it) live in
``governance.domain.event_types``, which creates no dataclass: a read query names types
without paying for this table (issue 18). The table checks at import that each grouping is
exactly what its entries say.

An event's dataclass carries the common envelope (``Event``: event_id, seq, timestamp, prev,
actor_id, actor_role) once and its own typed fields; a field the schema allows on every event
but the type does not declare (``ledger append --field`` may write any) is kept in ``extra``, so
``event_from_dict`` then ``event_to_dict`` gives back the stored dict exactly and its canonical
JSON byte for byte. Values are kept as stored (no coercion): the schema, not this module,
judges them.

This module imports nothing from the rest of the package but the names (the domain layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from governance.domain.event_types import (
    APPROVAL_DENIED,
    APPROVAL_GRANTED,
    BREAK_GLASS,
    CHECKPOINT_TYPES,
    CONFIG_CHANGED,
    DEPLOYMENT_PROMOTED,
    EVALUATION_COMPLETED,
    EVENT_TYPES,
    GATE_EVALUATED,
    INDEX_HANDLER_OF,
    KEY_ROTATED,
    LEDGER_GENESIS,
    LIFECYCLE_COMMAND_OF,
    MODEL_REGISTERED,
    POLICY_VIOLATION,
    RELEASE_APPROVED,
    RELEASE_REGISTERED,
    RELEASE_RETIRED,
    REPLAY_RULE_OF,
    ROLLBACK_EXECUTED,
)


@dataclass(frozen=True, kw_only=True)
class Event:
    """The envelope every event carries; subclasses add their type's fields."""

    event_type: ClassVar[str]
    event_id: str | None = None
    seq: int | None = None
    timestamp: str | None = None
    prev: str | None = None
    actor_id: str | None = None
    actor_role: str | None = None
    # schema-allowed fields this type does not declare, kept as stored
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (before canonical JSON): ``event_type`` and every field that is not
        None, as the builders' dict literals wrote them (``build_event`` drops None too)."""
        return event_to_dict(self)


# --- one dataclass per type -------------------------------------------------------------------
# Required fields (the schema's per-type ``required``) have no default; the fields the tools
# write beside them are optional. Nested payloads (details, decision, source) stay mappings:
# their shape is the schema's.


@dataclass(frozen=True, kw_only=True)
class LedgerGenesis(Event):
    event_type: ClassVar[str] = LEDGER_GENESIS
    details: Mapping[str, Any]  # origin, checkpoint_every, signers, log_keys, lifecycle, ...


@dataclass(frozen=True, kw_only=True)
class ModelRegistered(Event):
    event_type: ClassVar[str] = MODEL_REGISTERED
    model_name: str
    reason: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseRegistered(Event):
    event_type: ClassVar[str] = RELEASE_REGISTERED
    model_name: str
    release_id: str
    model_version: str
    release_digest: str
    reason: str | None = None  # an amendment's reason
    source: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None  # commit, path, amends


@dataclass(frozen=True, kw_only=True)
class EvaluationCompleted(Event):
    event_type: ClassVar[str] = EVALUATION_COMPLETED
    model_name: str
    release_id: str
    evidence_refs: list[Any]
    model_version: str | None = None
    release_digest: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class GateEvaluated(Event):
    event_type: ClassVar[str] = GATE_EVALUATED
    model_name: str
    release_id: str
    decision: Mapping[str, Any]
    model_version: str | None = None
    environment: str | None = None  # None: a readiness check, no promotion rests on it
    release_digest: str | None = None
    policy_digest: str | None = None
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ApprovalGranted(Event):
    event_type: ClassVar[str] = APPROVAL_GRANTED
    model_name: str
    release_id: str
    actor_role: str = field()  # required for approvals (the envelope field, narrowed)
    release_digest: str
    model_version: str | None = None
    environment: str | None = None
    approval_state: str | None = None  # "approved"
    evidence_refs: list[Any] | None = None
    reason: str | None = None
    source: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None  # closes, post_hoc, membership


@dataclass(frozen=True, kw_only=True)
class ApprovalDenied(Event):
    event_type: ClassVar[str] = APPROVAL_DENIED
    model_name: str
    release_id: str
    actor_role: str = field()  # required for approvals (the envelope field, narrowed)
    reason: str
    model_version: str | None = None
    approval_state: str | None = None  # "denied"
    release_digest: str | None = None
    evidence_refs: list[Any] | None = None
    source: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseApproved(Event):
    event_type: ClassVar[str] = RELEASE_APPROVED
    model_name: str
    release_id: str
    release_digest: str
    model_version: str | None = None
    approval_state: str | None = None
    source: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None  # environment, approvers


@dataclass(frozen=True, kw_only=True)
class DeploymentPromoted(Event):
    event_type: ClassVar[str] = DEPLOYMENT_PROMOTED
    model_name: str
    release_id: str
    environment: str
    release_digest: str
    model_version: str | None = None
    policy_digest: str | None = None
    from_release: str | None = None
    decision: Mapping[str, Any] | None = None
    evidence_refs: list[Any] | None = None
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RollbackExecuted(Event):
    event_type: ClassVar[str] = ROLLBACK_EXECUTED
    model_name: str
    environment: str
    from_release: str
    to_release: str
    reason: str
    release_id: str | None = None  # the target again, for queries by release
    model_version: str | None = None
    release_digest: str | None = None
    incident: str | None = None
    policy_digest: str | None = None
    decision: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ConfigChanged(Event):
    event_type: ClassVar[str] = CONFIG_CHANGED
    details: Mapping[str, Any]  # changes (runtime config) or paths (governance config)
    model_name: str | None = None
    release_id: str | None = None
    environment: str | None = None
    approval_state: str | None = None
    reason: str | None = None
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseRetired(Event):
    event_type: ClassVar[str] = RELEASE_RETIRED
    model_name: str
    release_id: str
    reason: str
    model_version: str | None = None
    release_digest: str | None = None


@dataclass(frozen=True, kw_only=True)
class PolicyViolation(Event):
    event_type: ClassVar[str] = POLICY_VIOLATION
    reason: str
    model_name: str | None = None
    release_id: str | None = None
    model_version: str | None = None
    environment: str | None = None
    release_digest: str | None = None
    source: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class BreakGlass(Event):
    event_type: ClassVar[str] = BREAK_GLASS
    reason: str
    incident: str
    model_name: str | None = None
    release_id: str | None = None
    model_version: str | None = None
    environment: str | None = None
    release_digest: str | None = None
    policy_digest: str | None = None
    from_release: str | None = None
    decision: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class KeyRotated(Event):
    event_type: ClassVar[str] = KEY_ROTATED
    reason: str
    details: Mapping[str, Any]  # changes


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    """One event type: what it is, what it requires, who writes it and what handles it."""

    name: str
    cls: type[Event]
    required: tuple[str, ...]  # beyond the envelope: the schema's $defs/<name>/required
    # the command that alone may write it (the replay refuses it otherwise; `ledger append`
    # refuses to write it by hand); None: any signer allowed to emit it may append it
    lifecycle_command: str | None = None
    fold: str | None = None  # governance.lifecycle.FOLD_HANDLERS key; None: no effect on state
    replay: str | None = None  # governance.ledger.replay.REPLAY_HANDLERS key; None: no rule
    # governance.audit.index.INDEX_HANDLERS key for the rows beyond `events` (every event has
    # its `events` row); None: only that row
    index: str | None = None
    checkpoint: bool = False  # a signed checkpoint is written right after it (append.py)
    summary: str = ""


EVENT_TABLE: Mapping[str, EventSpec] = {s.name: s for s in (
    EventSpec(LEDGER_GENESIS, LedgerGenesis, ("details",), replay="genesis", checkpoint=True,
              summary="seq 0: pins the genesis trust (signers, log keys, lifecycle rules)"),
    EventSpec(MODEL_REGISTERED, ModelRegistered, ("model_name",),
              summary="a model is known to the ledger"),
    EventSpec(RELEASE_REGISTERED, ReleaseRegistered,
              ("model_name", "release_id", "model_version", "release_digest"),
              fold="registered", summary="a release directory and its digest"),
    EventSpec(EVALUATION_COMPLETED, EvaluationCompleted,
              ("model_name", "release_id", "evidence_refs"),
              summary="evaluation evidence for a release"),
    EventSpec(GATE_EVALUATED, GateEvaluated, ("model_name", "release_id", "decision"),
              lifecycle_command="governance promote (it records the gate decision it acts on)",
              fold="gate", replay="gate", summary="the gates' decision for a release"),
    EventSpec(APPROVAL_GRANTED, ApprovalGranted,
              ("model_name", "release_id", "actor_role", "release_digest"),
              lifecycle_command="governance approve (or check --approvals github --record for "
                                "reviews)",
              fold="approval", replay="approval", checkpoint=True,
              summary="one role holder approved a release digest"),
    EventSpec(APPROVAL_DENIED, ApprovalDenied,
              ("model_name", "release_id", "actor_role", "reason"),
              lifecycle_command="governance approve --deny",
              fold="approval", replay="approval", summary="one role holder denied a release"),
    EventSpec(RELEASE_APPROVED, ReleaseApproved, ("model_name", "release_id", "release_digest"),
              lifecycle_command="governance approve (it records it once the approvals count)",
              fold="approved", replay="approved", checkpoint=True,
              summary="the counted approvals fill every required role"),
    EventSpec(DEPLOYMENT_PROMOTED, DeploymentPromoted,
              ("model_name", "release_id", "environment", "release_digest"),
              lifecycle_command="governance promote",
              fold="goes_live", replay="promoted", index="goes_live", checkpoint=True,
              summary="a release went live in an environment through the gates"),
    EventSpec(ROLLBACK_EXECUTED, RollbackExecuted,
              ("model_name", "environment", "from_release", "to_release", "reason"),
              lifecycle_command="governance rollback",
              fold="rollback", replay="rollback", index="rollback", checkpoint=True,
              summary="an environment went back to a release live there before (or off)"),
    EventSpec(CONFIG_CHANGED, ConfigChanged, ("details",),
              summary="runtime or governance configuration changed"),
    EventSpec(RELEASE_RETIRED, ReleaseRetired, ("model_name", "release_id", "reason"),
              lifecycle_command="governance retire",
              fold="retired", replay="retired", summary="a release may never be live again"),
    EventSpec(POLICY_VIOLATION, PolicyViolation, ("reason",),
              summary="a refused or detected bypass, recorded"),
    EventSpec(BREAK_GLASS, BreakGlass, ("reason", "incident"),
              lifecycle_command="governance promote --break-glass",
              fold="goes_live", replay="emergency", index="goes_live",
              summary="an emergency promotion past the gates; opens a post-hoc review"),
    EventSpec(KEY_ROTATED, KeyRotated, ("reason", "details"), replay="rotation",
              summary="signers, keys, rotators or pinned lifecycle rules changed"),
)}

LIFECYCLE_COMMANDS: Mapping[str, str] = {
    s.name: s.lifecycle_command for s in EVENT_TABLE.values() if s.lifecycle_command}


def _check_groupings() -> None:
    """The names module's groupings are what the table's entries say (a type added to one and
    not the other fails here, at the first import of the table)."""
    derived = {
        "EVENT_TYPES": (tuple(EVENT_TABLE), EVENT_TYPES),
        "CHECKPOINT_TYPES": (frozenset(s.name for s in EVENT_TABLE.values() if s.checkpoint),
                             CHECKPOINT_TYPES),
        "INDEX_HANDLER_OF": ({n: s.index for n, s in EVENT_TABLE.items() if s.index is not None},
                             INDEX_HANDLER_OF),
        "REPLAY_RULE_OF": ({n: s.replay for n, s in EVENT_TABLE.items() if s.replay is not None},
                           REPLAY_RULE_OF),
        "LIFECYCLE_COMMAND_OF": (dict(LIFECYCLE_COMMANDS), LIFECYCLE_COMMAND_OF),
    }
    for name, (from_table, written) in derived.items():
        if from_table != written:
            raise ImportError(f"governance.domain.event_types.{name} is {written!r}; the event "
                              f"table says {from_table!r}")


_check_groupings()


def spec(event_type: str) -> EventSpec | None:
    return EVENT_TABLE.get(event_type)


def declared_fields(cls: type[Event]) -> tuple[str, ...]:
    """The stored fields a dataclass declares (envelope first, then its own), without event_type
    and extra."""
    return tuple(f.name for f in fields(cls) if f.name != "extra")


def event_to_dict(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"event_type": event.event_type}
    for name in declared_fields(type(event)):
        value = getattr(event, name)
        if value is not None:
            out[name] = value
    for key, value in event.extra.items():
        # a declared field is in extra only when stored as JSON null (which None cannot say)
        if key in out or key == "event_type":
            raise ValueError(f"{event.event_type}: extra field {key!r} is also set as a field")
        out[key] = value
    return out


E = TypeVar("E", bound=Event)


def event_of(cls: type[E], fields: Mapping[str, Any]) -> E:
    """An event of type ``cls`` from loose fields (a refused attempt's facts, say): the fields
    ``cls`` declares typed, the others in ``extra``; None values are left out, as
    ``governance.ledger.events.build_event`` leaves them out."""
    names = set(declared_fields(cls))
    present = {k: v for k, v in fields.items() if v is not None and k != "event_type"}
    return cls(**{k: v for k, v in present.items() if k in names},
               extra={k: v for k, v in present.items() if k not in names})


def event_from_dict(stored: Mapping[str, Any]) -> Event:
    """The dataclass of a stored event; ValueError names an unknown type or a missing required
    field (a schema-valid event never raises)."""
    kind = stored.get("event_type")
    entry = EVENT_TABLE.get(kind) if isinstance(kind, str) else None
    if entry is None:
        raise ValueError(f"unknown event type {kind!r} (expected one of "
                         f"{', '.join(EVENT_TYPES)})")
    names = set(declared_fields(entry.cls))
    missing = [n for n in entry.required if n not in stored]
    if missing:
        raise ValueError(f"{kind} event without {', '.join(missing)} (required for {kind})")
    known = {k: v for k, v in stored.items() if k in names}
    # a field stored as JSON null is kept in extra too: None on the dataclass means "absent"
    extra = {k: v for k, v in stored.items()
             if k != "event_type" and (k not in names or v is None)}
    return entry.cls(**known, extra=extra)
