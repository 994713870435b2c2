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
