"""PostgreSQL organisation sink: many governed repositories, one database, verified per origin.

Layout (``install_org_schema``, run once by an administrator; ``audit sink-init --sink postgres``):

- ``governance_org_checkpoints``: (origin, size) primary key, the checkpoint's root hash and its
  whole signed note (C2SP signed-note text, exactly as the ledger signed it);
- ``governance_org_events``: (origin, seq) primary key, (origin, event_id) unique; the exact
  stored event bytes, its RFC 6962 leaf hash, the columns queries filter on (derived from the
  event at export time and re-derived from the bytes by every reader), and an inclusion proof
  (``proof``: the concatenated 32-byte RFC 9162 audit path) of the leaf in the tree of
  ``checkpoint_size`` leaves, whose signed checkpoint is the row (origin, checkpoint_size) of
  the checkpoints table (committed before the rows that point at it; no foreign key, whose
  per-row check slows the load: a reader refuses a row whose checkpoint is absent);
- ``governance_org_exports``: one row per export run and origin (the checkpoint it exported
  and the ledger size): how fresh each origin is (``stale`` answers).

The writer role may INSERT (only the columns that carry evidence: ``exported_at`` is always the
server's clock) and SELECT; no UPDATE, DELETE or TRUNCATE, and BEFORE UPDATE OR DELETE / BEFORE
TRUNCATE triggers refuse even the owner.

Export (``export_origin``), one repository at a time, any number of repositories at once:

- the database is the cursor: the origin's highest seq in the table says where to resume; the
  ledger's leaf at that seq must be the row's, else the ledger was rewritten (``Tampered``);
- only entries covered by the latest signed checkpoint are exported (a row without a proof
  would be a row nobody can verify); later entries are reported as pending;
- the checkpoint's root must be the root of the ledger's leaves (and of every checkpoint of that
  origin already in the database): a forked or rewritten log is refused before any row is sent;
- each batch is one transaction (a binary COPY into the table; if rows are already there, the
  batch is redone through a temporary table with ``INSERT ... ON CONFLICT DO NOTHING``), so a
  kill -9 leaves whole batches only: the next run resumes after the last one, with no gap and no
  duplicate;
- a session advisory lock per origin serialises two exports of the same origin; exports of
  different origins share no lock (different primary-key ranges, per-session temporary tables)
  and never wait for each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Final

import psycopg
from psycopg import sql

from governance import ci_context
from governance.domain.event_types import LIVE_CHANGES, ROLLBACK_EXECUTED
from governance.domain.events import LedgerEntry
from governance.domain.source import LedgerSource
from governance.errors import ConfigurationError, Tampered, Undecided
from governance.ledger.checkpoint import Checkpoint, CheckpointError, parse_checkpoint
from governance.ledger.merkle import CompactRange
from governance.timeparse import parse_instant_fast

EVENTS = "governance_org_events"
CHECKPOINTS = "governance_org_checkpoints"
EXPORTS = "governance_org_exports"
LEGACY = "governance_audit_events"
BATCH = 10_000

# 64 lowercase hex digits. Not the regular expression '^[0-9a-f]{64}$': PostgreSQL's regex
# engine rebuilds the DFA of a bounded repetition on every match, which cost ~8 us of server CPU
# per row (a fifth of the load's); a length test and a one-character class accept and refuse
# exactly the same texts for a fraction of that.
LEAF_HEX_CHECK: Final = "octet_length(leaf_hash) = 64 AND leaf_hash !~ '[^0-9a-f]'"
_OLD_LEAF_CHECK = f"{EVENTS}_leaf_hash_check"  # the regex form, replaced by sink-init


# Columns derived from the event (a reader re-derives them from the stored bytes and compares).
TEXT_FIELDS = ("model_name", "release_id", "environment", "actor_id", "actor_role", "incident",
               "from_release", "to_release")
DEPLOYING = LIVE_CHANGES  # promotions, break-glass and rollbacks (the event table)

_EVENT_INSERT_COLUMNS = (
    "origin", "seq", "event_id", "event_type", "event_time", "timestamp_text", "model",
    "release_id", "environment", "actor_id", "actor_role", "incident", "from_release",
    "to_release", "deployment", "live_release", "leaf_hash", "stored", "ledger_commit",
    "checkpoint_size", "proof",
)

# The full-table query indexes lead with origin. Every reader query names its origins
# (``origin = ANY(...)``: one index descent per origin), and an export writes one origin at a
# time, so its inserts stay in that origin's part of each index. Indexes led by event type, model,
# actor or release (before) took every export's inserts all over the index: past the server's
# buffer cache (1,000,000 rows, default shared_buffers) that cost ~10 us of server CPU per row
# and much of the wall time (bench/results/org.md).
#
# The key columns are COLLATE "C" (byte order, which for UTF-8 is code point order: the order the
# reader sorts origins in anyway). Under the database's default collation (C.UTF-8 on the test
# server, en_US.UTF-8 or the like on most) every index comparison of two texts went through
# strcoll, with both strings copied to build C strings; equality is byte equality either way, so
# no row is accepted, refused or found differently. The indexes whose keys are nearly unique (an
# event time or seq in the key) do not try to deduplicate a full leaf page before splitting it:
# there is nothing to merge, and the attempt is wasted work on every split.
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
    origin      text NOT NULL CHECK (origin <> '' AND position(E'\\n' in origin) = 0),
    size        bigint NOT NULL CHECK (size > 0),
    root        bytea NOT NULL CHECK (length(root) = 32),
    note        text NOT NULL,
    exported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, size)
);
CREATE TABLE IF NOT EXISTS {EVENTS} (
    origin          text COLLATE "C" NOT NULL,
    seq             bigint NOT NULL CHECK (seq >= 0),
    event_id        text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    event_time      timestamptz NOT NULL,
    timestamp_text  text NOT NULL,
    model           text COLLATE "C",
    release_id      text COLLATE "C",
    environment     text COLLATE "C",
    actor_id        text COLLATE "C",
    actor_role      text,
    incident        text COLLATE "C",
    from_release    text COLLATE "C",
    to_release      text COLLATE "C",
    deployment      boolean NOT NULL,
    live_release    text,
    leaf_hash       text NOT NULL CONSTRAINT {EVENTS}_leaf_hash_hex CHECK ({LEAF_HEX_CHECK}),
    stored          bytea NOT NULL,
    ledger_commit   text NOT NULL,
    checkpoint_size bigint NOT NULL CHECK (checkpoint_size > seq),
    proof           bytea NOT NULL CHECK (length(proof) % 32 = 0),
    exported_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, seq),
    UNIQUE (origin, event_id)
);
CREATE TABLE IF NOT EXISTS {EXPORTS} (
    origin          text NOT NULL,
    checkpoint_size bigint NOT NULL,
    ledger_size     bigint NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (origin, checkpoint_size) REFERENCES {CHECKPOINTS} (origin, size)
);
DROP INDEX IF EXISTS {EVENTS}_model;
DROP INDEX IF EXISTS {EVENTS}_type_time;
DROP INDEX IF EXISTS {EVENTS}_model_type_time;
DROP INDEX IF EXISTS {EVENTS}_actor;
DROP INDEX IF EXISTS {EVENTS}_release;
CREATE INDEX IF NOT EXISTS {EVENTS}_o_type_time ON {EVENTS} (origin, event_type, event_time)
    WITH (deduplicate_items = off);
CREATE INDEX IF NOT EXISTS {EVENTS}_o_model_type_time ON {EVENTS}
    (origin, model, event_type, event_time) WITH (deduplicate_items = off);
CREATE INDEX IF NOT EXISTS {EVENTS}_deployments ON {EVENTS} (model, environment, origin, seq)
    WITH (deduplicate_items = off) WHERE deployment;
CREATE INDEX IF NOT EXISTS {EVENTS}_live ON {EVENTS} (environment, origin, model, seq DESC)
    INCLUDE (event_time) WITH (deduplicate_items = off) WHERE deployment;
CREATE INDEX IF NOT EXISTS {EVENTS}_incident ON {EVENTS} (incident) WHERE incident IS NOT NULL;
CREATE INDEX IF NOT EXISTS {EVENTS}_o_actor ON {EVENTS} (origin, actor_id, event_time)
    WITH (deduplicate_items = off);
CREATE INDEX IF NOT EXISTS {EVENTS}_o_release ON {EVENTS} (origin, release_id);
CREATE INDEX IF NOT EXISTS {EVENTS}_from_release ON {EVENTS} (from_release)
    WHERE from_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS {EVENTS}_to_release ON {EVENTS} (to_release)
    WHERE to_release IS NOT NULL;
CREATE INDEX IF NOT EXISTS {EXPORTS}_origin ON {EXPORTS} (origin, at);
"""

