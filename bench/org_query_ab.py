"""The organisation reader of two source trees, alternating on one database (before/after).

    git archive main | tar -x -C /tmp/before
    python bench/org_query_ab.py --before /tmp/before --repos 100 --events 10000 --rounds 2

``--keep STATE`` leaves the server's data directory on disk (stopped) and writes what a later
run needs to STATE; ``--reuse STATE`` starts that server again and skips generation and load
(a full-scale database takes minutes to build; the questions are the same on it). Remove the
data directory named in STATE by hand when done.

Builds one throwaway PostgreSQL database the way ``bench/org_bench.py`` does (``--repos``
synthetic repositories of ``--events`` entries, ``--distinct`` generated histories, each
exported under its own origin and log key), then, ``--rounds`` times, answers the questions
with the reader (``governance.audit.org.OrgSource``) of the ``--before`` tree and of this tree,
each side in a fresh process importing only its own tree, ``--runs`` cold answers per question
(the process memo cleared before each: every signature, proof and row verified again). Both
sides read the same rows in the same minutes, so the comparison is not the load's noise
between two set-ups. Prints per side and question: rows, p95 and median wall, median SQL share
(time in the reader's queries, rows decoded included) and median process CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = ("approvals of model fraud-risk in 12 months", "live at T, every model",
             "rollbacks by incident")


def child(tree: str, state_file: str, runs: int) -> None:
    """One side: import the reader from ``tree`` and time the questions (JSON on stdout)."""
    sys.path.insert(0, tree)
    from datetime import timedelta

    # this script's directory (sys.path[1] now): not bench.fetch_timer, which the --before
    # tree's own bench/ package would shadow
    from fetch_timer import timed_fetches

    import governance.audit.org as reader
    from governance.audit.org import OrgSource, OrgTrust, OriginTrust, clear_verified_memo
    from governance.audit.queries import AuditFilter
    from governance.ledger.checkpoint import log_key_of
    from tests.support.org import make_origin

    if not Path(reader.__file__).resolve().is_relative_to(Path(tree).resolve()):
        raise SystemExit(f"the reader came from {reader.__file__}, not from {tree}")
    state = json.loads(Path(state_file).read_text())
    trust = OrgTrust("bench", {o: OriginTrust(o, (log_key_of(
        o, make_origin(o, 0, models=1, releases=1).key),), timedelta(days=7))
        for o in state["origins"]})
    last = datetime.fromisoformat(state["last"])
    since = last - timedelta(days=365)
    src = OrgSource(state["writer"], trust, trust.require([]))
    asks = {
        QUESTIONS[0]: lambda: len(src.audit_query(AuditFilter(
            model="fraud-risk", event_types=("approval_granted",), since=since, until=last))),
        QUESTIONS[1]: lambda: len(src.live_everywhere("production", last)),
        QUESTIONS[2]: lambda: len(src.audit_query(AuditFilter(
            event_types=("rollback_executed",), incident=state["incident"]))),
    }
    with timed_fetches(src) as spent:
        out = {}
        for title, ask in asks.items():
            walls, sqls, cpus = [], [], []
            rows = 0
            for _ in range(runs):
                clear_verified_memo()
                src._checkpoints.clear()
                spent[0] = 0.0
                cpu, wall = time.process_time(), time.perf_counter()
                rows = ask()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                sqls.append(spent[0])
            walls.sort()
            out[title] = {"rows": rows, "p95": walls[max(0, math.ceil(0.95 * runs) - 1)] * 1e3,
                          "median": walls[runs // 2] * 1e3,
                          "sql": sorted(sqls)[runs // 2] * 1e3,
                          "cpu": sorted(cpus)[runs // 2] * 1e3}
    src.close()
    print(json.dumps(out))


_JOBS: list[tuple[str, Any, str]] = []


def _export(i: int) -> int:
    from governance.sinks.postgres_org import export_origin

    writer, ledger, note = _JOBS[i]
    return export_origin(writer, ledger, note).exported


def build(args: argparse.Namespace, work: Path) -> tuple[Any, Path]:
    """A throwaway server with the organisation tables and ``--repos`` exported origins; the
    state file the children read."""
    import psycopg

    from bench.org_bench import histories
    from governance.sinks.postgres_org import install_org_schema
    from tests.support.org import make_origin
    from tests.support.postgres import WRITER, start_server

    base = histories(min(args.distinct, args.repos), args.events)
    server = start_server()
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {WRITER} LOGIN")
            conn.execute("CREATE DATABASE org")
        with psycopg.connect(server.dsn("org")) as conn:
            install_org_schema(conn, WRITER)
        writer = server.dsn("org", WRITER)
        origins = []
        for i in range(args.repos):
            o = make_origin(f"bench.example/team-{i:03d}/models", 0, models=1, releases=1)
            o.ledger = base[i % len(base)]
            origins.append(o)
            _JOBS.append((writer, o.ledger, o.checkpoint()))
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            rows = sum(pool.imap_unordered(_export, range(len(_JOBS))))
        print(f"loaded {rows:,} rows in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        with psycopg.connect(server.dsn("org"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    except BaseException:
        server.destroy()
        raise
    state = args.keep or work / "state.json"
    state.write_text(json.dumps({
        "writer": writer, "origins": [o.origin for o in origins],
        "last": max(datetime.fromisoformat(h.items[-1].timestamp) for h in base).isoformat(),
        "incident": next(str(e.event["incident"]) for e in base[0].items
                         if e.event_type == "rollback_executed" and e.event.get("incident")),
        "root": str(server.root), "port": server.port, "bindir": str(server.bindir),
    }))
    return server, state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, help="the source tree of the code before")
    ap.add_argument("--repos", type=int, default=20)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--distinct", type=int, default=10)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, metavar="STATE",
                    help="keep the database (server stopped) and write its state here")
    ap.add_argument("--reuse", type=Path, metavar="STATE",
                    help="start the database a --keep run left and skip the load")
    ap.add_argument("--child", nargs=2, metavar=("TREE", "STATE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.runs)
        return
    if args.before is None or not (args.before / "governance" / "audit" / "org.py").is_file():
        raise SystemExit("--before DIR: a source tree with governance/audit/org.py "
                         "(git archive REF | tar -x -C DIR)")
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PgServer

    work = Path(tempfile.mkdtemp(prefix="org-query-ab-"))
    if args.reuse is not None:
        kept = json.loads(args.reuse.read_text())
        server = PgServer(Path(kept["bindir"]))
        os.rmdir(server.root)  # the fresh directory PgServer made; the kept one is used
        server.root, server.port = Path(kept["root"]), int(kept["port"])
        server.start()
        state = args.reuse
    else:
        server, state = build(args, work)
    try:
        sides = (("before", args.before.resolve()), ("after", ROOT))
        for rnd in range(1, args.rounds + 1):
            for name, tree in sides:
                load = os.getloadavg()[0]
                stamp = time.strftime("%H:%M:%S", time.gmtime())
                out = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--runs", str(args.runs),
                     "--child", str(tree), str(state)], check=True, capture_output=True,
                    text=True, env={**os.environ, "PYTHONPATH": str(tree)}).stdout
                for title, r in json.loads(out).items():
                    print(f"round {rnd} {name:6} {stamp} load {load:4.1f} | {title} | "
                          f"{r['rows']:,} rows | p95 {r['p95']:.1f} ms | median "
                          f"{r['median']:.1f} ms | SQL median {r['sql']:.1f} ms | CPU median "
                          f"{r['cpu']:.1f} ms", flush=True)
    finally:
        if args.keep is not None or args.reuse is not None:
            server.stop()
        else:
            server.destroy()


if __name__ == "__main__":
    main()
