"""Reading the ledger: ``entries()`` for other features, ``verify_repo``, checkpoints.

``entries(repo_root)`` and ``ledger_source(repo_root)`` are what the lifecycle fold, the query
index and the export sinks build on: both read through ``governance.ledger.verified`` and yield
only events that passed every check of ``ledger verify``. ``unverified_entries`` parses without
verifying, for the forensic ``ledger log --unverified`` only. ``verify_repo`` is the whole check
(with external checkpoints) behind ``governance ledger verify``. Each entry carries its covering
checkpoint, the first stored checkpoint whose size exceeds its seq, when one exists in the range
read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from governance.domain.events import LedgerEntry
from governance.errors import ConfigurationError, GovernanceError, NotFound, Undecided

if TYPE_CHECKING:
    # the verifier, the checkpoint signer, the git adapter and the crypto behind them: each
    # imported by the function that needs it. A warm query (``ledger_source``: the verified
    # head is the tip) needs none of them (issue 18).
    from governance.ledger.checkpoint import LogKey
    from governance.ledger.store import RawCommit
    from governance.ledger.verified import VerifiedLedger
    from governance.ledger.verify import VerifyReport


def entries(repo_root: Path, *, branch: str | None = None) -> Iterator[LedgerEntry]:
    """Every VERIFIED ledger entry in seq order (``governance.ledger.verified``): what every
    consumer reads. Raises LedgerTampered (exit 1) when the ledger fails verification."""
    from governance.ledger.verified import VerifiedLedger

    with VerifiedLedger(repo_root, branch) as ledger:
        yield from ledger.entries(0)


def unverified_entries(repo_root: Path, *, branch: str | None = None,
                       after_commit: str | None = None) -> Iterator[LedgerEntry]:
    """Ledger entries in seq order (all, or those after ``after_commit``) AS STORED, not
    verified: for ``ledger log --unverified`` (forensics) and the verifier's own tests only."""
    from governance.ledger.append import open_store
    from governance.ledger.commit import parse_commit

    store = open_store(repo_root, branch)
    if store.tip() is None:
        return
    first = 0
    if after_commit:
        trailer = parse_commit(store.read_object(after_commit)).trailers.get("Ledger-Seq", "")
        first = int(trailer) + 1 if trailer.isdigit() else 0
    commits = store.read_commits(after=after_commit, first_seq=first, with_diff=False)
    yield from _entries(commits)


def _entries(commits: Sequence[RawCommit]) -> Iterator[LedgerEntry]:
    from governance.ledger import layout
    from governance.ledger.commit import parse_commit
    from governance.ledger.merkle import leaf_hash

    pending: list[LedgerEntry] = []
    for c in commits:
        seq = int(parse_commit(c.raw).trailers.get("Ledger-Seq", "-1"))
        stored = c.blobs.get(layout.event_path(seq))
        if stored is None:
            raise NotFound(f"ledger commit {c.sha} has no event file for seq {seq}",
                           hint="run `governance ledger verify`")
        event = json.loads(stored)
        pending.append(LedgerEntry(seq=seq, event_id=str(event.get("event_id")),
                                   event_type=str(event.get("event_type")),
                                   timestamp=str(event.get("timestamp")), event=event,
                                   stored=stored, leaf_hash=leaf_hash(stored).hex(),
                                   commit=c.sha))
        note = c.blobs.get(layout.checkpoint_path(seq + 1))
        if note is not None:
            text = note.decode("utf-8", errors="replace")
            for e in pending:
                yield LedgerEntry(e.seq, e.event_id, e.event_type, e.timestamp, e.event,
                                  e.stored, e.leaf_hash, e.commit, text)
            pending = []
    yield from pending


def _config_log_keys(repo_root: Path) -> list[LogKey]:
    """governance.yaml's log key, if readable: a bare mirror or an invalid config simply
    contributes none (the ledger's own log keys still apply)."""
    from governance.ledger.checkpoint import LogKey
    from governance.ledger.settings import load_settings
    from governance.ledger.sshsig import ED25519, SignatureError, parse_public_key

    try:
        settings = load_settings(repo_root)
    except GovernanceError:
        return []
    if not settings.log_public_key:
        return []
    try:
        raw = parse_public_key(settings.log_public_key, (ED25519,)).raw
    except SignatureError:
        return []
    return [LogKey(settings.origin, raw)]


