"""Git-native approvals: ledger ``approval_granted`` / ``approval_denied`` events as counting facts.

Owns the translation of signed ledger events (DESIGN section 7 field names) into
``SignedApproval`` values for ``counting.decide`` (``--approvals git``). The ledger has already
verified each event's signature and that the signer's principal is ``actor_id``; what is left
to the counting rules is whether that principal holds the role and whether the approved digest
is still the release's digest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from governance.approvals.counting import SignedApproval
from governance.domain.event_types import APPROVAL_DENIED, APPROVAL_GRANTED
from governance.domain.events import EventView
from governance.errors import Tampered
from governance.timeparse import TimeFormatError, parse_instant

APPROVAL_EVENTS = {APPROVAL_GRANTED: True, APPROVAL_DENIED: False}


def _when(entry: EventView) -> datetime:
    """The approval's instant. A timestamp without an offset is refused, not taken as UTC (the
    ledger schema requires ``Z``, so only a ledger that bypassed it could carry one)."""
    try:
        return parse_instant(entry.timestamp)
    except TimeFormatError as err:
        raise Tampered(f"ledger event {entry.event_id} ({entry.event_type}): timestamp {err}"
                       ) from None


def signed_approvals(
    entries: Iterable[EventView],
    release_id: str,
    *,
    environment: str | None = None,
    verified: bool = True,
) -> tuple[SignedApproval, ...]:
    """Approval events for ``release_id`` (and ``environment`` when an event names one).

    ``verified`` is the outcome of the ledger's verification of these entries; pass False when
    it did not verify, and no event will count.
    """
    out = []
    for entry in entries:
        granted = APPROVAL_EVENTS.get(entry.event_type)
        event = entry.event
        if granted is None or event.get("release_id") != release_id:
            continue
        source = event.get("source") or {}
        if isinstance(source, dict) and ("review_id" in source or source.get("kind") == "github"):
            # a GitHub review recorded by CI: evidence of that review (counted through
            # `--approvals github`), not an approval signed by the approver themselves
            continue
        scoped = event.get("environment")
        if environment is not None and scoped not in (None, environment):
            continue
        out.append(
            SignedApproval(
                event_id=entry.event_id,
                actor=str(event.get("actor_id") or ""),
                role=str(event.get("actor_role") or ""),
                release_digest=str(event.get("release_digest") or ""),
                timestamp=_when(entry),
                granted=granted,
                verified=verified and bool(event.get("actor_id")),
            )
        )
    return tuple(out)
