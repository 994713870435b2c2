"""The warm read path reads the ledger ref from the files (no git process, no GitPython), and a
ref moved behind the verified chain's back (loose or in packed-refs) is still noticed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from governance.audit.index import answer, open_index
from governance.audit.queries import live_release_at
from governance.ledger.refs import Unresolvable, branch_tip, git_dirs, read_ref
from governance.ledger.verified import LedgerTampered, VerifiedLedger, chain_file, chain_path
from governance.timeparse import parse_time
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import DIGEST, Ledger

BRANCH = "governance/ledger"
FUTURE = parse_time("2100-01-01T00:00:00Z")


def rev_parse(root: Path, ref: str) -> str:
    return forge.git(root, "rev-parse", ref)


def warm(root: Path) -> VerifiedLedger:
    """A verified reader that has caught up, the index built: the next read is warm."""
    with VerifiedLedger(root) as ledger, open_index(root, ledger):
        pass
    return VerifiedLedger(root)


def rewrite_packed(root: Path, old: str, new: str) -> None:
    """Point the packed ledger ref elsewhere by editing packed-refs, as a hand (or a tool
    restoring a backup) would: no git command, no loose ref, no reflog."""
    packed = root / ".git" / "packed-refs"
    text = packed.read_text()
    assert f"{old} refs/heads/{BRANCH}\n" in text
    packed.write_text(text.replace(f"{old} refs/heads/{BRANCH}\n", f"{new} refs/heads/{BRANCH}\n"))


# --- reading refs from the files agrees with git --------------------------------------------
def test_loose_packed_symbolic_and_missing_refs_agree_with_git(ledger: Ledger) -> None:
    root = ledger.root
    dirs = git_dirs(root)
    assert dirs.common_dir == root / ".git"
    tip = rev_parse(root, BRANCH)
    assert read_ref(dirs.common_dir, f"refs/heads/{BRANCH}") == tip
    forge.git(root, "pack-refs", "--all")
    assert not (root / ".git" / "refs" / "heads" / "governance" / "ledger").exists()
    assert read_ref(dirs.common_dir, f"refs/heads/{BRANCH}") == tip
    assert read_ref(dirs.common_dir, "refs/heads/main") == rev_parse(root, "main")
    forge.git(root, "symbolic-ref", "refs/heads/alias", f"refs/heads/{BRANCH}")
    assert read_ref(dirs.common_dir, "refs/heads/alias") == tip
    assert read_ref(dirs.common_dir, "refs/heads/no-such-branch") is None
    # a loose ref overrides the packed one, as in git
    parent = rev_parse(root, f"{BRANCH}~1")
    forge.git(root, "update-ref", f"refs/heads/{BRANCH}", parent)
    assert read_ref(dirs.common_dir, f"refs/heads/{BRANCH}") == parent == rev_parse(root, BRANCH)


def test_linked_worktree_and_gitdir_file(ledger: Ledger, tmp_path: Path) -> None:
    root = ledger.root
    tip = rev_parse(root, BRANCH)
    wt = tmp_path / "linked"
    forge.git(root, "worktree", "add", "-q", "--detach", str(wt))
    dirs, found = branch_tip(wt, BRANCH)
    assert (wt / ".git").is_file() and dirs.common_dir.resolve() == (root / ".git").resolve()
    assert found == tip
    separate = tmp_path / "separate"
    subprocess.run(["git", "clone", "-q", "--separate-git-dir", str(tmp_path / "sep.git"),
                    str(root), str(separate)], check=True, capture_output=True)
    forge.git(separate, "fetch", "-q", "origin", f"{BRANCH}:{BRANCH}")
    dirs, found = branch_tip(separate, BRANCH)
    assert dirs.common_dir.resolve() == (tmp_path / "sep.git").resolve() and found == tip


def test_what_the_files_cannot_say_is_left_to_git(ledger: Ledger,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = ledger.root
    ref = root / ".git" / "refs" / "heads" / "governance" / "ledger"
    good = ref.read_text()
    ref.write_text("not an object id\n")
    with pytest.raises(Unresolvable, match="not an object id"):
        branch_tip(root, BRANCH)
    ref.write_text(good)
    monkeypatch.setenv("GIT_DIR", str(root / ".git"))
    with pytest.raises(Unresolvable, match="environment"):
        branch_tip(root, BRANCH)
    monkeypatch.delenv("GIT_DIR")
    with pytest.raises(Unresolvable, match="no .git"):
        branch_tip(root / "nowhere", BRANCH)


# --- the warm path --------------------------------------------------------------------------
def test_warm_read_needs_no_git(ledger: Ledger) -> None:
    reader = warm(ledger.root)
    with reader:
        head = reader.head()
        assert head is not None and head.commit == rev_parse(ledger.root, BRANCH)
        assert reader._store is None, "a warm read opened the git adapter"
        with open_index(ledger.root, reader) as index:
            live = live_release_at(index.conn, "fraud-risk", "staging", FUTURE)
        assert live.release_id == "r1"
        assert reader._store is None
        # the chain file is the one the git adapter names
        assert chain_file(git_dirs(ledger.root).common_dir, BRANCH).resolve() == \
            chain_path(reader.store).resolve()


def test_new_commit_behind_the_index_is_verified(ledger: Ledger) -> None:
    warm(ledger.root).close()
    ledger.append("release_retired", as_="jane.smith", model_name="fraud-risk",
                  release_id="r2", reason="superseded")
    with VerifiedLedger(ledger.root) as reader:
        head = reader.head()
        assert head is not None and head.commit == rev_parse(ledger.root, BRANCH)
        assert reader._store is not None  # it had something to verify


@pytest.mark.parametrize("packed", [False, True], ids=["loose-ref", "packed-refs"])
def test_ref_moved_back_behind_the_index_is_noticed(ledger: Ledger, packed: bool) -> None:
    root = ledger.root
    warm(root).close()
    tip, parent = rev_parse(root, BRANCH), rev_parse(root, f"{BRANCH}~2")
    if packed:
        forge.git(root, "pack-refs", "--all")
        rewrite_packed(root, tip, parent)
    else:
        forge.set_tip(root, parent)
    assert rev_parse(root, BRANCH) == parent
    with VerifiedLedger(root) as reader, pytest.raises(LedgerTampered, match="rewritten"):
        reader.head()
    with pytest.raises(LedgerTampered, match="rewritten"):
        answer(root, VerifiedLedger(root),
               lambda conn: live_release_at(conn, "fraud-risk", "staging", FUTURE))


@pytest.mark.parametrize("packed", [False, True], ids=["loose-ref", "packed-refs"])
def test_forged_commit_behind_the_index_is_refused(ledger: Ledger, packed: bool) -> None:
    root = ledger.root
    warm(root).close()
    tip = rev_parse(root, BRANCH)
    forged = forge.append_raw(root, ledger.signer("jane.smith"), signed=False)
    if packed:
        forge.set_tip(root, tip)
        forge.git(root, "pack-refs", "--all")
        rewrite_packed(root, tip, forged)
    assert rev_parse(root, BRANCH) == forged
    with VerifiedLedger(root) as reader, \
            pytest.raises(LedgerTampered, match="seq 7: unsigned commit"):
        reader.head()
    with pytest.raises(LedgerTampered, match="seq 7: unsigned commit"):
        answer(root, VerifiedLedger(root),
               lambda conn: live_release_at(conn, "fraud-risk", "staging", FUTURE))


# --- the warm path reads the small tip row, not the whole verified state ----------------------
def _state_rows(root: Path) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(chain_file(git_dirs(root).common_dir, BRANCH))
    try:
        return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM state")}
    finally:
        conn.close()


def _set_state_row(root: Path, key: str, value: str) -> None:
    import sqlite3

    conn = sqlite3.connect(chain_file(git_dirs(root).common_dir, BRANCH))
    try:
        conn.execute("UPDATE state SET value = ? WHERE key = ?", (value, key))
        conn.commit()
    finally:
        conn.close()


def test_warm_read_does_not_parse_the_full_state(ledger: Ledger,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = ledger.root
    warm(root).close()
    rows = _state_rows(root)
    assert set(rows) == {"head", "tip"}
    _set_state_row(root, "head", "{not json")
    with VerifiedLedger(root) as reader:  # warm: the tip row answers, the state is not read
        head = reader.head()
        assert head is not None and head.commit == rev_parse(root, BRANCH)
        assert reader._store is None and not reader.warnings
    # appending needs the full state: an unreadable one is never used, the ledger is verified
    # again from the genesis (said once) and the append lands on the verified tip
    entry = ledger.append("release_retired", as_="jane.smith", model_name="fraud-risk",
                          release_id="r2", reason="superseded")
    assert "verifying the ledger again from the genesis" in capsys.readouterr().err
    with VerifiedLedger(root) as reader:
        head = reader.head()
        assert head is not None and (head.seq, head.commit) == (entry.seq, entry.commit)
    assert _state_rows(root)["head"].startswith("{")


def test_a_tip_row_behind_the_ref_is_caught_up(ledger: Ledger) -> None:
    """The tip row names an older verified commit than the ref: the reader verifies the rest."""
    root = ledger.root
    warm(root).close()
    ledger.append("release_retired", as_="jane.smith", model_name="fraud-risk",
                  release_id="r2", reason="superseded")
    with VerifiedLedger(root) as reader:
        head = reader.head()
        assert head is not None and head.commit == rev_parse(root, BRANCH)
        assert head.seq == 7


# --- the lifecycle replay's items are stored one by one and read as used ----------------------
def test_replay_items_carry_across_catch_ups(ledger: Ledger) -> None:
    """A gate decision verified in one catch-up is found (and its use remembered) by the next:
    the items come from the chain file's replay table, the state row holds none of them."""
    import sqlite3

    root = ledger.root
    warm(root).close()
    conn = sqlite3.connect(chain_file(git_dirs(root).common_dir, BRANCH))
    try:
        kinds = {str(k) for (k,) in conn.execute("SELECT DISTINCT kind FROM replay")}
        head_doc = json.loads(conn.execute("SELECT value FROM state WHERE key = 'head'")
                              .fetchone()[0])
    finally:
        conn.close()
    assert kinds == {"releases", "gates", "live"}
    assert not {"releases", "gates", "live"} & set(head_doc["replay"])
    # an honest gate decision, verified alone; its promotion, verified in the next catch-up
    ledger.append("gate_evaluated", as_="governance-ci", model_name="fraud-risk",
                  release_id="r2", environment="staging", release_digest=DIGEST,
                  decision={"decision_id": "d-2", "allow": True}, actor_id="governance-ci")
    with VerifiedLedger(root) as reader:
        assert reader.head() is not None
    ledger.append("deployment_promoted", as_="governance-ci", model_name="fraud-risk",
                  release_id="r2", environment="staging", release_digest=DIGEST,
                  actor_id="governance-ci")
    with VerifiedLedger(root) as reader:
        head = reader.head()
        assert head is not None and head.commit == rev_parse(root, BRANCH)
    with open_index(root, VerifiedLedger(root)) as index:
        assert live_release_at(index.conn, "fraud-risk", "staging", FUTURE).release_id == "r2"
    # a second promotion on the same (already used) gate decision, validly signed by the CI
    # key: the next catch-up knows the decision was used, from the stored item
    forge.append_raw(root, ledger.signer("governance-ci"), {
        "event_type": "deployment_promoted", "model_name": "fraud-risk", "release_id": "r2",
        "environment": "staging", "release_digest": DIGEST, "actor_id": "governance-ci"})
    with VerifiedLedger(root) as reader, pytest.raises(LedgerTampered, match="already used"):
        reader.head()
    assert json.loads(forge.event_bytes(root, 9))["release_id"] == "r2"


