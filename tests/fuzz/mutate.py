"""The mutation corpus: valid documents, damaged the way careless and hostile users damage them.

Every mutator takes the valid bytes and a seeded ``random.Random`` and returns new bytes; the
name of the mutator travels with the case so a finding says what was done. Numbers, nesting
depths and positions are drawn from the generator, so a (document, mutator, seed) triple is a
reproducer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_SNIPPETS = [
    "\x1b[2J\x1b[H", "\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07", "\r", "\n",
    "\napproval_granted by jane.smith", "\x00", "\x07", "\x7f", "\x85", "\x9b31m",
    "\u202e", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\ud7ff", "\U0010ffff",
    "а", "ɑ", "ｆ", "Ꭺ", "ℯ", "ı", "İ", "ß", "\u0301", "<script>alert(1)</script>",
    "javascript:alert(1)", "```", "~~~", "${{ secrets.TOKEN }}", "::error::x", "%(x)s",
    "{0}", "$(id)", "`id`", "'; DROP TABLE events; --", "../../etc/passwd", "C:\\x", "*",
    "%", "_", "\\", '"', "'", "#", "&a", "*a", "!!python/object:os.system", "? ", ": ", "- ",
]

CONFUSABLE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і",
              "l": "ӏ", "s": "ѕ", "-": "‐", "0": "О", "1": "l"}

ALIAS_BOMB = (
    'bomb_a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "bomb_b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "bomb_c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "bomb_d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "bomb_e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "bomb_f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "bomb_g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)


def big_number(rng: random.Random) -> str:
    choice = rng.randrange(12)
    if choice == 0:
        return "9" * rng.choice([4301, 5000, 20000])
    if choice == 1:
        return "-" + "1" * rng.choice([30, 4300, 5000])
    return rng.choice([
        "-1", "-0", "-0.0", "-38.25", "1e308", "1e309", "-1e309", ".inf", "-.Inf", ".nan",
        "0x7fffffffffffffff", "18446744073709551616", "-9223372036854775809", "1_000", "0o17",
        "1:30:00", "4.9e-324", "99999999999999999999", "1e-400", "0.1e+999", "+12",
    ])


def _value_spans(text: str) -> list[tuple[int, int]]:
    """Spans of scalar values after ``key: `` or ``- `` (block style), and JSON-ish values."""
    spans = [(m.start(2), m.end(2))
             for m in re.finditer(r"(:\s|-\s)([^\n#{}\[\],]+)", text)]
    return spans or [(0, len(text))]


def _replace_value(data: bytes, rng: random.Random, value: str) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    start, end = rng.choice(_value_spans(text))
    return (text[:start] + value + text[end:]).encode("utf-8", "surrogateescape")


def byte_flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            pos = rng.randrange(len(out))
            out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_set(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] = rng.choice(
                [0, 0x09, 0x0A, 0x0D, 0x1B, 0x22, 0x27, 0x3A, 0x5B, 0x7B, 0x7F, 0x80, 0xC3,
                 0xFF, 0x23, 0x26, 0x2A, 0x21, 0x7C, 0x3E, 0x25, 0x40])
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if data else data


def delete_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    if len(lines) > 1:
        del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def duplicate_line(data: bytes, rng: random.Random) -> bytes:
    """Duplicate keys, usually: the same ``key: value`` line twice (or with another value)."""
    lines = data.split(b"\n")
    idx = rng.randrange(len(lines))
    extra = lines[idx]
    if rng.random() < 0.5 and b": " in extra:
        key = extra.split(b": ", 1)[0]
        extra = key + b": " + big_number(rng).encode()
    lines.insert(idx + rng.choice([0, 1]), extra)
    return b"\n".join(lines)


def swap_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    if len(lines) > 2:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def type_swap(data: bytes, rng: random.Random) -> bytes:
    return _replace_value(data, rng, rng.choice([
        "[]", "{}", "[1, 2]", "{a: 1}", "null", "~", "true", "false", "12", "-3.5", "''",
        '"12"', "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!float 1", "!!str 1",
        "!!int 5", "|\n  block", ">-\n  folded", "yes", "no", "on", "2026-02-30", "2026-04-10",
        "2026-04-10T09:14:11", "0001-01-01T00:00:00Z", "9999-12-31T23:59:60Z", "{1: 2}",
        "{~: 2}", "{true: 2}", "{[1]: 2}", "? [a]\n  : b",
    ]))


def number_swap(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    numbers = list(re.finditer(r"(?<![\w.-])-?\d+(\.\d+)?(?![\w-])", text))
    if numbers and rng.random() < 0.8:
        m = rng.choice(numbers)
        return (text[: m.start()] + big_number(rng) + text[m.end():]).encode(
            "utf-8", "surrogateescape")
    return _replace_value(data, rng, big_number(rng))


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([50, 200, 999, 1000, 1200, 5000, 50_000])
    if rng.random() < 0.5:
        value = "[" * depth + "]" * depth
    else:
        value = "{a: " * depth + "1" + "}" * depth
    return _replace_value(data, rng, value)


def insert_hostile(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(text) + 1)
        text = text[:pos] + rng.choice(HOSTILE_SNIPPETS) + text[pos:]
    return text.encode("utf-8", "surrogatepass")


def hostile_value(data: bytes, rng: random.Random) -> bytes:
    """A quoted scalar carrying controls, bidi or markup (valid YAML, hostile content)."""
    body = "".join(rng.choice(HOSTILE_SNIPPETS) for _ in range(rng.randint(1, 4)))
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else
         f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in body)
    return _replace_value(data, rng, f'"{escaped}"')


def confusables(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    chars = list(text)
    positions = [i for i, c in enumerate(chars) if c in CONFUSABLE]
    for i in rng.sample(positions, min(len(positions), rng.randint(1, 3))):
        chars[i] = CONFUSABLE[chars[i]]
    return "".join(chars).encode("utf-8", "surrogateescape")


def anchors(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    choice = rng.randrange(4)
    if choice == 0:
        return (text.rstrip("\n") + "\n" + ALIAS_BOMB).encode("utf-8", "surrogateescape")
    if choice == 1:
        return _replace_value(data, rng, "*undefined_anchor")
    if choice == 2:
        return (text + "\nextra: &x {self: *x}\n").encode("utf-8", "surrogateescape")
    spans = _value_spans(text)
    (s1, e1), (s2, e2) = sorted(rng.sample(spans, 2)) if len(spans) > 1 else (spans[0],) * 2
    if s1 == s2:
        return data
    return (text[:s1] + "&anc " + text[s1:e1] + text[e1:s2] + "*anc" + text[e2:]).encode(
        "utf-8", "surrogateescape")


def encoding(data: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(7)
    text = data.decode("utf-8", "surrogateescape")
    if choice == 0:
        return b"\xef\xbb\xbf" + data
    if choice == 1:
        return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le", "surrogatepass")
    if choice == 2:
        return text.encode("latin-1", "replace")
    if choice == 3:
        return data.replace(b"\n", b"\r\n")
    if choice == 4:
        return data.replace(b"\n", b"\r")
    if choice == 5:
        pos = rng.randrange(len(data) + 1)
        return data[:pos] + b"\x00" + data[pos:]
    return data.replace(b"  ", b"\t", 1)


def multi_document(data: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"---\n" + data + b"\n---\n" + data, data + b"\n...\n", b"%YAML 1.1\n---\n"
                       + data, b"--- !!str\n" + data, b"", b"\n", b"~", b"[]", b"- a\n"])


def huge(data: bytes, rng: random.Random) -> bytes:
    return _replace_value(data, rng, '"' + "A" * rng.choice([10_000, 200_000, 1_100_000]) + '"')


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    f.__name__: f for f in (
        byte_flip, byte_set, truncate, delete_line, duplicate_line, swap_lines, type_swap,
        number_swap, deep_nesting, insert_hostile, hostile_value, confusables, anchors,
        encoding, multi_document, huge,
    )
}


def mutate(data: bytes, names: list[str], seed: int) -> bytes:
    rng = random.Random(seed)
    for name in names:
        data = MUTATORS[name](data, rng)
    return data


# --- JSON documents (evaluation files, ledger events) --------------------------------------

def json_mutators() -> dict[str, Callable[[bytes, random.Random], bytes]]:
    def json_number(data: bytes, rng: random.Random) -> bytes:
        text = data.decode("utf-8", "surrogateescape")
        numbers = list(re.finditer(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text))
        value = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "-38.25", "-0",
                            "9" * 5000, "-" + "1" * 4301, "1E400", "0.0000001", "true",
                            "null", '"0.9"', "[]", "{}", "01", "+1", ".5", "0x10"])
        if not numbers:
            return data
        m = rng.choice(numbers)
        return (text[: m.start()] + value + text[m.end():]).encode("utf-8", "surrogateescape")

    def json_deep(data: bytes, rng: random.Random) -> bytes:
        depth = rng.choice([100, 999, 1000, 3000, 20_000, 100_000])
        text = data.decode("utf-8", "surrogateescape")
        inner = "[" * depth + "]" * depth if rng.random() < 0.5 else '{"a":' * depth + "1" + (
            "}" * depth)
        pos = text.find(":")
        if pos < 0:
            return inner.encode()
        end = text.find(",", pos)
        end = end if end > 0 else text.find("}", pos)
        return (text[: pos + 1] + inner + text[end:]).encode("utf-8", "surrogateescape")

    def json_duplicate(data: bytes, rng: random.Random) -> bytes:
        text = data.decode("utf-8", "surrogateescape")
        keys = list(re.finditer(r'"([^"\\]+)":\s*([^,{}\[\]]+)', text))
        if not keys:
            return data
        m = rng.choice(keys)
        other = rng.choice(["0", "-1", "1e999", '"x"', "null", "0.99"])
        dup = f'"{m.group(1)}": {other}, '
        return (text[: m.start()] + dup + text[m.start():]).encode("utf-8", "surrogateescape")

    def json_hostile_string(data: bytes, rng: random.Random) -> bytes:
        text = data.decode("utf-8", "surrogateescape")
        strings = list(re.finditer(r'"([^"\\]*)"', text))
        if not strings:
            return data
        m = rng.choice(strings)
        value = rng.choice(HOSTILE_SNIPPETS) * rng.randint(1, 3)
        raw = rng.choice([
            '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"',
            '"\\ud800"', '"\\u0000"', '"\\u001b[31m"', '"' + "x" * 100_000 + '"'])
        return (text[: m.start()] + raw + text[m.end():]).encode("utf-8", "surrogatepass")

    def json_shape(data: bytes, rng: random.Random) -> bytes:
        return rng.choice([b"[]", b"null", b"1", b'"metrics"', b"{}", b"", b"{", b"\xef\xbb\xbf"
                           + data, data + b"\n{}", data.replace(b"{", b"[", 1),
                           data + b"\x00", b" " * 10 + data, data[: len(data) // 2]])

    return {
        "json_number": json_number, "json_deep": json_deep, "json_duplicate": json_duplicate,
        "json_hostile_string": json_hostile_string, "json_shape": json_shape,
        "byte_flip": byte_flip, "truncate": truncate, "insert_hostile": insert_hostile,
    }


JSON_MUTATORS = json_mutators()


def mutate_json(data: bytes, names: list[str], seed: int) -> bytes:
    rng = random.Random(seed)
    for name in names:
        data = JSON_MUTATORS[name](data, rng)
    return data
