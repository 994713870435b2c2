"""The working tree's git facts (current commit, tree of a directory, branch, work tree) and
``git init`` for a new governed repository, via the git CLI.

Kept apart from the ledger's GitPython adapter: these are single read-only facts that must also
work in a plain directory (then there is nothing to report).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _git(directory: Path, *args: str) -> str | None:
    """The stripped stdout of ``git -C directory ARGS``; None when git fails, prints nothing
    or is not there."""
    try:
        out = subprocess.run(["git", "-C", str(directory), *args],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and text else None


def head_commit(directory: Path) -> str | None:
    """Full sha of HEAD of the repository containing ``directory``, or None outside git."""
    return _git(directory, "rev-parse", "--verify", "-q", "HEAD")


def tree_id(directory: Path, rev: str = "HEAD") -> str | None:
    """Git tree id of ``directory`` at ``rev`` (e.g. the policy bundle), or None."""
    try:
        top = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-prefix"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if top.returncode != 0:
        return None
    prefix = top.stdout.strip().rstrip("/")  # empty at the top of the work tree
    spec = f"{rev}:{prefix}" if prefix else f"{rev}^{{tree}}"
    return _git(directory, "rev-parse", "--verify", "-q", spec)


def current_branch(directory: Path) -> str | None:
    """The checked-out branch name, or None (detached HEAD, or not a git checkout).

    In GitHub Actions a push-triggered job is on a detached checkout; GITHUB_REF_NAME then names
    the branch the workflow runs for.
    """
    try:
        out = subprocess.run(["git", "-C", str(directory), "symbolic-ref", "-q", "--short",
                              "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None  # no git at all: no branch, whatever the CI environment says
    name = out.stdout.strip()
    if out.returncode == 0 and name:
        return name
    ref = os.environ.get("GITHUB_REF_NAME") if os.environ.get("GITHUB_ACTIONS") == "true" else None
    return ref or None


def git_toplevel(directory: Path) -> Path | None:
    """The work tree containing ``directory``, or None outside git."""
    top = _git(directory, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def init_repository(directory: Path, branch: str) -> bool:
    """``git init`` with ``branch`` as the initial branch; False when git is unavailable."""
    try:
        out = subprocess.run(["git", "init", "-q", "-b", branch, str(directory)],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0
