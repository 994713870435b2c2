"""Verify a whole ledger in-process and name the first failing seq with its reason.

Input is the batch read of the store (``GitStore.read_commits``: raw commit objects, their diffs,
the added blobs); everything here is pure. Per commit, in seq order, it checks what git's own
``--show-signature`` does not (DESIGN section 7; issue 4):

  structure   exactly one parent (none for seq 0), a linear chain
  signature   an SSHSIG in the gpgsig header, namespace ``git``, ed25519 (plain or security
              key, with a touch), valid over the commit payload (verified in-process
              with libsodium, ``sshsig.ed25519_verify``, not ssh-keygen)
  trust       the key known to the ledger's trust and valid at that seq (retired keys stay
              valid before their retirement seq); committer and author are the key's principal
              (name and email); the principal may emit the event type; people sign only as
              themselves; trust files change only with the genesis or a key_rotated event and
              equal the folded trust
  content     add-only: exactly one new ``events/.../<seq>.json`` (plus an optional checkpoint
              for size seq + 1), nothing modified or deleted; canonical JSON bytes (no duplicate
              keys, no reformatting); the event schema; seq contiguous (a gap says whether the
              event was dropped or reordered); event_id unique
  hashes      ``prev`` = SHA-256 of the previous stored bytes; Ledger-Seq, Ledger-Event-Id,
              Ledger-Leaf, Ledger-Prev and Ledger-Root trailers equal the recomputed values
  lifecycle   the events follow a lifecycle the commands allow (``replay.LifecycleReplay``:
              gated promotions in environment order, approvals by role members, approvals
              that support ``release_approved``, rollbacks to approved releases)
  time        committer dates monotonic within the configured skew, not in the future, event
              timestamps neither after their commit date nor going backwards beyond the skew
  checkpoints every stored checkpoint's signature (a log key valid at that seq) and root; then
              each external checkpoint: known log key, same origin, not beyond the ledger's
              size, consistent (RFC 6962 consistency proof from its size to the tip), and no two
              checkpoints of one size with different roots (split view)

Speed: the Ed25519 work (every commit's SSHSIG, every stored checkpoint's note signature) is
most of the cost and does not depend on order. ``SignatureWork`` does it apart from the ordered
pass, in forked workers for ledgers of PARALLEL_MIN commits or more, started as soon as the
objects are read, with this process joining in once its ordered pass is done. The ordered pass
runs every other check, taking the signing key from the signature without verifying it; at the
end the two are reconciled, and if a deferred check failed at or before the first failure the
ordered pass found, the ledger is verified again with everything inline, in the original order
of checks. The failure reported is therefore always the one a sequential verifier reports first.

Failures that are the ledger's fault are ``tampered`` (exit 1); failures to decide (an OpenPGP
signature, which cannot be checked in-process) are ``undecided`` (exit 3).
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from governance.domain.event_types import KEY_ROTATED, LEDGER_GENESIS
from governance.ledger import layout
from governance.ledger.canonical import _DECODE, NonCanonical, canonical_bytes, parse_canonical
from governance.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    LogKey,
    body_text,
    parse_checkpoint,
    verify_checkpoint,
)
from governance.ledger.commit import CommitObject, parse_commit, signed_parts
from governance.ledger.events import schema_errors
from governance.ledger.merkle import (
    CompactRange,
    compact_from,
    compact_stack,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from governance.ledger.replay import LifecycleReplay
from governance.ledger.sshsig import (
    ED25519,
    GIT_SHA512_PREFIX,
    SignatureError,
    ed25519_verify,
    git_signature_key,
    parse_armored,
    parse_public_key,
    quick_git_signature,
)
from governance.ledger.sshsig import verify as verify_sshsig
from governance.ledger.store import RawCommit
from governance.ledger.trust import Trust, TrustError, trust_from_json, trust_to_json
from governance.timeparse import epoch_seconds

PARALLEL_MIN = 512


def _candidate_log_keys(raws: Sequence[bytes], events: Sequence[bytes | None],
                        resume: ResumeState | None = None) -> list[LogKey]:
    """Every log key the ledger ever names (genesis and add_log_key), found cheaply so workers
    can check stored checkpoint signatures; which key is valid at which seq is still decided by
    the ordered pass. A resumed run starts with the keys its trust already knows."""
    keys: list[LogKey] = [] if resume is None else resume.trust.log_keys_at(None)
    origin = "" if resume is None else resume.trust.origin
    for i, raw in enumerate(raws):
        if (i or resume is not None) and b"\n\nledger: key_rotated seq " not in raw:
            continue
        try:
            event = parse_canonical(events[i] or b"")
            details = event.get("details") or {}
            if i == 0 and resume is None:
                origin = str(details["origin"])
                lines = list(details.get("log_keys", ()))
            else:
                lines = [ch["key"] for ch in details.get("changes", ())
                         if ch.get("op") == "add_log_key"]
            keys += [LogKey(origin, parse_public_key(line, (ED25519,)).raw) for line in lines]
        except (NonCanonical, SignatureError, KeyError, TypeError, AttributeError, NameError):
            continue
    return keys


def _single_event_blob(c: RawCommit) -> bytes | None:
    found = [ch for ch in c.changes if ch.path.startswith("events/")]
    return c.blobs.get(found[0].path) if len(found) == 1 else None


# the events that set or change the ledger's trust (checked against the trust before them)
_TRUST_EVENTS = (LEDGER_GENESIS, KEY_ROTATED)

# Per-commit results of the deferred signature work, one byte each in shared memory.
_TODO, _OK, _BAD = 0, 1, 2
# Per-commit pre-check of the event bytes, done by the workers ahead of the ordered pass: a bit
# set is a check passed (the ordered pass makes any check whose bit is not set itself)
_PRE_DONE, _PRE_CANONICAL, _PRE_SCHEMA = 1, 2, 4


def _precheck(data: bytes) -> int:
    """The order-independent checks of one event's bytes: canonical JSON (``parse_canonical``
    accepts them) and the event schema (the compiled check says valid; anything else is left
    to the ordered pass, which also gives the messages)."""
    from governance.ledger.events import fast_schema_check

    try:
        event = parse_canonical(data)
    except NonCanonical:
        return _PRE_DONE
    try:
        kind = event.get("event_type")
        fast = fast_schema_check(kind if isinstance(kind, str) else "")
        valid = fast is not None and fast(event) is True
    except Exception:  # anything unexpected: the ordered pass judges it
        valid = False
    return _PRE_DONE | _PRE_CANONICAL | (_PRE_SCHEMA if valid else 0)
_NOTE_BAD = 255  # checkpoint byte: 0 none, else 1 + index of the candidate key that verified


def _signature_ok(raw: bytes) -> bool:
    """The commit's SSHSIG verifies (namespace git, ed25519): exactly what the ordered pass
    would check inline (``_Verifier._verify_now``), by slicing when the commit and signature
    have the usual shape (``signed_parts``, ``quick_git_signature``)."""
    parts = signed_parts(raw)
    quick = quick_git_signature(parts[1]) if parts is not None else None
    if parts is not None and quick is not None:
        key_blob, signature = quick
        return ed25519_verify(key_blob[-32:], signature,
                              GIT_SHA512_PREFIX + hashlib.sha512(parts[0]).digest())
    try:
        obj = parse_commit(raw)
        if obj.signature is None:
            return False
        verify_sshsig(parse_armored(obj.signature), obj.payload, "git")
    except (SignatureError, ValueError):
        return False
    return True


def _note_key(note: bytes, keys: Sequence[LogKey]) -> int:
    try:
        _, key = verify_checkpoint(note.decode("utf-8", errors="replace"), keys)
    except CheckpointError:
        return _NOTE_BAD
    at = keys.index(key)
    return 1 + at if at < _NOTE_BAD - 1 else _NOTE_BAD


class SignatureWork:
    """The order-independent Ed25519 work (commit SSHSIGs, stored checkpoint notes), deferred
    while the ordered pass runs and shared between forked workers and this process.

    The commits are cut into chunks; workers (one per CPU but one) take chunks from the front
    while this process reads on and runs the ordered pass, then this process takes chunks from
    the back until the two meet, so every core stays busy whatever the ordered pass costs.
    Results are one byte per commit in shared memory (nothing is pickled); a chunk a dead worker
    left undone is done here. Workers inherit the inputs by fork (copy-on-write), only read
    them, and leave with ``os._exit``.

    Inputs, per commit in order: the raw commit object, the event bytes and the checkpoint note
    the commit is expected to add (None when absent). The ordered pass checks that the note it
    judged is the note verified here. Ahead of the signatures, the workers also pre-check each
    event's bytes (``_precheck``: canonical JSON, the event schema); the ordered pass uses a
    pre-check only for the very bytes it judges and makes every check itself that is not
    marked passed (not reached yet, failed, or other bytes).
    """

    CHUNK = 64

    def __init__(self, raws: Sequence[bytes], events: Sequence[bytes | None],
                 notes: Sequence[bytes | None], workers: int,
                 resume: ResumeState | None = None) -> None:
        self.raws = raws
        self.n = len(raws)
        self.chunks = -(-self.n // self.CHUNK)
        self.keys = _candidate_log_keys(raws, events, resume)
        self.events = events
        self.notes = notes
        self.mem = mmap.mmap(-1, 16 + 3 * self.n)
        self.sig = memoryview(self.mem)[16 : 16 + self.n]
        self.cp = memoryview(self.mem)[16 + self.n : 16 + 2 * self.n]
        self.pre = memoryview(self.mem)[16 + 2 * self.n :]
        self.with_pre = workers > 0  # alone, this process pre-checks in the ordered pass
        self.mem[0:16] = struct.pack("<qq", 0, self.chunks)  # next front chunk, back bound
        self.lock: Any = None
        if workers:  # imported only to fork workers (about 10 ms: not for a small catch-up)
            import multiprocessing

            self.lock = multiprocessing.get_context("fork").Lock()
        self.pids: list[int] = []
        self.done = False
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork() in a process with threads; the children only read
            # inherited memory, write their own result bytes and leave with os._exit
            warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks",
                                    category=DeprecationWarning)
            for _ in range(workers):
                try:
                    pid = os.fork()
                except OSError:  # no more processes: this process does the rest
                    break
                if pid == 0:  # pragma: no cover - runs in the child
                    code = 0
                    try:
                        self._work(front=True)
                    except BaseException:
                        code = 1
                    finally:
                        os._exit(code)
                self.pids.append(pid)

    @classmethod
    def start(cls, raws: Sequence[bytes], events: Sequence[bytes | None],
              notes: Sequence[bytes | None], resume: ResumeState | None = None
              ) -> SignatureWork:
        """Start the work, forked when the ledger is large enough (see ``_workers``)."""
        return cls(raws, events, notes, _workers(len(raws)), resume)

    @classmethod
    def for_commits(cls, commits: Sequence[RawCommit], resume: ResumeState | None = None
                    ) -> SignatureWork:
        base = 0 if resume is None else resume.seq + 1
        return cls([c.raw for c in commits], [_single_event_blob(c) for c in commits],
                   [c.blobs.get(layout.checkpoint_path(base + i + 1))
                    for i, c in enumerate(commits)], _workers(len(commits)), resume)

    def abandon(self) -> None:
        """Stop the workers without waiting for the result (the verification ended early)."""
        if self.done:
            return
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._close()

    def _close(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.done = True
        self.sig.release()
        self.cp.release()
        self.pre.release()
        self.mem.close()

    def _claim(self, front: bool) -> int | None:
        """The next chunk from the front (workers) or the back (this process), or None. A lock
        held too long (its holder killed) ends the claiming: ``finish`` redoes what is left."""
        if self.lock is not None and not self.lock.acquire(timeout=10):
            return None
        try:
            lo, hi = struct.unpack_from("<qq", self.mem, 0)
            if lo >= hi:
                return None
            if front:
                struct.pack_into("<qq", self.mem, 0, lo + 1, hi)
                return int(lo)
            struct.pack_into("<qq", self.mem, 0, lo, hi - 1)
            return int(hi - 1)
        finally:
            if self.lock is not None:
                self.lock.release()

    def _work(self, front: bool) -> None:
        while (k := self._claim(front)) is not None:
            self._do(k * self.CHUNK, min((k + 1) * self.CHUNK, self.n))

    def _do(self, lo: int, hi: int) -> None:
        raws, notes, keys, sig, cp = self.raws, self.notes, self.keys, self.sig, self.cp
        if self.with_pre:
            events, pre = self.events, self.pre
            for i in range(lo, hi):
                data = events[i]
                if data is not None and not pre[i]:
                    pre[i] = _precheck(data)
        for i in range(lo, hi):
            note = notes[i]
            if note is not None:
                cp[i] = _note_key(note, keys)
            sig[i] = _OK if _signature_ok(raws[i]) else _BAD

    def finish(self) -> tuple[bytes, bytes]:
        """Do the remaining chunks here, wait for the workers; (signature, note) bytes."""
        self.with_pre = False  # the ordered pass is over: no use for pre-checks any more
        self._work(front=False)
        for pid in self.pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.pids = []
        for i in range(self.n):  # anything a dead worker claimed but left undone
            if self.sig[i] == _TODO:
                self._do(i, i + 1)
        out = bytes(self.sig), bytes(self.cp)
        self._close()
        return out

    def prechecked(self, i: int, data: bytes) -> int:
        """The pre-check bits of commit ``i`` for ``data`` (0: not done, or other bytes)."""
        if self.done or not self.with_pre or self.events[i] is not data \
                and self.events[i] != data:
            return 0
        bits = self.pre[i]
        if not bits:  # not reached yet: the ordered pass checks it, a worker need not
            self.pre[i] = _PRE_DONE
        return bits

    def note_key(self, value: int) -> LogKey | None:
        return self.keys[value - 1] if 0 < value < _NOTE_BAD else None


@dataclass
class ResumeState:
    """Where a verification stopped, enough to verify the commits after it and nothing before:
    the last verified commit and seq, the SHA-256 of its stored bytes, its committer date and
    event time, the folded trust and the Merkle frontier. ``seen_id`` answers whether an
    event id was already used before (and at which seq), for the uniqueness check."""

    seq: int
    commit: str
    prev_hash: str
    prev_when: int
    prev_ts: float
    trust: Trust
    frontier: CompactRange
    seen_id: Callable[[str], int | None] = field(default=lambda _id: None)
    replay: dict[str, Any] | None = None  # LifecycleReplay.to_json() after the last event
    # or, instead, a fresh LifecycleReplay at that point per call (a store that reads the
    # replay's items as they are used: governance.ledger.verified)
    replay_factory: Callable[[], LifecycleReplay] | None = None


class VerifiedEvent(NamedTuple):
    """One event that passed every check: what readers get (``LedgerEntry`` is built from it;
    immutable, a tuple: built per event verified, cheaply)."""

    seq: int
    commit: str
    stored: bytes
    event: dict[str, Any]
    leaf: bytes
    checkpoint: bytes | None


@dataclass(frozen=True)
class Failure:
    seq: int | None
    commit: str | None
    reason: str
    undecided: bool = False


@dataclass
class VerifyReport:
    events: int = 0
    signatures: int = 0
    stored_checkpoints: int = 0
    external_checkpoints: int = 0
    principals: set[str] = field(default_factory=set)
    by_type: dict[str, int] = field(default_factory=dict)
    root: str = ""
    tip: str = ""
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # filled only with ``keep=True``: every event that passed, and the state after the last one
    verified: list[VerifiedEvent] = field(default_factory=list)
    resume: ResumeState | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_json(self) -> dict[str, Any]:
        f = self.failure
        return {
            "ok": self.ok, "events": self.events, "signatures": self.signatures,
            "stored_checkpoints": self.stored_checkpoints,
            "external_checkpoints": self.external_checkpoints,
            "principals": sorted(self.principals), "by_type": dict(sorted(self.by_type.items())),
            "size": self.events, "root": self.root, "tip": self.tip,
            "failure": None if f is None else {"seq": f.seq, "commit": f.commit,
                                               "reason": f.reason, "undecided": f.undecided},
            "warnings": self.warnings, "seconds": round(self.seconds, 4),
        }


class _Fail(Exception):
    def __init__(self, reason: str, undecided: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.undecided = undecided


def verify_ledger(commits: Sequence[RawCommit], *, external: Sequence[tuple[str, str]] = (),
                  extra_log_keys: Sequence[LogKey] = (), now: float | None = None,
                  defer: bool = True, work: SignatureWork | None = None,
                  resume: ResumeState | None = None, keep: bool = False) -> VerifyReport:
    """Check every commit, then every external checkpoint ``(label, note text)``.

    With ``defer`` (the default) the Ed25519 work runs apart from the ordered pass
    (``SignatureWork``, in forked workers for ledgers of PARALLEL_MIN commits or more; ``work``
    passes one already started on the same commits) and is reconciled at the end:
    when every signature and stored checkpoint verified, the report stands as computed; when
    one did not at or before the first failure the ordered pass found, the whole ledger is
    verified again with ``defer=False`` (everything inline, in the original order of checks), so
    the failure reported is always exactly the one a sequential verifier reports first.

    ``resume`` continues a verification that ended at ``resume.seq`` (the commits given are the
    ones after it, in order); seqs, parents, the chain, trust, the Merkle root and time are
    checked exactly as if the whole ledger had been verified in one go. External checkpoints
    need the whole ledger (every root), so they cannot be combined with ``resume``. With
    ``keep`` the report carries every verified event and, when all commits passed, the state to
    resume from (``report.resume``).
    """
    if resume is not None and external:
        raise ValueError("external checkpoints need a verification of the whole ledger")
    started = time.perf_counter()
    report = VerifyReport()
    now = time.time() if now is None else now
    v = _Verifier(report, now, defer, resume, keep)
    base = v.base
    for c in commits:  # structure first: a merge makes every later seq meaningless
        if len(c.parents) > 1:
            report.failure = Failure(v.trailer_seq(c), c.sha,
                                     f"merge commit ({len(c.parents)} parents); the ledger "
                                     "is linear, one parent per commit")
            break
    failed_at: int | None = None
    if work is not None and (not defer or report.failure is not None or work.n != len(commits)):
        work.abandon()
        work = None
    if report.failure is None:
        v.all_commits = commits
        crypto = (work or SignatureWork.for_commits(commits, resume)) if defer else None
        v.work = crypto
        try:
            for i, c in enumerate(commits):
                try:
                    v.check(base + i, c)
                except _Fail as f:
                    report.failure = Failure(base + i, c.sha, f.reason, f.undecided)
                    failed_at = i
                    break
        except BaseException:  # a bug or Ctrl-C: stop the workers, do not finish their work
            if crypto is not None:
                crypto.abandon()
            raise
        results = crypto.finish() if crypto is not None else None
        if crypto is not None and results is not None:
            bad = _first_deferred_failure(v, crypto, results)
            if bad is not None and (failed_at is None or bad <= failed_at):
                return verify_ledger(commits, external=external, extra_log_keys=extra_log_keys,
                                     now=now, defer=False, resume=resume, keep=keep)
    if report.failure is None:
        v.check_external(external, extra_log_keys)
    if keep and report.failure is None:
        report.resume = v.snapshot()
    report.seconds = time.perf_counter() - started
    return report


def _workers(n: int) -> int:
    """Forked workers besides this process: one per further CPU, for large ledgers on Linux."""
    cpus = min(os.cpu_count() or 1, 8)
    if n < PARALLEL_MIN or cpus < 2 or not sys.platform.startswith("linux"):
        return 0
    return cpus - 1


def _first_deferred_failure(v: _Verifier, crypto: SignatureWork,
                            results: tuple[bytes, bytes]) -> int | None:
    """The first index whose signature, or stored checkpoint's log-key signature (by a key
    valid at that seq), did not verify; None when all did (for the commits the pass reached)."""
    sig, cp = results
    bad = None if sig.count(_OK) == len(sig) else next(
        i for i, b in enumerate(sig) if b != _OK)
    for i, note, valid in v.deferred_notes:
        if bad is not None and i >= bad:
            break
        if note != crypto.notes[i] or crypto.note_key(cp[i]) not in valid:
            return i
    return bad


class _Verifier:
    def __init__(self, report: VerifyReport, now: float, defer: bool = False,
                 resume: ResumeState | None = None, keep: bool = False) -> None:
        self.r = report
        self.now = now
        self.defer = defer  # Ed25519 checks left to SignatureWork, reconciled by verify_ledger
        self.work: SignatureWork | None = None  # its event pre-checks, when it runs them
        self.keep = keep
        # (position in this run, note, log keys valid there)
        self.deferred_notes: list[tuple[int, bytes, list[LogKey]]] = []
        self.trust: Trust | None = None
        self.cr = CompactRange()
        self.leaves: list[bytes] = []
        self.roots: list[bytes] = []
        self.prev_sha = ""
        self.prev_stored_hash = ""
        self.prev_when: int | None = None
        self.prev_ts: float | None = None
        self.ids: dict[str, int] = {}
        self.seen_before: Callable[[str], int | None] = lambda _id: None
        self.base = 0  # seq of the first commit of this run
        if resume is not None:
            self.base = resume.seq + 1
            self.trust = trust_from_json(trust_to_json(resume.trust))  # never mutate theirs
            self.cr = compact_from(resume.frontier.size, compact_stack(resume.frontier))
            self.prev_sha = resume.commit
            self.prev_stored_hash = resume.prev_hash
            self.prev_when = resume.prev_when
            self.prev_ts = resume.prev_ts
            self.seen_before = resume.seen_id
        self.checkpoints: dict[int, tuple[bytes, str]] = {}  # size -> (root, label)
        self.all_commits: Sequence[RawCommit] = ()
        self.replay = LifecycleReplay()
        self.trust_files: dict[str, bytes] = {}  # as of the last genesis/key_rotated
        if resume is not None:
            if resume.replay_factory is not None:
                self.replay = resume.replay_factory()
            elif resume.replay is None:
                raise ValueError("a resumed verification needs the lifecycle replay's state")
            else:
                self.replay = LifecycleReplay.from_json(resume.replay)
            # trust changes only at genesis/key_rotated, whose files equal the fold then
            trust = resume.trust
            self.trust_files = {layout.TRUST_STATE: canonical_bytes(trust_to_json(trust)),
                                layout.ALLOWED_SIGNERS: trust.allowed_signers().encode()}

    @staticmethod
    def trailer_seq(c: RawCommit) -> int | None:
        try:
            return int(parse_commit(c.raw).trailers.get("Ledger-Seq", ""))
        except ValueError:
            return None

    def snapshot(self) -> ResumeState:
        """The state after the last verified commit (see ``ResumeState``)."""
        assert self.trust is not None and self.prev_when is not None
        assert self.prev_ts is not None
        ids, before = dict(self.ids), self.seen_before
        return ResumeState(self.base + self.r.events - 1, self.prev_sha, self.prev_stored_hash,
                           self.prev_when, self.prev_ts,
                           trust_from_json(trust_to_json(self.trust)),
                           compact_from(self.cr.size, compact_stack(self.cr)),
                           lambda event_id: ids.get(event_id, before(event_id)),
                           self.replay.to_json())

    # --- one commit -----------------------------------------------------------------------
    def check(self, i: int, c: RawCommit) -> None:
        expected_parents = () if i == 0 else (self.prev_sha,)
        if c.parents != expected_parents:
            raise _Fail(f"parents {list(c.parents)}, expected {list(expected_parents)} "
                        "(a linear chain from the genesis)")
        try:
            obj = parse_commit(c.raw)
        except ValueError as err:
            raise _Fail(f"malformed commit object: {err}") from None
        if i == 0:  # the genesis carries the trust its own signature is judged by
            event_path, stored, event, _ = self._event(i, c)
            if event.get("event_type") != LEDGER_GENESIS:
                raise _Fail(f"seq 0 is {event.get('event_type')!r}, expected ledger_genesis")
            errors = schema_errors(event)
            if errors:
                raise _Fail(f"schema: {errors[0]}")
            try:
                self.trust = Trust.from_genesis(event["details"])
            except (TrustError, KeyError) as err:
                raise _Fail(f"genesis trust is invalid: {err}") from None
        trust = self.trust
        assert trust is not None
        signer = self._check_signature(i, obj, trust)
        pre = 0
        if i > 0:
            event_path, stored, event, pre = self._event(i, c)
        kind = event.get("event_type")
        self._check_paths(i, c, kind, event_path)
        errors = [] if pre & _PRE_SCHEMA else schema_errors(event)
        if errors:
            raise _Fail(f"schema: {errors[0]}" + (f" (+{len(errors) - 1} more)"
                                                  if len(errors) > 1 else ""))
        event_id = str(event["event_id"])
        first = self.ids.get(event_id)
        if first is None:
            first = self.seen_before(event_id)
        if first is not None:
            raise _Fail(f"duplicate event_id {event_id} (first used at seq {first})")
        self.ids[event_id] = i
        if event["prev"] != self.prev_stored_hash:
            raise _Fail(f"prev chain broken: event prev {event['prev'] or '(empty)'}, expected "
                        f"{self.prev_stored_hash or '(empty)'} (SHA-256 of seq {i - 1}'s bytes)")
        leaf = leaf_hash(stored)
        self.cr.append(leaf)
        root = self.cr.root()
        self._check_trailers(i, obj, event_id, leaf, root)
        self._check_authority(i, kind, event, signer, trust)
        if (violation := self.replay.check(i, event, signer)) is not None:
            raise _Fail(violation)
        self._check_dates(i, obj, event, trust)
        if kind == KEY_ROTATED:
            try:
                trust.apply_rotation(event["details"], i)
            except (TrustError, KeyError) as err:
                raise _Fail(f"key_rotated cannot be applied: {err}") from None
        self._check_trust_files(i, c, kind, trust)
        self._check_stored_checkpoint(i, c, trust, root)
        self.leaves.append(leaf)
        self.roots.append(root)
        self.prev_sha = c.sha
        self.prev_stored_hash = hashlib.sha256(stored).hexdigest()
        self.r.events += 1
        self.r.by_type[str(kind)] = self.r.by_type.get(str(kind), 0) + 1
        self.r.root = root.hex()
        self.r.tip = c.sha
        if self.keep:
            self.r.verified.append(VerifiedEvent(i, c.sha, stored, event, leaf,
                                                 c.blobs.get(layout.checkpoint_path(i + 1))))

    def _event(self, i: int, c: RawCommit) -> tuple[str, bytes, dict[str, Any], int]:
        """(path, stored bytes, event, pre-check bits the ordered pass may rely on)."""
        path, stored = self._event_file(i, c)
        work = self.work
        pre = 0 if work is None else work.prechecked(i - self.base, stored)
        if pre & _PRE_CANONICAL:  # these bytes parse and are canonical: parse only
            event: dict[str, Any] = _DECODE(stored.decode("utf-8"))
        else:
            try:
                event = parse_canonical(stored)
            except NonCanonical as err:
                raise _Fail(f"{path} is not canonical JSON: {err.reason}") from None
        self._check_seq(i, event, path)
        return path, stored, event, pre

    def _event_file(self, i: int, c: RawCommit) -> tuple[str, bytes]:
        events = [ch for ch in c.changes if ch.path.startswith("events/")]
        for ch in events:
            if ch.status != "A":
                verb = {"M": "modifies", "D": "deletes"}.get(ch.status, f"changes ({ch.status})")
                raise _Fail(f"not add-only: commit {verb} existing event file {ch.path}")
        if len(events) != 1:
            raise _Fail(f"commit adds {len(events)} event files, expected exactly one "
                        f"({layout.event_path(i)})")
        return events[0].path, c.blobs.get(events[0].path, b"")

    def _check_seq(self, i: int, event: dict[str, Any], path: str) -> None:
        seq = event.get("seq")
        if seq == i:
            if path != layout.event_path(i):
                raise _Fail(f"event seq {i} stored at {path}, expected {layout.event_path(i)}")
            return
        if not isinstance(seq, int) or seq < i:
            raise _Fail(f"seq not contiguous: found seq {seq!r} where seq {i} belongs "
                        "(events reordered or replayed)")
        later = [self.trailer_seq(c) for c in self.all_commits[i - self.base + 1:]]
        if i in later:
            raise _Fail(f"events reordered: seq {seq} appears where seq {i} belongs "
                        f"(seq {i} comes later)")
        raise _Fail(f"seq not contiguous: seq {i} is missing (found seq {seq}; event dropped)")

    def _check_signature(self, i: int, obj: CommitObject, trust: Trust) -> Any:
        if obj.signature is None:
            raise _Fail("unsigned commit (no gpgsig header)")
        sig_error, key_blob = self._parse_now(obj) if self.defer else self._verify_now(obj)
        if sig_error is not None:
            raise _Fail(f"signature: {sig_error}", undecided="OpenPGP" in sig_error)
        assert key_blob is not None
        try:
            signer = trust.principal_for(key_blob, i)
        except TrustError as err:
            raise _Fail(f"signer: {err.reason}") from None
        for role, who in (("committer", obj.committer), ("author", obj.author)):
            if who.email != signer.email or who.name != signer.name:
                raise _Fail(f"{role} {who.name} <{who.email}> does not match the signing key's "
                            f"principal {signer.principal!r} ({signer.name} <{signer.email}>)")
        self.r.signatures += 1
        self.r.principals.add(signer.principal)
        return signer

    @staticmethod
    def _parse_now(obj: CommitObject) -> tuple[str | None, bytes | None]:
        """The signing key only (the Ed25519 check itself is deferred to SignatureWork, and
        a signature it refuses has the commit checked again inline: there only the key read
        here must be the one a full parse reads, which ``git_signature_key`` gives from the
        armor's first line)."""
        assert obj.signature is not None
        key = git_signature_key(obj.signature)
        if key is not None:
            return None, key
        quick = quick_git_signature(obj.signature)
        if quick is not None:
            return None, quick[0]
        try:
            return None, parse_armored(obj.signature).public_key_blob
        except SignatureError as err:
            return err.reason, None

    def _verify_now(self, obj: CommitObject) -> tuple[str | None, bytes | None]:
        assert obj.signature is not None
        quick = quick_git_signature(obj.signature)
        if quick is not None and ed25519_verify(
                quick[0][-32:], quick[1], GIT_SHA512_PREFIX + hashlib.sha512(obj.payload).digest()):
            return None, quick[0]  # what the general check below accepts, read by slicing
        try:  # the general check, which also says why a signature fails
            sig = parse_armored(obj.signature)
        except SignatureError as err:
            return err.reason, None
        try:
            verify_sshsig(sig, obj.payload, "git")
        except SignatureError as err:
            return err.reason, sig.public_key_blob
        return None, sig.public_key_blob

    def _check_paths(self, i: int, c: RawCommit, kind: Any, event_path: str) -> None:
        for ch in c.changes:
            p = ch.path
            if p == event_path:
                continue
            if p.startswith("checkpoints/"):
                if ch.status != "A" or p != layout.checkpoint_path(i + 1):
                    raise _Fail(f"not add-only: unexpected checkpoint change {ch.status} {p} "
                                f"(only {layout.checkpoint_path(i + 1)} may be added here)")
            elif p in (layout.TRUST_STATE, layout.ALLOWED_SIGNERS):
                if kind not in _TRUST_EVENTS:
                    raise _Fail(f"allowed signers changed without a key_rotated event "
                                f"({ch.status} {p} in a {kind} commit)")
            else:
                raise _Fail(f"not add-only: unexpected change {ch.status} {p}")

    def _check_trailers(self, i: int, obj: CommitObject, event_id: str, leaf: bytes,
                        root: bytes) -> None:
        want = {"Ledger-Seq": str(i), "Ledger-Event-Id": event_id, "Ledger-Leaf": leaf.hex(),
                "Ledger-Prev": self.prev_stored_hash, "Ledger-Root": root.hex()}
        if obj.trailers == want:
            return
        for key, value in want.items():
            got = obj.trailers.get(key)
            if got != value:
                raise _Fail(f"trailer {key}: {got!r}, expected {value!r}"
                            + (" (stored bytes changed after hashing)" if key == "Ledger-Leaf"
                               else ""))

    def _check_authority(self, i: int, kind: Any, event: dict[str, Any], signer: Any,
                         trust: Trust) -> None:
        if kind == LEDGER_GENESIS:
            if i != 0:
                raise _Fail("ledger_genesis after seq 0 (a second genesis cannot reset trust)")
            return
        if not trust.may_emit(signer, str(kind)):
            raise _Fail(f"principal {signer.principal!r} may not emit {kind} (allowed: "
                        f"{', '.join(sorted(signer.may_emit)) or 'nothing'})")
        if signer.kind == "person" and event.get("actor_id") != signer.principal:
            raise _Fail(f"person {signer.principal!r} signed an event for actor "
                        f"{event.get('actor_id')!r}")

    def _check_dates(self, i: int, obj: CommitObject, event: dict[str, Any],
                     trust: Trust) -> None:
        skew = trust.clock_skew_seconds
        when = obj.committer.when
        if self.prev_when is not None and when < self.prev_when - skew:
            raise _Fail(f"committer date {when} is {self.prev_when - when}s before seq {i - 1}'s "
                        f"(tolerance {skew}s): backdated")
        if when > self.now + skew:
            raise _Fail(f"committer date {when} is {int(when - self.now)}s in the future "
                        f"(tolerance {skew}s)")
        ts = epoch_seconds(str(event["timestamp"]))
        if ts > when + skew:
            raise _Fail(f"event timestamp {event['timestamp']} is {int(ts - when)}s after its "
                        f"commit date (tolerance {skew}s): future-dated event")
        if self.prev_ts is not None and ts < self.prev_ts - skew:
            raise _Fail(f"event timestamp {event['timestamp']} is {int(self.prev_ts - ts)}s "
                        f"before seq {i - 1}'s (tolerance {skew}s)")
        self.prev_when = when
        self.prev_ts = ts

    def _check_trust_files(self, i: int, c: RawCommit, kind: Any, trust: Trust) -> None:
        if kind not in _TRUST_EVENTS:
            return
        want = {layout.TRUST_STATE: canonical_bytes(trust_to_json(trust)),
                layout.ALLOWED_SIGNERS: trust.allowed_signers().encode()}
        for path, data in want.items():
            # a rotation that leaves a file as it was (e.g. only the pinned lifecycle changed,
            # so allowed_signers did not) has no diff for it: it must equal the previous fold
            changed = any(ch.path == path for ch in c.changes)
            got = c.blobs.get(path) if changed or i == 0 else self.trust_files.get(path)
            if got != data:
                raise _Fail(f"{path} does not equal the trust folded from the genesis and "
                            "key_rotated events")
        self.trust_files = want

    def _check_stored_checkpoint(self, i: int, c: RawCommit, trust: Trust, root: bytes) -> None:
        if len(c.blobs) < 2:  # the event alone: no checkpoint here
            return
        path = layout.checkpoint_path(i + 1)
        note = c.blobs.get(path)
        if note is None:
            return
        text = note.decode("utf-8", errors="replace")
        valid = trust.log_keys_at(i)
        try:
            if self.defer:  # the signature by a key in ``valid`` is checked by SignatureWork
                # (which parses the whole note: a note it refuses has the commit checked again
                # inline); the body the ledger expects here is compared as text, parsed only
                # when it differs (for the message)
                expected = body_text(trust.origin, i + 1, root)
                if text.startswith(expected) and text[len(expected) : len(expected) + 1] == "\n":
                    cp = Checkpoint(trust.origin, i + 1, root, text)
                else:
                    cp, _ = parse_checkpoint(text)
                self.deferred_notes.append((i - self.base, note, valid))
            else:
                cp, _ = verify_checkpoint(text, valid)
        except CheckpointError as err:
            raise _Fail(f"stored checkpoint {path}: {err.reason}") from None
        if cp.origin != trust.origin or cp.size != i + 1 or cp.root != root:
            raise _Fail(f"stored checkpoint {path} says {cp.origin} size {cp.size} root "
                        f"{cp.root.hex()}, ledger has {trust.origin} size {i + 1} root "
                        f"{root.hex()}")
        self._record_checkpoint(cp, path)
        self.r.stored_checkpoints += 1

    def _record_checkpoint(self, cp: Checkpoint, label: str) -> None:
        seen = self.checkpoints.get(cp.size)
        if seen is not None and seen[0] != cp.root:
            raise _Fail(f"split view: checkpoints {seen[1]} and {label} both sign size "
                        f"{cp.size} with different roots ({seen[0].hex()[:16]}... vs "
                        f"{cp.root.hex()[:16]}...)")
        self.checkpoints.setdefault(cp.size, (cp.root, label))

    # --- external checkpoints -------------------------------------------------------------
    def check_external(self, external: Sequence[tuple[str, str]],
                       extra: Sequence[LogKey]) -> None:
        if not external:
            return
        trust = self.trust
        keys = list(extra) + (trust.log_keys_at(None) if trust else [])
        size = len(self.roots)
        parsed: list[tuple[str, Checkpoint]] = []
        for label, note in external:
            try:
                cp, _ = verify_checkpoint(note, keys)
            except CheckpointError as err:
                self.r.failure = Failure(None, None, f"checkpoint {label}: {err.reason}")
                return
            if trust and cp.origin != trust.origin:
                self.r.failure = Failure(None, None, f"checkpoint {label} is for origin "
                                         f"{cp.origin!r}, this ledger is {trust.origin!r}")
                return
            parsed.append((label, cp))
        for label, cp in parsed:  # equivocation is reported before any one comparison
            try:
                self._record_checkpoint(cp, label)
            except _Fail as f:
                self.r.failure = Failure(cp.size - 1, None, f.reason)
                return
        for label, cp in parsed:
            if cp.size > size:
                self.r.failure = Failure(
                    size, None, f"ledger has {size} events but checkpoint {label} covers "
                    f"{cp.size}: events from seq {size} are missing (tip dropped by a force "
                    "push, or rolled back to an old backup)")
                return
            if cp.size == 0:
                continue
            tip_root = self.roots[-1]
            proof = consistency_proof(cp.size, self.leaves) if cp.size < size else []
            if self.roots[cp.size - 1] != cp.root or not verify_consistency(
                    cp.size, size, cp.root, tip_root, proof):
                self.r.failure = Failure(
                    cp.size - 1, None, f"history rewritten: checkpoint {label} signs root "
                    f"{cp.root.hex()} for size {cp.size}, the ledger's root at that size is "
                    f"{self.roots[cp.size - 1].hex()} (an event at or before seq "
                    f"{cp.size - 1} changed; the ledger is not an extension of the checkpoint)")
                return
            self.r.external_checkpoints += 1
