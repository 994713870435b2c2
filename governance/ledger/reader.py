"""Reading the ledger: ``entries()`` for other features, ``verify_repo``, checkpoints.

``entries(repo_root)`` is the one reader the query index, the lifecycle fold and the export
sinks build on. It yields ``LedgerEntry`` values in seq order from one batch read (three git
processes for the whole ledger, see ``GitStore.read_commits``); pass ``after_commit`` (the last
commit you consumed) to read only what is new, which is how incremental consumers stay fast.
It parses but does not verify: run ``verify_repo`` (or ``governance ledger verify``) to know the
entries are authentic. Each entry carries its covering checkpoint, the first stored checkpoint
whose size exceeds its seq, when one exists in the range read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from governance.audit.source import LedgerHead
from governance.domain.events import LedgerEntry
from governance.errors import ConfigurationError, GovernanceError, NotFound, Undecided
from governance.ledger import layout
from governance.ledger.append import open_store, verified_tip
from governance.ledger.checkpoint import LogKey, log_key_of, sign_checkpoint
from governance.ledger.commit import parse_commit
from governance.ledger.merkle import leaf_hash
from governance.ledger.settings import load_settings
from governance.ledger.signing import log_private_key
from governance.ledger.sshsig import ED25519, SignatureError, parse_public_key
from governance.ledger.store import RawCommit

if TYPE_CHECKING:
    from governance.ledger.verified import VerifiedLedger
from governance.ledger.verify import SignatureWork, VerifyReport, verify_ledger


def entries(repo_root: Path, *, branch: str | None = None,
            after_commit: str | None = None) -> Iterator[LedgerEntry]:
    """Ledger entries in seq order (all, or those after ``after_commit``)."""
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
    store = open_store(repo_root, branch)
    if store.tip() is None:
        raise Undecided(f"no ledger on branch {store.branch!r} in {store.root}",
                        hint="run `governance ledger init`, or fetch the ledger branch")
    external = []
    for path in checkpoint_files:
        try:
            external.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
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
    report = verify_ledger(commits, external=external,
                           extra_log_keys=_config_log_keys(repo_root), now=now,
                           work=started[0] if started else None)
    for stale in (store.stale_lock(), store.stale_ref_lock()):
        if stale:
            report.warnings.append(f"{stale[0]}; {stale[1]}")
    return report


def latest_checkpoint(repo_root: Path, *, branch: str | None = None,
                      log_key: Path | None = None) -> tuple[str, int, int]:
    """(note, checkpoint size, ledger size): a fresh note over the tip when the log key is
    available (GOVERNANCE_LEDGER_LOG_KEY), else the latest checkpoint stored on the ledger."""
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


class GitLedgerSource:
    """The ledger as the query index and the export sinks read it (``LedgerSource`` port).

    ``head()`` costs one object read; ``entries(start_seq)`` reads only commits from
    ``start_seq`` on (it finds the commit before it with one ``rev-parse tip~N``).
    """

    def __init__(self, repo_root: Path, branch: str | None = None) -> None:
        self.root = repo_root
        self.branch = branch

    def head(self) -> LedgerHead | None:
        store = open_store(self.root, self.branch)
        tip = store.tip()
        if tip is None:
            return None
        seq = parse_commit(store.read_object(tip)).trailers.get("Ledger-Seq", "")
        if not seq.isdigit():
            raise NotFound(f"ledger tip {tip} has no Ledger-Seq trailer",
                           hint="run `governance ledger verify`")
        return LedgerHead(int(seq), tip)

    def entries(self, start_seq: int = 0) -> Iterator[LedgerEntry]:
        if start_seq <= 0:
            yield from entries(self.root, branch=self.branch)
            return
        head = self.head()
        if head is None or start_seq > head.seq:
            return
        store = open_store(self.root, self.branch)
        before = store.resolve(f"{head.commit}~{head.seq - start_seq + 1}")
        if before is None:
            yield from (e for e in entries(self.root, branch=self.branch) if e.seq >= start_seq)
            return
        yield from entries(self.root, branch=self.branch, after_commit=before)


def ledger_source(repo_root: Path, *, allow_prefix: bool = False) -> VerifiedLedger:
    """The ledger as every consumer reads it: through verification (``VerifiedLedger``)."""
    from governance.ledger.verified import VerifiedLedger

    return VerifiedLedger(repo_root, allow_prefix=allow_prefix)
