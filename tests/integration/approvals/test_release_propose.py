"""`release propose` against the fake GitHub: opens one PR, then updates it and its one comment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governance.approvals.github import GitHubSettings, GitHubSource
from governance.approvals.propose import MARKER, build_proposal, propose
from governance.errors import Denied, Undecided
from governance.repo import GovernedRepo
from tests.support.fake_github import FakeGitHub, Fault

RELEASE = "fraud-risk-2026-03-28-01"
TOKEN = "ghp_propose-secret-000"


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture
def governed(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the reference governed history in a git repo with a bare 'origin'."""
    root = tmp_path / "models"
    root.mkdir()
    for name in ("governance.yaml", "releases", "environments"):
        src = repo_root / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            shutil.copy2(src, root / name)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "history")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    _git(root, "remote", "add", "origin", str(origin))
    return root


def _source(fake: FakeGitHub) -> GitHubSource:
    settings = GitHubSettings(
        repository="acme/models",
        api_url=fake.url,
        timeout=2,
        retries=0,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return GitHubSource(settings, TOKEN)


def test_proposal_text_from_evidence(governed: Path) -> None:
    p = build_proposal(GovernedRepo(governed), RELEASE)
    assert p.branch == f"release/fraud-risk/{RELEASE}"
    assert p.base == "main"
    assert "| metric | this release | baseline | change |" in p.body
    assert "baseline: fraud-risk-2026-02-14-01" in p.body
    assert "trained by: dana" in p.body
    assert p.comment.startswith(MARKER)
    assert "`risk_owner`" in p.comment and "@jane.smith" in p.comment


def test_propose_opens_then_updates_one_pr_and_one_comment(
    governed: Path, fake_github: FakeGitHub
) -> None:
    source = _source(fake_github)
    first = propose(governed, RELEASE, source)
    assert _git(governed.parent / "origin.git", "rev-parse", f"refs/heads/{first.branch}") == _git(
        governed, "rev-parse", "HEAD"
    )
    gates = {"decision": "allow", "gates": [{"id": "metric-minimums", "allowed": True}]}
    second = propose(governed, RELEASE, source, gates=gates)
    source.close()
    assert second.number == first.number and second.comment_id == first.comment_id
    assert len(fake_github.pulls) == 1
    assert len(fake_github.comments[first.number]) == 1
    assert "metric-minimums: pass" in fake_github.comments[first.number][0]["body"]
    posts = [r for r in fake_github.requests if r[0] == "POST"]
    assert posts == [
        ("POST", "/repos/acme/models/pulls"),
        ("POST", f"/repos/acme/models/issues/{first.number}/comments"),
    ]
    assert ("PATCH", f"/repos/acme/models/pulls/{first.number}") in fake_github.requests


def test_propose_api_failure_is_undecided(governed: Path, fake_github: FakeGitHub) -> None:
    fake_github.faults.append(Fault("500", r"/pulls$", method="POST"))
    source = _source(fake_github)
    with pytest.raises(Undecided, match="HTTP 500") as err:
        propose(governed, RELEASE, source)
    assert TOKEN not in err.value.diagnostics()
    assert fake_github.pulls == {}


def test_cli_subprocess(governed: Path, fake_github: FakeGitHub) -> None:
    env = dict(
        os.environ,
        GITHUB_TOKEN=TOKEN,
        GITHUB_API_URL=fake_github.url,
        GITHUB_REPOSITORY="acme/models",
    )
    cmd = [sys.executable, "-m", "governance", "release", "propose", RELEASE, "--format", "json"]
    out = subprocess.run(cmd, cwd=governed, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pull_request"] == 1
    assert TOKEN not in out.stdout + out.stderr
    # no token: exit 3 with a hint, nothing pushed to GitHub
    env.pop("GITHUB_TOKEN")
    out = subprocess.run(cmd, cwd=governed, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 3 and "GITHUB_TOKEN is not set" in out.stderr


def test_uncommitted_release_is_refused(governed: Path, fake_github: FakeGitHub) -> None:
    card = next((governed / "releases" / "fraud-risk").glob(f"{RELEASE}/model-card.yaml"))
    card.write_text(card.read_text() + "# edited\n")
    source = _source(fake_github)
    with pytest.raises(Denied, match="uncommitted changes"):
        propose(governed, RELEASE, source)
    source.close()
    assert fake_github.requests == []
