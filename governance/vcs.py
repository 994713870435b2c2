"""The working tree's git facts (current commit, tree of a directory, branch, work tree, the tip
of a branch, what differs from HEAD) and ``git init`` for a new governed repository, via the
git CLI.

Kept apart from the ledger's GitPython adapter: these are single read-only facts that must also
work in a plain directory (then there is nothing to report).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from governance import ci_context


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
    return ci_context.current().ref_name  # only in CI (GITHUB_ACTIONS=true)


def branch_tip(directory: Path, branch: str) -> str | None:
    """Full sha of the newest commit of ``branch``: HEAD when that branch is what is checked
    out (or, on a detached CI checkout, what GITHUB_REF_NAME names), else ``refs/heads/BRANCH``,
    else (a clone of a review branch only) ``refs/remotes/origin/BRANCH``. None when the branch
    has no commit (an unborn branch) or git cannot tell."""
    if current_branch(directory) == branch:
        return head_commit(directory)
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        sha = _git(directory, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
        if sha:
            return sha
    return None


def path_prefix(directory: Path) -> str | None:
    """``directory`` relative to the top of its work tree ("" at the top, else "a/b/"), the
    prefix of a ``COMMIT:PATH`` spec; None outside git."""
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-prefix"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


# git status --porcelain XY codes, read as what a reader of the refusal needs to know
_STATES = {"??": "untracked", "!!": "ignored, so never committed"}


def uncommitted(directory: Path, paths: Sequence[str]) -> tuple[tuple[str, str], ...] | None:
    """Every file at or below ``paths`` (relative to ``directory``) whose working-tree content
    is not what HEAD holds: (path relative to the top of the work tree, state), where state is
    untracked, ignored, staged, modified or deleted. Empty when all of it is committed; None
    when git cannot tell (not a checkout, git missing or failing)."""
    if not paths:
        return ()
    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain=v1", "-z", "--no-renames",
             "--untracked-files=all", "--ignored=matching", "--",
             *(f":(literal){p}" for p in paths)],
            capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    found: list[tuple[str, str]] = []
    for item in out.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if len(item) < 4:
            continue
        code, name = item[:2], item[3:]
        if code in _STATES:
            state = _STATES[code]
        elif "D" in code:
            state = "deleted"
        elif code[1] == " ":
            state = "staged, not committed"
        else:
            state = "modified"
        found.append((name, state))
    return tuple(found)


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


def git_config(directory: Path, key: str) -> str | None:
    """The effective git config value of ``key`` for the repository at ``directory``."""
    return _git(directory, "config", "--get", key)


def remote_url(directory: Path, remote: str) -> str | None:
    """The fetch URL of ``remote``, or None (no such remote, or outside git)."""
    return _git(directory, "remote", "get-url", "--", remote)
