"""Read what the approval rules need from the local clone: files at a commit, changed paths.

Owns two questions asked of git through argv lists (never a shell): the bytes of a file at a
given commit (CODEOWNERS and governance.yaml are read at the pull request's BASE commit, DESIGN
section 6) and the paths changed by a pull request. Changed files come from
``git diff --name-only base...head`` because GitHub's "list pull request files" endpoint stops at
3,000 files (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from governance.errors import Undecided

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=60
    )


def _require_sha(value: str, what: str) -> None:
    if not _SHA.match(value):
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
