from __future__ import annotations

from governance.ledger import entries, verify_repo
from tests.integration.ledger.conftest import Ledger


def test_honest_ledger_verifies(ledger: Ledger) -> None:
    report = verify_repo(ledger.root)
    assert report.failure is None, report.failure
    assert report.events == 7
    rows = list(entries(ledger.root))
    assert [e.seq for e in rows] == list(range(7))


def test_signer_principal(ledger: Ledger) -> None:
    import pytest

    from governance.errors import Denied
    from governance.ledger import signer_principal

    assert signer_principal(ledger.root, signing_key=ledger.keys.path("ci")) == "governance-ci"
    with pytest.raises(Denied, match="unknown signing key"):
        signer_principal(ledger.root, signing_key=ledger.keys.path("mallory"))


def test_entries_incremental_and_checkpoint_cover(ledger: Ledger) -> None:
    from governance.ledger.verified import VerifiedLedger

    rows = list(entries(ledger.root))
    with VerifiedLedger(ledger.root) as verified:  # read again from git, from seq 4 on
        later = list(verified.entries(4))
    assert [e.seq for e in later] == [4, 5, 6]
    assert later[0] == rows[4]
    # approval (seq 4) and promotion (seq 5) cut checkpoints; seq 6 has none yet
    assert rows[4].checkpoint is not None and rows[4].checkpoint.split("\n")[1] == "5"
    assert rows[1].checkpoint == rows[4].checkpoint  # first checkpoint at or after them
    assert rows[6].checkpoint is None
    assert rows[0].checkpoint is not None and rows[0].checkpoint.split("\n")[1] == "1"
