"""The policy bundle: every ``.rego`` file under a policy directory, and its digest.

The bundle digest recorded in every decision (DESIGN section 5: "policy bundle digest = git tree
of policies/") is the git tree object id of the directory *as it is on disk*, computed here with
git's own object format (``tree <size>\\0`` + entries ``<mode> <name>\\0<20-byte id>`` sorted as git
sorts them, see git's Documentation/technical/... and ``git hash-object``). When the directory is
committed unchanged it equals ``git rev-parse HEAD:policies``; when it is not in git at all, or has
local edits, it is still a well-defined id of exactly what was evaluated (``check`` may run on a
working tree; ``promote`` and ``rollback`` refuse local edits, so the digest they record is
always the tree of policies/ in the protected branch's commit, see ``governance.committed``).
Because git object ids are SHA-1, the bundle also carries ``sha256``: SHA-256 over a manifest of
``<sha256 of file> <relative path>\\n`` lines sorted by path (the format of ``sha256sum``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from governance.errors import ConfigurationError

# The policy directory of a governed repository (DESIGN section 3).
POLICY_DIR = "policies"


@dataclass(frozen=True)
class PolicyFile:
    """One Rego module: ``path`` is what messages show (e.g. ``policies/approvals.rego``)."""

    path: str
    source: str

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego")


@dataclass(frozen=True)
class PolicyBundle:
    root: Path
    files: tuple[PolicyFile, ...]
    git_tree: str  # hex git tree object id of the directory content
    sha256: str  # "sha256:<hex>" over the sha256sum-style manifest

    @property
    def digest(self) -> str:
        return f"git-tree:{self.git_tree}"

    def policies(self) -> tuple[PolicyFile, ...]:
        return tuple(f for f in self.files if not f.is_test)

    def source_of(self, path: str) -> str | None:
        for f in self.files:
            if f.path == path:
                return f.source
        return None


def load_bundle(root: Path, *, display_prefix: str | None = None) -> PolicyBundle:
    """Read every ``.rego`` file under ``root`` (recursively).

    A missing or empty directory is a configuration error (exit 3): nothing can decide.
    """
    if not root.is_dir():
        raise ConfigurationError(
            f"policy directory {root} does not exist",
            hint="run `governance init` or pass the repository that holds policies/",
        )
    prefix = root.name if display_prefix is None else display_prefix
    files: list[PolicyFile] = []
    for path in sorted(root.rglob("*.rego")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        shown = f"{prefix}/{rel}" if prefix else rel
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            raise ConfigurationError(f"{shown}: not UTF-8 ({err})") from None
        files.append(PolicyFile(shown, text))
    if not any(not f.is_test for f in files):
        raise ConfigurationError(
            f"policy directory {root} holds no .rego policies",
            hint="the default gates live in policies/ of the governed repository",
        )
    return PolicyBundle(root, tuple(files), git_tree_id(root), manifest_sha256(root))


def _blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).digest()


def _tree_id(directory: Path) -> bytes:
    entries: list[tuple[bytes, bytes, bytes]] = []  # (sort key, mode+name, id)
    with os.scandir(directory) as it:
        listing = list(it)
    for entry in listing:
        name = entry.name.encode("utf-8", "surrogateescape")
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            mode, oid = b"120000", _blob_id(os.fsencode(os.readlink(entry.path)))
            key = name
        elif stat.S_ISDIR(st.st_mode):
            with os.scandir(entry.path) as inner:
                if not any(True for _ in inner):
                    continue  # git does not record empty directories
            mode, oid = b"40000", _tree_id(Path(entry.path))
            key = name + b"/"  # git sorts a tree as if its name ended in "/"
        elif stat.S_ISREG(st.st_mode):
            mode = b"100755" if st.st_mode & stat.S_IXUSR else b"100644"
            oid = _blob_id(Path(entry.path).read_bytes())
            key = name
        else:
            continue
        entries.append((key, mode + b" " + name, oid))
    body = b"".join(head + b"\0" + oid for _, head, oid in sorted(entries))
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).digest()


def git_tree_id(directory: Path) -> str:
    """The id git would give the tree of ``directory``'s content (``git write-tree`` of it)."""
    return _tree_id(directory).hex()


def manifest_sha256(directory: Path) -> str:
    lines = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(directory).as_posix()}\n")
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()
