"""``governance people`` and ``governance keys`` end to end: a scaffolded repository, real git,
real ssh-keygen keys, the real ledger.

Covers issue 15 item 3: governance.yaml edited with its comments and order kept, validated
before it is written, CODEOWNERS regenerated, the ledger's trust changed by a ``key_rotated``
signed by a rotator (or the command a rotator runs printed), refusals with their reasons, and a
retired key still valid for the events it signed before while new ones are refused.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None or shutil.which("git") is None,
                                reason="needs git and ssh-keygen")
SCAFFOLD = Path(__file__).resolve().parents[2] / "governance" / "scaffold" / "governance.yaml"
ORIGIN = "example.com/acme/models"


def run(*args: str, signer: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None
        ) -> tuple[int, str]:
    if monkeypatch is not None:
        if signer is None:
            monkeypatch.delenv("GOVERNANCE_LEDGER_SIGNING_KEY", raising=False)
        else:
            monkeypatch.setenv("GOVERNANCE_LEDGER_SIGNING_KEY", str(signer))
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    # JSON is read from stdout alone (logs go to stderr)
    return result.exit_code, result.stdout if "json" in args else result.output


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True, stdin=subprocess.DEVNULL)
    return path


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    d = tmp_path / "keys"
    d.mkdir()
    for who in ("alice", "bob", "carol", "dave", "bob2"):
        keygen(d / who, who)
    return d


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    code, out = run("init", str(root), "--origin", ORIGIN)
    assert code == 0, out
    monkeypatch.chdir(root)
    return root


def _comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def test_people_add_keeps_comments_and_order_and_lists(repo: Path, keys: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("people", "add", "alice", "--name", "Alice Adams", "--email",
                    "alice@example.com", "--key", str(keys / "alice.pub"), "--role", "ml_lead",
                    "--role", "platform_owner", "--rotator")
    assert code == 0, out
    assert "added alice (roles ml_lead, platform_owner; rotator; key SHA256:" in out
    assert "ledger: none yet" in out
    code, out = run("people", "add", "bob", "--name", "Bob", "--email", "bob@example.com",
                    "--key", str(keys / "bob.pub"), "--role", "risk_owner")
    assert code == 0, out
    code, out = run("keys", "add", "bob", str(keys / "bob2.pub"))
    assert code == 0, out
    text = (repo / "governance.yaml").read_text()
    # every comment of the scaffold is still there, in the same order
    assert _comments(text) == _comments(SCAFFOLD.read_text())
    # the top-level order is the scaffold's
    top = [ln.split(":")[0] for ln in text.splitlines() if re.match(r"^[a-z_A-Z]+:", ln)]
    scaffold_top = [ln.split(":")[0] for ln in SCAFFOLD.read_text().splitlines()
                    if re.match(r"^[a-z_A-Z]+:", ln)]
    assert top == scaffold_top
    # the people come before the commented example, which stays after the list
    assert text.index("- id: bob") < text.index("#  - id: jane.smith") < text.index("bots:")
    assert "members: [alice]" in text and "rotators: [alice]" in text
    assert run("validate")[0] == 0
    code, out = run("people", "list", "--format", "json")
    assert code == 0, out
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["alice"]["roles"] == ["ml_lead", "platform_owner"]
    assert rows["alice"]["rotator"] is True and rows["bob"]["rotator"] is False
    assert rows["bob"]["keys"] == [fingerprint(keys / "bob.pub"), fingerprint(keys / "bob2.pub")]
    code, out = run("people", "list")
    assert code == 0 and "alice" in out and "[rotator]" in out and fingerprint(
        keys / "alice.pub") in out


def test_refusals_are_located_and_write_nothing(repo: Path, keys: Path) -> None:
    assert run("people", "add", "alice", "--name", "A", "--email", "alice@example.com",
               "--key", str(keys / "alice.pub"), "--role", "platform_owner", "--rotator")[0] == 0
    before = (repo / "governance.yaml").read_bytes()
    # an edit that would not validate: the located schema message, nothing written
    code, out = run("people", "add", "bob", "--name", "Bob", "--email", "not-an-email",
                    "--key", str(keys / "bob.pub"))
    assert code == 1, out
    assert re.search(r"governance\.yaml:\d+ \$\.people\[1\]\.email: ", out), out
    assert "nothing was written" in out
    # the same login in another case, and the same key under another name
    code, out = run("people", "add", "Alice", "--name", "A", "--email", "a2@example.com")
    assert code == 1 and "already listed" in out
    code, out = run("people", "add", "bob", "--name", "B", "--email", "bob@example.com",
                    "--key", str(keys / "alice.pub"))
    assert code == 1 and "already belongs to 'alice'" in out
    code, out = run("people", "add", "bob", "--name", "B", "--email", "bob@example.com",
                    "--role", "no_such_role")
    assert code == 1 and "role 'no_such_role' is not defined" in out
    # a private key is refused without echoing it
    code, out = run("people", "add", "bob", "--name", "B", "--email", "bob@example.com",
                    "--key", str(keys / "bob"))
    assert code == 1 and "this is a private key" in out and "PRIVATE" not in out
    code, out = run("keys", "retire", "alice", "not-a-fingerprint")
    assert code == 2, out
    code, out = run("keys", "retire", "nobody", "SHA256:abc")
    assert code == 1 and "'nobody' is not a person or bot" in out
    # the last member of a required role, the last rotator
    code, out = run("people", "remove", "alice")
    assert code == 1
    assert "last member of role 'platform_owner', required by production" in out
    assert "last rotator" in out
    # the only rotator's only key
    code, out = run("keys", "retire", "alice", fingerprint(keys / "alice.pub"))
    assert code == 1 and "no other rotator has a key" in out
    assert (repo / "governance.yaml").read_bytes() == before


def test_codeowners_is_regenerated_when_present(repo: Path, keys: Path) -> None:
    assert run("codeowners", "generate")[0] == 0
    code, out = run("people", "add", "carol", "--name", "Carol", "--email",
                    "carol@example.com", "--key", str(keys / "carol.pub"), "--role",
                    "risk_owner")
    assert code == 0, out
    assert ".github/CODEOWNERS: regenerated" in out
    assert "@carol" in (repo / ".github" / "CODEOWNERS").read_text()
    assert run("codeowners", "check")[0] == 0


def _ledger_repo(repo: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alice (rotator, platform_owner, ml_lead) and bob (risk_owner), then the genesis."""
    for args in (("alice", "--name", "Alice", "--email", "alice@example.com", "--key",
                  str(keys / "alice.pub"), "--role", "ml_lead", "--role", "platform_owner",
                  "--rotator"),
                 ("bob", "--name", "Bob", "--email", "bob@example.com", "--key",
                  str(keys / "bob.pub"), "--role", "risk_owner")):
        code, out = run("people", "add", *args)
        assert code == 0, out
    assert f"origin: {ORIGIN}" in (repo / "governance.yaml").read_text()  # written by init
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "governed repository")
    code, out = run("ledger", "init", signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 0, out


def test_rotator_records_key_rotated_and_others_get_the_command(
        repo: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger_repo(repo, keys, monkeypatch)
    # bob is no rotator: the file changes, the ledger does not, the command is named
    code, out = run("people", "add", "carol", "--name", "Carol", "--email", "carol@example.com",
                    "--key", str(keys / "carol.pub"), "--role", "risk_owner",
                    signer=keys / "bob", monkeypatch=monkeypatch)
    assert code == 0, out
    assert "ledger: NOT recorded yet ('bob' is not a rotator" in out
    assert f"add person carol <carol@example.com> ({fingerprint(keys / 'carol.pub')})" in out
    assert "set role risk_owner to bob, carol" in out
    assert "a rotator records them with: governance people sync" in out
    code, out = run("ledger", "log", "--format", "json")
    assert [e["event_type"] for e in json.loads(out)] == ["ledger_genesis"]
    code, out = run("people", "list")
    assert code == 0, out
    assert "ledger: these changes of governance.yaml are not recorded yet" in out
    assert "  - add person carol" in out
    code, out = run("people", "sync", signer=keys / "bob", monkeypatch=monkeypatch)
    assert code == 1 and "'bob' is not a rotator" in out
    assert "pending:\n  - add person carol" in out
    # no signing key at all: still pending, with the reason
    code, out = run("people", "add", "dave", "--name", "Dave", "--email", "dave@example.com",
                    "--key", str(keys / "dave.pub"), "--format", "json", monkeypatch=monkeypatch)
    assert code == 0, out
    doc = json.loads(out)
    assert doc["ledger"]["state"] == "pending"
    assert doc["ledger"]["command"] == "governance people sync"
    assert "--type key_rotated" in doc["ledger"]["ledger_append"]
    # the rotator records both pending additions in one key_rotated
    code, out = run("people", "sync", signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 0, out
    assert "recorded key_rotated (seq 1) signed by alice" in out
    code, out = run("people", "sync", signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 0 and "already matches" in out
    assert "ledger: its trust matches governance.yaml" in run("people", "list")[1]
    # carol can now sign (her key is in the ledger's trust from seq 2)
    code, out = run("ledger", "append", "--type", "model_registered", "--field",
                    "model_name=fraud-risk", signer=keys / "carol", monkeypatch=monkeypatch)
    assert code == 0, out
    # a rotator's own edit is recorded at once; the signer found as for every append, here
    # through git's own configuration (gpg.format=ssh, user.signingkey)
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(keys / "alice"))
    code, out = run("people", "remove", "dave", monkeypatch=monkeypatch)
    assert code == 0, out
    assert "recorded key_rotated (seq 3) signed by alice" in out
    assert "remove dave" in out
    code, out = run("ledger", "verify")
    assert code == 0, out
    state = json.loads(git(repo, "show", "governance/ledger:trust/state.json"))
    assert state["lifecycle"]["roles"]["risk_owner"] == ["bob", "carol"]
    assert {s["principal"]: s["removed_at"] for s in state["signers"]}["dave"] == 4


def test_retired_key_stays_valid_for_earlier_events_only(
        repo: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger_repo(repo, keys, monkeypatch)
    # bob signs with his first key, then gets a second one and retires the first
    code, out = run("ledger", "append", "--type", "model_registered", "--field",
                    "model_name=fraud-risk", signer=keys / "bob", monkeypatch=monkeypatch)
    assert code == 0 and "seq 1" in out, out
    code, out = run("keys", "add", "bob", str(keys / "bob2.pub"), signer=keys / "alice",
                    monkeypatch=monkeypatch)
    assert code == 0 and "recorded key_rotated (seq 2)" in out, out
    code, out = run("keys", "retire", "bob", fingerprint(keys / "bob.pub"),
                    signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 0, out
    assert "recorded key_rotated (seq 3)" in out
    assert f"retire key {fingerprint(keys / 'bob.pub')} of bob" in out
    assert "bob.pub" not in (repo / "governance.yaml").read_text()
    assert fingerprint(keys / "bob.pub") not in run("people", "list")[1]
    # the event bob signed with the retired key still verifies
    code, out = run("ledger", "verify", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["events"] == 4
    # a new event signed with the retired key is refused; the new key works
    code, out = run("ledger", "append", "--type", "model_registered", "--field",
                    "model_name=other", signer=keys / "bob", monkeypatch=monkeypatch)
    assert code == 1, out
    assert "was retired at seq 4" in out
    code, out = run("ledger", "append", "--type", "model_registered", "--field",
                    "model_name=other", signer=keys / "bob2", monkeypatch=monkeypatch)
    assert code == 0, out
    assert run("ledger", "verify")[0] == 0


def test_keys_log_sets_the_log_key_before_the_genesis_only(
        repo: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "log", "-f",
                    str(keys / "log-key")], check=True, stdin=subprocess.DEVNULL)
    before = (repo / "governance.yaml").read_bytes()
    code, out = run("keys", "log", str(keys / "log-key"))  # the private half
    assert code == 1 and "this is a private key" in out
    assert (repo / "governance.yaml").read_bytes() == before
    code, out = run("keys", "log", str(keys / "log-key.pub"))
    assert code == 0, out
    public = (keys / "log-key.pub").read_text().split()[:2]
    assert f"log_public_key: {' '.join(public)}" in (repo / "governance.yaml").read_text()
    assert "# The signed ledger (docs/ledger.md)." in (repo / "governance.yaml").read_text()
    _ledger_repo(repo, keys, monkeypatch)
    before = (repo / "governance.yaml").read_bytes()
    code, out = run("keys", "log", str(keys / "bob.pub"))
    assert code == 1 and "the ledger exists" in out and "add_log_key" in out
    assert (repo / "governance.yaml").read_bytes() == before


def test_people_roles_changes_membership_and_records_it(
        repo: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger_repo(repo, keys, monkeypatch)  # alice: ml_lead, platform_owner; bob: risk_owner
    code, out = run("people", "roles", "bob", "--remove", "risk_owner",
                    signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 1 and "'bob' is the last member of role 'risk_owner'" in out
    code, out = run("people", "roles", "bob", "--add", "nosuch",
                    signer=keys / "alice", monkeypatch=monkeypatch)
    assert code == 1 and "role 'nosuch' is not defined" in out
    assert run("people", "roles", "bob")[0] == 2
    code, out = run("people", "roles", "Bob", "--add", "ml_lead", signer=keys / "alice",
                    monkeypatch=monkeypatch)
    assert code == 0, out
    assert "bob: joined ml_lead" in out and "recorded key_rotated (seq 1) signed by alice" in out
    code, out = run("people", "roles", "alice", "--remove", "ml_lead", signer=keys / "alice",
                    monkeypatch=monkeypatch)
    assert code == 0, out
    assert run("ledger", "verify")[0] == 0
    state = json.loads(git(repo, "show", "governance/ledger:trust/state.json"))
    assert state["lifecycle"]["roles"]["ml_lead"] == ["bob"]
    text = (repo / "governance.yaml").read_text()
    assert "# The three approver roles of the seed." in text  # comments kept
