"""Benchmark of the evidence layer on a generated ledger (issue 7 targets in brackets).

- index build from the ledger, events/s [>= 20,000/s];
- p95 of ``live`` and ``audit query`` (approvals for one model over 12 months) once the index
  exists [< 50 ms], in-process, plus a fresh process for each [< 1 s] (bench/cold_process.py);
- the same two questions answered by ``jq`` over the JSON Lines export, in the same run (what a
  user would do without us);
- JSON Lines export and PostgreSQL export, events/s [PostgreSQL >= 10,000/s].

Usage (from the repository root):
    .venv/bin/python bench/evidence_bench.py                      # 1,000,000 events, 1,000 models
    .venv/bin/python bench/evidence_bench.py --events 100000 --models 100
Writes bench/results/evidence.md (or --out). The ledger is synthetic (tests/support/histories.py):
the figures measure the index, queries and sinks, not reading git.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cold_process import WHAT, HeadOnly, cold_runs  # noqa: E402
from governance.audit import queries  # noqa: E402
from governance.audit.index import AuditIndex, open_index  # noqa: E402
from governance.sinks.export import export  # noqa: E402
from governance.sinks.jsonl import JsonlSink  # noqa: E402
from governance.timeparse import parse_time  # noqa: E402
from tests.support.histories import SyntheticLedger, generate_entries  # noqa: E402

EVENTS_PER_RELEASE = 13.6  # what the generator averages


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def jq_times(args: list[str], files: list[str], runs: int) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(["jq", *args, *files], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        out = proc.stdout
    return times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--models", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=500, help="in-process samples per query")
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--jq-runs", type=int, default=3)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "evidence.md")
    args = ap.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    (work / "governance.yaml").write_text("apiVersion: governance/v1\nkind: GovernanceConfig\n")
    results: dict[str, object] = {}
    try:
        releases = max(1, round(args.events / args.models / EVENTS_PER_RELEASE))
        log(f"generating ~{args.events} events: {args.models} models x {releases} releases")
        entries, gen_s = timed(lambda: list(generate_entries(args.models, releases, seed=1)))
        ledger = SyntheticLedger(entries)
        n = len(entries)
        results["events"] = n
        log(f"generated {n} events in {gen_s:.1f}s")

        index_path = work / ".governance" / "index.sqlite"
        results["load_before"] = os.getloadavg()[0]
        with AuditIndex(index_path) as index:
            cpu0 = time.process_time()
            done, build_s = timed(index.catch_up, ledger)
            build_cpu = time.process_time() - cpu0
        assert done.indexed == n
        results["index_build_s"] = build_s
        results["index_build_eps"] = n / build_s
        results["index_build_cpu_eps"] = n / build_cpu
        results["index_bytes"] = index_path.stat().st_size
        log(f"index build: {n / build_s:,.0f} events/s ({build_s:.1f}s)")
        with AuditIndex(index_path) as index:
            _, noop_s = timed(index.catch_up, ledger)
        results["catch_up_noop_ms"] = noop_s * 1000

        models = sorted({e.event["model_name"] for e in entries if "model_name" in e.event})
        first = datetime.fromisoformat(entries[1].timestamp)
        last = datetime.fromisoformat(entries[-1].timestamp)
        now = last
        since = parse_time("12mo", now=now)
        live_s, query_s, open_s = [], [], []
        sample_model = models[0]
        with AuditIndex(index_path) as index:
            for _ in range(args.queries):
                model = rng.choice(models)
                at = first + (last - first) * rng.random()
                start = time.perf_counter()
                try:
                    queries.live_release_at(index.conn, model, "production", at)
                except Exception:  # noqa: BLE001 - "nothing live yet" is a valid answer
                    pass
                live_s.append(time.perf_counter() - start)
                flt = queries.AuditFilter(
                    model=rng.choice(models), event_types=("approval_granted",), since=since
                )
                start = time.perf_counter()
                queries.audit_query(index.conn, flt)
                query_s.append(time.perf_counter() - start)
        head = ledger.head()
        assert head is not None
        for _ in range(50):  # what each CLI call does before the query: open + head check
            start = time.perf_counter()
            open_index(work, HeadOnly(head)).close()
            open_s.append(time.perf_counter() - start)
        results["live_p95_ms"] = p95(live_s) * 1000
        results["query_p95_ms"] = p95(query_s) * 1000
        results["open_p95_ms"] = p95(open_s) * 1000
        log(
            f"live p95 {results['live_p95_ms']:.2f} ms, audit query p95 "
            f"{results['query_p95_ms']:.2f} ms, open+head check p95 {results['open_p95_ms']:.2f} ms"
        )

        at_text = (first + (last - first) * 0.7).strftime("%Y-%m-%dT%H:%M:%SZ")
        since_text = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        cold_live, _ = cold_runs(work, head, ["live", sample_model, "production", at_text],
                                 args.cold_runs)
        cold_query, _ = cold_runs(work, head, ["approvals", sample_model, since_text],
                                  args.cold_runs)
        results["cold_live_p95_s"] = p95(cold_live)
        results["cold_query_p95_s"] = p95(cold_query)
        log(f"cold process p95: live {p95(cold_live):.3f}s, audit query {p95(cold_query):.3f}s")

        sink_dir = work / "audit-export"
        exported, jsonl_s = timed(export, work, ledger, JsonlSink(sink_dir))
        results["jsonl_export_eps"] = exported.exported / jsonl_s
        results["jsonl_bytes"] = sum(p.stat().st_size for p in sink_dir.glob("*.jsonl"))
        log(f"jsonl export: {exported.exported / jsonl_s:,.0f} events/s")

        if shutil.which("jq"):
            files = sorted(str(p) for p in sink_dir.glob("*.jsonl"))
            jq_query = (
                f'select(.event.model_name == "{sample_model}" and .event_type == '
                f'"approval_granted" and .timestamp >= "{since_text}") | .event_id'
            )
            jq_live = (
                f'[inputs | select(.event.model_name == "{sample_model}" and .event.environment '
                f'== "production" and (.event_type == "deployment_promoted" or .event_type == '
                f'"break_glass" or .event_type == "rollback_executed") and .timestamp <= '
                f'"{at_text}")] | sort_by(.seq) | last | if .event_type == "rollback_executed" '
                "then .event.to_release else .event.release_id end"
            )
            q_times, q_out = jq_times(["-r", jq_query], files, args.jq_runs)
            l_times, l_out = jq_times(["-n", "-r", jq_live], files, args.jq_runs)
            results["jq_query_median_s"] = statistics.median(q_times)
            results["jq_live_median_s"] = statistics.median(l_times)
            with AuditIndex(index_path) as index:
                ours_live = queries.live_release_at(
                    index.conn, sample_model, "production", parse_time(at_text)
                ).release_id
                ours_query = [
                    e.event_id
                    for e in queries.audit_query(
                        index.conn,
                        queries.AuditFilter(
                            model=sample_model, event_types=("approval_granted",), since=since
                        ),
                    )
                ]
            results["jq_agrees"] = l_out.strip() == str(ours_live) and q_out.split() == ours_query
            log(
                f"jq: query {statistics.median(q_times):.2f}s, live "
                f"{statistics.median(l_times):.2f}s, agrees: {results['jq_agrees']}"
            )
        else:
            results["jq_note"] = "jq not installed: comparison skipped (apt-get install jq)"

        if not args.skip_postgres:
            results.update(bench_postgres(work, ledger))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()[0]
    write_report(args, results)


def bench_postgres(work: Path, ledger: SyntheticLedger) -> dict[str, object]:
    try:
        import psycopg

        from governance.sinks.export import verify
        from governance.sinks.postgres import PostgresSink, install_schema
        from tests.support.postgres import WRITER, start_server

        server = start_server()
    except Exception as err:  # noqa: BLE001
        return {"pg_note": f"PostgreSQL export skipped: {err}"}
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {WRITER} LOGIN")
            conn.execute("CREATE DATABASE audit")
        with psycopg.connect(server.dsn("audit")) as conn:
            install_schema(conn, WRITER)
        sink = PostgresSink(server.dsn("audit", WRITER))
        done, pg_s = timed(export, work, ledger, sink)
        report, verify_s = timed(verify, work, ledger, sink)
        sink.close()
        log(
            f"postgres export: {done.exported / pg_s:,.0f} events/s; verify {verify_s:.1f}s "
            f"ok={report.ok}"
        )
        return {
            "pg_export_eps": done.exported / pg_s,
            "pg_verify_s": verify_s,
            "pg_verify_ok": report.ok,
            "pg_version": sqlite_free_pg_version(server),
        }
    finally:
        server.destroy()


def sqlite_free_pg_version(server) -> str:  # type: ignore[no-untyped-def]
    return server.bindir.parent.name


def write_report(args: argparse.Namespace, r: dict[str, object]) -> None:
    def f(key: str, fmt: str = "{:,.0f}") -> str:
        value = r.get(key)
        return "n/a" if value is None else fmt.format(value)

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo", encoding="utf-8")
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    lines = [
        "# Evidence layer benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s) {cpu}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {r.get('pg_version', 'n/a')}. Load average (1 min) "
        f"{f('load_before', '{:.1f}')} at the start, {f('load_after', '{:.1f}')} at the end: "
        "the machine was shared with other jobs, so wall-clock figures are pessimistic.",
        "",
        "Command: `.venv/bin/python bench/evidence_bench.py "
        f"--events {args.events} --models {args.models}`",
        "",
        f"Ledger: {r['events']:,} synthetic events across {args.models:,} models "
        "(tests/support/histories.py: registrations, gates, approvals, promotions, rollbacks "
        "with incidents, config changes, break-glass, retirements).",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| index build | {f('index_build_eps')} events/s ({f('index_build_s', '{:.1f}')} s, "
        f"{f('index_bytes', '{:,}')} bytes) | >= 20,000 events/s |",
        f"| index build, per CPU second of the building process | "
        f"{f('index_build_cpu_eps')} events/s | |",
        f"| catch-up with head unchanged | {f('catch_up_noop_ms', '{:.2f}')} ms | |",
        f"| `live` p95, in process ({args.queries} random model/time) | "
        f"{f('live_p95_ms', '{:.2f}')} ms | < 50 ms |",
        f"| `audit query` approvals, 1 model, 12 months, p95 in process | "
        f"{f('query_p95_ms', '{:.2f}')} ms | < 50 ms |",
        f"| index open + head check p95 (per CLI call) | {f('open_p95_ms', '{:.2f}')} ms | |",
        f"| `live` in a fresh process, p95 ({args.cold_runs} runs) | "
        f"{f('cold_live_p95_s', '{:.3f}')} s | < 1 s |",
        f"| approvals query in a fresh process, p95 | {f('cold_query_p95_s', '{:.3f}')} s "
        "| < 1 s |",
        f"| jq over the JSON Lines export: same audit query (median of {args.jq_runs}) | "
        f"{f('jq_query_median_s', '{:.2f}')} s | baseline |",
        f"| jq over the JSON Lines export: same live question (median) | "
        f"{f('jq_live_median_s', '{:.2f}')} s | baseline |",
        f"| JSON Lines export | {f('jsonl_export_eps')} events/s "
        f"({f('jsonl_bytes', '{:,}')} bytes) | |",
        f"| PostgreSQL export (COPY + INSERT ... ON CONFLICT DO NOTHING) | "
        f"{f('pg_export_eps')} events/s | >= 10,000 events/s |",
        f"| PostgreSQL verify-sink (every row re-hashed) | {f('pg_verify_s', '{:.1f}')} s, "
        f"ok={r.get('pg_verify_ok', 'n/a')} | |",
        "",
    ]
    if "jq_query_median_s" in r:
        ratio_q = float(r["jq_query_median_s"]) / float(r["cold_query_p95_s"])  # type: ignore[arg-type]
        ratio_l = float(r["jq_live_median_s"]) / float(r["cold_live_p95_s"])  # type: ignore[arg-type]
        lines += [
            f"Against jq (a user without the index), a fresh process is "
            f"{ratio_q:,.0f}x faster for the audit query and {ratio_l:,.0f}x faster for `live` "
            f"(jq median vs our cold p95); in process the ratio is "
            f"{float(r['jq_query_median_s']) * 1000 / float(r['query_p95_ms']):,.0f}x and "  # type: ignore[arg-type]
            f"{float(r['jq_live_median_s']) * 1000 / float(r['live_p95_ms']):,.0f}x. "  # type: ignore[arg-type]
            f"jq gave the same answers: {r.get('jq_agrees')}.",
            "",
        ]
    for note in ("jq_note", "pg_note"):
        if note in r:
            lines += [f"Note: {r[note]}", ""]
    lines += [
        f"Notes: the fresh-process figures are {WHAT}. "
        "The PostgreSQL server is a throwaway local instance (fsync off; the sink forces "
        "`synchronous_commit = on` per batch).",
        "",
        "Raw figures: `" + json.dumps(r, sort_keys=True, default=str) + "`",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
