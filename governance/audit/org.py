"""Answers across repositories from the organisation's PostgreSQL, verified per origin.

The rows come from ``governance.sinks.postgres_org`` (one table for every repository's events,
keyed by ledger origin and seq). The database is a store, not a witness: every row an answer
uses is checked here before it is used, against the org trust file (``OrgTrust``):

1. the row's checkpoint (origin, checkpoint_size) is signed by a log key pinned for that origin
   in the trust file (C2SP signed note, Ed25519), names that origin and that size, and its root
   is the stored root column;
2. the row's leaf hash is recomputed from its stored event bytes (RFC 6962: SHA-256(0x00 ||
   bytes)) and equals the leaf column;
3. the inclusion proof takes that leaf at index seq to the checkpoint's root (RFC 9162 section
   2.1.3.2);
4. every column the query filtered on or shows (seq, event id, type, time, model, release,
   environment, actor, role, incident, from/to release, what went live) equals what the verified
   event bytes say.

A row that fails any check makes the whole answer refuse (``Tampered``, exit 1, naming the origin
and seq): it is never dropped silently. An answer's rows are checked together first (the proofs of
one checkpoint's rows as one multi-leaf walk, ``_included_together``); only when one fails are they
checked one by one (``verify``), which finds the first failing row and says what differs. Rows of
origins the trust file does not pin are not used (they cannot be verified); the answer lists them.
Each answer also says which origins are stale: their latest export (``governance_org_exports``) is
older than the trust file's ``stale_after``.

Checks are pure functions of what they check, so the process remembers their results (``_MEMO``,
cleared by ``clear_verified_memo``): a checkpoint note verified under a set of pinned keys, the
interior tree nodes proven to lead to a verified root, and each verified row keyed by (origin,
checkpoint size, root, seq) with every column it was read with. A row met again is used only when
its stored bytes still hash to its leaf and every other column (leaf, proof, derived columns,
commit) equals the verified one; anything else is verified from scratch (and refused if wrong).
One command answers once (a cold process); a report or a long-lived process asking several
questions over the same rows pays for each proof once. ``verify-sink`` never uses remembered rows.

What an inclusion proof does not show is completeness (that no row was withheld from the table):
``governance audit verify-sink --sink postgres`` recomputes every checkpoint's root from the
rows, which catches a deleted or inserted row.
"""

from __future__ import annotations

import gc
import hashlib
import json
import json.scanner
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from governance.audit.queries import AuditFilter, IndexedEvent, LiveRelease
from governance.domain.event_types import RELEASE_RETIRED
from governance.domain.source import LedgerSource
from governance.errors import ConfigurationError, NotFound, Problem, Tampered, Undecided
from governance.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    LogKey,
    verify_checkpoint,
)
from governance.ledger.merkle import CompactRange
from governance.sinks.postgres_org import (
    CHECKPOINTS,
    EVENTS,
    EXPORTS,
    TEXT_FIELDS,
    _scrub,
    connect,
    derived_columns,
    destination_of,
)
from governance.timeparse import format_rfc3339, parse_instant_fast, utc_now

DEFAULT_STALE = "7d"
_DURATION = re.compile(r"^([1-9][0-9]{0,5})(m|h|d)\Z")


# -- the org trust file ------------------------------------------------------------------------


@dataclass(frozen=True)
class OriginTrust:
    origin: str
    log_keys: tuple[LogKey, ...]
    stale_after: timedelta


@dataclass(frozen=True)
class OrgTrust:
    file: str
    origins: Mapping[str, OriginTrust]

    def require(self, origins: Sequence[str]) -> list[str]:
        """The origins to answer for: the given ones (each must be pinned), else every pinned
        origin."""
        unknown = [o for o in origins if o not in self.origins]
        if unknown:
            raise ConfigurationError(
                f"--origin {', '.join(map(repr, unknown))}: not pinned in the org trust file "
                f"{self.file} (pinned: {', '.join(sorted(self.origins))})",
                hint="add the origin and its ledger.log_public_key to the trust file")
        return list(dict.fromkeys(origins)) if origins else sorted(self.origins)


def duration(text: str) -> timedelta:
    m = _DURATION.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not a duration such as 30m, 12h or 7d")
    n, unit = int(m.group(1)), m.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


