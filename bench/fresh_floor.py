"""A floor for issue 18's first query on a fresh clone (<= 1 s at 10,000 events, 2 cores).

    python bench/fresh_floor.py --ledger WORK/ledger-10000 --rounds 5 --commands 5

What any implementation that checks a fresh clone the way ``ledger verify`` does cannot avoid,
each measured alone, in CPU seconds (best and median of the rounds):

* the interpreter (``python -c pass``, a new process);
* git writing every commit and every event and checkpoint blob (``rev-list --header``, one
  ``ls-tree``, one ``cat-file --batch``): git's own CPU;
* this process reading git's output, rebuilding each commit object and checking it hashes to
  its id (SHA-1), splitting the blobs;
* Ed25519 of every signature (each commit's SSHSIG, each stored checkpoint note) by libsodium
  alone, inputs sliced out beforehand (the fastest verifier on this machine; OpenSSL's is
  about half its speed), and the same through the project's own checks (``_signature_ok``,
  ``_note_key``) for comparison;
* per event: ``json.loads``, the canonical form written again and compared, the leaf hash;
* the Merkle tree: every leaf pushed on a frontier, the root at every stored checkpoint's size;
* SQLite: one row per event into one new file (the project keeps two: the verified chain and
  the query index), one transaction, no journal, no sync.

Not in the floor (left for whatever remains of the budget): the event schema, the lifecycle
replay, the tree proof of each commit's changes, trust and key rotation, dates, trailers, the
checkpoint notes' parsing, the columns of the chain and the index, imports, the answer. The
budget of 1 s on 2 cores is 2 CPU-s, and only if the work splits evenly across both cores.
The ledger is the one ``bench/verified_bench.py --work WORK`` generates.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BRANCH = "governance/ledger"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def git(root: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True,
                          check=True).stdout


def read_all(root: Path
             ) -> tuple[list[tuple[str, bytes]], dict[str, bytes], list[tuple[str, str]]]:
    """(commit id, object) oldest first, blob bytes by id, (blob id, path) as ls-tree lists
    them."""
    out = git(root, ["rev-list", "--reverse", "--header", BRANCH])
    listing = git(root, ["ls-tree", "-r", BRANCH, "--", "events", "checkpoints"]).decode()
    names = [(line.split()[2], line.partition("\t")[2]) for line in listing.splitlines()]
    batch = git(root, ["cat-file", "--batch"], "".join(b + "\n" for b, _ in names).encode())
    commits = []
    for record in out.split(b"\0"):
        if not record:
            continue
        nl = record.find(b"\n")
        sha = record[:nl].decode()
        head, _, body = record[nl + 1:].partition(b"\n\n")
        raw = head + b"\n\n" + body[4:].replace(b"\n    ", b"\n")
        if hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest() != sha:
            raw = git(root, ["cat-file", "commit", sha])  # git trimmed a message line
        commits.append((sha, raw))
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(batch):
        nl = batch.index(b"\n", pos)
        sha, _, size = batch[pos:nl].decode().split()
        blobs[sha] = batch[nl + 1: nl + 1 + int(size)]
        pos = nl + 2 + int(size)
    return commits, blobs, names


def signature_inputs(commits: list[tuple[str, bytes]], notes: list[bytes], events: list[bytes]
                     ) -> list[tuple[bytes, bytes]]:
    """(signature + signed data, public key) of every commit and note, sliced as the verifier
    slices them."""
    from governance.ledger.checkpoint import parse_checkpoint
    from governance.ledger.commit import signed_parts
    from governance.ledger.sshsig import GIT_SHA512_PREFIX, quick_git_signature
    from governance.ledger.verify import _candidate_log_keys

    jobs = []
    for _, raw in commits:
        parts = signed_parts(raw)
        quick = quick_git_signature(parts[1]) if parts is not None else None
        if parts is None or quick is None:
            raise SystemExit("a commit without the usual SSHSIG shape: not this bench's ledger")
        key_blob, sig = quick
        jobs.append((sig + GIT_SHA512_PREFIX + hashlib.sha512(parts[0]).digest(),
                     key_blob[-32:]))
    keys = {k.key_id: k.public for k in _candidate_log_keys(
        [raw for _, raw in commits], events + [None] * (len(commits) - len(events)))}
    for note in notes:
        cp, sigs = parse_checkpoint(note.decode())
        _, kid, sig = sigs[0]
        jobs.append((sig + cp.body.encode(), keys[kid]))
    return jobs


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU of this process, CPU of its children) of one call."""
    c0, k0 = time.process_time(), children_cpu()
    fn()
    return time.process_time() - c0, children_cpu() - k0


def merkle_roots(leaves: list[bytes], sizes: set[int]) -> int:
    """Push every leaf on a frontier (RFC 9162), the root at each size in ``sizes``."""
    sha = hashlib.sha256
    stack: list[tuple[int, bytes]] = []  # (height, hash)
    roots = 0
    for n, leaf in enumerate(leaves, 1):
        node, height = leaf, 0
        while stack and stack[-1][0] == height:
            node = sha(b"\x01" + stack.pop()[1] + node).digest()
            height += 1
        stack.append((height, node))
        if n in sizes:
            acc = stack[-1][1]
            for _, h in reversed(stack[:-1]):
                acc = sha(b"\x01" + h + acc).digest()
            roots += 1
    return roots


