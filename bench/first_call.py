"""The first call of a read query in a fresh process, imports done (issue 18): what a process
pays for its answer beside start-up, which ``bench/startup_split.py``'s "work in process" (the
later calls of one interpreter, memory and caches warm) does not show: the pages of memory it
touches for the first time (minor page faults) and SQLite's first reads of both files.

For each checkout (``PYTHONPATH``, or a virtual environment's own interpreter) on its own
repository, interleaved round by round: a new interpreter imports the console entry point and
the modules the command loads, then runs the command once (stdout and stderr to /dev/null) and
reports the CPU time (user + sys) and minor page faults of that call.

    .venv/bin/python bench/first_call.py --runs 9 MAIN:REPO_A BRANCH:REPO_B

Median and best CPU in ms, median minor faults; ``PYTHONDONTWRITEBYTECODE`` dropped.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from bench.startup_ab import QUIET_MAIN, clean_env, read_arguments  # noqa: E402

_CALL = QUIET_MAIN + """
import resource
import governance.cli.reads, governance.audit.queries, governance.reading_events
import governance.reading_live, governance.reading_status
r0 = resource.getrusage(resource.RUSAGE_SELF)
quiet(sys.argv[1:])
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps([r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime,
                  r1.ru_minflt - r0.ru_minflt]))
"""


def main() -> None:
    args, pairs, commands = read_arguments(__doc__ or "", 9)
    env0 = clean_env()
    cpu: dict[tuple[str, str], list[float]] = {}
    faults: dict[tuple[str, str], list[int]] = {}
    load_start = os.getloadavg()
    for _ in range(args.runs):
        for name, argv in commands.items():
            for src, repo in pairs:
                venv_python = Path(src) / "bin" / "python"
                installed = venv_python.exists()
                done = subprocess.run(
                    [str(venv_python) if installed else sys.executable, "-c", _CALL, *argv],
                    cwd=repo, env=env0 if installed else {**env0, "PYTHONPATH": src},
                    capture_output=True, text=True, check=True)
                seconds, minflt = json.loads(done.stdout.splitlines()[-1])
                cpu.setdefault((src, name), []).append(seconds)
                faults.setdefault((src, name), []).append(minflt)
    print(f"load average {load_start} -> {os.getloadavg()}")
    for name in commands:
        for src, _ in pairs:
            xs = cpu[src, name]
            print(f"{src} {name}: first call median CPU {statistics.median(xs) * 1000:.1f} ms, "
                  f"best {min(xs) * 1000:.1f} ms, minor faults "
                  f"{statistics.median(faults[src, name]):.0f}")


if __name__ == "__main__":
    main()
