"""What ``status`` folded for a model, kept for the verified ledger position it was folded at.

``status`` lists, per model, a standing and a count for every release the ledger names: that
rests on every event of the model (6,001 at 1,000 releases), and folding them, each confirmed
against the verified chain, is most of a warm ``status``. The fold of a model is a pure
function of the model's events, so its result (``governance.status.summarize``: what status
reads of it) is kept here, keyed by

  model, production environment   the fold's inputs besides the events
  seq, leaf hash, commit          the model's last event when it was folded
  code                            SHA-256 of the source of the index's reading of events,
                                  the fold and the summary (a new version of any of them
                                  never reads an old summary)

and used only while the index's last event of the model is that one and the verified chain
still holds that leaf and commit at that seq (``governance.audit.index.model_head``). Anything
else (a new event of the model, a rewritten ledger, another version of the code, an unreadable
file) is a miss: the model is folded from its confirmed events and the summary written again.

The file lives beside the verified chain, in the git directory
(``governance/status-<branch>.sqlite``), outside the work tree: like the chain, it holds only
what was derived from confirmed events, and like the query index it is a cache (deleting it
costs one fold per model). A file that cannot be read or written is ignored (the answer is
folded, never refused: the ledger is the evidence).

The same file keeps what ``status`` read of the work tree's documents (``documents``): that a
``model.yaml`` passed every check, and which release an ``environments/<env>.yaml`` names for
each model, keyed by the document's path, the SHA-256 of its exact bytes, the size limit it was
read under and ``document_code_digest`` (the schemas, the YAML reader and the loaders that
checked it). A warm ``status`` whose files have those bytes reads them without importing the
YAML parser or the document loader; any other bytes (an edit, even of a comment), limit or code
version is a miss: the file is loaded and checked as ``governance.repo`` does, refused as it
refuses, and remembered again only when it passed (``governance.status.StatusFiles``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summary (
    model          TEXT NOT NULL,
    production_env TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    leaf           TEXT NOT NULL,
    commit_sha     TEXT NOT NULL,
    code           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (model, production_env)
);
CREATE TABLE IF NOT EXISTS documents (
    path      TEXT PRIMARY KEY,
    digest    TEXT NOT NULL,
    max_bytes INTEGER NOT NULL,
    code      TEXT NOT NULL,
    value     TEXT NOT NULL
);
"""
# The modules whose code decides a summary: which events are the model's and how they are read
# from the index (the index, its queries and the filter columns both it and the chain derive),
# the fold, the event table naming its handlers and the type names, the state names, the
# summary itself and the time parsing of its sort keys.
_CODE_MODULES = ("governance.audit.index", "governance.audit.queries", "governance.ledger.columns",
                 "governance.lifecycle", "governance.domain.event_table",
                 "governance.domain.event_types", "governance.domain.events",
                 "governance.domain.lifecycle_states", "governance.status",
                 "governance.timeparse", "governance.status_memo")
_code: str | None = None
# What decides whether a model.yaml or an environment pointer file is accepted, and what is
# read of it: their schemas, the YAML reader, the validator, the document builders and loaders.
_DOCUMENT_MODULES = ("governance.records", "governance.yaml_source", "governance.documents",
                     "governance.domain.model", "governance.repo", "governance.input_files",
                     "governance.ledger.schema_fast", "governance.status_memo")
_DOCUMENT_SCHEMAS = ("model.schema.json", "environment-state.schema.json")
_document_code: str | None = None


def code_digest() -> str | None:
    """SHA-256 over the source files of the modules a summary depends on (None when one
    cannot be read, e.g. a package without its sources: nothing is then kept or used)."""
    global _code
    if _code is None:
        from importlib.util import find_spec

        h = hashlib.sha256()
        for name in _CODE_MODULES:  # located, not imported (a kept summary needs no fold)
            try:
                spec = find_spec(name)
                origin = spec.origin if spec is not None else None
                if origin is None:
                    return None
                h.update(Path(origin).read_bytes())
            except (OSError, ImportError, ValueError):
                return None
        _code = h.hexdigest()
    return _code


def document_code_digest() -> str | None:
    """SHA-256 over the package version, the schemas and the source of the modules that check
    a model.yaml or an environment pointer file (None when one cannot be read)."""
    global _document_code
    if _document_code is None:
        from importlib.util import find_spec

        from governance import __version__

        h = hashlib.sha256(__version__.encode())
        try:
            for name in _DOCUMENT_MODULES:  # located, not imported
                spec = find_spec(name)
                origin = spec.origin if spec is not None else None
                if origin is None:
                    return None
                h.update(b"\0" + Path(origin).read_bytes())
            schemas = find_spec("governance.schemas")
            where = schemas.origin if schemas is not None else None
            if where is None:
                return None
            for schema in _DOCUMENT_SCHEMAS:
                h.update(b"\0" + (Path(where).parent / schema).read_bytes())
        except (OSError, ImportError, ValueError):
            return None
        _document_code = h.hexdigest()
    return _document_code


