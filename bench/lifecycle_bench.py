"""Lifecycle benchmark: `governance rollback` and `governance status` wall time by ledger size.

    .venv/bin/python bench/lifecycle_bench.py [--sizes 1000,10000,100000] [--repeat 5]
        [--out bench/results/lifecycle.md]

For each size: the lifecycle test world (tests/integration/lifecycle/world.py: real SSH keys,
fraud-risk r1 then r2 approved and promoted through staging and production by the real CLI),
then synthetic events of other models bulk-imported (``governance.ledger.bulk.bulk_import``,
signed in-process) until the ledger holds the size. Then, each as a fresh CLI process exactly
as an operator runs it:
  * ``governance status fraud-risk`` (per-model fold from the query index + pointer drift
    check): once cold (the call that builds .governance/index.sqlite), then --repeat times;
  * ``governance rollback fraud-risk --env production`` (gates evaluated on the embedded Rego
    engine, ``rollback_executed`` appended and signed, pointer written), alternating between
    r1 and r2 with ``--to`` so every run is a real rollback, --repeat times, each followed by
    a ``status`` (which then catches the index up by one event);
  * ``governance --help`` as the floor: Python start-up and imports, no ledger at all.
Figures are medians (min and max beside them).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import cpu_model  # noqa: E402
from governance.ledger.bulk import bulk_import  # noqa: E402
from tests.integration.lifecycle.world import (  # noqa: E402
    BOT,
    MODEL,
    R1,
    R2,
    World,
    add_approved_release,
    build,
)

DIGEST = "sha256:" + "cd" * 32


def machine() -> str:
    cpu = cpu_model()
    gitv = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    return (f"{cpu}, {os.cpu_count()} CPUs, load average {load[0]:.2f} at start; "
            f"Python {platform.python_version()}, {gitv}, {platform.system()} "
            f"{platform.release()}")


def filler(n: int, keys: Path) -> Iterator[tuple[Mapping[str, Any], Path]]:
    """Other models' registrations, gate decisions and promotions (what a busy ledger holds)."""
    for i in range(n):
        model = f"other-{i % 50:02d}"
        rid = f"{model}-r{i // 3}"
        kind = ("release_registered", "gate_evaluated", "deployment_promoted")[i % 3]
        fields: dict[str, Any] = {"event_type": kind, "model_name": model, "release_id": rid,
                                  "model_version": f"1.{i // 3}", "release_digest": DIGEST}
        if kind == "gate_evaluated":
            fields.update(environment="staging",
                          decision={"allow": True, "decision_id": f"d{i}"})
        elif kind == "deployment_promoted":
            fields.update(environment="staging", decision={"allow": True})
        yield fields, keys / BOT


def timed(world: World, who: str | None, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "governance", *args], cwd=world.ci,
                          env=world.env(who), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"governance {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return elapsed


def summary(samples: list[float]) -> str:
    return (f"{statistics.median(samples):.3f} s (min {min(samples):.3f}, "
            f"max {max(samples):.3f})")


def measure(size: int, repeat: int, work: Path) -> dict[str, Any]:
    world = build(work / f"world-{size}")
    add_approved_release(world)
    for env in ("staging", "production"):
        world.run(BOT, "promote", R2, "--env", env)
    have = len(world.events())
    started = time.perf_counter()
    added = bulk_import(world.ci, filler(max(0, size - have), world.keys),
                        log_key=world.keys / "log")
    build_s = time.perf_counter() - started
    total = have + added
    print(f"{total} events (bulk import of {added} in {build_s:.1f}s)", file=sys.stderr)
    floor = [timed(world, None, "--help") for _ in range(repeat)]
    cold = timed(world, None, "status", MODEL)  # first call: builds the query index
    status = [timed(world, None, "status", MODEL) for _ in range(repeat)]
    rollback, status_after = [], []
    for i in range(repeat):
        target = R1 if i % 2 == 0 else R2
        rollback.append(timed(world, "platform-oncall", "rollback", MODEL, "--env",
                              "production", "--to", target, "--reason", "bench",
                              "--incident", f"BENCH-{i}"))
        status_after.append(timed(world, None, "status", MODEL))  # catches up one event
    return {"size": total, "import_s": build_s, "floor": floor, "cold": cold, "status": status,
            "rollback": rollback, "status_after": status_after}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    header = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(measure(size, args.repeat, Path(tmp)))
    lines = [f"Machine: {header}", "",
             f"Command: `.venv/bin/python bench/lifecycle_bench.py --sizes {args.sizes} "
             f"--repeat {args.repeat}`", "",
             "| ledger events | `governance --help` (floor) | first `status` (builds the "
             "index) | `status fraud-risk` | `rollback` (gates + signed event + pointer) | "
             "`status` right after each rollback |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['size']:,} | {summary(r['floor'])} | {r['cold']:.3f} s | "
                     f"{summary(r['status'])} | {summary(r['rollback'])} | "
                     f"{summary(r['status_after'])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