_WRITER_COLUMNS = {
    CHECKPOINTS: ("origin", "size", "root", "note"),
    EVENTS: _EVENT_INSERT_COLUMNS,
    EXPORTS: ("origin", "checkpoint_size", "ledger_size"),
}


def _role(name: str) -> sql.Identifier:
    if not name.replace("_", "a").isalnum() or not name[:1].isalpha() or len(name) > 63:
        raise ConfigurationError(f"postgres sink: writer role {name!r} is not a plain SQL "
                                 "identifier (letters, digits, '_')")
    return sql.Identifier(name)


def install_org_schema(conn: psycopg.Connection[Any], writer_role: str) -> list[str]:
    """Create the organisation tables, their append-only triggers, indexes and the writer's
    grants (idempotent). Returns notes for the administrator (an old single-repository table
    found beside them)."""
    role = _role(writer_role)
    notes: list[str] = []
    with conn.transaction():
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement.encode())
        _upgrade_leaf_check(conn)
        _upgrade_key_collations(conn)
        conn.execute(
            """CREATE OR REPLACE FUNCTION governance_org_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'governance audit table % is append-only: % refused',
                    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table, columns in _WRITER_COLUMNS.items():
            t = sql.Identifier(table)
            conn.execute(sql.SQL("DROP TRIGGER IF EXISTS append_only_rows ON {t}").format(t=t))
            conn.execute(sql.SQL(
                "CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION governance_org_append_only()").format(t=t))
            conn.execute(sql.SQL("DROP TRIGGER IF EXISTS append_only_truncate ON {t}").format(t=t))
            conn.execute(sql.SQL(
                "CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION governance_org_append_only()").format(t=t))
            conn.execute(sql.SQL("REVOKE ALL ON {t} FROM PUBLIC").format(t=t))
            conn.execute(sql.SQL("REVOKE ALL ON {t} FROM {r}").format(t=t, r=role))
            conn.execute(sql.SQL("GRANT SELECT ON {t} TO {r}").format(t=t, r=role))
            conn.execute(sql.SQL("GRANT INSERT ({c}) ON {t} TO {r}").format(
                c=sql.SQL(", ").join(map(sql.Identifier, columns)), t=t, r=role))
        legacy = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (LEGACY,)).fetchone()
        if legacy and legacy[0]:
            count = conn.execute(sql.SQL("SELECT count(*) FROM {t}").format(
                t=sql.Identifier(LEGACY))).fetchone()
            notes.append(
                f"the single-repository table {LEGACY} ({count[0] if count else 0} rows) is left "
                "untouched (append-only): its rows carry no origin and no inclusion proof. The "
                "next `governance audit export --sink postgres` of each repository re-sends its "
                f"whole ledger into {EVENTS}; once `audit verify-sink` passes there, the old "
                "table can be archived")
    return notes


def _upgrade_leaf_check(conn: psycopg.Connection[Any]) -> None:
    """A table made by an earlier sink-init checks leaf_hash with the slow regular expression:
    replace it by the same rule in its cheap form (validated against every row already there,
    inside sink-init's transaction: on a violation nothing changes and sink-init fails)."""
    names = {str(r[0]) for r in conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'c'",
        (EVENTS,)).fetchall()}
    table = sql.Identifier(EVENTS)
    if _OLD_LEAF_CHECK in names:
        conn.execute(sql.SQL("ALTER TABLE {t} DROP CONSTRAINT {c}").format(
            t=table, c=sql.Identifier(_OLD_LEAF_CHECK)))
    if f"{EVENTS}_leaf_hash_hex" not in names:
        conn.execute(sql.SQL("ALTER TABLE {t} ADD CONSTRAINT {c} CHECK ({rule})").format(
            t=table, c=sql.Identifier(f"{EVENTS}_leaf_hash_hex"), rule=sql.SQL(LEAF_HEX_CHECK)))


# Columns compared in an index (keys and query indexes) and the indexes without deduplication.
C_COLLATED: Final = ("origin", "event_id", "event_type", "model", "release_id", "environment",
                     "actor_id", "incident", "from_release", "to_release")
NO_DEDUP_INDEXES: Final = ("o_type_time", "o_model_type_time", "deployments", "live", "o_actor")


def _upgrade_key_collations(conn: psycopg.Connection[Any]) -> None:
    """A table made by an earlier sink-init compares its key columns under the database's
    collation: make them COLLATE "C" (one ALTER TABLE: the heap is not rewritten, the indexes on
    those columns are rebuilt, inside sink-init's transaction) and stop deduplication on the
    nearly unique indexes (applies to what is inserted from now on)."""
    table = sql.Identifier(EVENTS)
    other = [str(r[0]) for r in conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND "
        "a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(%s) AND a.attcollation <> "
        "(SELECT oid FROM pg_collation WHERE collname = 'C' AND "
        "collnamespace = 'pg_catalog'::regnamespace) ORDER BY a.attnum",
        (EVENTS, list(C_COLLATED))).fetchall()]
    if other:
        try:
            conn.execute(sql.SQL("ALTER TABLE {t} {changes}").format(
                t=table, changes=sql.SQL(", ").join(
                    sql.SQL('ALTER COLUMN {c} TYPE text COLLATE "C"').format(
                        c=sql.Identifier(c)) for c in other)))
        except psycopg.errors.FeatureNotSupported as err:  # a view or rule on those columns
            detail = (err.diag.message_detail or "").strip()
            raise ConfigurationError(
                f"postgres sink-init: {EVENTS} columns {', '.join(other)} must become "
                f"COLLATE \"C\" (cheaper index comparisons), but {err.diag.message_primary}"
                f"{': ' + detail if detail else ''}; nothing was changed",
                hint="drop that view (or rule), run sink-init again, then re-create it") from None
    for name in NO_DEDUP_INDEXES:
        index = f"{EVENTS}_{name}"
        row = conn.execute("SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = "
                           "to_regclass(%s)", (index,)).fetchone()
        if row is not None and "deduplicate_items=off" not in list(row[0]):
            conn.execute(sql.SQL("ALTER INDEX {i} SET (deduplicate_items = off)").format(
                i=sql.Identifier(index)))


