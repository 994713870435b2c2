"""``history`` as text (``timeline_lines``) is ``history``'s events' one-line summaries, for
every model of a generated history (rollbacks, break-glass, denials, retirements included), and
``top_level`` finds an event's top-level value as parsing it does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.audit import queries as q
from governance.audit.index import AuditIndex
from governance.errors import NotFound
from tests.support.histories import SyntheticLedger, generate_entries


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    entries = list(generate_entries(models=6, releases_per_model=8, seed=29))
    index = AuditIndex(tmp_path_factory.mktemp("ix") / "i.sqlite")
    index.catch_up(SyntheticLedger(entries))
    yield index.conn
    index.close()


def test_the_timeline_lines_are_the_history_s_summaries(conn: Any) -> None:
    """Without the verified chain attached (a synthetic source) ``timeline_lines`` takes
    ``history``'s path; the lines are its events' summaries, in its order."""
    models = [m for (m,) in conn.execute("SELECT DISTINCT model FROM events "
                                         "WHERE model IS NOT NULL ORDER BY model")]
    for model in models:
        assert q.timeline_lines(conn, model) == [
            q.TIMELINE_LINE % (e.seq, e.timestamp, e.event_type, q.summary(e))
            for e in q.history(conn, model)]
    with pytest.raises(NotFound, match="unknown model 'no-such-model'"):
        q.timeline_lines(conn, "no-such-model")


def _canonical(value: Any, ascii_only: bool = False) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=ascii_only).encode()


# Events whose "reason" or "decision" is hard to find without parsing: nested under another key
# first, inside a string, after escapes, non-ASCII text, braces and brackets in strings, a key
# that ends in an escaped quote followed by the key's own name, values of every JSON type.
_TRICKY: list[dict[str, Any]] = [
    {"actor_id": "ci", "decision": {"allow": True, "decision_id": "d1"}},
    {"actor_id": "ci", "decision": {"allow": False, "blocking": False}},
    {"actor_id": "ci", "decision": {"allow": True, "warnings": ["w1", "w2"]}},
    {"actor_id": "ci", "decision": "deny"},
    {"actor_id": "ci", "decision": None, "reason": ""},
    {"a": {"decision": {"allow": False}}, "actor_id": "ci"},
    {"a": {"decision": {"allow": False}}, "decision": {"allow": True}},
    {"a": "\"decision\":{\"allow\":false}", "decision": {"allow": True}},
    {"a": "\"decision\":{\"allow\":false}"},
    {"a\"decision": {"allow": False}, "decision": {"allow": True}},
    {"a\\": 1, "decision": {"allow": True}},
    {"a": "{[}]", "decision": {"allow": False}, "reason": "r"},
    {"a": "ünï", "b": 1.5e300, "c": -2, "d": True, "e": None, "decision": {"allow": False},
     "reason": "a {reason} with \"quotes\" and \\ and ü"},
    {"context": {"reason": "nested only"}, "event_type": "rollback_executed"},
    {"context": ["reason", {"reason": "nested"}], "reason": "top"},
    {"reason": ["not", "a", "string"]},
    {"reason": 12, "z": {"decision": True}},
    {"prev": "x", "reason": "rollback for INC-1: latency \u2028 regression"},
]


@pytest.mark.parametrize("event", _TRICKY)
def test_a_top_level_value_is_the_parsed_event_s(event: dict[str, Any]) -> None:
    for stored in (_canonical(event), _canonical(event, ascii_only=True)):
        for key in ("decision", "reason", "absent"):
            assert q.top_level(stored, f'"{key}":'.encode()) == event.get(key), (key, stored)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["a", "actor_id", "decision", "reason", "z", "a\"decision", "ü"]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8)
                 | st.sampled_from(['"decision":', '"reason":', "{", "]", "\\"]),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["decision", "reason", "x"]), inner,
                                   max_size=3),
                 max_leaves=6)))
def test_any_top_level_value_is_the_parsed_event_s(event: dict[str, Any]) -> None:
    for stored in (_canonical(event), _canonical(event, ascii_only=True)):
        for key in ("decision", "reason"):
            assert q.top_level(stored, f'"{key}":'.encode()) == event.get(key)