def encode_summary(summary: dict[str, Any]) -> str:
    """A summary (``governance.status.summarize``) as kept: its JSON without the releases'
    standings on the first line, then each release's standing as JSON, one a line, in the
    releases' order (JSON text never holds a raw line break), so that a warm ``status`` parses
    the standings of the releases it lists (20 of 1,000) and not the others."""
    head = {**summary, "releases": [r[:5] for r in summary["releases"]]}
    compact = (",", ":")
    return "\n".join([json.dumps(head, separators=compact),
                      *(json.dumps(r[5], separators=compact) for r in summary["releases"])])


def decode_summary(text: str) -> dict[str, Any] | None:
    """``encode_summary``'s summary with each standing left as its JSON text (read when
    listed: ``governance.status._standing``), or None when ``text`` is not one (a miss)."""
    lines = text.split("\n")
    try:
        head: Any = json.loads(lines[0])
    except ValueError:
        return None
    if not isinstance(head, dict):
        return None
    releases = head.get("releases")
    if not isinstance(releases, list) or len(releases) != len(lines) - 1 or not all(
            type(r) is list and len(r) == 5 for r in releases):
        return None
    head["releases"] = [[*r, standing] for r, standing in zip(releases, lines[1:],
                                                              strict=True)]
    return head


def memo_file(common_dir: Path, branch: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", branch)
    return common_dir / "governance" / f"status-{safe}.sqlite"


class StatusMemo:
    """The summaries of one ledger branch (open lazily; every failure is a miss)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    @classmethod
    def for_source(cls, source: object) -> StatusMemo | None:
        """The memo of a verified ledger source, or None (a source with no verified chain
        behind it, or a git layout only git can resolve)."""
        from governance.ledger.refs import Unresolvable, git_dirs

        root, branch = getattr(source, "root", None), getattr(source, "branch", None)
        if not isinstance(root, Path) or not isinstance(branch, str) \
                or getattr(source, "confirm", None) is None:
            return None
        try:
            dirs = git_dirs(root)
        except (Unresolvable, OSError):
            return None
        return cls(memo_file(dirs.common_dir, branch))

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                except sqlite3.Error:
                    conn.close()
                    raise
                self._conn = conn
            except (sqlite3.Error, OSError):
                self._broken = True
        return self._conn

    def get(self, model: str, production_env: str, head: tuple[int, str, str]
            ) -> dict[str, Any] | None:
        """The summary kept for exactly this position and code, or None."""
        conn = self._open()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT seq, leaf, commit_sha, code, value FROM summary "
                "WHERE model = ? AND production_env = ?", (model, production_env)).fetchone()
        except sqlite3.Error:
            return None
        code = code_digest()
        if code is None or row is None or (row[0], row[1], row[2]) != head or row[3] != code:
            return None
        return decode_summary(row[4])

    def put(self, model: str, production_env: str, head: tuple[int, str, str],
            summary: dict[str, Any]) -> None:
        code = code_digest()
        conn = self._open() if code is not None else None
        if conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute("INSERT OR REPLACE INTO summary VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (model, production_env, head[0], head[1], head[2], code,
                          encode_summary(summary)))

    def document(self, path: str, raw: bytes, max_bytes: int) -> Any:
        """What was read of the document at ``path`` (relative to the repository) when it had
        exactly the bytes ``raw`` under the size limit ``max_bytes``, or None."""
        code = document_code_digest()
        conn = self._open() if code is not None else None
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT digest, max_bytes, code, value FROM documents "
                               "WHERE path = ?", (path,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:3]) != (hashlib.sha256(raw).hexdigest(), max_bytes, code):
            return None
        try:
            return json.loads(row[3])
        except ValueError:
            return None

    def put_document(self, path: str, raw: bytes, max_bytes: int, value: Any) -> None:
        """Remember ``value`` for the document at ``path`` with the bytes ``raw``, which were
        loaded and passed every check under ``max_bytes``."""
        code = document_code_digest()
        conn = self._open() if code is not None else None
        if conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                         (path, hashlib.sha256(raw).hexdigest(), max_bytes, code,
                          json.dumps(value, separators=(",", ":"), sort_keys=True)))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> StatusMemo:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
