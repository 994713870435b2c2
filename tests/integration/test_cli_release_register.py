"""``governance release register`` end to end: the tool computes the digest of the release as
committed on the protected branch and records ``release_registered`` (issue 15 item 4).

Real git, real ssh-keygen keys, the real ledger. Idempotent for the same digest; a different
digest is refused unless amended before anything acted on the release.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None or shutil.which("git") is None,
                                reason="needs git and ssh-keygen")
MODEL = "fraud-risk"
RID = f"{MODEL}-2026-04-10-01"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if "json" in args else result.output


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for who in ("alice", "bob"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f",
                        str(tmp_path / who)], check=True, stdin=subprocess.DEVNULL)
    root = tmp_path / "repo"
    assert run("init", str(root), "--origin", "example.com/acme/models")[0] == 0
    monkeypatch.chdir(root)
    for args in (("alice", "--name", "Alice", "--email", "alice@example.com", "--key",
                  str(tmp_path / "alice.pub"), "--role", "ml_lead", "--role",
                  "platform_owner", "--role", "risk_owner", "--rotator"),
                 ("bob", "--name", "Bob", "--email", "bob@example.com", "--key",
                  str(tmp_path / "bob.pub"))):
        code, out = run("people", "add", *args)
        assert code == 0, out
    assert run("model", "new", MODEL, "--owner", "alice")[0] == 0
    ev = tmp_path / "eval.json"
    ev.write_text(json.dumps({"metrics": {"auc": 0.93}, "evaluated_at": "2026-04-09T10:00:00Z"}))
    code, out = run("release", "new", "--model", MODEL, "--version", "2026-04-10",
                    "--from-eval", str(ev), "--trained-by", "bob")
    assert code == 0, out
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release")
    monkeypatch.setenv("GOVERNANCE_LEDGER_SIGNING_KEY", str(tmp_path / "alice"))
    assert run("ledger", "init")[0] == 0
    monkeypatch.setenv("GOVERNANCE_LEDGER_SIGNING_KEY", str(tmp_path / "bob"))
    return root


def _registrations() -> list[dict[str, object]]:
    code, out = run("ledger", "log", "--type", "release_registered", "--format", "json")
    assert code == 0, out
    return [e["event"] for e in json.loads(out)]


def test_register_records_the_computed_digest_once(repo: Path) -> None:
    code, out = run("release", "register", RID, "--format", "json")
    assert code == 0, out
    done = json.loads(out)
    code, digest = run("digest", f"releases/{MODEL}/{RID}")
    assert done["state"] == "registered" and done["release_digest"] == digest.strip()
    events = _registrations()
    assert len(events) == 1
    assert events[0]["release_digest"] == digest.strip()
    assert events[0]["actor_id"] == "bob"
    assert events[0]["details"] == {"commit": git(repo, "rev-parse", "HEAD"),
                                    "path": f"releases/{MODEL}/{RID}"}
    # a re-run (a re-run workflow) changes nothing and passes
    code, out = run("release", "register", RID)
    assert code == 0, out
    assert f"{RID} already registered at seq 1 with {digest.strip()}" in out
    assert len(_registrations()) == 1
    assert run("ledger", "verify")[0] == 0


def test_register_binds_only_committed_content_on_the_protected_branch(repo: Path) -> None:
    card = repo / "releases" / MODEL / RID / "model-card.yaml"
    card.write_text(card.read_text() + "# edited, not committed\n")
    code, out = run("release", "register", RID)
    assert code == 1, out
    assert "not committed" in out and "model-card.yaml (modified)" in out
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "commit", "-q", "--allow-empty", "-m", "on a branch")
    code, out = run("release", "register", RID)
    assert code == 1, out
    assert "binds what is merged on the protected branch 'main'" in out
    assert _registrations() == []
    code, out = run("release", "register", "no-such-release")
    assert code == 1 and "unknown release" in out


def test_a_changed_digest_is_refused_unless_amended_before_anything_acted(repo: Path) -> None:
    assert run("release", "register", RID)[0] == 0
    card = repo / "releases" / MODEL / RID / "model-card.yaml"
    card.write_text(card.read_text() + "# a reviewer's fix, merged later\n")
    git(repo, "commit", "-qam", "edit the release")
    code, out = run("release", "register", RID)
    assert code == 1, out
    assert "was registered at seq 1 with digest sha256:" in out
    assert "--amend --reason" in out
    code, out = run("release", "register", RID, "--amend")
    assert code == 2 and "--amend needs --reason" in out
    code, out = run("release", "register", RID, "--amend", "--reason", "card typo fixed")
    assert code == 0, out
    assert "registered (amended) at seq 2" in out
    events = _registrations()
    assert events[1]["details"]["supersedes"] == events[0]["release_digest"]  # type: ignore[index]
    assert events[1]["reason"] == "card typo fixed"


def test_amend_is_refused_once_an_approval_acted_on_the_digest(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("release", "register", RID)[0] == 0
    monkeypatch.setenv("GOVERNANCE_LEDGER_SIGNING_KEY", str(tmp_path / "alice"))
    code, out = run("approve", RID, "--role", "ml_lead")
    assert code == 0, out
    card = repo / "releases" / MODEL / RID / "model-card.yaml"
    card.write_text(card.read_text() + "# changed after approval\n")
    git(repo, "commit", "-qam", "edit the approved release")
    code, out = run("release", "register", RID, "--amend", "--reason", "late change")
    assert code == 1, out
    assert "cannot be amended: approval_granted at seq 2" in out
    assert "open a new release" in out
    assert len(_registrations()) == 1
