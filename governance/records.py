"""YAML documents -> domain values, collecting every problem with file, line and JSON path.

Each governed document names its ``apiVersion`` and ``kind``; the kind selects the JSON Schema
shipped in ``governance/schemas``. Schema errors are rewritten into what a person can act on:
the unknown key on its own line with a "did you mean", a missing field named, the value found
against what was expected (the schema's ``x-expected`` text). Calendar dates and timestamps are
checked for real (``2026-02-30`` is an error), and non-finite numbers are refused.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.display import display_from, display_path  # re-exported
from governance.documents import (  # re-exported: the builders of the validated documents
    BUILDERS,
    build_card,
    build_config,
    build_environment,
    build_model,
    build_release,
)
from governance.domain.identity import identity_key
from governance.errors import Problem
from governance.ledger.schema_fast import Check, compile_schema
from governance.timeparse import is_date, is_instant
from governance.yaml_source import (
    DEFAULT_MAX_BYTES,
    SourceDocument,
    YamlProblem,
    child_path,
    load_yaml_bytes,
    load_yaml_file,
)

__all__ = ["BUILDERS", "build_card", "build_config", "build_environment", "build_model",
           "build_release", "display_from", "display_path"]

if TYPE_CHECKING:
    # jsonschema (~50 ms to import) is loaded only to explain an invalid document
    from jsonschema.exceptions import ValidationError

API_VERSION = "governance/v1"
SCHEMA_FILES: dict[str, str] = {
    "Release": "release.schema.json",
    "ModelCard": "model-card.schema.json",
    "Model": "model.schema.json",
    "GovernanceConfig": "governance-config.schema.json",
    "EnvironmentState": "environment-state.schema.json",
    "OrgTrust": "org-trust.schema.json",
}
# The kind a file must hold when its name says so.
# Schemas of inputs that are not governed documents (no apiVersion/kind), exported beside them
# by `governance schema export` for editors and pipelines: the --from-eval evaluation file.
INPUT_SCHEMA_FILES: tuple[str, ...] = ("evaluation.schema.json",)

KIND_BY_FILENAME: dict[str, str] = {
    "release.yaml": "Release",
    "model-card.yaml": "ModelCard",
    "model.yaml": "Model",
    "governance.yaml": "GovernanceConfig",
}


@dataclass
class Loaded:
    """A document that passed its schema, with its source for later located checks."""

    kind: str
    source: SourceDocument
    value: Any  # the domain value


def schema_for(kind: str) -> dict[str, Any]:
    return dict(_schema(kind))


def shipped_schema(filename: str) -> dict[str, Any]:
    """A schema shipped in governance/schemas by its file name (documents and inputs)."""
    text = resources.files("governance.schemas").joinpath(filename).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _schema(kind: str) -> Mapping[str, Any]:
    text = resources.files("governance.schemas").joinpath(SCHEMA_FILES[kind]).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _check_date(validator: Any, flag: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if flag and isinstance(instance, str):
        if not is_date(instance):
            yield ValidationError(f"{instance!r} is not a real calendar date")


def _check_datetime(
    validator: Any, flag: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if flag and isinstance(instance, str):
        if not is_instant(instance):
            yield ValidationError(f"{instance!r} is not a real date and time")


def _ignore(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    return iter(())


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with our x- keywords; built when a document first needs explaining."""
    import jsonschema

    return jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator,
        {"x-date": _check_date, "x-datetime": _check_datetime, "x-expected": _ignore},
    )


@cache
def _validator(kind: str) -> Any:
    return _validator_class()(_schema(kind))


def _fast_variant(node: Any) -> Any:
    """The schema for the compiled fast path: our x- keywords become named formats."""
    if isinstance(node, dict):
        out = {k: _fast_variant(v) for k, v in node.items()
               if k not in ("$schema", "x-expected", "x-date", "x-datetime", "$id")}
        if node.get("x-date"):
            out["format"] = "governance-date"
        if node.get("x-datetime"):
            out["format"] = "governance-datetime"
        return out
    if isinstance(node, list):
        return [_fast_variant(v) for v in node]
    return node


_is_date = is_date
_is_datetime = is_instant


_FORMATS = {"governance-date": _is_date, "governance-datetime": _is_datetime}


@cache
def _quick_check(kind: str) -> Check | None:
    """The closures of ``governance.ledger.schema_fast`` for ``kind`` (about a millisecond to
    build): True only for a document certainly valid, so a query that loads governance.yaml
    does not pay fastjsonschema's compilation (~40 ms for the configuration; issue 18)."""
    schema = _fast_variant(_schema(kind))
    return compile_schema(schema, schema, _FORMATS)


def _certainly_valid(kind: str, data: Any) -> bool:
    quick = _quick_check(kind)
    if quick is not None and quick(data) is True:
        return True
    import fastjsonschema  # compiled on demand: a document the closures could not vouch for

    try:
        _fast_validator(kind)(data)
    except fastjsonschema.JsonSchemaException:
        return False  # explained by the full validator, with locations
    return True


