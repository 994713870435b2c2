"""Text made safe for each output channel: terminal, JSON, markdown and XML.

Every renderer escapes through this one module, so the rules live in one place.

Terminal: recorded text with its control characters escaped.

Free text recorded in the ledger or in YAML (a rollback ``--reason``, an incident id, a model
card's limitations, a policy message quoting a field) is data, and data must not drive the
terminal: a raw newline would let it print a line that looks like another record (a forged
``approval_granted`` row in ``history``), an ANSI escape would move the cursor or recolour what
follows. Every text output goes through this module (``governance.cli.output`` calls it): a
control character is shown as its Python-style escape (``\\n``, ``\\r``, ``\\t``, ``\\x1b``,
``\\u202e``), so one record stays one line and what is shown says what is stored.

Escaped: C0 controls and DEL, C1 controls (U+0080..U+009F: 8-bit CSI/OSC), Unicode line and
paragraph separators, and format characters (category Cf: bidirectional overrides and isolates
of "Trojan Source" (CVE-2021-42574), zero-width characters), surrogates, private-use and
unassigned code points. Backslashes are left as they are (readable paths); where exact bytes
matter, ``--format json`` carries them exactly. JSON output is already exact: ``escape_json``
only turns the same characters into ``\\uXXXX`` escapes inside the JSON strings, which decode to
the same text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from governance.domain.lazy_re import lazy

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


@lru_cache(maxsize=4096)
def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escape_char(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(text: str) -> str:
    """``text`` as one printable line: every control character escaped, newlines included."""
    if text.isprintable():
        return text
    return "".join(_escape_char(c) if _unsafe(c) else c for c in text)


# Printable ASCII and the line break: text made of these alone has nothing to escape.
_PLAIN_LINES = bytes(range(0x20, 0x7F)) + b"\n"


def _plain(text: str) -> bool:
    """``text`` is printable ASCII and line breaks only."""
    return text.isascii() and not text.encode("ascii").translate(None, _PLAIN_LINES)


def keep_lines(text: str) -> str:
    """``text`` with its line breaks (``\\n``) kept and every other control character escaped:
    for text whose lines were built one record each (``join_lines``)."""
    if _plain(text):
        return text  # the common case (a timeline of 6,001 lines), checked in one C pass
    return "\n".join(one_line(line) for line in text.split("\n"))


def join_lines(lines: Iterable[object]) -> str:
    """Records joined one per line, each with its own control characters escaped (a newline
    inside a record is shown as ``\\n`` and does not start a line of its own)."""
    records = list(map(str, lines))  # a str is its own str(): no copy
    text = "\n".join(records)
    if text.count("\n") == len(records) - 1 and _plain(text):
        return text  # no record holds a line break or anything to escape: one C pass each
    return "\n".join(map(one_line, records))


def escape_json(document: str) -> str:
    """A JSON text with the unsafe characters its encoder leaves raw (C1 controls, DEL, line
    separators, bidi and zero-width format characters) written as ``\\uXXXX`` escapes. Such
    characters occur only inside JSON strings, where the escape decodes to the same text."""
    # printable (category L, M, N, P, S or the space) implies not unsafe; an indented document
    # is never printable as a whole (its line breaks), so they are taken out first: one C pass
    # instead of a Python loop over every character (seconds at thousands of events)
    if document.replace("\n", "").isprintable() or all(
            not _unsafe(c) for c in document if c not in "\n "):
        return document
    out = []
    for c in document:
        if c != "\n" and _unsafe(c):
            code = ord(c)
            if code > 0xFFFF:  # a JSON \u escape holds one UTF-16 unit: write the pair
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(c)
    return "".join(out)


# --- markdown -----------------------------------------------------------------------------------
# Markdown is rendered by GitHub, wikis and archive viewers that pass inline HTML through: text
# from a card, a reason or a policy message must not become HTML (``<script>``), a link or image
# (``[x](javascript:...)``), an autolink (``<javascript:...>``) or a table cell break. CommonMark
# lets any ASCII punctuation be backslash-escaped (spec 0.31, section 2.4); ``<``, ``>`` and
# ``&`` are written as entities so no HTML tag or entity of the input survives.

# emphasis, code, links and images, tables, strikethrough (others only matter at a line start,
# and a value is always placed after other text); an underscore between two letters or digits
# cannot open or close emphasis (CommonMark 6.2) and stays as it is: risk_owner, not risk\\_owner
_MD_PUNCT = lazy(r"([\\`*\[\]|~]|_(?![^\W_])|(?<![^\W_])_)")
_BACKTICKS = lazy(r"`+")


def md_text(value: object) -> str:
    """Inline markdown text (a paragraph, a list item or a table cell) showing ``value``
    literally: HTML written as entities, markdown punctuation backslash-escaped, every control
    character (newlines too) escaped, so the value stays inside its cell."""
    text = one_line("-" if value in (None, "", [], {}) else str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT.sub(r"\\\1", text)


def md_code(value: object) -> str:
    """An inline code span holding ``value`` literally (CommonMark 6.1: the delimiter is a
    backtick run longer than any inside; a space pads a value starting or ending with one)."""
    text = one_line(str(value)).replace("|", "\\|")  # a pipe would still end a table cell
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(text: str, info: str = "") -> list[str]:
    """A fenced code block holding ``text`` (one record per line, controls escaped): its fence
    is a backtick run longer than any in the text (at least three), so no line of it can close
    the block early (CommonMark 4.5)."""
    body = keep_lines(text)
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *body.split("\n"), fence]


_SAFE_SCHEMES = ("https://", "http://")


def md_link(label: object, url: object) -> str:
    """A link only to an http(s) URL (never ``javascript:``, ``data:``, ``vbscript:`` or a
    relative target); anything else is shown as code, not linked."""
    target = str(url)
    if not target.lower().startswith(_SAFE_SCHEMES) or not target.isprintable() or any(
            c in target for c in " <>()[]`\"\'"):
        return md_code(target)
    return f"[{md_text(label)}](<{target}>)"


# --- XML ------------------------------------------------------------------------------------------
# XML 1.0 allows no C0 control but tab, LF and CR, even as a character reference (section 2.2):
# a raw ESC in a JUnit message makes the whole report unreadable to CI. Such characters are
# shown as their escapes; the caller still XML-escapes the result.

_XML_BAD = lazy("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids (and C1 controls) written as escapes."""
    return _XML_BAD.sub(lambda m: _escape_char(m.group()), text)