# -- Merkle audit paths for every leaf of one tree ---------------------------------------------


class MerkleLevels:
    """Every level of the RFC 6962 tree over ``leaves`` (a lone last node is carried up, which
    builds the same tree as RFC 6962's split at the largest power of two): O(n) to build, O(log n)
    per audit path."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a tree needs at least one leaf")
        sha = hashlib.sha256
        levels = [list(leaves)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            up = [sha(b"\x01" + below[i] + below[i + 1]).digest()
                  for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                up.append(below[-1])
            levels.append(up)
        self.levels = levels

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def paths(self, start: int, stop: int) -> list[bytes]:
        """The audit paths of leaves ``start``..``stop - 1``, each as concatenated bytes: built
        top-down, so leaves that share a subtree share the work above it (O(stop - start))."""
        top = len(self.levels) - 1
        lo = start >> top
        above = [b""] * (((stop - 1) >> top) - lo + 1)
        for lvl in range(top - 1, -1, -1):
            level = self.levels[lvl]
            n = len(level)
            new_lo = start >> lvl
            current = []
            for i in range(new_lo, ((stop - 1) >> lvl) + 1):
                s = i ^ 1
                up = above[(i >> 1) - lo]
                current.append(level[s] + up if s < n else up)
            above, lo = current, new_lo
        return above

    def path(self, index: int) -> list[bytes]:
        out = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index >>= 1
        return out


# -- export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgExportResult:
    origin: str
    destination: str
    exported: int  # rows newly stored
    first_seq: int | None  # first seq sent by this run
    checkpoint_size: int
    ledger_size: int
    held: int  # rows of this origin in the database after the export (seq 0..held-1)

    @property
    def pending(self) -> int:
        """Ledger entries not in the database yet (exported once a checkpoint covers them)."""
        return max(self.ledger_size - self.held, 0)

    def to_json(self) -> dict[str, Any]:
        return {"sink": "postgres", "layout": "org", "origin": self.origin,
                "destination": self.destination, "exported": self.exported,
                "sent": self.exported, "first_seq": self.first_seq,
                "checkpoint_size": self.checkpoint_size, "ledger_size": self.ledger_size,
                "head_seq": self.ledger_size - 1 if self.ledger_size else None,
                "pending": self.pending}


def destination_of(dsn: str) -> str:
    """Host, port and database only: never the user's password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise ConfigurationError("postgres: the connection string is not usable (malformed; "
                                 "it is not shown because it may hold a password)") from None
    host = info.get("host") or "localhost"
    port = info.get("port") or 5432
    return f"postgresql://{host}:{port}/{info.get('dbname') or ''}"