def first_queries(ledger: Path, runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) of ``runs`` first queries, each on a new fresh clone of ``ledger``."""
    from bench.cold_build_split import first_query
    from bench.verified_bench import clone

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            fresh = clone(ledger, Path(tmp) / "clone")
            out.append(first_query(str(ROOT), fresh))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--commands", type=int, default=5,
                    help="runs of the project's first query on a fresh clone (0: none)")
    args = ap.parse_args()
    from nacl.bindings import crypto_sign_open

    from governance.ledger.verify import _candidate_log_keys, _note_key, _signature_ok

    root = args.ledger
    commits, blobs, names = read_all(root)
    events, notes, note_sizes = [], [], set()
    for sha, path in names:
        number = int(path.rpartition("/")[2].partition(".")[0])
        if path.startswith("events/"):
            events.append((number, blobs[sha]))
        else:
            notes.append(blobs[sha])
            note_sizes.add(number)
    events.sort()
    event_bytes = [data for _, data in events]
    jobs = signature_inputs(commits, notes, event_bytes)
    raws = [raw for _, raw in commits]
    log_keys = _candidate_log_keys(raws, event_bytes)

    def ed25519() -> None:
        for signed, pub in jobs:
            crypto_sign_open(signed, pub)

    def project_checks() -> None:
        for raw in raws:
            if not _signature_ok(raw):
                raise SystemExit("a commit signature does not verify")
        for note in notes:
            _note_key(note, log_keys)

    def canonical() -> None:
        sha = hashlib.sha256
        for data in event_bytes:
            value = json.loads(data)
            if json.dumps(value, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode() != data.rstrip(b"\n"):
                raise SystemExit("an event is not in canonical form")
            sha(b"\x00" + data).digest()

    leaves = [hashlib.sha256(b"\x00" + data).digest() for data in event_bytes]

    def merkle() -> None:
        merkle_roots(leaves, note_sizes)

    def sqlite_rows() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            db = sqlite3.connect(Path(tmp) / "events.sqlite")
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT, "
                       "d INTEGER, stored BLOB)")
            db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?)",
                           ((i, sha, "x", "y", i, data) for i, ((sha, _), data)
                            in enumerate(zip(commits, event_bytes, strict=True))))
            db.commit()
            db.close()

    def interpreter() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    parts: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for name, fn in (("interpreter (python -c pass)", interpreter),
                         ("git reads every object; this process splits and checks ids",
                          lambda: read_all(root)),
                         (f"Ed25519, libsodium alone ({len(jobs):,} signatures)", ed25519),
                         ("event JSON: parse, canonical form, leaf hash", canonical),
                         (f"Merkle: {len(leaves):,} leaves, {len(note_sizes):,} roots", merkle),
                         ("SQLite: one row per event into a new file", sqlite_rows)):
            parts.setdefault(name, []).append(timed(fn))
    same = [timed(project_checks) for _ in range(max(1, args.rounds // 2))]
    project = first_queries(root, args.commands)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"ledger {root}: {len(commits):,} commits, {len(event_bytes):,} events, "
          f"{len(notes):,} checkpoint notes; {args.rounds} rounds; load at the end {load}")
    print("| part | CPU-s best (this process + children) | median |")
    print("|---|---|---|")
    floor = 0.0
    for name, runs in parts.items():
        totals = [a + b for a, b in runs]
        best = min(totals)
        floor += best
        here, kids = min(runs, key=lambda r: r[0] + r[1])
        print(f"| {name} | {best:.3f} ({here:.3f} + {kids:.3f}) | "
              f"{statistics.median(totals):.3f} |")
    print(f"| **floor (sum of bests)** | **{floor:.3f}** | |")
    print(f"| the same Ed25519 through the project's checks (`_signature_ok`, `_note_key`) | "
          f"{min(a for a, _ in same):.3f} | {statistics.median(a for a, _ in same):.3f} |")
    print(f"\nBudget at 1 s on 2 cores: 2.000 CPU-s if split perfectly; left after the floor: "
          f"{2.0 - floor:.3f} CPU-s for the schema, the replay, the tree proof, trust, dates, "
          "trailers, the notes' parsing, the columns, imports and the answer.")
    if project:
        walls, cpus = [w for w, _ in project], [c for _, c in project]
        busy = [c / (2 * w) for w, c in project]
        print(f"\nThe project's first query on a fresh clone ({len(project)} runs): wall median "
              f"{statistics.median(walls):.3f} s (best {min(walls):.3f}); CPU with children "
              f"median {statistics.median(cpus):.3f} s (best {min(cpus):.3f}); the two cores "
              f"busy {statistics.median(busy):.0%} of its wall (median). Beyond the floor: "
              f"{statistics.median(cpus) - floor:.3f} CPU-s.")


if __name__ == "__main__":
    main()
