"""Strict JSON with source locations, for the JSON files a person hands in.

The evaluation file of ``release new --from-eval`` and the event file of ``ledger append
--event`` are read here. The same rules as governed YAML (``governance.yaml_source``) hold:
the file is UTF-8 without a byte-order mark; a key appears once per object (RFC 8259 section 4
leaves duplicates undefined, and ``json.loads`` silently keeps the last one); ``NaN`` and
``Infinity`` are not JSON; an integer has at most ``MAX_INT_DIGITS`` digits; nesting is at most
``MAX_DEPTH`` levels (``json.loads`` recurses, so 100,000 brackets would be a RecursionError).
Every refusal names the line and the JSON path, and ``JsonDocument.line_of`` locates later
checks the same way.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from governance.errors import InvalidInput, Problem, UsageError
from governance.input_files import InputFileProblem, read_input
from governance.yaml_source import MAX_DEPTH, MAX_INT_DIGITS, child_path, parent_path


class JsonProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class JsonDocument:
    file: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        probe = path
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if probe == "$":
                return None
            probe = parent_path(probe)


class _Refused(Exception):
    """Raised from a json hook; the locating scan says where."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused
        out[key] = value
    return out


def _constant(token: str) -> Any:
    raise _Refused


def _integer(token: str) -> int:
    if len(token.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused
    return int(token)


def load_json_file(path: Path, name: str, max_bytes: int, *,
                   follow_links: bool = True) -> JsonDocument:
    """Read (``governance.input_files.read_input``: InputFileProblem) and parse one file."""
    return load_json_text_bytes(read_input(path, name, max_bytes, follow_links=follow_links),
                                name)


def read_json_option(path: Path, option: str, max_bytes: int, *,
                     stdin: BinaryIO | None = None) -> JsonDocument:
    """The JSON file an option names (``-``: ``stdin``), for a command.

    A name that is no readable regular file is a usage error (exit 2) naming the option and the
    path; content that is not acceptable JSON is invalid input (exit 1), located."""
    if str(path) == "-" and stdin is not None:
        name = "<stdin>"
        raw = stdin.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise InvalidInput([Problem(name, None, "$", f"more than {max_bytes} bytes, over "
                                        "the limit")], message=f"{option}: input refused")
    else:
        name = str(path)
        try:
            raw = read_input(path, name, max_bytes, follow_links=True)
        except InputFileProblem as err:
            if err.usage:
                raise UsageError(f"{option} {name}: {err.problem.message}",
                                 hint=err.problem.hint or f"name an existing JSON file for "
                                 f"{option}") from None
            raise InvalidInput([err.problem], message=f"{option}: {name} is refused") from None
    try:
        return load_json_text_bytes(raw, name)
    except JsonProblem as err:
        raise InvalidInput([err.problem], message=f"{option}: {name} is invalid") from None


def load_json_text_bytes(raw: bytes, name: str) -> JsonDocument:
    if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        raise JsonProblem(Problem(name, 1, "$", "file starts with a byte-order mark",
                                  "save it as UTF-8 without BOM"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise JsonProblem(Problem(
            name, line, "$", f"file is not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset "
            f"{err.start})", "save the file as UTF-8")) from None
    return load_json_text(text, name)


def load_json_text(text: str, name: str) -> JsonDocument:
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant,
                          parse_int=_integer)
    except json.JSONDecodeError as err:
        raise JsonProblem(Problem(name, err.lineno, "$", f"malformed JSON: {err.msg} "
                                  f"(column {err.colno})", "fix the JSON syntax at that line")
                          ) from None
    except (_Refused, RecursionError):
        _scan(text, name)  # raises the located problem
        raise JsonProblem(Problem(name, None, "$", "malformed JSON")) from None
    return JsonDocument(name, data, _scan(text, name))


_TOKEN = re.compile(r'[ \t\r\n]*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|([^ \t\r\n{}\[\]:,"]+))',
                    re.S)
_INT = re.compile(r"-?[0-9]+\Z")


def _scan(text: str, name: str) -> dict[str, int]:
    """Line of every JSON path; refuses duplicate keys, constants, long integers and depth.

    Runs over text ``json.loads`` accepted (or stopped in at one of the refusals above), so a
    plain token scan with a stack of open containers suffices."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    lines: dict[str, int] = {}
    # frames: [path, is_object, index, current key path, keys seen -> line, expecting a key]
    stack: list[list[Any]] = []

    def value_path() -> str:
        if not stack:
            return "$"
        top = stack[-1]
        return str(top[3]) if top[1] else child_path(top[0], top[2])

    def refuse(line: int, path: str, message: str, hint: str) -> JsonProblem:
        return JsonProblem(Problem(name, line, path, message, hint))

    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        string, punct, bare = m.groups()
        start = m.start(1) if string else m.start(2) if punct else m.start(3)
        line = line_at(start)
        if punct in ("{", "["):
            path = value_path()
            lines.setdefault(path, line)
            if len(stack) >= MAX_DEPTH:
                raise refuse(line, path, f"nesting deeper than {MAX_DEPTH} levels",
                             "evaluation and event files are a few levels deep")
            stack.append([path, punct == "{", 0, None, {}, True])
        elif punct in ("}", "]"):
            if stack:
                stack.pop()
        elif punct == ",":
            if stack:
                if stack[-1][1]:
                    stack[-1][5] = True
                else:
                    stack[-1][2] += 1
        elif punct == ":":
            if stack:
                stack[-1][5] = False
        elif string is not None and stack and stack[-1][1] and stack[-1][5]:
            top = stack[-1]
            try:
                key = json.loads(string)
            except ValueError:
                key = string
            path = child_path(top[0], key)
            if key in top[4]:
                raise refuse(line, path, f"duplicate key {key!r} (first defined on line "
                             f"{top[4][key]})", "each key may appear once; remove or rename one")
            top[4][key] = line
            top[3] = path
            lines.setdefault(path, line)
        else:
            path = value_path()
            lines.setdefault(path, line)
            if bare in ("NaN", "Infinity", "-Infinity"):
                raise refuse(line, path, f"found {bare}, expected a finite number",
                             "NaN and Infinity are not JSON")
            if bare is not None and _INT.match(bare) and len(bare.lstrip("-")) > MAX_INT_DIGITS:
                raise refuse(line, path, f"found an integer written with "
                             f"{len(bare.lstrip('-'))} digits, expected a number of at most "
                             f"{MAX_INT_DIGITS} digits", "no metric or field is that large")
    return lines