def load_org_trust(path: Path) -> OrgTrust:
    """Read and validate an org trust file (schema ``org-trust.schema.json``); every problem is
    reported with file, line and field (exit 3: without trust nothing can be verified)."""
    from governance.ledger.sshsig import SignatureError, parse_public_key
    from governance.records import display_path, validate_document
    from governance.yaml_source import YamlProblem, load_yaml_file

    name = display_path(path)
    try:
        doc = load_yaml_file(path, display=name)
    except YamlProblem as err:
        raise _trust_error([err.problem]) from None
    problems = validate_document(doc, "OrgTrust")
    if problems:
        raise _trust_error(problems)
    data = doc.data
    default = duration(str(data.get("stale_after", DEFAULT_STALE)))
    origins: dict[str, OriginTrust] = {}
    for i, item in enumerate(data["origins"]):
        origin = str(item["origin"])
        if origin in origins:
            path_ = f"$.origins[{i}].origin"
            problems.append(Problem(name, doc.line_of(path_), path_,
                                    f"found origin {origin!r} a second time, expected each "
                                    "origin once (list all its log keys under one entry)"))
            continue
        keys = []
        for j, line in enumerate(item["log_keys"]):
            try:
                raw = parse_public_key(str(line), ("ssh-ed25519",)).raw
            except SignatureError as err:
                path_ = f"$.origins[{i}].log_keys[{j}]"
                problems.append(Problem(name, doc.line_of(path_), path_,
                                        f"found an unusable key ({err.reason}), expected an "
                                        "OpenSSH Ed25519 public key line"))
                continue
            keys.append(LogKey(name=origin, public=raw))
        stale = duration(str(item["stale_after"])) if "stale_after" in item else default
        origins[origin] = OriginTrust(origin, tuple(keys), stale)
    if problems:
        raise _trust_error(problems)
    return OrgTrust(name, origins)


def _trust_error(problems: Sequence[Problem]) -> ConfigurationError:
    lines = "\n".join(p.render() for p in problems)
    return ConfigurationError(f"org trust file is not usable:\n{lines}",
                              hint="see docs/audit.md, 'Organisation trust file'")


# -- verified rows -----------------------------------------------------------------------------

_ROW_COLUMNS = (
    "origin, seq, event_id, event_type, timestamp_text, event_time, model, release_id, "
    "environment, actor_id, actor_role, incident, from_release, to_release, deployment, "
    "live_release, leaf_hash, ledger_commit, checkpoint_size, proof, stored"
)


# the orders answers are given in: the server's (with a LIMIT) and the same one here
_ORDERS: dict[str, tuple[str, Callable[[Sequence[Any]], Any]]] = {
    "origin, seq": ('origin COLLATE "C", seq', lambda r: (r[0], r[1])),
    "event_time, origin, seq": ('event_time, origin COLLATE "C", seq',
                                lambda r: (r[5], r[0], r[1])),
    "event_time, seq": ("event_time, seq", lambda r: (r[5], r[1])),
}
_PROOF = 19  # index of the proof column in a row; the stored bytes follow it
_CHECKED_COLUMNS = ("seq", "event_id", "event_type", "timestamp", *TEXT_FIELDS, "deployment",
                    "live_release")
_GC_PAUSE_ROWS = 1_000  # answers with more rows verify with the cyclic collector paused
MEMO_ROWS = 50_000  # verified rows remembered per process (~3 kB each; then none is added)


@dataclass
class _Proven:
    """What is known about one verified checkpoint (origin, size, root): interior nodes proven
    to lead to its root, and rows verified against it (seq -> (the row without its stored
    bytes, the verified event))."""

    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)
    rows: dict[int, tuple[tuple[Any, ...], OrgEvent]] = field(default_factory=dict)


@dataclass
class _Memo:
    signed: dict[tuple[str, tuple[LogKey, ...]], Checkpoint] = field(default_factory=dict)
    proven: dict[tuple[str, int, bytes], _Proven] = field(default_factory=dict)
    rows: int = 0


_MEMO = _Memo()


def clear_verified_memo() -> None:
    """Forget every remembered check (the next answer verifies everything from scratch)."""
    global _MEMO
    _MEMO = _Memo()


@dataclass(frozen=True)
class OrgEvent:
    """A verified row: the event as the local commands show it, plus its origin."""

    origin: str
    event: IndexedEvent
    checkpoint_size: int
    live_release: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, **self.event.to_json(),
                "checkpoint_size": self.checkpoint_size}


