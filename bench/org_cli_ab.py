"""Whole CLI answers from the organisation database, two source trees alternating (before/after).

    python bench/org_query_ab.py --before DIR --repos 100 --events 10000 --rounds 0 --keep S
    python bench/org_cli_ab.py --before DIR --state S --runs 10

Uses the database a ``bench/org_query_ab.py --keep`` run left (started here, stopped after).
Each answer is one fresh process (``governance audit query|live ... --source``: interpreter,
imports, trust file, connection, SQL, verification of every row, rendering), the ``--before``
tree's code and this tree's alternating run by run, both with this interpreter (the editable
install's finder removed, so each process imports only its own tree). Per side and question:
median and best wall, and median CPU of the process (``RUSAGE_CHILDREN``, user + system). The
stdout, stderr and exit code of both sides are compared on every run: a difference stops the
benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# runs the governance CLI of the tree named first, with the rest of the arguments
_RUNNER = """import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]
sys.path.insert(0, sys.argv[1])
sys.argv = ['governance', *sys.argv[2:]]
runpy.run_module('governance', run_name='__main__', alter_sys=True)
"""


def questions(state: dict[str, str], trust: Path) -> dict[str, list[str]]:
    last = state["last"][:19] + "Z"
    year = str(int(last[:4]) - 1) + last[4:]
    src = ["--source", "env:GOVERNANCE_BENCH_DSN", "--trust", str(trust)]
    return {
        "approvals of fraud-risk in 12 months (text)": [
            "audit", "query", *src, "--model", "fraud-risk", "--type", "approval_granted",
            "--since", year, "--until", last],
        "approvals of fraud-risk in 12 months (json)": [
            "audit", "query", *src, "--model", "fraud-risk", "--type", "approval_granted",
            "--since", year, "--until", last, "--format", "json"],
        "live fraud-risk in production at T, every origin (text)": [
            "live", "fraud-risk", "--env", "production", "--at", last, *src],
        "rollbacks by incident (text)": [
            "audit", "query", *src, "--type", "rollback_executed", "--incident",
            state["incident"]],
    }


def run(tree: Path, argv: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RUNNER, str(tree), *argv], env=env,
                         capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout + b"\0" + out.stderr + b"\0" + str(out.returncode).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="the source tree before")
    ap.add_argument("--state", type=Path, required=True,
                    help="the state file of a bench/org_query_ab.py --keep run")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support.org import make_origin, write_trust
    from tests.support.postgres import PgServer

    state = json.loads(args.state.read_text())
    work = Path(tempfile.mkdtemp(prefix="org-cli-ab-"))
    trust = write_trust(work / "trust.yaml", [make_origin(o, 0, models=1, releases=1)
                                             for o in state["origins"]])
    env = {**os.environ, "GOVERNANCE_BENCH_DSN": state["writer"]}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    server = PgServer(Path(state["bindir"]))
    os.rmdir(server.root)
    server.root, server.port = Path(state["root"]), int(state["port"])
    server.start()
    sides = (("before", args.before.resolve()), ("after", ROOT))
    print(f"start {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}")
    try:
        for title, argv in questions(state, trust).items():
            samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in sides}
            for _ in range(args.runs):
                outputs = []
                for name, tree in sides:
                    wall, cpu, output = run(tree, argv, env)
                    samples[name].append((wall, cpu))
                    outputs.append(output)
                if outputs[0] != outputs[1]:
                    raise SystemExit(f"{title}: the outputs differ between the two trees")
            size = len(outputs[0].split(b"\0")[0])
            for name, _ in sides:
                walls = sorted(w for w, _ in samples[name])
                cpus = sorted(c for _, c in samples[name])
                print(f"{title} | {name:6} | {size:,} bytes out | wall median "
                      f"{walls[len(walls) // 2] * 1e3:.0f} ms, best {walls[0] * 1e3:.0f} ms | "
                      f"CPU median {cpus[len(cpus) // 2] * 1e3:.0f} ms, best "
                      f"{cpus[0] * 1e3:.0f} ms | outputs identical", flush=True)
    finally:
        server.stop()
    print(f"end {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
