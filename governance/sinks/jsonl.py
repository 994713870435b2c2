"""JSON Lines sink: one file per UTC day of the event's timestamp, append-only, fsync'd.

A file is only ever opened for appending (``O_APPEND``): bytes once written are never rewritten.
Each append is flushed and fsync'd before the export cursor moves, and a new file's directory is
fsync'd too, so a confirmed row survives a power cut (POSIX fsync; see also
https://lwn.net/Articles/457667/ on directory fsync). Idempotency by event_id: before the first
append to an existing day file, its event ids are read; rows already there and equal are skipped,
rows there and different are refused (``Tampered``).

A crash in the middle of a write can leave a torn last line. It is never repaired in place:
the next append starts on a new line, and ``verify-sink`` reports the torn fragment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from governance.errors import Tampered, Undecided
from governance.sinks.export import ExportRow, SinkRow


class JsonlSink:
    name = "jsonl"
    batch_size = 10_000  # rows per fsync round

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._known: dict[Path, dict[str, bytes]] = {}
        self._problems: list[str] = []

    def destination(self) -> str:
        return str(self.directory)

    def _file(self, row: ExportRow) -> Path:
        return self.directory / f"{row.timestamp[:10]}.jsonl"

    def write(self, rows: Sequence[ExportRow]) -> int:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise Undecided(f"jsonl sink {self.directory} unavailable: {err}") from None
        pending: dict[Path, list[bytes]] = {}
        for path, group in groupby(rows, key=self._file):
            pending.setdefault(path, []).extend(self._new_lines(path, list(group)))
        created = False
        try:
            for path, lines in pending.items():
                if not lines:
                    continue
                created |= not path.exists()
                self._append(path, lines)
            if created:  # a new file's name must survive a crash too: fsync the directory
                dfd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as err:
            raise Undecided(f"jsonl sink {self.directory}: cannot append: {err}") from None
        return sum(len(lines) for lines in pending.values())

    def _new_lines(self, path: Path, rows: list[ExportRow]) -> list[bytes]:
        known = self._known.get(path)
        if known is None:
            known = self._known[path] = {}
            for _line, doc, raw in _read_lines(path):
                if doc is not None:
                    known[str(doc.get("event_id"))] = raw
        out: list[bytes] = []
        for row in rows:
            data = row.document_bytes()
            have = known.get(row.event_id)
            if have is not None:
                if have != data:
                    raise Tampered(
                        f"{path}: event {row.event_id} (seq {row.seq}) is already there with "
                        "different content",
                        hint="run `governance audit verify-sink --sink jsonl`",
                    )
                continue
            known[row.event_id] = data
            out.append(data + b"\n")
        return out

    @staticmethod
    def _append(path: Path, lines: list[bytes]) -> None:
        # O_RDWR only to read the last byte; every write goes to the end (O_APPEND).
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            if end > 0 and os.pread(fd, 1, end - 1) != b"\n":
                lines = [b"\n", *lines]  # close a torn line; never rewrite it
            os.write(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_back(self) -> Iterator[SinkRow]:
        self._problems = []
        for path in sorted(self.directory.glob("*.jsonl")):
            for line, doc, raw in _read_lines(path):
                where = f"{path.name}:{line}"
                if doc is None:
                    self._problems.append(f"{where}: unreadable line ({raw[:40]!r})")
                    continue
                try:
                    yield SinkRow(
                        int(doc["seq"]),
                        str(doc["event_id"]),
                        str(doc["leaf_hash"]),
                        str(doc["stored"]).encode("utf-8"),
                        where,
                    )
                except (KeyError, TypeError, ValueError):
                    self._problems.append(f"{where}: row lacks seq, event_id, leaf_hash or stored")
                    continue
                if json.loads(doc["stored"]) != doc.get("event"):
                    self._problems.append(f"{where}: 'event' differs from 'stored'")

    def problems(self) -> list[str]:
        return list(self._problems)


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, bytes]]:
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        for number, raw in enumerate(fh, start=1):
            text = raw.rstrip(b"\n")
            if not text:
                continue
            try:
                doc = json.loads(text)
            except ValueError:
                yield number, None, text
                continue
            yield number, doc if isinstance(doc, dict) else None, text