def test_a_chain_file_of_the_previous_version_is_verified_again(ledger: Ledger) -> None:
    """A state written by the code before version 3 (no tip row, the whole replay in the
    head row) is not used: the ledger is verified again and the new rows written."""
    import sqlite3

    root = ledger.root
    warm(root).close()
    path = chain_file(git_dirs(root).common_dir, BRANCH)
    conn = sqlite3.connect(path)
    try:
        doc = json.loads(conn.execute("SELECT value FROM state WHERE key = 'head'").fetchone()[0])
        doc["version"] = 2
        doc["replay"] = {**doc["replay"], "releases": {}, "gates": {}, "live": {}}
        conn.execute("DELETE FROM state WHERE key = 'tip'")
        conn.execute("DELETE FROM replay")
        conn.execute("UPDATE state SET value = ? WHERE key = 'head'", (json.dumps(doc),))
        conn.commit()
    finally:
        conn.close()
    ledger.append("release_retired", as_="jane.smith", model_name="fraud-risk",
                  release_id="r2", reason="superseded")
    with VerifiedLedger(root) as reader:
        head = reader.head()
        assert head is not None and (head.seq, head.commit) == (7, rev_parse(root, BRANCH))
    rows = _state_rows(root)
    assert set(rows) == {"head", "tip"} and json.loads(rows["tip"])["seq"] == 7
