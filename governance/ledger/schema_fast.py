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

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], "bool | None"]  # True valid, False invalid, None undecided
_IGNORED = {"description", "title", "$schema", "$id", "$defs", "x-expected", "$comment"}
_KNOWN = {"type", "required", "properties", "additionalProperties", "pattern", "enum", "const",
          "minimum", "maximum", "minLength", "maxLength", "items", "minItems", "uniqueItems",
          "anyOf", "oneOf", "allOf", "$ref"} | _IGNORED


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Check | None:
    """A checker for ``schema`` (with ``root`` for ``$ref``), or None if unsupported."""
    if set(schema) - _KNOWN:
        return None
    checks: list[Check] = []
    if "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/$defs/"):
            return None
        target = compile_schema(root["$defs"][ref[len("#/$defs/"):]], root)
        if target is None:
            return None
        checks.append(target)
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
        if not all(isinstance(o, str) or type(o) is int for o in options):
            return None
        checks.append(_enum_check(frozenset(options)))
    if "minimum" in schema:
        checks.append(_minimum_check(schema["minimum"]))
    if "maximum" in schema:
        checks.append(_maximum_check(schema["maximum"]))
    if "required" in schema:
        checks.append(_required_check(tuple(schema["required"])))
    if "properties" in schema or "additionalProperties" in schema:
        props: dict[str, Check] = {}
        for name, sub in (schema.get("properties") or {}).items():
            c = compile_schema(sub, root)
            if c is None:
                return None
            props[name] = c
        extra: bool | Check | None = schema.get("additionalProperties", True)
        if extra not in (True, False):  # a schema every other property must match
            extra = compile_schema(schema["additionalProperties"], root)
            if extra is None:
                return None
        checks.append(_object_check(props, extra))
    if "items" in schema or "minItems" in schema or "uniqueItems" in schema:
        item = compile_schema(schema["items"], root) if "items" in schema else None
        if "items" in schema and item is None:
            return None
        checks.append(_array_check(item, schema.get("minItems", 0),
                                   bool(schema.get("uniqueItems"))))
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            subs = [compile_schema(s, root) for s in schema[key]]
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


def _enum_check(allowed: frozenset[Any]) -> Check:
    def check(v: Any) -> bool | None:
        return (v in allowed) if isinstance(v, str) or type(v) is int else None
    return check


def _minimum_check(m: Any) -> Check:
    def check(v: Any) -> bool | None:
        if type(v) is int:
            return bool(v >= m)
        return None if isinstance(v, float) else True
    return check


def _maximum_check(m: Any) -> Check:
    def check(v: Any) -> bool | None:
        if type(v) is int:
            return bool(v <= m)
        return None if isinstance(v, float) else True
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
            if k not in ("string", "integer", "object", "array"):
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
