"""Benchmark of ``governance explain MODEL --env E --at T`` on a generated ledger (issue 7:
under 50 ms at the 95th percentile once the index exists, under 1 s for a cold process).

What is measured, on a governed repository whose ``releases/`` holds a directory for every
release of the generated history (so locating and loading a release costs what it costs in a
real repository of that size) and whose query index is built from the generated ledger:

- in process, per random (model, moment): a fresh ``GovernedRepo`` (as a CLI call starts),
  ``answers.explain_live`` (which release was live, load it, the model's events up to the moment,
  the six answers) and the text rendering; p50/p95/max;
- the same plus opening the index and checking the ledger head (everything a CLI call does
  after Python has started);
- a fresh process answering the same question, the index already current
  (bench/cold_process.py: not the ``governance`` command, see there);
- baseline in the same run: the same answer without the index, folding the whole ledger
  (``governance.lifecycle.fold_lifecycle``) before explaining (what ``explain`` would cost
  without the index).

Usage (from the repository root):
    .venv/bin/python bench/explain_bench.py                        # 1,000,000 events
    .venv/bin/python bench/explain_bench.py --events 100000 --models 100
Writes bench/results/explain.md (or --out). The ledger is synthetic (tests/support/histories.py):
the figures measure the index, the release loading and the answers, not reading git.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cold_process import WHAT, HeadOnly, cold_runs  # noqa: E402
from bench.machine import cpu_model  # noqa: E402
from governance.audit import answers, queries  # noqa: E402
from governance.audit.explain import explain_release, render_text  # noqa: E402
from governance.audit.index import AuditIndex, open_index  # noqa: E402
from governance.domain.events import LedgerEntry  # noqa: E402
from governance.lifecycle import fold_lifecycle  # noqa: E402
from governance.repo import GovernedRepo  # noqa: E402
from governance.timeparse import from_micros  # noqa: E402
from tests.support.histories import SyntheticLedger, generate_entries  # noqa: E402

EVENTS_PER_RELEASE = 13.6  # what the generator averages (bench/evidence_bench.py)

CONFIG = """apiVersion: governance/v1
kind: GovernanceConfig
people:
  - {id: alice, name: Alice, email: alice@example.com}
roles:
  ml_lead: {members: [alice]}
  platform_owner: {members: [alice]}
  risk_owner: {members: [alice]}
environments:
  staging: {required_approvals: [ml_lead]}
  production: {after: staging, required_approvals: [ml_lead, platform_owner, risk_owner]}
"""

MODEL_YAML = """apiVersion: governance/v1
kind: Model
name: {name}
owner: risk-platform
risk_tier: medium
escalation_path:
- platform-oncall
intended_use:
- benchmarking
not_for_use:
- anything real
"""

RELEASE_YAML = """apiVersion: governance/v1
kind: Release
release_id: {rid}
model_name: {model}
model_version: '{version}'
git_commit: '{commit}'
training_dataset:
  uri: s3://data/{model}/{version}
  sha256: {data}
feature_schema_version: features-v1
artifact:
  uri: s3://registry/{model}/{version}/model.bin
  sha256: {artifact}
evaluation_report:
  uri: evidence/eval.json
  sha256: {eval}
  path: evidence/eval.json
config_version: thresholds-v1
trained_by: dana
{fallback}created_at: '2026-01-02T08:00:00Z'
"""

CARD_YAML = """apiVersion: governance/v1
kind: ModelCard
model_name: {model}
version: '{version}'
release_id: {rid}
purpose: benchmark
owner: risk-platform
intended_use:
- benchmarking
not_for_use:
- anything real
training_data_window:
  start: '2025-01-01'
  end: '2025-12-31'
metrics:
  auc: {auc}
  latency_p95_ms: 24
subgroups:
  slice_a:
    auc: {slice_auc}
test_conditions:
  holdout: 4 weeks
