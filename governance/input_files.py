"""Reading one input file: a regular file, within its size limit, the same before and after.

Every reader of a governed document or of a file named on the command line (``--from-eval``,
``--event``) goes through ``read_input``, so what is not a plain file is named, never read as
if it were one and never skipped:

- a directory, FIFO, socket or device is refused by kind (``/dev/zero`` is never read: it has
  no end, and a FIFO would block until a writer comes);
- a symbolic link is refused unless the caller follows links on purpose (a file the user names
  outside the repository); a link loop is named as one;
- the read is bounded by the size limit, whatever the file claims its size is;
- a file whose size or modification time differ between the stat before the read and the one
  after it (a writer was busy) is refused: the bytes read may be half of an old and half of a
  new version, and a digest or a decision must rest on one version.

``describe_entry`` says what a directory entry is in the words messages use.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from governance.errors import Problem

_CHUNK = 1 << 20


class InputFileProblem(Exception):
    """A file cannot be used as an input; ``problem`` says where and why."""

    def __init__(self, problem: Problem, *, usage: bool = False) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.usage = usage  # the name itself is wrong (missing, not a file), not the content


def kind_of(mode: int) -> str:
    """A file type in the words of a message: 'a directory', 'a FIFO', ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a special file"


def describe_link(path: Path, root: Path | None = None) -> str:
    """'a symbolic link to 'x'' with what is wrong with its target (a loop, outside ``root``)."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    text = f"a symbolic link to {target!r}"
    try:
        os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return text + " (a symbolic link loop)"
        return text + " (its target does not exist)"
    if root is not None:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(os.path.realpath(root)):
            return text + " (pointing outside the repository)"
    return text


def describe_entry(path: Path, root: Path | None = None) -> str | None:
    """What ``path`` is when it is not a plain directory or regular file; None when it is one
    (or does not exist: callers say "missing" in their own words)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if stat.S_ISLNK(mode):
        return describe_link(path, root)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return kind_of(mode)


def _read_all(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes from ``fd`` (a seam: tests write to the file in between)."""
    parts: list[bytes] = []
    total = 0
    while total < limit:
        block = os.read(fd, min(_CHUNK, limit - total))
        if not block:
            break
        parts.append(block)
        total += len(block)
    return b"".join(parts)


def read_input(path: Path, name: str, max_bytes: int, *, follow_links: bool = False,
               limit_hint: str = "") -> bytes:
    """The bytes of a regular file, or InputFileProblem naming what is wrong with it."""

    def refuse(message: str, hint: str = "", *, usage: bool = False) -> InputFileProblem:
        return InputFileProblem(Problem(name, None, "$", message, hint), usage=usage)

    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise refuse(f"found {describe_link(path)}, expected a regular file",
                             "copy the content here: governed documents are not links")
        except FileNotFoundError:
            raise refuse("no such file", usage=True) from None
        except OSError as err:
            raise refuse(f"cannot read file: {err.strerror}") from None
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise refuse("no such file", usage=True) from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise refuse(f"found {describe_link(path)}, expected a regular file") from None
        raise refuse(f"cannot read file: {err.strerror}",
                     "make the file readable by the user running governance") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise refuse(f"found {kind_of(before.st_mode)}, expected a regular file",
                         usage=True)
        too_big = refuse(
            f"file is {before.st_size} bytes, over the limit of {max_bytes} bytes",
            limit_hint or "governed documents are small; raise limits.max_file_bytes or "
            "--max-file-size only if this is intended")
        if before.st_size > max_bytes:
            raise too_big
        try:
            data = _read_all(fd, max_bytes + 1)
        except OSError as err:
            raise refuse(f"cannot read file: {err.strerror}") from None
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) \
            or len(data) != after.st_size:
        raise refuse(
            f"file changed while it was read (size {before.st_size} -> {after.st_size} bytes, "
            f"{len(data)} read)",
            "something is writing it; run again once the writer has finished")
    if len(data) > max_bytes:
        raise too_big
    return data