@dataclass(frozen=True)
class OriginStatus:
    origin: str
    checkpoint_size: int | None  # latest checkpoint exported, None: nothing exported
    last_export: str | None
    stale: bool
    stale_after: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class OrgSource:
    """A connection to the organisation database and the trust that verifies what it reads."""

    dsn: str
    trust: OrgTrust
    origins: list[str]
    now: datetime = field(default_factory=utc_now)
    _conn: psycopg.Connection[Any] | None = None
    # checkpoints this answer verified: (origin, size) -> what is proven under its root
    _checkpoints: dict[tuple[str, int], tuple[bytes, _Proven]] = field(default_factory=dict)
    verified_rows: int = 0  # rows checked (from scratch or against a remembered check)
    remembered_rows: int = 0  # of which matched a remembered verified row

    @property
    def destination(self) -> str:
        return destination_of(self.dsn)

    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._conn = connect(self.dsn, what="organisation database")
            self._conn.autocommit = True
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> OrgSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch(self, query: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            # binary results: bytea columns (event bytes, proofs) arrive raw, not hex-encoded
            with self.conn().cursor(binary=True) as cur:
                return list(cur.execute(query.encode(), args).fetchall())
        except psycopg.errors.UndefinedTable:
            raise ConfigurationError(
                f"organisation database {self.destination}: table {EVENTS} does not exist",
                hint="run `governance audit sink-init --sink postgres` and export first") from None
        except psycopg.OperationalError as err:
            self.close()
            raise Undecided(f"organisation database {self.destination} failed: "
                            f"{_scrub(err, self.dsn)}") from None
        except psycopg.Error as err:
            raise Undecided(f"organisation database {self.destination}: "
                            f"{_scrub(err, self.dsn)}") from None

    # -- status --------------------------------------------------------------------------

    def status(self) -> list[OriginStatus]:
        rows = self._fetch(
            f"SELECT c.origin, max(c.size), (SELECT max(at) FROM {EXPORTS} x "
            f"WHERE x.origin = c.origin) FROM {CHECKPOINTS} c WHERE c.origin = ANY(%s) "
            "GROUP BY c.origin", (self.origins,))
        found = {str(o): (int(size), at) for o, size, at in rows}
        out = []
        for origin in self.origins:
            limit = self.trust.origins[origin].stale_after
            size, at = found.get(origin, (None, None))
            stale = at is None or self.now - at > limit
            out.append(OriginStatus(origin, size, None if at is None else
                                    format_rfc3339(at), stale, _words(limit)))
        return out

    def unpinned(self) -> list[str]:
        """Origins the database holds that the trust file does not pin (never used)."""
        rows = self._fetch(f"SELECT DISTINCT origin FROM {CHECKPOINTS} "
                           "WHERE NOT (origin = ANY(%s)) ORDER BY origin",
                           (sorted(self.trust.origins),))
        return [str(r[0]) for r in rows]

    # -- verification --------------------------------------------------------------------

    def _checkpoint_root(self, origin: str, size: int) -> bytes:
        return self._checkpoint(origin, size)[0]

    def _checkpoint(self, origin: str, size: int) -> tuple[bytes, _Proven]:
        found = self._checkpoints.get((origin, size))
        if found is not None:
            return found
        self._load_checkpoints([(origin, size)])
        return self._checkpoints[(origin, size)]

    def _load_checkpoints(self, wanted: Sequence[tuple[str, int]]) -> None:
        """Fetch the checkpoints ``wanted`` names that this answer has not verified yet, in one
        query, and verify each (signature by a key pinned for its origin, its origin, size and
        root column); a missing one is Tampered."""
        missing = sorted({k for k in wanted if k not in self._checkpoints})
        if not missing:
            return
        rows = self._fetch(
            f"SELECT c.origin, c.size, c.root, c.note FROM {CHECKPOINTS} c JOIN "
            "unnest(%s::text[], %s::bigint[]) AS k(origin, size) USING (origin, size)",
            ([o for o, _ in missing], [n for _, n in missing]))
        notes = {(str(o), int(n)): (bytes(root), str(note)) for o, n, root, note in rows}
        for origin, size in missing:
            if (origin, size) not in notes:
                raise Tampered(f"tampered: origin {origin}: checkpoint of size {size} is "
                               "missing from the database")
            column, note = notes[(origin, size)]
            keys = self.trust.origins[origin].log_keys
            cp = _MEMO.signed.get((note, keys))
            if cp is None:
                try:
                    cp, _key = verify_checkpoint(note, keys)
                except CheckpointError as err:
                    raise Tampered(f"tampered: origin {origin}: checkpoint of size {size}: "
                                   f"{err.reason}") from None
                _MEMO.signed[(note, keys)] = cp
            if cp.origin != origin or cp.size != size or cp.root != column:
                raise Tampered(f"tampered: origin {origin}: checkpoint row of size {size} says "
                               f"origin {cp.origin!r}, size {cp.size} in its signed note, root "
                               f"{'equal' if cp.root == column else 'different'}")
            proven = _MEMO.proven.setdefault((origin, size, cp.root), _Proven())
            self._checkpoints[(origin, size)] = (cp.root, proven)

    def _verified(self, rows: Sequence[Sequence[Any]], *, remember: bool = True
                  ) -> list[OrgEvent]:
        """Verify ``rows`` (``_ROW_COLUMNS`` order): their checkpoints first, in one query."""
        pinned = self.trust.origins
        self._load_checkpoints([(str(o), int(n)) for o, n in {(r[0], r[18]) for r in rows}
                                if o in pinned])
        # Verifying creates a few acyclic objects per row (the parsed event, tuples) and keeps
        # them: the cyclic collector would traverse them again and again (~30 % of the CPU at
        # 35,000 rows). Paused for a large answer, restored however it ends.
        paused = len(rows) > _GC_PAUSE_ROWS and gc.isenabled()
        if paused:
            gc.disable()
        try:
            out = self._verified_together(rows, remember)
            if out is None:
                # a row fails a check: row by row, the first one in answer order is refused
                # with the message ``verify`` gives (it accepts only what passes every check)
                out = [self.verify(r, remember=remember) for r in rows]
            return out
        finally:
            if paused:
                gc.enable()

    def _verified_together(self, rows: Sequence[Sequence[Any]], remember: bool
                           ) -> list[OrgEvent] | None:
        """``[self.verify(r) for r in rows]`` when every row passes, with each checkpoint's
        proofs checked together (``_included_together``: every interior node of the union of
        the rows' paths hashed once, every proof hash compared); None when any row fails a
        check (the caller then runs ``verify`` row by row for the refusal). The same checks
        as ``verify`` on each row that is not a remembered one: pinned origin, leaf recomputed
        from the stored bytes and equal to the leaf column, proof length and inclusion under
        the verified root, the columns and the event time equal to the verified event's."""
        pinned = self.trust.origins
        checkpoints = self._checkpoints
        sha = hashlib.sha256
        out: list[OrgEvent] = []
        proofs: dict[tuple[str, int], list[tuple[int, bytes, bytes]]] = {}
        fresh: list[tuple[_Proven, int, Sequence[Any], OrgEvent]] = []
        hits = 0
        for row in rows:
            origin, seq, size, leaf, proof, stored = (row[0], row[1], row[18], row[16],
                                                      row[_PROOF], row[_PROOF + 1])
            if type(origin) is not str or type(seq) is not int or type(size) is not int \
                    or origin not in pinned:
                return None
            found = checkpoints.get((origin, size))
            if found is None:
                return None
            stored = bytes(stored)
            digest = sha(b"\x00" + stored).digest()
            leaf_hex = digest.hex()
            if leaf_hex != leaf:
                return None
            proven = found[1]
            if remember:
                known = proven.rows.get(seq)
                if known is not None and known[0] == tuple(row[:_PROOF + 1]):
                    hits += 1
                    out.append(known[1])
                    continue
            event = _event_object(stored)
            if event is None:
                return None
            have, mine = _columns(row, event)
            if have != mine or not _same_instant(row[4], row[5]):
                return None
            proofs.setdefault((origin, size), []).append((seq, digest, bytes(proof)))
            made = _org_event(row, leaf_hex, event)
            out.append(made)
            if remember:
                fresh.append((proven, seq, row, made))
        for (origin, size), items in proofs.items():
            root, proven = checkpoints[(origin, size)]
            if not _included_together(items, size, root, proven.nodes):
                return None
        self.verified_rows += len(rows)
        self.remembered_rows += hits
        for proven, seq, row, made in fresh:
            if _MEMO.rows < MEMO_ROWS and seq not in proven.rows:
                proven.rows[seq] = (tuple(row[:_PROOF + 1]), made)
                _MEMO.rows += 1
        return out

    def verify(self, row: Sequence[Any], *, remember: bool = True) -> OrgEvent:
        """Check one row (``_ROW_COLUMNS`` order) as the module docstring says; raise
        Tampered naming its origin and seq. ``remember``: use and keep the process memo of
        verified rows (``verify-sink`` does not)."""
        origin, seq, size = str(row[0]), int(row[1]), int(row[18])
        if origin not in self.trust.origins:
            raise Tampered(f"tampered: origin {origin} seq {seq}: origin is not pinned in "
                           f"{self.trust.file}")
        stored = bytes(row[20])
        recomputed = hashlib.sha256(b"\x00" + stored).digest()
        leaf = recomputed.hex()
        found = self._checkpoints.get((origin, size))
        root, proven = found if found is not None else self._checkpoint(origin, size)
        if remember:
            known = proven.rows.get(seq)
            # the same bytes (by their leaf hash) read with the same columns, leaf and proof
            if known is not None and leaf == row[16] and known[0] == tuple(row[:_PROOF + 1]):
                self.verified_rows += 1
                self.remembered_rows += 1
                return known[1]
        event = self._verify_new(row, origin, seq, size, stored, recomputed, leaf, root,
                                 proven)
        self.verified_rows += 1
        if remember and _MEMO.rows < MEMO_ROWS and seq not in proven.rows:
            proven.rows[seq] = (tuple(row[:_PROOF + 1]), event)
            _MEMO.rows += 1
        return event

    def _verify_new(self, row: Sequence[Any], origin: str, seq: int, size: int, stored: bytes,
                    recomputed: bytes, leaf_hex: str, root: bytes, proven: _Proven
                    ) -> OrgEvent:
        leaf, proof, ts_text, event_time = row[16], row[_PROOF], row[4], row[5]
        if leaf_hex != leaf:
            raise Tampered(f"tampered: origin {origin} seq {seq}: the stored event hashes to "
                           f"leaf {leaf_hex[:12]}, the row says {str(leaf)[:12]}")
        if not _included(seq, size, recomputed, bytes(proof), root, proven.nodes):
            raise Tampered(f"tampered: origin {origin} seq {seq}: inclusion proof does not take "
                           f"its leaf to the signed checkpoint of size {size}")
        event = _event_object(stored)
        if event is None:
            raise Tampered(f"tampered: origin {origin} seq {seq}: stored event is not a JSON "
                           "object")
        have, mine = _columns(row, event)
        if have != mine:
            for name, a, b in zip(_CHECKED_COLUMNS, have, mine, strict=True):
                if a != b:
                    raise Tampered(f"tampered: origin {origin} seq {seq}: column {name} is "
                                   f"{a!r}, the verified event says {b!r}")
        if not _same_instant(ts_text, event_time):
            raise Tampered(f"tampered: origin {origin} seq {seq}: column event_time is "
                           f"{event_time}, the verified event says {ts_text}")
        return _org_event(row, leaf_hex, event)

    def _rows(self, where: str, args: Sequence[Any], order: str = "origin, seq",
              limit: int | None = None) -> Iterator[OrgEvent]:
        query = f"SELECT {_ROW_COLUMNS} FROM {EVENTS} WHERE origin = ANY(%s) AND ({where})"
        if limit is not None:
            query += f" ORDER BY {_ORDERS[order][0]} LIMIT {int(limit)}"
            rows = self._fetch(query, (self.origins, *args))
        else:
            # ordered here, not by the server: sorting thousands of ~1.4 kB rows there spills
            # past work_mem to disk (an external merge at 4,650 rows of one model's approvals);
            # the keys are the same (origins in code point order, as COLLATE "C" above)
            rows = self._fetch(query, (self.origins, *args))
            rows.sort(key=_ORDERS[order][1])
        yield from self._verified(rows)

    # -- questions -----------------------------------------------------------------------

    def audit_query(self, flt: AuditFilter) -> list[OrgEvent]:
        """Events matching every filter, ordered by time (then origin and seq)."""
        where: list[str] = ["true"]
        args: list[Any] = []
        for column, value in (("model", flt.model), ("actor_id", flt.actor),
                              ("actor_role", flt.role), ("environment", flt.environment),
                              ("incident", flt.incident)):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if flt.event_types:
            where.append("event_type = ANY(%s)")
            args.append(list(flt.event_types))
        if flt.release is not None:
            where.append("(release_id = %s OR from_release = %s OR to_release = %s)")
            args.extend([flt.release] * 3)
        if flt.since is not None:
            where.append("event_time >= %s")
            args.append(flt.since)
        if flt.until is not None:
            where.append("event_time <= %s")
            args.append(flt.until)
        return list(self._rows(" AND ".join(where), args, "event_time, origin, seq", flt.limit))

    def history(self, model: str) -> list[OrgEvent]:
        events = list(self._rows("model = %s", (model,)))
        if not events:
            raise NotFound(f"unknown model {model!r}: no exported event of "
                           f"{_origins_words(self.origins)} names it",
                           hint="check the name, --origin and that the repositories exported")
        return events

    def live_release_at(self, model: str, environment: str, at: datetime
                        ) -> list[tuple[str, LiveRelease]]:
        """Per origin holding ``model``: what was live in ``environment`` at ``at`` (the same
        fold as ``governance.audit.queries.live_release_at``: the last deployment change at or
        before ``at`` in seq order; "since" is the start of its continuous stretch)."""
        changes = self._fetch(
            f"SELECT origin, seq, live_release FROM {EVENTS} WHERE origin = ANY(%s) AND "
            "deployment AND model = %s AND environment = %s AND event_time <= %s "
            "ORDER BY origin, seq", (self.origins, model, environment, at))
        by_origin: dict[str, list[tuple[int, str | None]]] = {}
        for origin, seq, live in changes:
            by_origin.setdefault(str(origin), []).append((int(seq), live))
        if not by_origin:
            known = self._fetch(f"SELECT 1 FROM {EVENTS} WHERE origin = ANY(%s) AND model = %s "
                                "LIMIT 1", (self.origins, model))
            if not known:
                raise NotFound(f"unknown model {model!r}: no exported event of "
                               f"{_origins_words(self.origins)} names it")
            raise NotFound(f"no release of {model!r} was live in {environment!r} at "
                           f"{format_rfc3339(at)} in {_origins_words(self.origins)}")
        out = []
        for origin, seqs in by_origin.items():
            current_seq, release = seqs[-1]
            first = len(seqs) - 1  # the stretch of changes to `release` ending at the last one
            while first > 0 and seqs[first - 1][1] == release:
                first -= 1
            # every row the answer rests on is verified: the stretch and the change before it
            # (whose different release ends the stretch), not only its two ends
            used = seqs[max(first - 1, 0):]
            rows = {e.event.seq: e for e in self._rows("seq = ANY(%s) AND origin = %s",
                                                        ([q for q, _ in used], origin))}
            for seq, live in used:
                row = rows.get(seq)
                if row is None or row.live_release != live or row.event.model != model \
                        or row.event.environment != environment:
                    raise Tampered(f"tampered: origin {origin} seq {seq}: the deployment rows "
                                   "changed while being read")
            change = rows[seqs[first][0]]
            retired_at = None
            if release is not None:
                retired = list(self._rows(
                    "release_id = %s AND event_type = %s AND event_time <= %s "
                    "AND origin = %s", (release, RELEASE_RETIRED, at, origin), "event_time, seq",
                    1))
                retired_at = retired[0].event.timestamp if retired else None
            out.append((origin, LiveRelease(model=model, environment=environment,
                                            at=format_rfc3339(at), release_id=release,
                                            since=change.event.timestamp, change=change.event,
                                            retired_at=retired_at)))
        return out

    def origin_events(self, origin: str) -> list[OrgEvent]:
        """Every verified row of one origin, in ledger order (for the organisation report)."""
        return list(self._rows("origin = %s", (origin,)))

    def release_events(self, release_id: str, at: datetime | None = None) -> list[OrgEvent]:
        """Every verified event naming ``release_id`` (its own, or a rollback from or to it),
        up to ``at`` when given, per origin in ledger order."""
        where = "(release_id = %s OR from_release = %s OR to_release = %s)"
        args: list[Any] = [release_id] * 3
        if at is not None:
            where += " AND event_time <= %s"
            args.append(at)
        events = list(self._rows(where, args))
        if not events:
            raise NotFound(f"unknown release {release_id!r}: no exported event of "
                           f"{_origins_words(self.origins)} names it")
        return events

    def live_everywhere(self, environment: str, at: datetime) -> list[OrgEvent]:
        """For every (origin, model) with a deployment in ``environment`` at or before ``at``:
        the verified change that decided what was live at ``at`` (its ``live_release``)."""
        # one statement (one snapshot, one round trip): the keys from the partial index on
        # deployments, then those rows
        rows = self._fetch(
            f"SELECT {_ROW_COLUMNS} FROM {EVENTS} JOIN (SELECT DISTINCT ON (origin, model) "
            f"origin, seq FROM {EVENTS} WHERE environment = %s AND origin = ANY(%s) AND "
            "deployment AND event_time <= %s ORDER BY origin, model, seq DESC) AS k "
            "USING (origin, seq)", (environment, self.origins, at))
        # ordered here (origin in code point order, then model), not by the server
        rows.sort(key=lambda r: (r[0], r[6] or ""))  # (a NULL model is refused below)
        return self._verified(rows)

    # -- verify-sink ---------------------------------------------------------------------

    def verify_origin(self, origin: str) -> OriginReport:
        """Every row and checkpoint of ``origin``: contiguous seqs from 0, each row verified,
        and every checkpoint's root recomputed from the rows' leaves (a deleted, inserted or
        reordered row changes it)."""
        report = OriginReport(origin)
        checkpoints = self._fetch(f"SELECT size FROM {CHECKPOINTS} WHERE origin = %s "
                                  "ORDER BY size", (origin,))
        sizes = [int(r[0]) for r in checkpoints]
        report.checkpoints = len(sizes)
        for size in sizes:
            try:
                self._checkpoint_root(origin, size)
            except Tampered as err:
                report.problems.append(err.message)
        cr = CompactRange()
        pending = list(sizes)
        expected = 0
        conn = self.conn()
        try:
            with conn.transaction(), conn.cursor(name="governance_org_verify") as cur:
                cur.itersize = 5000
                cur.execute(f"SELECT {_ROW_COLUMNS} FROM {EVENTS} WHERE origin = %s "
                            "ORDER BY seq".encode(), (origin,))
                for row in cur:
                    report.rows += 1
                    seq = int(row[1])
                    if seq != expected:
                        report.problems.append(
                            f"origin {origin}: seq {expected}..{seq - 1} missing" if seq >
                            expected else f"origin {origin}: seq {seq} out of order")
                        expected = seq
                    expected += 1
                    try:
                        self.verify(row, remember=False)
                    except Tampered as err:
                        report.problems.append(err.message)
                    cr.append(hashlib.sha256(b"\x00" + bytes(row[20])).digest())
                    while pending and pending[0] == cr.size:
                        size = pending.pop(0)
                        known = self._checkpoints.get((origin, size))
                        if known is not None and cr.root() != known[0]:
                            report.problems.append(
                                f"tampered: origin {origin}: the rows 0..{size - 1} do not "
                                f"hash to the signed checkpoint of size {size} (a row was "
                                "deleted, inserted or changed)")
        except psycopg.OperationalError as err:
            self.close()
            raise Undecided(f"organisation database {self.destination} failed: "
                            f"{_scrub(err, self.dsn)}") from None
        for size in pending:
            report.problems.append(f"tampered: origin {origin}: checkpoint of size {size} but "
                                   f"only {cr.size} rows (rows {cr.size}..{size - 1} missing)")
        return report

    def compare_with_ledger(self, report: OriginReport, ledger: LedgerSource) -> None:
        """This repository's rows against its own verified ledger: every exported row must be
        the ledger's leaf at its seq; ledger entries after the latest exported checkpoint are
        pending, earlier ones absent from the table are missing."""
        origin = report.origin
        rows = self._fetch(f"SELECT seq, leaf_hash FROM {EVENTS} WHERE origin = %s",
                           (origin,))
        top = self._fetch(f"SELECT coalesce(max(size), 0) FROM {CHECKPOINTS} WHERE "
                          "origin = %s", (origin,))[0][0]
        held = {int(seq): str(leaf) for seq, leaf in rows}
        count = 0
        for entry in ledger.entries(0):
            count += 1
            leaf = held.pop(entry.seq, None)
            if leaf is None:
                if entry.seq < int(top):
                    report.problems.append(f"missing: origin {origin} seq {entry.seq} "
                                           f"{entry.event_id}: in the ledger, not in the sink")
                else:
                    report.pending += 1
            elif leaf != entry.leaf_hash:
                report.problems.append(f"modified: origin {origin} seq {entry.seq}: the sink's "
                                       f"leaf {leaf[:12]}, the ledger's {entry.leaf_hash[:12]}")
        for seq in sorted(held):
            report.problems.append(f"extra: origin {origin} seq {seq}: in the sink, not in the "
                                   "ledger")
        report.ledger_entries = count


@dataclass
class OriginReport:
    origin: str
    rows: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    ledger_entries: int | None = None  # when compared with the local ledger
    pending: int = 0  # ledger entries after the latest exported checkpoint

    @property
    def ok(self) -> bool:
        return not self.problems and self.checkpoints > 0

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "ok": self.ok, "rows": self.rows,
                "checkpoints": self.checkpoints, "ledger_entries": self.ledger_entries,
                "pending": self.pending, "problems": list(self.problems)}


