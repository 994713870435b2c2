"""A lower bound for issue 19's "every approval in the last 12 months" answered with every row
verified, on this machine: what hashing alone costs, whatever the implementation.

    python bench/org_floor.py [--rows 352690] [--origins 100] [--leaves 10000]

The rows an answer must verify each need their leaf, SHA-256 over ``0x00 || stored bytes``
(RFC 9162), and their inclusion under the origin's signed root: with the proofs of one
checkpoint's rows walked together, every node of the union of their paths hashed once (two
SHA-256 blocks each). This prints the mean stored size of synthetic approval events (the
generator the organisation benchmark exports), the number of union nodes for ``--rows`` rows
spread at random over ``--origins`` trees of ``--leaves`` leaves, SHA-256's bulk throughput on
one core (one 256 MiB buffer: no per-call overhead, the best any language gets here), and the
CPU those two hashings need at that throughput: a floor for the client before a single row is
read, decoded, compared or printed.

With ``--server`` it also starts a throwaway PostgreSQL (Debian's package, as the tests do),
fills a table with exactly ``--rows`` rows holding only what verification needs (origin, seq,
stored bytes of the mean size, a proof of the mean length for ``--leaves`` leaves), and times
the best case of reading them, warm (read once before): the server's execution (EXPLAIN
ANALYZE) and the client's fetch of the two byte columns in binary (wall and CPU of this
process), best of the last 3 of 4.
A real answer reads these rows out of the 1,000,000-row table, with more columns, and then
hashes, compares and prints them: it can only be slower.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from tests.support.histories import generate_entries  # noqa: E402


def union_nodes(chosen: list[int], leaves: int) -> int:
    """Interior nodes on the paths of ``chosen`` leaves of a ``leaves``-leaf tree (RFC 9162
    shape: a lone last node is carried up unhashed)."""
    count, level, cur, last = 0, 0, sorted(set(chosen)), leaves - 1
    while last > 0:
        parents = sorted({i >> 1 for i in cur if not (i == last and i % 2 == 0)})
        lone = [i >> 1 for i in cur if i == last and i % 2 == 0]
        count += len(parents)
        cur = sorted(set(parents) | set(lone))
        last >>= 1
        level += 1
    return count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=352_690)
    ap.add_argument("--origins", type=int, default=100)
    ap.add_argument("--leaves", type=int, default=10_000)
    ap.add_argument("--server", action="store_true", help="also time reading the rows")
    args = ap.parse_args()
    sizes = [len(bytes(e.stored)) for e in generate_entries(models=20, releases_per_model=60,
                                                            seed=1)
             if e.event_type == "approval_granted"]
    mean = sum(sizes) / len(sizes)
    rng = random.Random(19)
    per_origin = args.rows // args.origins
    nodes = sum(union_nodes(rng.sample(range(args.leaves), per_origin), args.leaves)
                for _ in range(args.origins))
    big = b"\0" * (256 << 20)
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        hashlib.sha256(big).digest()
        best = min(best, time.process_time() - t)
    throughput = len(big) / best
    leaf_bytes = args.rows * (mean + 1 + 9)  # 0x00 prefix, SHA-256 padding (at least 9 bytes)
    node_bytes = nodes * 128  # 0x01 || left || right: 65 bytes, two 64-byte blocks
    print(f"approval events: mean stored size {mean:.0f} bytes ({len(sizes)} generated)")
    print(f"rows {args.rows:,} over {args.origins} trees of {args.leaves:,} leaves: "
          f"{nodes:,} interior nodes on the union of their paths")
    print(f"SHA-256 bulk throughput, one core: {throughput / 1e9:.2f} GB/s")
    print(f"floor at that throughput: leaves {leaf_bytes / throughput * 1000:.0f} ms, "
          f"nodes {node_bytes / throughput * 1000:.0f} ms, together "
          f"{(leaf_bytes + node_bytes) / throughput * 1000:.0f} ms of CPU "
          f"({(leaf_bytes + node_bytes) / throughput * 500:.0f} ms on 2 cores, perfectly split)")
    if args.server:
        proof_len = 32 * round(sum(
            (i ^ (args.leaves - 1)).bit_length() + (i >> (i ^ (args.leaves - 1)).bit_length()
                                                    ).bit_count()
            for i in range(args.leaves)) / args.leaves)
        read_floor(args.rows, args.origins, int(mean), proof_len)
    return 0


def read_floor(rows: int, origins: int, stored: int, proof: int) -> None:
    """The best case of reading ``rows`` rows of ``stored`` + ``proof`` bytes (module doc)."""
    import psycopg

    from tests.support.postgres import start_server

    server = start_server()
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE floor (origin text, seq int, stored bytea, proof bytea, "
                         "PRIMARY KEY (origin, seq))")
            conn.execute("INSERT INTO floor SELECT 'example.com/team-' || (g %% %s), g / %s, "
                         "decode(repeat(md5(g::text), %s), 'hex'), "
                         "decode(repeat(md5((g + 1)::text), %s), 'hex') "
                         "FROM generate_series(0, %s - 1) g",
                         (origins, origins, stored // 16 + 1, proof // 16, rows))
            conn.execute("VACUUM ANALYZE floor")
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('floor'))"
                                ).fetchone()
            server_ms, client_wall, client_cpu = [], [], []
            for _ in range(4):
                plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT stored, proof "
                                    "FROM floor").fetchone()[0]
                server_ms.append(plan[0]["Execution Time"])
                t, c = time.perf_counter(), time.process_time()
                with conn.cursor(binary=True) as cur:
                    cur.execute("SELECT stored, proof FROM floor")
                    got = cur.fetchall()
                client_wall.append((time.perf_counter() - t) * 1000)
                client_cpu.append((time.process_time() - c) * 1000)
                assert len(got) == rows
            print(f"reading {rows:,} rows ({size[0]}, stored {stored} + proof {proof} bytes "
                  f"each, warm: read once before), best of the last 3: server execution "
                  f"{min(server_ms[1:]):.0f} ms; client fetch in binary {min(client_wall[1:]):.0f} "
                  f"ms wall, {min(client_cpu[1:]):.0f} ms CPU of this process")
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main())
