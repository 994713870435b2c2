"""The embedded query index: a SQLite cache of the ledger, built and caught up incrementally.

The index lives in the governed repo's local state (``.governance/index.sqlite``, never
committed) and is only ever a cache: the ledger is the evidence. It remembers the seq, leaf hash
and commit of the last entry it indexed; each catch-up first compares that entry with the ledger
and refuses (``Tampered``, exit 1) if the ledger was rewritten under it, naming the first seq
where the two disagree. A new ledger head is indexed in one pass and one transaction (the index
either moves to the new head or stays where it was), with ``executemany`` batches and, on a first
build, secondary indexes created after the bulk insert (SQLite's own advice for bulk loads:
https://www.sqlite.org/lang_createindex.html and https://www.sqlite.org/wal.html).

Processes share the index: opening it, creating its tables and catching it up happen under an
exclusive lock on ``index.sqlite.lock`` beside it (``fcntl.flock``), so four queries started at
once on a fresh clone build it once, the others wait (at most ``LOCK_TIMEOUT_S``, then exit 3
naming the lock) and then read the built index; SQLite's own locks alone refuse a journal-mode
change while another connection reads ("database is locked"). Queries themselves run outside
the lock (WAL: readers never block each other or the next writer).

Time is stored as integer microseconds since the epoch (``ts``) so comparisons never depend on
how a timestamp was spelled; the original RFC 3339 text is kept beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from governance.domain.events import LedgerEntry
from governance.domain.frozen import frozen
from governance.domain.source import LedgerHead, LedgerSource
from governance.errors import GovernanceError, Tampered, Undecided
from governance.ledger.columns import INDEX_HANDLERS as INDEX_HANDLERS  # the event table's
from governance.ledger.columns import TEXT_FIELDS, deployment, micros, text_columns

SCHEMA_VERSION = "2"
INDEX_FILE = Path(".governance") / "index.sqlite"
_BATCH = 5_000
LOCK_TIMEOUT_S = 300.0  # how long a query waits for another process building the index

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    timestamp    TEXT NOT NULL,
    model        TEXT,
    release_id   TEXT,
    environment  TEXT,
    actor_id     TEXT,
    actor_role   TEXT,
    incident     TEXT,
    from_release TEXT,
    to_release   TEXT,
    leaf_hash    TEXT NOT NULL,
    commit_sha   TEXT NOT NULL,
    checkpoint   TEXT,
    stored       BLOB NOT NULL
);
-- What is live changes only through promotions, break-glass and rollbacks (queries.py).
CREATE TABLE IF NOT EXISTS deployments (
    seq         INTEGER PRIMARY KEY,
    model       TEXT NOT NULL,
    environment TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    release_id  TEXT
);
"""

_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events(event_id);
CREATE INDEX IF NOT EXISTS events_model_type_ts ON events(model, event_type, ts);
CREATE INDEX IF NOT EXISTS events_model_seq ON events(model, seq);
CREATE INDEX IF NOT EXISTS events_type_ts ON events(event_type, ts);
CREATE INDEX IF NOT EXISTS events_actor ON events(actor_id, ts);
CREATE INDEX IF NOT EXISTS events_release ON events(release_id, event_type, ts);
CREATE INDEX IF NOT EXISTS events_from_release ON events(from_release)
    WHERE from_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_to_release ON events(to_release) WHERE to_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_incident ON events(incident) WHERE incident IS NOT NULL;
