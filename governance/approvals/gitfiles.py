"""Read what the approval rules need from the local clone: files at a commit, changed paths.

Owns the questions asked of git through argv lists (never a shell): the bytes of a file at a
given commit (CODEOWNERS, governance.yaml and the policies are read at the pull request's BASE
commit, DESIGN section 6: a pull request cannot change the rules that judge it) and the paths
changed by a pull request. Changed files come from
``git diff --name-only base...head`` because GitHub's "list pull request files" endpoint stops at
3,000 files (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from governance.errors import Undecided

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?\Z")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=60
    )


def _require_sha(value: str, what: str) -> None:
    if not _SHA.fullmatch(value):
        raise Undecided(f"{what} {value!r} is not a full commit sha (expected 40 hex characters)")


def file_at(root: Path, commit: str, path: str) -> bytes | None:
    """Bytes of ``path`` at ``commit``; None when the file does not exist there."""
    _require_sha(commit, "commit")
    exists = _git(root, "cat-file", "-e", f"{commit}:{path}")
    if exists.returncode != 0:
        if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
            raise Undecided(
                f"commit {commit} is not in the local clone at {root}",
                hint="fetch the pull request's base and head (actions/checkout fetch-depth: 0)",
            )
        return None
    out = _git(root, "cat-file", "blob", f"{commit}:{path}")
    if out.returncode != 0:
        raise Undecided(f"git could not read {path} at {commit}: {out.stderr.decode().strip()}")
    return out.stdout


def files_under(root: Path, commit: str, directory: str) -> dict[str, bytes]:
    """Every file under ``directory`` at ``commit`` (path relative to it -> bytes); empty when
    the directory does not exist there."""
    _require_sha(commit, "commit")
    listed = _git(root, "ls-tree", "-r", "-z", "--name-only", commit, "--", directory + "/")
    if listed.returncode != 0:
        raise Undecided(f"git could not list {directory}/ at {commit}: "
                        f"{listed.stderr.decode().strip()}")
    out = {}
    for name in listed.stdout.decode().split("\0"):
        if name:
            data = file_at(root, commit, name)
            if data is not None:
                out[name.removeprefix(directory + "/")] = data
    return out


def changed_files(root: Path, base: str, head: str) -> tuple[str, ...]:
    """Paths changed between the merge base of ``base`` and ``head`` (three-dot diff)."""
    _require_sha(base, "base")
    _require_sha(head, "head")
    out = _git(root, "diff", "--name-only", "-z", "--no-renames", f"{base}...{head}")
    if out.returncode != 0:
        raise Undecided(
            f"git diff {base[:12]}...{head[:12]} failed: {out.stderr.decode().strip()}",
            hint="fetch the pull request's base and head (actions/checkout fetch-depth: 0)",
        )
    return tuple(p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def changed_between(root: Path, before: str, after: str) -> tuple[str, ...]:
    """Paths a push changed: ``git diff --name-only before after`` (two dots: exactly what the
    push brought, whatever its merge base)."""
    _require_sha(before, "before")
    _require_sha(after, "after")
    out = _git(root, "diff", "--name-only", "-z", "--no-renames", before, after)
    if out.returncode != 0:
        raise Undecided(
            f"git diff {before[:12]} {after[:12]} failed: {out.stderr.decode().strip()}",
            hint="fetch the pushed commits (actions/checkout fetch-depth: 0)",
        )
    return tuple(p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def object_at(root: Path, commit: str, path: str) -> str | None:
    """The object id of ``path`` at ``commit`` (blob or tree), None when absent there."""
    _require_sha(commit, "commit")
    if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise Undecided(f"commit {commit} is not in the local clone at {root}",
                        hint="fetch the pull request's head (actions/checkout fetch-depth: 0)")
    out = _git(root, "rev-parse", "--verify", "-q", f"{commit}:{path}")
    sha = out.stdout.decode().strip()
    return sha if out.returncode == 0 and sha else None


def release_digest_at(root: Path, commit: str, directory: str) -> str | None:
    """The release digest (governance.digest's definition) of ``directory`` as committed at
    ``commit``, read from git objects: what a review given on that commit saw. None when the
    directory does not exist there; a symbolic link or submodule in it is refused, as the
    working-tree digest refuses them."""
    from governance.digest import content_sha256, manifest_digest

    tree = object_at(root, commit, directory)
    if tree is None:
        return None
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", tree)
    if listing.returncode != 0:
        raise Undecided(f"git ls-tree {directory} at {commit[:12]} failed: "
                        f"{listing.stderr.decode().strip()}")
    files: list[tuple[str, str]] = []
    for item in listing.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, name = item.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        rel = name.decode("utf-8", "surrogateescape")
        if any(part == ".git" for part in rel.split("/")[:-1]):
            continue
        if kind != "blob" or mode not in ("100644", "100755"):
            raise Undecided(f"{directory}/{rel} at {commit[:12]} is not a regular file "
                            f"(mode {mode}); a release directory holds regular files only")
        files.append((rel, sha))
    files.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
    manifest = []
    for rel, sha in files:
        blob = _git(root, "cat-file", "blob", sha)
        if blob.returncode != 0:
            raise Undecided(f"git could not read {directory}/{rel} at {commit[:12]}")
        manifest.append((rel, content_sha256(rel, blob.stdout)))
    return manifest_digest(manifest).value
