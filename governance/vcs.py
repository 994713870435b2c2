"""The working tree's git facts needed by record tooling (current commit), via the git CLI.

Kept apart from the ledger's GitPython adapter: record tooling only needs one read-only fact and
must work in a plain directory too (then there is no commit to report).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def head_commit(directory: Path) -> str | None:
    """Full sha of HEAD of the repository containing ``directory``, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


def tree_id(directory: Path, rev: str = "HEAD") -> str | None:
    """Git tree id of ``directory`` at ``rev`` (e.g. the policy bundle), or None."""
    try:
        top = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-prefix"],
                             capture_output=True, text=True, timeout=10, check=False)
        if top.returncode != 0:
            return None
        prefix = top.stdout.strip().rstrip("/")
        spec = f"{rev}:{prefix}" if prefix else f"{rev}^{{tree}}"
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "--verify", "-q", spec],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


def current_branch(directory: Path) -> str | None:
    """The checked-out branch name, or None (detached HEAD, or not a git checkout).

    In GitHub Actions a push-triggered job is on a detached checkout; GITHUB_REF_NAME then names
    the branch the workflow runs for.
    """
    try:
        out = subprocess.run(["git", "-C", str(directory), "symbolic-ref", "-q", "--short",
                              "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip()
    if out.returncode == 0 and name:
        return name
    ref = os.environ.get("GITHUB_REF_NAME") if os.environ.get("GITHUB_ACTIONS") == "true" else None
    return ref or None


def git_toplevel(directory: Path) -> Path | None:
    """The work tree containing ``directory``, or None outside git."""
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    top = out.stdout.strip()
    return Path(top) if out.returncode == 0 and top else None


def init_repository(directory: Path, branch: str) -> bool:
    """``git init`` with ``branch`` as the initial branch; False when git is unavailable."""
    try:
        out = subprocess.run(["git", "init", "-q", "-b", branch, str(directory)],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0
