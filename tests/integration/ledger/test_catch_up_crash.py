"""A catch-up interrupted between the verified chain and the query index, and a chain file that
lost its last catch-up (what a power loss may do to ``synchronous=NORMAL``): the next query
answers from the verified ledger, the index catches up, and nothing is reported as tampered.

The chain is committed first, then the index (a cache); a process that
dies in between leaves the index behind the chain, never ahead of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from governance.audit.index import INDEX_FILE, open_index
from governance.audit.queries import live_release_at
from governance.ledger.reader import ledger_source
from governance.ledger.verified import VerifiedLedger, chain_path
from governance.timeparse import parse_time
from tests.integration.ledger.conftest import Ledger, promote_to_staging

FAR = parse_time("2100-01-01T00:00:00Z")
REPO = Path(__file__).resolve().parents[3]


def _query(root: Path) -> tuple[int, str]:
    """(index head seq, release live in staging) through the verified reader."""
    with ledger_source(root) as source, open_index(root, source) as index:
        state = index.state()
        assert state is not None
        return state.seq, live_release_at(index.conn, "fraud-risk", "staging", FAR).release_id


def test_a_process_killed_after_the_chain_commit_leaves_the_index_behind(
        ledger: Ledger, capfd: pytest.CaptureFixture[str]) -> None:
    assert _query(ledger.root) == (6, "r1")
    promote_to_staging(ledger, "r2")
    # a query process dies (no clean-up at all) once the chain is committed, while it writes
    # the index rows of the new events
    crash = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from governance.audit import index
        from governance.ledger.reader import ledger_source

        def die(self, source, state):
            source.head()  # the verified chain is caught up and committed by now
            os._exit(9)

        index.AuditIndex._append = die
        root = Path(sys.argv[1])
        index.open_index(root, ledger_source(root))
    """)
    proc = subprocess.run([sys.executable, "-c", crash, str(ledger.root)], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    with VerifiedLedger(ledger.root) as verified:
        stored = verified._stored_tip()
    assert stored is not None and stored.seq == 9  # the chain got there
    capfd.readouterr()
    assert _query(ledger.root) == (9, "r2")  # the index caught up from the chain
    assert "warning" not in capfd.readouterr().err  # nothing rebuilt, nothing tampered


def test_a_chain_file_one_catch_up_behind_the_index_is_caught_up_again(
        ledger: Ledger, capfd: pytest.CaptureFixture[str]) -> None:
    assert _query(ledger.root) == (6, "r1")
    with VerifiedLedger(ledger.root) as verified:
        chain = chain_path(verified.store)
    saved = ledger.root / "chain-at-6.sqlite"
    shutil.copyfile(chain, saved)
    promote_to_staging(ledger, "r2")
    assert _query(ledger.root) == (9, "r2")
    # the chain's last transaction lost (as a power loss may lose it), the index's kept
    for suffix in ("-wal", "-shm"):
        Path(str(chain) + suffix).unlink(missing_ok=True)
    shutil.copyfile(saved, chain)
    capfd.readouterr()
    assert _query(ledger.root) == (9, "r2")
    assert "warning" not in capfd.readouterr().err
    with VerifiedLedger(ledger.root) as verified:
        stored = verified._stored_tip()
    assert stored is not None and stored.seq == 9


def test_an_index_ahead_of_a_chain_started_again_is_kept_when_it_matches(
        ledger: Ledger, capfd: pytest.CaptureFixture[str]) -> None:
    promote_to_staging(ledger, "r2")
    assert _query(ledger.root) == (9, "r2")
    with VerifiedLedger(ledger.root) as verified:
        chain = chain_path(verified.store)
    for suffix in ("", "-wal", "-shm"):
        Path(str(chain) + suffix).unlink(missing_ok=True)
    index = ledger.root / INDEX_FILE
    before = index.stat().st_mtime_ns
    capfd.readouterr()
    assert _query(ledger.root) == (9, "r2")  # the chain verified again from the genesis
    assert "warning" not in capfd.readouterr().err
    assert index.stat().st_mtime_ns == before  # the index needed nothing


def test_the_index_catches_up_without_reading_its_last_row_back_from_git(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """Once the verified chain holds the index's last row, the index takes only the events
    after it (the newly verified ones, from memory); a last row the chain does not hold is
    still reported and the index rebuilt."""
    assert _query(ledger.root) == (6, "r1")
    promote_to_staging(ledger, "r2")

    def no_git(self: VerifiedLedger, seq: int) -> None:
        raise AssertionError(f"seq {seq} read back from git")

    monkeypatch.setattr(VerifiedLedger, "_event_at", no_git)
    assert _query(ledger.root) == (9, "r2")
    monkeypatch.undo()
    # an index whose last row the chain does not hold: rebuilt, never believed
    import sqlite3

    conn = sqlite3.connect(ledger.root / INDEX_FILE)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'last_leaf'", ("00" * 32,))
    conn.commit()
    conn.close()
    ledger.append("release_retired", model_name="fraud-risk", release_id="r1",
                  reason="superseded")
    capfd.readouterr()
    assert _query(ledger.root) == (10, "r2")
    assert "does not match the verified ledger at seq 9" in capfd.readouterr().err
