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
from collections.abc import Iterable, Sequence

TREE_MODE = b"40000"
FILE_MODE = b"100644"


class _Dir:
    __slots__ = ("keys", "entries", "id")

    def __init__(self) -> None:
        self.keys: list[bytes] = []  # sort keys (directories suffixed with "/"), ascending
        self.entries: list[bytes] = []  # serialised entries, parallel to keys
        self.id = _EMPTY


_EMPTY = hashlib.sha1(b"tree 0\0").digest()


class TreeState:
    """One commit's tree, by directory path (b"" is the root); starts as the empty tree."""

    __slots__ = ("_dirs", "_chains")

    def __init__(self) -> None:
        self._dirs: dict[bytes, _Dir] = {b"": _Dir()}
        self._chains: dict[bytes, list[tuple[_Dir, _Dir | None, bytes, bytes]]] = {}

    def tree_id(self) -> bytes:
        """The root tree's object id (20 bytes)."""
        return self._dirs[b""].id

    # --- a part of a stored tree (catching up) ----------------------------------------------
    def load(self, path: bytes, body: bytes) -> bytes:
        """Take directory ``path`` (b"": the root) as the tree object ``body`` holds it (its
        entries as stored, its id the SHA-1 of the object). A state built from the root down,
        each directory on the paths to be added loaded before ``add_files``, proves additions
        exactly as the whole tree does: directories off those paths are only entries in their
        parents. Returns the directory's id; ValueError when ``body`` is not a tree object's
        content in git's order."""
        d = _Dir()
        at, end = 0, len(body)
        while at < end:
            sp = body.index(b" ", at)
            nul = body.index(b"\0", sp)
            if nul + 21 > end:
                raise ValueError("truncated tree entry")
            mode, name = body[at:sp], body[sp + 1 : nul]
            d.keys.append(name + b"/" if mode == TREE_MODE else name)
            d.entries.append(body[at : nul + 21])
            at = nul + 21
        if d.keys != sorted(d.keys):
            raise ValueError("tree entries out of git's order")
        d.id = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
        self._dirs[path] = d
        self._chains.clear()
        return d.id

    def subtree_id(self, path: bytes) -> bytes | None:
        """The id of directory ``path`` as its loaded parent names it; None when the parent is
        not loaded or has no directory by that name."""
        parent, _, name = path.rpartition(b"/")
        d = self._dirs.get(parent)
        if d is None:
            return None
        at = bisect_left(d.keys, name + b"/")
        if at < len(d.keys) and d.keys[at] == name + b"/":
            return d.entries[at][-20:]
        return None

    def file_id(self, path: bytes) -> bytes | None:
        """The blob id of file ``path`` as its loaded directory names it (None: no such file
        there, or its directory not loaded)."""
        parent, _, name = path.rpartition(b"/")
        d = self._dirs.get(parent)
        if d is None:
            return None
        at = bisect_left(d.keys, name)
        if at < len(d.keys) and d.keys[at] == name and d.entries[at].startswith(FILE_MODE + b" "):
            return d.entries[at][-20:]
        return None

    def loaded(self, path: bytes) -> bool:
        return path in self._dirs

    # --- changes ----------------------------------------------------------------------------
    def add_files(self, files: Sequence[tuple[bytes, bytes]], expected: bytes) -> bool:
        """Add new ``(path, blob id)`` files (mode 100644); True, and kept, when the tree id
        then equals ``expected``. Otherwise, or when a path already exists (as a file or a
        directory) or a directory on it exists as a file, the state is left unchanged and False
        returned: only pure additions are ever claimed."""
        if not all(self._free(path) for path, _ in files):
            return False
        for path, blob in files:
            self._put(path, FILE_MODE, blob)
        self._rehash([path for path, _ in files])
        if self.tree_id() == expected:
            return True
        for path, _ in files:
            self._drop(path)
        self._rehash([path for path, _ in files])
        return False

    def apply(self, changes: Iterable[tuple[str, bytes, bytes, bytes]], expected: bytes) -> bool:
        """Apply git's own diff (status, path, new mode, new blob id); True when the tree id
        then equals ``expected`` (when False the state no longer matches git's)."""
        paths = []
        for status, path, mode, blob in changes:
            if status == "D":
                self._drop(path)
            else:
                self._put(path, mode, blob)
            paths.append(path)
        self._rehash(paths)
        return self.tree_id() == expected

    # --- internals --------------------------------------------------------------------------
    def _free(self, path: bytes) -> bool:
        """No entry named ``path``, and every directory on it absent or a directory."""
        dirs = self._dirs
        parent = path
        while parent:
            parent, _, name = parent.rpartition(b"/")
            d = dirs.get(parent)
            if d is not None:  # the deepest existing directory: nothing below it exists
                keys = d.keys
                at = bisect_left(keys, name)
                if at < len(keys) and keys[at] == name:
                    return False  # a file by this name
                at = bisect_left(keys, name + b"/")
                return not (at < len(keys) and keys[at] == name + b"/")  # no such directory
        return True

    def _put(self, path: bytes, mode: bytes, blob: bytes) -> None:
        parent, _, name = path.rpartition(b"/")
        d = self._dirs.get(parent)
        if d is None:
            self._put(parent, TREE_MODE, _EMPTY)
            d = self._dirs[parent] = _Dir()
            self._chains.clear()
        key = name + b"/" if mode == TREE_MODE else name
        entry = mode + b" " + name + b"\0" + blob
        keys = d.keys
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            d.entries[at] = entry
        else:
            keys.insert(at, key)
            d.entries.insert(at, entry)

    def _drop(self, path: bytes) -> None:
        """Remove a file entry; directories left empty go too (git stores no empty trees)."""
        key = path
        while True:
            parent, _, name = key.rpartition(b"/")
            d = self._dirs.get(parent)
            if d is None:
                return
            name = name if key is path else name + b"/"
            at = bisect_left(d.keys, name)
            if at < len(d.keys) and d.keys[at] == name:
                del d.keys[at]
                del d.entries[at]
            if d.keys or not parent:
                return
            del self._dirs[parent]
            self._chains.clear()
            key = parent

    def _chain(self, path: bytes) -> list[tuple[_Dir, _Dir | None, bytes, bytes]]:
        """(directory, its parent, its sort key there, its entry prefix) from ``path`` up to
        the root, cached until a directory is created or removed."""
        chain = self._chains.get(path)
        if chain is None:
            chain = self._chains[path] = []
            while True:
                d = self._dirs[path]
                if not path:
                    chain.append((d, None, b"", b""))
                    break
                parent, _, name = path.rpartition(b"/")
                chain.append((d, self._dirs[parent], name + b"/", TREE_MODE + b" " + name + b"\0"))
                path = parent
        return chain

    def _rehash(self, paths: Iterable[bytes]) -> None:
        """Re-hash every directory on ``paths`` once, deepest first, updating parents' entries."""
        chains = []
        dirs = self._dirs
        for path in paths:
            parent = path.rpartition(b"/")[0]
            while parent not in dirs:  # removed with its last file: its parent changed
                parent = parent.rpartition(b"/")[0]
            chain = self._chains.get(parent)
            chains.append(chain if chain is not None else self._chain(parent))
        if len(chains) == 1:
            order = chains[0]
        elif len(chains) == 2:  # an event and a checkpoint: the two branches, then the shared
            a, b = chains  # part of the chains (from their lowest common directory up)
            k = 1
            while k < min(len(a), len(b)) and a[-k - 1][0] is b[-k - 1][0]:
                k += 1
            order = a[:-k] + b[:-k] + a[-k:]  # both chains end at the root
        else:  # each directory once, by depth (a chain runs from depth len - 1 up to 0)
            by_dir = {id(link[0]): (len(c) - k, link) for c in chains for k, link in enumerate(c)}
            order = [link for _, link in sorted(by_dir.values(), key=lambda x: -x[0])]
        sha1 = hashlib.sha1
        join = b"".join
        for d, up, key, prefix in order:
            body = join(d.entries)
            d.id = sha1(b"tree %d\0" % len(body) + body).digest()
            if up is not None:
                up.entries[bisect_left(up.keys, key)] = prefix + d.id