CREATE INDEX IF NOT EXISTS deployments_model_env ON deployments(model, environment, seq);
"""
# Partial indexes on the sparse columns: `col = ?` implies `col IS NOT NULL`, so SQLite uses
# them (https://www.sqlite.org/partialindex.html), at a fraction of the build cost.

_INSERT_EVENT = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_INSERT_DEPLOYMENT = "INSERT INTO deployments VALUES (?,?,?,?,?)"


@frozen
class IndexState:
    """Where the index stands: the last ledger entry it holds."""

    seq: int
    leaf_hash: str
    commit: str


@frozen
class CatchUp:
    """What one catch-up did."""

    indexed: int  # entries added by this call
    head: IndexState | None  # where the index stands now


class IndexMismatch(GovernanceError):
    """A row of the index disagrees with the verified ledger: the cache lied."""

    exit_code = 1


class IndexConnection(sqlite3.Connection):
    """The index's connection; ``confirm`` (when set) answers whether the verified chain holds
    a leaf hash and commit at a seq, so every row an answer uses is checked (``confirm_row``);
    ``chain_rows`` (when set) gives the chain's (commit, leaf) of many seqs in one read, for an
    answer that rests on many rows (``confirm_rows``)."""

    confirm: Callable[[int, str, str], bool] | None = None
    chain_rows: Callable[[Sequence[int]], Mapping[int, tuple[str, str]]] | None = None
    # the schema of the verified chain's ``chain`` as the questions read it (``attach_chain``:
    # the file attached read-only, up to the index's head), or None: with it, answers check
    # their rows and their completeness against it in SQL (``select_confirmed``, ``complete``)
    chain: str | None = None


CHAIN_SCHEMA = "verified"
QUERY_MMAP_BYTES = 1 << 30  # per file; pages beyond it are read as before


def attach_chain(conn: IndexConnection, path: Path, head_seq: int) -> None:
    """Attach the verified chain file read-only to the index connection, so that a question
    runs its predicate on both (``complete``) and checks leaves in the same query. Questions
    read ``temp.chain``: the chain up to ``head_seq``, the seq the index was caught up to (another
    process may verify newer events meanwhile: they are not part of this answer)."""
    if conn.chain is None:
        conn.execute(f"ATTACH DATABASE ? AS {CHAIN_SCHEMA}",
                     (path.resolve().as_uri() + "?mode=ro",))
        # The questions read their pages memory-mapped, not copied into SQLite's cache one
        # read(2) each: a timeline touches every page of both files (its model's rows are spread
        # among the others'), about a fifth of its SQL time in a fresh process (issue 18).
        # Neither file shrinks while it is open (no VACUUM, no auto-vacuum; a discarded index is
        # unlinked, not truncated), the case the SQLite documentation warns about
        # (https://www.sqlite.org/mmap.html).
        for schema in ("main", CHAIN_SCHEMA):
            conn.execute(f"PRAGMA {schema}.mmap_size = {QUERY_MMAP_BYTES}")
        conn.execute(f"CREATE TEMP VIEW chain AS SELECT * FROM {CHAIN_SCHEMA}.chain "
                     f"WHERE seq <= {int(head_seq)}")
        conn.chain = "temp"


def complete(conn: sqlite3.Connection, held: Sequence[int], seqs: Sequence[int]) -> None:
    """The seqs an index answer rests on (``seqs``, in the answer's order) are the seqs the
    verified chain holds for the same question (``held``, same predicate, same order and
    limit); else IndexMismatch naming the first seq that differs and why. An index row deleted
    or moved out of the question by an edited filter column is a seq the answer lacks; a row
    moved into it one the answer has too many."""
    if len(held) == len(seqs) and held == seqs:
        return
    for k in range(max(len(held), len(seqs))):
        mine = held[k] if k < len(held) else None
        theirs = seqs[k] if k < len(seqs) else None
        if mine == theirs:
            continue
        if theirs is None or (mine is not None and mine < theirs):
            raise IndexMismatch(f"the query index's answer lacks the event at seq {mine}, which "
                                "the verified chain holds for this question (a deleted row or an "
                                "edited filter column)")
        raise IndexMismatch(f"the query index's answer includes the event at seq {theirs}, which "
                            "the verified chain does not hold for this question (an edited "
                            "filter column)")


def confirm_row(conn: sqlite3.Connection, row: Sequence[Any]) -> None:
    """Check one ``events`` row (in ``queries._EVENT_COLUMNS`` order) against the verified
    ledger: its stored bytes hash to its leaf, the verified chain holds that leaf and commit at
    its seq, and every column derived from the event equals the event. Raises IndexMismatch.
    A connection with no verified ledger behind it (a synthetic source) is not checked."""
    confirm = getattr(conn, "confirm", None)
    if confirm is None:
        return
    seq, leaf, commit, stored = row[0], row[12], row[13], _blob(row[15])
    if _leaf_hex(stored) != leaf or not confirm(int(seq), str(leaf), str(commit)):
        raise IndexMismatch(f"the query index's event at seq {seq} is not the verified "
                            "ledger's (edited row or replaced index file)")
    entry = _entry_of(int(seq), stored, str(leaf), str(commit))
    want = _event_row(entry)
    got = (row[0], row[1], row[2], want[3], row[3], *row[4:12], row[12], row[13], want[15],
           want[16])
    if tuple(got) != tuple(want):
        names = ("seq", "event_id", "event_type", "ts", "timestamp", *_TEXT_FIELDS)
        bad = next(n for n, a, b in zip(names, got, want, strict=False) if a != b)
        raise IndexMismatch(f"the query index's row for seq {seq} says {bad} "
                            f"{got[names.index(bad)]!r}, the verified event says "
                            f"{want[names.index(bad)]!r}")


def confirm_rows(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]
                 ) -> list[dict[str, Any]]:
    """``confirm_row`` for many ``events`` rows at once, returning each row's parsed event (in
    the order given): the chain's rows for all of them are read in one query, and each event is
    parsed once. The checks are ``confirm_row``'s: the stored bytes hash to the row's leaf, the
    verified chain holds that leaf and commit at its seq, every derived column equals the
    event. Raises IndexMismatch naming the first row that disagrees. (With the chain file
    attached, ``select_confirmed`` does this in SQL and checks the answer complete too.)"""
    confirm = getattr(conn, "confirm", None)
    if confirm is None:
        return [json.loads(row[15]) for row in rows]
    many = getattr(conn, "chain_rows", None)
    chain: Mapping[int, tuple[str, str]] = (
        many([int(row[0]) for row in rows]) if many is not None else {})
    events: list[dict[str, Any]] = []
    append = events.append
    sha256 = hashlib.sha256
    for row in rows:
        seq, leaf, commit, stored = int(row[0]), str(row[12]), str(row[13]), row[15]
        if type(stored) is not bytes:
            stored = _blob(stored)
        held = chain.get(seq) if many is not None else (
            (commit, leaf) if confirm(seq, leaf, commit) else None)
        if sha256(b"\x00" + stored).hexdigest() != leaf or held != (commit, leaf):
            raise IndexMismatch(f"the query index's event at seq {seq} is not the verified "
                                "ledger's (edited row or replaced index file)")
        event = _decode(stored.decode("utf-8"))
        get = event.get
        head = (get("event_id"), get("event_type"), get("timestamp"))
        text = tuple(map(get, _TEXT_FIELDS))
        # The usual row: its columns are the event's values as they are (three strings, every
        # identifier a non-empty string or absent); anything else takes the normalising
        # comparison, which names the column that differs.
        if (row[1:4] != head or row[4:12] != text or not _STR.issuperset(map(type, head))
                or not _PLAIN.issuperset(map(type, text)) or "" in text):
            _same_columns(row, event)
        append(event)
    return events


# Each column an answer shows, against the verified chain's (written by the verifier from the
# verified event, ``governance.ledger.columns``), in SQL: true when the index row ``{row}`` is
# the chain's row ``c`` on every column, commit and leaf. ``seq`` and ``ts`` must be integers
# as the schema declares them: a replaced index file whose table has no column affinity could
# hold a seq as text, equal to the chain's integer under SQLite's comparison rules but sorted
# after every number (an answer out of order) and not a number to print.
_AGREES = (
    "typeof({row}.seq) = 'integer' AND typeof({row}.ts) = 'integer' "
    "AND c.commit_sha = {row}.commit_sha AND c.leaf = {row}.leaf_hash "
    "AND c.event_id = {row}.event_id AND c.event_type = {row}.event_type "
    "AND c.timestamp = {row}.timestamp AND c.ts IS {row}.ts AND c.model IS {row}.model "
    "AND c.release_id IS {row}.release_id AND c.environment IS {row}.environment "
    "AND c.actor_id IS {row}.actor_id AND c.actor_role IS {row}.actor_role "
    "AND c.incident IS {row}.incident AND c.from_release IS {row}.from_release "
    "AND c.to_release IS {row}.to_release"
)
# ``_AGREES`` for the index row at ``events.seq``: 1 when it is the chain's, 0 when a column
# differs, NULL when the chain holds no such seq.
_CHAIN_MATCH = ("(SELECT " + _AGREES.format(row="events")
                + " FROM {schema}.chain c WHERE c.seq = events.seq)")


def select_confirmed(conn: sqlite3.Connection, columns: str, sql: str, args: Sequence[Any]
                     ) -> tuple[list[Any], list[Mapping[str, Any]]]:
    """The ``events`` rows ``SELECT columns FROM events sql`` selects (``columns``: the
    ``_EVENT_COLUMNS`` order; ``sql``: predicate, ``ORDER BY seq``, limit), each with its
    event, checked against the verified ledger, and the answer complete.

    With the verified chain attached (``attach_chain``) that is two reads: the rows, each with
    the chain's verdict on its columns, commit and leaf (``_CHAIN_MATCH``), and how many rows
    (with a LIMIT: which seqs) the chain holds for the same SQL (``complete``); Python only
    hashes each row's stored bytes against its leaf. ``sql``'s predicate reads only columns
    ``_CHAIN_MATCH`` compares. The events are parsed on first use (``StoredEvent``): a
    timeline printed as text reads few of them. Without the chain: ``confirm_rows``."""
    schema = getattr(conn, "chain", None)
    if schema is None or getattr(conn, "confirm", None) is None:
        rows = conn.execute(f"SELECT {columns} FROM events {sql}", args).fetchall()
        return rows, list(confirm_rows(conn, rows))
    rows = conn.execute(f"SELECT {columns}, {_CHAIN_MATCH.format(schema=schema)} FROM events "
                        f"{sql}", args).fetchall()
    events = _agreeing(rows)
    # Every row agrees with the chain's row at its seq on every column a question filters on
    # (``_CHAIN_MATCH``), so each is in the chain's answer to the same question: without a
    # LIMIT the two answers are the same when they are as long (one count on the chain's
    # index instead of its seqs). Anything else takes the checks in full, in their order.
    if events is not None and " LIMIT " not in sql.upper() and _distinct(rows) and \
            conn.execute(f"SELECT count(*) FROM {schema}.chain {sql}",
                         args).fetchone()[0] == len(rows):
        return rows, events
    held = [r[0] for r in conn.execute(f"SELECT seq FROM {schema}.chain {sql}", args)]
    complete(conn, held, [row[0] for row in rows])
    checked = _agreeing(rows, refuse=True)
    assert checked is not None  # refused otherwise
    return rows, checked


def _distinct(rows: Sequence[Sequence[Any]]) -> bool:
    """No seq twice among ``rows`` (each starting with its seq). The schema makes ``seq`` the
    key of ``events``, but a replaced index file need not: there, a row copied under its own
    seq and event id (each agreeing with the chain's row) in place of a deleted one would keep
    the count of an answer and hide the deleted event. Counting an answer complete needs its
    seqs distinct."""
    return len({row[0] for row in rows}) == len(rows)


def select_agreeing(conn: sqlite3.Connection, columns: str, sql: str, args: Sequence[Any]
                    ) -> list[Any] | None:
    """The rows of ``SELECT columns, leaf_hash, stored FROM events sql`` (``sql``: a predicate
    on columns ``_CHAIN_MATCH`` compares and ``ORDER BY seq``, no LIMIT) when the answer passes
    ``select_confirmed``'s checks: every row is the verified chain's on every column, commit
    and leaf (``_CHAIN_MATCH``, in SQL), its stored bytes hash to its leaf, and the chain holds
    as many rows for the same question (complete). Each row ends with its leaf hash, its stored
    bytes and the chain's verdict. For an answer that shows only some columns (a timeline as
    text): the columns it does not show are still compared with the chain's, in SQL, but not
    fetched. None when the chain is not attached or anything disagrees: the caller then asks
    ``select_confirmed``, which checks the same and names what differs."""
    schema = getattr(conn, "chain", None)
    if schema is None or getattr(conn, "confirm", None) is None or " LIMIT " in sql.upper():
        return None
    rows = conn.execute(f"SELECT {columns}, leaf_hash, stored, "
                        f"{_CHAIN_MATCH.format(schema=schema)} FROM events {sql}",
                        args).fetchall()
    if not _distinct(rows) or conn.execute(f"SELECT count(*) FROM {schema}.chain {sql}",
                                           args).fetchone()[0] != len(rows):
        return None
    leaf_prefix = hashlib.sha256(b"\x00")  # RFC 6962 leaf: SHA-256(0x00 || stored)
    copy = leaf_prefix.copy
    for row in rows:
        stored = row[-2]
        if row[-1] != 1 or type(stored) is not bytes:
            return None
        leaf = copy()
        leaf.update(stored)
        if leaf.hexdigest() != row[-3]:
            return None
    return rows


def select_timeline(conn: sqlite3.Connection, expression: str, model: str, probe: bytes
                    ) -> tuple[list[Any], list[tuple[int, int]]] | None:
    """``expression`` (SQL over the ``events`` row ``e``) of every event naming ``model``, in
    seq order, when the answer passes ``select_confirmed``'s checks: every row is the verified
    chain's on every column, commit and leaf (``_AGREES``, in SQL), its stored bytes hash to its
    leaf, and the chain holds as many rows of ``model`` (complete). The expression is evaluated
    for rows that agree with the chain only; a row's value is its expression's, or its seq (an
    int) where the expression is NULL. Returned with the values: the (position, seq) of each row
    the caller answers another way, whose value is its seq or whose stored bytes hold
    ``probe``. For an answer whose rows SQL can write itself (a timeline as text: one text
    value per event instead of ten columns). None when the chain is not attached, anything
    disagrees or SQLite refuses the expression: the caller then asks ``select_confirmed``,
    which checks the same and names what differs."""
    schema = getattr(conn, "chain", None)
    if schema is None or getattr(conn, "confirm", None) is None:
        return None
    agrees = _AGREES.format(row="e")
    values: list[Any] = []
    others: list[tuple[int, int]] = []
    append = values.append
    copy = hashlib.sha256(b"\x00").copy  # RFC 6962 leaf: SHA-256(0x00 || stored)
    last = -1
    try:
        # A join, not ``_CHAIN_MATCH``'s subquery per row: the same comparisons, a row the
        # chain lacks meets NULLs and does not agree; a quarter of the comparison's time.
        # Row by row, not fetched whole: a fresh process pays for each new page of memory,
        # and each row's stored bytes are done with once hashed and probed.
        for value, seq, leaf, stored in conn.execute(
                f"SELECT CASE WHEN {agrees} AND typeof(e.stored) = 'blob' THEN "
                f"coalesce({expression}, e.seq) END, e.seq, e.leaf_hash, e.stored FROM events "
                f"e LEFT JOIN {schema}.chain c ON c.seq = e.seq WHERE e.model = ? "
                "ORDER BY e.seq", (model,)):
            if value is None:  # a row that is not the chain's (or whose bytes are not a blob)
                return None
            digest = copy()
            digest.update(stored)
            if digest.hexdigest() != leaf:
                return None
            if seq <= last:  # a seq twice (``_distinct``); ``_AGREES`` made it an integer
                return None
            last = seq
            if type(value) is not str or probe in stored:
                others.append((len(values), seq))
            append(value)
    except sqlite3.OperationalError:  # e.g. stored bytes that are not JSON, for a JSON function
        return None
    if conn.execute(f"SELECT count(*) FROM {schema}.chain WHERE model = ?",
                    (model,)).fetchone()[0] != len(values):
        return None
    return values, others


def _agreeing(rows: Sequence[Sequence[Any]], *, refuse: bool = False
              ) -> list[Mapping[str, Any]] | None:
    """Each row's event when every row is the verified chain's (``_CHAIN_MATCH`` column 1)
    and its stored bytes hash to its leaf; at the first that is not, None, or with ``refuse``
    IndexMismatch naming what differs."""
    leaf_prefix = hashlib.sha256(b"\x00")  # RFC 6962 leaf: SHA-256(0x00 || stored)
    events: list[Mapping[str, Any]] = []
    append = events.append
    for row in rows:
        stored = row[15]
        if type(stored) is not bytes:
            stored = _blob(stored)
        leaf = leaf_prefix.copy()
        leaf.update(stored)
        if row[16] != 1 or leaf.hexdigest() != row[12]:
            if refuse:
                _mismatch(row, stored)
            return None
        append(StoredEvent(stored))
    return events


def _blob(stored: object) -> bytes:
    """A row's stored bytes as the index writes them (a BLOB); any other value (a row edited to
    TEXT, a number, NULL) as no bytes, which hash to no event's leaf: the row disagrees and is
    named as such instead of failing on the conversion."""
    return bytes(stored) if isinstance(stored, bytes | bytearray | memoryview) else b""


def _mismatch(row: Sequence[Any], stored: bytes) -> None:
    """Why ``row`` is not the verified chain's (IndexMismatch): the column that differs from
    its verified event, else its event, commit or leaf."""
    if hashlib.sha256(b"\x00" + stored).hexdigest() == row[12]:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            _same_columns(row, _decode(stored.decode("utf-8")))
    raise IndexMismatch(f"the query index's event at seq {row[0]} is not the verified "
                        "ledger's (edited row or replaced index file)")


class StoredEvent(Mapping[str, Any]):
    """A verified event read from its stored bytes (canonical JSON whose leaf hash was checked),
    parsed on first use and then kept. ``get`` and ``in`` of a key whose ``"key":`` does not
    occur in the bytes answer without parsing: in canonical JSON (sorted keys, no whitespace,
    ``governance.ledger.canonical``) a key is written so at every depth, and a quote inside a
    string is escaped, so the key is absent at the top level too."""

    __slots__ = ("_stored", "_value")

    def __init__(self, stored: bytes) -> None:
        self._stored = stored
        self._value: dict[str, Any] | None = None

    def _parsed(self) -> dict[str, Any]:
        value = self._value
        if value is None:
            value = self._value = _decode(self._stored.decode("utf-8"))
        return value

    def _absent(self, key: object) -> bool:
        if self._value is not None or type(key) is not str:
            return False
        probe = _KEY_PROBES.get(key)
        if probe is None:
            probe = _KEY_PROBES[key] = (f'"{key}":'.encode() if key.isascii()
                                        and key.isidentifier() else b"")
        return bool(probe) and probe not in self._stored

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __contains__(self, key: object) -> bool:
        return False if self._absent(key) else key in self._parsed()

    def get(self, key: str, default: Any = None) -> Any:
        return default if self._absent(key) else self._parsed().get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredEvent):
            return self._parsed() == other._parsed()
        if isinstance(other, Mapping):
            return self._parsed() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a dict's

    def __repr__(self) -> str:
        return repr(self._parsed())


_KEY_PROBES: dict[str, bytes] = {}


_STR = frozenset({str})
_PLAIN = frozenset({str, type(None)})  # the column types of an identifier as indexed


_ROW_NAMES = ("seq", "event_id", "event_type", "timestamp", *(
    "model" if f == "model_name" else f for f in ("model_name", "release_id", "environment",
                                                  "actor_id", "actor_role", "incident",
                                                  "from_release", "to_release")))


_full_decode = json.JSONDecoder().decode
_raw_decode = json.JSONDecoder().raw_decode


def _decode(text: str) -> Any:
    """The stored event (UTF-8 canonical JSON: no whitespace around it, so the decoder's two
    whitespace scans per event are skipped; anything else takes the full decode, which reads
    or refuses it as before)."""
    try:
        value, end = _raw_decode(text)
    except ValueError:
        return _full_decode(text)
    return value if end == len(text) else _full_decode(text)


def _same_columns(row: Sequence[Any], event: Mapping[str, Any]) -> None:
    """Every column of an ``events`` row derived from its (verified) event equals the event's
    value (as ``_event_row`` derives it)."""
    get = event.get
    want = (row[0], str(get("event_id")), str(get("event_type")), str(get("timestamp")),
            *[v if type(v) is str and v else None for v in map(get, _TEXT_FIELDS)])
    got = tuple(row[:12])
    if got != want:
        k = next(k for k, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise IndexMismatch(f"the query index's row for seq {row[0]} says {_ROW_NAMES[k]} "
                            f"{got[k]!r}, the verified event says {want[k]!r}")


def confirm_deployment(conn: sqlite3.Connection, row: Sequence[Any], event_row: Sequence[Any]
                       ) -> None:
    """A ``deployments`` row (seq, model, environment, ts, release_id) against its confirmed
    event row: the change it records must be the one the event makes."""
    if getattr(conn, "confirm", None) is None:
        return
    confirm_row(conn, event_row)
    entry = _entry_of(int(event_row[0]), bytes(event_row[15]), str(event_row[12]),
                      str(event_row[13]))
    if _deployment_row(entry) != tuple(row):
        raise IndexMismatch(f"the query index's deployment at seq {row[0]} says {tuple(row)!r}, "
                            f"the verified event says {_deployment_row(entry)!r}")


def _leaf_hex(stored: bytes) -> str:
    """RFC 6962 leaf hash (governance.ledger.merkle.leaf_hash; not imported: the ledger package
    pulls in git, which read queries never need)."""
    return hashlib.sha256(b"\x00" + stored).hexdigest()


def _entry_of(seq: int, stored: bytes, leaf: str, commit: str) -> LedgerEntry:
    event = json.loads(stored)
    return LedgerEntry(seq, str(event.get("event_id")), str(event.get("event_type")),
                       str(event.get("timestamp")), event, stored, leaf, commit)


class AuditIndex:
    """An open index file. Use as a context manager; ``catch_up`` before querying."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _require_index_path(path)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
        # timeout: another process may be building the index; wait for it rather than fail.
        try:
            self.conn: IndexConnection = sqlite3.connect(
                path, isolation_level=None, timeout=300, factory=IndexConnection)
        except sqlite3.Error as err:
            raise Undecided(f"{path}: cannot open the query index ({err})",
                            hint=f"it is only a cache of the ledger: remove {path} to rebuild "
                                 "it") from None
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL, not OFF: without fsync an OS crash or power loss may leave the index
            # file unreadable, and an unreadable index is refused for a person to look at
            # (below), not rebuilt silently; four fsyncs per catch-up (a few ms) are cheaper
            # than that. The chain, the verified state, is committed before the index.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self._ensure_schema()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            # Not rebuilt silently: an index someone overwrote is worth a look first.
            raise Undecided(
                f"{path}: the query index is unreadable ({err})",
                hint=f"it is only a cache of the ledger: delete {path} to rebuild it",
            ) from None

    @classmethod
    def for_repo(cls, root: Path) -> AuditIndex:
        return cls(root / INDEX_FILE)

    def __enter__(self) -> AuditIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _ensure_schema(self) -> None:
        self.conn.executescript(_TABLES)
        self.ensure_indexes()
        version = self._meta("schema_version")
        if version is None:
            self.conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        elif version != SCHEMA_VERSION:
            # The index is a cache of the ledger: an old layout is dropped and rebuilt.
            self.conn.executescript(
                "DROP TABLE events; DROP TABLE deployments; DELETE FROM meta;" + _TABLES
            )
            self.conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def state(self) -> IndexState | None:
        seq = self._meta("last_seq")
        if seq is None:
            return None
        return IndexState(int(seq), self._meta("last_leaf") or "", self._meta("last_commit") or "")

    def catch_up(self, source: LedgerSource) -> CatchUp:
        """Bring the index to the ledger's head in one pass, or refuse if history changed.

        Behind a verified source (``VerifiedLedger``) the index is only a cache of the verified
        chain: an index whose last row is not the chain's (an edited or replaced file) is
        reported once (a warning) and rebuilt, never believed; the chain itself refuses a
        rewritten ledger."""
        caught = self._catch_up(source)
        location = getattr(source, "chain_location", None) \
            if getattr(source, "confirm", None) is not None else None
        if location is not None:
            attach_chain(self.conn, location, -1 if caught.head is None else caught.head.seq)
        return caught

    def _catch_up(self, source: LedgerSource) -> CatchUp:
        head = source.head()
        confirm = getattr(source, "confirm", None)
        self.conn.confirm = confirm
        self.conn.chain_rows = getattr(source, "chain_rows", None) if confirm else None
        state = self.state()
        if confirm is not None and state is not None and (
                head is None or state.seq > head.seq
                or not confirm(state.seq, state.leaf_hash, state.commit)):
            self.rebuild(f"{self.path}: the query index does not match the verified ledger "
                         f"at seq {state.seq} (edited or replaced); rebuilt from the ledger")
            state = None
        if _same(state, head):
            return CatchUp(0, state)
        bulk = state is None and self._count() == 0
        if bulk:
            # A first build writes every page once through a rollback journal instead of twice
            # (WAL, then checkpoint); WAL comes back for the readers afterwards. If another
            # connection holds the file in WAL mode SQLite keeps WAL, which is only slower.
            self.conn.execute("PRAGMA journal_mode=DELETE")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            state = self.state()  # another process may have caught up while we waited
            if _same(state, head):
                self.conn.execute("COMMIT")
                return CatchUp(0, state)
            if head is None:
                assert state is not None
                raise self._rewritten(source, "the ledger is empty")
            if state is not None and head.seq < state.seq:
                raise self._rewritten(
                    source, f"the ledger head is seq {head.seq}, the index holds seq {state.seq}"
                )
            added = self._append(source, state)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            if bulk:
                self.conn.execute("PRAGMA journal_mode=WAL")
        return CatchUp(added, self.state())

    def _append(self, source: LedgerSource, state: IndexState | None) -> int:
        confirm = self.conn.confirm
        if state is not None and confirm is not None and \
                confirm(state.seq, state.leaf_hash, state.commit):
            # the verified chain holds the last indexed row: the entries after it are all
            # that is needed (reading that event back from git again proves nothing more)
            entries = iter(source.entries(state.seq + 1))
            expected = state.seq + 1
        else:
            entries = iter(source.entries(0 if state is None else state.seq))
            expected = 0
            if state is not None:
                first = next(entries, None)
                if first is None or first.seq != state.seq or not _matches(first, state):
                    raise self._rewritten(source, "the last indexed entry differs")
                expected = state.seq + 1
        bulk = state is None and self._count() == 0
        if bulk:
            self._drop_indexes()
        added = 0
        last: LedgerEntry | None = None
        checked = _contiguous(entries, expected)
        while True:
            batch = list(islice(checked, _BATCH))
            if not batch:
                break
            self.conn.executemany(_INSERT_EVENT, (_event_row(e) for e in batch))
            self.conn.executemany(
                _INSERT_DEPLOYMENT, (row for e in batch if (row := _deployment_row(e)))
            )
            added += len(batch)
            last = batch[-1]
        if bulk:
            self.ensure_indexes()
        if last is not None:
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("last_seq", str(last.seq)),
                    ("last_leaf", last.leaf_hash),
                    ("last_commit", last.commit),
                ],
            )
        return added

    def rebuild(self, why: str) -> None:
        """Forget every row (the ledger is the evidence) and say so once, on stderr."""
        _warn(why)
        self.conn.executescript("DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS deployments; "
                                "DELETE FROM meta;" + _TABLES)
        self.conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def discard(self, why: str) -> None:
        """Delete the index file (it is rebuilt on the next open) and say so once."""
        self.close()
        _warn(why)
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def _count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def _drop_indexes(self) -> None:
        names = [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            )
        ]
        for name in names:
            self.conn.execute(f'DROP INDEX "{name}"')

    def ensure_indexes(self) -> None:
        # One statement at a time: executescript() would commit the open transaction.
        for statement in _INDEXES.split(";"):
            if statement.strip():
                self.conn.execute(statement)

    def _rewritten(self, source: LedgerSource, why: str) -> Tampered:
        seq, detail = self._first_divergence(source)
        return Tampered(
            f"ledger rewritten under the query index: {why}; first divergence at seq {seq} "
            f"({detail})",
            hint="run `governance ledger verify` and investigate; the index keeps its copy. "
            f"Only after that, delete {INDEX_FILE} to index the ledger as it is now",
        )

    def _first_divergence(self, source: LedgerSource) -> tuple[int, str]:
        rows = self.conn.execute("SELECT seq, leaf_hash, commit_sha FROM events ORDER BY seq")
        ledger = iter(source.entries(0))
        for seq, leaf, commit in rows:
            entry = next(ledger, None)
            if entry is None:
                return seq, f"index has leaf {leaf[:12]}, the ledger ends before it"
            if entry.seq != seq or entry.leaf_hash != leaf or entry.commit != commit:
                return seq, (
                    f"index has leaf {leaf[:12]} at commit {commit[:12]}, ledger has seq "
                    f"{entry.seq} leaf {entry.leaf_hash[:12]} at commit {entry.commit[:12]}"
                )
        return -1, "no difference found in the indexed range"


