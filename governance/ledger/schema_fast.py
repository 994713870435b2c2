"""A fast, conservative pre-check for the event schema: "certainly valid" or "ask jsonschema".

Verifying ten thousand events spends more time in ``jsonschema`` than in Ed25519. This compiles
the subset of JSON Schema the shipped event schema uses (type, required, properties,
additionalProperties, pattern, enum, const, minimum, maximum, minLength, maxLength, items, minItems,
uniqueItems, anyOf, oneOf, allOf, local ``$ref``) into closures that answer True only when the
value is valid under draft 2020-12 semantics; anything unusual (floats, booleans where numbers
are expected, unknown keywords) answers None, and the caller falls back to ``jsonschema``, which
also produces every error message. A test checks agreement with ``jsonschema`` on generated
events.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], "bool | None"]  # True valid, False invalid, None undecided
_IGNORED = {"description", "title", "$schema", "$id", "$defs", "x-expected", "$comment"}
_KNOWN = {"type", "required", "properties", "additionalProperties", "pattern", "enum", "const",
          "minimum", "maximum", "minLength", "maxLength", "items", "minItems", "uniqueItems",
          "anyOf", "oneOf", "allOf", "$ref", "format", "exclusiveMinimum", "maxItems",
          "maxProperties", "propertyNames", "patternProperties", "not"} | _IGNORED


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any],
                   formats: Mapping[str, Callable[[str], bool]] | None = None,
                   _refs: dict[str, list[Check | None]] | None = None) -> Check | None:
    """A checker for ``schema`` (with ``root`` for ``$ref``), or None if unsupported.
    ``formats``: checkers of the ``format`` names the schema uses (any other is unsupported).
    A ``$ref`` is compiled once; a recursive one calls its checker through a cell filled when
    its compilation ends (any unsupported part makes the whole schema unsupported)."""
    if set(schema) - _KNOWN:
        return None
    if "format" in schema and (formats is None or schema["format"] not in formats):
        return None
    if _refs is None:
        _refs = {}
    checks: list[Check] = []
    if "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/$defs/"):
            return None
        cell = _refs.get(ref)
        if cell is None:
            cell = _refs[ref] = [None]
            target = compile_schema(root["$defs"][ref[len("#/$defs/"):]], root, formats, _refs)
            if target is None:
                return None
            cell[0] = target
        checks.append(cell[0] if cell[0] is not None else _deferred(cell))
    fused = False
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if kinds == ["string"] and "pattern" in schema:  # the common pair, in one closure
            checks.append(_string_pattern_check(re.compile(schema["pattern"])))
            fused = True
        else:
            checks.append(_type_check(tuple(kinds)))
    if "pattern" in schema and not fused:
        checks.append(_pattern_check(re.compile(schema["pattern"])))
    if "minLength" in schema or "maxLength" in schema:
        checks.append(_length_check(int(schema.get("minLength", 0)), schema.get("maxLength")))
    if "enum" in schema or "const" in schema:
        options = list(schema["enum"]) if "enum" in schema else [schema["const"]]
        if not all(isinstance(o, str) or type(o) in (int, bool) for o in options):
            return None
        checks.append(_enum_check(options))
    if "minimum" in schema:
        checks.append(_minimum_check(schema["minimum"]))
    if "maximum" in schema:
        checks.append(_maximum_check(schema["maximum"]))
    if "required" in schema:
        checks.append(_required_check(tuple(schema["required"])))
    if "format" in schema and formats is not None:
        checks.append(_format_check(formats[schema["format"]]))
    if "exclusiveMinimum" in schema:
        checks.append(_exclusive_minimum_check(schema["exclusiveMinimum"]))
    if "maxItems" in schema or "maxProperties" in schema:
        checks.append(_size_check(schema.get("maxItems"), schema.get("maxProperties")))
    if "propertyNames" in schema:
        names = compile_schema(schema["propertyNames"], root, formats, _refs)
        if names is None:
            return None
        checks.append(_names_check(names))
    if "not" in schema:
        negated = compile_schema(schema["not"], root, formats, _refs)
        if negated is None:
            return None
        checks.append(_not_check(negated))
    patterns: list[tuple[re.Pattern[str], Check]] = []
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        c = compile_schema(sub, root, formats, _refs)
        if c is None:
            return None
        patterns.append((re.compile(pattern), c))
    if "properties" in schema or "additionalProperties" in schema or patterns:
        props: dict[str, Check] = {}
        for name, sub in (schema.get("properties") or {}).items():
            c = compile_schema(sub, root, formats, _refs)
            if c is None:
                return None
            props[name] = c
        extra: bool | Check | None = schema.get("additionalProperties", True)
        if extra not in (True, False):  # a schema every other property must match
            extra = compile_schema(schema["additionalProperties"], root, formats, _refs)
            if extra is None:
                return None
        checks.append(_object_check(props, extra) if not patterns
                      else _pattern_object_check(props, patterns, extra))
    if "items" in schema or "minItems" in schema or "uniqueItems" in schema:
        item = compile_schema(schema["items"], root, formats, _refs) if "items" in schema else None
        if "items" in schema and item is None:
            return None
        checks.append(_array_check(item, schema.get("minItems", 0),
                                   bool(schema.get("uniqueItems"))))
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            subs = [compile_schema(s, root, formats, _refs) for s in schema[key]]
            if any(s is None for s in subs):
                return None
            checks.append(_combinator(key, [s for s in subs if s is not None]))
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool | None:
        for c in checks:
            r = c(v)
            if r is not True:
                return r
        return True
    return check


def _string_pattern_check(rx: re.Pattern[str]) -> Check:
    """``type: string`` then ``pattern``, as _all would chain _type_check and _pattern_check."""
    search = rx.search

    def check(v: Any) -> bool | None:
        if isinstance(v, str):
            return search(v) is not None
        return None if isinstance(v, float | bool) else False
    return check


def _pattern_check(rx: re.Pattern[str]) -> Check:
    def check(v: Any) -> bool | None:
        return (rx.search(v) is not None) if isinstance(v, str) else True
    return check


def _length_check(lo: int, hi: int | None) -> Check:
    def check(v: Any) -> bool | None:
        return (lo <= len(v) and (hi is None or len(v) <= hi)) if isinstance(v, str) else True
    return check


def _enum_check(options: list[Any]) -> Check:
    # booleans apart: in Python True == 1, in JSON Schema true is not 1
    allowed = frozenset(o for o in options if type(o) is not bool)
    flags = frozenset(o for o in options if type(o) is bool)

    def check(v: Any) -> bool | None:
        if type(v) is bool:
            return v in flags
        return (v in allowed) if isinstance(v, str) or type(v) is int else None
    return check


def _minimum_check(m: Any) -> Check:
    def check(v: Any) -> bool | None:
        if type(v) in (int, float):
            return bool(v >= m) if _finite(v) else None
        return True
    return check


def _maximum_check(m: Any) -> Check:
    def check(v: Any) -> bool | None:
        if type(v) in (int, float):
            return bool(v <= m) if _finite(v) else None
        return True
    return check


def _finite(v: int | float) -> bool:
    return type(v) is int or math.isfinite(v)


def _deferred(cell: list[Check | None]) -> Check:
    def check(v: Any) -> bool | None:
        target = cell[0]
        return None if target is None else target(v)
    return check


def _exclusive_minimum_check(m: Any) -> Check:
    def check(v: Any) -> bool | None:
        if type(v) in (int, float):
            return bool(v > m) if _finite(v) else None
        return True
    return check


def _format_check(accepts: Callable[[str], bool]) -> Check:
    def check(v: Any) -> bool | None:
        return accepts(v) if isinstance(v, str) else True
    return check


def _size_check(max_items: int | None, max_properties: int | None) -> Check:
    def check(v: Any) -> bool | None:
        if isinstance(v, list) and max_items is not None:
            return len(v) <= max_items
        if isinstance(v, dict) and max_properties is not None:
            return len(v) <= max_properties
        return True
    return check


def _names_check(names: Check) -> Check:
    def check(v: Any) -> bool | None:
        if not isinstance(v, dict):
            return True
        for key in v:
            r = names(key)
            if r is not True:
                return r
        return True
    return check


def _not_check(negated: Check) -> Check:
    def check(v: Any) -> bool | None:
        r = negated(v)
        return None if r is None else not r
    return check


def _pattern_object_check(props: dict[str, Check], patterns: list[tuple[re.Pattern[str], Check]],
                          extra: bool | Check) -> Check:
    """``properties``, ``patternProperties`` and ``additionalProperties`` together: a key is
    checked by every pattern it matches and by its property schema; ``additionalProperties``
    applies to the keys neither names."""
    def check(v: Any) -> bool | None:
        if not isinstance(v, dict):
            return True
        for key, value in v.items():
            if not isinstance(key, str):
                return None
            matched = [c for rx, c in patterns if rx.search(key)]
            named = props.get(key)
            if named is not None:
                matched.append(named)
            if not matched:
                if extra is True:
                    continue
                if extra is False:
                    return False
                matched = [extra]
            for c in matched:
                r = c(value)
                if r is not True:
                    return r
        return True
    return check


def _required_check(req: tuple[str, ...]) -> Check:
    wanted = frozenset(req)

    def check(v: Any) -> bool | None:
        return wanted <= v.keys() if isinstance(v, dict) else True
    return check


def _type_check(kinds: tuple[str, ...]) -> Check:
    def check(v: Any) -> bool | None:
        for k in kinds:
            if k == "string" and isinstance(v, str):
                return True
            if k == "integer" and type(v) is int:
                return True
            if k == "object" and isinstance(v, dict):
                return True
            if k == "array" and isinstance(v, list):
                return True
            if k == "boolean" and type(v) is bool:
                return True
            if k == "number" and type(v) in (int, float):
                return True if _finite(v) else None  # NaN and infinities: jsonschema judges
            if k not in ("string", "integer", "object", "array", "boolean", "number"):
                return None
        if isinstance(v, float | bool):
            return None  # 1.0 is an integer in JSON Schema; let jsonschema judge
        return False
    return check


def _object_check(props: dict[str, Check], extra: bool | Check) -> Check:
    def check(v: Any) -> bool | None:
        if not isinstance(v, dict):
            return True
        for key, value in v.items():
            c = props.get(key)
            if c is None:
                if extra is True:
                    continue
                if extra is False:
                    return False
                c = extra
            r = c(value)
            if r is not True:
                return r
        return True
    return check


def _array_check(item: Check | None, min_items: int, unique: bool) -> Check:
    def check(v: Any) -> bool | None:
        if not isinstance(v, list):
            return True
        if len(v) < min_items:
            return False
        if unique:
            if not all(isinstance(x, str) for x in v):
                return None
            if len(set(v)) != len(v):
                return False
        if item is not None:
            for x in v:
                r = item(x)
                if r is not True:
                    return r
        return True
    return check


def _combinator(key: str, subs: list[Check]) -> Check:
    if len(subs) == 1:  # allOf, anyOf and oneOf of one schema all answer as that schema
        return subs[0]

    def check(v: Any) -> bool | None:
        results = [s(v) for s in subs]
        if None in results:
            return None
        passed = sum(1 for r in results if r)
        if key == "allOf":
            return passed == len(subs)
        if key == "anyOf":
            return passed >= 1
        return passed == 1
    return check
