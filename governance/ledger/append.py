"""Appending events: one signed commit per event, compare-and-swap, retry, checkpoints.

``append_event`` is what other commands call (approve, promote, rollback, retire, CI);
``append_by_hand``, what ``governance ledger append`` calls, first refuses the event types only
the lifecycle commands may write (``replay.LIFECYCLE_COMMANDS``). ``append_event`` reads
the tip (seq, previous stored bytes, trust state, Merkle frontier), builds the event with the
next seq and the SHA-256 of the previous stored bytes, checks it against the schema and the
signer's authority in the ledger's own trust (failing early rather than writing an event verify
would refuse), writes the objects, has git sign the commit, and moves the ref with a
compare-and-swap. When another appender won the race the whole step is redone on the new tip;
with ``remote`` the origin is fetched first and a rejected (non-fast-forward) push is retried the
same way, so concurrent appenders all land, in order, and nothing is lost.

A checkpoint (signed note over size seq + 1) is cut into the same commit when the event is an
approval, release approval, promotion or rollback, or when seq + 1 is a multiple of
``checkpoint_every``, provided the log key is available (GOVERNANCE_LEDGER_LOG_KEY). Without
it the append still succeeds; ``cut_checkpoint`` and CI add checkpoints later.

Test hook: GOVERNANCE_LEDGER_TEST_PAUSE=<step> with GOVERNANCE_LEDGER_TEST_PAUSE_FILE=<path>
makes an append write its pid to the file and sleep at that step (locked, objects_written,
commit_signed, ref_updated), so tests can kill -9 it there.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import ci_context
from governance.domain.event_types import CHECKPOINT_TYPES as TABLE_CHECKPOINT_TYPES
from governance.domain.event_types import DEPLOYMENT_PROMOTED, KEY_ROTATED, LEDGER_GENESIS
from governance.domain.events import LedgerEntry
from governance.domain.identity import identity_key
from governance.errors import (
    AlreadyExists,
    ConfigurationError,
    Denied,
    InvalidInput,
    LedgerMoved,
    NotFound,
    Problem,
    Tampered,
    Undecided,
)
from governance.ledger import layout
from governance.ledger.canonical import canonical_bytes, parse_canonical
from governance.ledger.checkpoint import log_key_of, sign_checkpoint
from governance.ledger.commit import ledger_message, parse_commit
from governance.ledger.events import build_event, schema_errors
from governance.ledger.merkle import CompactRange, compact_from, compact_stack, leaf_hash
from governance.ledger.replay import LIFECYCLE_COMMANDS
from governance.ledger.settings import LedgerSettings, branch_of, load_settings
from governance.ledger.signing import CommitSigner, commit_signer, log_private_key
from governance.ledger.store import GitStore
from governance.ledger.trust import (
    Trust,
    TrustError,
    genesis_details,
    trust_from_json,
    trust_to_json,
)

# a signed checkpoint follows each of these at once (the event table's ``checkpoint``)
CHECKPOINT_TYPES = TABLE_CHECKPOINT_TYPES
MAX_ATTEMPTS = 200
FRONTIER_CACHE = "governance-ledger-frontier.json"


@dataclass
class TipState:
    commit: str
    tree: str
    seq: int
    prev: str  # hex SHA-256 of the tip's stored bytes
    trust: Trust
    frontier: CompactRange
    last_timestamp: str


def open_store(root: Path, branch: str | None = None) -> GitStore:
    return GitStore(root, branch or branch_of(root))


def _pause(store: GitStore, step: str) -> None:
    store.mark_step(step)
    # the one crash-test hook (GOVERNANCE_TEST_PAUSE, or GOVERNANCE_LEDGER_TEST_PAUSE)
    ci_context.current().pause(step, seconds=3600)


def verified_tip(store: GitStore) -> TipState:
    """The ledger tip as the verified reader knows it: every commit up to it passed the checks
    of ``ledger verify`` (caught up incrementally), so an append never builds on an unverified
    tip. Raises NotFound for no ledger and LedgerTampered (exit 1, "nothing was recorded") when
    the tip fails verification."""
    from governance.ledger.verified import VerifiedLedger  # verified imports this module

    with VerifiedLedger(store.root, store.branch, recording=True, store=store) as ledger:
        resume = ledger.resume_state()
    if resume is None:
        raise NotFound(f"no ledger on branch {store.branch!r}",
                       hint="run `governance ledger init`")
    tree = parse_commit(store.read_object(resume.commit)).tree
    return TipState(resume.commit, tree, resume.seq, resume.prev_hash, resume.trust,
                    resume.frontier, "")


def read_tip(store: GitStore, tip: str) -> TipState:
    commit = parse_commit(store.read_object(tip))
    try:
        seq = int(commit.trailers["Ledger-Seq"])
    except (KeyError, ValueError):
        raise Tampered(f"ledger tip {tip} has no Ledger-Seq trailer",
                       hint="run `governance ledger verify`") from None
    stored = store.read_path(tip, layout.event_path(seq))
    state = store.read_path(tip, layout.TRUST_STATE)
    if stored is None or state is None:
        raise Tampered(f"ledger tip {tip} lacks its event or trust state",
                       hint="run `governance ledger verify`")
    trust = trust_from_json(parse_canonical(state))
    event = json.loads(stored)
    return TipState(tip, commit.tree, seq, hashlib.sha256(stored).hexdigest(), trust,
                    _frontier(store, tip, seq + 1), str(event.get("timestamp", "")))


def _frontier(store: GitStore, tip: str, size: int) -> CompactRange:
    cache = store.git_dir / FRONTIER_CACHE
    try:
        doc = json.loads(cache.read_text())
        if doc["tip"] == tip and doc["size"] == size:
            return compact_from(size, [bytes.fromhex(h) for h in doc["stack"]])
    except (OSError, ValueError, KeyError):
        pass
    cr = CompactRange()
    for value in store.leaf_trailers(tip):
        cr.append(bytes.fromhex(value))
    if cr.size != size:
        raise Tampered(f"ledger has {cr.size} Ledger-Leaf trailers for {size} events",
                       hint="run `governance ledger verify`")
    try:  # a cache only: the next append need not read every commit again
        save_frontier(store, tip, cr)
    except OSError:
        pass
    return cr


def save_frontier(store: GitStore, tip: str, cr: CompactRange) -> None:
    cache = store.git_dir / FRONTIER_CACHE
    tmp = cache.with_name(FRONTIER_CACHE + f".{os.getpid()}")
    tmp.write_text(json.dumps({"tip": tip, "size": cr.size,
                               "stack": [h.hex() for h in compact_stack(cr)]}))
    os.replace(tmp, cache)


@dataclass(frozen=True)
class Prepared:
    """An event placed at a seq: its bytes, the tree files, the commit message, the signer."""

    event: dict[str, Any]
    stored: bytes
    leaf: bytes
    root: bytes
    files: dict[str, bytes]
    message: str
    name: str
    email: str
    checkpoint: str | None


def prepare(fields: Mapping[str, Any], seq: int, prev: str, trust: Trust,
            frontier: CompactRange, signer_blob: bytes,
            log_key: Ed25519PrivateKey | None) -> Prepared:
    """Place the event at ``seq`` and check it as verify will; pure (no I/O)."""
    event = dict(fields)
    event["seq"] = seq
    event["prev"] = prev
    kind = str(event.get("event_type"))
    try:
        signer = trust.principal_for(signer_blob, seq)
    except TrustError as err:
        raise Denied(f"cannot sign seq {seq}: {err.reason}") from None
    if kind == LEDGER_GENESIS and seq != 0:
        raise Denied("ledger_genesis is only valid at seq 0")
    if kind != LEDGER_GENESIS and not trust.may_emit(signer, kind):
        raise Denied(f"principal {signer.principal!r} may not emit {kind} "
                     f"(allowed: {', '.join(sorted(signer.may_emit)) or 'nothing'})")
    event.setdefault("actor_id", signer.principal)
    if signer.kind == "person" and event["actor_id"] != signer.principal:
        raise Denied(f"person {signer.principal!r} cannot sign an event for actor "
                     f"{event['actor_id']!r} (people sign only as themselves)")
    errors = schema_errors(event)
    if errors:
        raise InvalidInput([Problem("<event>", None, e.split(":", 1)[0], e.split(": ", 1)[-1])
                            for e in errors], message=f"{kind} event is invalid")
    stored = canonical_bytes(event)
    leaf = leaf_hash(stored)
    frontier.append(leaf)
    root = frontier.root()
    files = {layout.event_path(seq): stored}
    new_trust = None
    if kind == KEY_ROTATED:
        new_trust = trust_from_json(trust_to_json(trust))
        try:
            new_trust.apply_rotation(event["details"], seq)
        except (TrustError, KeyError) as err:
            raise InvalidInput([Problem("<event>", None, "$.details",
                                        getattr(err, "reason", str(err)))],
                               message="key_rotated event is invalid") from None
        if trust_to_json(new_trust) == trust_to_json(trust):  # the commit would show no change
            raise InvalidInput([Problem("<event>", None, "$.details.changes",
                                        "the changes leave the trust and the pinned lifecycle "
                                        "as they are")],
                               message="key_rotated event changes nothing")
    elif kind == LEDGER_GENESIS:
        new_trust = trust
    if new_trust is not None:
        files[layout.TRUST_STATE] = canonical_bytes(trust_to_json(new_trust))
        files[layout.ALLOWED_SIGNERS] = new_trust.allowed_signers().encode()
    note = None
    if log_key is not None and (kind in CHECKPOINT_TYPES
                                or (seq + 1) % trust.checkpoint_every == 0):
        lk = log_key_of(trust.origin, log_key)
        if lk not in trust.log_keys_at(seq):
            raise ConfigurationError(
                f"the log key {lk.vkey} is not a log key of this ledger at seq {seq}",
                hint="check GOVERNANCE_LEDGER_LOG_KEY or rotate it in with add_log_key")
        note = sign_checkpoint(trust.origin, seq + 1, root, log_key)
        files[layout.checkpoint_path(seq + 1)] = note.encode()
    message = ledger_message(kind, seq, str(event["event_id"]), leaf.hex(), prev, root.hex())
    return Prepared(event, stored, leaf, root, files, message, signer.name, signer.email, note)


def _commit(store: GitStore, prep: Prepared, parent: str | None, parent_tree: str | None,
            signer: CommitSigner) -> str:
    blobs = {path: store.write_object("blob", data) for path, data in prep.files.items()}
    tree = store.tree_with(parent_tree, blobs)
    _pause(store, "objects_written")
    sha = store.commit_signed(tree, parent, prep.message, prep.name, prep.email,
                              signer.git_args)
    _pause(store, "commit_signed")
    return sha


def _entry(prep: Prepared, commit: str) -> LedgerEntry:
    e = prep.event
    return LedgerEntry(seq=int(e["seq"]), event_id=str(e["event_id"]),
                       event_type=str(e["event_type"]), timestamp=str(e["timestamp"]), event=e,
                       stored=prep.stored, leaf_hash=prep.leaf.hex(), commit=commit,
                       checkpoint=prep.checkpoint)


def _sync_with_remote(store: GitStore, remote: str) -> None:
    """Bring the local ledger ref level with the origin before building on it."""
    rtip = store.fetch(remote)
    ltip = store.tip()
    if rtip is None or rtip == ltip:
        if rtip is None and ltip is not None and not store.push(remote, ltip):
            raise Undecided(f"cannot publish the ledger to {remote!r}")
        return
    if ltip is None or store.is_ancestor(ltip, rtip):
        store.compare_and_swap(rtip, ltip)
    elif store.is_ancestor(rtip, ltip):
        store.push(remote, ltip)  # an earlier append landed locally but was not pushed
    else:
        raise Tampered(
            f"the local ledger ({ltip[:12]}) and {remote}'s ({rtip[:12]}) have diverged",
            hint=f"inspect with `git log {store.ref} {store.remote_ref(remote)}`; if the local "
                 "events were never published, reset with `git update-ref "
                 f"{store.ref} {rtip}` and append them again")


def append_event(repo_root: Path, fields: Mapping[str, Any], *, signing_key: Path | None = None,
                 log_key: Path | None = None, remote: str | None = None,
                 branch: str | None = None, expected_tip: str | None = None) -> LedgerEntry:
    """Append one event (``fields`` must carry ``event_type``); returns it as stored.

    ``expected_tip``: the ledger commit the caller decided on. The event lands only directly on
    it (checked under the lock, after syncing with ``remote``, and kept by the compare-and-swap);
    if the tip moved, nothing is appended and LedgerMoved is raised so the caller decides again
    on the new tip (a decision is never carried over onto state it did not see).

    Raises Denied (unknown key, not allowed to emit the type), InvalidInput (schema),
    NotFound (no ledger yet), LedgerMoved, Undecided/ConfigurationError (signing, git, origin
    trouble).
    """
    kind = str(fields.get("event_type", ""))
    if kind == LEDGER_GENESIS:
        raise Denied("ledger_genesis is written by `governance ledger init` only")
    try:
        base = build_event(kind, {k: v for k, v in fields.items() if k != "event_type"})
    except ValueError as err:
        raise InvalidInput([Problem("<event>", None, "$", str(err))]) from None
    store = open_store(repo_root, branch)
    lkey = log_private_key(log_key)
    with commit_signer(store.config_get, signing_key) as signer:
        for attempt in range(MAX_ATTEMPTS):
            with store.locked():
                _pause(store, "locked")
                if remote:
                    _sync_with_remote(store, remote)
                state = verified_tip(store)
                tip = state.commit
                if expected_tip is not None and tip != expected_tip:
                    raise LedgerMoved(
                        f"the ledger moved from {expected_tip[:12]} to {tip[:12]} (seq "
                        f"{state.seq}) after the decision; nothing was appended",
                        hint="run the command again: it decides on the new tip")
                prep = prepare(base, state.seq + 1, state.prev, state.trust, state.frontier,
                               signer.public_key.blob, lkey)
                sha = _commit(store, prep, tip, state.tree, signer)
                if store.compare_and_swap(sha, tip):
                    _pause(store, "ref_updated")
                    if remote and not store.push(remote, sha):
                        store.compare_and_swap(tip, sha)  # never published: rebuild on origin
                    else:
                        return _entry(prep, sha)
            time.sleep(random.uniform(0, 0.004) * min(attempt + 1, 10))
    raise Undecided(f"could not append after {MAX_ATTEMPTS} attempts (heavy contention)")


def append_by_hand(repo_root: Path, fields: Mapping[str, Any], *, signing_key: Path | None = None,
                   log_key: Path | None = None, remote: str | None = None,
                   branch: str | None = None) -> LedgerEntry:
    """``governance ledger append``: any event type except those only the lifecycle commands
    write (``replay.LIFECYCLE_COMMANDS``: they check gates, approvals and environment order
    before writing, and ``ledger verify`` replays that lifecycle). Denied names the command."""
    kind = str(fields.get("event_type", ""))
    command = LIFECYCLE_COMMANDS.get(kind)
    if command is not None:
        raise Denied(f"`governance ledger append` does not write {kind} events: only the "
                     f"lifecycle command writes them, after its checks; use {command}",
                     hint="ledger append is for tooling events (registrations, evaluations, "
                          "config changes, policy violations, key rotations)")
    return append_event(repo_root, fields, signing_key=signing_key, log_key=log_key,
                        remote=remote, branch=branch)


def init_ledger(repo_root: Path, *, signing_key: Path | None = None,
                log_key: Path | None = None, remote: str | None = None) -> LedgerEntry:
    """Write the genesis (seq 0) pinning trust from governance.yaml at the current commit."""
    settings = load_settings(repo_root)
    require_rotator(settings)
    store = open_store(repo_root, settings.branch)
    head = store.head_commit()
    committed = store.read_path(head, "governance.yaml") if head else None
    if head and committed != (repo_root / "governance.yaml").read_bytes():
        raise ConfigurationError(
            "governance.yaml differs from the committed one at HEAD",
            hint="commit it first: the genesis pins the trust of a commit")
    details = genesis_details(settings, head)
    trust = Trust.from_genesis(details)
    lkey = log_private_key(log_key)
    with commit_signer(store.config_get, signing_key) as signer:
        with store.locked():
            if remote and store.fetch(remote) is not None:
                raise AlreadyExists(f"{remote!r} already has a ledger on {store.branch!r}",
                                    hint=f"fetch it: git fetch {remote} {store.ref}:{store.ref}")
            if store.tip() is not None:
                raise AlreadyExists(f"a ledger already exists on branch {store.branch!r}")
            fields = build_event(LEDGER_GENESIS, {"details": details,
                                                    "reason": "ledger genesis"})
            prep = prepare(fields, 0, "", trust, CompactRange(), signer.public_key.blob, lkey)
            sha = _commit(store, prep, None, None, signer)
            if not store.compare_and_swap(sha, None):
                raise AlreadyExists("another process initialised the ledger concurrently")
            if remote and not store.push(remote, sha):
                raise AlreadyExists(f"{remote!r} got a ledger concurrently")
            return _entry(prep, sha)


def require_rotator(settings: LedgerSettings) -> None:
    """Refuse a genesis whose trust could never change: after it, people, keys and roles
    change only through key_rotated events, which only a rotator with a key may sign."""
    known = {identity_key(i.id): i for i in settings.identities}
    fix = ("list your person id under ledger.rotators in governance.yaml (add yourself first "
           "with `governance people add ID --name N --email E --key KEY.pub`), commit, then "
           "run `governance ledger init` again")
    if not settings.rotators:
        raise ConfigurationError(
            "governance.yaml $.ledger.rotators: no rotator; a genesis without one freezes the "
            "trust for good (no person, key or role could ever be added)", hint=fix)
    unknown = [r for r in settings.rotators if identity_key(r) not in known]
    if unknown:
        raise ConfigurationError(
            f"governance.yaml $.ledger.rotators: {', '.join(unknown)} is not a person or bot "
            "of governance.yaml", hint=fix)
    if not any(known[identity_key(r)].signing_keys for r in settings.rotators):
        raise ConfigurationError(
            "governance.yaml $.ledger.rotators: no rotator has a signing key, so nobody could "
            "sign a key_rotated event", hint=fix)


def genesis_advice(settings: LedgerSettings) -> list[str]:
    """What a team usually needs next and the genesis does not give it."""
    notes = []
    deployers = [i for i in settings.identities if i.kind == "bot"
                 and i.may_emit is not None and DEPLOYMENT_PROMOTED in i.may_emit]
    if not any(i.signing_keys for i in deployers):
        name = deployers[0].id if deployers else "ci-bot"
        notes.append(
            f"no deploy bot with a key: separation of duties forbids whoever trained, "
            f"authored, committed to or approved a release to deploy it; through "
            f"governance-promote.yml the CI bot holds the deployment authority, so the person "
            f"approving the deployment run needs no role or ledger key. Give {name!r} a key: "
            f"`governance keys add {name} KEY.pub`, its private key as the "
            "GOVERNANCE_SIGNING_KEY secret")
    if not settings.log_public_key:
        notes.append("no ledger.log_public_key: checkpoints are not signed; create a log key "
                     "(ssh-keygen -t ed25519 -N '' -f log-key) and record its public half with a "
                     "key_rotated add_log_key event")
    return notes


def signer_principal(repo_root: Path, *, signing_key: Path | None = None,
                     branch: str | None = None) -> str:
    """The principal the configured signing key (argument, environment or git config) signs
    as at the next seq; Denied when the ledger's trust does not know it."""
    store = open_store(repo_root, branch)
    state = verified_tip(store)
    with commit_signer(store.config_get, signing_key) as signer:
        try:
            return state.trust.principal_for(signer.public_key.blob, state.seq + 1).principal
        except TrustError as err:
            raise Denied(err.reason) from None
