"""Organisation-scale evidence: many repositories exported into one PostgreSQL, cross-repository
questions answered with verification, against jq over the JSON Lines exports in the same run.

    python bench/org_bench.py --repos 100 --events 10000 [--distinct 10] [--runs 20]

- A throwaway PostgreSQL server (Debian's package, ``tests/support/postgres.py``: fsync=off, the
  same server the tests use) with the organisation tables (``sink-init``).
- ``--repos`` synthetic governed repositories of ``--events`` ledger entries each
  (``tests/support/histories.py``: registrations, evaluations, gates, approvals, promotions,
  rollbacks with incidents, retirements). Generating a history is the slow part of the set-up
  (~3,000 events/s), so ``--distinct`` histories are generated and repository i uses history
  i % distinct under its own origin and its own log key (rows, proofs, checkpoints and
  signatures are per origin; event contents repeat across origins).
- Load: ``export_origin`` per repository, one after the other, exactly as ``audit export --sink
  postgres`` does it (leaves read, checkpoint root checked, audit paths computed, COPY in
  10,000-row transactions). The rate is rows / wall time of all exports.
- Questions (p95 over ``--runs``), each answered by ``governance.audit.org.OrgSource`` (SQL with
  the export's indexes, then every returned row verified: checkpoint signature, leaf hash,
  inclusion proof, columns); the SQL share is reported beside it:
  1. every approval in the last 12 months (all origins);
  2. the same, for one model name across all origins;
  3. what was live in production at T for every model of every origin;
  4. rollbacks linked to one incident (all origins).
- jq: the same questions over one JSON Lines file per repository (the JSON Lines sink's line
  format plus ``origin``), same answers checked by count.

Writes bench/results/org.md (or --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.fetch_timer import timed_fetches  # noqa: E402
from governance.audit.org import (  # noqa: E402
    MEMO_ROWS,
    OrgSource,
    OrgTrust,
    OriginTrust,
    clear_verified_memo,
)
from governance.audit.queries import AuditFilter  # noqa: E402
from governance.ledger.checkpoint import log_key_of  # noqa: E402
from governance.sinks.export import ExportRow  # noqa: E402
from governance.sinks.postgres_org import export_origin, install_org_schema  # noqa: E402
from tests.support.histories import SyntheticLedger, generate_entries  # noqa: E402
from tests.support.org import SyntheticOrigin, make_origin  # noqa: E402
from tests.support.postgres import WRITER, start_server  # noqa: E402


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def histories(distinct: int, events: int) -> list[SyntheticLedger]:
    out = []
    models = max(1, math.ceil(events / 130))  # 150-160 events per model at 12 releases
    for seed in range(distinct):
        entries = list(generate_entries(models=models, releases_per_model=12, seed=seed))
        if len(entries) < events:
            raise SystemExit(f"history {seed}: {len(entries)} events < {events}")
        out.append(SyntheticLedger(entries[:events]))
        log(f"history {seed}: {events} events")
    return out


def write_jsonl(directory: Path, origin: SyntheticOrigin, index: int) -> None:
    with open(directory / f"repo-{index:03d}.jsonl", "w", encoding="utf-8") as fh:
        for entry in origin.ledger.items:
            doc = ExportRow.from_entry(entry).document()
            doc["origin"] = origin.origin
            fh.write(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")


_JOBS: list[tuple[str, SyntheticOrigin, str]] = []


def _export_job(i: int) -> int:
    writer, o, note = _JOBS[i]
    return export_origin(writer, o.ledger, note).exported


def measure(runs: int, fn: Callable[[], int], src: OrgSource, *, cold: bool = True
            ) -> dict[str, Any]:
    """p95 over ``runs`` answers. ``cold``: each answer in a process that has verified nothing
    yet (the process memo is cleared: a fresh `governance audit query`); warm: after a first
    answer, each row is checked against the remembered verified row (stored bytes re-hashed,
    every column and the proof compared) and the checkpoint row re-read and compared."""
    walls, sqls, cpus = [], [], []
    count = 0
    with timed_fetches(src) as spent:
        for run in range(runs):
            if run == 3 and count > 50_000:
                break  # a large answer: three runs are enough (the report says how many)
            spent[0] = 0.0
            src._checkpoints.clear()  # every answer reads and checks its checkpoints again
            if cold:
                clear_verified_memo()  # ... and verifies every signature, proof and row again
            elif run == 0:
                clear_verified_memo()
                fn()  # the first answer of a warm process (not counted)
            cpu = time.process_time()
            start = time.perf_counter()
            count = fn()
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            sqls.append(spent[0])
    median = sorted(walls)[len(walls) // 2]
    return {"rows": count, "runs": len(walls), "p95_ms": p95(walls) * 1000,
            "median_ms": median * 1000, "sql_p95_ms": p95(sqls) * 1000,
            "cpu_median_ms": sorted(cpus)[len(cpus) // 2] * 1000}


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (Linux)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of one live process so far (Linux /proc)."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_s(data: Path) -> float:
    """CPU seconds of the PostgreSQL server so far: the postmaster's own and its exited children's
    (reaped, so counted in its cutime/cstime), plus its live children's (Linux /proc)."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    total = sum(int(x) for x in proc_stat(pid)[11:15]) / os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(proc_stat(int(entry.name))[1]) == pid:
                    total += process_cpu_s(int(entry.name))
            except (OSError, ValueError):
                continue
    return total


