"""Byte-for-byte comparison of two installs' read commands (issue 18: a faster path must print
what the old one printed): each command line runs with each install on the same governed
repository, its caches (the query index in ``.governance``, the verified chain, status memo
and config cache in ``.git/governance``) put back as they were before every run, and stdout,
stderr and the exit status are compared. (A status memo is kept per version of the code that
wrote it: remove it from REPO first, or the version that wrote it reads it and the other folds
the events again, which differs when ``--sql`` edited one of them.)

    .venv/bin/python bench/outputs_ab.py BEFORE REPO AFTER [--sql STATEMENT ...]

BEFORE and AFTER are virtual environments (``bin/python``: a regular ``pip install``) or
checkouts (run with ``PYTHONPATH``); REPO a scratch copy of a governed repository
(bench/startup_bench.py's), used in place: the read commands write only those caches. Each
``--sql`` statement is run on the index before every command (an edited index: both installs
must refuse it the same way). Prints one line per
command line and a count of the identical ones; exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as `python bench/...`

from bench.startup_ab import clean_env  # noqa: E402

MODELS = ("model-0000", "model-0001", "model-0002")
COMMANDS = [
    *(["history", m, *fmt] for m in MODELS
      for fmt in ([], ["--format", "json"], ["--format", "csv"])),
    ["history", "model-0000", "--verified-prefix"],
    ["history", "no-such-model"],
    ["history", "model-0001", "--format", "text"],
    ["audit", "query", "--model", "model-0002"],
    ["audit", "query", "--model", "model-0002", "--type", "gate_evaluated",
     "--format", "csv"],
    ["live", "model-0000", "--env", "production", "--at", "2100-01-01T00:00:00Z"],
    ["live", "model-0001", "--env", "staging", "--format", "json", "--at",
     "2100-01-01T00:00:00Z"],
    ["status", "--all"],
    ["status", "model-0002", "--format", "json"],
]


def run(install: Path, repo: Path, argv: list[str]) -> tuple[int, bytes, bytes]:
    python = install / "bin" / "python"
    env = clean_env()
    if not python.exists():
        python, env = Path(sys.executable), {**env, "PYTHONPATH": str(install)}
    done = subprocess.run([str(python), "-m", "governance", *argv], cwd=repo, env=env,
                          capture_output=True, check=False)
    return done.returncode, done.stdout, done.stderr


CACHES = (Path(".governance"), Path(".git") / "governance")


def restore(saved: Path, repo: Path) -> None:
    """``repo``'s caches as they were saved."""
    for cache in CACHES:
        shutil.rmtree(repo / cache, ignore_errors=True)
        shutil.copytree(saved / cache.name, repo / cache, symlinks=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("repo", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--sql", action="append", default=[])
    args = ap.parse_args()
    same = 0
    with tempfile.TemporaryDirectory() as work:
        saved = Path(work)
        for cache in CACHES:
            shutil.copytree(args.repo / cache, saved / cache.name, symlinks=True)
        for argv in COMMANDS:
            results = []
            for install in (args.before, args.after):
                restore(saved, args.repo)
                for statement in args.sql:
                    with sqlite3.connect(args.repo / ".governance" / "index.sqlite") as conn:
                        conn.execute(statement)
                results.append(run(install, args.repo, argv))
            ok = results[0] == results[1]
            same += ok
            code, out, err = results[1]
            print(f"{'same' if ok else 'DIFFERENT'}: governance {' '.join(argv)} "
                  f"(exit {code}, {len(out)} bytes out, {len(err)} bytes err)")
            if not ok:
                print(f"  before: exit {results[0][0]}, err {results[0][2][-300:]!r}")
                print(f"  after:  exit {code}, err {err[-300:]!r}")
        restore(saved, args.repo)
    print(f"{same} of {len(COMMANDS)} identical")
    raise SystemExit(0 if same == len(COMMANDS) else 1)


if __name__ == "__main__":
    main()
