"""The filter columns of a ledger event: what the query index filters on, derived once here.

Two tables carry them: the query index (``governance.audit.index``, a cache anyone can edit)
and the verified chain (``governance.ledger.verified``, written only by the verifier from
verified events). Every answer compares the seqs the index returns for a question with the seqs
the chain holds for the same SQL predicate (``governance.audit.queries``), so the two must
derive the columns the same way: from here.

- the identifiers (``TEXT_FIELDS``; the column ``model`` is the event's ``model_name``): a
  non-empty string as it is, anything else None (not an identifier);
- ``ts``: the event time as integer microseconds since the epoch (``governance.timeparse``);
- the change of what is live (``deployment``): ``deployment_promoted`` and ``break_glass``
  make their release live; ``rollback_executed`` its ``to_release``, or nothing (the model
  switched off) when it has none. The event table names the handler (``EventSpec.index``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from governance.domain.event_types import INDEX_HANDLER_OF
from governance.timeparse import parse_instant_fast, to_micros

TEXT_FIELDS = (
    "model_name",
    "release_id",
    "environment",
    "actor_id",
    "actor_role",
    "incident",
    "from_release",
    "to_release",
)


def text_columns(event: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The identifier columns (``TEXT_FIELDS`` order): only non-empty strings are indexed."""
    get = event.get
    # a list first: tuple() of a generator costs twice as much (twice per event in a cold build)
    return tuple([v if type(v) is str and v else None for v in map(get, TEXT_FIELDS)])


def micros(timestamp: Any) -> int:
    """The event time as microseconds since the epoch; ValueError/TypeError when it is not
    RFC 3339 (``parse_instant``'s rules; the plain UTC spelling every event uses is read by the
    C parser: the cold build derives it twice per event, for the chain and for the index)."""
    return to_micros(parse_instant_fast(timestamp))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _goes_live(event: Mapping[str, Any]) -> tuple[bool, str | None]:
    release = _str(event.get("release_id")) or _str(event.get("to_release"))
    return release is not None, release


def _rolled_back(event: Mapping[str, Any]) -> tuple[bool, str | None]:
    return True, _str(event.get("to_release"))


# The index's handlers (rows beyond ``events``) by the name the event table gives
# (``EventSpec.index``): each answers whether the event makes a ``deployments`` row and which
# release it makes live (None: the model is switched off).
INDEX_HANDLERS: Mapping[str, Callable[[Mapping[str, Any]], tuple[bool, str | None]]] = {
    "goes_live": _goes_live,
    "rollback": _rolled_back,
}


def deployment(event_type: str, event: Mapping[str, Any]
               ) -> tuple[str, str, str | None] | None:
    """(model, environment, release made live or None) when the event changes what is live,
    else None."""
    handler = INDEX_HANDLER_OF.get(event_type)  # the table's EventSpec.index, as named there
    if handler is None:
        return None
    model, env = _str(event.get("model_name")), _str(event.get("environment"))
    if model is None or env is None:
        return None
    found, release = INDEX_HANDLERS[handler](event)
    if not found:
        return None
    return model, env, release


def chain_columns(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """The verified chain's columns of one event: (event_type, timestamp, ts, model,
    release_id, environment, actor_id, actor_role, incident, from_release, to_release, live,
    live_release); ``ts`` None when the timestamp is not RFC 3339 (the index refuses such an
    event), ``live`` 1 when the event changes what is live (``live_release``: the release it
    makes live, None: switched off), else 0."""
    event_type = str(event.get("event_type"))
    timestamp = event.get("timestamp")
    try:
        ts: int | None = micros(timestamp)
    except (ValueError, TypeError):
        ts = None
    change = deployment(event_type, event)
    return (event_type, str(timestamp), ts, *text_columns(event),
            0 if change is None else 1, None if change is None else change[2])
