"""The verified chain answers each completeness question through an index (issue 13 item 4,
issue 18): every answer asks the chain the question it asked the query index, so a question
the chain can answer only by a full scan costs a whole-chain read per query (it did: 235 ms
median for one `live` at 1,000,000 events, the release's gate events looked up by scan)."""

from __future__ import annotations

import sqlite3

import pytest

from governance.ledger.verified import _schema

# The shapes of the chain questions governance.audit.queries asks (one per filter the index
# has an index for), each with its parameters.
QUESTIONS = [
    ("SELECT seq FROM chain WHERE release_id = ? AND event_type = ? AND ts <= ? ORDER BY seq",
     ("r1", "gate_evaluated", 1)),
    ("SELECT seq FROM chain WHERE model = ? ORDER BY seq", ("m",)),
    ("SELECT seq FROM chain WHERE model = ? AND event_type = ? AND ts >= ? ORDER BY seq",
     ("m", "approval_granted", 1)),
    ("SELECT seq FROM chain WHERE event_type = ? AND ts >= ? ORDER BY seq",
     ("rollback_executed", 1)),
    ("SELECT seq FROM chain WHERE actor_id = ? AND ts >= ? ORDER BY seq", ("jane", 1)),
    ("SELECT seq FROM chain WHERE incident = ? ORDER BY seq", ("INC-1",)),
    ("SELECT seq FROM chain WHERE from_release = ? ORDER BY seq", ("r1",)),
    ("SELECT seq FROM chain WHERE to_release = ? ORDER BY seq", ("r1",)),
    ("SELECT max(seq) FROM chain WHERE live = 1 AND model = ? AND environment = ? AND ts <= ?",
     ("m", "production", 1)),
]


@pytest.mark.parametrize(("sql", "args"), QUESTIONS)
def test_a_chain_question_does_not_scan_the_chain(sql: str, args: tuple[object, ...]) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _schema(conn)
    plan = " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
    assert "USING" in plan and not plan.startswith("SCAN chain"), plan


def test_the_check_can_fail() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _schema(conn)
    plan = " | ".join(str(row[3]) for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT seq FROM chain WHERE leaf = ?", ("x",)))
    assert plan.startswith("SCAN chain")
