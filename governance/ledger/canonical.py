"""Canonical JSON bytes for ledger events: produce them, and refuse anything else.

The ledger hashes and signs the exact stored bytes (DESIGN section 7), so there must be exactly
one byte string per event value. The form is: keys sorted by code point, UTF-8, no insignificant
whitespace (``separators=(",", ":")``), non-ASCII characters written as themselves, no NaN or
Infinity. Numbers are integers or Python's shortest round-trip float repr; a float that is a
whole number keeps its ``.0`` so it round-trips to the same type.

``parse_canonical`` is the reader's half: bytes are accepted only if they decode as UTF-8, carry
no duplicate object key (RFC 8259 section 4 leaves duplicates undefined, so a stored event with
one could mean two different things) and re-serialise to exactly the same bytes.
"""

from __future__ import annotations

import json
from typing import Any


class NonCanonical(ValueError):
    """The bytes are not the canonical form of a JSON object; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# json.dumps/json.loads with these options, built once (dumps builds an encoder per call)
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False).encode
_DECODE = json.JSONDecoder().decode


def canonical_bytes(value: Any) -> bytes:
    """The one canonical encoding of ``value`` (a JSON-compatible structure)."""
    try:
        text = _ENCODE(value)
    except ValueError as err:  # allow_nan=False: NaN and Infinity are not JSON (RFC 8259 6)
        raise ValueError(f"non-finite number cannot be stored in the ledger ({err})") from None
    return text.encode("utf-8")


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse stored event bytes, refusing duplicate keys, non-objects and non-canonical bytes.

    Bytes equal to the canonical encoding of what they parse to cannot carry a duplicate key
    (the encoding of a dict has none) nor NaN/Infinity (refused by the encoder), so that case
    is settled by the plain parser; everything else takes the checking parse for its reason.
    """
    try:
        value = _DECODE(data.decode("utf-8"))
        if type(value) is dict and _ENCODE(value).encode("utf-8") == data:
            return value
    except (ValueError, RecursionError):  # UnicodeDecodeError, non-finite, too deep
        pass
    return _parse_checked(data)


def _parse_checked(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NonCanonical(f"not UTF-8 at byte {err.start}") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except NonCanonical:
        raise
    except ValueError as err:
        raise NonCanonical(f"not JSON: {err}") from None
    except RecursionError:  # a forged event nested deeper than any real one
        raise NonCanonical("nested too deeply to be an event") from None
    if not isinstance(value, dict):
        raise NonCanonical(f"not a JSON object (found {type(value).__name__})")
    expected = canonical_bytes(value)
    if expected != data:
        at = next((i for i, (a, b) in enumerate(zip(data, expected, strict=False)) if a != b),
                  min(len(data), len(expected)))
        raise NonCanonical(
            f"bytes differ from the canonical form at offset {at} "
            f"(stored {len(data)} bytes, canonical {len(expected)}; reformatted or key order "
            "changed)"
        )
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in pairs:
        if key in out:
            raise NonCanonical(f"duplicate key {key!r}")
        out[key] = val
    return out


def _no_constant(name: str) -> Any:
    raise NonCanonical(f"non-finite number {name} is not JSON")
