"""Benchmark: `governance validate` over a generated repo vs plain yaml.safe_load + jsonschema.

    python bench/validate_bench.py [--models 1000] [--per-model 10] [--workdir DIR]

Generates (or reuses) a synthetic governed repository, then in the same run measures:
- `governance validate` as a user runs it (a fresh process, wall time, peak RSS of the largest
  process via getrusage of children), with the default worker count and with -j 1;
- the baseline a user would otherwise write: for every release.yaml and model-card.yaml,
  yaml.safe_load then jsonschema.validate against our schemas (no digests, no evidence hashing,
  no cross-references, no locations).
Prints a Markdown table row set for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from bench.generate_repo import generate  # noqa: E402
from governance.records import schema_for  # noqa: E402


def run_cli(repo: Path, *extra: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "governance", "validate", *extra], cwd=repo,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"validate failed: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return elapsed, peak / 1024.0


def baseline(repo: Path) -> float:
    validators = {kind: jsonschema.Draft202012Validator(schema_for(kind))
                  for kind in ("Release", "ModelCard")}
    start = time.perf_counter()
    for path in sorted((repo / "releases").glob("*/*/release.yaml")):
        validators["Release"].validate(yaml.safe_load(path.read_text("utf-8")))
        card = path.with_name("model-card.yaml")
        validators["ModelCard"].validate(yaml.safe_load(card.read_text("utf-8")))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--per-model", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gov-bench-"))
    repo = work / f"repo-{args.models}x{args.per_model}"
    if not (repo / "governance.yaml").exists():
        t0 = time.perf_counter()
        generate(repo, args.models, args.per_model)
        print(f"generated in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    n = args.models * args.per_model
    par_s, par_rss = run_cli(repo)
    one_s, one_rss = run_cli(repo, "-j", "1")
    base_s = baseline(repo)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print(f"releases: {n} across {args.models} models")
    print("| run | wall s | releases/s | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| governance validate (default jobs) | {par_s:.2f} | {n / par_s:,.0f} | "
          f"{par_rss:.0f} |")
    print(f"| governance validate -j 1 | {one_s:.2f} | {n / one_s:,.0f} | {one_rss:.0f} |")
    print(f"| baseline: yaml.safe_load + jsonschema, in-process | {base_s:.2f} | "
          f"{n / base_s:,.0f} | - |")
    print(f"ratio (baseline time / governance validate time): {base_s / par_s:.2f}x")


if __name__ == "__main__":
    main()
