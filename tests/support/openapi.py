"""Validate JSON against the GitHub OpenAPI subset in tests/data (OpenAPI 3.0 -> JSON Schema).

OpenAPI 3.0 schemas are JSON Schema plus ``nullable: true``; this turns ``nullable`` into a
``"null"`` type (or an ``anyOf`` with null around a ``$ref``/composition) and validates with
jsonschema's Draft 7 validator, resolving ``#/components/schemas/...`` inside the subset.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SUBSET = Path(__file__).resolve().parent.parent / "data" / "github-openapi-subset.json"


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable") is True:
        if "type" in out and "$ref" not in out:
            t = out["type"]
            out["type"] = [*t, "null"] if isinstance(t, list) else [t, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SUBSET.read_text(encoding="utf-8"))
    return data


@cache
def _components() -> dict[str, Any]:
    return {"schemas": _convert(spec()["components"]["schemas"])}


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The templated path and operation matching a concrete request path."""
    for template, ops in spec()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return template, ops[method.lower()]
    raise KeyError(f"{method} {path} is not in the OpenAPI subset")


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The JSON Schema for a response, or None when the spec documents no body for it."""
    _, op = _operation(method, path)
    response = op["responses"].get(str(status))
    if response is None:
        raise KeyError(f"{method} {path} does not document status {status}")
    if "$ref" in response:
        response = spec()["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    return {**_convert(content["schema"]), "components": _components()}


@cache
def _validator(template: str, method: str, status: int) -> jsonschema.Draft7Validator | None:
    schema = response_schema(method, template, status)
    return None if schema is None else jsonschema.Draft7Validator(schema)


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Raise jsonschema.ValidationError unless ``body`` fits the documented response."""
    template, _ = _operation(method, path)
    validator = _validator(template, method.upper(), status)
    if validator is None:
        if body not in (None, b"", ""):
            raise jsonschema.ValidationError(f"{method} {path} {status} documents no body")
        return
    validator.validate(body)


def example(name: str) -> Any:
    """An example response published in the description (used as a fixture template)."""
    return json.loads(json.dumps(spec()["components"]["examples"][name]["value"]))
