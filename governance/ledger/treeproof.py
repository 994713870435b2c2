"""What a commit changed, proven from tree ids instead of asking git to diff (pure, hashlib).

Git names a tree by the SHA-1 of its serialised entries (gitformat-tree: per entry
``<mode> <name>\\0<20-byte id>``, sorted by name with a directory compared as if its name ended
in ``/``; the object id is SHA-1 of ``tree <length>\\0`` followed by those bytes). ``TreeState``
holds the parent commit's whole tree (modes, names, ids) in memory; adding the files a ledger
commit is expected to add (its event, maybe a checkpoint) and re-hashing the directories on their
paths gives the id the commit's tree must have. When it equals the commit's tree id, the commit
changed exactly those files and nothing else: what ``git diff-tree -r`` would report, at a small
fraction of its cost (SHA-1 second preimages being what git's own object naming relies on).
When the ids differ (a tampered commit, or a rotation that also rewrites the trust files), the
caller asks git for that commit's real diff and applies it here; ``apply`` reports whether the
state then reproduces the commit's tree, so the state never drifts from what git holds.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable

TREE_MODE = b"40000"
FILE_MODE = b"100644"


class _Dir:
    __slots__ = ("keys", "entries", "id", "stale")

    def __init__(self) -> None:
        self.keys: list[bytes] = []  # sort keys (directories suffixed with "/"), ascending
        self.entries: list[bytes] = []  # serialised entries, parallel to keys
        self.id: bytes | None = None  # cached tree id; None when it must be re-hashed
        self.stale: set[bytes] = set()  # subdirectories whose entry needs their new id


def _key(name: bytes, mode: bytes) -> bytes:
    return name + b"/" if mode == TREE_MODE else name


class TreeState:
    """One commit's tree, by directory path ("" is the root); starts as the empty tree."""

    __slots__ = ("_dirs",)

    def __init__(self) -> None:
        self._dirs: dict[bytes, _Dir] = {b"": _Dir()}

    # --- queries ----------------------------------------------------------------------------
    def tree_id(self) -> bytes:
        """The root tree's object id (20 bytes), re-hashing only what changed."""
        return self._id(b"")

    def _id(self, path: bytes) -> bytes:
        d = self._dirs[path]
        if d.id is None:
            prefix = path + b"/" if path else b""
            for name in d.stale:  # a changed subdirectory: its entry carries its new id
                at = bisect_left(d.keys, name + b"/")
                d.entries[at] = TREE_MODE + b" " + name + b"\0" + self._id(prefix + name)
            d.stale.clear()
            body = b"".join(d.entries)
            d.id = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
        return d.id

    # --- changes ----------------------------------------------------------------------------
    def add_files(self, files: Iterable[tuple[bytes, bytes]], expected: bytes) -> bool:
        """Add new ``(path, blob id)`` files (mode 100644); True, and kept, when the tree id
        then equals ``expected``. Otherwise, or when a path (or a directory on it) already
        exists as something else, the state is left unchanged and False returned: only pure
        additions are ever claimed."""
        files = list(files)
        if not all(self._free(path) for path, _ in files):
            return False
        undone: list[bytes] = []
        for path, blob in files:
            self._set(path, FILE_MODE, blob)
            undone.append(path)
        if self.tree_id() == expected:
            return True
        for path in reversed(undone):
            self._remove(path)
        return False

    def apply(self, changes: Iterable[tuple[str, bytes, bytes, bytes]], expected: bytes) -> bool:
        """Apply git's own diff (status, path, new mode, new blob id); True when the tree id
        then equals ``expected`` (when False the state no longer matches git's)."""
        for status, path, mode, blob in changes:
            if status == "D":
                self._remove(path)
            else:
                self._set(path, mode, blob)
        return self.tree_id() == expected

    def _free(self, path: bytes) -> bool:
        """No entry at ``path`` and every directory on it absent or a directory."""
        parts = path.split(b"/")
        parent = b""
        for depth, name in enumerate(parts):
            d = self._dirs.get(parent)
            if d is None:
                return True  # everything below a missing directory is new
            last = depth == len(parts) - 1
            at = bisect_left(d.keys, name)
            if at < len(d.keys) and d.keys[at] == name:
                return False  # a file by this name exists
            if last:
                at = bisect_left(d.keys, name + b"/")
                return not (at < len(d.keys) and d.keys[at] == name + b"/")
            parent = parent + b"/" + name if parent else name
        return True

    def _dir_for(self, path: bytes) -> tuple[bytes, bytes]:
        parent, _, name = path.rpartition(b"/")
        if parent not in self._dirs:  # create the directory chain; entries filled on hashing
            grand, dname = self._dir_for(parent)
            g = self._dirs[grand]
            key = dname + b"/"
            at = bisect_left(g.keys, key)
            g.keys.insert(at, key)
            g.entries.insert(at, b"")
            self._dirs[parent] = _Dir()
        return parent, name

    def _dirty(self, path: bytes) -> None:
        while True:
            self._dirs[path].id = None
            if not path:
                return
            path, _, name = path.rpartition(b"/")
            self._dirs[path].stale.add(name)

    def _set(self, path: bytes, mode: bytes, blob: bytes) -> None:
        parent, name = self._dir_for(path)
        d = self._dirs[parent]
        key = _key(name, mode)
        entry = mode + b" " + name + b"\0" + blob
        at = bisect_left(d.keys, key)
        if at < len(d.keys) and d.keys[at] == key:
            d.entries[at] = entry
        else:
            d.keys.insert(at, key)
            d.entries.insert(at, entry)
        self._dirty(parent)

    def _remove(self, path: bytes) -> None:
        """Remove a file entry; directories left empty go too (git stores no empty trees)."""
        parent, _, name = path.rpartition(b"/")
        key = name
        while True:
            d = self._dirs.get(parent)
            if d is None:
                return
            at = bisect_left(d.keys, key)
            if at < len(d.keys) and d.keys[at] == key:
                del d.keys[at]
                del d.entries[at]
            if d.keys or not parent:
                self._dirty(parent)
                return
            del self._dirs[parent]
            parent, _, dname = parent.rpartition(b"/")
            key = dname + b"/"
            self._dirs[parent].stale.discard(dname)