evaluated_at: '2026-01-02T06:00:00Z'
known_limitations:
- synthetic
"""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def materialise(root: Path, entries: Iterable[LedgerEntry]) -> int:
    """A release directory (record, card, evidence) for every release_registered event."""
    previous: dict[str, str] = {}
    count = 0
    for entry in entries:
        if entry.event_type != "release_registered":
            continue
        e = entry.event
        model, rid, version = e["model_name"], e["release_id"], e["model_version"]
        mdir = root / "releases" / model
        if model not in previous:
            mdir.mkdir(parents=True, exist_ok=True)
            (mdir / "model.yaml").write_text(MODEL_YAML.format(name=model))
        d = mdir / rid
        (d / "evidence").mkdir(parents=True)
        auc = 0.85 + (int(hashlib.sha256(rid.encode()).hexdigest()[:4], 16) % 1000) / 10000
        ev = json.dumps({"metrics": {"auc": auc}}, sort_keys=True).encode() + b"\n"
        (d / "evidence" / "eval.json").write_bytes(ev)

        def h(part: str, rid: str = rid) -> str:
            return hashlib.sha256(f"{part}|{rid}".encode()).hexdigest()

        before = previous.get(model)
        fallback = (f"baseline: {before}\nrollback_target:\n  release_id: {before}\n" if before
                    else "rollback_target:\n  disable: true\n  reason: first release\n")
        (d / "release.yaml").write_text(RELEASE_YAML.format(
            rid=rid, model=model, version=version, commit=h("c")[:12], data=h("d"),
            artifact=h("a"), eval=hashlib.sha256(ev).hexdigest(), fallback=fallback))
        (d / "model-card.yaml").write_text(CARD_YAML.format(
            rid=rid, model=model, version=version, auc=round(auc, 4),
            slice_auc=round(auc - 0.02, 4)))
        previous[model] = rid
        count += 1
    return count


def sample_queries(conn: sqlite3.Connection, n: int, rng: random.Random
                   ) -> list[tuple[str, datetime]]:
    """Random (model, moment) pairs at which some release was live in production."""
    rows = conn.execute("SELECT model, min(ts), max(ts) FROM deployments "
                        "WHERE environment = 'production' GROUP BY model").fetchall()
    out: list[tuple[str, datetime]] = []
    while len(out) < n:
        model, lo, hi = rng.choice(rows)
        at = from_micros(lo + int((hi - lo) * rng.random() * 1.2))
        live = queries.live_release_at(conn, model, "production", at)
        if live.release_id is not None:
            out.append((model, at))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--models", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=300, help="in-process samples")
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--baseline-runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "explain.md")
    args = ap.parse_args()
    rng = random.Random(11)
    work = Path(tempfile.mkdtemp(prefix="explain-bench-"))
    (work / "governance.yaml").write_text(CONFIG)
    r: dict[str, object] = {"load_before": os.getloadavg()[0]}

    releases = max(1, round(args.events / args.models / EVENTS_PER_RELEASE))
    log(f"generating ~{args.events:,} events: {args.models} models x {releases} releases")
    t = time.perf_counter()
    entries = list(generate_entries(args.models, releases, seed=1))
    ledger = SyntheticLedger(entries)
    r["events"] = len(entries)
    log(f"generated {len(entries):,} events in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    r["release_dirs"] = materialise(work, entries)
    log(f"wrote {r['release_dirs']:,} release directories in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    with AuditIndex.for_repo(work) as index:
        index.catch_up(ledger)
    r["index_build_s"] = time.perf_counter() - t
    log(f"index built in {r['index_build_s']:.1f}s")
    head = ledger.head()
    assert head is not None

    with AuditIndex.for_repo(work) as index:
        samples = sample_queries(index.conn, args.queries, rng)
        core, model_events = [], []
        for model, at in samples:
            start = time.perf_counter()
            result = answers.explain_live(GovernedRepo(work), index.conn, model, "production", at)
            render_text(result.explanation)
            core.append(time.perf_counter() - start)
            model_events.append(len(result.explanation.answers["audit_trail"]["events"]))
    full = []
    for model, at in samples[: min(100, len(samples))]:
        start = time.perf_counter()
        with open_index(work, HeadOnly(head)) as index:
            result = answers.explain_live(GovernedRepo(work), index.conn, model, "production", at)
            render_text(result.explanation)
        full.append(time.perf_counter() - start)
    r["core_p50_ms"], r["core_p95_ms"] = pct(core, 0.5) * 1000, pct(core, 0.95) * 1000
    r["core_max_ms"] = max(core) * 1000
    r["full_p95_ms"] = pct(full, 0.95) * 1000
    with AuditIndex.for_repo(work) as index:
        per_model = [n for (n,) in index.conn.execute(
            "SELECT count(*) FROM events WHERE model IS NOT NULL GROUP BY model")]
    r["events_per_model_median"] = statistics.median(per_model)
    r["events_per_model_max"] = max(per_model)
    log(f"in process: p50 {r['core_p50_ms']:.1f} ms, p95 {r['core_p95_ms']:.1f} ms; "
        f"with index open + head check p95 {r['full_p95_ms']:.1f} ms")

    model, at = samples[0]
    at_text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    cold, out = cold_runs(work, head, ["explain", model, "production", at_text], args.cold_runs)
    first_line = out.splitlines()[0]
    r["cold_p95_s"], r["cold_median_s"] = pct(cold, 0.95), statistics.median(cold)
    with AuditIndex.for_repo(work) as index:
        expected = queries.live_release_at(index.conn, model, "production", at).release_id
    r["cold_answer_ok"] = first_line.split()[0] == expected
    log(f"cold process p95 {r['cold_p95_s']:.3f}s (answer {first_line.split()[0]})")

    baseline = []
    for model, at in samples[: args.baseline_runs]:
        start = time.perf_counter()
        cutoff = at.timestamp()
        upto = [e for e in entries
                if datetime.fromisoformat(e.timestamp).timestamp() <= cutoff]
        state = fold_lifecycle(upto, production_env="production")
        span = state.current(model, "production")
        assert span is not None
        repo = GovernedRepo(work)
        loaded = repo.load_release_alone(work / "releases" / model / span.release_id)
        mine = [e for e in upto if e.event.get("model_name") == model]
        render_text(explain_release(loaded, mine, environment="production", state=state))
        baseline.append(time.perf_counter() - start)
        with AuditIndex.for_repo(work) as index:
            ours = answers.explain_live(GovernedRepo(work), index.conn, model, "production", at)
        assert ours.explanation.release_id == span.release_id, (model, at)
    r["baseline_median_s"] = statistics.median(baseline)
    scans = []
    for model, at in samples[:5]:
        with AuditIndex.for_repo(work) as index:
            rid = queries.live_release_at(index.conn, model, "production", at).release_id
        start = time.perf_counter()
        GovernedRepo(work).load_release(str(rid))
        scans.append(time.perf_counter() - start)
    r["load_with_scan_median_ms"] = statistics.median(scans) * 1000
    r["load_after"] = os.getloadavg()[0]
    log(f"baseline (full fold, no index) median {r['baseline_median_s']:.2f}s")
    write(args, r)


def write(args: argparse.Namespace, r: dict[str, object]) -> None:
    cpu = cpu_model()
    core95, cold95 = float(r["core_p95_ms"]), float(r["cold_p95_s"])  # type: ignore[arg-type]
    base = float(r["baseline_median_s"])  # type: ignore[arg-type]
    cold50 = float(r["cold_median_s"])  # type: ignore[arg-type]
    scan = float(r["load_with_scan_median_ms"])  # type: ignore[arg-type]
    cmd = " ".join(["bench/explain_bench.py", "--events", str(args.events), "--models",
                    str(args.models)])
    text = f"""# `governance explain MODEL --env E --at T` benchmark

