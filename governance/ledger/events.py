"""Event construction and validation: UUIDv7 ids, RFC 3339 timestamps, the event JSON Schema.

The schema ships as ``governance/schemas/ledger-event.schema.json`` (draft 2020-12) and covers
every type in ``governance.domain.events.EVENT_TYPES``: common fields with their formats, and per
type the fields that type requires. Validation uses one compiled validator per event type (the
shipped schema's ``allOf``/``if`` dispatch, resolved ahead of time) so verifying thousands of
events stays cheap.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from governance.domain.events import EVENT_FIELDS, EVENT_TYPES
from governance.ledger.schema_fast import Check, compile_schema
from governance.timeparse import format_rfc3339, parse_instant, utc_now

SCHEMA_RESOURCE = "ledger-event.schema.json"


@cache
def event_schema() -> dict[str, Any]:
    # next to the package (shipped as package data); importlib.resources cannot address a
    # data directory without an __init__.py in every install mode
    text = (Path(__file__).resolve().parent.parent / "schemas" / SCHEMA_RESOURCE).read_text(
        "utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _schema_for(event_type: str) -> dict[str, Any]:
    schema = dict(event_schema())
    if event_type in EVENT_TYPES:
        # the shipped schema's if/then dispatch, resolved ahead of time and inlined (a $ref per
        # event costs more than the rest of the validation)
        schema["allOf"] = [schema["$defs"][event_type]]
    return schema


@cache
def _validator(event_type: str) -> Any:
    """``jsonschema`` is imported when an event first needs explaining, not at start-up."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema_for(event_type))


@cache
def _fast(event_type: str) -> Check | None:
    schema = _schema_for(event_type)
    return compile_schema(schema, schema)


def fast_schema_check(event_type: str) -> Check | None:
    """The compiled pre-check for ``event_type`` (None: none); True from it means valid."""
    return _fast(event_type)


def schema_errors(event: Mapping[str, Any]) -> list[str]:
    """Every schema violation as ``$.path: message``; empty when valid.

    A compiled pre-check answers "valid" for the common case; anything else goes through
    ``jsonschema``, which gives the messages (see ``schema_fast``).
    """
    kind = event.get("event_type")
    key = kind if isinstance(kind, str) else ""
    fast = _fast(key)
    if fast is not None and fast(event) is True:
        return []
    validator = _validator(key)
    out = []
    for err in sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path)):
        out.append(f"{err.json_path}: {err.message}")
    return out


def uuid7(now_ms: int | None = None) -> str:
    """A UUIDv7 (RFC 9562 section 5.7): 48-bit Unix milliseconds, version 7, random rest."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def utc_timestamp(moment: datetime | None = None) -> str:
    """An event's timestamp: UTC with ``Z`` and always six fractional digits (fixed width)."""
    return format_rfc3339(moment or utc_now(), micros=True)


def parse_timestamp(text: str) -> datetime:
    """An event's timestamp as an aware UTC datetime (``TimeFormatError`` when malformed)."""
    return parse_instant(text)


def build_event(event_type: str, fields: Mapping[str, Any], *,
                timestamp: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    """An event dict ready to append (seq and prev are filled in by the store).

    Raises ValueError naming an unknown event type or field; the schema is checked at append.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r} (expected one of "
                         f"{', '.join(EVENT_TYPES)})")
    unknown = sorted(set(fields) - set(EVENT_FIELDS))
    if unknown:
        raise ValueError(f"unknown event field(s) {', '.join(unknown)} (expected among "
                         f"{', '.join(EVENT_FIELDS)})")
    event = {k: v for k, v in fields.items() if v is not None and k not in ("seq", "prev")}
    event["event_type"] = event_type
    event["event_id"] = event_id or str(fields.get("event_id") or uuid7())
    event["timestamp"] = timestamp or str(fields.get("timestamp") or utc_timestamp())
    return event
