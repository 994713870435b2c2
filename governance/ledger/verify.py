"""Verify a whole ledger in-process and name the first failing seq with its reason.

Input is the batch read of the store (``GitStore.read_commits``: raw commit objects, their diffs,
the added blobs); everything here is pure. Per commit, in seq order, it checks what git's own
``--show-signature`` does not (DESIGN section 7; issue 4):

  structure   exactly one parent (none for seq 0), a linear chain
  signature   an SSHSIG in the gpgsig header, namespace ``git``, ed25519, valid over the
              commit payload (verified with ``cryptography``, not ssh-keygen)
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
  time        committer dates monotonic within the configured skew, not in the future, event
              timestamps neither after their commit date nor going backwards beyond the skew
  checkpoints every stored checkpoint's signature (a log key valid at that seq) and root; then
              each external checkpoint: known log key, same origin, not beyond the ledger's
              size, consistent (RFC 6962 consistency proof from its size to the tip), and no two
              checkpoints of one size with different roots (split view)

Speed: the per-commit work that does not depend on order (SSHSIG verification, the event
schema) runs in forked worker processes for ledgers of more than PARALLEL_MIN commits; the
ordered checks (trust, chain, Merkle root, dates) stay in this process and consume those results
in seq order, so the first failure reported is the same either way.

Failures that are the ledger's fault are ``tampered`` (exit 1); failures to decide (an OpenPGP
signature, which cannot be checked in-process) are ``undecided`` (exit 3).
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.ledger import layout
from governance.ledger.canonical import NonCanonical, canonical_bytes, parse_canonical
from governance.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    LogKey,
    parse_checkpoint,
    verify_checkpoint,
)
from governance.ledger.commit import CommitObject, parse_commit
from governance.ledger.events import parse_timestamp, schema_errors
from governance.ledger.merkle import (
    CompactRange,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from governance.ledger.sshsig import (
    SignatureError,
    parse_armored,
    parse_public_key,
    public_key_from_blob,
)
from governance.ledger.sshsig import verify as verify_sshsig
from governance.ledger.store import RawCommit
from governance.ledger.trust import Trust, TrustError, trust_to_json

PARALLEL_MIN = 512


@dataclass(frozen=True)
class _Pre:
    """Order-independent results for one commit, computed ahead (possibly in a worker)."""

    sig_error: str | None  # None: the signature verified (or there is none: main decides)
    key_blob: bytes | None
    schema: tuple[str, ...] | None  # None: event not located or not canonical (main reports)
    cp_key: LogKey | None = None  # the candidate log key whose signature on the note verified


_KEY_CACHE: dict[bytes, Ed25519PublicKey] = {}
_CANDIDATE_LOG_KEYS: list[LogKey] = []  # set before the workers fork


def _candidate_log_keys(commits: Sequence[RawCommit]) -> list[LogKey]:
    """Every log key the ledger ever names (genesis and add_log_key), found cheaply so workers
    can check stored checkpoint signatures; which key is valid at which seq is still decided by
    the ordered pass."""
    keys: list[LogKey] = []
    for i, c in enumerate(commits):
        if i and b"\n\nledger: key_rotated seq " not in c.raw:
            continue
        try:
            event = parse_canonical(_single_event_blob(c) or b"")
            details = event.get("details") or {}
            if i == 0:
                origin = str(details["origin"])
                lines = list(details.get("log_keys", ()))
            else:
                lines = [ch["key"] for ch in details.get("changes", ())
                         if ch.get("op") == "add_log_key"]
            keys += [LogKey(origin, parse_public_key(line).raw) for line in lines]
        except (NonCanonical, SignatureError, KeyError, TypeError, AttributeError, NameError):
            continue
    return keys


def _precheck(raw: bytes, stored: bytes | None, note: bytes | None = None) -> _Pre:
    sig_error: str | None = None
    key_blob: bytes | None = None
    try:
        obj = parse_commit(raw)
        if obj.signature is not None:
            sig = parse_armored(obj.signature)
            key_blob = sig.public_key_blob
            key = _KEY_CACHE.get(key_blob)
            if key is None:
                key = public_key_from_blob(key_blob).crypto_key()
                _KEY_CACHE[key_blob] = key
            verify_sshsig(sig, obj.payload, "git", key)
    except SignatureError as err:
        sig_error = err.reason
    except ValueError:
        pass  # malformed commit: the ordered pass reports it
    schema: tuple[str, ...] | None = None
    if stored is not None:
        try:
            schema = tuple(schema_errors(parse_canonical(stored)))
        except NonCanonical:
            schema = None
    cp_key = None
    if note is not None and _CANDIDATE_LOG_KEYS:
        try:
            _, cp_key = verify_checkpoint(note.decode("utf-8", errors="replace"),
                                          _CANDIDATE_LOG_KEYS)
        except CheckpointError:
            cp_key = None
    return _Pre(sig_error, key_blob, schema, cp_key)


_FORKED_COMMITS: Sequence[RawCommit] = ()  # inherited by forked workers, never pickled


def _precheck_range(bounds: tuple[int, int]) -> list[_Pre]:
    return [_precheck(c.raw, _single_event_blob(c), _single_checkpoint_blob(c))
            for c in _FORKED_COMMITS[bounds[0] : bounds[1]]]


@contextlib.contextmanager
def _prechecks(commits: Sequence[RawCommit]) -> Iterator[Iterator[_Pre] | None]:
    """Order-independent results streamed in seq order from forked workers, or None (small
    ledgers, one CPU, or no fork) to compute them inline."""
    workers = min(os.cpu_count() or 1, 8)
    if len(commits) < PARALLEL_MIN or workers < 2 or not sys.platform.startswith("linux"):
        yield None
        return
    global _FORKED_COMMITS
    _CANDIDATE_LOG_KEYS[:] = _candidate_log_keys(commits)
    _FORKED_COMMITS = commits  # workers fork after this and read it copy-on-write
    size = max(64, len(commits) // (workers * 8) + 1)
    bounds = [(i, min(i + size, len(commits))) for i in range(0, len(commits), size)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork() while the pool's manager thread runs; the workers only
        # read inherited memory and never touch locks the parent may hold
        warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                category=DeprecationWarning)
        try:
            yield (p for chunk in pool.map(_precheck_range, bounds) for p in chunk)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _FORKED_COMMITS = ()


def _single_checkpoint_blob(c: RawCommit) -> bytes | None:
    found = [ch for ch in c.changes if ch.path.startswith("checkpoints/")]
    return c.blobs.get(found[0].path) if len(found) == 1 else None


def _single_event_blob(c: RawCommit) -> bytes | None:
    found = [ch for ch in c.changes if ch.path.startswith("events/")]
    return c.blobs.get(found[0].path) if len(found) == 1 else None


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
                  extra_log_keys: Sequence[LogKey] = (), now: float | None = None
                  ) -> VerifyReport:
    """Check every commit, then every external checkpoint ``(label, note text)``."""
    started = time.perf_counter()
    report = VerifyReport()
    now = time.time() if now is None else now
    v = _Verifier(report, now)
    for c in commits:  # structure first: a merge makes every later seq meaningless
        if len(c.parents) > 1:
            report.failure = Failure(v.trailer_seq(c), c.sha,
                                     f"merge commit ({len(c.parents)} parents); the ledger "
                                     "is linear, one parent per commit")
            break
    if report.failure is None:
        v.all_commits = commits
        with _prechecks(commits) as pre:
            for i, c in enumerate(commits):
                try:
                    v.check(i, c, next(pre) if pre is not None else None)
                except _Fail as f:
                    report.failure = Failure(i, c.sha, f.reason, f.undecided)
                    break
    if report.failure is None:
        v.check_external(external, extra_log_keys)
    report.seconds = time.perf_counter() - started
    return report


class _Verifier:
    def __init__(self, report: VerifyReport, now: float) -> None:
        self.r = report
        self.now = now
        self.trust: Trust | None = None
        self.cr = CompactRange()
        self.leaves: list[bytes] = []
        self.roots: list[bytes] = []
        self.prev_sha = ""
        self.prev_stored_hash = ""
        self.prev_when: int | None = None
        self.prev_ts: float | None = None
        self.ids: dict[str, int] = {}
        self.keys: dict[bytes, Ed25519PublicKey] = {}
        self.checkpoints: dict[int, tuple[bytes, str]] = {}  # size -> (root, label)
        self.all_commits: Sequence[RawCommit] = ()

    @staticmethod
    def trailer_seq(c: RawCommit) -> int | None:
        try:
            return int(parse_commit(c.raw).trailers.get("Ledger-Seq", ""))
        except ValueError:
            return None

    # --- one commit -----------------------------------------------------------------------
    def check(self, i: int, c: RawCommit, pre: _Pre | None = None) -> None:
        expected_parents = () if i == 0 else (self.prev_sha,)
        if c.parents != expected_parents:
            raise _Fail(f"parents {list(c.parents)}, expected {list(expected_parents)} "
                        "(a linear chain from the genesis)")
        try:
            obj = parse_commit(c.raw)
        except ValueError as err:
            raise _Fail(f"malformed commit object: {err}") from None
        if i == 0:  # the genesis carries the trust its own signature is judged by
            event_path, stored, event = self._event(i, c)
            if event.get("event_type") != "ledger_genesis":
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
        signer = self._check_signature(i, obj, trust, pre)
        if i > 0:
            event_path, stored, event = self._event(i, c)
        kind = event.get("event_type")
        self._check_paths(i, c, kind, event_path)
        errors = (list(pre.schema) if pre is not None and pre.schema is not None
                  else schema_errors(event))
        if errors:
            raise _Fail(f"schema: {errors[0]}" + (f" (+{len(errors) - 1} more)"
                                                  if len(errors) > 1 else ""))
        event_id = str(event["event_id"])
        if event_id in self.ids:
            raise _Fail(f"duplicate event_id {event_id} (first used at seq {self.ids[event_id]})")
        self.ids[event_id] = i
        if event["prev"] != self.prev_stored_hash:
            raise _Fail(f"prev chain broken: event prev {event['prev'] or '(empty)'}, expected "
                        f"{self.prev_stored_hash or '(empty)'} (SHA-256 of seq {i - 1}'s bytes)")
        leaf = leaf_hash(stored)
        self.cr.append(leaf)
        root = self.cr.root()
        self._check_trailers(i, obj, event_id, leaf, root)
        self._check_authority(i, kind, event, signer, trust)
        self._check_dates(i, obj, event, trust)
        if kind == "key_rotated":
            try:
                trust.apply_rotation(event["details"], i)
            except (TrustError, KeyError) as err:
                raise _Fail(f"key_rotated cannot be applied: {err}") from None
        self._check_trust_files(i, c, kind, trust)
        self._check_stored_checkpoint(i, c, trust, root, pre)
        self.leaves.append(leaf)
        self.roots.append(root)
        self.prev_sha = c.sha
        self.prev_stored_hash = hashlib.sha256(stored).hexdigest()
        self.r.events += 1
        self.r.by_type[str(kind)] = self.r.by_type.get(str(kind), 0) + 1
        self.r.root = root.hex()
        self.r.tip = c.sha

    def _event(self, i: int, c: RawCommit) -> tuple[str, bytes, dict[str, Any]]:
        path, stored = self._event_file(i, c)
        try:
            event = parse_canonical(stored)
        except NonCanonical as err:
            raise _Fail(f"{path} is not canonical JSON: {err.reason}") from None
        self._check_seq(i, event, path)
        return path, stored, event

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
        later = [self.trailer_seq(c) for c in self.all_commits[i + 1:]]
        if i in later:
            raise _Fail(f"events reordered: seq {seq} appears where seq {i} belongs "
                        f"(seq {i} comes later)")
        raise _Fail(f"seq not contiguous: seq {i} is missing (found seq {seq}; event dropped)")

    def _check_signature(self, i: int, obj: CommitObject, trust: Trust,
                         pre: _Pre | None) -> Any:
        if obj.signature is None:
            raise _Fail("unsigned commit (no gpgsig header)")
        if pre is None:
            pre = _Pre(*self._verify_now(obj))
        if pre.sig_error is not None:
            raise _Fail(f"signature: {pre.sig_error}", undecided="OpenPGP" in pre.sig_error)
        assert pre.key_blob is not None
        key_blob = pre.key_blob
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

    def _verify_now(self, obj: CommitObject) -> tuple[str | None, bytes | None, None]:
        assert obj.signature is not None
        try:
            sig = parse_armored(obj.signature)
        except SignatureError as err:
            return err.reason, None, None
        key = self.keys.get(sig.public_key_blob)
        try:
            if key is None:
                key = public_key_from_blob(sig.public_key_blob).crypto_key()
                self.keys[sig.public_key_blob] = key
            verify_sshsig(sig, obj.payload, "git", key)
        except SignatureError as err:
            return err.reason, sig.public_key_blob, None
        return None, sig.public_key_blob, None

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
                if kind not in ("ledger_genesis", "key_rotated"):
                    raise _Fail(f"allowed signers changed without a key_rotated event "
                                f"({ch.status} {p} in a {kind} commit)")
            else:
                raise _Fail(f"not add-only: unexpected change {ch.status} {p}")

    def _check_trailers(self, i: int, obj: CommitObject, event_id: str, leaf: bytes,
                        root: bytes) -> None:
        want = {"Ledger-Seq": str(i), "Ledger-Event-Id": event_id, "Ledger-Leaf": leaf.hex(),
                "Ledger-Prev": self.prev_stored_hash, "Ledger-Root": root.hex()}
        for key, value in want.items():
            got = obj.trailers.get(key)
            if got != value:
                raise _Fail(f"trailer {key}: {got!r}, expected {value!r}"
                            + (" (stored bytes changed after hashing)" if key == "Ledger-Leaf"
                               else ""))

    def _check_authority(self, i: int, kind: Any, event: dict[str, Any], signer: Any,
                         trust: Trust) -> None:
        if kind == "ledger_genesis":
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
        ts = parse_timestamp(str(event["timestamp"])).timestamp()
        if ts > when + skew:
            raise _Fail(f"event timestamp {event['timestamp']} is {int(ts - when)}s after its "
                        f"commit date (tolerance {skew}s): future-dated event")
        if self.prev_ts is not None and ts < self.prev_ts - skew:
            raise _Fail(f"event timestamp {event['timestamp']} is {int(self.prev_ts - ts)}s "
                        f"before seq {i - 1}'s (tolerance {skew}s)")
        self.prev_when = when
        self.prev_ts = ts

    def _check_trust_files(self, i: int, c: RawCommit, kind: Any, trust: Trust) -> None:
        if kind not in ("ledger_genesis", "key_rotated"):
            return
        want = {layout.TRUST_STATE: canonical_bytes(trust_to_json(trust)),
                layout.ALLOWED_SIGNERS: trust.allowed_signers().encode()}
        for path, data in want.items():
            if c.blobs.get(path) != data:
                raise _Fail(f"{path} does not equal the trust folded from the genesis and "
                            "key_rotated events")

    def _check_stored_checkpoint(self, i: int, c: RawCommit, trust: Trust, root: bytes,
                                 pre: _Pre | None) -> None:
        path = layout.checkpoint_path(i + 1)
        note = c.blobs.get(path)
        if note is None:
            return
        text = note.decode("utf-8", errors="replace")
        valid = trust.log_keys_at(i)
        try:
            if pre is not None and pre.cp_key is not None and pre.cp_key in valid:
                cp, _ = parse_checkpoint(text)  # a worker verified that key's signature
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
