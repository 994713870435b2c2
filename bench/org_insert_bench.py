"""Where the organisation sink's PostgreSQL CPU per row goes: each index and row rule alone.

    python bench/org_insert_bench.py [--repos 10] [--events 5000] [--runs 5]

A throwaway server (``tests/support/postgres.py``, as the tests and ``bench/org_bench.py``) gets
``--repos`` synthetic repositories exported exactly as ``audit export --sink postgres`` does it
(``export_origin``). Then, inside the server, the exported rows are inserted again
(``INSERT ... SELECT ... ORDER BY origin, seq``) into a fresh copy of the events table carrying
one piece of the schema at a time: no index, each index of the export alone, every index and
rule (with the leaf_hash rule in its old regular-expression form and in the current form; with
the key columns in the database's collation instead of "C" and every index deduplicating, as
before the load pass 2). The
CPU of the one server process doing it is read from /proc before and after (Linux), so the
figures are the server's own work per row, free of the client, the network and the COPY
protocol; best and median of ``--runs``. The WAL written per row (the insert's own
records, from the WAL insert position before and after) is given beside it.

The figures add up only roughly to what ``bench/org_bench.py`` reports for the load (COPY in
binary, from two exporters at once, with connection start-up and protocol decoding on top).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.org_bench import process_cpu_s  # noqa: E402
from governance.sinks.postgres_org import (  # noqa: E402
    C_COLLATED,
    EVENTS,
    LEAF_HEX_CHECK,
    export_origin,
    install_org_schema,
)
from tests.support.histories import SyntheticLedger, generate_entries  # noqa: E402
from tests.support.org import make_origin  # noqa: E402
from tests.support.postgres import WRITER, start_server  # noqa: E402

OLD_LEAF_RULE = "leaf_hash ~ '^[0-9a-f]{64}$'"  # the rule before this change


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repos", type=int, default=10)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--distinct", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    base = [SyntheticLedger(list(generate_entries(models=math.ceil(args.events / 130),
                                                  releases_per_model=12, seed=s))[:args.events])
            for s in range(min(args.distinct, args.repos))]
    server = start_server()
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {WRITER} LOGIN")
        with psycopg.connect(server.dsn()) as conn:
            install_org_schema(conn, WRITER)
        for i in range(args.repos):
            o = make_origin(f"bench.example/team-{i:03d}/models", 0, models=1, releases=1)
            o.ledger = base[i % len(base)]
            export_origin(server.dsn("postgres", WRITER), o.ledger, o.checkpoint())
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            rows = int(conn.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0])  # type: ignore[index]
            pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            indexes = {str(name).removeprefix(EVENTS + "_"): str(ddl) for name, ddl in
                       conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE "
                                    "tablename = %s ORDER BY indexname", (EVENTS,)).fetchall()}
            setups: dict[str, list[str]] = {"heap only (no index, no rule)": []}
            for name, ddl in indexes.items():
                setups[f"+ index {name}"] = [re.sub(r"INDEX \S+ ON \S+ ", "INDEX ON t ", ddl)]
            every = [re.sub(r"INDEX \S+ ON \S+ ", "INDEX ON t ", d) for d in indexes.values()]
            others = ("seq >= 0", "checkpoint_size > seq", "length(proof) % 32 = 0")
            setups["+ leaf rule, old regex form"] = [f"ALTER TABLE t ADD CHECK ({OLD_LEAF_RULE})"]
            setups["+ leaf rule, current form"] = [f"ALTER TABLE t ADD CHECK ({LEAF_HEX_CHECK})"]
            setups["+ the other three row rules"] = [f"ALTER TABLE t ADD CHECK ({r})"
                                                     for r in others]
            rules = [f"ALTER TABLE t ADD CHECK ({r})" for r in others]
            setups["whole table, old leaf rule"] = [
                *every, *rules, f"ALTER TABLE t ADD CHECK ({OLD_LEAF_RULE})"]
            setups["whole table, current leaf rule"] = [
                *every, *rules, f"ALTER TABLE t ADD CHECK ({LEAF_HEX_CHECK})"]
            # before the key columns were COLLATE "C" and deduplication was off where the keys
            # are nearly unique: the database's collation, every index deduplicating
            setups["whole table, database collation, deduplicating (before)"] = [
                "ALTER TABLE t " + ", ".join(f'ALTER COLUMN {c} TYPE text COLLATE "default"'
                                             for c in C_COLLATED),
                *(re.sub(r" WITH \(deduplicate_items='?off'?\)", "", d) for d in every),
                *rules, f"ALTER TABLE t ADD CHECK ({LEAF_HEX_CHECK})"]
            setups["whole table, database collation only"] = [
                "ALTER TABLE t " + ", ".join(f'ALTER COLUMN {c} TYPE text COLLATE "default"'
                                             for c in C_COLLATED),
                *every, *rules, f"ALTER TABLE t ADD CHECK ({LEAF_HEX_CHECK})"]
            setups["whole table, deduplicating only"] = [
                *(re.sub(r" WITH \(deduplicate_items='?off'?\)", "", d) for d in every),
                *rules, f"ALTER TABLE t ADD CHECK ({LEAF_HEX_CHECK})"]
            spent: dict[str, list[float]] = {name: [] for name in setups}
            wal: dict[str, float] = {}
            for _run in range(args.runs):
                for name, statements in setups.items():
                    conn.execute("DROP TABLE IF EXISTS t")
                    conn.execute(f"CREATE TABLE t (LIKE {EVENTS} INCLUDING DEFAULTS)")
                    for statement in statements:
                        conn.execute(statement.encode())
                    conn.execute("CHECKPOINT")
                    w0 = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
                    cpu = process_cpu_s(pid)
                    conn.execute(f"INSERT INTO t SELECT * FROM {EVENTS} ORDER BY origin, seq")
                    spent[name].append(process_cpu_s(pid) - cpu)
                    wal[name] = float(conn.execute(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (w0,)
                    ).fetchone()[0]) / rows  # type: ignore[index]
            conn.execute("DROP TABLE t")
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    finally:
        server.destroy()
    heap = sorted(spent["heap only (no index, no rule)"])[0]
    print(f"PostgreSQL {version}; {rows:,} rows ({args.repos} repositories x {args.events:,} "
          f"events); server CPU of one INSERT ... SELECT per setup, best and median of "
          f"{args.runs} runs; load average (1 min) {os.getloadavg()[0]:.2f} at the end\n")
    print("| setup | best us/row | median us/row | best minus heap only | WAL bytes/row |")
    print("|---|---|---|---|---|")
    for name, samples in spent.items():
        samples.sort()
        print(f"| {name} | {samples[0] / rows * 1e6:.1f} | "
              f"{samples[len(samples) // 2] / rows * 1e6:.1f} | "
              f"{(samples[0] - heap) / rows * 1e6:+.1f} | {wal[name]:,.0f} |")


if __name__ == "__main__":
    main()
