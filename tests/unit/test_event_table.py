"""The one table of event types (issue 20 item 5): governance.domain.event_table (the names in
governance.domain.event_types).

The table, the shipped event schema and the handler maps of the fold, the replay and the index
must agree exactly, and converting a stored event to its dataclass and back gives the same
canonical JSON, byte for byte, for every type (a round-trip property) and for every event of a
synthetic history shaped like the tools' output. A new event type is one entry in the table plus
its handlers and tests: the checks below name what is missing when one is forgotten.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import governance
from governance.domain.event_table import (
    EVENT_TABLE,
    Event,
    declared_fields,
    event_from_dict,
    event_to_dict,
)
from governance.domain.event_types import ENVELOPE_FIELDS, ENVELOPE_REQUIRED, EVENT_TYPES
from governance.domain.events import EVENT_FIELDS
from governance.ledger.canonical import canonical_bytes, parse_canonical
from governance.ledger.events import event_schema
from governance.ledger.replay import LIFECYCLE_COMMANDS
from tests.support.histories import generate_entries

# --- the table and the schema ---------------------------------------------------------------


def test_the_schema_lists_the_table_s_types_in_its_order() -> None:
    schema = event_schema()
    assert schema["properties"]["event_type"]["enum"] == list(EVENT_TYPES)
    assert schema["$defs"]["signer"]["properties"]["may_emit"]["items"]["enum"] == list(
        EVENT_TYPES)
    set_may_emit = next(c for c in schema["$defs"]["change"]["oneOf"]
                        if c["properties"]["op"]["const"] == "set_may_emit")
    assert set_may_emit["properties"]["may_emit"]["items"]["enum"] == list(EVENT_TYPES)


def test_the_schema_dispatches_every_type_to_its_own_definition() -> None:
    schema = event_schema()
    assert schema["allOf"] == [
        {"if": {"properties": {"event_type": {"const": name}}, "required": ["event_type"]},
         "then": {"$ref": f"#/$defs/{name}"}} for name in EVENT_TYPES]


def test_the_schema_requires_per_type_what_the_table_says() -> None:
    schema = event_schema()
    assert schema["required"] == list(ENVELOPE_REQUIRED)
    for name, spec in EVENT_TABLE.items():
        assert schema["$defs"][name]["required"] == list(spec.required), name


def test_every_field_a_dataclass_declares_is_an_event_field() -> None:
    assert set(ENVELOPE_FIELDS) <= set(EVENT_FIELDS)
    assert list(event_schema()["properties"]) == list(EVENT_FIELDS)
    for name, spec in EVENT_TABLE.items():
        assert spec.cls.event_type == name
        assert issubclass(spec.cls, Event) and dataclasses.is_dataclass(spec.cls)
        assert spec.cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert set(declared_fields(spec.cls)) <= set(EVENT_FIELDS), name


def test_a_required_field_has_no_default_in_its_dataclass() -> None:
    for name, spec in EVENT_TABLE.items():
        defaults = {f.name for f in dataclasses.fields(spec.cls)
                    if f.default is not dataclasses.MISSING
                    or f.default_factory is not dataclasses.MISSING}
        assert not set(spec.required) & defaults, name
        assert set(spec.required) <= set(declared_fields(spec.cls)), name


def test_the_lifecycle_only_set_is_the_table_s() -> None:
    assert dict(LIFECYCLE_COMMANDS) == {n: s.lifecycle_command for n, s in EVENT_TABLE.items()
                                        if s.lifecycle_command is not None}
    assert set(LIFECYCLE_COMMANDS) == {
        "gate_evaluated", "approval_granted", "approval_denied", "release_approved",
        "deployment_promoted", "rollback_executed", "release_retired", "break_glass"}


# --- round trips ------------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8)


@st.composite
def stored_events(draw: st.DrawFn) -> dict[str, Any]:
    """An event of any type: the envelope, the type's required fields, and any other event
    fields (JSON values of any shape, null included: the round trip must not judge them)."""
    name = draw(st.sampled_from(EVENT_TYPES))
    spec = EVENT_TABLE[name]
    event: dict[str, Any] = {"event_type": name}
    for key in (*ENVELOPE_REQUIRED[1:], *spec.required):
        event[key] = draw(_JSON)
    others = [f for f in EVENT_FIELDS if f not in event]
    for key in draw(st.lists(st.sampled_from(others), unique=True)):
        event[key] = draw(_JSON)
    return event


@settings(max_examples=400, deadline=None)
@given(stored_events())
def test_any_event_round_trips_through_its_dataclass_byte_for_byte(event: dict[str, Any]) -> None:
    typed = event_from_dict(event)
    assert type(typed) is EVENT_TABLE[event["event_type"]].cls
    again = event_to_dict(typed)
    assert again == event
    assert canonical_bytes(again) == canonical_bytes(event)


def test_a_synthetic_history_round_trips_byte_for_byte() -> None:
    """Every event of a history shaped like the tools' output (tests/support/histories.py: all
    but key_rotated, which the demo and the rotation tests write) gives back its stored bytes."""
    seen = set()
    for entry in generate_entries(models=6, releases_per_model=4, seed=3):
        typed = event_from_dict(parse_canonical(entry.stored))
        assert canonical_bytes(typed.to_dict()) == entry.stored, entry.seq
        seen.add(entry.event_type)
    assert seen >= set(EVENT_TYPES) - {"key_rotated"}


def test_a_missing_required_field_or_unknown_type_is_named() -> None:
    import pytest

    with pytest.raises(ValueError, match="rollback_executed event without to_release"):
        event_from_dict({"event_type": "rollback_executed", "model_name": "m",
                         "environment": "prod", "from_release": "a", "reason": "r"})
    with pytest.raises(ValueError, match="unknown event type 'nope'"):
        event_from_dict({"event_type": "nope"})


# --- the handlers the table names -------------------------------------------------------------


def _named(attribute: str) -> set[str]:
    return {getattr(s, attribute) for s in EVENT_TABLE.values()} - {None}


def test_every_fold_handler_the_table_names_exists_and_every_handler_is_named() -> None:
    from governance.lifecycle import FOLD_HANDLERS

    assert _named("fold") == set(FOLD_HANDLERS)


def test_every_replay_rule_the_table_names_exists_and_every_rule_is_named() -> None:
    from governance.ledger.replay import REPLAY_HANDLERS

    assert _named("replay") == set(REPLAY_HANDLERS)
    # every lifecycle-only type has a replay rule: the replay is what holds it to its command
    assert all(EVENT_TABLE[n].replay is not None for n in LIFECYCLE_COMMANDS)


def test_every_index_handler_the_table_names_exists_and_every_handler_is_named() -> None:
    from governance.audit.index import INDEX_HANDLERS

    assert _named("index") == set(INDEX_HANDLERS)


def test_every_entry_says_what_handles_it_or_none_explicitly() -> None:
    """A new entry must decide each handler: an attribute left out would read as None, so the
    table lists every type's choices in full here, and adding a type means adding it here."""
    choices = {n: (s.fold, s.replay, s.index, s.lifecycle_command is not None, s.checkpoint)
               for n, s in EVENT_TABLE.items()}
    assert choices == {
        "ledger_genesis": (None, "genesis", None, False, True),
        "model_registered": (None, None, None, False, False),
        "release_registered": ("registered", None, None, False, False),
        "evaluation_completed": (None, None, None, False, False),
        "gate_evaluated": ("gate", "gate", None, True, False),
        "approval_granted": ("approval", "approval", None, True, True),
        "approval_denied": ("approval", "approval", None, True, False),
        "release_approved": ("approved", "approved", None, True, True),
        "deployment_promoted": ("goes_live", "promoted", "goes_live", True, True),
        "rollback_executed": ("rollback", "rollback", "rollback", True, True),
        "config_changed": (None, None, None, False, False),
        "release_retired": ("retired", "retired", None, True, False),
        "policy_violation": (None, None, None, False, False),
        "break_glass": ("goes_live", "emergency", "goes_live", True, False),
        "key_rotated": (None, "rotation", None, False, False),
    }


