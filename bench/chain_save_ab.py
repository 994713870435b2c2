"""The verified chain's save from the genesis (issue 18): rows inserted with the chain's nine
indexes in place (a b-tree insert per row and index) against rows first and the indexes built
after them (one sort each), same schema, same transaction shape, alternating.

    python bench/chain_save_ab.py [--rows 10001] [--rounds 7] [--work DIR]

Rows are synthetic but shaped like a generated ledger's (17 columns, a few models, types and
actors, one live change in eight). CPU of this process per save, median and best; and wall.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.ledger.verified import _CHAIN_INDEXES, _SCHEMA  # noqa: E402


def rows(n: int) -> list[tuple[object, ...]]:
    rnd = random.Random(18)
    return [(i, f"{i:040x}", f"{i:064x}", f"id-{i}",
             rnd.choice(["release_registered", "gate_evaluated", "approval_granted"]),
             "2026-01-01T00:00:00Z", 1_700_000_000_000_000 + i, f"model-{i % 50}", f"r{i}",
             rnd.choice(["staging", None]), rnd.choice(["jane", "bob", "ci"]), None, None, None,
             None, int(i % 8 == 0), None) for i in range(n)]


def save(path: Path, data: list[tuple[object, ...]], bulk: bool) -> tuple[float, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    cpu, wall = time.process_time(), time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    if bulk:
        for name in _CHAIN_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.executemany("INSERT INTO chain VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", data)
    if bulk:
        for statement in _SCHEMA.split(";"):
            if "CREATE INDEX" in statement:
                conn.execute(statement)
    conn.execute("COMMIT")
    conn.close()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=10001)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="chain-save-"))
    work.mkdir(parents=True, exist_ok=True)
    data = rows(args.rows)
    out: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    print(f"load {os.getloadavg()[0]:.2f}")
    for _ in range(args.rounds):
        for bulk in (False, True):
            out[bulk].append(save(work / "chain.sqlite", data, bulk))
    print(f"load {os.getloadavg()[0]:.2f}")
    for bulk, runs in out.items():
        cpu = [c * 1000 for c, _ in runs]
        wall = [w * 1000 for _, w in runs]
        print(f"{'indexes after the rows' if bulk else 'indexes in place':24} CPU median "
              f"{statistics.median(cpu):.1f} ms, best {min(cpu):.1f}; wall median "
              f"{statistics.median(wall):.1f} ms")


if __name__ == "__main__":
    main()
