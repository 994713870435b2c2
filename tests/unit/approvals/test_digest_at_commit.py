"""``release_digest_at``: the release digest of a directory as committed equals the digest of
the same directory checked out (governance.digest's definition), from real git objects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from governance.approvals.gitfiles import release_digest_at
from governance.digest import release_digest
from governance.errors import Undecided


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "core.autocrlf", "false")
    rel = tmp_path / "releases" / "m" / "r1"
    (rel / "evidence" / "deep").mkdir(parents=True)
    (rel / "release.yaml").write_bytes(b"release_id: r1\r\nnote: crlf\r\n")
    (rel / "model-card.yaml").write_text("purpose: x\n")
    (rel / "evidence" / "eval.bin").write_bytes(bytes(range(256)) + b"\r\n")
    (rel / "evidence" / "deep" / "b.json").write_text('{"a": 1}\n')
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "r1")
    return tmp_path


def test_digest_at_a_commit_equals_the_checked_out_digest(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    expected = release_digest(repo / "releases" / "m" / "r1").value
    assert release_digest_at(repo, head, "releases/m/r1") == expected
    assert release_digest_at(repo, head, "releases/m/nope") is None


def test_a_changed_file_changes_the_digest_at_the_new_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "releases/m/r1/model-card.yaml").write_text("purpose: y\n")
    git(repo, "commit", "-qam", "edit")
    second = git(repo, "rev-parse", "HEAD")
    a = release_digest_at(repo, first, "releases/m/r1")
    b = release_digest_at(repo, second, "releases/m/r1")
    assert a != b and b == release_digest(repo / "releases" / "m" / "r1").value


def test_a_committed_symbolic_link_is_refused(repo: Path) -> None:
    os.symlink("/etc/passwd", repo / "releases/m/r1/evidence/link")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with pytest.raises(Undecided, match="not a regular file"):
        release_digest_at(repo, git(repo, "rev-parse", "HEAD"), "releases/m/r1")


def test_a_commit_missing_from_the_clone_is_undecided(repo: Path) -> None:
    with pytest.raises(Undecided, match="not in the local clone"):
        release_digest_at(repo, "f" * 40, "releases/m/r1")
