"""Where the wall and CPU of a cold build go (issue 18): the first ``open_index`` on a fresh
clone, per checkout, interleaved, each in a new interpreter.

    python bench/cold_build_split.py --ledger WORK/ledger-10000 --work DIR --rounds 3 \\
        A:CHECKOUT_A B:CHECKOUT_B

Per run: the total wall and the CPU of this process; the wall span and this process's CPU of
each phase (reading the commits, the verification with its join of the signature work, the
chain's save, the index rows); and the CPU of every child process it waited for, by kind (the
git processes by subcommand, the forked signature worker, the forked tree proof), taken from
``wait4``. The ledger is the one ``bench/verified_bench.py --work WORK`` generates.

With ``--command`` each run is instead the whole first query as a command, ``governance live
model-1 --env staging`` in a new interpreter on the fresh clone (the checkout first on
PYTHONPATH): its wall and CPU (user + system of it and its children, ``RUSAGE_CHILDREN``),
then the median and best per checkout.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r'''
import functools, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
root = Path(sys.argv[2])
from governance.audit.index import open_index
from governance.ledger.reader import ledger_source
import governance.audit.index as I
import governance.ledger.store as S
import governance.ledger.verified as VD
import governance.ledger.verify as V
try:
    import governance.ledger.proofwork as PW
except ImportError:
    PW = None
labels, kids = {}, []
def waitpid(pid, opts):
    p, status, ru = os.wait4(pid, opts)
    if p:
        kids.append((labels.get(p, "other child"), ru.ru_utime + ru.ru_stime))
    return p, status
os.waitpid = waitpid
popen = subprocess.Popen.__init__
def started(self, args, *a, **k):
    popen(self, args, *a, **k)
    labels[self.pid] = "git " + str(args[1]) if str(args[0]).endswith("git") else str(args[0])
subprocess.Popen.__init__ = started
def label_forks(cls, name, attr):
    init = cls.__init__
    def labelled(self, *a, **k):
        init(self, *a, **k)
        for pid in ([getattr(self, attr)] if attr == "_pid" else getattr(self, attr)):
            if pid:
                labels[pid] = name
    cls.__init__ = labelled
label_forks(V.SignatureWork, "signature worker", "pids")
if PW is not None:
    label_forks(PW.TreeProofWork, "tree proof", "_pid")
T0, phases = 0.0, []
def timed(obj, name, label):
    f = getattr(obj, name)
    @functools.wraps(f)
    def g(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            phases.append((label, t - T0, time.perf_counter() - T0, time.process_time() - c))
    setattr(obj, name, g)
timed(S.GitStore, "read_commits", "read (git, parse)")
timed(V, "verify_ledger", "verify_ledger (ordered pass, join)")
timed(V.SignatureWork, "finish", "  of it: finish (back chunks, wait)")
timed(VD.VerifiedLedger, "_save", "chain save")
timed(I.AuditIndex, "_append", "index rows")
T0, c0 = time.perf_counter(), time.process_time()
with ledger_source(root) as source:
    open_index(root, source).close()
wall, cpu = time.perf_counter() - T0, time.process_time() - c0
print(f"total wall {wall:.3f} s, this process CPU {cpu:.3f} s")
for label, a, b, c in phases:
    print(f"  {label:36} {a:6.3f} -> {b:6.3f} s (CPU here {c:.3f})")
agg = {}
for label, cpu in kids:
    n, s = agg.get(label, (0, 0.0))
    agg[label] = (n + 1, s + cpu)
print("  children: " + ", ".join(f"{k} x{n} {s:.3f}" for k, (n, s) in sorted(agg.items())))
'''


def first_query(code: str, clone: Path) -> tuple[float, float]:
    """The first query on the fresh clone ``clone`` as a command, ``governance live model-1
    --env staging`` in a new interpreter with ``code`` first on PYTHONPATH: (wall, CPU), the
    CPU being user + system of it and its children (``RUSAGE_CHILDREN``)."""
    env = {**os.environ, "PYTHONPATH": code}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "governance", "live", "model-1", "--env", "staging"],
                   cwd=clone, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--ledger", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--command", action="store_true")
    ap.add_argument("checkouts", nargs="+", metavar="LABEL:DIR")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clone = args.work / "split-clone"
    runs: dict[str, list[tuple[float, float]]] = {}
    for r in range(args.rounds):
        # alternating order: neither checkout always runs right after the other
        for item in args.checkouts if r % 2 == 0 else args.checkouts[::-1]:
            label, _, code = item.partition(":")
            shutil.rmtree(clone, ignore_errors=True)
            subprocess.run(["git", "clone", "-q", str(args.ledger), str(clone)], check=True)
            subprocess.run(["git", "-C", str(clone), "fetch", "-q", "origin",
                            "governance/ledger:governance/ledger"], check=True)
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"== round {r + 1}, {label} (load {load})", flush=True)
            if not args.command:
                subprocess.run([sys.executable, "-c", CHILD, code, str(clone)], check=True)
                continue
            wall, cpu = first_query(code, clone)
            runs.setdefault(label, []).append((wall, cpu))
            print(f"wall {wall:.3f} s, CPU {cpu:.3f} s", flush=True)
    shutil.rmtree(clone, ignore_errors=True)
    print(f"load at the end {Path('/proc/loadavg').read_text().split()[0]}")
    for label, xs in runs.items():
        walls, cpus = [w for w, _ in xs], [c for _, c in xs]
        print(f"{label}: wall median {statistics.median(walls):.3f} s, best {min(walls):.3f}; "
              f"CPU median {statistics.median(cpus):.3f} s, best {min(cpus):.3f} ({len(xs)} runs)")


if __name__ == "__main__":
    main()