@cache
def _fast_validator(kind: str) -> Any:
    """Compiled check for the common case (a valid document); any failure falls back to the
    full jsonschema validator, which explains every problem with its location."""
    import fastjsonschema

    return fastjsonschema.compile(
        _fast_variant(_schema(kind)),
        formats={"governance-date": _is_date, "governance-datetime": _is_datetime},
    )


def validate_document(doc: SourceDocument, expected_kind: str | None = None) -> list[Problem]:
    """Schema problems of one document (empty when it is valid)."""
    data = doc.data
    if not isinstance(data, dict):
        found = type(data).__name__ if data is not None else "nothing"
        return [Problem(doc.file, doc.line_of("$"), "$",
                        f"found a {found}, expected a mapping with apiVersion and kind")]
    problems: list[Problem] = []
    api = data.get("apiVersion")
    if api != API_VERSION:
        found = "no apiVersion" if api is None else f"apiVersion {api!r}"
        problems.append(Problem(doc.file, doc.line_of("$.apiVersion"), "$.apiVersion",
                                f"found {found}, expected {API_VERSION!r}"))
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in SCHEMA_FILES:  # a list or mapping: unhashable
        found = "no kind" if kind is None else f"kind {kind!r}"
        problems.append(Problem(doc.file, doc.line_of("$.kind"), "$.kind",
                                f"found {found}, expected one of {', '.join(SCHEMA_FILES)}"))
        return problems
    if expected_kind is not None and kind != expected_kind:
        problems.append(Problem(doc.file, doc.line_of("$.kind"), "$.kind",
                                f"found kind {kind!r}, expected {expected_kind!r} for this file"))
        return problems
    if _has_non_finite(data):
        problems += _non_finite(doc, data, "$")
    if not problems and _certainly_valid(kind, data):
        return _same_identities(doc, data) if kind == "GovernanceConfig" else []
    for error in sorted(_validator(kind).iter_errors(data), key=_error_order):
        problems += _explain(doc, error)
    return _dedupe(problems)


def _same_identities(doc: SourceDocument, data: Mapping[str, Any]) -> list[Problem]:
    """People and bots whose ids are one GitHub login in two spellings (logins are
    case-insensitive; ``governance.domain.identity``): every rule would see one person."""
    seen: dict[str, str] = {}
    out = []
    for group in ("people", "bots"):
        for i, item in enumerate(data.get(group) or []):
            ident = item.get("id") if isinstance(item, Mapping) else None
            if not isinstance(ident, str):
                continue
            path = f"$.{group}[{i}].id"
            first = seen.setdefault(identity_key(ident), path)
            if first != path:
                out.append(Problem(doc.file, doc.line_of(path), path,
                                   f"{ident!r} is the same login as {first} (GitHub logins are "
                                   "case-insensitive), expected each person or bot once"))
    return out


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), error.json_path)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _has_non_finite(value: Any) -> bool:
    """Whether a NaN or infinity occurs anywhere (no paths built: the common answer is no)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


def _non_finite(doc: SourceDocument, value: Any, path: str) -> list[Problem]:
    if isinstance(value, float) and not math.isfinite(value):
        return [Problem(doc.file, doc.line_of(path), path,
                        f"found {value!r}, expected a finite number")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(doc, v, child_path(path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(doc, v, child_path(path, i))]
    return []


def _path_of(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path = child_path(path, part)
    return path


def describe_value(value: Any, *, mapping: str = "a mapping") -> str:
    """A found value as messages show it (``mapping``: "an object" for JSON documents)."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return f"{shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return mapping
    return type(value).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
}


def _expected(error: ValidationError) -> str | None:
    schema = error.schema
    return str(schema["x-expected"]) if isinstance(schema, dict) and "x-expected" in schema \
        else None


def _bound(error: ValidationError) -> tuple[str, str] | None:
    """(found, expected) for a value outside a schema's size or range bound."""
    v, limit, value = error.validator, error.validator_value, error.instance
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                 "exclusiveMaximum": "<"}[str(v)]
        shown = int(limit) if isinstance(limit, float) and limit.is_integer() else limit
        return describe_value(value), f"a number {words} {shown:g}" if isinstance(
            shown, float) else f"a number {words} {shown}"
    if v == "maxLength" and isinstance(value, str):
        return f"a string of {len(value)} characters", f"at most {limit} characters"
    if v == "maxItems" and isinstance(value, list):
        return f"a list of {len(value)} items", f"at most {limit} items"
    if v == "maxProperties" and isinstance(value, dict):
        return f"a mapping of {len(value)} entries", f"at most {limit} entries"
    return None


