"""Differential check (issue 18): the first commands on fresh clones say the same under two
checkouts, byte for byte (stdout, stderr, exit code), on an honest ledger and on two tampered
copies of it (an unsigned commit 30 commits below the tip; a signed commit that adds a file no
commit may add, which only the tree proof sees).

    python bench/fresh_clone_diff.py --ledger WORK/ledger-10000 --keys WORK/keys --work DIR \\
        A:CHECKOUT_A B:CHECKOUT_B

The ledger and keys are the ones ``bench/verified_bench.py --work WORK`` generates. The only
text normalised is what depends on the clock: ``live``'s ``at:`` (the query's own time) and
``ledger verify``'s duration. Exit 1 when any output differs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CASES = (["live", "model-1", "--env", "staging"], ["ledger", "verify"],
         ["ledger", "verify", "--format", "json"], ["history", "model-1", "--format", "json"])


def clone(src: Path, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True)
    subprocess.run(["git", "-C", str(dst), "fetch", "-q", "origin",
                    "governance/ledger:governance/ledger"], check=True)


def command(code: Path, cwd: Path, args: list[str]) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run([sys.executable, "-m", "governance", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)
    out = re.sub(r'"seconds": [0-9.]+', '"seconds": X', proc.stdout)
    out = re.sub(r"  at: \S+", "  at: NOW", out)
    return proc.returncode, out, proc.stderr


def tampered(ledger: Path, keys: Path, work: Path) -> dict[str, Path]:
    sys.path.insert(0, str(HERE))
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    from tests.integration.ledger import forge

    unsigned = work / "ledger-unsigned"
    shutil.rmtree(unsigned, ignore_errors=True)
    shutil.copytree(ledger, unsigned, symlinks=True)
    git = ["git", "-C", str(unsigned)]
    base = subprocess.run([*git, "rev-parse", "governance/ledger~30"], capture_output=True,
                          text=True, check=True).stdout.strip()
    tree = subprocess.run([*git, "rev-parse", base + "^{tree}"], capture_output=True, text=True,
                          check=True).stdout.strip()
    commit = subprocess.run([*git, "commit-tree", tree, "-p", base, "-m", "x"],
                            capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([*git, "update-ref", "refs/heads/governance/ledger", commit], check=True)

    stray = work / "ledger-stray"
    shutil.rmtree(stray, ignore_errors=True)
    shutil.copytree(ledger, stray, symlinks=True)
    jane = forge.Signer("Jane Smith", "jane.smith@example.com",
                        load_ssh_private_key((keys / "jane").read_bytes(), None))
    forge.append_raw(stray, jane, extra_files={"events/notes.txt": b"hi\n"})
    return {"unsigned-deep": unsigned, "stray-file": stray}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--ledger", type=Path, required=True)
    ap.add_argument("--keys", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("checkouts", nargs=2, metavar="LABEL:DIR")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    codes = [(label, Path(path)) for label, _, path in (c.partition(":") for c in args.checkouts)]
    ledgers = {"honest": args.ledger, **tampered(args.ledger, args.keys, args.work)}
    differ = 0
    for name, src in ledgers.items():
        for case in CASES:
            outs = []
            for label, code in codes:
                clone(src, args.work / f"clone-{label}")
                outs.append(command(code, args.work / f"clone-{label}", case))
            same = outs[0] == outs[1]
            differ += not same
            print(f"{name:14} {' '.join(case):36} exit {outs[0][0]}/{outs[1][0]}, stdout "
                  f"{len(outs[0][1])} B, stderr {outs[0][2].strip()[:60]!r}: "
                  f"{'same' if same else 'DIFFERENT'}")
    print(f"{differ} of {len(ledgers) * len(CASES)} outputs differ")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
