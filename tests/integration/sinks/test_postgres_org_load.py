"""The organisation export's load path made cheaper without accepting anything it refused
before (real PostgreSQL): the leaf_hash rule in its cheap form accepts exactly the texts the
regular expression accepted, sink-init upgrades a table made with the old rule, and the event
time of a ledger timestamp is the one the strict RFC 3339 parser gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import psycopg
import pytest

from governance.errors import ConfigurationError, Tampered
from governance.sinks.postgres_org import (
    C_COLLATED,
    EVENTS,
    LEAF_HEX_CHECK,
    NO_DEDUP_INDEXES,
    _event_time,
    export_origin,
    install_org_schema,
)
from governance.timeparse import parse_instant
from tests.support.org import SyntheticOrigin, make_origin
from tests.support.postgres import WRITER

pytestmark = pytest.mark.postgres
_OLD_RULE = "leaf_hash ~ '^[0-9a-f]{64}$'"

_LEAVES = [
    "0" * 64, "0123456789abcdef" * 4, "f" * 64,
    "A" + "0" * 63, "0" * 63, "0" * 65, "", "0" * 63 + "\n", "0" * 64 + "\n", "\n" + "0" * 63,
    "0" * 62 + "é", "0" * 63 + "g", " " + "0" * 63, "0" * 32 + "-" + "0" * 31, "0" * 63 + "\x7f",
    "0x" + "0" * 62, "٠" * 32,  # Arabic-Indic zeros: digits, not [0-9]
]


@pytest.fixture(scope="module")
def origin() -> SyntheticOrigin:
    return make_origin("example.com/load-a/models", 21)


def test_cheap_leaf_rule_is_the_regex_rule(org_db: tuple[str, str]) -> None:
    admin, _writer = org_db
    with psycopg.connect(admin) as conn:
        for leaf in _LEAVES:
            old, new = conn.execute(
                (f"SELECT {_OLD_RULE}, {LEAF_HEX_CHECK} FROM (SELECT %s::text AS leaf_hash) x"
                 ).encode(), (leaf,)).fetchone() or (None, None)
            assert old is not None and new is old, (leaf, old, new)
    assert sum(1 for leaf in _LEAVES if len(leaf) == 64 and leaf == leaf.lower()
               and all(c in "0123456789abcdef" for c in leaf)) == 3  # both kinds are tried


@pytest.mark.parametrize("leaf", [x for x in _LEAVES[3:] if x])
def test_a_row_with_a_malformed_leaf_is_refused(org_db: tuple[str, str],
                                                origin: SyntheticOrigin, leaf: str) -> None:
    """Even the owner (no writer-role limit) cannot store a row whose leaf is not 64 lowercase
    hex digits: the table's own rule."""
    admin, writer = org_db
    export_origin(writer, origin.ledger, origin.checkpoint(5))
    with psycopg.connect(admin) as conn, pytest.raises(psycopg.errors.CheckViolation,
                                                       match="leaf_hash_hex"):
        conn.execute(f"INSERT INTO {EVENTS} SELECT origin, 100 + seq, event_id || 'x', "
                     "event_type, event_time, timestamp_text, model, release_id, environment, "
                     "actor_id, actor_role, incident, from_release, to_release, deployment, "
                     "live_release, %s, stored, ledger_commit, 200, proof FROM "
                     f"{EVENTS} WHERE seq = 0", (leaf,))


def _check_rules(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    return {str(name): str(rule) for name, rule in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
        "conrelid = %s::regclass AND contype = 'c' AND conname LIKE '%%leaf%%'",
        (EVENTS,)).fetchall()}