def _origins_words(origins: Sequence[str]) -> str:
    return (f"origin {origins[0]}" if len(origins) == 1
            else f"the {len(origins)} trusted origins")


def _words(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_new = object.__new__  # an instance without running __init__ (see _verify_new)

_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder())  # type: ignore[arg-type]  # the C scanner json.loads uses


def _event_object(stored: bytes) -> dict[str, Any] | None:
    """The stored event bytes as a JSON object, or None when they are not one. Fast path: the
    C scanner on the UTF-8 text when the object spans the whole text (exactly what
    ``json.loads`` accepts then); anything else goes through ``json.loads`` itself."""
    try:
        text = stored.decode()
        value, end = _SCAN(text, 0)
        if end != len(text):
            raise ValueError("trailing text")
    except (ValueError, StopIteration):
        try:
            value = json.loads(stored)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _same_instant(text: Any, column: Any) -> bool:
    """Is the RFC 3339 ``text`` the instant ``column`` (the row's timestamptz)?"""
    if not isinstance(column, datetime) or not isinstance(text, str):
        return False
    try:
        return parse_instant_fast(text) == column
    except ValueError:
        return False



def _columns(row: Sequence[Any], event: Mapping[str, Any]
             ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(what the row's columns say, what its verified event says) in ``_CHECKED_COLUMNS``
    order: equal when every column is the event's."""
    get = event.get
    have = (row[1], row[2], row[3], row[4], *row[6:14], bool(row[14]), row[15])
    mine = (get("seq"), get("event_id"), get("event_type"), get("timestamp"),
            *derived_columns(event))
    return have, mine


def _org_event(row: Sequence[Any], leaf_hex: str, event: Mapping[str, Any]) -> OrgEvent:
    """The verified row as an ``OrgEvent``: its checked values, set without the frozen
    class's per-field ``__setattr__`` and the named tuple's argument parsing (a third of the
    cost of building a row at thousands of rows); the same objects as ``IndexedEvent(...)``
    and ``OrgEvent(...)`` build (a test compares them)."""
    indexed = tuple.__new__(IndexedEvent, (
        row[1], row[2], row[3], row[4], row[6], row[7], row[8], row[9], row[10], row[11],
        row[12], row[13], leaf_hex, str(row[17]), None, event))  # the fields, in order
    out = _new(OrgEvent)
    out.__dict__.update(origin=row[0], event=indexed, checkpoint_size=row[18],
                        live_release=row[15])
    return out

def _included(index: int, size: int, leaf: bytes, proof: bytes | Sequence[bytes], root: bytes,
              nodes: dict[tuple[int, int], bytes] | None = None) -> bool:
    """RFC 9162 section 2.1.3.2 (``governance.ledger.merkle.verify_inclusion``, node hash
    inlined: an answer may verify hundreds of thousands of rows), in the decomposed form of
    RFC 9162's algorithm: with ``inner`` = bit length of ``index ^ (size - 1)``, the first
    ``inner`` proof hashes are the siblings below the point where the leaf's path leaves the
    tree's right border (left or right by the index's bits), the rest are the left siblings
    on that border, one per set bit of ``index >> inner``. So a proof of the wrong length is
    refused before any hashing.

    ``nodes`` remembers the nodes proven to lead to ``root``, keyed (level, index at that
    level): the node covering leaves [index << level, min((index + 1) << level, size)), so a
    key always names one node of this tree (a lone last node may have two keys: a missed
    reuse, never a wrong one). They are the nodes a proven path computed and the audit-path
    siblings it used (a node's hash and its sibling's hash determine the parent, so once the
    parent is proven both are). When a path computes a remembered node, its hash must be the
    remembered one, and then the rest of the path is the proven one: the rest of the proof is
    compared with the remembered siblings instead of hashed (``_rest_is_proven``), so a row's
    stored proof is checked whole even where its path meets a proven one; else the proof
    fails."""
    if not 0 <= index < size:
        return False
    if not isinstance(proof, bytes):
        if any(len(p) != 32 for p in proof):
            return False
        proof = b"".join(proof)
    inner = (index ^ (size - 1)).bit_length()
    border = index >> inner
    if len(proof) != 32 * (inner + border.bit_count()):
        return False
    sha = hashlib.sha256
    r = leaf
    seen: list[tuple[tuple[int, int], bytes]] = []
    k = 0
    level = 0
    # below the border: a sibling on the left or the right per bit of the index; then on the
    # border: a left sibling per set bit of index >> inner (a clear bit: a lone last node,
    # the same node one level up, no hash)
    while k < len(proof):
        if level >= inner:
            if not (index >> level) & 1:
                level += 1
                continue
            p = proof[k:k + 32]
            r = sha(b"\x01" + p + r).digest()
        else:
            p = proof[k:k + 32]
            if (index >> level) & 1:
                r = sha(b"\x01" + p + r).digest()
            else:
                r = sha(b"\x01" + r + p).digest()
        k += 32
        if nodes is not None:
            seen.append(((level, (index >> level) ^ 1), p))
            key = (level + 1, index >> (level + 1))
            known = nodes.get(key)
            if known is not None:
                if known != r:
                    return False
                rest = _rest_is_proven(index, inner, level + 1, proof, k, nodes)
                if rest is False:
                    return False
                if rest:
                    nodes.update(seen)
                    return True
            seen.append((key, r))
        level += 1
    if r != root:
        return False
    if nodes is not None:
        nodes.update(seen)
    return True



def _rest_is_proven(index: int, inner: int, level: int, proof: bytes, k: int,
                    nodes: dict[tuple[int, int], bytes]) -> bool | None:
    """The proof hashes from ``proof[k:]`` on (``_included``'s walk of leaf ``index`` from
    ``level`` up, ``inner`` as there) are the remembered siblings of the proven node the walk
    reached: True when each is, False when one differs (a proof is unique to its leaf index
    and tree size, so a different hash is a wrong proof), None when a sibling is not
    remembered (the caller hashes the rest of the path instead)."""
    while k < len(proof):
        if level >= inner and not (index >> level) & 1:
            level += 1  # a lone last node on the border: no sibling, no hash
            continue
        known = nodes.get((level, (index >> level) ^ 1))
        if known is None:
            return None
        if known != proof[k:k + 32]:
            return False
        k += 32
        level += 1
    return True

def _included_together(items: Sequence[tuple[int, bytes, bytes]], size: int, root: bytes,
                       nodes: dict[tuple[int, int], bytes]) -> bool:
    """Every (index, leaf, proof) of ``items`` is included in the tree of ``size`` leaves with
    ``root`` (each as ``_included`` checks it), walked level by level over the union of the
    leaves' paths: each node of the union is hashed once. Every proof hash is compared: a
    proof's sibling that is another item's node must be that node's hash, and two paths that
    meet have the same proof from there up (so each item's proof, as stored, takes its leaf
    to ``root``). Each proof's length is checked first, as ``_included`` does; an index out of
    range, or twice with different leaves or proofs, fails. On success the interior nodes
    computed are remembered in ``nodes`` as proven (keys as ``_included``'s; not the siblings
    taken from the proofs: fewer remembered nodes are fewer reuses, never a wrong one)."""
    last = size - 1
    cur: list[tuple[int, bytes, bytes, int]] = []
    for index, leaf, proof in sorted(items):
        if not 0 <= index < size:
            return False
        inner = (index ^ last).bit_length()
        if len(proof) != 32 * (inner + (index >> inner).bit_count()):
            return False
        if cur and cur[-1][0] == index:
            if cur[-1][1] != leaf or cur[-1][2] != proof:
                return False
            continue
        cur.append((index, leaf, proof, 0))
    sha = hashlib.sha256
    proven: list[tuple[tuple[int, int], bytes]] = []
    keep = proven.append
    level = 0
    while last > 0:
        nxt: list[tuple[int, bytes, bytes, int]] = []
        add = nxt.append
        j = 0
        m = len(cur)
        while j < m:
            index, h, proof, k = cur[j]
            j += 1
            if index & 1:
                p = proof[k:k + 32]
                parent = sha(b"\x01" + p + h).digest()
            elif index == last:  # a lone last node: the same node one level up, no hash
                add((index >> 1, h, proof, k))
                continue
            else:
                p = proof[k:k + 32]
                if j < m and cur[j][0] == index + 1:  # the right sibling is an item's node
                    _i, h2, proof2, k2 = cur[j]
                    j += 1
                    if p != h2 or proof2[k2:k2 + 32] != h or proof[k + 32:] != proof2[k2 + 32:]:
                        return False
                parent = sha(b"\x01" + h + p).digest()
            keep(((level + 1, index >> 1), parent))
            add((index >> 1, parent, proof, k + 32))
        cur = nxt
        last >>= 1
        level += 1
    if len(cur) != 1 or cur[0][1] != root or cur[0][3] != len(cur[0][2]):
        return False
    nodes.update(proven)
    return True
