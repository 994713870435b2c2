"""Benchmark: `governance check` (one release, and --all) over a generated repo of 10,000 releases.

    python bench/policy_bench.py [--models 100] [--per-model 100] [--workdir DIR] [--naive 200]
                                 [--compare REV [--pairs 3]]

Same run, same machine:
1. `governance check RELEASE` as a user runs it: a fresh process (interpreter start, config,
   policy compile in the regopy worker, one evaluation), wall time; median and worst of 5.
2. `governance check --all`: one compiled policy per regopy worker, reused for every release
   (default workers = CPUs), and with GOVERNANCE_POLICY_WORKERS=1 (reuse without parallelism).
3. The naive way: a fresh engine per release (start a worker, compile, evaluate, stop) over a
   sample of releases, extrapolated to the whole repository.
4. With ``--compare REV``: ``check --all`` of this checkout and of REV (its code and its
   policies, from a temporary git worktree), interleaved ``--pairs`` times, so both sides see
   the same machine (a shared VM's speed drifts by 20% within an hour).
Writes the figures to bench/results/policy.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from bench.generate_repo import generate  # noqa: E402
from governance.lifecycle import LifecycleState  # noqa: E402
from governance.policy.bundle import load_bundle  # noqa: E402
from governance.policy.engines.regopy_engine import RegopyEngine  # noqa: E402
from governance.policy.gates import GateRun  # noqa: E402
from governance.policy.input import GateRequest, parse_time  # noqa: E402
from governance.repo import GovernedRepo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-05-01T00:00:00Z"  # evaluations in the generated repo are 0-120 days old then


def cli(repo: Path, *args: str, workers: int | None = None,
        code: Path | None = None) -> tuple[float, int, str]:
    env = dict(os.environ, GOVERNANCE_NOW=NOW, GOVERNANCE_ENGINE="regopy")
    if code is not None:
        env["PYTHONPATH"] = str(code)
    if workers is not None:
        env["GOVERNANCE_POLICY_WORKERS"] = str(workers)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "governance", "check", *args], cwd=repo,
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr[-800:]}")
    return elapsed, proc.returncode, proc.stdout


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (the CLI and its workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def naive(repo_dir: Path, sample: int) -> float:
    """Seconds per release with a fresh engine each time (start, compile, evaluate, stop)."""
    repo = GovernedRepo(repo_dir)
    bundle = load_bundle(repo_dir / "policies")
    request = GateRequest(now=parse_time(NOW))
    dirs = repo.release_dirs()[:sample]
    start = time.perf_counter()
    for d in dirs:
        state = LifecycleState(production_env=repo.config.production_environment)
        run = GateRun(repo, bundle, RegopyEngine(), request, state)
        try:
            decision = run.evaluate(repo.load_release(d))
            assert decision.undecided is None, decision.undecided
        finally:
            run.close()
    return (time.perf_counter() - start) / len(dirs)


def compare(repo: Path, rev: str, pairs: int) -> list[str]:
    """Interleaved ``check --all`` runs of this checkout and of ``rev`` (code and policies)."""
    sides = [("this checkout", ROOT)]
    with tempfile.TemporaryDirectory(prefix="policy-bench-rev-") as tmp:
        other = Path(tmp) / "rev"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other),
                        rev], check=True)
        sides.append((f"`{rev}`", other))
        results: dict[str, list[tuple[float, float, int]]] = {label: [] for label, _ in sides}
        try:
            for _ in range(pairs):
                for label, code in sides:
                    cpu_start = _children_cpu()
                    wall, _, out = cli(repo, "--all", "--policies", str(code / "policies"),
                                       code=code)
                    cpu = _children_cpu() - cpu_start
                    denials = sum(1 for line in out.splitlines() if line.startswith("DENY"))
                    results[label].append((wall, cpu, denials))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                           check=False)
    total = len(GovernedRepo(repo).release_dirs())
    lines = [
        f"Interleaved `check --all` runs (each with its own code and policies), {pairs} pairs:",
        "",
        "| run | " + " | ".join(label for label, _ in sides) + " |",
        "|---|" + "---|" * len(sides),
    ]
    for i in range(pairs):
        cells = [f"{total / wall:.0f} releases/s, CPU {cpu / total * 1000:.2f} ms/release, "
                 f"{denials} denials" for wall, cpu, denials in (results[label][i]
                                                                 for label, _ in sides)]
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--per-model", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--naive", type=int, default=200, help="releases in the naive sample")
    parser.add_argument("--compare", metavar="REV", default=None,
                        help="also run check --all of this git revision, interleaved")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved runs with --compare")
    args = parser.parse_args()
    base = args.workdir or Path(tempfile.mkdtemp(prefix="policy-bench-"))
    repo = base / "repo"
    total = args.models * args.per_model
    if not (repo / "governance.yaml").is_file():
        generate(repo, args.models, args.per_model)
    shutil.rmtree(repo / "policies", ignore_errors=True)
    shutil.copytree(ROOT / "policies", repo / "policies")
    one = f"model-{args.models // 2:04d}-2026-02-01-01"

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    singles = [cli(repo, one)[0] for _ in range(5)]
    cpu_start = _children_cpu()
    all_wall, _, out = cli(repo, "--all")
    cpu_all = _children_cpu() - cpu_start
    all_one_wall, _, _ = cli(repo, "--all", workers=1)
    counts = {k: sum(1 for line in out.splitlines() if line.startswith(k))
              for k in ("PASS", "DENY", "COULD NOT DECIDE")}
    per_naive = naive(repo, args.naive)
    compared = compare(repo, args.compare, args.pairs) if args.compare else []
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())

    rate_all = total / all_wall
    rate_one = total / all_one_wall
    rate_naive = 1 / per_naive
    lines = [
        "# Policy benchmark (`governance check`)",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, regopy {metadata.version('regopy')}.",
        f"Repository: generated by bench/generate_repo.py, {args.models} models x "
        f"{args.per_model} releases = {total} releases (GOVERNANCE_NOW={NOW}).",
        "Command: `python -m bench.policy_bench"
        + (f" --models {args.models} --per-model {args.per_model}" if total != 10_000 else "")
        + (f" --compare {args.compare} --pairs {args.pairs}" if args.compare else "")
        + "` (from the repository root; `--workdir DIR` reuses a generated repository)",
        "",
        "| Measurement | Result | Target |",
        "|---|---|---|",
        f"| `governance check {one}` (fresh process, wall) | median "
        f"{statistics.median(singles):.2f} s, worst {max(singles):.2f} s | < 1 s |",
        f"| `governance check --all` ({total} releases, default workers = CPUs) | "
        f"{all_wall:.1f} s, **{rate_all:.0f} releases/s** | >= 300/s |",
        f"| `governance check --all`, one worker (one compiled policy reused) | "
        f"{all_one_wall:.1f} s, {rate_one:.0f} releases/s | |",
        f"| naive: fresh engine per release (sample of {args.naive}) | "
        f"{per_naive * 1000:.0f} ms per release, {rate_naive:.1f} releases/s "
        f"(~{per_naive * total / 60:.0f} min for {total}) | baseline |",
        "",
        f"Reusing compiled policies is **{rate_all / rate_naive:.0f}x** faster than a fresh "
        f"engine per release ({rate_one / rate_naive:.0f}x with a single worker).",
        f"Decisions in the --all run: {counts['PASS']} pass, {counts['DENY']} deny, "
        f"{counts['COULD NOT DECIDE']} could not decide.",
        "",
        "Notes:",
        f"- CPU time of the --all run (the CLI and its regopy workers): {cpu_all:.1f} s, "
        f"{cpu_all / total * 1000:.2f} ms per release; with {os.cpu_count()} CPU(s) the "
        f"ceiling is about {(os.cpu_count() or 1) / (cpu_all / total):.0f} releases/s, so the "
        f"run used {rate_all / ((os.cpu_count() or 1) / (cpu_all / total)) * 100:.0f}% of it. "
        f"Load average before/after the runs: {load_before} / {load_after}.",
        "- Per release, rego-cpp evaluates every gate in a worker process (one compiled policy "
        "per worker, one worker per CPU, four requests queued per worker); this process loads and "
        "checks the release (schema, evidence sha256, digest), builds the input, validates it "
        "against its schema and writes the decision record. Throughput scales with CPUs.",
        "- The generated repository has complete evidence; its denials are real (latency above "
        "the 50 ms threshold, evaluations older than 90 days, subgroup regressions against the "
        "baseline), and every gate is evaluated for every release either way.",
        "",
        *compared,
    ]
    text = "\n".join(lines)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "policy.md").write_text(text + "\n", "utf-8")
    print(text)


if __name__ == "__main__":
    main()
