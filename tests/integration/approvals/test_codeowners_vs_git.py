"""Cross-check CODEOWNERS matching against real `git check-ignore` where the semantics agree.

CODEOWNERS patterns are "gitignore-like". They agree with git for every pattern below; they
deliberately differ for a final lone ``*`` segment (``docs/*``: GitHub owns direct children
only, git also ignores everything below an ignored directory), so those are not cross-checked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from governance.approvals.codeowners import parse

PATTERNS = [
    "foo",
    "/foo",
    "foo/",
    "/foo/",
    "foo/bar",
    "/foo/bar/",
    "*.txt",
    "f*",
    "/f*",
    "f?o",
    "**/bar",
    "foo/**",
    "foo/**/bar",
    "foo/*.txt",
    "foo/*/baz",
    "**/foo/*.txt",
    "Foo",
]

PATHS = [
    "foo",
    "foo.txt",
    "fxo",
    "fool/x",
    "foo/bar",
    "foo/bar.txt",
    "foo/bar/baz",
    "foo/a/bar/c.txt",
    "foo/x/baz/y",
    "a/foo",
    "a/foo/bar",
    "a/foo/b.txt",
    "a/b/foo/c",
    "bar/baz",
    "x/bar",
    "Foo/x",
]


def _git_ignores(tmp: Path, pattern: str, path: str) -> bool:
    repo = tmp / f"r{abs(hash((pattern, path)))}"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "core.ignorecase", "false"], check=True)
    (repo / ".gitignore").write_text(pattern + "\n")
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("x")
    rc = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "-q", "--no-index", path], check=False
    ).returncode
    shutil.rmtree(repo)
    assert rc in (0, 1), f"git check-ignore failed for {pattern!r} {path!r}"
    return rc == 0


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matches_git_check_ignore(tmp_path: Path, pattern: str) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    co = parse(f"{pattern} @o\n")
    assert co.errors == ()
    disagreements = [
        (path, co.owners_of(path) == ("@o",))
        for path in PATHS
        if (co.owners_of(path) == ("@o",)) != _git_ignores(tmp_path, pattern, path)
    ]
    assert disagreements == [], f"{pattern!r}: (path, ours) where git disagrees"


def test_lone_star_is_where_github_departs_from_git(tmp_path: Path) -> None:
    """Documented difference: keep it visible so nobody 'fixes' it towards gitignore."""
    co = parse("docs/* @o\n")
    assert co.owners_of("docs/a/b.md") == ()
    assert _git_ignores(tmp_path, "docs/*", "docs/a/b.md") is True
