"""``governance ledger verify`` as a command against the same verification in process, A/B.

For each code tree given (``NAME:DIR``, a checkout or ``git archive`` whose ``governance``
package is put first on PYTHONPATH), runs in a new interpreter each, alternating trees round
by round on one ledger clone (issue 13: "``ledger verify`` >= 100x ``git log
--show-signature``, in process and as a command"):

  bare      ``python -c pass``: the interpreter alone
  inproc    ``python -c`` importing ``governance.ledger.verify_repo`` and calling it: the
            verification with the fewest imports a process can have
  command   ``python -m governance ledger verify`` (what a script or CI step runs)

and prints, per tree and mode, the median and best wall and the median CPU (the process and
its forked signature workers: ``RUSAGE_CHILDREN``), so ``command - inproc`` is the command's
own overhead and ``inproc - bare`` the verification. Bytecode is compiled first
(``compileall``) and ``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment,
as with an install. The verified state (``.git/governance/verified-*``) is removed before every
run, as on a fresh clone (``ledger verify`` does not write it; a tree that did would be timed
as on a fresh clone too).

    python bench/verify_cmd_ab.py --ledger CLONE --rounds 5 main:DIR_A branch:DIR_B
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

INPROC = ("import sys\nfrom pathlib import Path\nfrom governance.ledger import verify_repo\n"
          "r = verify_repo(Path('.'))\nsys.exit(0 if r.failure is None else 1)\n")
MODES = {"bare": ["-c", "pass"], "inproc": ["-c", INPROC],
         "command": ["-m", "governance", "ledger", "verify"]}


def run(tree: Path, mode: str, ledger: Path) -> tuple[float, float]:
    for p in glob.glob(str(ledger / ".git" / "governance" / "verified-*")):
        os.unlink(p)
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("GOVERNANCE_")}
    env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *MODES[mode]], cwd=ledger, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{tree} {mode}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger", type=Path, required=True, help="a clone with the ledger branch")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--modes", default="bare,inproc,command")
    ap.add_argument("trees", nargs="+", help="NAME:DIR (DIR holds the governance package)")
    args = ap.parse_args()
    trees = {}
    for spec in args.trees:
        name, _, path = spec.partition(":")
        trees[name] = Path(path).resolve()
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(trees[name] / "governance")],
                       check=True, capture_output=True)
    modes = args.modes.split(",")
    for tree in trees.values():  # warm the page cache and the bytecode
        for mode in modes:
            run(tree, mode, args.ledger)
    print(f"load at start {os.getloadavg()}")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            for mode in modes:
                results.setdefault((name, mode), []).append(run(tree, mode, args.ledger))
    print(f"load at end {os.getloadavg()}")
    for (name, mode), xs in results.items():
        walls = [w for w, _ in xs]
        print(f"{name:>10} {mode:>8}: wall median {statistics.median(walls):.3f} best "
              f"{min(walls):.3f} s; CPU median {statistics.median(c for _, c in xs):.3f} s; "
              f"walls {[round(w, 2) for w in walls]}")


if __name__ == "__main__":
    main()
