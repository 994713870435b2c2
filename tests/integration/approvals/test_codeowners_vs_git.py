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


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("ignore-repo")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "core.ignorecase", "false"], check=True)
    return repo


def _git_ignored(repo: Path, pattern: str, paths: list[str]) -> dict[str, bool]:
    """Ask git which ``paths`` (files: nothing exists on disk) ``pattern`` ignores."""
    (repo / ".gitignore").write_text(pattern + "\n")
    out = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    fields = out.stdout.split("\0")
    # -z -v -n: source, line, pattern, path for every path; empty source = not ignored
    result = {}
    for i in range(0, len(fields) - 1, 4):
        source, _, _, path = fields[i : i + 4]
        result[path] = bool(source)
    assert set(result) == set(paths)
    return result


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matches_git_check_ignore(scratch_repo: Path, pattern: str) -> None:
    co = parse(f"{pattern} @o\n")
    assert co.errors == ()
    git = _git_ignored(scratch_repo, pattern, PATHS)
    assert any(git.values()) and not all(git.values()), "the sample must discriminate"
    disagreements = [
        (path, co.owners_of(path) == ("@o",))
        for path in PATHS
        if (co.owners_of(path) == ("@o",)) != git[path]
    ]
    assert disagreements == [], f"{pattern!r}: (path, ours) where git disagrees"


def test_lone_star_is_where_github_departs_from_git(scratch_repo: Path) -> None:
    """Documented difference: keep it visible so nobody 'fixes' it towards gitignore."""
    co = parse("docs/* @o\n")
    assert co.owners_of("docs/a/b.md") == ()
    assert co.owners_of("docs/a.md") == ("@o",)
    assert _git_ignored(scratch_repo, "docs/*", ["docs/a/b.md", "docs/a.md"]) == {
        "docs/a/b.md": True,
        "docs/a.md": True,
    }
