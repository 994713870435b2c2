"""Interleaved before/after of the warm read queries (issue 18): the same interpreter runs
``python -m governance`` from each checkout (``PYTHONPATH`` pointing at it), alternately, on a
governed repository per checkout (each with its own warm index: an index file one checkout
changed, e.g. with a new SQL index, would flatter the other).

    .venv/bin/python bench/startup_ab.py --runs 11 --model model-0000 \\
        BEFORE_CHECKOUT:BEFORE_REPO AFTER_CHECKOUT:AFTER_REPO

Prints, per checkout and command, the median and best CPU (user + sys of the process) and the
best wall time in ms, the same for a bare ``python -c pass`` run in between (the interpreter's
own floor at the load of the run), and the load average before and after. The repositories come from
bench/startup_bench.py's generator (copy one per checkout; delete the copy's
``.governance/index.sqlite*`` so each checkout builds its own). A CHECKOUT that is a virtual
environment (it has ``bin/python``: a regular ``pip install .``, what a user runs) is run with
its own interpreter and no ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

BARE = "(interpreter)"
COMMANDS = {"live": ["live", "{model}", "--env", "production"],
            "status": ["status", "{model}"], "history": ["history", "{model}"]}


# The opening of a child process's script (bench/first_call.py, bench/startup_split.py):
# ``quiet(args)`` runs the console entry point on ``args`` with its output discarded and its exit
# taken, as a measured command runs.
QUIET_MAIN = """
import contextlib, json, os, sys
from governance.cli.entry import main
def quiet(args):
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \\
            contextlib.redirect_stderr(sink):
        try:
            main(args)
        except SystemExit:
            pass
"""


def read_arguments(doc: str, runs: int, runs_help: str | None = None
                   ) -> tuple[argparse.Namespace, list[tuple[str, str]], dict[str, list[str]]]:
    """The options both interleaved benches take: ``--runs``, ``--model`` and CHECKOUT:REPO
    pairs; returns them with the pairs split and each command line for the model."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--runs", type=int, default=runs, help=runs_help)
    ap.add_argument("--model", default="model-0000")
    ap.add_argument("pairs", nargs="+", help="CHECKOUT:REPO")
    args = ap.parse_args()
    pairs = [(src, repo) for src, repo in (p.split(":", 1) for p in args.pairs)]
    commands = {name: [a.format(model=args.model) for a in template]
                for name, template in COMMANDS.items()}
    return args, pairs, commands


def clean_env() -> dict[str, str]:
    """This environment without what would skew a timing: ``PYTHONDONTWRITEBYTECODE`` (every
    run would recompile) and any ``GOVERNANCE_*`` setting."""
    return {k: v for k, v in os.environ.items()
            if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("GOVERNANCE_")}


def main() -> None:
    args, pairs, cmds = read_arguments(__doc__ or "", 11)
    env0 = clean_env()
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}

    def run(src: str, repo: str, argv: list[str], key: tuple[str, str] | None) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        command = ["-c", "pass"] if src == BARE else ["-m", "governance", *argv]
        venv_python = os.path.join(src, "bin", "python")
        installed = os.path.exists(venv_python)
        subprocess.run([venv_python if installed else sys.executable, *command], cwd=repo,
                       env=env0 if src == BARE or installed else {**env0, "PYTHONPATH": src},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if key is not None:
            cpu.setdefault(key, []).append(after.ru_utime - before.ru_utime
                                           + after.ru_stime - before.ru_stime)
            wall.setdefault(key, []).append(elapsed)

    for src, repo in pairs:  # warm-up: page cache, bytecode, the index's own catch-up
        for argv in cmds.values():
            run(src, repo, argv, None)
    load_start = os.getloadavg()
    for _ in range(args.runs):
        for name, argv in cmds.items():
            for src, repo in pairs:
                run(src, repo, argv, (src, name))
        run(BARE, pairs[0][1], [], (BARE, "python -c pass"))
    print(f"load average {load_start} -> {os.getloadavg()}")
    for src, names in [*((src, list(cmds)) for src, _ in pairs), (BARE, ["python -c pass"])]:
        for name in names:
            xs = cpu[src, name]
            print(f"{src} {name}: median CPU {statistics.median(xs) * 1000:.0f} ms, best CPU "
                  f"{min(xs) * 1000:.0f} ms, best wall {min(wall[src, name]) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