def _explain(doc: SourceDocument, error: ValidationError) -> list[Problem]:
    if error.validator == "anyOf" and error.context:
        # {anyOf: [shape, placeholder]} (a card date the skeleton leaves as "TODO: ..."): a value
        # that is neither is explained against the real shape, the first branch
        first = [e for e in error.context if e.relative_schema_path[0] == 0]
        if first:
            return [p for e in first for p in _explain(doc, e)]
    path = _path_of(error)
    line = doc.line_of(path)
    if len(error.schema_path) >= 2 and error.schema_path[-2] == "propertyNames":
        # a key that is not a name (a subgroup, a metric): point at the key itself
        key_path = child_path(path, error.instance)
        expected = _expected(error)
        return [Problem(doc.file, doc.line_of(key_path), key_path,
                        f"found key {describe_value(error.instance)}, expected "
                        f"{expected or error.message}",
                        "rename it: names are identifiers, not free text")]
    raw = doc.written.get(path)
    if raw is not None and error.validator == "type" and "string" in str(error.validator_value):
        return [Problem(doc.file, line, path,
                        f"found {raw} unquoted, which YAML reads as "
                        f"{describe_value(error.instance)}; "
                        f"expected {_expected(error) or 'a string'}",
                        f"quote it: '{raw}'")]
    schema = error.schema if isinstance(error.schema, dict) else {}
    expected = _expected(error)
    v = error.validator
    if v == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        out = []
        for key in error.instance:
            if key in allowed:
                continue
            sub = child_path(path, key)
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            out.append(Problem(doc.file, doc.line_of(sub), sub, f"unknown field {key!r}", hint))
        return out
    if v == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return [Problem(doc.file, line, path, f"missing required field {missing!r}")]
    if v == "type":
        want = error.validator_value
        words = (
            " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in want)
            if isinstance(want, list) else _TYPE_WORDS.get(str(want), str(want))
        )
        return [Problem(doc.file, line, path,
                        f"found {describe_value(error.instance)}, expected {expected or words}")]
    if v == "not" and expected:
        return [Problem(doc.file, line, path, f"unexpected field: expected {expected}")]
    if v in ("x-date", "x-datetime"):
        return [Problem(doc.file, line, path,
                        f"{error.message} (expected {expected or 'a valid date'})")]
    if v == "oneOf" and expected:
        return [Problem(doc.file, line, path,
                        f"found {describe_value(error.instance)}, expected {expected}")]
    if v == "propertyNames":
        return [Problem(doc.file, line, path, f"invalid key: {error.message}")]
    bound = _bound(error)
    if bound is not None:
        found, wanted = bound
        return [Problem(doc.file, line, path, f"found {found}, expected {wanted}",
                        expected or "")]
    if expected:
        return [Problem(doc.file, line, path,
                        f"{describe_value(error.instance)} is not {expected}")]
    return [Problem(doc.file, line, path,
                    f"found {describe_value(error.instance)}: {error.message}")]


def ratio_problems(doc: SourceDocument, ratios: frozenset[str]) -> list[Problem]:
    """Metrics of a (schema-valid) model card that governance.yaml declares ratios
    (``ratio_metrics``) and whose value is outside [0, 1], in the card and in every subgroup."""
    if not ratios or not isinstance(doc.data, dict):
        return []
    places: list[tuple[str, Any]] = [("$.metrics", doc.data.get("metrics"))]
    subgroups = doc.data.get("subgroups")
    if isinstance(subgroups, dict):
        places += [(child_path("$.subgroups", k), v) for k, v in subgroups.items()]
    out = []
    for where, metrics in places:
        if not isinstance(metrics, dict):
            continue
        for name, value in metrics.items():
            if name in ratios and isinstance(value, (int, float)) and not 0 <= value <= 1:
                path = child_path(where, name)
                out.append(Problem(doc.file, doc.line_of(path), path,
                                   f"found {describe_value(value)}, expected a ratio in [0, 1]",
                                   f"governance.yaml ratio_metrics declares {name!r} a ratio"))
    return out


def load_file(path: Path, *, display: str | None = None, expected_kind: str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Loaded | None, list[Problem]]:
    """Load, schema-check and build the domain value of one file."""
    name = display or str(path)
    if expected_kind is None:
        expected_kind = KIND_BY_FILENAME.get(path.name)
    try:
        doc = load_yaml_file(path, display=name, max_bytes=max_bytes)
    except YamlProblem as err:
        return None, [err.problem]
    return _loaded(doc, expected_kind)


def load_bytes(raw: bytes, name: str, expected_kind: str | None = None
               ) -> tuple[Loaded | None, list[Problem]]:
    """``load_file`` for bytes already read (``name``: how messages name the file)."""
    try:
        doc = load_yaml_bytes(raw, name)
    except YamlProblem as err:
        return None, [err.problem]
    return _loaded(doc, expected_kind)


def _loaded(doc: SourceDocument, expected_kind: str | None
            ) -> tuple[Loaded | None, list[Problem]]:
    problems = validate_document(doc, expected_kind)
    if problems:
        return None, problems
    kind = doc.data["kind"]
    return Loaded(kind=kind, source=doc, value=BUILDERS[kind](doc.data)), []