def verify_repo(repo_root: Path, *, checkpoint_files: Sequence[Path] = (),
                branch: str | None = None, now: float | None = None) -> VerifyReport:
    """Verify the ledger in ``repo_root`` against its own trust and external checkpoints.

    External checkpoints are verified with the ledger's log keys plus governance.yaml's
    ``ledger.log_public_key`` (so a history re-rooted under a new log key is still judged
    against the configured one). Raises Undecided when there is no ledger to verify.
    """
    from governance.input_files import InputFileProblem, read_input
    from governance.ledger.settings import branch_of
    from governance.ledger.store import GitStore
    from governance.ledger.verify import SignatureWork, verify_ledger

    # the git adapter alone: the write path (governance.ledger.append) is not loaded to read
    store = GitStore(repo_root, branch or branch_of(repo_root))
    if store.tip() is None:
        raise Undecided(f"no ledger on branch {store.branch!r} in {store.root}",
                        hint="run `governance ledger init`, or fetch the ledger branch")
    external = []
    for path in checkpoint_files:
        try:  # a regular file only, bounded: /dev/zero or a FIFO is named, never read
            raw = read_input(path, str(path), 1 << 20, follow_links=True)
            external.append((str(path), raw.decode("utf-8")))
        except InputFileProblem as err:
            raise Undecided(f"cannot read checkpoint {path}: {err.problem.message}") from None
        except UnicodeDecodeError as err:
            raise Undecided(f"cannot read checkpoint {path}: {err}") from None
    started: list[SignatureWork] = []

    def start(raws: Sequence[bytes], events: Sequence[bytes | None],
              notes: Sequence[bytes | None]) -> None:
        # the Ed25519 work needs only the objects: it starts while the changes are proven
        started.append(SignatureWork.start(raws, events, notes))

    try:
        commits = store.read_commits(on_objects=start)
    except BaseException:
        for work in started:
            work.abandon()
        raise
    # governance.yaml's log key only matters to external checkpoints (read only for them)
    report = verify_ledger(commits, external=external,
                           extra_log_keys=_config_log_keys(repo_root) if external else (),
                           now=now, work=started[0] if started else None)
    for stale in (store.stale_lock(), store.stale_ref_lock()):
        if stale:
            report.warnings.append(f"{stale[0]}; {stale[1]}")
    return report


def latest_checkpoint(repo_root: Path, *, branch: str | None = None,
                      log_key: Path | None = None) -> tuple[str, int, int]:
    """(note, checkpoint size, ledger size): a fresh note over the tip when the log key is
    available (GOVERNANCE_LEDGER_LOG_KEY), else the latest checkpoint stored on the ledger."""
    from governance.ledger import layout
    from governance.ledger.append import open_store, verified_tip  # the writer: not for queries
    from governance.ledger.checkpoint import log_key_of, sign_checkpoint
    from governance.ledger.signing import log_private_key

    store = open_store(repo_root, branch)
    state = verified_tip(store)  # a checkpoint is only ever cut over a verified tip
    tip = state.commit
    size = state.seq + 1
    key = log_private_key(log_key)
    if key is not None:
        lk = log_key_of(state.trust.origin, key)
        if lk not in state.trust.log_keys_at(state.seq):
            raise ConfigurationError(f"the log key {lk.vkey} is not a log key of this ledger",
                                     hint="check GOVERNANCE_LEDGER_LOG_KEY")
        return sign_checkpoint(state.trust.origin, size, state.frontier.root(), key), size, size
    sizes = [int(p.rsplit("/", 1)[-1].split(".")[0])
             for p in store.list_paths(tip, "checkpoints") if p.endswith(".note")]
    if sizes:
        best = max(sizes)
        raw = store.read_path(tip, layout.checkpoint_path(best))
        if raw is not None:
            return raw.decode(), best, size
    raise NotFound("no signed checkpoint is stored on the ledger yet",
                   hint="set GOVERNANCE_LEDGER_LOG_KEY to cut one")


def ledger_source(repo_root: Path, *, allow_prefix: bool = False,
                  recording: bool = False) -> VerifiedLedger:
    """The ledger as every consumer reads it: through verification (``VerifiedLedger``).
    ``recording``: the reader serves a command that decides and records (its refusal says that
    nothing was recorded)."""
    from governance.ledger.settings import branch_of
    from governance.ledger.verified import VerifiedLedger

    # a query may take the branch from the remembered configuration; a recording command
    # parses governance.yaml itself (governance.config_cache)
    return VerifiedLedger(repo_root, branch_of(repo_root, remembered=not recording),
                          allow_prefix=allow_prefix, recording=recording)
