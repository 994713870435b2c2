"""The query index: incremental catch-up, one pass, and refusal when the ledger is rewritten."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from governance.audit.index import AuditIndex, open_index
from governance.domain.source import IterableLedgerSource
from governance.errors import EXIT_NO, Tampered
from tests.support.histories import SyntheticLedger, generate_entries, rewrite


@pytest.fixture(scope="module")
def entries() -> list:
    return list(generate_entries(models=6, releases_per_model=5, seed=3))


def test_builds_everything_and_records_the_head(tmp_path: Path, entries: list) -> None:
    ledger = SyntheticLedger(entries)
    with AuditIndex(tmp_path / "i.sqlite") as index:
        done = index.catch_up(ledger)
        assert done.indexed == len(entries)
        assert done.head is not None
        assert (done.head.seq, done.head.commit, done.head.leaf_hash) == (
            entries[-1].seq,
            entries[-1].commit,
            entries[-1].leaf_hash,
        )
        rows = index.conn.execute(
            "SELECT seq, event_id, leaf_hash, stored FROM events ORDER BY seq"
        )
        assert [(r[0], r[1], r[2], bytes(r[3])) for r in rows] == [
            (e.seq, e.event_id, e.leaf_hash, e.stored) for e in entries
        ]


def test_catch_up_is_incremental_and_reads_nothing_when_current(
    tmp_path: Path, entries: list
) -> None:
    ledger = SyntheticLedger(entries[:100])
    with AuditIndex(tmp_path / "i.sqlite") as index:
        assert index.catch_up(ledger).indexed == 100
    ledger.items = list(entries)
    reads_before = ledger.reads
    with AuditIndex(tmp_path / "i.sqlite") as index:  # a later process
        assert index.catch_up(ledger).indexed == len(entries) - 100
        assert ledger.reads == reads_before + 1  # one pass
        assert index.catch_up(ledger).indexed == 0
        assert ledger.reads == reads_before + 1  # head unchanged: no read at all
        count = index.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        assert count == len(entries)


@pytest.mark.parametrize("at", [0, 37, 99])
def test_refuses_a_rewritten_ledger_and_names_the_seq(
    tmp_path: Path, entries: list, at: int
) -> None:
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries[:100]))
        forged = rewrite(entries, at, {"actor_id": "mallory"})
        with pytest.raises(Tampered) as info:
            index.catch_up(SyntheticLedger(forged))
        assert info.value.exit_code == EXIT_NO
        assert f"first divergence at seq {at} " in info.value.message
        # the index kept its copy: still at seq 99
        state = index.state()
        assert state is not None and state.seq == 99 and state.commit == entries[99].commit


def test_refuses_a_truncated_ledger(tmp_path: Path, entries: list) -> None:
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries[:100]))
        with pytest.raises(Tampered, match="first divergence at seq 60 "):
            index.catch_up(SyntheticLedger(entries[:60]))
        with pytest.raises(Tampered, match="ledger is empty"):
            index.catch_up(SyntheticLedger([]))


def test_refuses_a_gap(tmp_path: Path, entries: list) -> None:
    gappy = entries[:10] + entries[11:20]
    with AuditIndex(tmp_path / "i.sqlite") as index:
        with pytest.raises(Tampered, match="expected seq 10, got seq 11"):
            index.catch_up(SyntheticLedger(gappy))
        assert index.state() is None  # all or nothing
        assert index.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_iterable_adapter_over_a_whole_ledger_reader(tmp_path: Path, entries: list) -> None:
    source = IterableLedgerSource(lambda: iter(entries))
    index = open_index(tmp_path, source)
    try:
        assert (tmp_path / ".governance" / "index.sqlite").exists()
        assert index.catch_up(source).indexed == 0
    finally:
        index.close()


def test_uses_indexes_for_the_audit_questions(tmp_path: Path, entries: list) -> None:
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries))
        plan = " ".join(
            str(r)
            for r in index.conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM events WHERE model=? AND event_type=? AND ts>=?",
                ("fraud-risk", "approval_granted", 0),
            )
        )
        assert "USING INDEX events_model_type_ts" in plan


def test_a_timeline_is_read_in_seq_order_without_sorting(tmp_path: Path, entries: list) -> None:
    """history and status read a model's events by (model, seq): no temporary sort of
    thousands of rows on every query (issue 18), also on an index built before that index
    existed (created when the index is next opened)."""
    from governance.audit import queries

    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries))
        index.conn.execute("DROP INDEX events_model_seq")
    with AuditIndex(tmp_path / "i.sqlite") as index:
        plan = " ".join(str(r) for r in index.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT {queries._EVENT_COLUMNS} FROM events WHERE model = ? "
            "ORDER BY seq", ("fraud-risk",)))
        assert "USING INDEX events_model_seq" in plan and "TEMP B-TREE" not in plan


def test_old_schema_is_rebuilt(tmp_path: Path, entries: list) -> None:
    path = tmp_path / "i.sqlite"
    with AuditIndex(path) as index:
        index.catch_up(SyntheticLedger(entries[:50]))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with AuditIndex(path) as index:
        assert index.state() is None
        assert index.catch_up(SyntheticLedger(entries)).indexed == len(entries)


def test_an_unreadable_index_is_undecided_not_a_traceback(tmp_path: Path) -> None:
    from governance.errors import Undecided

    path = tmp_path / "i.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(Undecided, match="query index is unreadable") as info:
        AuditIndex(path)
    assert "to rebuild it" in info.value.hint


class _ChainedLedger(SyntheticLedger):
    """A ledger with a verified chain behind it (the ``VerifiedLedger`` port): ``confirm`` one
    seq, ``chain_rows`` many at once; ``chain_reads`` counts the chain queries."""

    def __init__(self, items: list, *, batched: bool = True) -> None:
        super().__init__(items)
        self.chain = {e.seq: (e.commit, e.leaf_hash) for e in items}
        self.chain_reads = 0
        if not batched:
            self.chain_rows = None  # type: ignore[assignment]

    def confirm(self, seq: int, leaf: str, commit: str) -> bool:
        self.chain_reads += 1
        return self.chain.get(seq) == (commit, leaf)

    def chain_rows(self, seqs: list[int]) -> dict[int, tuple[str, str]]:
        self.chain_reads += 1
        return {s: self.chain[s] for s in seqs if s in self.chain}


def _history(tmp_path: Path, ledger: SyntheticLedger, model: str) -> list:
    from governance.audit import queries

    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(ledger)
        return queries.history(index.conn, model)


def test_a_long_answer_is_confirmed_in_one_chain_read(tmp_path: Path, entries: list) -> None:
    """history's rows are checked against the verified chain in one batch (issue 18), with the
    same result as the row-by-row check."""
    model = next(e.event["model_name"] for e in entries if e.event.get("model_name"))
    batched = _ChainedLedger(entries)
    got = _history(tmp_path / "a", batched, model)
    assert len(got) > 5 and batched.chain_reads <= 2  # the catch-up's own check, the batch
    one_by_one = _ChainedLedger(entries, batched=False)
    assert _history(tmp_path / "b", one_by_one, model) == got
    assert one_by_one.chain_reads >= len(got)  # one query per row


@pytest.mark.parametrize("edit", [
    "UPDATE events SET actor_id = 'mallory' WHERE seq = {seq}",
    "UPDATE events SET release_id = 'no-such-release' WHERE seq = {seq}",
    "UPDATE events SET stored = CAST(replace(CAST(stored AS TEXT), 'model', 'modex') AS BLOB) "
    "WHERE seq = {seq}",
    "UPDATE events SET leaf_hash = '00' || substr(leaf_hash, 3) WHERE seq = {seq}",
    "UPDATE events SET event_type = 'break_glass' WHERE seq = {seq}",
    "UPDATE events SET timestamp = '2020-01-01T00:00:00Z' WHERE seq = {seq}",
    "UPDATE events SET incident = '' WHERE seq = {seq}",
    "UPDATE events SET incident = 'INC-1' WHERE seq = {seq}",
])
def test_an_edited_row_of_a_long_answer_is_detected(tmp_path: Path, entries: list,
                                                    edit: str) -> None:
    from governance.audit import queries
    from governance.audit.index import IndexMismatch

    model = next(e.event["model_name"] for e in entries if e.event.get("model_name"))
    mine = [e for e in entries if e.event.get("model_name") == model]
    seq = mine[len(mine) // 2].seq
    ledger = _ChainedLedger(entries)
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(ledger)
        assert index.conn.execute(edit.format(seq=seq)).rowcount == 1
        with pytest.raises(IndexMismatch, match=f"seq {seq}"):
            queries.history(index.conn, model)


def test_a_row_the_chain_does_not_hold_is_detected(tmp_path: Path, entries: list) -> None:
    from governance.audit import queries
    from governance.audit.index import IndexMismatch

    model = next(e.event["model_name"] for e in entries if e.event.get("model_name"))
    ledger = _ChainedLedger(entries)
    last = max(e.seq for e in entries if e.event.get("model_name") == model)
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(ledger)
        del ledger.chain[last]
        with pytest.raises(IndexMismatch, match=f"seq {last}"):
            queries.history(index.conn, model)


def test_an_edited_time_column_cannot_add_an_event_to_a_period(tmp_path: Path,
                                                                entries: list) -> None:
    """``audit query --since/--until`` selects on the ``ts`` column, which the row check does not
    read: an event moved into a period by its ``ts`` is refused by its verified timestamp."""
    from governance.audit import queries
    from governance.audit.index import IndexMismatch
    from governance.timeparse import parse_instant

    first, last = entries[1], entries[-1]
    since = parse_instant(last.timestamp)
    ledger = _ChainedLedger(entries)
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(ledger)
        honest = queries.audit_query(index.conn, queries.AuditFilter(since=since))
        assert first.seq not in [e.seq for e in honest]
        index.conn.execute("UPDATE events SET ts = (SELECT ts FROM events WHERE seq = ?) "
                           "WHERE seq = ?", (last.seq, first.seq))
        with pytest.raises(IndexMismatch, match=f"seq {first.seq}"):
            queries.audit_query(index.conn, queries.AuditFilter(since=since))


def test_the_fast_decode_reads_and_refuses_what_the_full_decode_does() -> None:
    import json

    from governance.audit.index import _decode

    for text in ('{"a":1,"b":[1,2]}', ' {"a":1} ', '{"a":1}\n', '"x"'):
        assert _decode(text) == json.loads(text)
    for bad in ('{"a":1} x', '{"a":1}{"b":2}', "", '{"a":'):
        with pytest.raises(ValueError):
            _decode(bad)


def test_a_stored_event_answers_like_its_parsed_event() -> None:
    """``StoredEvent`` (an event parsed on first use) answers every key as the parsed event
    does, the keys it answers without parsing included: a key inside a nested object or a
    string that spells a key does not make a top-level key appear, and one that is there is
    always found."""
    import json

    from governance.audit.index import StoredEvent
    from governance.ledger.canonical import canonical_bytes

    events = [
        {"event_type": "gate_evaluated", "decision": {"allow": True, "reason": "nested"}},
        {"event_type": "x", "note": 'a "reason": inside a string', "reason": "top"},
        {"event_type": "x", "note": 'quoted "reason": only'},
        {"event_type": "x", "reason": "", "zero": 0, "none": None, "é": "non-ascii key"},
    ]
    for event in events:
        stored = canonical_bytes(event)
        for key in ("reason", "decision", "missing", "event_type", "none", "é", "no such"):
            fresh = StoredEvent(stored)
            assert fresh.get(key, "default") == event.get(key, "default"), (event, key)
            assert (key in StoredEvent(stored)) == (key in event), (event, key)
        parsed = StoredEvent(stored)
        assert parsed == event and event == parsed and dict(parsed) == event
        assert json.loads(json.dumps(dict(parsed))) == event
        assert len(parsed) == len(event) and list(parsed) == list(json.loads(stored))


@pytest.mark.parametrize(("held", "answered", "reason"), [
    ([1, 2, 3], [1, 3], "lacks the event at seq 2"),  # a deleted row, or moved out
    ([1, 2, 3], [1, 2], "lacks the event at seq 3"),
    ([1, 3], [1, 2, 3], "includes the event at seq 2"),  # a row moved into the question
    ([1, 2], [1, 2, 7], "includes the event at seq 7"),
    ([1, 2, 3], [1, 2, 4], "lacks the event at seq 3"),  # a limit: the first difference
    ([4], [], "lacks the event at seq 4"),
])
def test_an_answer_must_hold_the_seqs_the_chain_holds(held: list[int], answered: list[int],
                                                       reason: str) -> None:
    from governance.audit.index import IndexMismatch, complete

    conn = sqlite3.connect(":memory:")
    complete(conn, held, list(held))
    with pytest.raises(IndexMismatch, match=reason):
        complete(conn, held, answered)


class _ChainFileLedger(_ChainedLedger):
    """``_ChainedLedger`` with a real verified-chain file (``governance.ledger.verified``'s
    schema and columns) holding ``chain_items``: the index attaches it as the CLI does."""

    def __init__(self, items: list, chain_items: list, path: Path) -> None:
        from governance.ledger.columns import chain_columns
        from governance.ledger.verified import _schema

        super().__init__(items)
        self.chain_location = path
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
            _schema(conn)
            conn.executemany("INSERT INTO chain VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                (e.seq, e.commit, e.leaf_hash, e.event_id, *chain_columns(e.event))
                for e in chain_items])


def test_events_verified_after_the_index_caught_up_are_not_a_mismatch(
        tmp_path: Path, entries: list) -> None:
    """Another process may verify newer events while this one answers from the index it caught
    up: the completeness check reads the chain only up to the index's head. A row deleted from
    the index is still a mismatch (the check is live on this path)."""
    from governance.audit import queries
    from governance.audit.index import IndexMismatch

    last = entries[-1]
    model = last.event["model_name"]
    assert isinstance(model, str) and model
    ledger = _ChainFileLedger(entries[:-1], entries, tmp_path / "chain.sqlite")
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(ledger)
        assert index.conn.chain == "temp"
        got = [e.seq for e in queries.history(index.conn, model)]
        assert got == [e.seq for e in entries[:-1] if e.event.get("model_name") == model]
        gone = got[len(got) // 2]
        index.conn.execute("DELETE FROM events WHERE seq = ?", (gone,))
        with pytest.raises(IndexMismatch, match=f"lacks the event at seq {gone}"):
            queries.history(index.conn, model)
