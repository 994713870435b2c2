"""Export the ledger to a sink, resumably and idempotently, and verify a sink against the ledger.

Every exported row carries the seq, event_id, leaf hash, the exact stored bytes, the ledger
commit and the covering checkpoint note as known at export time (DESIGN section 7), so a row can
be checked on its own: SHA-256(0x00 || stored) must equal the leaf hash (RFC 6962 section 2.1),
and the leaf hash must equal the ledger's.

Export is resumable from a cursor kept in the governed repo's local state
(``.governance/export/<sink>.json``): the seq, leaf hash and commit of the last entry the sink
confirmed. The cursor only moves after the sink confirmed a batch, and every sink is idempotent
by event_id, so an outage mid-batch loses nothing and the next run re-sends from the cursor.
If the ledger entry at the cursor no longer matches, the ledger was rewritten since the last
export: export refuses (``Tampered``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from governance.domain.events import LedgerEntry
from governance.domain.source import LedgerSource
from governance.errors import Tampered

CURSOR_DIR = Path(".governance") / "export"
BATCH = 2_000


@dataclass(frozen=True)
class ExportRow:
    """One ledger entry as a sink stores it."""

    seq: int
    event_id: str
    event_type: str
    timestamp: str
    leaf_hash: str
    stored: bytes
    commit: str
    checkpoint: str | None

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> ExportRow:
        return cls(
            entry.seq,
            entry.event_id,
            entry.event_type,
            entry.timestamp,
            entry.leaf_hash,
            entry.stored,
            entry.commit,
            entry.checkpoint,
        )

    def document(self) -> dict[str, Any]:
        """The JSON document form (JSON Lines line, S3 object): ``stored`` is the exact stored
        text; ``event`` is the same event parsed, for readers such as jq."""
        text = self.stored.decode("utf-8")
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "timestamp": self.timestamp,
            "leaf_hash": self.leaf_hash,
            "commit": self.commit,
            "checkpoint": self.checkpoint,
            "stored": text,
            "event": json.loads(text),
        }

    def document_bytes(self) -> bytes:
        return json.dumps(
            self.document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


@dataclass(frozen=True)
class SinkRow:
    """A row as read back from a sink, with where it was found."""

    seq: int
    event_id: str
    leaf_hash: str  # the hash column / field as stored in the sink
    stored: bytes
    location: str  # file:line, table row, s3 key@version

    def recomputed_leaf(self) -> str:
        return leaf_hash(self.stored)


class Sink(Protocol):
    name: str
    batch_size: int  # rows per write() call, i.e. per cursor move

    def destination(self) -> str:
        """Where rows go, without secrets (cursor identity and reports)."""
        ...

    def write(self, rows: Sequence[ExportRow]) -> int:
        """Store rows (seq order); return how many were new. Idempotent by event_id: a row
        already present and equal is skipped; present and different raises Tampered. An
        unreachable sink raises Undecided and stores nothing the cursor would count."""
        ...

    def read_back(self) -> Iterable[SinkRow]:
        """Every row the sink holds (for verify)."""
        ...

    def problems(self) -> list[str]:
        """Sink-specific findings of the last read_back (e.g. overwritten object versions)."""
        ...


def leaf_hash(stored: bytes) -> str:
    return hashlib.sha256(b"\x00" + stored).hexdigest()


@dataclass(frozen=True)
class Cursor:
    destination: str
    seq: int
    event_id: str
    leaf_hash: str
    commit: str


def cursor_path(root: Path, sink: str) -> Path:
    return root / CURSOR_DIR / f"{sink}.json"


def load_cursor(path: Path, destination: str) -> Cursor | None:
    """The cursor for this destination; a cursor for another destination is ignored (the
    new destination starts from seq 0, which idempotency makes safe)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable cursor: start over; rows already there are skipped
    if not isinstance(data, dict) or data.get("destination") != destination:
        return None
    try:
        return Cursor(
            destination,
            int(data["seq"]),
            str(data["event_id"]),
            str(data["leaf_hash"]),
            str(data["commit"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def save_cursor(path: Path, cursor: Cursor) -> None:
    """Atomic replace (write, fsync, rename): a crash leaves the old or the new cursor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(cursor.__dict__, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class ExportResult:
    sink: str
    destination: str
    exported: int  # rows newly stored by the sink
    sent: int  # rows sent (re-sent rows already present count here, not in exported)
    head_seq: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def export(
    root: Path, source: LedgerSource, sink: Sink, *, batch: int | None = None
) -> ExportResult:
    """Send every ledger entry after the cursor to ``sink``; move the cursor per batch
    (``batch`` rows, default the sink's own ``batch_size``)."""
    batch = batch or sink.batch_size or BATCH
    path = cursor_path(root, sink.name)
    destination = sink.destination()
    cursor = load_cursor(path, destination)
    head = source.head()
    if head is None:
        return ExportResult(sink.name, destination, 0, 0, None)
    if cursor is not None and cursor.seq == head.seq and cursor.commit == head.commit:
        return ExportResult(sink.name, destination, 0, 0, head.seq)
    entries = iter(source.entries(0 if cursor is None else cursor.seq))
    if cursor is not None:
        first = next(entries, None)
        if first is None or first.seq != cursor.seq or first.leaf_hash != cursor.leaf_hash:
            found = "nothing" if first is None else f"seq {first.seq} leaf {first.leaf_hash[:12]}"
            raise Tampered(
                f"ledger rewritten since the last export to {destination}: the cursor holds "
                f"seq {cursor.seq} leaf {cursor.leaf_hash[:12]}, the ledger has {found}",
                hint="run `governance ledger verify` and `governance audit verify-sink`",
            )
    exported = sent = 0
    while True:
        rows = [ExportRow.from_entry(e) for e in islice(entries, batch)]
        if not rows:
            break
        exported += sink.write(rows)
        sent += len(rows)
        last = rows[-1]
        save_cursor(path, Cursor(destination, last.seq, last.event_id, last.leaf_hash, last.commit))
    return ExportResult(sink.name, destination, exported, sent, head.seq)


@dataclass(frozen=True)
class Finding:
    seq: int | None
    event_id: str
    problem: str
    location: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def render(self) -> str:
        where = f" at {self.location}" if self.location else ""
        seq = "?" if self.seq is None else str(self.seq)
        return f"seq {seq} {self.event_id}{where}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    sink: str
    destination: str
    ledger_entries: int
    sink_rows: int
    missing: list[Finding] = field(default_factory=list)
    pending: int = 0  # ledger entries after the export cursor (not exported yet)
    extra: list[Finding] = field(default_factory=list)
    modified: list[Finding] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.modified or self.other)

    def to_json(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "destination": self.destination,
            "ok": self.ok,
            "ledger_entries": self.ledger_entries,
            "sink_rows": self.sink_rows,
            "pending": self.pending,
            "missing": [f.to_json() for f in self.missing],
            "extra": [f.to_json() for f in self.extra],
            "modified": [f.to_json() for f in self.modified],
            "other": list(self.other),
        }


def verify(root: Path, source: LedgerSource, sink: Sink) -> VerifyReport:
    """Compare every sink row with the ledger: missing, extra and modified rows.

    A row is modified when its stored bytes do not hash to the ledger's leaf (this catches an
    edit made with triggers disabled, even one that also rewrote the hash column), when its hash
    column disagrees, or when it sits at another seq. Ledger entries after the export cursor are
    reported as pending, not missing; without a cursor every absent entry is missing.
    """
    destination = sink.destination()
    cursor = load_cursor(cursor_path(root, sink.name), destination)
    ledger: dict[str, tuple[int, str]] = {}
    for entry in source.entries(0):
        ledger[entry.event_id] = (entry.seq, entry.leaf_hash)
    seen: set[str] = set()
    extra: list[Finding] = []
    modified: list[Finding] = []
    rows = 0
    for row in sink.read_back():
        rows += 1
        expected = ledger.get(row.event_id)
        if expected is None:
            extra.append(Finding(row.seq, row.event_id, "not in the ledger", row.location))
            continue
        if row.event_id in seen:
            modified.append(Finding(row.seq, row.event_id, "duplicate row", row.location))
            continue
        seen.add(row.event_id)
        seq, leaf = expected
        problems = _row_problems(row, seq, leaf)
        if problems:
            modified.append(Finding(seq, row.event_id, "; ".join(problems), row.location))
    missing: list[Finding] = []
    pending = 0
    for event_id, (seq, _leaf) in ledger.items():
        if event_id in seen:
            continue
        if cursor is not None and seq > cursor.seq:
            pending += 1
        else:
            missing.append(Finding(seq, event_id, "in the ledger, not in the sink"))
    missing.sort(key=lambda f: f.seq or 0)
    return VerifyReport(
        sink.name,
        destination,
        len(ledger),
        rows,
        missing,
        pending,
        extra,
        modified,
        sink.problems(),
    )


def _row_problems(row: SinkRow, seq: int, leaf: str) -> list[str]:
    out = []
    recomputed = row.recomputed_leaf()
    if recomputed != leaf:
        out.append(f"stored bytes hash to leaf {recomputed[:12]}, the ledger's leaf is {leaf[:12]}")
    if row.leaf_hash != leaf:
        out.append(f"leaf hash column is {row.leaf_hash[:12]}, the ledger's is {leaf[:12]}")
    if row.seq != seq:
        out.append(f"row says seq {row.seq}, the ledger has it at seq {seq}")
    return out
