"""The verified reader: the one way ledger events reach a decision, a record or an answer.

Every consumer (gates and approval counting, promote, rollback, retire, approve, status, env
publish and verify, config record, the query index behind live, history, audit query, diff,
explain and report, the export sinks, the runtime filter) reads the ledger through
``VerifiedLedger``. It yields an event only after the commit holding it passed every check that
``governance ledger verify`` makes (``governance.ledger.verify.verify_ledger``: one
implementation, not two), and it does that work once per event: the verified chain is kept in
the git directory (``governance/verified-<branch>.sqlite``), outside the work tree, written only
here:

  chain   one row per verified event: seq, commit, leaf hash, event id (uniqueness)
  state   the last verified commit and seq, the SHA-256 of its stored bytes, its committer
          date and event time, the folded trust, the Merkle frontier and root

Catching up verifies only the commits after the last verified one (``verify_ledger`` resumed
from the stored state). Before it is used, the stored state is checked against the commit it
names: that commit must still be on the ledger branch (an ancestor of the tip, else the history
was rewritten), its ``Ledger-Seq`` and ``Ledger-Root`` trailers must equal the stored seq and
the root of the stored frontier, and ``trust/state.json`` in its tree must equal the stored
trust. A state that fails these checks is discarded and the ledger verified from the genesis.

Past a commit that fails verification nothing is evidence: ``catch_up`` raises
``LedgerTampered`` ("ledger tampered at seq N: <reason>", exit 1) or, for a check that cannot be
decided here (an OpenPGP signature), ``Undecided`` (exit 3). With ``allow_prefix`` it returns the
verified prefix instead and keeps the failure in ``failure`` so that every output can say the
answer rests on the prefix only. Only ``governance ledger verify`` (the whole check, with
external checkpoints) and the forensic ``governance ledger log --unverified`` read past it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.domain.events import LedgerEntry
from governance.domain.frozen import frozen
from governance.domain.lazy_re import lazy
from governance.domain.source import LedgerHead
from governance.errors import Tampered, Undecided
from governance.ledger import layout
from governance.ledger.canonical import parse_canonical
from governance.ledger.refs import Unresolvable, branch_tip
from governance.ledger.settings import branch_of

if TYPE_CHECKING:  # the verifier, the git adapter (GitPython) and the crypto: on demand only,
    # a warm read (the verified head is the tip) needs none of them
    from governance.ledger.replay import LifecycleReplay
    from governance.ledger.store import GitStore, RawCommit
    from governance.ledger.verify import Failure, ResumeState, SignatureWork, VerifiedEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chain (
    seq          INTEGER PRIMARY KEY,
    commit_sha   TEXT NOT NULL,
    leaf         TEXT NOT NULL,
    event_id     TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    timestamp    TEXT,
    ts           INTEGER,
    model        TEXT,
    release_id   TEXT,
    environment  TEXT,
    actor_id     TEXT,
    actor_role   TEXT,
    incident     TEXT,
    from_release TEXT,
    to_release   TEXT,
    live         INTEGER NOT NULL,
    live_release TEXT
);
CREATE INDEX IF NOT EXISTS chain_model ON chain(model, seq);
CREATE INDEX IF NOT EXISTS chain_live ON chain(model, environment, seq) WHERE live = 1;
CREATE INDEX IF NOT EXISTS chain_model_type_ts ON chain(model, event_type, ts);
CREATE INDEX IF NOT EXISTS chain_type_ts ON chain(event_type, ts);
CREATE INDEX IF NOT EXISTS chain_actor ON chain(actor_id, ts);
CREATE INDEX IF NOT EXISTS chain_release ON chain(release_id, event_type, ts);
CREATE INDEX IF NOT EXISTS chain_from_release ON chain(from_release) WHERE from_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS chain_to_release ON chain(to_release) WHERE to_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS chain_incident ON chain(incident) WHERE incident IS NOT NULL;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replay (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
# (name, statement) of each index on ``chain``: dropped and built again after the rows when a
# chain is written from the genesis
_CHAIN_INDEXES = tuple(re.findall(r"(CREATE INDEX IF NOT EXISTS (\w+) ON chain[^;]*)", _SCHEMA))
# 2: with the lifecycle replay's state; 3: the small "tip" row, and the replay's per-release,
# per-gate and per-(model, environment) items in their own table (read and written as used);
# 4: the chain carries the query index's filter columns (``governance.ledger.columns``), so
# every answer checks that the index returned every event the chain holds for its question.
# The file's ``user_version`` is the version its tables were created for: another one is
# dropped and verified again from the genesis (the chain is re-derivable from the ledger).
# 5: the chain has the index's indexes too (a completeness question scanned the whole chain:
# 235 ms median for one `live` at 1,000,000 events).
STATE_VERSION = 5
_REPLAY_MAPS = ("releases", "gates", "live")  # LifecycleReplay's maps that grow with the ledger


class _StoredItems(dict[str, Any]):
    """One of the lifecycle replay's big maps, its items read from the chain file on first use
    (catching up touches a few releases, not the whole ledger's). Everything read or set stays
    here and is written back when the state is saved. Only item access is offered: iterating
    it would see only what was read, so it refuses (a replay that needs that must say so)."""

    def __init__(self, conn: sqlite3.Connection, kind: str) -> None:
        super().__init__()
        self._conn = conn
        self._kind = kind

    def _load(self, key: str) -> bool:
        if dict.__contains__(self, key):
            return True
        row = self._conn.execute("SELECT value FROM replay WHERE kind = ? AND key = ?",
                                 (self._kind, key)).fetchone()
        if row is None:
            return False
        dict.__setitem__(self, key, json.loads(row[0]))
        return True

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._load(key)

    def __getitem__(self, key: str) -> Any:
        self._load(key)
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return dict.__getitem__(self, key) if self._load(key) else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if self._load(key):
            return dict.__getitem__(self, key)
        dict.__setitem__(self, key, default)
        return default

    def _partial(self, *_: object) -> Any:
        raise TypeError(f"the lifecycle replay's {self._kind!r} is read item by item from the "
                        "verified chain; it cannot be iterated")

    __iter__ = __len__ = keys = values = items = pop = popitem = __delitem__ = _partial


# an event id as the commit's trailer names it (only a guess of what to look up in one query:
# the verifier judges the event's own id, looked up alone when the guess missed it)
_EVENT_ID_TRAILER = lazy(rb"\nLedger-Event-Id: ([0-9a-f-]{1,64})\n")


class _SeenIds:
    """The uniqueness look-up of a resumed verification (``ResumeState.seen_id``): the seq at
    which the verified chain holds an event id, or None. The ids the new commits' trailers
    name are looked up in one query before the verification (``prefetch``); any other id is
    looked up on its own."""

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self._conn = conn
        self._known: dict[str, int | None] = {}

    def prefetch(self, commits: Sequence[RawCommit]) -> None:
        if self._conn is None:
            return
        ids = {m.group(1).decode() for c in commits
               if (m := _EVENT_ID_TRAILER.search(c.raw)) is not None}
        known: dict[str, int | None] = dict.fromkeys(ids)
        for event_id, seq in self._conn.execute(
                "SELECT event_id, seq FROM chain WHERE event_id IN "
                "(SELECT value FROM json_each(?))", (json.dumps(sorted(ids)),)):
            known[str(event_id)] = int(seq)
        self._known = known

    def __call__(self, event_id: str) -> int | None:
        if event_id in self._known:
            return self._known[event_id]
        assert self._conn is not None
        row = self._conn.execute("SELECT seq FROM chain WHERE event_id = ?",
                                 (event_id,)).fetchone()
        return None if row is None else int(row[0])


class LedgerTampered(Tampered):
    """The ledger fails verification at ``seq``: nothing past the verified prefix is evidence."""

    def __init__(self, failure: Failure, *, recorded: bool = False) -> None:
        self.failure = failure
        tail = "; nothing was recorded" if recorded else ""
        super().__init__(f"ledger tampered at seq {failure.seq}: {failure.reason}{tail}",
                         hint="run `governance ledger verify` and investigate; "
                              "`governance ledger log --unverified` shows the commits")


def refusal(failure: Failure, *, recorded: bool = False) -> Tampered | Undecided:
    """The error a consumer raises for a failure past the verified prefix."""
    if failure.undecided:
        return Undecided(f"ledger cannot be verified at seq {failure.seq}: {failure.reason}",
                         hint="run `governance ledger verify`")
    return LedgerTampered(failure, recorded=recorded)


@frozen
class VerifiedHead:
    """The last verified event: its seq, commit and the Merkle root over the ledger up to it."""

    seq: int
    commit: str
    root: str


def chain_path(store: GitStore) -> Path:
    return chain_file(store.git_dir, store.branch)


def chain_file(common_dir: Path, branch: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", branch)
    return common_dir / "governance" / f"verified-{safe}.sqlite"


class VerifiedLedger:
    """The ledger of a repository, read through verification (``LedgerSource`` port).

    ``catch_up()`` verifies what is new and returns the verified head; ``head()`` and
    ``entries(start_seq)`` serve the query index and the sinks; ``resume_state()`` serves the
    append path (which must never build on an unverified tip); ``confirm`` checks what a cache
    says about an event against the verified chain.
    """

    def __init__(self, repo_root: Path, branch: str | None = None, *,
                 allow_prefix: bool = False, recording: bool = False,
                 store: GitStore | None = None) -> None:
        self.root = repo_root
        self.branch = store.branch if store is not None else (branch or branch_of(repo_root))
        self._store = store  # opened on demand: a warm read needs no git (see ``_fast_tip``)
        self.allow_prefix = allow_prefix
        self.recording = recording  # serving a command that records: refusals say so
        self.failure: Failure | None = None
        self.warnings: list[str] = []
        self._fresh: list[VerifiedEvent] = []  # verified by this process, kept for entries()
        self._head: VerifiedHead | None = None
        self._caught_up = False
        self._caught_tip: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._path: Path | None = None
        self._seen = _SeenIds(None)

    @property
    def store(self) -> GitStore:
        if self._store is None:
            from governance.ledger.store import GitStore

            self._store = GitStore(self.root, self.branch)
        return self._store

    def _fast_tip(self) -> tuple[Path, str | None] | None:
        """The chain file and the ledger tip read from the ref files (loose or packed, through
        worktree and gitdir indirections) without starting git; None when only git can say."""
        if self._store is not None:
            return None
        try:
            dirs, tip = branch_tip(self.root, self.branch)
        except Unresolvable:
            return None
        return chain_file(dirs.common_dir, self.branch), tip

    def _tip(self) -> str | None:
        fast = self._fast_tip()
        return fast[1] if fast is not None else self.store.tip()

    def _warn(self, text: str) -> None:
        """Said once, on stderr (a cache that had to be discarded is worth knowing about)."""
        import sys

        self.warnings.append(text)
        print(f"warning: {text}", file=sys.stderr)

    # --- the chain file --------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            fast = self._fast_tip()
            path = fast[0] if fast is not None else chain_path(self.store)
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, timeout=300)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                _schema(conn)
            except sqlite3.DatabaseError:
                conn.close()
                # the chain is re-derivable from the ledger: start it again
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(str(path) + suffix).unlink()
                self._warn(f"{path} was unreadable: the ledger is verified again "
                                     "from the genesis")
                conn = sqlite3.connect(path, isolation_level=None, timeout=300)
                conn.execute("PRAGMA journal_mode=WAL")
                _schema(conn)
            self._conn = conn
            self._path = path
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> VerifiedLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stored_tip(self) -> VerifiedHead | None:
        """The verified head from the small ``tip`` row (written with the full state in one
        transaction): a warm read compares it with the ref and parses nothing else (the full
        state holds the lifecycle replay, which grows with the ledger)."""
        stored = self._stored("tip")
        return stored[0] if stored is not None else None

    def _stored_head(self) -> tuple[VerifiedHead, dict[str, object]] | None:
        return self._stored("head")

    def _stored(self, key: str) -> tuple[VerifiedHead, dict[str, object]] | None:
        """The state row ``key`` and the head it names; None when it is missing, unreadable or
        of another state version (the ledger is then verified again)."""
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            doc = json.loads(row[0])
            if doc.get("version") != STATE_VERSION:
                return None
            return VerifiedHead(int(doc["seq"]), str(doc["commit"]), str(doc["root"])), doc
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def _resume_from(self, doc: dict[str, object]) -> ResumeState:
        from governance.ledger.merkle import compact_from
        from governance.ledger.trust import trust_from_json
        from governance.ledger.verify import ResumeState

        conn = self.conn
        seen = self._seen = _SeenIds(conn)

        small = doc["replay"]
        if not isinstance(small, dict) or any(k in small for k in _REPLAY_MAPS):
            raise ValueError("the stored lifecycle replay state is not in the expected form")

        def replay() -> LifecycleReplay:
            # a fresh replay per verification run (a run that fails leaves no trace in the
            # next): the small part from the state, the big maps read item by item
            from governance.ledger.replay import LifecycleReplay

            fresh = LifecycleReplay.from_json({**small, **{k: {} for k in _REPLAY_MAPS}})
            fresh.releases = _StoredItems(conn, "releases")
            fresh.gates = _StoredItems(conn, "gates")
            fresh.live = _StoredItems(conn, "live")
            return fresh

        replay()  # the small part must parse now, not in the middle of a verification
        frontier = compact_from(int(str(doc["size"])),
                                [bytes.fromhex(h) for h in doc["frontier"]])  # type: ignore[attr-defined]
        return ResumeState(int(str(doc["seq"])), str(doc["commit"]), str(doc["prev_hash"]),
                           int(str(doc["prev_when"])), float(str(doc["prev_ts"])),
                           trust_from_json(doc["trust"]),  # type: ignore[arg-type]
                           frontier, seen, None, replay)

    def _rewritten(self, head: VerifiedHead, tip: str) -> str | None:
        """Why the ledger is no extension of what was verified here, or None."""
        if head.commit == tip or self.store.is_ancestor(head.commit, tip):
            return None
        return (f"the verified commit {head.commit[:12]} (seq {head.seq}) is no longer on "
                f"{self.store.branch!r}: the ledger history was rewritten (or events dropped) "
                "after it was verified here")

    def _state_ok(self, head: VerifiedHead, resume: ResumeState) -> str | None:
        """Why the stored state cannot be used, or None (see the module docstring)."""
        from governance.ledger.canonical import canonical_bytes
        from governance.ledger.commit import parse_commit
        from governance.ledger.trust import trust_to_json

        store = self.store
        try:
            obj = parse_commit(store.read_object(head.commit))
        except (ValueError, OSError):
            return f"the verified commit {head.commit[:12]} cannot be read"
        if obj.trailers.get("Ledger-Seq") != str(head.seq) or \
                obj.trailers.get("Ledger-Root") != resume.frontier.root().hex() or \
                resume.frontier.size != head.seq + 1 or head.root != resume.frontier.root().hex():
            return "the stored verified state does not match its commit's trailers"
        trust = store.read_path(head.commit, layout.TRUST_STATE)
        if trust != canonical_bytes(trust_to_json(resume.trust)):
            return "the stored verified trust does not match the ledger's trust at its commit"
        return None

    def _reset(self) -> None:
        self.conn.execute("DELETE FROM chain")
        self.conn.execute("DELETE FROM state")
        self.conn.execute("DELETE FROM replay")

    # --- catching up -----------------------------------------------------------------------
    def catch_up(self) -> VerifiedHead | None:
        """Verify the commits after the verified head; the verified head (None: no ledger)."""
        tip = self._tip()
        if self._caught_up and self._caught_tip == tip:
            return self._checked_head()
        self.failure = None
        warm = self._warm_head(tip)
        if warm is not None:  # nothing new: no write lock, no verifier imported
            self._head, self._caught_up, self._caught_tip = warm, True, tip
            return warm
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            head = self._advance(tip)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._head = head
        self._caught_up = True
        self._caught_tip = tip
        return self._checked_head()

    def _checked_head(self) -> VerifiedHead | None:
        if self.failure is not None and not self.allow_prefix:
            raise refusal(self.failure, recorded=self.recording)
        return self._head

    def _warm_head(self, tip: str | None) -> VerifiedHead | None:
        """The verified head when it is the ledger tip (a warm read: nothing to verify), else
        None. One read of the small ``tip`` row (written with the chain in one transaction);
        the verifier, the git adapter and ``cryptography`` stay unimported (issue 18). The
        full state is checked when a catch-up resumes from it."""
        if tip is None:
            return None
        quick = self._stored_tip()
        return quick if quick is not None and quick.commit == tip else None

    def _advance(self, tip: str | None) -> VerifiedHead | None:
        quick = self._warm_head(tip)
        if quick is not None:
            return quick  # nothing new (verified by another process since the warm check)
        from governance.ledger.verify import PARALLEL_MIN, Failure, verify_ledger

        stored = self._stored_head()
        resume: ResumeState | None = None
        started: list[SignatureWork] = []
        commits: list[RawCommit] | None = None
        try:
            if stored is not None:
                head, doc = stored
                if tip is None:
                    self.failure = Failure(head.seq, None, f"the ledger branch "
                                           f"{self.store.branch!r} is gone, though seq "
                                           f"0..{head.seq} were verified here")
                    return head
                if head.commit == tip:
                    return head  # nothing new; the state is checked when it is resumed from
                try:
                    resume = self._resume_from(doc)
                    why = self._state_ok(head, resume)
                except (ValueError, KeyError, TypeError) as err:
                    why = f"the stored verified state is unreadable ({err})"
                if why is None:
                    # the commits after the verified one, read once; when they lead from it
                    # to the tip one by one, it is on the branch (no ancestry query needed)
                    commits = self._read(head.commit, tip, resume, started)
                    self._seen.prefetch(commits)
                rewritten = None if _extends(commits, head.commit, tip) \
                    else self._rewritten(head, tip)
                if rewritten is not None:
                    for work in started:
                        work.abandon()
                    self.failure = Failure(head.seq, None, rewritten)
                    return head
                if why is not None:
                    self._warn(f"{why}; verifying the ledger again from the genesis")
                    self._reset()
                    resume, stored = None, None
            if tip is None:
                return None
            if resume is None:
                self._reset()  # from the genesis: no rows of an older (or other) state remain
            if commits is None:
                commits = self._read(None, tip, resume, started)
        except BaseException:
            for work in started:
                work.abandon()
            raise
        report = verify_ledger(commits, resume=resume, keep=True,
                               defer=len(commits) >= PARALLEL_MIN,
                               work=started[0] if started else None)
        if report.failure is not None:
            self.failure = report.failure
            bad = (report.failure.seq or 0) - (0 if resume is None else resume.seq + 1)
            if bad <= 0:
                return stored[0] if stored is not None else None
            # the prefix before the failure is verified: verify it alone to get its state
            report = verify_ledger(commits[:bad], resume=resume, keep=True, defer=False)
            assert report.failure is None
        return self._save(report.verified, report.resume)

    def _read(self, after: str | None, tip: str, resume: ResumeState | None,
              started: list[SignatureWork]) -> list[RawCommit]:
        """The commits after ``after`` (all: None) up to ``tip``; for many, the signature work
        starts (into ``started``) as soon as their objects are read."""
        from governance.ledger.verify import PARALLEL_MIN, SignatureWork


        def start(raws: Sequence[bytes], events: Sequence[bytes | None],
                  notes: Sequence[bytes | None]) -> None:
            # the Ed25519 work needs only the objects: it starts while the changes are proven
            if len(raws) >= PARALLEL_MIN:
                started.append(SignatureWork.start(raws, events, notes, resume))

        return self.store.read_commits(after=after, tip=tip, on_objects=start,
                                       first_seq=0 if resume is None else resume.seq + 1)

    def _save(self, verified: Sequence[VerifiedEvent], resume: ResumeState | None
              ) -> VerifiedHead | None:
        if resume is None or not verified:
            return None
        from governance.ledger.columns import chain_columns
        from governance.ledger.merkle import compact_stack
        from governance.ledger.trust import trust_to_json

        # from the genesis (the chain was emptied in this transaction): the rows first, the
        # indexes built over them after (one sort each instead of a b-tree insert per row)
        bulk = verified[0].seq == 0
        if bulk:
            for _statement, name in _CHAIN_INDEXES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        self.conn.executemany(
            "INSERT INTO chain VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((v.seq, v.commit, v.leaf.hex(), str(v.event["event_id"]), *chain_columns(v.event))
             for v in verified))
        if bulk:
            for statement, _name in _CHAIN_INDEXES:
                self.conn.execute(statement)
        root = resume.frontier.root().hex()
        doc = {"version": STATE_VERSION, "seq": resume.seq, "commit": resume.commit,
               "root": root, "prev_hash": resume.prev_hash, "prev_when": resume.prev_when,
               "prev_ts": resume.prev_ts, "size": resume.frontier.size,
               "frontier": [h.hex() for h in compact_stack(resume.frontier)],
               "trust": trust_to_json(resume.trust),
               "replay": {k: v for k, v in (resume.replay or {}).items()
                          if k not in _REPLAY_MAPS}}
        for kind in _REPLAY_MAPS:
            items = (resume.replay or {}).get(kind)
            if not isinstance(items, dict):
                raise ValueError(f"the lifecycle replay state has no {kind!r}")
            # what a resumed run read or set (it may have changed in place), or everything
            self.conn.executemany(
                "INSERT OR REPLACE INTO replay VALUES (?, ?, ?)",
                ((kind, key, json.dumps(value, sort_keys=True))
                 for key, value in dict.items(items)))
        self.conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", (
            ("head", json.dumps(doc, sort_keys=True)),
            ("tip", json.dumps({"version": STATE_VERSION, "seq": resume.seq,
                                "commit": resume.commit, "root": root}, sort_keys=True))))
        self._fresh = list(verified)
        return VerifiedHead(resume.seq, resume.commit, root)

    # --- reading ---------------------------------------------------------------------------
    def resume_state(self) -> ResumeState | None:
        """The verified state at the tip, for appending on it; refuses an unverified tip and
        never hands out a stored state that does not match its commit (it verifies the ledger
        from the genesis instead)."""
        for _ in range(2):
            head = self.catch_up()
            if self.failure is not None:
                raise refusal(self.failure, recorded=True)
            if head is None:
                return None
            stored = self._stored_head()
            try:
                resume = None if stored is None else self._resume_from(stored[1])
                why: str | None
                if stored is None or resume is None:
                    why = "the stored verified state is missing"
                elif stored[0] != head:
                    why = "the stored verified state is not at the verified head"
                else:
                    why = self._state_ok(stored[0], resume)
            except (ValueError, KeyError, TypeError) as err:
                why = f"the stored verified state is unreadable ({err})"
            if why is None and resume is not None:
                return resume
            self._warn(f"{why}; verifying the ledger again from the genesis")
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._reset()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self._caught_up = False
        raise Undecided("the verified state does not match the ledger even after verifying it "
                        "from the genesis", hint="run `governance ledger verify`")

    @property
    def last_commit(self) -> str | None:
        """The verified head commit this reader last caught up to (what its answers rest on)."""
        return None if self._head is None else self._head.commit

    def head(self) -> LedgerHead | None:
        head = self.catch_up()
        return None if head is None else LedgerHead(head.seq, head.commit)

    def entries(self, start_seq: int = 0) -> Iterator[LedgerEntry]:
        """Verified entries with ``seq >= start_seq``, in seq order, up to the verified head."""
        head = self.catch_up()
        if head is None or start_seq > head.seq:
            return
        fresh = self._fresh
        if fresh and fresh[0].seq <= start_seq:
            yield from _entries(v for v in fresh if v.seq >= start_seq)
            return
        if fresh and fresh[0].seq == start_seq + 1:
            # the index catching up asks from its last row on: that one event is read alone,
            # the events verified by this process follow it
            yield from _entries(itertools.chain((self._event_at(start_seq),), fresh))
            return
        yield from _entries(self._read_confirmed(start_seq, head.seq))

    def _read_confirmed(self, start_seq: int, last_seq: int) -> Iterator[VerifiedEvent]:
        """The already-verified events ``start_seq..last_seq`` read from the ledger, each
        checked against its chain row."""
        before = self._chain_commit(start_seq - 1) if start_seq > 0 else None
        last = self._chain_commit(last_seq)
        commits = self.store.read_commits(after=before, tip=last, first_seq=start_seq,
                                          with_diff=False)
        yield from self._confirmed(commits, start_seq)

    def _event_at(self, seq: int) -> VerifiedEvent:
        """One already-verified event, read from its commit and checked against its chain
        row (through git's persistent object reader: no process, no listing)."""
        from governance.ledger.verify import VerifiedEvent

        row = self.conn.execute("SELECT commit_sha, leaf FROM chain WHERE seq = ?",
                                (seq,)).fetchone()
        if row is None:
            raise Tampered(f"the verified chain has no seq {seq}",
                           hint="run `governance ledger verify`")
        commit, leaf = str(row[0]), str(row[1])
        stored = self.store.read_path(commit, layout.event_path(seq))
        if stored is None or _leaf(stored) != leaf:
            raise Tampered(f"ledger seq {seq}: the event in commit {commit[:12]} is not the "
                           "verified event", hint="run `governance ledger verify`")
        return VerifiedEvent(seq, commit, stored, parse_canonical(stored), bytes.fromhex(leaf),
                             self.store.read_path(commit, layout.checkpoint_path(seq + 1)))

    def _chain_commit(self, seq: int) -> str:
        row = self.conn.execute("SELECT commit_sha FROM chain WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise Tampered(f"the verified chain has no seq {seq}",
                           hint="run `governance ledger verify`")
        return str(row[0])

    def _confirmed(self, commits: Sequence[RawCommit], first: int) -> Iterator[VerifiedEvent]:
        """Events of already-verified commits, each checked against its chain row."""
        from governance.ledger.verify import VerifiedEvent

        rows = self.conn.execute("SELECT seq, commit_sha, leaf FROM chain WHERE seq >= ? "
                                 "ORDER BY seq", (first,)).fetchall()
        if len(rows) != len(commits):
            raise Tampered(f"the ledger has {len(commits)} commits from seq {first} to the "
                           f"verified head, the verified chain {len(rows)}",
                           hint="run `governance ledger verify`")
        for c, (seq, commit, leaf) in zip(commits, rows, strict=True):
            stored = c.blobs.get(layout.event_path(seq))
            if c.sha != commit or stored is None or _leaf(stored) != leaf:
                raise Tampered(f"ledger seq {seq}: commit {c.sha[:12]} is not the verified "
                               f"commit {commit[:12]}", hint="run `governance ledger verify`")
            yield VerifiedEvent(seq, c.sha, stored, parse_canonical(stored), bytes.fromhex(leaf),
                                c.blobs.get(layout.checkpoint_path(seq + 1)))

    def chain_rows(self, seqs: Sequence[int]) -> dict[int, tuple[str, str]]:
        """The verified chain's (commit, leaf) at each of ``seqs`` that it holds, in one query
        (an answer resting on many index rows checks them all at once)."""
        rows = self.conn.execute(
            "SELECT seq, commit_sha, leaf FROM chain WHERE seq IN "
            "(SELECT value FROM json_each(?))", (json.dumps(list(seqs)),))
        return {int(seq): (str(commit), str(leaf)) for seq, commit, leaf in rows}

    @property
    def chain_location(self) -> Path:
        """The chain file (for a reader that attaches it read-only: the query index compares
        its answers with the chain in SQL, ``governance.audit.queries``)."""
        self.conn  # noqa: B018 (opened, created and of this version)
        assert self._path is not None
        return self._path

    def confirm(self, seq: int, leaf_hex: str, commit: str) -> bool:
        """Whether the verified chain holds this leaf and commit at ``seq``."""
        row = self.conn.execute("SELECT commit_sha, leaf FROM chain WHERE seq = ?",
                                (seq,)).fetchone()
        return row is not None and row[0] == commit and row[1] == leaf_hex



def _schema(conn: sqlite3.Connection) -> None:
    """The chain file's tables, of this ``STATE_VERSION`` (an older file's are dropped, in one
    transaction with the check: the ledger is then verified again from the genesis)."""
    if int(conn.execute("PRAGMA user_version").fetchone()[0]) == STATE_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) != STATE_VERSION:
            for table in ("chain", "state", "replay"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {STATE_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _extends(commits: Sequence[RawCommit] | None, after: str, tip: str) -> bool:
    """Whether ``commits`` lead from ``after`` to ``tip``, each the only parent of the next."""
    if not commits or commits[-1].sha != tip:
        return False
    prev = after
    for c in commits:
        if c.parents != (prev,):
            return False
        prev = c.sha
    return True


def _leaf(stored: bytes) -> str:
    from governance.ledger.merkle import leaf_hash

    return leaf_hash(stored).hex()


def _entries(events: Iterator[VerifiedEvent] | Sequence[VerifiedEvent]
             ) -> Iterator[LedgerEntry]:
    """LedgerEntry values, each with its covering checkpoint (the first stored checkpoint whose
    size exceeds its seq, among the events given); each built once, when its checkpoint (or
    the end) is reached."""
    pending: list[VerifiedEvent] = []
    for v in events:
        pending.append(v)
        if v.checkpoint is not None:
            yield from _entries_of(pending, v.checkpoint.decode("utf-8", errors="replace"))
            pending = []
    yield from _entries_of(pending, None)


def _entries_of(events: Sequence[VerifiedEvent], checkpoint: str | None
                ) -> Iterator[LedgerEntry]:
    for v in events:
        event = v.event
        yield LedgerEntry(v.seq, str(event["event_id"]), str(event["event_type"]),
                          str(event["timestamp"]), event, v.stored, v.leaf.hex(), v.commit,
                          checkpoint)


def verified_entries(repo_root: Path, *, branch: str | None = None) -> list[LedgerEntry]:
    """Every verified entry (for consumers that fold the whole ledger); refuses a ledger that
    fails verification past its verified prefix."""
    with VerifiedLedger(repo_root, branch) as ledger:
        return list(ledger.entries(0))
