"""PostgreSQL sink on a real server: append-only, idempotent, resumable, verifiable."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from governance.errors import Tampered, Undecided
from governance.sinks.export import cursor_path, export, load_cursor, verify
from governance.sinks.postgres import TABLE, PostgresSink
from tests.support.histories import SyntheticLedger, generate_entries

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def entries() -> list:
    return list(generate_entries(models=8, releases_per_model=6, seed=5))


def test_export_then_verify_clean(tmp_path: Path, pg_db, entries) -> None:  # type: ignore[no-untyped-def]
    ledger = SyntheticLedger(entries)
    sink = PostgresSink(pg_db.writer_dsn)
    result = export(tmp_path, ledger, sink, batch=300)
    assert result.exported == len(entries) == result.sent
    report = verify(tmp_path, ledger, sink)
    assert report.ok, report.to_json()
    assert report.sink_rows == len(entries)
    with psycopg.connect(pg_db.admin_dsn) as conn:
        row = conn.execute(
            f"SELECT seq, event_id, leaf_hash, stored, ledger_commit, checkpoint FROM {TABLE} "
            "WHERE seq = 150"
        ).fetchone()
    e = entries[150]
    assert row == (150, e.event_id, e.leaf_hash, e.stored, e.commit, e.checkpoint)
    sink.close()


def test_idempotent_without_cursor_and_incremental(tmp_path: Path, pg_db, entries) -> None:  # type: ignore[no-untyped-def]
    sink = PostgresSink(pg_db.writer_dsn)
    export(tmp_path, SyntheticLedger(entries[:200]), sink)
    cursor_path(tmp_path, "postgres").unlink()  # lose the cursor: re-send everything
    again = export(tmp_path, SyntheticLedger(entries[:250]), sink)
    assert (again.sent, again.exported) == (250, 50)
    more = export(tmp_path, SyntheticLedger(entries), sink)
    assert (more.sent, more.exported) == (len(entries) - 250, len(entries) - 250)
    assert export(tmp_path, SyntheticLedger(entries), sink).sent == 0
    sink.close()


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET event_type = 'x' WHERE seq = 1",
        f"DELETE FROM {TABLE} WHERE seq = 1",
        f"TRUNCATE {TABLE}",
    ],
)
def test_writer_cannot_change_rows(tmp_path: Path, pg_db, entries, statement: str) -> None:  # type: ignore[no-untyped-def]
    sink = PostgresSink(pg_db.writer_dsn)
    export(tmp_path, SyntheticLedger(entries[:20]), sink)
    sink.close()
    with psycopg.connect(pg_db.writer_dsn) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET event_type = 'x' WHERE seq = 1",
        f"DELETE FROM {TABLE} WHERE seq = 1",
        f"TRUNCATE {TABLE}",
    ],
)
def test_triggers_stop_even_the_owner(tmp_path: Path, pg_db, entries, statement: str) -> None:  # type: ignore[no-untyped-def]
    sink = PostgresSink(pg_db.writer_dsn)
    export(tmp_path, SyntheticLedger(entries[:20]), sink)
    sink.close()
    with psycopg.connect(pg_db.admin_dsn) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)


def test_superuser_edit_with_triggers_disabled_is_caught(tmp_path: Path, pg_db, entries) -> None:  # type: ignore[no-untyped-def]
    ledger = SyntheticLedger(entries)
    sink = PostgresSink(pg_db.writer_dsn)
    export(tmp_path, ledger, sink)
    forged = entries[42].stored.replace(b'"actor_id":"', b'"actor_id":"x', 1)
    with psycopg.connect(pg_db.admin_dsn) as conn:
        conn.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        # rewrite the bytes AND the hash column so the row is self-consistent
        conn.execute(
            f"UPDATE {TABLE} SET stored = %s, leaf_hash = encode(sha256('\\x00'::bytea || %s), "
            "'hex') WHERE seq = 42",
            (forged, forged),
        )
        conn.execute(f"DELETE FROM {TABLE} WHERE seq = 77")
        conn.execute(
            f"INSERT INTO {TABLE} (seq, event_id, event_type, event_time, leaf_hash, stored, "
            "ledger_commit) VALUES (100000, 'bogus', 'approval_granted', now(), repeat('a', 64), "
            "'\\x7b7d', 'c')"
        )
        conn.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    report = verify(tmp_path, ledger, sink)
    assert not report.ok
    assert [f.seq for f in report.modified] == [42]
    assert "the ledger's leaf is" in report.modified[0].problem
    assert [f.seq for f in report.missing] == [77]
    assert [f.event_id for f in report.extra] == ["bogus"]
    # and re-exporting refuses to paper over the edit
    cursor_path(tmp_path, "postgres").unlink()
    with pytest.raises(Tampered, match="seq 42"):
        export(tmp_path, ledger, sink)
    sink.close()


def test_outage_mid_export_loses_nothing(tmp_path: Path, pg_db, entries) -> None:  # type: ignore[no-untyped-def]
    ledger = SyntheticLedger(entries)
    sink = PostgresSink(pg_db.writer_dsn)
    stopped = threading.Event()
    writes = 0
    real_write = sink.write

    def write_then_stop(rows):  # type: ignore[no-untyped-def]
        nonlocal writes
        writes += 1
        if writes == 3 and not stopped.is_set():
            pg_db.server.stop("immediate")  # the server dies between batches
            stopped.set()
        return real_write(rows)

    sink.write = write_then_stop  # type: ignore[method-assign]
    with pytest.raises(Undecided, match="unavailable|failed mid-export"):
        export(tmp_path, ledger, sink, batch=100)
    cursor = load_cursor(cursor_path(tmp_path, "postgres"), sink.destination())
    assert cursor is not None and cursor.seq == 199  # two batches confirmed
    pg_db.server.start()
    sink.write = real_write  # type: ignore[method-assign]
    resumed = export(tmp_path, ledger, sink, batch=100)
    assert resumed.sent == len(entries) - 200
    report = verify(tmp_path, ledger, sink)
    assert report.ok and report.sink_rows == len(entries)
    sink.close()


def test_pending_vs_missing(tmp_path: Path, pg_db, entries) -> None:  # type: ignore[no-untyped-def]
    sink = PostgresSink(pg_db.writer_dsn)
    export(tmp_path, SyntheticLedger(entries[:100]), sink)
    report = verify(tmp_path, SyntheticLedger(entries), sink)
    assert report.ok and report.pending == len(entries) - 100 and not report.missing
    sink.close()


def test_unreachable_server_is_undecided(tmp_path: Path, entries) -> None:  # type: ignore[no-untyped-def]
    sink = PostgresSink("host=127.0.0.1 port=1 dbname=x user=y connect_timeout=2")
    with pytest.raises(Undecided, match="unavailable"):
        export(tmp_path, SyntheticLedger(entries[:5]), sink)
