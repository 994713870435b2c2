"""The names of the ledger event types (DESIGN section 7; issue 20 item 5).

Code names an event type through these constants, never as a bare string
(tests/unit/test_event_table.py scans for comparisons). The one table of the types (each type's
dataclass, required fields, lifecycle command, fold/replay/index handlers, checkpoint flag) is
``governance.domain.event_table.EVENT_TABLE``; the groupings below are written out here so that
a read query can name a type without creating the table's dataclasses (about 30 ms at start-up,
issue 18), and the table checks at import, and tests/unit/test_event_table.py again, that every
grouping is exactly what its entries say (a new type is added to both or the import fails).

This module imports nothing (the domain layer).
"""

from __future__ import annotations

LEDGER_GENESIS = "ledger_genesis"
MODEL_REGISTERED = "model_registered"
RELEASE_REGISTERED = "release_registered"
EVALUATION_COMPLETED = "evaluation_completed"
GATE_EVALUATED = "gate_evaluated"
APPROVAL_GRANTED = "approval_granted"
APPROVAL_DENIED = "approval_denied"
RELEASE_APPROVED = "release_approved"
DEPLOYMENT_PROMOTED = "deployment_promoted"
ROLLBACK_EXECUTED = "rollback_executed"
CONFIG_CHANGED = "config_changed"
RELEASE_RETIRED = "release_retired"
POLICY_VIOLATION = "policy_violation"
BREAK_GLASS = "break_glass"
KEY_ROTATED = "key_rotated"

# Every type, in the table's order.
EVENT_TYPES: tuple[str, ...] = (
    LEDGER_GENESIS, MODEL_REGISTERED, RELEASE_REGISTERED, EVALUATION_COMPLETED, GATE_EVALUATED,
    APPROVAL_GRANTED, APPROVAL_DENIED, RELEASE_APPROVED, DEPLOYMENT_PROMOTED, ROLLBACK_EXECUTED,
    CONFIG_CHANGED, RELEASE_RETIRED, POLICY_VIOLATION, BREAK_GLASS, KEY_ROTATED)

# The envelope: fields every event type has (the store fills seq and prev at append; event_id
# and timestamp are filled when not given). The schema requires all but actor_role everywhere.
ENVELOPE_FIELDS: tuple[str, ...] = ("event_type", "event_id", "seq", "timestamp", "prev",
                                    "actor_id", "actor_role")
ENVELOPE_REQUIRED: tuple[str, ...] = ("event_type", "event_id", "seq", "timestamp", "prev",
                                      "actor_id")

# The types after which a signed checkpoint is written (the table's `checkpoint` flag).
CHECKPOINT_TYPES: frozenset[str] = frozenset({
    LEDGER_GENESIS, APPROVAL_GRANTED, RELEASE_APPROVED, DEPLOYMENT_PROMOTED, ROLLBACK_EXECUTED})
# What changes what is live, and how: each type's `index` handler in the table (the index's
# `deployments` rows and the fold's spans). "goes_live": its release goes live; "rollback": its
# `to_release` goes live, or nothing.
INDEX_HANDLER_OF: dict[str, str] = {
    DEPLOYMENT_PROMOTED: "goes_live", ROLLBACK_EXECUTED: "rollback", BREAK_GLASS: "goes_live"}
GOES_LIVE: tuple[str, ...] = tuple(n for n, h in INDEX_HANDLER_OF.items() if h == "goes_live")
LIVE_CHANGES: tuple[str, ...] = tuple(INDEX_HANDLER_OF)
APPROVAL_DECISIONS: tuple[str, ...] = (APPROVAL_GRANTED, APPROVAL_DENIED)
# The lifecycle replay's rule of each type (the table's `replay`), and the command that alone
# may write each lifecycle type (its `lifecycle_command`): written out so that verifying a
# ledger (every read that catches up) does not build the table's dataclasses (about 35 ms).
REPLAY_RULE_OF: dict[str, str] = {
    LEDGER_GENESIS: "genesis", GATE_EVALUATED: "gate", APPROVAL_GRANTED: "approval",
    APPROVAL_DENIED: "approval", RELEASE_APPROVED: "approved", DEPLOYMENT_PROMOTED: "promoted",
    ROLLBACK_EXECUTED: "rollback", RELEASE_RETIRED: "retired", BREAK_GLASS: "emergency",
    KEY_ROTATED: "rotation"}
LIFECYCLE_COMMAND_OF: dict[str, str] = {
    GATE_EVALUATED: "governance promote (it records the gate decision it acts on)",
    APPROVAL_GRANTED: "governance approve (or check --approvals github --record for reviews)",
    APPROVAL_DENIED: "governance approve --deny",
    RELEASE_APPROVED: "governance approve (it records it once the approvals count)",
    DEPLOYMENT_PROMOTED: "governance promote",
    ROLLBACK_EXECUTED: "governance rollback",
    RELEASE_RETIRED: "governance retire",
    BREAK_GLASS: "governance promote --break-glass"}