def test_sink_init_replaces_the_regex_rule_of_an_existing_table(
        org_db: tuple[str, str], origin: SyntheticOrigin) -> None:
    admin, writer = org_db
    with psycopg.connect(admin) as conn:  # the table as an earlier sink-init made it
        conn.execute(f"ALTER TABLE {EVENTS} DROP CONSTRAINT {EVENTS}_leaf_hash_hex")
        conn.execute(f"ALTER TABLE {EVENTS} ADD CONSTRAINT {EVENTS}_leaf_hash_check "
                     f"CHECK ({_OLD_RULE})")
    export_origin(writer, origin.ledger, origin.checkpoint(30))
    with psycopg.connect(admin) as conn:
        assert list(_check_rules(conn)) == [f"{EVENTS}_leaf_hash_check"]
        assert install_org_schema(conn, WRITER) == []
        conn.commit()
        rules = _check_rules(conn)
        assert list(rules) == [f"{EVENTS}_leaf_hash_hex"], rules
        assert "octet_length(leaf_hash) = 64" in rules[f"{EVENTS}_leaf_hash_hex"]
        assert install_org_schema(conn, WRITER) == []  # again: nothing to change
        conn.commit()
        assert _check_rules(conn) == rules
    assert export_origin(writer, origin.ledger, origin.checkpoint()).first_seq == 30


def test_sink_init_refuses_to_upgrade_over_a_malformed_stored_leaf(
        org_db: tuple[str, str], origin: SyntheticOrigin) -> None:
    """The new rule is checked against every row already there: a row the old rule would also
    have refused (put there with the rule dropped) fails sink-init, which changes nothing."""
    admin, writer = org_db
    export_origin(writer, origin.ledger, origin.checkpoint(10))
    with psycopg.connect(admin) as conn:
        conn.execute(f"ALTER TABLE {EVENTS} DROP CONSTRAINT {EVENTS}_leaf_hash_hex")
        conn.execute(f"ALTER TABLE {EVENTS} DISABLE TRIGGER append_only_rows")
        conn.execute(f"UPDATE {EVENTS} SET leaf_hash = upper(leaf_hash) WHERE seq = 3")
        conn.execute(f"ALTER TABLE {EVENTS} ENABLE TRIGGER append_only_rows")
        conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            install_org_schema(conn, WRITER)
        conn.rollback()
        assert _check_rules(conn) == {}


def test_event_time_is_the_strict_parsers(origin: SyntheticOrigin) -> None:
    entries = origin.ledger.items[:50]
    for entry in entries:
        assert _event_time(entry) == parse_instant(entry.timestamp)
    spellings = ["2026-04-10T09:14:11Z", "2026-04-10T09:14:11.5Z", "2026-04-10T11:14:11+02:00",
                 "2026-04-10T09:14:11.123456789Z", "2026-04-10t09:14:11z", "2026-04-10 09:14:11Z"]
    for text in spellings:
        moment = _event_time(replace(entries[0], timestamp=text))
        assert moment == parse_instant(text) and isinstance(moment, datetime)
    for bad in ["2026-04-10", "2026-04-10T09:14:11", "2026-04-10T09:14:11+24:00",
                "2026-02-30T09:14:11Z", "2026-04-10T09:14:60Z", "20260410T091411Z"]:
        with pytest.raises(Tampered, match="is not RFC 3339"):
            _event_time(replace(entries[0], timestamp=bad))


