"""The ``live`` use case (``governance.reading``'s, loaded when ``live`` runs): which release was
live for a model in an environment at a time, answered from the verified ledger.

Kept apart from ``governance.reading`` so that the other commands do not create its classes at
start-up (a frozen dataclass costs about a millisecond to create; issue 18);
``governance.reading`` re-exports every name here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.audit import queries
from governance.domain.frozen import frozen
from governance.verified_prefix import PrefixNote, prefix_of

if TYPE_CHECKING:
    from governance.service import Service


@frozen
class LiveRequest:
    model: str
    environment: str
    at: datetime
    verified_prefix: bool = False


@frozen
class LiveResult:
    request: LiveRequest
    answer: queries.LiveRelease
    prefix: PrefixNote | None

    def to_json(self) -> dict[str, Any]:
        data = self.answer.to_json()
        if self.prefix is not None:
            data["verified_prefix"] = self.prefix.to_json()
        return data


def live(service: Service, request: LiveRequest) -> LiveResult:
    """Which release was live for the model in the environment at the time."""
    configured = tuple(service.remembered_config().environments)
    source = service.ledger(allow_prefix=request.verified_prefix)
    answer = service.answer(lambda conn: queries.live_release_at(
        conn, request.model, request.environment, request.at, configured=configured),
        source=source)
    return LiveResult(request, answer, prefix_of(source))
