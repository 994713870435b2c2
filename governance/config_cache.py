"""A validated governance.yaml remembered in the git directory, for read queries (issue 18).

Parsing and schema-checking governance.yaml costs a read query more than its answer: the YAML
parser's import alone is a third of a warm ``live``. Once a configuration passed every check,
its validated mapping is kept in ``<git common dir>/governance/config-cache.json`` (beside the
verified chain, outside the work tree) under a key made of

  * the SHA-256 of governance.yaml's exact bytes (any edit, even of a comment, misses), and
  * the fingerprint of what validated it: the cache format, the package version, and the bytes
    of the schema, of ``governance.records`` and of ``governance.yaml_source`` (a changed
    validator or parser misses).

A read query (``governance.config.load_config(root, remembered=True)``: live, history,
audit query) whose file bytes match the key builds the configuration from the mapping
(``governance.documents``) without importing the YAML parser or a schema library. Every other
command (the gates, approve, promote, validate, doctor, anything that decides or records)
parses and checks governance.yaml itself each time, and refreshes the entry. A missing,
unreadable, malformed or stale entry is a miss, never an error: the file is then parsed and
checked as usual. Nothing here is evidence: the key ties the entry to the bytes, and a command
that decides never reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from governance import __version__
from governance.domain.config import GovernanceConfig

CACHE_FORMAT = 1
CACHE_FILE = "config-cache.json"
_PACKAGE = Path(__file__).resolve().parent
# what decides whether a configuration is valid: its schema, the validator and the YAML reader
_VALIDATOR_FILES = ("schemas/governance-config.schema.json", "records.py", "yaml_source.py")


@cache
def _fingerprint() -> str | None:
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}".encode())
    for name in _VALIDATOR_FILES:
        try:
            digest.update(b"\0" + (_PACKAGE / name).read_bytes())
        except OSError:
            return None  # a package without its sources: nothing is remembered
    return digest.hexdigest()


def key_of(raw: bytes) -> str | None:
    """The cache key of governance.yaml's bytes ``raw`` (None: caching is not possible)."""
    fingerprint = _fingerprint()
    if fingerprint is None:
        return None
    return f"{hashlib.sha256(raw).hexdigest()}:{fingerprint}"


def cache_file(root: Path) -> Path | None:
    """Where the entry of the repository at ``root`` lives (None: no git directory that can be
    found from the files alone; nothing is remembered then)."""
    from governance.ledger.refs import Unresolvable, git_dirs

    try:
        return git_dirs(root).common_dir / "governance" / CACHE_FILE
    except Unresolvable:
        return None


def recall(root: Path, raw: bytes) -> GovernanceConfig | None:
    """The configuration validated earlier from exactly these bytes, or None."""
    key = key_of(raw)
    path = cache_file(root)
    if key is None or path is None:
        return None
    try:
        doc = json.loads(path.read_bytes())
        if not isinstance(doc, dict) or doc.get("key") != key:
            return None
        data = doc["data"]
        if not isinstance(data, dict):
            return None
        from governance.documents import build_config

        return build_config(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a miss: governance.yaml is parsed and checked as usual


def remember(root: Path, raw: bytes, data: Any) -> None:
    """Keep the validated mapping ``data`` of governance.yaml's bytes ``raw``; quietly nothing
    when the git directory is not writable or the mapping does not survive JSON unchanged."""
    key = key_of(raw)
    path = cache_file(root)
    if key is None or path is None:
        return
    try:
        text = json.dumps({"format": CACHE_FORMAT, "key": key, "data": data}, sort_keys=False)
        if json.loads(text)["data"] != data:
            return  # e.g. a non-string mapping key: the entry would not be the document
    except (TypeError, ValueError):
        return
    tmp = path.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # readers see the old entry or the new one, never half of one
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
