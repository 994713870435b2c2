"""The CLI's one ledger entry point: wired to governance.ledger.store, lazily."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from governance.audit.source import IterableLedgerSource
from governance.cli.commands_audit import read_ledger
from governance.errors import ConfigurationError
from tests.support.histories import SyntheticLedger, generate_entries


@pytest.fixture
def fake_store(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("governance.ledger.store")
    package = types.ModuleType("governance.ledger")
    package.store = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "governance.ledger", package)
    monkeypatch.setitem(sys.modules, "governance.ledger.store", module)
    return module


def test_read_entries_is_wrapped(fake_store: types.ModuleType, tmp_path: Path) -> None:
    entries = list(generate_entries(models=2, releases_per_model=1))
    seen: list[Path] = []

    def read_entries(root: Path):  # type: ignore[no-untyped-def]
        seen.append(root)
        return iter(entries)

    fake_store.read_entries = read_entries  # type: ignore[attr-defined]
    source = read_ledger(tmp_path)
    assert isinstance(source, IterableLedgerSource)
    head = source.head()
    assert head is not None and head.seq == entries[-1].seq and seen == [tmp_path]
    assert [e.seq for e in source.entries(5)][:2] == [5, 6]


def test_a_cheap_ledger_source_is_preferred(fake_store: types.ModuleType, tmp_path: Path) -> None:
    ledger = SyntheticLedger([])
    fake_store.ledger_source = lambda root: ledger  # type: ignore[attr-defined]
    fake_store.read_entries = lambda root: pytest.fail("should not replay")  # type: ignore[attr-defined]
    assert read_ledger(tmp_path) is ledger


def test_missing_store_is_undecided(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "governance.ledger.store", None)
    with pytest.raises(ConfigurationError, match="ledger store is not available"):
        read_ledger(tmp_path)
