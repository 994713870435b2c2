"""Human text for values: one formatter per value kind, used by every text renderer.

Text output is read by people (auditors, reviewers, on-call), so no Python literal ever reaches
it: no ``{'start': ...}``, no ``['a']``, no ``None``/``True``/``False``. Each kind of value has
one formatter here, and renderers (``explain``, ``status``, ``live``, ``check``, ``report``'s
text parts, the lifecycle commands) call them instead of interpolating a value directly:

- time: an RFC 3339 instant as recorded (``2026-04-10T09:12:00Z``), or the absent word;
- window: ``2025-10-01 to 2026-03-31`` (``from 2025-10-01``, ``until 2026-03-31``);
- metrics map: ``auc 0.94, latency_p95_ms 42`` in the card's order;
- release reference: a release id, or ``switch the model off (reason)`` for a first release;
- booleans: ``yes`` / ``no``; absent values: an explicit word (``none`` unless told);
- lists: ``a, b, c``, or the absent word when empty;
- anything else (a nested mapping from a policy or a ledger field): ``key: value; ...`` built
  from the formatters above, never ``repr``.

These only produce text; escaping of control characters for a terminal happens once, in the
output funnel (``governance.cli.output``), not here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from governance.timeparse import format_date, format_rfc3339

NONE = "none"


def absent(word: str = NONE) -> str:
    """The explicit word for a missing value (``none``, ``unknown``, ``nobody``, ``-``)."""
    return word


def yes_no(value: bool | None, *, none: str = NONE) -> str:
    """A boolean as ``yes``/``no`` (``None``: the absent word)."""
    if value is None:
        return none
    return "yes" if value else "no"


def number(value: float | int) -> str:
    """A metric value as written in the card: integers without ``.0``, floats as shortest
    round-trip text (``0.94``, not ``0.9400000001``); non-finite values spelled out."""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "not a number"
    if math.isinf(value):
        return "infinity" if value > 0 else "minus infinity"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)  # float repr is the shortest round-trip decimal, not a Python literal


def when(value: str | datetime | date | None, *, none: str = "unknown") -> str:
    """A time: an RFC 3339 string as recorded; a datetime in UTC with ``Z``."""
    if value is None or value == "":
        return none
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()  # shown as it is: never given a guessed zone
        return format_rfc3339(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def window(value: Mapping[str, Any] | None, *, none: str = "not stated") -> str:
    """A time window ``{start, end}``: ``START to END`` (or open on one side)."""
    if not value:
        return none
    start, end = value.get("start"), value.get("end")
    if start and end:
        return f"{when(start)} to {when(end)}"
    if start:
        return f"from {when(start)}"
    if end:
        return f"until {when(end)}"
    return none


def metrics(values: Mapping[str, Any] | None, *, none: str = "none recorded") -> str:
    """A metrics map: ``auc 0.94, latency_p95_ms 42`` (the card's order)."""
    if not values:
        return none
    return ", ".join(f"{name} {value(v)}" for name, v in values.items())


def release_ref(target: Mapping[str, Any] | str | None, *, none: str = "none declared") -> str:
    """Where a rollback goes: a release id, or switching the model off (with the reason)."""
    if target is None or target == "":
        return none
    if isinstance(target, str):
        return target
    if target.get("disable"):
        reason = target.get("reason")
        return "switch the model off" + (f" ({reason})" if reason else "")
    rid = target.get("release_id")
    return str(rid) if rid else none


def items(values: Sequence[Any] | None, *, none: str = NONE, sep: str = ", ") -> str:
    """A list: ``a, b, c``; empty or absent: the absent word."""
    if not values:
        return none
    return sep.join(value(v) for v in values)


def per_key(values: Mapping[str, Any] | None, *, none: str = NONE,
            missing: str = NONE) -> str:
    """A mapping whose values are simple: ``production: r1, staging: none``."""
    if not values:
        return none
    return ", ".join(f"{k}: {value(v, none=missing)}" for k, v in values.items())


def value(v: Any, *, none: str = NONE) -> str:
    """Any value as human text, never a Python literal (the fallback for nested data)."""
    if v is None:
        return none
    if isinstance(v, bool):
        return yes_no(v)
    if isinstance(v, int | float):
        return number(v)
    if isinstance(v, datetime | date):
        return when(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        if not v:
            return none
        return "; ".join(f"{k}: {value(x, none=none)}" for k, x in v.items())
    if isinstance(v, Sequence | set | frozenset):
        return items(list(v), none=none)
    return str(v)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 event``, ``2 events``."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
