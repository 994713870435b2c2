"""The committed-state rule's git facts (``governance.vcs``) and ``require_committed`` on real
git repositories: what counts as not committed, the tip of a branch, a governed repository in a
subdirectory of its git work tree, content hidden from ``git status``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from governance.committed import require_committed
from governance.errors import Denied
from governance.repo import GovernedRepo
from governance.scaffolding import InitOptions, init_repo
from governance.vcs import branch_tip, uncommitted


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("*.log\n")
    for name in ("kept", "changed", "staged", "gone"):
        (root / "d").mkdir(exist_ok=True)
        (root / "d" / name).write_text(f"{name}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


def test_uncommitted_names_every_kind_of_difference(checkout: Path) -> None:
    assert uncommitted(checkout, ["d"]) == ()
    (checkout / "d" / "changed").write_text("edited\n")
    (checkout / "d" / "staged").write_text("edited\n")
    git(checkout, "add", "d/staged")
    (checkout / "d" / "gone").unlink()
    (checkout / "d" / "new").write_text("new\n")
    (checkout / "d" / "debug.log").write_text("ignored\n")
    found = dict(uncommitted(checkout, ["d"]) or ())
    assert found == {"d/changed": "modified", "d/staged": "staged, not committed",
                     "d/gone": "deleted", "d/new": "untracked",
                     "d/debug.log": "ignored, so never committed"}
    assert uncommitted(checkout, ["elsewhere"]) == ()


def test_uncommitted_outside_git_cannot_tell(tmp_path: Path) -> None:
    assert uncommitted(tmp_path, ["x"]) is None


def test_branch_tip_unborn_checked_out_and_not(checkout: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    first = git(checkout, "rev-parse", "HEAD")
    assert branch_tip(checkout, "main") == first
    git(checkout, "checkout", "-qb", "other")
    (checkout / "d" / "kept").write_text("other\n")
    git(checkout, "commit", "-qam", "on other")
    assert branch_tip(checkout, "main") == first  # refs/heads/main, not HEAD
    assert branch_tip(checkout, "missing") is None
    # a clone of the review branch only: main is origin's
    git(checkout.parent, "clone", "-q", "-b", "other", str(checkout), "clone")
    clone = checkout.parent / "clone"
    assert git(clone, "branch", "--list", "main") == ""
    assert branch_tip(clone, "main") == first
    git(checkout, "checkout", "-q", "--orphan", "fresh")
    assert branch_tip(checkout, "fresh") is None  # unborn: no commit


def _governed_in_subdirectory(tmp_path: Path) -> GovernedRepo:
    top = tmp_path / "mono"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    (top / "README").write_text("a monorepo\n")
    init_repo(top / "gov", InitOptions(subdirectory=True))
    git(top, "add", "-A")
    git(top, "commit", "-qm", "governed repository in gov/")
    return GovernedRepo(top / "gov")


def test_require_committed_in_a_subdirectory_reads_the_committed_config(
        tmp_path: Path) -> None:
    repo = _governed_in_subdirectory(tmp_path)
    state = require_committed(repo, "main", [], action="promote", policies=True)
    assert state.commit == git(repo.root, "rev-parse", "HEAD")
    assert state.policy_tree == git(repo.root, "rev-parse", "HEAD:gov/policies")
    assert state.config == repo.config


def test_require_committed_sees_edits_hidden_from_git_status(tmp_path: Path) -> None:
    repo = _governed_in_subdirectory(tmp_path)
    config = repo.root / "governance.yaml"
    git(repo.root, "update-index", "--assume-unchanged", "governance.yaml")
    config.write_text(config.read_text() + "# hidden\n")
    assert uncommitted(repo.root, ["governance.yaml"]) == ()
    with pytest.raises(Denied) as refused:
        require_committed(repo, "main", [], action="approve")
    assert "here these differ from the commit" in refused.value.message
    assert "governance.yaml (content differs)" in refused.value.message


def test_require_committed_refuses_untracked_policies(tmp_path: Path) -> None:
    repo = _governed_in_subdirectory(tmp_path)
    (repo.root / "policies" / "extra.rego").write_text("package governance.gates\n")
    with pytest.raises(Denied) as refused:
        require_committed(repo, "main", [], action="promote", policies=True)
    assert "gov/policies/extra.rego (untracked)" in refused.value.message
    assert "commit them and merge them into 'main' through review" in refused.value.hint