Run {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} on {os.cpu_count()} CPU(s)
{cpu}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}. Load average (1 min)
{r['load_before']:.1f} at the start, {r['load_after']:.1f} at the end (shared machine: wall-clock
figures are pessimistic).

Command: `.venv/bin/python {cmd}`

Ledger: {r['events']:,} synthetic events across {args.models:,} models
(tests/support/histories.py), indexed in {r['index_build_s']:.1f} s; the governed repository holds
a directory for every one of its {r['release_dirs']:,} releases. Events per model: median
{r['events_per_model_median']:,}, max {r['events_per_model_max']:,}.

| measure | result | target |
| --- | --- | --- |
| explain in process, p95 over {args.queries} random (model, moment) | {core95:.1f} ms | < 50 ms |
| same, p50 / max | {r['core_p50_ms']:.1f} ms / {r['core_max_ms']:.1f} ms | |
| same plus index open and ledger head check, p95 | {r['full_p95_ms']:.1f} ms | |
| fresh process, p95 of {args.cold_runs} (median {cold50:.3f} s) | {cold95:.3f} s | < 1 s |
| baseline: full ledger fold then explain, median of {args.baseline_runs} | {base:.2f} s | |
| aside: release loaded with repository-wide checks (`load_release`) | {scan:.0f} ms | |

In process, explain through the index is {base / (core95 / 1000):,.0f}x faster than folding the
ledger (baseline median over our p95); the baseline named the same live release for every sampled
moment, and the fresh process's first word was the expected release: {r['cold_answer_ok']}.

What one call does: `live_release_at` (index), one `release.yaml`/`model-card.yaml`/evidence
load with schema checks and the release digest, the model's events from the index (`history`,
then cut at `--at`), a lifecycle fold over those events only, the six answers and their text.
The baseline loads the release the same way; the "aside" row is why explain does not use
`GovernedRepo.load_release`: its cross-reference checks list every release directory of the
repository. The fresh-process figure is {WHAT}.

Raw figures: `{json.dumps(r, sort_keys=True, default=str)}`
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
