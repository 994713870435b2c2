"""The port through which the query index and the export sinks read the ledger.

Neither the index nor a sink reads git: they are fed ``LedgerEntry`` values in seq order by
whatever implements ``LedgerSource`` (the ledger store in production, a synthetic history in
tests and benchmarks). ``head()`` must be cheap: commands compare it with what they already
indexed or exported and read no entries at all when nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from governance.domain.events import LedgerEntry
from governance.domain.frozen import frozen


@frozen
class LedgerHead:
    """The last entry of the ledger: its seq and the commit that holds it."""

    seq: int
    commit: str


class LedgerSource(Protocol):
    """Read access to the ledger, in seq order."""

    def head(self) -> LedgerHead | None:
        """The ledger's last entry, or None for an empty (uninitialised) ledger."""
        ...

    def entries(self, start_seq: int = 0) -> Iterable[LedgerEntry]:
        """Entries with ``seq >= start_seq`` in ascending seq order."""
        ...


@frozen
class IterableLedgerSource:
    """Adapts a reader that can only replay the whole ledger (``read_entries(root)``).

    ``head()`` then costs a full read; the ledger store should offer a cheaper head when it can.
    """

    read: Callable[[], Iterable[LedgerEntry]]

    def head(self) -> LedgerHead | None:
        last: LedgerEntry | None = None
        for entry in self.read():
            last = entry
        return None if last is None else LedgerHead(last.seq, last.commit)

    def entries(self, start_seq: int = 0) -> Iterator[LedgerEntry]:
        for entry in self.read():
            if entry.seq >= start_seq:
                yield entry
