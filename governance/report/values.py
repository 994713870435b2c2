"""How the HTML report writes each kind of value: instants, durations, numbers with their
units, yes/no, absent values and identifiers (event ids, leaf hashes, commits, digests).

Nothing here falls back to Python's ``str()`` of a container or a boolean: an auditor reads
"yes", "—" and "0.912", never ``True``, ``None`` or ``{'start': ...}``. Every function returns
escaped HTML (or plain text where the name says so).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from governance.timeparse import format_human
from governance.timeparse import parse_instant as _parse_instant

ABSENT = "<span class='absent'>—</span>"
# Values that are identifiers: shown shortened, the full value in the title and in the
# (selectable, copyable) text of the element.
ID_FIELDS = frozenset({
    "event_id", "leaf_hash", "commit", "sha256", "release_digest", "decision_id",
    "policy_digest", "digest", "git_commit", "input_digest", "head_sha", "approved_digest",
    "checkpoint", "root", "digest_a", "digest_b",
})
_HEX = re.compile(r"^(?:(?:sha256|git-tree|git-blob):)?[0-9a-f]{16,}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def parse_instant(value: str) -> datetime:
    """A recorded instant (``governance.timeparse``'s rule: an offset is required)."""
    return _parse_instant(value)


def looks_like_id(value: str) -> bool:
    return bool(_HEX.match(value) or _UUID.match(value))


def short_id(value: str, keep: int = 12) -> str:
    """Plain text: a digest keeps its scheme (``sha256:b277512c9b10…``)."""
    scheme, sep, body = value.partition(":")
    if not sep or scheme not in ("sha256", "git-tree", "git-blob"):
        scheme, sep, body = "", "", value
    return value if len(body) <= keep + 1 else f"{scheme}{sep}{body[:keep]}…"


def ident(value: Any, keep: int = 12) -> str:
    """An identifier, shortened for reading; the element's text is the full value (so selecting
    and copying it copies all of it), clipped by CSS, with the full value in its title. Focusing
    it (click or Tab) shows it whole."""
    if value in (None, ""):
        return ABSENT
    text = str(value)
    if _UUID.match(text):
        # Ledger event ids are UUIDv7: their first digits are a timestamp shared by events of
        # the same minute, so the tail (random) is what tells them apart. Right-to-left
        # clipping shows the end; the id itself stays left-to-right and whole in the text.
        return (f"<code class='id tail' tabindex='0' style='--w:13ch' title='{escape(text)}'>"
                f"<span dir='ltr'>{escape(text)}</span></code>")
    width = len(short_id(text, keep))
    return (f"<code class='id' tabindex='0' style='--w:{width}ch' title='{escape(text)}'>"
            f"{escape(text)}</code>")


def token(text: str) -> str:
    """Text as HTML that never breaks inside a token: a single token (a release id, a version)
    does not wrap at its hyphens, and a URI or path wraps only after a slash (the copied text
    is unchanged: the break opportunities are ``<wbr>`` elements)."""
    if not text or any(c.isspace() for c in text):
        return escape(text)
    if "/" in text:
        return ("<span class='uri'>" + "/<wbr>".join(
            f"<span class='tok'>{escape(seg)}</span>" if seg else ""
            for seg in text.split("/")) + "</span>")
    return f"<span class='tok'>{escape(text)}</span>"


def instant(value: Any, *, seconds: bool = True) -> str:
    """An RFC 3339 instant as ``2026-12-05 19:45:29 UTC`` (full value in the title)."""
    if not isinstance(value, str) or not value:
        return ABSENT
    try:
        moment = parse_instant(value)
    except ValueError:
        return escape(value)
    shown = format_human(moment, seconds=seconds)
    return f"<time datetime='{escape(value)}' title='{escape(value)}'>{shown}</time>"


def duration_text(seconds: float) -> str:
    """Plain text: ``6 s``, ``4 min 12 s``, ``3 h 5 min``, ``12 d 4 h``, ``14 mo``, ``2.1 y``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes, sec = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {sec} s" if sec else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    if days < 60:
        return f"{days} d" + (f" {hours} h" if hours else "")
    if days < 730:
        return f"{days / 30.44:.0f} mo"
    return f"{days / 365.25:.1f} y"


def number_text(value: float) -> str:
    """Plain text: an integer as such, otherwise four significant digits (no ``1e-05``
    unless the value needs it)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2009")
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.4g}"
    return text if "e" not in text else f"{value:.3e}"


def unit_of(metric: str) -> str:
    """The unit a metric's name declares (``latency_p95_ms`` is in ms); empty: a ratio or
    a count."""
    for suffix, unit in (("_ms", "ms"), ("_seconds", "s"), ("_s", "s"), ("_pct", "%"),
                         ("_percent", "%"), ("_bytes", "B"), ("_mb", "MB")):
        if metric.endswith(suffix):
            return unit
    return ""


def with_unit(value: float, unit: str, *, signed: bool = False) -> str:
    text = number_text(value)
    if signed and value > 0:
        text = "+" + text
    text = text.replace("-", "−")
    return f"{text} {unit}".rstrip() if unit != "%" else f"{text}%"


def label(key: str) -> str:
    """A field name as words: ``bound_to_current_content`` -> ``bound to current content``."""
    return escape(key.replace("_", " "))


def value(key: str, item: Any) -> str:
    """Any answer value as HTML, by its kind: absent, yes/no, number, instant, identifier,
    list (one per line when long) or mapping (a nested definition list)."""
    if item is None or item == "" or item == [] or item == {}:
        return ABSENT
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, (int, float)):
        return escape(number_text(item))
    if isinstance(item, str):
        if "\n" in item:  # a signed note (checkpoint) or other text kept line by line
            return f"<pre class='note'>{escape(item)}</pre>"
        if key in ID_FIELDS or looks_like_id(item):
            return ident(item)
        if _INSTANT.match(item):
            return instant(item)
        return token(item)
    if isinstance(item, Mapping):
        return ("<dl class='kv'>" + "".join(
            f"<dt>{label(str(k))}</dt><dd>{value(str(k), v)}</dd>" for k, v in item.items())
            + "</dl>")
    if isinstance(item, Sequence):
        parts = [value(key, v) for v in item]
        if all(not isinstance(v, (Mapping, list, tuple)) for v in item) and len(parts) <= 4:
            return ", ".join(parts)
        return "<ul class='plain'>" + "".join(f"<li>{p}</li>" for p in parts) + "</ul>"
    return escape(str(item))