def _layout(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[dict[str, str], dict[str, str]]:
    """(collation of each text column, reloptions of each index) of the events table."""
    columns = {str(name): str(coll) for name, coll in conn.execute(
        "SELECT a.attname, c.collname FROM pg_attribute a JOIN pg_collation c ON "
        "c.oid = a.attcollation WHERE a.attrelid = %s::regclass AND a.attnum > 0",
        (EVENTS,)).fetchall()}
    indexes = {str(name).removeprefix(EVENTS + "_"): str(opts) for name, opts in conn.execute(
        "SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '') FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        (EVENTS,)).fetchall()}
    return columns, indexes


def test_key_columns_compare_bytes_and_unique_keys_skip_deduplication(
        org_db: tuple[str, str]) -> None:
    admin, _writer = org_db
    with psycopg.connect(admin) as conn:
        columns, indexes = _layout(conn)
    assert {c: columns[c] for c in C_COLLATED} == dict.fromkeys(C_COLLATED, "C"), columns
    assert columns["timestamp_text"] == "default"  # only what an index compares
    for name in NO_DEDUP_INDEXES:
        assert indexes[name] == "deduplicate_items=off", (name, indexes)
    for name in ("o_release", "incident", "from_release", "to_release"):  # few distinct keys
        assert indexes[name] == "", (name, indexes)


def test_sink_init_migrates_collations_and_deduplication_of_an_existing_table(
        org_db: tuple[str, str], origin: SyntheticOrigin) -> None:
    """A table as an earlier sink-init made it (key columns under the database's collation,
    deduplicating indexes) with rows in it: sink-init converts it in place, every index and row
    kept, and the next export resumes where the last one stopped."""
    admin, writer = org_db
    with psycopg.connect(admin) as conn:
        conn.execute(f"ALTER TABLE {EVENTS} " + ", ".join(
            f'ALTER COLUMN {c} TYPE text COLLATE "default"' for c in C_COLLATED))
        for name in NO_DEDUP_INDEXES:
            conn.execute(f"ALTER INDEX {EVENTS}_{name} RESET (deduplicate_items)")
        conn.commit()
        old_columns, old_indexes = _layout(conn)
    assert {old_columns[c] for c in C_COLLATED} == {"default"}
    assert not any(old_indexes.values())
    export_origin(writer, origin.ledger, origin.checkpoint(30))
    with psycopg.connect(admin) as conn:
        before = conn.execute(f"SELECT * FROM {EVENTS} ORDER BY seq").fetchall()
        assert install_org_schema(conn, WRITER) == []
        conn.commit()
        columns, indexes = _layout(conn)
        assert {c: columns[c] for c in C_COLLATED} == dict.fromkeys(C_COLLATED, "C")
        assert set(indexes) == set(old_indexes)
        assert {n: indexes[n] for n in NO_DEDUP_INDEXES} == dict.fromkeys(
            NO_DEDUP_INDEXES, "deduplicate_items=off")
        assert conn.execute(f"SELECT * FROM {EVENTS} ORDER BY seq").fetchall() == before
        assert install_org_schema(conn, WRITER) == []  # again: nothing to change
        conn.commit()
        assert _layout(conn) == (columns, indexes)
    result = export_origin(writer, origin.ledger, origin.checkpoint())
    assert result.first_seq == 30 and result.held == len(origin.ledger.items)
    with psycopg.connect(admin) as conn:
        seqs = [int(r[0]) for r in conn.execute(
            f"SELECT seq FROM {EVENTS} WHERE origin = %s ORDER BY seq", (origin.origin,))]
        assert seqs == list(range(len(origin.ledger.items)))


def test_sink_init_names_a_view_that_blocks_the_collation_change(
        org_db: tuple[str, str]) -> None:
    """An administrator's view over the old columns stops the conversion: sink-init says which
    view and what to do, and changes nothing (no traceback, no half-converted table)."""
    admin, _writer = org_db
    with psycopg.connect(admin) as conn:
        conn.execute(f"ALTER TABLE {EVENTS} ALTER COLUMN model TYPE text COLLATE \"default\"")
        conn.execute(f"CREATE VIEW team_models AS SELECT origin, model FROM {EVENTS}")
        conn.commit()
        with pytest.raises(ConfigurationError, match=r"columns model must become COLLATE "
                           r"\"C\".*view team_models depends on column \"model\""
                           r".*nothing was changed") as caught:
            install_org_schema(conn, WRITER)
        assert "drop that view" in (caught.value.hint or "")
        conn.rollback()
        columns, _indexes = _layout(conn)
        assert columns["model"] == "default" and columns["origin"] == "C"
