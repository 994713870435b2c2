"""Where a warm read query's CPU goes (issue 18): interpreter start, imports, work.

For each command (``live``, ``status``, ``history`` of one model) and each checkout
(``PYTHONPATH`` pointing at it, on its own governed repository with a warm index), interleaved
round by round so that the shared machine's load moves every figure alike:

- start: ``python -c pass`` (the interpreter alone);
- imports: ``python -c "import M1, M2, ..."`` with exactly the governance modules the command
  leaves in ``sys.modules`` (start and what they import included);
- process: ``python -m governance COMMAND`` (all of it);
- work in process: the command run through ``governance.cli.entry.main`` (the console entry
  point, fast path included, as ``python -m governance`` runs it) in one interpreter
  after a first call (imports done, index and caches warm), ``time.process_time`` of each of
  three calls per round;
- the governance modules with the largest cumulative ``-X importtime``.

    .venv/bin/python bench/startup_split.py --runs 7 MAIN_CHECKOUT:REPO_A BRANCH_CHECKOUT:REPO_B

Medians and bests of CPU (user + sys) in ms. ``PYTHONDONTWRITEBYTECODE`` is dropped (every run
would recompile otherwise).
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from bench.startup_ab import QUIET_MAIN, clean_env, read_arguments  # noqa: E402

_MODULES = QUIET_MAIN + """
quiet(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if "." not in m or m.startswith("governance"))))
"""

_WORK = QUIET_MAIN + """
import time
runs = int(sys.argv[1])
quiet(sys.argv[2:])
times = []
for _ in range(runs):
    start = time.process_time()
    quiet(sys.argv[2:])
    times.append(time.process_time() - start)
print(json.dumps(times))
"""


def _cpu(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _summary(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} / {min(xs) * 1000:.0f}"


def main() -> None:
    args, pairs, argvs = read_arguments(__doc__ or "", 7, "rounds (each runs every measurement "
                                        "of every checkout once, interleaved)")
    env0 = clean_env()
    py = sys.executable
    importers: dict[tuple[str, str], str] = {}
    for src, repo in pairs:  # what each command imports; warms bytecode, index and caches
        env = {**env0, "PYTHONPATH": src}
        for name, argv in argvs.items():
            out = subprocess.run([py, "-c", _MODULES, *argv], cwd=repo, env=env,
                                 capture_output=True, text=True, check=True).stdout
            modules = [m for m in json.loads(out.strip().splitlines()[-1])
                       if m.startswith("governance")]
            importers[src, name] = "import " + ", ".join(modules)
    start: dict[str, list[float]] = {}
    imports: dict[tuple[str, str], list[float]] = {}
    process: dict[tuple[str, str], list[float]] = {}
    work: dict[tuple[str, str], list[float]] = {}
    load = os.getloadavg()
    for _ in range(args.runs):
        for name, argv in argvs.items():
            for src, repo in pairs:
                env = {**env0, "PYTHONPATH": src}
                key = (src, name)
                start.setdefault(src, []).append(_cpu([py, "-c", "pass"], repo, env))
                imports.setdefault(key, []).append(_cpu([py, "-c", importers[key]], repo, env))
                process.setdefault(key, []).append(
                    _cpu([py, "-m", "governance", *argv], repo, env))
                work.setdefault(key, []).extend(json.loads(subprocess.run(
                    [py, "-c", _WORK, "3", *argv], cwd=repo, env=env, capture_output=True,
                    text=True, check=True).stdout))
    print(f"load average {load} -> {os.getloadavg()}; median / best CPU in ms")
    print("| checkout | command | start | imports (start included) | process | "
          "work in process |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, argv in argvs.items():
        for src, _ in pairs:
            key = (src, name)
            print(f"| {src} | `{' '.join(argv)}` | {_summary(start[src])} | "
                  f"{_summary(imports[key])} | {_summary(process[key])} | "
                  f"{_summary(work[key])} |")
    for src, repo in pairs:
        env = {**env0, "PYTHONPATH": src}
        for name, argv in argvs.items():
            err = subprocess.run([py, "-X", "importtime", "-m", "governance", *argv], cwd=repo,
                                 env=env, capture_output=True, text=True, check=False).stderr
            cumulative = []
            for line in err.splitlines():
                found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(governance\S*)",
                                 line)
                if found:
                    cumulative.append((int(found.group(2)), found.group(3)))
            top = sorted(cumulative, reverse=True)[:8]
            print(f"{src} {name}: largest cumulative -X importtime (ms, one run): "
                  + ", ".join(f"{m} {us / 1000:.1f}" for us, m in top))


if __name__ == "__main__":
    main()
