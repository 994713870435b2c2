"""An answer from the verified prefix of a ledger that fails verification (``--verified-prefix``,
DESIGN section 11): up to which seq it rests on and why the rest does not count, shown by every
format of every read query (``governance.reading`` re-exports both names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.domain.frozen import frozen

if TYPE_CHECKING:
    from governance.domain.source import LedgerSource


@frozen
class PrefixNote:
    """An answer from the verified prefix only: up to which seq, and why the rest is not."""

    verified_through_seq: int
    failed_seq: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"verified_through_seq": self.verified_through_seq, "failed_seq": self.failed_seq,
                "reason": self.reason}

    def line(self) -> str:
        return (f"VERIFIED PREFIX ONLY: seq 0..{self.verified_through_seq}; the ledger fails "
                f"verification at seq {self.failed_seq}: {self.reason}")

    def warning(self) -> str:
        return (f"warning: answered from the verified prefix only (seq "
                f"0..{self.verified_through_seq}); the ledger fails verification at seq "
                f"{self.failed_seq}: {self.reason}")


def prefix_of(source: LedgerSource) -> PrefixNote | None:
    """What an answer from ``source`` must carry, or None for a verified ledger."""
    failure = getattr(source, "failure", None)
    if failure is None:
        return None
    return PrefixNote((failure.seq or 0) - 1, failure.seq, failure.reason)
