"""A timeline line written by SQLite (``queries._TIMELINE_SQL``, what ``history`` prints as
text) is the line Python writes (``TIMELINE_LINE`` with ``_summary``'s text) for every row
SQLite writes, and SQLite writes the usual rows: every event type, identifiers absent, empty,
with spaces, underscores, non-ASCII and NUL characters, the decision shapes of the
``_sql_words`` table; a row it leaves (NULL) goes to Python (a decision of another shape, a
NUL in the event type or timestamp). An event's ``reason`` is always Python's (the caller
sends those rows there), so the rows here carry none."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from governance.audit import queries as q
from governance.domain.event_types import EVENT_TYPES, GATE_EVALUATED
from governance.ledger.canonical import canonical_bytes

_COLUMNS = ("seq", "timestamp", "event_type", "release_id", "environment", "actor_id",
            "actor_role", "incident", "from_release", "to_release", "stored")


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, "
               "event_type TEXT NOT NULL, release_id TEXT, environment TEXT, actor_id TEXT, "
               "actor_role TEXT, incident TEXT, from_release TEXT, to_release TEXT, "
               "stored BLOB NOT NULL)")
    yield db
    db.close()


def _sql_line(conn: sqlite3.Connection, row: tuple[Any, ...]) -> str | None:
    conn.execute("DELETE FROM events")
    conn.execute(f"INSERT INTO events VALUES ({','.join('?' * len(_COLUMNS))})", row)
    value = conn.execute(f"SELECT {q._TIMELINE_SQL} FROM events e").fetchone()[0]
    assert value is None or type(value) is str
    return value


def _python_line(row: tuple[Any, ...]) -> str:
    event = json.loads(row[-1])
    kind = row[2]
    return q.TIMELINE_LINE % (row[0], row[1], kind, q._summary(
        kind, *row[3:10], event.get("reason"),
        event.get("decision") if kind == GATE_EVALUATED else None))


# Identifiers as the chain holds them (a non-empty string or NULL) and the empty string
# (Python's truthiness), with the characters that could trip SQL: quotes, underscores, runs of
# spaces, non-ASCII, controls, NUL (no surrogates: SQLite text is UTF-8).
_CHARS = st.characters(blacklist_categories=("Cs",))
_IDENT = st.one_of(st.none(), st.just(""), st.sampled_from(["r1", "staging", "a  b", "x_y",
                                                             "ünï", "'q'", "a\x00b"]),
                   st.text(_CHARS, max_size=8))
_KIND = st.one_of(st.sampled_from(sorted(EVENT_TYPES)),
                  st.sampled_from(["a_b", "x" * 25, "é_ü_ñ", "a__b", "_", "a\x00b"]),
                  st.text(_CHARS, min_size=1, max_size=22))
_ABSENT = object()
_DECISION = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.lists(st.booleans(), max_size=2),
    st.fixed_dictionaries({}, optional={
        "allow": st.sampled_from([True, False, None, 1, 0, "yes"]),
        "blocking": st.sampled_from([True, False, None, 0]),
        "warnings": st.one_of(st.none(), st.just([]), st.lists(st.text(max_size=3),
                                                               min_size=1, max_size=3),
                              st.just("w")),
        "result": st.sampled_from(["", "pending", 3]),
        "decision_id": st.text(max_size=5),
    }),
    st.just(_ABSENT))


def _row(seq: int, timestamp: str, kind: str, idents: list[str | None],
         decision: object) -> tuple[Any, ...]:
    event: dict[str, Any] = {"event_type": kind}
    if decision is not _ABSENT:
        event["decision"] = decision
    return (seq, timestamp, kind, *idents, canonical_bytes(event))


@settings(max_examples=400, deadline=None)
@given(seq=st.integers(0, 10**12),
       timestamp=st.one_of(st.just("2026-04-10T09:14:11Z"), st.text(_CHARS, max_size=6)),
       kind=_KIND, idents=st.lists(_IDENT, min_size=7, max_size=7), decision=_DECISION)
@example(seq=5, timestamp="2026-04-10T09:14:11Z", kind="deployment_promoted",
         idents=[None, None, None, None, None, None, None], decision=_ABSENT)
@example(seq=5, timestamp="2026-04-10T09:14:11Z", kind="break_glass",
         idents=["", "prod", "", "", "INC-1", "r0", "r1"], decision=_ABSENT)
@example(seq=5, timestamp="t", kind="rollback_executed",
         idents=[None, "prod", "oncall", "on_call", None, None, None], decision=_ABSENT)
@example(seq=5, timestamp="t", kind="release_retired",
         idents=["", "", "a", "", "", "", ""], decision=_ABSENT)
def test_sql_writes_the_line_python_writes(conn: sqlite3.Connection, seq: int, timestamp: str,
                                           kind: str, idents: list[str | None],
                                           decision: object) -> None:
    row = _row(seq, timestamp, kind, idents, decision)
    line = _sql_line(conn, row)
    if line is not None:
        assert line == _python_line(row)
        return
    # Left to Python only for what the SQL does not write: a NUL in the type or timestamp,
    # a gate decision outside the ``_sql_words`` table.
    usual = (isinstance(decision, dict) and type(decision.get("allow")) is bool
             and type(decision.get("blocking")) in (bool, type(None))
             and decision.get("warnings") in (None, []))
    assert "\x00" in kind or "\x00" in timestamp or (kind == GATE_EVALUATED and not usual)


@pytest.mark.parametrize("decision", [
    {"allow": True}, {"allow": False}, {"allow": False, "blocking": False},
    {"allow": True, "warnings": []}, {"allow": False, "blocking": True, "warnings": None},
    {"allow": True, "decision_id": "d-1", "engine": {"name": "regopy"}, "failures": []},
])
def test_the_usual_gate_decisions_are_written_in_sql(conn: sqlite3.Connection,
                                                     decision: dict[str, Any]) -> None:
    row = _row(7, "2026-04-10T09:14:11Z", GATE_EVALUATED,
               ["r1", "staging", "governance-ci", None, None, None, None], decision)
    assert _sql_line(conn, row) == _python_line(row)
    assert _python_line(row).endswith(("allow", "deny", "now)"))


@pytest.mark.parametrize("decision", [
    {"allow": True, "warnings": ["w"]}, {"result": "pending"}, {"allow": 1}, "allow",
])
def test_other_gate_decisions_are_left_to_python(conn: sqlite3.Connection,
                                                 decision: object) -> None:
    row = _row(7, "2026-04-10T09:14:11Z", GATE_EVALUATED, [None] * 7, decision)
    assert _sql_line(conn, row) is None
