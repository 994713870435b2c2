"""Independent judges of what the fuzz harness feeds the CLI (issue 16, item 4).

The CLI must never pass a document that is not valid. To know which mutated documents are
valid, this module reads them on its own: PyYAML's SafeLoader with the loader rules the project
documents (no implicit timestamps, booleans only true/false, duplicate keys refused), then the
JSON Schema the project publishes (``governance/schemas``), checked by ``jsonschema`` rather than
the project's compiled validator. The judge only needs to be as strict as the schema: a document
it calls valid may still be refused by the CLI (digests, cross-references); a document it calls
invalid must never be passed.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from yaml.cyaml import CParser

SCHEMAS = Path(__file__).resolve().parents[2] / "governance" / "schemas"
SCHEMA_OF = {
    "Release": "release.schema.json",
    "ModelCard": "model-card.schema.json",
    "Model": "model.schema.json",
    "GovernanceConfig": "governance-config.schema.json",
    "EnvironmentState": "environment-state.schema.json",
}


class _Resolver(yaml.resolver.Resolver):
    pass


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class _Duplicate(Exception):
    pass


class _Loader(CParser, yaml.constructor.SafeConstructor, _Resolver):  # type: ignore[misc]
    """libyaml's parser (speed: the oracle reads every case), PyYAML's safe constructor."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _Duplicate(key)
                seen.add(key)
            except TypeError:
                raise _Duplicate(key) from None
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


def _count(value: Any, limit: int) -> int:
    """Nodes of a structure with aliases expanded, stopping past ``limit``."""
    seen = 0
    stack = [value]
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return seen
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return seen


def load_yaml(raw: bytes) -> tuple[bool, Any]:
    """(ok, data): ok is False when the bytes are not one plain UTF-8 YAML document."""
    if raw.startswith(b"\xef\xbb\xbf") or b"\x00" in raw or len(raw) > 1024 * 1024:
        return False, None
    try:
        text = raw.decode("utf-8")  # a tab inside a scalar is fine; libyaml refuses indenting ones
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - the safe constructor above
    except (UnicodeDecodeError, yaml.YAMLError, _Duplicate, RecursionError, ValueError,
            TypeError, OverflowError):
        return False, None
    if _count(data, 100_000) > 100_000:
        return False, None
    return True, data


@cache
def _schema_validator(kind: str) -> Any:
    schema = json.loads((SCHEMAS / SCHEMA_OF[kind]).read_text())
    cls = jsonschema.validators.validator_for(schema)
    checker = jsonschema.FormatChecker()

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return not isinstance(value, str)
        date.fromisoformat(value)
        return True

    @checker.checks("date-time", raises=ValueError)
    def _datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return time_is_valid(value, relative=False)

    return cls(schema, format_checker=checker)


def _finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _keys_are_strings(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def document_is_valid(kind: str, raw: bytes) -> bool:
    """Whether ``raw`` is a valid document of ``kind`` per the published schema."""
    ok, data = load_yaml(raw)
    if not ok or not isinstance(data, dict):
        return False
    if not _keys_are_strings(data) or not _finite(data):
        return False
    try:
        return bool(_schema_validator(kind).is_valid(data))
    except (RecursionError, ValueError, TypeError, OverflowError):
        return False  # a structure too deep for the schema walk is not a governed document


def non_string_keys(raw: bytes) -> bool:
    """A mapping key that is not a string (``{1: 2}``, ``~: 2``, ``true: 2``)."""
    ok, data = load_yaml(raw)
    return ok and not _keys_are_strings(data)


def negative_metrics(kind: str, raw: bytes) -> bool:
    """A latency, count or size metric below zero (issue 16 item 2: no such thing exists)."""
    ok, data = load_yaml(raw)
    if not ok or not isinstance(data, dict) or not _keys_are_strings(data):
        return False
    blocks = [data.get("metrics")]
    subgroups = data.get("subgroups")
    if isinstance(subgroups, dict):
        blocks.extend(subgroups.values())
    for block in blocks:
        if isinstance(block, dict):
            for name, value in block.items():
                if (isinstance(name, str) and re.search(r"latency|_ms$|count|rows|size", name)
                        and isinstance(value, int | float) and not isinstance(value, bool)
                        and value < 0):
                    return True
    return False


_RELATIVE = re.compile(r"^([0-9]{1,6})(s|min|h|d|w|mo|y)\Z")
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})\Z")


def time_is_valid(text: str, *, relative: bool = True) -> bool:
    """RFC 3339 (date or date-time with offset), ``now`` or a relative duration (DESIGN 8)."""
    text = text.strip(" \t\r\n")
    if relative and (text.lower() == "now" or _RELATIVE.match(text.lower())):
        return True
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return True
    if not _DATETIME.match(text):
        return False
    head = re.sub(r"\.\d+", "", text[:19].replace("t", "T").replace(" ", "T"))
    try:
        datetime.fromisoformat(head)
    except ValueError:
        return False
    offset = text[19:].lstrip(".0123456789")
    if offset not in ("Z", "z"):
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return False
    return True


def hostile_time(text: str) -> bool:
    """Time text no reading of RFC 3339 or the relative forms could accept."""
    text = text.strip(" \t\r\n")
    return any(unicodedata.category(c)[0] == "C" for c in text) or not text.isascii()


def _pairs_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Duplicate(keys)
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def strict_json(raw: bytes) -> tuple[bool, Any]:
    """(ok, data) for one strict JSON document: UTF-8, no duplicate keys, no NaN/Infinity."""
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            return False, None
        data = json.loads(text, object_pairs_hook=_pairs_no_duplicates,
                          parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, _Duplicate, RecursionError):
        return False, None
    return True, data


def _number(value: Any) -> bool:
    """A finite number of a plausible size (ints of hundreds of digits are not metrics)."""
    return _finite_number(value) and abs(value) < 1e300


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def evaluation_problem(raw: bytes) -> str:
    """What is wrong with an evaluation file per its contract (DESIGN section 10); "" if
    nothing. The kinds: duplicate-keys, not-json, shape, metric, evaluated_at."""
    ok, data = strict_json(raw)
    if not ok:
        try:
            json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return "not-json"
        return "duplicate-keys"
    if not isinstance(data, dict):
        return "shape"
    metrics = data.get("metrics")
    subgroups = data.get("subgroups", {})
    if not isinstance(metrics, dict) or not isinstance(subgroups, dict) or not all(
            isinstance(s, dict) for s in subgroups.values()):
        return "shape"
    blocks = [metrics, *subgroups.values()]
    values = [(name, v) for block in blocks for name, v in block.items()]
    if not all(_finite_number(v) for _, v in values):
        return "metric"
    if not all(_number(v) for _, v in values) or any(
            isinstance(name, str) and re.search(r"latency|_ms$|count|rows", name) and v < 0
            for name, v in values):
        return "metric-range"  # finite but absurd: 1e308, a negative latency
    if not isinstance(data.get("test_conditions", {}), dict):
        return "shape"
    when = data.get("evaluated_at")
    if when is not None and not (isinstance(when, str) and time_is_valid(when, relative=False)):
        return "evaluated_at"
    return ""


def evaluation_is_valid(raw: bytes) -> bool:
    return evaluation_problem(raw) == ""


_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")


def raw_controls(text: str) -> list[str]:
    """Control characters other than newline and tab, and bidi controls, found raw in output."""
    found = []
    for ch in text:
        if ch in "\n\t":
            continue
        if unicodedata.category(ch) == "Cc" or ch in _BIDI:
            found.append(f"U+{ord(ch):04X}")
    return sorted(set(found))