# --- no event type named by a bare string outside the table ----------------------------------

PACKAGE = Path(governance.__file__).parent
TABLE_MODULE = "domain/event_types.py"
_NAMES = frozenset(EVENT_TYPES)


def _names_a_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in _NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_type(e) for e in node.elts)
    return False


def bare_type_names(source: str, filename: str = "<module>") -> list[tuple[int, str]]:
    """(line, what) for every place ``source`` names an event type by a bare string:

    - a comparison with one (``kind == "break_glass"``, ``kind in ("a", "b")``);
    - a tuple, list or set of them (a hand-kept group of types: derive it from the table);
    - an event dict literal whose ``event_type`` is one (a builder: use the dataclass);
    - an SQL text naming one in quotes (``event_type = 'release_retired'``: pass a parameter).
    """
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Compare):
            if any(_names_a_type(n) for n in (node.left, *node.comparators)):
                out.append((node.lineno, "compares to an event type string"))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and _names_a_type(node):
            out.append((node.lineno, "lists event type strings"))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (isinstance(key, ast.Constant) and key.value == "event_type"
                        and value is not None and _names_a_type(value)):
                    out.append((node.lineno, "builds an event dict literal"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(f"'{name}'" in node.value for name in _NAMES):
                out.append((node.lineno, "names an event type in SQL text"))
    return sorted(set(out))


def test_no_module_outside_the_table_names_an_event_type_by_a_bare_string() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == TABLE_MODULE:
            continue
        found += [f"governance/{rel}:{line} {what}"
                  for line, what in bare_type_names(path.read_text("utf-8"), rel)]
    assert found == [], ("name event types through governance.domain.event_types (a constant, "
                         "a spec attribute or a dataclass):\n" + "\n".join(found))


def test_the_scan_finds_what_it_forbids() -> None:
    """The check can fail: each forbidden form is caught, and constants pass."""
    sample = (
        'if kind == "rollback_executed": pass\n'
        'x = e.event_type in ("deployment_promoted", "break_glass")\n'
        'GROUP = frozenset({"approval_granted", "approval_denied"})\n'
        'event = {"event_type": "policy_violation", "reason": "r"}\n'
        'q = "SELECT 1 FROM events WHERE event_type = \'release_retired\'"\n'
        'ok = kind == ROLLBACK_EXECUTED or kind in GOES_LIVE\n'
        'fine = {"release_approved": True}  # an output key, not a type comparison\n')
    assert bare_type_names(sample) == [
        (1, "compares to an event type string"),
        (2, "compares to an event type string"),
        (2, "lists event type strings"),
        (3, "lists event type strings"),
        (4, "builds an event dict literal"),
        (5, "names an event type in SQL text"),
    ]


def test_event_of_types_what_the_class_declares_and_keeps_the_rest() -> None:
    from governance.domain.event_table import PolicyViolation, event_of

    event = event_of(PolicyViolation, {"reason": "refused", "model_name": "m",
                                       "from_release": "a", "to_release": None,
                                       "event_type": "ignored"})
    assert event.model_name == "m" and event.extra == {"from_release": "a"}
    assert event.to_dict() == {"event_type": "policy_violation", "reason": "refused",
                               "model_name": "m", "from_release": "a"}


def test_a_builder_s_dataclass_gives_the_dict_literal_it_replaced() -> None:
    """The promotion's dict literal before the table, and its dataclass now: one event."""
    from governance.domain.event_table import DeploymentPromoted

    literal = {"event_type": "deployment_promoted", "release_id": "r-1", "model_name": "m",
               "model_version": "1", "environment": "prod", "release_digest": "sha256:" + "a" * 64,
               "policy_digest": "p", "decision": {"decision_id": "d", "allow": True},
               "evidence_refs": ["file://x"], "source": {"pr": 7}}
    typed = DeploymentPromoted(
        release_id="r-1", model_name="m", model_version="1", environment="prod",
        release_digest="sha256:" + "a" * 64, policy_digest="p", from_release=None,
        decision={"decision_id": "d", "allow": True}, evidence_refs=["file://x"],
        source={"pr": 7})
    assert canonical_bytes(typed.to_dict()) == canonical_bytes(literal)


# --- the names module's groupings are the table's ---------------------------------------------

def test_the_written_out_groupings_are_checked_against_the_table(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """governance.domain.event_types writes the groupings out (no dataclass at start-up); the
    table refuses to load when one of them says something its entries do not."""
    from governance.domain import event_table

    event_table._check_groupings()  # as shipped: consistent
    for name, wrong in (("EVENT_TYPES", event_table.EVENT_TYPES[:-1]),
                        ("CHECKPOINT_TYPES", event_table.CHECKPOINT_TYPES - {"ledger_genesis"}),
                        ("INDEX_HANDLER_OF", {**event_table.INDEX_HANDLER_OF,
                                              "release_retired": "goes_live"}),
                        ("REPLAY_RULE_OF", {**event_table.REPLAY_RULE_OF,
                                            "release_retired": "promoted"}),
                        ("LIFECYCLE_COMMAND_OF", {
                            k: v for k, v in event_table.LIFECYCLE_COMMAND_OF.items()
                            if k != "break_glass"})):
        with monkeypatch.context() as m:
            m.setattr(event_table, name, wrong)
            with pytest.raises(ImportError, match=name):
                event_table._check_groupings()
