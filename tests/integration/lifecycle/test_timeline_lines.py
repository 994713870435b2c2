"""``history`` as text (``queries.timeline_lines``: the columns the text shows, checked in SQL
against the verified chain, each stored event hashed to its leaf, the answer complete, only the
values a summary needs parsed) prints what the events ``history --format json`` answers with
would print (``queries.history`` and ``queries.summary``), on a real ledger with the verified
chain attached: gates that allowed and denied, approvals, promotions, a rollback with a reason
and an incident."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from governance.audit import queries
from governance.audit.index import select_agreeing, select_timeline
from governance.service import Service
from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World


@pytest.fixture(scope="module")
def story(approved_template: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    world = approved_template.copy(tmp_path_factory.mktemp("lines") / "world")
    world.run("alice", "promote", R2, "--env", "staging", expect=1)  # a denied gate
    world.run(BOT, "promote", R2, "--env", "staging")
    world.run(BOT, "promote", R2, "--env", "production")
    world.run("platform-oncall", "rollback", MODEL, "--env", "production", "--to", R1,
              "--reason", 'latency {p95} "doubled" \\ after r2', "--incident", "INC-7")
    return world


def test_the_text_timeline_is_the_events_summaries(story: World) -> None:
    def both(conn: sqlite3.Connection) -> tuple[object, object, object]:
        assert getattr(conn, "chain", None) is not None  # the lean path, not the fallback
        rows = select_agreeing(conn, "seq", "WHERE model = ? ORDER BY seq", (MODEL,))
        full = [queries.TIMELINE_LINE % (e.seq, e.timestamp, e.event_type, queries.summary(e))
                for e in queries.history(conn, MODEL)]
        return rows, queries.timeline_lines(conn, MODEL), full

    rows, lean, full = Service(story.ci).answer(both)
    assert rows is not None and len(rows) == len(full)
    assert lean == full
    text = "\n".join(lean)
    assert 'latency {p95} "doubled" \\ after r2' in text and "[incident INC-7]" in text
    assert ": deny" in text and ": allow" in text


def test_the_text_is_what_the_json_events_print(story: World) -> None:
    text = story.run(None, "history", MODEL).stdout.splitlines()
    events = story.json(None, "history", MODEL, "--format", "json")
    assert [int(line.split()[0]) for line in text] == [e["seq"] for e in events]
    for line, event in zip(text, events, strict=True):
        assert line.split()[1:3] == [event["timestamp"], event["event_type"]]


def test_a_disagreeing_row_takes_the_checked_path(story: World, tmp_path: Path) -> None:
    """An index row the chain does not hold makes ``select_agreeing`` answer None (the caller
    then names the row and the index is rebuilt), and the printed timeline stays the true
    one."""
    world = story.copy(tmp_path / "world")
    before = world.run(None, "history", MODEL).stdout
    with sqlite3.connect(world.ci / ".governance" / "index.sqlite") as conn:
        conn.execute("UPDATE events SET actor_id = 'mallory' WHERE seq = (SELECT max(seq) "
                     "FROM events WHERE event_type = 'approval_granted')")
    done = world.run(None, "history", MODEL)
    assert done.stdout == before and "mallory" not in done.stdout
    assert "the query index was rebuilt" in done.stderr


# Edits an insider with write access to the index file could make to the rows ``history``
# prints, one per printed column, the stored bytes, the leaf and the answer's membership; each
# is made on an event of the model that is not the index's last (whose check at catch-up would
# rebuild the index before the question is asked).
_PROMOTION = ("(SELECT min(seq) FROM events WHERE model = 'fraud-risk' "
              "AND event_type = 'deployment_promoted')")
_EDITS = {
    **{column: f"UPDATE events SET {column} = 'forged' WHERE seq = {_PROMOTION}"
       for column in ("timestamp", "event_type", "release_id", "environment", "actor_id",
                      "actor_role", "incident", "from_release", "to_release")},
    "seq": f"UPDATE events SET seq = 1000000 WHERE seq = {_PROMOTION}",
    "stored": "UPDATE events SET stored = CAST(replace(CAST(stored AS TEXT), 'staging', "
              f"'stagimg') AS BLOB) WHERE seq = {_PROMOTION}",
    "stored as text": f"UPDATE events SET stored = CAST(stored AS TEXT) WHERE seq = {_PROMOTION}",
    "leaf": f"UPDATE events SET leaf_hash = 'ab' || substr(leaf_hash, 3) WHERE seq = {_PROMOTION}",
    "deleted": f"DELETE FROM events WHERE seq = {_PROMOTION}",
    "added": "INSERT INTO events SELECT 1000000, 'forged', event_type, ts, timestamp, model, "
             "release_id, environment, actor_id, actor_role, incident, from_release, "
             f"to_release, leaf_hash, commit_sha, checkpoint, stored FROM events "
             f"WHERE seq = {_PROMOTION}",
}


@pytest.mark.parametrize("edit", sorted(_EDITS))
def test_an_edited_index_row_is_never_printed(story: World, tmp_path: Path, edit: str) -> None:
    """Each edit of a printed column, the stored bytes or leaf, or the rows of the answer makes
    the SQL-written lines (``select_timeline``) refuse the answer; ``history`` then takes the
    checked path, names the row, rebuilds the index and prints the true timeline."""
    world = story.copy(tmp_path / "world")
    before = world.run(None, "history", MODEL).stdout
    with sqlite3.connect(world.ci / ".governance" / "index.sqlite") as conn:
        assert conn.execute(_EDITS[edit]).rowcount == 1

    def lean(conn: sqlite3.Connection) -> object:
        assert getattr(conn, "chain", None) is not None
        return select_timeline(conn, queries._TIMELINE_SQL, MODEL, b'"reason":')

    assert Service(world.ci).answer(lean) is None
    done = world.run(None, "history", MODEL)
    assert done.stdout == before and "forged" not in done.stdout
    assert "stagimg" not in done.stdout
    assert "the query index was rebuilt" in done.stderr


def test_the_lean_lines_are_checked_rows(story: World) -> None:
    """On an untouched index the SQL-written lines are taken: one per event of the model, the
    lines the events with a ``reason`` (the rollback) and other decision shapes written in
    Python in their place."""
    def lean(conn: sqlite3.Connection) -> object:
        return select_timeline(conn, queries._TIMELINE_SQL, MODEL, b'"reason":')

    checked = Service(story.ci).answer(lean)
    assert checked is not None
    lines, others = checked
    assert all(type(line) is str for line in lines)  # each line SQL's
    rollback = [k for k, line in enumerate(lines) if "rolled back" in line]
    assert [k for k, _ in others] == rollback  # the reason is Python's
    assert lines[rollback[0]].split()[0] == str(others[0][1])
    assert Service(story.ci).answer(lambda conn: queries.timeline_lines(conn, MODEL)) == [
        queries.TIMELINE_LINE % (e.seq, e.timestamp, e.event_type, queries.summary(e))
        for e in Service(story.ci).answer(lambda conn: queries.history(conn, MODEL))]


def test_a_replaced_index_cannot_show_an_event_twice_for_a_hidden_one(
        story: World, tmp_path: Path) -> None:
    """A replaced index file whose ``events`` has no key (and a plain index under the unique
    one's name) can hold one verified row twice in place of another: every row agrees with
    the chain's row at its seq and the count is the chain's. Seqs must be distinct too: the
    answer is refused, the index rebuilt, and every format prints the true timeline."""
    world = story.copy(tmp_path / "world")
    truth = {fmt: world.run(None, "history", MODEL, "--format", fmt).stdout
             for fmt in ("text", "json", "csv")}
    with sqlite3.connect(world.ci / ".governance" / "index.sqlite") as conn:
        hidden, shown = conn.execute(
            "SELECT seq FROM events WHERE model = ? ORDER BY seq LIMIT 2 OFFSET 3",
            (MODEL,)).fetchall()
        conn.executescript(f"""
            CREATE TABLE copied AS SELECT * FROM events WHERE 0;
            INSERT INTO copied SELECT * FROM events;
            DELETE FROM copied WHERE seq = {hidden[0]};
            INSERT INTO copied SELECT * FROM events WHERE seq = {shown[0]};
            DROP TABLE events;
            ALTER TABLE copied RENAME TO events;
            CREATE INDEX events_event_id ON events(event_id);
            CREATE INDEX events_model_seq ON events(model, seq);
        """)

    def lean(conn: sqlite3.Connection) -> object:
        return select_timeline(conn, queries._TIMELINE_SQL, MODEL, b'"reason":')

    assert Service(world.ci).answer(lean) is None
    done = world.run(None, "history", MODEL)
    assert done.stdout == truth["text"] and "the query index was rebuilt" in done.stderr
    assert f"\n{hidden[0]:8d}  " in done.stdout
    assert world.run(None, "history", MODEL, "--format", "csv").stdout == truth["csv"]
    # (JSON carries each event's checkpoint, which a rebuilt index may know better)
    events = json.loads(world.run(None, "history", MODEL, "--format", "json").stdout)
    assert [(e["seq"], e["event_id"]) for e in events] == [
        (e["seq"], e["event_id"]) for e in json.loads(truth["json"])]


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_a_replaced_index_holding_a_seq_as_text_is_refused(
        story: World, tmp_path: Path, fmt: str) -> None:
    """A replaced index file whose ``events`` has no column types can hold a seq as text: equal
    to the chain's integer under SQLite's comparison rules, but sorted after every number and
    not a number to print (text: an internal error; JSON and CSV: the event out of order). The
    row does not agree with the chain: the index is rebuilt and the true timeline printed."""
    world = story.copy(tmp_path / "world")
    truth = world.run(None, "history", MODEL, "--format", fmt).stdout
    with sqlite3.connect(world.ci / ".governance" / "index.sqlite") as conn:
        (seq,), = conn.execute("SELECT seq FROM events WHERE model = ? ORDER BY seq "
                               "LIMIT 1 OFFSET 3", (MODEL,)).fetchall()
        columns = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(events)"))
        conn.executescript(f"""
            CREATE TABLE copied ({columns});
            INSERT INTO copied SELECT * FROM events;
            UPDATE copied SET seq = '{seq}' WHERE seq = {seq};
            DROP TABLE events;
            ALTER TABLE copied RENAME TO events;
            CREATE INDEX events_model_seq ON events(model, seq);
        """)
        assert conn.execute("SELECT count(*) FROM events WHERE typeof(seq) = 'text'"
                            ).fetchone() == (1,)
    done = world.run(None, "history", MODEL, "--format", fmt)
    assert "the query index was rebuilt" in done.stderr
    if fmt == "json":  # (each event's checkpoint, which a rebuilt index may know better)
        assert [(e["seq"], e["event_id"]) for e in json.loads(done.stdout)] == [
            (e["seq"], e["event_id"]) for e in json.loads(truth)]
    else:
        assert done.stdout == truth