def client_cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the exporter processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def jq_time(filter_: str, files: list[Path], runs: int) -> tuple[float, int]:
    walls = []
    count = 0
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(["jq", "-c", filter_, *map(str, files)], check=True,
                             capture_output=True)
        walls.append(time.perf_counter() - start)
        count = len(out.stdout.splitlines())
    return p95(walls) * 1000, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repos", type=int, default=100)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--distinct", type=int, default=10)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--jq-runs", type=int, default=3)
    ap.add_argument("--no-jq", action="store_true")
    ap.add_argument("--parallel", type=int, default=2,
                    help="repositories exporting at once (separate processes)")
    ap.add_argument("--load-only", action="store_true", help="measure the load only")
    ap.add_argument("--questions", default="1,2,3,4", metavar="N,N",
                    help="which questions to time (1: every approval in 12 months, the long "
                         "one; 2: one model; 3: live at T; 4: rollbacks by incident)")
    ap.add_argument("--server-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a PostgreSQL setting for the throwaway server (ALTER SYSTEM, then a "
                         "restart), e.g. shared_buffers=1GB: a DBA's choice, measured apart "
                         "from the defaults (repeatable)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "org.md")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on kill

    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    base = histories(min(args.distinct, args.repos), args.events)
    gen_s = time.perf_counter() - started
    origins = []
    for i in range(args.repos):
        o = make_origin(f"bench.example/team-{i:03d}/models", 0, models=1, releases=1)
        o.ledger = base[i % len(base)]
        origins.append(o)
    settings = [tuple(x.split("=", 1)) for x in args.server_setting]
    if any(len(x) != 2 or not x[0].replace("_", "a").isalnum() for x in settings):
        raise SystemExit("--server-setting expects NAME=VALUE, e.g. shared_buffers=1GB")
    server = start_server()
    work = Path(tempfile.mkdtemp(prefix="org-bench-"))
    try:
        if settings:
            with psycopg.connect(server.dsn(), autocommit=True) as conn:
                for name, value in settings:
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)))
            server.stop()
            server.start()
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            shown = {name: str(conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))
                                            ).fetchone()[0])  # type: ignore[index]
                     for name in ("shared_buffers", *(n for n, _ in settings))}
            conn.execute(f"CREATE ROLE {WRITER} LOGIN")
            conn.execute("CREATE DATABASE org")
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        with psycopg.connect(server.dsn("org")) as conn:
            install_org_schema(conn, WRITER)
        writer = server.dsn("org", WRITER)
        notes = [o.checkpoint() for o in origins]
        log(f"exporting with {args.parallel} concurrent exporter(s) ...")
        _JOBS.extend((writer, o, note) for o, note in zip(origins, notes, strict=True))
        cpu0 = (client_cpu_s(), server_cpu_s(server.data))
        start = time.perf_counter()
        rows = 0
        if args.parallel == 1:
            for i in range(len(_JOBS)):
                rows += _export_job(i)
        else:
            import multiprocessing

            # fork: the workers inherit the generated histories (no pickling of 1M events)
            with multiprocessing.get_context("fork").Pool(args.parallel) as pool:
                for i, n in enumerate(pool.imap_unordered(_export_job, range(len(_JOBS)))):
                    rows += n
                    if i % 10 == 9:
                        log(f"  {i + 1} repositories, {rows} rows, "
                            f"{rows / (time.perf_counter() - start):,.0f} rows/s")
        load_s = time.perf_counter() - start
        cpu = (client_cpu_s() - cpu0[0], server_cpu_s(server.data) - cpu0[1])
        with psycopg.connect(server.dsn("org"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            size = str(conn.execute("SELECT pg_size_pretty(pg_database_size('org'))"
                                    ).fetchone()[0])  # type: ignore[index]
        log(f"loaded {rows} rows in {load_s:.1f} s")

        trust = OrgTrust("bench", {o.origin: OriginTrust(
            o.origin, (log_key_of(o.origin, o.key),), timedelta(days=7)) for o in origins})
        src = OrgSource(writer, trust, trust.require([]))
        last = max(datetime.fromisoformat(h.items[-1].timestamp) for h in base)
        since = last - timedelta(days=365)
        model = "fraud-risk"
        incident = next(str(e.event["incident"]) for e in base[0].items
                        if e.event_type == "rollback_executed" and e.event.get("incident"))
        questions: list[tuple[str, Callable[[], int], str]] = [
            ("approvals in the last 12 months, every origin",
             lambda: len(src.audit_query(AuditFilter(event_types=("approval_granted",),
                                                     since=since, until=last))),
             f'select(.event_type == "approval_granted" and .timestamp >= '
             f'"{since.strftime("%Y-%m-%dT%H:%M:%SZ")}")'),
            (f"approvals in the last 12 months of model {model}, every origin",
             lambda: len(src.audit_query(AuditFilter(model=model,
                                                     event_types=("approval_granted",),
                                                     since=since, until=last))),
             f'select(.event_type == "approval_granted" and .event.model_name == "{model}" '
             f'and .timestamp >= "{since.strftime("%Y-%m-%dT%H:%M:%SZ")}")'),
            ("live in production at T, every model of every origin",
             lambda: len(src.live_everywhere("production", last)),
             ""),
            (f"rollbacks linked to incident {incident}, every origin",
             lambda: len(src.audit_query(AuditFilter(event_types=("rollback_executed",),
                                                     incident=incident))),
             f'select(.event_type == "rollback_executed" and .event.incident == "{incident}")'),
        ]
        chosen = {int(x) for x in args.questions.split(",") if x.strip()}
        questions = [q for i, q in enumerate(questions, 1) if i in chosen]
        if args.load_only:
            questions = []
        results = []
        for title, fn, _jq in questions:
            log(f"question: {title}")
            cold = measure(args.runs, fn, src)
            # an answer larger than the memo is mostly verified from scratch again: not run warm
            warm = (measure(args.runs, fn, src, cold=False) if cold["rows"] <= MEMO_ROWS
                    else None)
            results.append((title, cold, warm))
        # live at T with jq: the last deployment change per (origin, model) in production
        live_jq = ('select(.event.environment == "production" and (.event_type == '
                   '"deployment_promoted" or .event_type == "break_glass" or .event_type == '
                   '"rollback_executed")) | [.origin, .event.model_name, .seq, '
                   '(.event.release_id // .event.to_release)]')
        jq_rows: list[tuple[float, int] | None] = []
        files: list[Path] = []
        if questions and not args.no_jq and shutil.which("jq"):
            log("writing JSON Lines for jq ...")
            jdir = work / "jsonl"
            jdir.mkdir()
            for i, o in enumerate(origins):
                write_jsonl(jdir, o, i)
            files = sorted(jdir.glob("*.jsonl"))
            for _title, _fn, filt in questions:
                if filt:
                    jq_rows.append(jq_time(filt, files, args.jq_runs))
                else:
                    # jq -s would hold 1M events in memory; stream and reduce instead
                    reduce_ = (f"reduce (inputs | {live_jq}) as $r ({{}}; "
                               ".[($r[0] + \" \" + $r[1])] = $r) | length")
                    start_j = time.perf_counter()
                    out = subprocess.run(["jq", "-n", reduce_, *map(str, files)], check=True,
                                         capture_output=True)
                    jq_rows.append(((time.perf_counter() - start_j) * 1000,
                                    int(out.stdout.strip())))
        plans = []
        every = [o.origin for o in origins]  # the reader always names its origins
        with psycopg.connect(writer, autocommit=True) as conn:
            for label, query, params in () if args.load_only else (
                ("approvals 12 months of one model", "SELECT seq FROM governance_org_events "
                 "WHERE origin = ANY(%s) AND model = %s AND event_type = 'approval_granted' "
                 "AND event_time >= %s AND event_time <= %s", (every, model, since, last)),
                ("approvals 12 months", "SELECT seq FROM governance_org_events WHERE "
                 "origin = ANY(%s) AND event_type = 'approval_granted' AND event_time >= %s "
                 "AND event_time <= %s", (every, since, last)),
                ("live at T", "SELECT DISTINCT ON (origin, model) origin, seq FROM "
                 "governance_org_events WHERE environment = 'production' AND "
                 "origin = ANY(%s) AND deployment AND event_time <= %s "
                 "ORDER BY origin, model, seq DESC", (every, last)),
                ("rollbacks by incident", "SELECT seq FROM governance_org_events WHERE "
                 "origin = ANY(%s) AND event_type = 'rollback_executed' AND incident = %s",
                 (every, incident)),
            ):
                plan = conn.execute(("EXPLAIN (ANALYZE, BUFFERS) " + query).encode(), params
                                    ).fetchall()
                text = " / ".join(str(r[0]).strip() for r in plan[:4])
                short = f"ANY ('{{{len(every)} origins}}'"  # not the whole array literal
                plans.append((label, re.sub(r"ANY \('\{[^}]*\}'", short, text)))
        src.close()
    finally:
        server.destroy()
        shutil.rmtree(work, ignore_errors=True)

    load_rate = rows / load_s
    lines = [
        "# Organisation sink: many repositories, one PostgreSQL",
        "",
        f"Command: `python bench/org_bench.py --repos {args.repos} --events {args.events} "
        f"--distinct {args.distinct} --runs {args.runs} --parallel {args.parallel}"
        f"{' --load-only' if args.load_only else ''}"
        f"{'' if args.questions == '1,2,3,4' else ' --questions ' + args.questions}"
        f"{''.join(f' --server-setting {x}' for x in args.server_setting)}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.platform()}), Python {platform.python_version()}, "
        f"PostgreSQL {version} (throwaway server: fsync=off, as in the tests; "
        f"{', '.join(f'{k}={v}' for k, v in shown.items())}), load average "
        f"(1 min) {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.",
        "",
        f"Data: {args.repos} repositories x {args.events:,} events = {rows:,} rows "
        f"({min(args.distinct, args.repos)} distinct generated histories, each under "
        f"{math.ceil(args.repos / max(1, min(args.distinct, args.repos)))} origins with their "
        f"own log keys); database size after load {size}; generating the histories took "
        f"{gen_s:.1f} s (not counted).",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| load (export_origin per repository, {args.parallel} repositories at once, binary "
        f"COPY, 10,000-row transactions, proofs computed) | {load_rate:,.0f} rows/s "
        f"({rows:,} rows in {load_s:.1f} s) | >= 20,000 rows/s |",
        "",
        f"CPU during the load: exporters {cpu[0]:.1f} s ({cpu[0] / rows * 1e6:.0f} us/row), "
        f"PostgreSQL server {cpu[1]:.1f} s ({cpu[1] / rows * 1e6:.0f} us/row): "
        f"{rows / (cpu[0] + cpu[1]):,.0f} rows per CPU-second (client and server together; on "
        f"{os.cpu_count()} otherwise idle cores with enough exporters, at most "
        f"{(os.cpu_count() or 1) * rows / (cpu[0] + cpu[1]):,.0f} rows/s: an upper bound, not "
        "a measurement).",
        "",
        "| question | rows | p95 verified answer, cold process | median | p95 SQL share | "
        "client CPU per cold answer (median) | p95 verified answer, warm process | "
        "jq over JSON Lines (same run) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, (title, r, w) in enumerate(results):
        jq = jq_rows[i] if i < len(jq_rows) else None
        jq_text = "not run" if jq is None else f"{jq[0]:,.0f} ms ({jq[1]:,} rows)"
        warm_text = (f"{w['p95_ms']:.1f} ms ({w['runs']} runs, SQL {w['sql_p95_ms']:.1f} ms)"
                     if w is not None else f"not run (more rows than the memo's {MEMO_ROWS:,})")
        lines.append(f"| {title} | {r['rows']:,} | {r['p95_ms']:.1f} ms ({r['runs']} runs) | "
                     f"{r['median_ms']:.1f} ms | {r['sql_p95_ms']:.1f} ms | "
                     f"{r['cpu_median_ms']:.1f} ms | {warm_text} | "
                     f"{jq_text} |")
    lines += ["", "Plans (first lines of EXPLAIN (ANALYZE, BUFFERS), the reader's conditions "
              "including `origin = ANY(every origin)`) with the export's indexes:", ""]
    lines += [f"- {label}: `{plan}`" for label, plan in plans]
    lines += ["", "The verified answer includes, for every returned row: the checkpoint "
              "signature (once per checkpoint per answer), the leaf hash recomputed from the "
              "stored bytes, the inclusion proof and the derived columns. Cold: a process that "
              "has verified nothing yet (each `governance audit query` command). Warm: the same "
              "question asked again in one process (a report, a long-lived service): the "
              "checkpoint rows are read and compared again, each row's stored bytes re-hashed "
              "and every column and its proof compared with the remembered verified row. "
              "jq answers the same "
              "question with no verification at all. The jq figure for 'live at T' is one run "
              "of a streaming reduce (the last deployment change per origin and model); its row "
              "count is the number of (origin, model) pairs with a production deployment.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
