"""Interleaved before/after of one catch-up (issue 13: "catching up 100 new events adds < 30 ms
to a query"), measured finely on a snapshot copied afresh for every round.

    .venv/bin/python bench/catchup_ab.py --ledger WORK/ledger-10000 --keys WORK/keys \\
        --work DIR --rounds 9 [--catch-up 100] [--profile OUT] NAME:CHECKOUT [NAME:CHECKOUT ...]

WORK is a bench/verified_bench.py ``--work`` directory (its generated ledger and keys). Once:
``DIR/source`` is a clone of the ledger with --catch-up events bulk-imported on top (the same
new commits for every checkout). Per checkout: ``DIR/snap-NAME`` is a fresh clone whose
verified chain and query index that checkout built (a first query, in its own interpreter),
then the ledger ref fetched from ``DIR/source`` (git only: the new commits are byte for byte
the same for every checkout). Per round and checkout, alternating, one new interpreter with
``PYTHONPATH`` at the checkout: it catches up once on a throwaway copy (imports, caches
warmed as in a long-lived process), then on a fresh copy of the snapshot runs the query
(``open_index`` through the verified reader) that catches up, and the same query again with
nothing new; the difference is what catching up adds, in CPU (this process plus the git
processes it waited for, apart) and wall. ``--commands`` measures ``governance live`` as a
command instead (a new interpreter per run, imports included: the first on a fresh copy of the
snapshot catches up, the second finds nothing new; CPU of the process and its git children,
together). ``--profile OUT`` writes a cProfile of one catch-up
per checkout (``OUT-NAME.prof``) instead of the rounds. Prints medians and lows, and the load
average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# runs in the measured interpreter (PYTHONPATH: the checkout); argv: snapshot, scratch, profile
_CHILD = r"""
import json, os, resource, shutil, sys, time
from pathlib import Path
from governance.audit.index import open_index
from governance.ledger.reader import ledger_source

snap, scratch, profile = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def fresh(name):
    dst = scratch / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(snap, dst, symlinks=True)
    return dst

def query(root):
    with ledger_source(root) as source:
        open_index(root, source).close()

def cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

query(fresh("warm-up"))  # imports and first-use caches, as in a process that already answered
root = fresh("round")
if profile:  # CPU time of this process (the wall would count the disk's fsyncs)
    import cProfile
    prof = cProfile.Profile(time.process_time)
    prof.runcall(query, root)
    prof.dump_stats(profile)
    sys.exit(0)
out = {}
for name in ("catch_up", "nothing_new"):
    (me0, kids0), t = cpu(), time.perf_counter()
    query(root)
    wall = time.perf_counter() - t
    me1, kids1 = cpu()
    out[name] = {"wall": wall, "cpu": me1 - me0, "git": kids1 - kids0}
print(json.dumps(out))
"""


def _env(code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("GOVERNANCE_")}
    return {**env, "PYTHONPATH": str(code)}


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _clone(src: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    _git("clone", "-q", str(src), str(dst))
    _git("fetch", "-q", "origin", "governance/ledger:governance/ledger", cwd=dst)
    return dst


def source(ledger: Path, keys: Path, work: Path, n: int) -> Path:
    """The ledger with ``n`` more events on top (made once, reused)."""
    src = work / "source"
    if (src / ".git").exists():
        return src
    sys.path.insert(0, str(HERE))
    from bench.verified_bench import events
    from governance.ledger.bulk import bulk_import

    _clone(ledger, src)
    # an offset past the verified_bench rounds' events (a multiple of 8: the mix's gate
    # decision and the promotion resting on it stay in one batch)
    bulk_import(src, events(n, keys, offset=1_000_000), log_key=keys / "log")
    return src


def snapshot(name: str, code: Path, ledger: Path, src: Path, work: Path) -> Path:
    """A clone indexed by ``code`` at the ledger's tip, then moved to ``src``'s tip."""
    snap = _clone(ledger, work / f"snap-{name}")
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from governance.audit.index import open_index; "
                    "from governance.ledger.reader import ledger_source; "
                    "r = Path(sys.argv[1]); s = ledger_source(r); open_index(r, s).close(); "
                    "s.close()", str(snap)], env=_env(code), check=True)
    _git("fetch", "-q", str(src), "+governance/ledger:governance/ledger", cwd=snap)
    return snap


def _command(code: Path, root: Path) -> dict[str, float]:
    """``governance live`` as a command in a new interpreter: its wall and CPU (the process
    and the git processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "governance", "live", "model-1", "--env", "staging"],
                   cwd=root, env=_env(code), check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": after.ru_utime - before.ru_utime + after.ru_stime
            - before.ru_stime, "git": 0.0}