def connect(dsn: str, *, what: str = "postgres sink") -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, connect_timeout=10)
    except psycopg.OperationalError as err:
        raise Undecided(f"{what} {destination_of(dsn)} unavailable: {_scrub(err, dsn)}",
                        hint="nothing was lost: re-run when the server is back") from None


def _scrub(err: BaseException, dsn: str) -> str:
    """The first line of a driver error, with the password (if any) blanked out."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text


def _pause(step: str) -> None:
    """Crash-test hook (as in the lifecycle commands): GOVERNANCE_TEST_PAUSE=<step> stops here,
    writing the pid to GOVERNANCE_TEST_PAUSE_FILE, so a test can kill -9 between two batches."""
    ci_context.current().pause(step)


def checked_checkpoint(note: str, origin: str | None = None) -> Checkpoint:
    try:
        cp, _sigs = parse_checkpoint(note)
    except CheckpointError as err:
        raise Tampered(f"checkpoint to export is malformed: {err.reason}") from None
    if origin is not None and cp.origin != origin:
        raise Tampered(f"checkpoint origin {cp.origin!r} is not the ledger's origin {origin!r}")
    return cp


def _str(value: Any) -> str | None:
    return value if type(value) is str and value else None


def derived_columns(event: dict[str, Any] | Any) -> tuple[Any, ...]:
    """(model, release_id, environment, actor_id, actor_role, incident, from_release,
    to_release, deployment, live_release) as the export derives them from an event."""
    get = event.get
    text = [v if type(v) is str and v else None for v in map(get, TEXT_FIELDS)]
    kind = get("event_type")
    deployment = False
    live: str | None = None
    if text[0] is not None and text[2] is not None and kind in DEPLOYING:
        if kind == ROLLBACK_EXECUTED:
            deployment, live = True, text[7]
        else:
            live = text[1] or text[7]
            deployment = live is not None
    return (*text, deployment, live)


def _event_time(entry: LedgerEntry) -> datetime:
    try:
        return parse_instant_fast(entry.timestamp)
    except (TypeError, ValueError):
        raise Tampered(f"ledger seq {entry.seq}: timestamp {entry.timestamp!r} is not RFC 3339 "
                       "(expected e.g. 2026-04-10T09:14:11Z)") from None


def export_origin(dsn: str, source: LedgerSource, checkpoint_note: str, *,
                  origin: str | None = None, batch: int = BATCH) -> OrgExportResult:
    """Export the ledger entries of one origin covered by ``checkpoint_note`` (see the module
    docstring). ``source`` is a verified ledger (or a synthetic one in tests and benchmarks)."""
    cp = checked_checkpoint(checkpoint_note, origin)
    origin = cp.origin
    destination = destination_of(dsn)
    head = source.head()
    ledger_size = 0 if head is None else head.seq + 1
    if cp.size > ledger_size:
        raise Tampered(f"checkpoint of {origin} covers {cp.size} entries, the ledger holds "
                       f"{ledger_size}")
    leaves: list[bytes] = []  # the whole ledger's (a database checkpoint may be newer)
    for entry in source.entries(0):
        if entry.seq != len(leaves):
            raise Tampered(f"ledger seq not contiguous: expected seq {len(leaves)}, got "
                           f"seq {entry.seq}")
        leaves.append(bytes.fromhex(entry.leaf_hash))
    tree = MerkleLevels(leaves[:cp.size])
    if tree.root != cp.root:
        raise Tampered(f"the signed checkpoint of {origin} (size {cp.size}) does not match the "
                       "ledger's leaves: refusing to export a forked or rewritten log")
    conn = connect(dsn)
    try:
        return _export(conn, destination, source, cp, leaves, tree, ledger_size, batch)
    except psycopg.OperationalError as err:
        raise Undecided(f"postgres sink {destination} failed mid-export: {_scrub(err, dsn)}",
                        hint="nothing was lost: whole batches only; re-run the export") from None
    except psycopg.errors.InsufficientPrivilege as err:
        raise ConfigurationError(
            f"postgres sink {destination}: {_scrub(err, dsn)}",
            hint="run `governance audit sink-init --sink postgres` as an administrator") from None
    except psycopg.errors.UndefinedTable:
        raise _missing_tables(conn, destination) from None
    finally:
        conn.close()


def _missing_tables(conn: psycopg.Connection[Any], destination: str) -> ConfigurationError:
    try:
        conn.rollback()
        legacy = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (LEGACY,)).fetchone()
    except psycopg.Error:
        legacy = None
    if legacy and legacy[0]:
        return ConfigurationError(
            f"postgres sink {destination} holds only the single-repository table {LEGACY} "
            f"(no origin, no inclusion proofs); the organisation tables {EVENTS} and "
            f"{CHECKPOINTS} are missing",
            hint="run `governance audit sink-init --sink postgres` as an administrator: it adds "
                 "them beside the old table (left untouched); the next export re-sends the "
                 "ledger into them")
    return ConfigurationError(
        f"postgres sink {destination}: table {EVENTS} does not exist",
        hint="run `governance audit sink-init --sink postgres` as an administrator")


def _export(conn: psycopg.Connection[Any], destination: str, source: LedgerSource,
            cp: Checkpoint, leaves: list[bytes], tree: MerkleLevels, ledger_size: int,
            batch: int) -> OrgExportResult:
    origin = cp.origin
    conn.autocommit = True
    # Same origin: one exporter at a time (a second one waits, then finds nothing to do).
    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                 ("governance_org:" + origin,))
    conn.autocommit = False
    with conn.transaction():
        _check_checkpoints(conn, cp, leaves)
        row = conn.execute(
            f"SELECT seq, leaf_hash FROM {EVENTS} WHERE origin = %s ORDER BY seq DESC LIMIT 1",
            (origin,)).fetchone()
        conn.execute(
            f"INSERT INTO {CHECKPOINTS} (origin, size, root, note) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING", (origin, cp.size, cp.root, cp.note))
    start = 0
    if row is not None:
        last_seq, last_leaf = int(row[0]), str(row[1])
        if last_seq >= len(leaves) or leaves[last_seq].hex() != last_leaf:
            have = (f"leaf {leaves[last_seq].hex()[:12]}" if last_seq < len(leaves)
                    else f"only {len(leaves)} entries")
            raise Tampered(
                f"postgres sink {destination}: origin {origin} holds seq {last_seq} with leaf "
                f"{last_leaf[:12]}, the ledger has {have}: the ledger was rewritten since the "
                "last export, or another ledger claims this origin",
                hint="run `governance ledger verify` and `governance audit verify-sink`")
        start = last_seq + 1
    exported = 0
    entries = (e for e in source.entries(start) if e.seq < cp.size)
    expected = start
    while True:
        chunk = list(islice(entries, batch))
        if not chunk:
            break
        for e in chunk:
            if e.seq != expected or e.leaf_hash != leaves[e.seq].hex():
                raise Tampered(f"ledger changed during the export of {origin} at seq {e.seq}")
            expected += 1
        exported += _write_batch(conn, destination, origin, cp.size, chunk, tree)
        _pause("org_export_batch")
    with conn.transaction():
        conn.execute(f"INSERT INTO {EXPORTS} (origin, checkpoint_size, ledger_size) "
                     "VALUES (%s, %s, %s)", (origin, cp.size, ledger_size))
    return OrgExportResult(origin, destination, exported, start if exported else None,
                           cp.size, ledger_size, max(start, expected))


def _check_checkpoints(conn: psycopg.Connection[Any], cp: Checkpoint,
                       leaves: list[bytes]) -> None:
    """Every checkpoint of this origin already stored must be a prefix of this ledger."""
    rows = conn.execute(f"SELECT size, root FROM {CHECKPOINTS} WHERE origin = %s ORDER BY size",
                        (cp.origin,)).fetchall()
    if not rows:
        return
    cr = CompactRange()
    i = 0
    for size, root in rows:
        size = int(size)
        if size > len(leaves):
            raise Tampered(f"the database holds a checkpoint of {cp.origin} at size {size}, "
                           f"beyond this ledger's {len(leaves)} entries: another ledger claims "
                           "this origin, or the ledger lost entries")
        while i < size:
            cr.append(leaves[i])
            i += 1
        if cr.root() != bytes(root):
            raise Tampered(f"the database's checkpoint of {cp.origin} at size {size} is not a "
                           "prefix of this ledger: the ledger was rewritten, or another ledger "
                           "claims this origin")


_COPY_TYPES = ["text", "int8", "text", "text", "timestamptz", "text", "text", "text", "text",
               "text", "text", "text", "text", "text", "bool", "text", "text", "bytea", "text",
               "int8", "bytea"]


def _batch_rows(origin: str, size: int, chunk: Sequence[LedgerEntry],
                tree: MerkleLevels) -> list[tuple[Any, ...]]:
    paths = tree.paths(chunk[0].seq, chunk[-1].seq + 1)  # the chunk is contiguous
    first = chunk[0].seq
    return [(origin, e.seq, e.event_id, e.event_type, _event_time(e), e.timestamp,
             *derived_columns(e.event), e.leaf_hash, e.stored, e.commit, size,
             paths[e.seq - first]) for e in chunk]


def _write_batch(conn: psycopg.Connection[Any], destination: str, origin: str, size: int,
                 chunk: Sequence[LedgerEntry], tree: MerkleLevels) -> int:
    """One transaction. Fast path: binary COPY straight into the table (the origin's advisory
    lock means nobody else writes these keys). If a row is already there (a unique violation:
    an exporter that does not take the lock), the batch is retried through a temporary table
    with ``ON CONFLICT DO NOTHING`` and every sent row must then be present and equal."""
    rows = _batch_rows(origin, size, chunk, tree)
    columns = ", ".join(_EVENT_INSERT_COLUMNS)
    try:
        with conn.transaction():
            # The export's progress is the table itself: the commit must be durable.
            conn.execute("SET LOCAL synchronous_commit = on")
            with conn.cursor() as cur:
                with cur.copy(f"COPY {EVENTS} ({columns}) FROM STDIN (FORMAT BINARY)".encode()
                              ) as copy:
                    copy.set_types(_COPY_TYPES)
                    for row in rows:
                        copy.write_row(row)
            _pause("org_export_in_batch")  # rows copied, transaction still open
        return len(rows)
    except psycopg.errors.UniqueViolation:
        pass
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = on")
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS governance_org_batch ("
            "origin text, seq bigint, event_id text, event_type text, event_time timestamptz, "
            "timestamp_text text, model text, release_id text, environment text, actor_id text, "
            "actor_role text, incident text, from_release text, to_release text, "
            "deployment boolean, live_release text, leaf_hash text, stored bytea, "
            "ledger_commit text, checkpoint_size bigint, proof bytea) ON COMMIT DELETE ROWS")
        with conn.cursor() as cur:
            with cur.copy(f"COPY governance_org_batch ({columns}) FROM STDIN (FORMAT BINARY)"
                          .encode()) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {EVENTS} ({columns}) SELECT {columns} FROM governance_org_batch "
                "ORDER BY seq ON CONFLICT DO NOTHING".encode())
            inserted = cur.rowcount
            cur.execute(
                f"SELECT b.seq FROM governance_org_batch b LEFT JOIN {EVENTS} t "
                "ON t.origin = b.origin AND t.seq = b.seq WHERE t.seq IS NULL "
                "OR t.event_id <> b.event_id OR t.stored <> b.stored ORDER BY b.seq LIMIT 5"
                .encode())
            clashes = [int(r[0]) for r in cur.fetchall()]
            if clashes:
                raise Tampered(
                    f"postgres sink {destination}: origin {origin} already holds a different "
                    f"row at seq {clashes[0]} ({len(clashes)} such rows in this batch)",
                    hint="run `governance audit verify-sink --sink postgres`")
    return max(inserted, 0)


def install_org_admin(admin_dsn_env: str, writer_role: str) -> list[str]:
    """``audit sink-init --sink postgres``: connect with the administrator DSN from the
    environment and install the organisation tables (notes for the administrator)."""
    dsn = ci_context.current().variable(admin_dsn_env)
    if not dsn:
        raise ConfigurationError(
            f"postgres sink-init: environment variable {admin_dsn_env} is not set")
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            return install_org_schema(conn, writer_role)
    except psycopg.OperationalError as err:
        raise Undecided(f"postgres sink-init: server {destination_of(dsn)} unavailable: "
                        f"{_scrub(err, dsn)}") from None
    except psycopg.Error as err:
        raise ConfigurationError(f"postgres sink-init: {_scrub(err, dsn)}") from None