def _warn(text: str) -> None:
    import sys

    print(f"warning: {text}", file=sys.stderr)


def _require_index_path(path: Path) -> None:
    """The index's directory and file must be what they claim (a located error, exit 3)."""
    hint = f"it is only a cache of the ledger: remove {path} (and {path.parent} if it is a " \
           "file) to rebuild it"
    if path.parent.exists() and not path.parent.is_dir():
        raise Undecided(f"{path.parent}: the query index's directory is not a directory", hint=hint)
    if path.is_dir():
        raise Undecided(f"{path}: the query index is a directory, not a file", hint=hint)
    if path.exists() and not path.is_file():
        raise Undecided(f"{path}: the query index is not a regular file", hint=hint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise Undecided(f"{path.parent}: cannot create the query index's directory "
                        f"({err.strerror})", hint=hint) from None


@contextlib.contextmanager
def building(path: Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the exclusive build lock of the index at ``path`` (waiting at most ``timeout_s``,
    default ``LOCK_TIMEOUT_S``; Undecided, exit 3, when another process holds it longer)."""
    _require_index_path(path)
    lock = Path(f"{path}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise Undecided(f"{lock}: cannot open the query index's lock ({err.strerror})",
                        hint=f"remove {lock} if it is not a file") from None
    try:
        deadline = time.monotonic() + (LOCK_TIMEOUT_S if timeout_s is None else timeout_s)
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Undecided(
                        f"{path}: another process has been building the query index for too "
                        f"long (waited {LOCK_TIMEOUT_S if timeout_s is None else timeout_s:g}s "
                        f"for {lock})",
                        hint="run the command again when that process has finished") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def open_index(root: Path, source: LedgerSource) -> AuditIndex:
    """Open the repo's index and bring it to the ledger's head (the queries' entry point);
    under the build lock, so concurrent first queries build it once."""
    path = root / INDEX_FILE
    with building(path):
        index = AuditIndex(path)
        try:
            index.catch_up(source)
        except BaseException:
            index.close()
            raise
    return index


T = TypeVar("T")


def answer(root: Path, source: LedgerSource, question: Callable[[sqlite3.Connection], T]) -> T:
    """Answer ``question`` from the index. Every row it uses is checked against the verified
    ledger (``confirm_row``); when one disagrees the index is reported, rebuilt from the ledger
    and the question asked again, once (a second disagreement is an error)."""
    with open_index(root, source) as index:
        try:
            return question(index.conn)
        except IndexMismatch as err:
            mismatch = err
    # outside the failed question's open statements: drop the file and build it again
    with building(root / INDEX_FILE):
        AuditIndex.for_repo(root).discard(f"{mismatch}; the query index was rebuilt from the "
                                          "verified ledger")
    with open_index(root, source) as index:
        return question(index.conn)


def _same(state: IndexState | None, head: LedgerHead | None) -> bool:
    if state is None or head is None:
        return state is None and head is None
    return state.seq == head.seq and state.commit == head.commit


def _matches(entry: LedgerEntry, state: IndexState) -> bool:
    return entry.leaf_hash == state.leaf_hash and entry.commit == state.commit


def _contiguous(entries: Iterable[LedgerEntry], expected: int) -> Iterator[LedgerEntry]:
    for entry in entries:
        if entry.seq != expected:
            raise Tampered(
                f"ledger seq not contiguous: expected seq {expected}, got seq {entry.seq}",
                hint="run `governance ledger verify`",
            )
        expected += 1
        yield entry


_TEXT_FIELDS = TEXT_FIELDS


def _micros(entry: LedgerEntry) -> int:
    try:
        return micros(entry.timestamp)
    except (ValueError, TypeError):
        raise Tampered(
            f"ledger seq {entry.seq}: timestamp {entry.timestamp!r} is not RFC 3339 "
            "(expected e.g. 2026-04-10T09:14:11Z)"
        ) from None


def _event_row(entry: LedgerEntry) -> tuple[Any, ...]:
    return (
        entry.seq,
        entry.event_id,
        entry.event_type,
        _micros(entry),
        entry.timestamp,
        *text_columns(entry.event),
        entry.leaf_hash,
        entry.commit,
        entry.checkpoint,
        entry.stored,
    )


def _deployment_row(entry: LedgerEntry) -> tuple[Any, ...] | None:
    """A change of what is live, or None; the same reading as governance.lifecycle's fold
    (``governance.ledger.columns.deployment``: promotions and break-glass make their release
    live, a rollback its ``to_release`` or nothing). Every other type feeds only ``events``.
    """
    change = deployment(entry.event_type, entry.event)
    if change is None:
        return None
    model, env, release = change
    return (entry.seq, model, env, _micros(entry), release)


def model_head(conn: sqlite3.Connection, model: str) -> tuple[int, str, str] | None:
    """The (seq, leaf hash, commit) of the last event naming ``model`` in the index, checked
    against the verified chain (IndexMismatch when the chain does not hold it), or None when
    the index names no event of ``model`` (``governance.status_memo`` keys a model's summary
    by it)."""
    row = conn.execute("SELECT seq, leaf_hash, commit_sha FROM events WHERE model = ? "
                       "ORDER BY seq DESC LIMIT 1", (model,)).fetchone()
    schema = getattr(conn, "chain", None)
    if schema is not None:  # the chain's last event of the model is the index's (completeness)
        held = conn.execute(f"SELECT max(seq) FROM {schema}.chain WHERE model = ?",
                            (model,)).fetchone()
        last = None if not held or held[0] is None else int(held[0])
        mine = None if row is None else int(row[0])
        if last is not None and (mine is None or last > mine):
            complete(conn, [last], [])  # the index lacks the model's last event
        elif last != mine:
            complete(conn, [], [mine] if mine is not None else [])  # one the chain does not hold
    if row is None:
        return None
    seq, leaf, commit = int(row[0]), str(row[1]), str(row[2])
    confirm = getattr(conn, "confirm", None)
    if confirm is not None and not confirm(seq, leaf, commit):
        raise IndexMismatch(f"the query index's event at seq {seq} is not the verified "
                            "ledger's (edited row or replaced index file)")
    return seq, leaf, commit
