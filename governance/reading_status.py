"""The ``status`` use case (``governance.reading``'s, loaded when ``status`` runs): a typed
request in, the status of each model out, answered from the verified ledger.

Kept apart from ``governance.reading`` so that ``live`` and ``history`` do not create its
classes at start-up (a frozen dataclass costs about a millisecond to create; issue 18);
``governance.reading`` re-exports every name here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.domain.frozen import frozen
from governance.verified_prefix import PrefixNote, prefix_of

if TYPE_CHECKING:
    from governance.service import Service
    from governance.status import ModelStatus


@frozen
class StatusRequest:
    model: str | None  # None: every model
    limit: int | None  # releases listed per model, newest first; None: every one
    verified_prefix: bool = False


@frozen
class StatusResult:
    statuses: tuple[ModelStatus, ...]
    ledger_seq: int  # the head the answer rests on (-1: no ledger yet)
    prefix: PrefixNote | None

    @property
    def drift(self) -> bool:
        """A pointer file disagrees with the ledger somewhere (the command exits 1)."""
        return any(s.drift for s in self.statuses)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"models": [s.to_json() for s in self.statuses],
                               "ledger_seq": self.ledger_seq}
        if self.prefix is not None:
            doc["verified_prefix"] = self.prefix.to_json()
        return doc


def status(service: Service, request: StatusRequest) -> StatusResult:
    """Live release per environment, fallback, drift, open obligations and releases, per
    model (an unknown model is NotFound, exit 1, with a hint)."""
    from governance.status import StatusFiles, model_state, model_summary, status_of
    from governance.status_memo import StatusMemo

    # a read query: governance.yaml as remembered for its exact bytes (governance.config_cache),
    # model.yaml and the pointer files as remembered for theirs (governance.status_memo; the
    # source is only opened here, verified when the index catches up)
    config = service.remembered_config()
    source = service.ledger(allow_prefix=request.verified_prefix)
    memo = StatusMemo.for_source(source)
    governed = StatusFiles(service.root, config, memo)
    models = [request.model] if request.model else governed.model_names()
    if request.model:
        governed.check_model(request.model)
    production = governed.config.production_environment

    def one(conn: Any, model: str) -> ModelStatus:
        summary, state = model_summary(conn, model, production_env=production, memo=memo)
        return status_of(governed, summary, model, request.limit,
                         lambda: state if state is not None else model_state(
                             conn, model, production_env=production))

    try:
        statuses = service.answer(lambda conn: [one(conn, m) for m in models], source=source)
    finally:
        if memo is not None:
            memo.close()
    head = source.head()
    return StatusResult(tuple(statuses), head.seq if head else -1, prefix_of(source))
