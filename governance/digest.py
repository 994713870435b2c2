"""The release digest: one canonical sha256 over a release directory's content.

Definition (stable; approvals, gate decisions and promotions bind to it):

1. Take every regular file below the release directory, recursively. Symbolic links and other
   non-regular files are refused (they could point outside the release), and so is a release
   directory that is itself a link; a file that changes while it is hashed is refused.
   Directories named ``.git`` are skipped. File modes are ignored.
2. For each file compute ``sha256(content)``, where the content of a YAML file (``.yaml`` or
   ``.yml``) has its line endings normalised to LF (CRLF and lone CR become LF; comments stay:
   they are content), and every other file is hashed byte-exact (``governance init`` marks
   evidence binary in .gitattributes so no checkout converts it).
3. Sort the files by their POSIX relative path, compared as UTF-8 bytes.
4. Build a manifest of one line per file: ``<hex sha256><two spaces><relative path>\\n``
   (the ``sha256sum`` format).
5. The digest is ``sha256:`` followed by the hex sha256 of the manifest's UTF-8 bytes.

The release record and the model card are files of the directory, and the record carries the
sha256 of every evidence reference, so remote evidence is bound through its digest.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from governance.errors import InvalidInput, Problem
from governance.input_files import describe_link, kind_of

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ReleaseDigest:
    value: str  # "sha256:<hex>"
    manifest: tuple[tuple[str, str], ...]  # (relative path, file sha256)

    def __str__(self) -> str:
        return self.value


def _to_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def content_sha256(rel: str, data: bytes) -> str:
    """The sha256 a release file at ``rel`` contributes (step 2: YAML line endings to LF),
    for content read from elsewhere than the working tree (git objects)."""
    return hashlib.sha256(_to_lf(data) if rel.endswith(YAML_SUFFIXES) else data).hexdigest()


def manifest_digest(manifest: Sequence[tuple[str, str]]) -> ReleaseDigest:
    """Steps 4 and 5: the digest of (relative path, file sha256) pairs, sorted by path."""
    text = "".join(f"{digest}  {rel}\n" for rel, digest in manifest)
    return ReleaseDigest("sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest(),
                         tuple(manifest))


def file_sha256(path: Path, *, normalise_newlines: bool = False) -> str:
    """sha256 of a regular file's content; InvalidInput when it cannot be read or changes
    while it is read (size or modification time differ before and after): a digest is over
    one version of the file, never a mix of two."""
    h = hashlib.sha256()
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InvalidInput([Problem(str(path), None, "$", f"cannot read file: {err.strerror}",
                                    "every file of a release must be a readable regular file")]
                           ) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise InvalidInput([Problem(str(path), None, "$",
                                        f"found {kind_of(before.st_mode)}, expected a regular "
                                        "file")])
        data = bytearray() if normalise_newlines else None
        size = 0
        while size <= before.st_size:  # a file growing while read ends the loop, changed
            block = _read_block(fd)
            if not block:
                break
            size += len(block)
            if data is not None:
                data += block
            else:
                h.update(block)
        after = os.fstat(fd)
    except OSError as err:
        raise InvalidInput([Problem(str(path), None, "$", f"cannot read file: {err.strerror}")]
                           ) from None
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) \
            or size != after.st_size:
        raise InvalidInput([Problem(str(path), None, "$",
                                    f"file changed while it was read (size {before.st_size} -> "
                                    f"{after.st_size} bytes, {size} read)",
                                    "something is writing the release; run again once it is "
                                    "finished")])
    if data is not None:
        h.update(_to_lf(bytes(data)))
    return h.hexdigest()


def _read_block(fd: int) -> bytes:
    """One block of a file being hashed (a seam: tests write to the file in between)."""
    return os.read(fd, 1 << 20)


def release_files(directory: Path) -> list[tuple[str, Path]]:
    """The files a digest covers, sorted; refuses links and special files."""
    problems: list[Problem] = []
    files: list[tuple[str, Path]] = []
    if os.path.islink(directory):
        raise InvalidInput([Problem(str(directory), None, "$",
                                    f"found {describe_link(directory)}, expected a release "
                                    "directory",
                                    "a digest covers the content a release directory holds; "
                                    "links are not content")])

    def scan(path: str, prefix: str) -> None:
        try:
            with os.scandir(path) as entries:
                found = list(entries)
        except OSError as err:  # never a silently smaller digest
            problems.append(Problem(path, None, "$", f"cannot read directory: {err.strerror}",
                                    "a release directory must be readable in full"))
            return
        for entry in found:
            if entry.is_symlink():
                problems.append(_link_problem(directory, Path(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                if entry.name != ".git":
                    scan(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                files.append((prefix + entry.name, Path(entry.path)))
            else:
                problems.append(Problem(entry.path, None, "$", "not a regular file",
                                        "a release directory holds regular files only"))

    scan(str(directory), "")
    if problems:
        raise InvalidInput(problems)
    files.sort(key=lambda item: item[0].encode("utf-8"))
    return files


def _link_problem(directory: Path, path: Path) -> Problem:
    return Problem(str(path), None, "$",
                   f"symbolic link in a release directory (points to {os.readlink(path)!r})",
                   "copy the evidence into the release directory; links are not content")


def release_digest(directory: Path) -> ReleaseDigest:
    return manifest_digest([
        (rel, file_sha256(path, normalise_newlines=rel.endswith(YAML_SUFFIXES)))
        for rel, path in release_files(directory)
    ])
