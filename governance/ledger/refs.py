"""Reading a branch's commit id from the ref files, without starting git or importing GitPython.

The warm read path (the query index already holds the verified head) only needs to know whether
the ledger branch still points where it pointed when it was verified. That is a file read:

  <work tree>/.git                  a directory, or a file ``gitdir: <path>`` (linked worktrees,
                                    submodules, ``git clone --separate-git-dir``)
  <git dir>/commondir               a linked worktree's pointer to the shared directory
  <common dir>/refs/heads/<branch>  the loose ref: ``<sha>`` or ``ref: <other ref>``
  <common dir>/packed-refs          ``<sha> <ref>`` lines (``^<sha>`` peels a tag; ``#`` header)

Git writes a loose ref by renaming ``<ref>.lock`` over it and keeps a ref in packed-refs until its
loose file is gone, so reading the loose file first and packed-refs second never misses a ref that
exists. Anything this module does not understand (``GIT_DIR`` and friends in the environment, the
reftable format, a malformed file, a symbolic ref loop) is ``Unresolvable``: the caller asks git
instead. It never guesses.
"""

from __future__ import annotations

from pathlib import Path

from governance.ci_context import current
from governance.domain.frozen import frozen

_HEX = "0123456789abcdef"


def _is_oid(text: str) -> bool:
    """An object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits, nothing else (what
    ``[0-9a-f]{40}(?:[0-9a-f]{24})?\\Z`` matches; no regex compiled at import)."""
    return len(text) in (40, 64) and not text.strip(_HEX)
_ENV = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")
_MAX_DEPTH = 5


class Unresolvable(Exception):
    """The ref cannot be read from the files alone; ask git."""


@frozen
class GitDirs:
    git_dir: Path  # this work tree's git directory (HEAD, index)
    common_dir: Path  # shared: objects, refs/heads, packed-refs


def git_dirs(root: Path) -> GitDirs:
    """The git directories of the work tree at ``root`` (only ``root/.git``, as ``GitStore``
    opens it: no search of parent directories)."""
    env = current()
    if any(env.variable(name) is not None for name in _ENV):
        raise Unresolvable("git's location is set in the environment")
    root = root.absolute()  # a later chdir must not move the chain file
    dot = root / ".git"
    if dot.is_dir():
        git_dir = dot
    elif dot.is_file():
        try:
            text = dot.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise Unresolvable(f"{dot}: {err}") from None
        first = text.splitlines()[0] if text else ""
        if not first.startswith("gitdir: "):
            raise Unresolvable(f"{dot}: not a gitdir file")
        git_dir = Path(first[len("gitdir: "):].strip())
        if not git_dir.is_absolute():
            git_dir = root / git_dir
        if not git_dir.is_dir():
            raise Unresolvable(f"{dot}: {git_dir} is not a directory")
    else:
        raise Unresolvable(f"{root} has no .git")
    common = git_dir
    try:
        pointer = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pointer = ""
    except (OSError, UnicodeDecodeError) as err:
        raise Unresolvable(f"{git_dir / 'commondir'}: {err}") from None
    if pointer:
        common = Path(pointer) if Path(pointer).is_absolute() else git_dir / pointer
    if (common / "reftable").exists():
        raise Unresolvable("the repository stores its refs as a reftable")
    return GitDirs(git_dir, common)


def read_ref(common_dir: Path, ref: str) -> str | None:
    """The object id ``ref`` (``refs/heads/...``) names, None when the ref does not exist."""
    for _ in range(_MAX_DEPTH):
        if not ref.startswith("refs/") or ".." in ref.split("/"):
            raise Unresolvable(f"unexpected ref name {ref!r}")
        try:
            text = (common_dir / ref).read_text(encoding="ascii").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return _packed(common_dir, ref)
        except (OSError, UnicodeDecodeError) as err:
            raise Unresolvable(f"{ref}: {err}") from None
        if text.startswith("ref: "):
            ref = text[len("ref: "):].strip()
            continue
        if not _is_oid(text):
            raise Unresolvable(f"{ref}: the loose ref holds {text[:80]!r}, not an object id")
        return text
    raise Unresolvable(f"{ref}: symbolic refs nested deeper than {_MAX_DEPTH}")


def _packed(common_dir: Path, ref: str) -> str | None:
    try:
        data = (common_dir / "packed-refs").read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise Unresolvable(f"packed-refs: {err}") from None
    want = b" " + ref.encode("ascii") + b"\n"
    at = data.find(want)
    while at != -1:
        start = data.rfind(b"\n", 0, at) + 1
        line = data[start:at].decode("ascii", errors="replace")
        if not line.startswith(("#", "^")):
            if not _is_oid(line):
                raise Unresolvable(f"packed-refs: {ref} has {line[:80]!r}, not an object id")
            return line
        at = data.find(want, at + 1)
    if data and not data.endswith(b"\n"):
        last = data.rsplit(b"\n", 1)[-1]
        if last.endswith(b" " + ref.encode("ascii")):
            line = last[: -len(ref) - 1].decode("ascii", errors="replace")
            if _is_oid(line):
                return line
            raise Unresolvable(f"packed-refs: {ref} has {line[:80]!r}, not an object id")
    return None


def branch_tip(root: Path, branch: str) -> tuple[GitDirs, str | None]:
    """The git directories of ``root`` and the commit ``refs/heads/<branch>`` names (None: no
    such branch), from the files alone; ``Unresolvable`` when git must be asked."""
    dirs = git_dirs(root)
    return dirs, read_ref(dirs.common_dir, f"refs/heads/{branch}")