def _commands(code: Path, snap: Path, scratch: Path) -> dict[str, dict[str, float]]:
    """The whole-process catch-up: the first command on a fresh copy, then the same again."""
    root = scratch / "command"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(snap, root, symlinks=True)
    return {"catch_up": _command(code, root), "nothing_new": _command(code, root)}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--ledger", type=Path, required=True)
    ap.add_argument("--keys", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--catch-up", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--profile", default="")
    ap.add_argument("--commands", action="store_true",
                    help="measure `governance live` as a command (a new interpreter: imports "
                         "included) instead of the query in a process that already answered")
    ap.add_argument("checkouts", nargs="+", help="NAME:CHECKOUT")
    args = ap.parse_args()
    codes = [(n, Path(p).resolve()) for n, p in (c.split(":", 1) for c in args.checkouts)]
    args.work.mkdir(parents=True, exist_ok=True)
    src = source(args.ledger.resolve(), args.keys.resolve(), args.work, args.catch_up)
    snaps = {name: snapshot(name, code, args.ledger.resolve(), src, args.work)
             for name, code in codes}
    for _, code in codes:  # compiled once, as an install does
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "governance")],
                       capture_output=True)
    load = [os.getloadavg()[0]]
    results: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name, _ in codes}
    for r in range(1 if args.profile else args.rounds):
        for name, code in codes if r % 2 == 0 else list(reversed(codes)):
            scratch = args.work / f"scratch-{name}"
            scratch.mkdir(exist_ok=True)
            if args.commands:
                results[name].append(_commands(code, snaps[name], scratch))
                continue
            prof = f"{args.profile}-{name}.prof" if args.profile else ""
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(snaps[name]), str(scratch),
                                   prof], env=_env(code), capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stderr}")
            if not args.profile:
                results[name].append(json.loads(proc.stdout))
    load.append(os.getloadavg()[0])
    if args.profile:
        print(f"profiles written: {', '.join(f'{args.profile}-{n}.prof' for n, _ in codes)}")
        return
    what = "`governance live` as a command" if args.commands else "the query in process"
    print(f"{what}: {args.rounds} rounds per checkout, alternating; load average "
          f"{load[0]:.2f} before, {load[1]:.2f} after")
    print("| checkout | CPU added: median (low) | of which git | wall added: median (low) "
          "| catch-up query CPU / wall | nothing new CPU / wall |")
    print("|---|---|---|---|---|---|")
    for name, _ in codes:
        rs = results[name]
        cpu = [x["catch_up"]["cpu"] + x["catch_up"]["git"] - x["nothing_new"]["cpu"]
               - x["nothing_new"]["git"] for x in rs]
        git = [x["catch_up"]["git"] - x["nothing_new"]["git"] for x in rs]
        wall = [x["catch_up"]["wall"] - x["nothing_new"]["wall"] for x in rs]

        def med(key: str, part: str, rs: list[dict[str, dict[str, float]]] = rs) -> float:
            if part == "all":
                return statistics.median(x[key]["cpu"] + x[key]["git"] for x in rs) * 1000
            return statistics.median(x[key][part] for x in rs) * 1000

        print(f"| {name} | {statistics.median(cpu) * 1000:.1f} ms ({min(cpu) * 1000:.1f}) | "
              f"{statistics.median(git) * 1000:.1f} ms | {statistics.median(wall) * 1000:.1f} ms "
              f"({min(wall) * 1000:.1f}) | {med('catch_up', 'all'):.1f} / "
              f"{med('catch_up', 'wall'):.1f} ms | {med('nothing_new', 'all'):.1f} / "
              f"{med('nothing_new', 'wall'):.1f} ms |")


if __name__ == "__main__":
    main()
