"""Bulk import: many events in one pass, signed in-process, written as one git pack.

For generators, migrations and tests: it applies the same ``prepare`` checks as
``append_event`` (schema, trust, authority, checkpoints), but signs each commit in-process with
SSHSIG ed25519 (exactly the bytes ``ssh-keygen -Y sign -n git`` would produce in format) from
unencrypted key files, builds trees in memory, streams all objects into one packfile, and moves
the ref once with a compare-and-swap. It holds the appender lock throughout. The result is an
ordinary ledger: ``git verify-commit`` and ``governance ledger verify`` accept it.

Lifecycle events (gate decisions, approvals, promotions, rollbacks, retirements, break-glass)
are imported only when the lifecycle replay accepts them at their seq, from the ledger's
lifecycle as it stands (``replay.LifecycleReplay``): a promotion must come with its allowing
gate decision, in environment order, and so on. Nothing is appended when one is refused.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from governance.domain.event_types import KEY_ROTATED
from governance.errors import Denied, InvalidInput, NotFound, Problem, Tampered, Undecided
from governance.ledger.append import open_store, prepare, read_tip, save_frontier
from governance.ledger.commit import build_commit
from governance.ledger.events import build_event
from governance.ledger.replay import LIFECYCLE_TYPES, LifecycleReplay, LifecycleViolation
from governance.ledger.signing import log_private_key
from governance.ledger.sshsig import load_private_key, public_key_of, sign
from governance.ledger.store import GitStore, PackWriter
from governance.ledger.trust import Trust, TrustError


class _TreeNode:
    """One tree held in memory; only dirty subtrees are re-serialised on write."""

    def __init__(self, store: GitStore, sha: str | None) -> None:
        self.store = store
        self.entries = store.read_tree(sha)
        self.children: dict[str, _TreeNode] = {}
        self.sha = sha
        self.dirty = sha is None

    def set(self, parts: list[str], blob: str) -> None:
        self.dirty = True
        if len(parts) == 1:
            self.entries[parts[0]] = ("100644", blob)
            return
        child = self.children.get(parts[0])
        if child is None:
            old = self.entries.get(parts[0])
            child = _TreeNode(self.store, old[1] if old else None)
            self.children[parts[0]] = child
        child.set(parts[1:], blob)

    def write(self, pack: PackWriter) -> str:
        if not self.dirty and self.sha:
            return self.sha
        for name, child in self.children.items():
            self.entries[name] = ("40000", child.write(pack))

        def order(item: tuple[str, tuple[str, str]]) -> bytes:
            name, (mode, _) = item
            return (name + "/" if mode == "40000" else name).encode()

        body = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)
                        for name, (mode, sha) in sorted(self.entries.items(), key=order))
        self.sha = pack.add("tree", body)
        self.dirty = False
        return self.sha


def _replay_to(repo_root: Path, branch: str | None, tip_seq: int) -> LifecycleReplay:
    from governance.ledger.reader import entries  # the reader imports the write path

    replay = LifecycleReplay()
    try:
        replay.check_all((e.seq, e.event) for e in entries(repo_root, branch=branch))
    except LifecycleViolation as err:
        raise Tampered(f"the ledger already breaks its lifecycle at {err.reason}",
                       hint="run `governance ledger verify`") from None
    if replay.last_seq != tip_seq:
        raise Undecided(f"read the ledger up to seq {replay.last_seq}, its tip is seq {tip_seq}")
    return replay


def _check_lifecycle(replay: LifecycleReplay, seq: int, index: int, event: dict[str, Any],
                     trust: Trust, signer_blob: bytes) -> None:
    """A lifecycle event is imported only when the replay accepts it at its seq (e.g. a
    promotion only after its allowing gate decision, in environment order)."""
    try:
        signer = trust.principal_for(signer_blob, seq)
    except TrustError as err:
        raise Denied(f"bulk import item {index}: cannot sign seq {seq}: {err.reason}; nothing "
                     "was appended") from None
    reason = replay.check(seq, event, signer)
    if reason is not None:
        raise Denied(f"bulk import item {index} (seq {seq}, {event['event_type']}): {reason}; "
                     "nothing was appended",
                     hint="import lifecycle events with what they rest on (a promotion after "
                          "its allowing gate_evaluated, approvals before release_approved)")


def bulk_import(repo_root: Path, items: Iterable[tuple[Mapping[str, Any], Path]], *,
                log_key: Path | None = None, branch: str | None = None) -> int:
    """Append ``(fields, signing key file)`` pairs in order; returns how many were appended."""
    store = open_store(repo_root, branch)
    lkey = log_private_key(log_key)
    keys: dict[Path, Any] = {}
    with store.locked():
        tip = store.tip()
        if tip is None:
            raise NotFound(f"no ledger on branch {store.branch!r}",
                           hint="run `governance ledger init` first")
        state = read_tip(store, tip)
        tree = _TreeNode(store, state.tree)
        pack = PackWriter(store)
        parent, seq, prev, count = tip, state.seq, state.prev, 0
        replay: LifecycleReplay | None = None
        try:
            for fields, key_path in items:
                if key_path not in keys:
                    keys[key_path] = load_private_key(Path(key_path).read_bytes())
                private = keys[key_path]
                try:
                    base = build_event(str(fields.get("event_type")),
                                       {k: v for k, v in fields.items() if k != "event_type"})
                except ValueError as err:
                    raise InvalidInput([Problem("<event>", None, "$", str(err))]) from None
                seq += 1
                signer_blob = public_key_of(private).blob
                prep = prepare(base, seq, prev, state.trust, state.frontier, signer_blob, lkey)
                if prep.event["event_type"] in LIFECYCLE_TYPES:
                    if replay is None:  # the lifecycle so far, from the ledger as it stands
                        replay = _replay_to(repo_root, branch, state.seq)
                    _check_lifecycle(replay, seq, count, prep.event, state.trust, signer_blob)
                if prep.event["event_type"] == KEY_ROTATED:
                    raise Undecided("bulk import does not take key_rotated events; append them "
                                    "with append_event")
                for path, data in prep.files.items():
                    tree.set(path.split("/"), pack.add("blob", data))
                tree_sha = tree.write(pack)
                when = int(time.time())
                payload = build_commit(tree_sha, parent, prep.name, prep.email, when,
                                       prep.message)
                raw = build_commit(tree_sha, parent, prep.name, prep.email, when, prep.message,
                                   sign(private, payload, "git"))
                parent = pack.add("commit", raw)
                prev = hashlib.sha256(prep.stored).hexdigest()
                count += 1
            pack.finish()
        except BaseException:
            pack.abort()
            raise
        if count and not store.compare_and_swap(parent, tip):
            raise Undecided("the ledger moved during bulk import; nothing was appended",
                            hint="run the import again")
        if count:
            save_frontier(store, parent, state.frontier)
    return count
