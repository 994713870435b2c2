"""The regopy worker process: one rego-cpp interpreter kept alive, spoken to in JSON lines.

Run as ``python -m governance.policy.engines.regopy_worker`` by ``regopy_engine``. It exists because
rego-cpp runs in-process through ctypes: a segfault (regopy 1.5.2 crashes on ``with input as
{...}``) or a runaway policy would otherwise take the CLI down with it. Here a crash or hang kills
only this process; the parent sees EOF or a timeout and the gate fails closed.

Protocol (one JSON object per line each way; requests on stdin, responses on the original
stdout, which is moved to a private descriptor):

- ``{"op": "load", "modules": [[name, source], ...], "data": {...}, "entrypoints": [...]}``
  compiles the modules once (strict built-in errors always on) and, when entrypoints are given,
  builds a bundle so that later evaluations skip compilation.
- ``{"op": "eval", "entrypoint": "a/b", "input": {...}}`` queries the built bundle.
- ``{"op": "query", "query": "x := data.a.b", "input": {...}|absent}`` compiles and runs a query.
- ``{"op": "version"}``.

Responses: ``{"ok": true, "result": <output string>, "prints": "..."}`` or
``{"ok": false, "kind": "compile"|"error", "text": "...", "errors": [...], "prints": "..."}``.
``print`` output goes to the C stdout of this process; fd 1 and 2 are redirected into an
in-memory file that is read and emptied around every request, so it is captured, not lost.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
from typing import Any


def _capture_fd() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("rego-print")
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    return os.dup(handle.fileno())


def _errors_of(output_impl: Any, rs: Any) -> list[dict[str, str]]:
    """Message, code and offending term of every error node in a failed output."""
    found: list[dict[str, str]] = []

    def value(impl: Any) -> str:
        try:
            return str(rs.rego_node_value(impl))
        except Exception:  # noqa: BLE001 - a node without a scalar value
            return ""

    def walk(impl: Any) -> None:
        kind = int(rs.rego_node_type(impl))
        if kind == int(rs.NodeKind.Error):
            item = {"message": "", "code": "", "ast": ""}
            for i in range(rs.rego_node_size(impl)):
                child = rs.rego_node_get(impl, i)
                ck = int(rs.rego_node_type(child))
                if ck == int(rs.NodeKind.ErrorMessage):
                    item["message"] = value(child)
                elif ck == int(rs.NodeKind.ErrorCode):
                    item["code"] = value(child)
                elif ck == int(rs.NodeKind.ErrorAst) and rs.rego_node_size(child):
                    item["ast"] = value(rs.rego_node_get(child, 0))
            found.append(item)
            return
        for i in range(rs.rego_node_size(impl)):
            walk(rs.rego_node_get(impl, i))

    walk(rs.rego_output_node(output_impl))
    return found


def rego_string(value: str) -> str:
    """``value`` as rego-cpp 1.5.2 holds a string: the body of its JSON literal.

    rego-cpp keeps every string it reads from a policy literal or a JSON document (data, an
    input term) as the JSON-escaped text between the quotes, compares and concatenates those
    bodies, and writes results out by wrapping them in quotes without escaping again. A string
    handed over through the C input API is taken as such a body too, so a raw ``"`` or newline
    from a document came back as JSON syntax in the result: a subgroup name could close the
    message that quotes it and write ``"allow": true`` into the decision (issue 14). Escaping
    here makes input strings the same kind of value as literals and data: they compare equal
    to the same literal, and every result is JSON that reads back to exactly the original text.
    Only ``"``, ``\\`` and control characters need it (``ensure_ascii=False``, as for data).
    """
    if '"' in value or "\\" in value or not value.isprintable():
        return json.dumps(value, ensure_ascii=False)[1:-1]
    return value


def input_builder(rs: Any) -> Any:
    """A converter from a decoded JSON value to a rego-cpp input, calling the C API directly.

    ``regopy.Input`` does the same walk through wrappers that test each value against the
    ``Mapping``/``Sequence``/``Set`` ABCs and copy every string into a new buffer; for a gate
    input (~600 values) that was a fifth of the worker's time. Values here come from
    ``json.loads``, so exact types suffice. A string with a NUL byte is refused, because the C
    API takes NUL-terminated strings and would silently cut it short (a different value than
    the one checked).

    Strings (values and keys) are handed over in rego-cpp's own form (``rego_string``).
    ``build(value, plain=True)`` skips the per-string checks: the caller passes it when the JSON
    text the value was decoded from has no backslash, because JSON writes every ``"``, ``\\``,
    control character and NUL inside a string as a backslash escape, so no string of such a
    value needs escaping or can hold a NUL (the common gate input; the checks cost ~10% of
    building it).
    """
    lib = rs.rego
    put_str, put_int, put_float = lib.regoInputString, lib.regoInputInt, lib.regoInputFloat
    put_bool, put_null, put_item = lib.regoInputBoolean, lib.regoInputNull, lib.regoInputObjectItem
    put_object, put_array = lib.regoInputObject, lib.regoInputArray

    def text(value: str) -> bytes:
        if "\0" in value:
            raise ValueError(f"input string contains a NUL byte: {value[:60]!r}")
        return rego_string(value).encode("utf-8")

    def build(value: Any, plain: bool = False) -> Any:
        raw = rs.rego_new_input()
        # One c_void_p for every call: passed as a plain int, ctypes would convert the
        # handle again on each of the ~1,000 calls an input takes.
        handle = ctypes.c_void_p(raw)

        def add(value: Any) -> None:
            kind = type(value)
            if kind is str:
                code = put_str(handle, value.encode("utf-8") if plain else text(value))
            elif kind is dict:
                for key, item in value.items():
                    if put_str(handle, key.encode("utf-8") if plain else text(key)):
                        raise ValueError("rego-cpp refused an object key")
                    add(item)
                    if put_item(handle):
                        raise ValueError("rego-cpp refused an object item")
                code = put_object(handle, len(value))
            elif kind is list:
                for item in value:
                    add(item)
                code = put_array(handle, len(value))
            elif kind is bool:
                code = put_bool(handle, value)
            elif kind is int:
                if not -(2**63) <= value < 2**63:
                    raise ValueError(f"input integer {value} does not fit in 64 bits")
                code = put_int(handle, value)
            elif kind is float:
                code = put_float(handle, value)
            elif value is None:
                code = put_null(handle)
            else:
                raise ValueError(f"input value of type {kind.__name__} is not JSON")
            if code:
                raise ValueError(f"rego-cpp refused an input value (code {code})")

        try:
            add(value)
        except BaseException:
            rs.rego_free_input(raw)
            raise
        return raw

    return build


def main() -> int:
    import regopy
    import regopy.rego_shared as rs

    make_input = input_builder(rs)

    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    proto_in = sys.stdin.buffer
    cap = _capture_fd()
    os.dup2(cap, 1)
    os.dup2(cap, 2)
    libc = ctypes.CDLL(None)

    def captured() -> str:
        sys.stdout.flush()
        libc.fflush(None)
        size = os.lseek(cap, 0, os.SEEK_END)
        if not size:
            return ""  # nothing printed (the usual case): the file is empty and at offset 0
        os.lseek(cap, 0, os.SEEK_SET)
        data = os.read(cap, size)
        os.ftruncate(cap, 0)
        os.lseek(cap, 0, os.SEEK_SET)
        return data.decode("utf-8", "replace")

    interp: Any = None
    bundle: Any = None

    def respond(obj: dict[str, Any]) -> None:
        obj["prints"] = captured()
        proto_out.write(json.dumps(obj).encode("utf-8") + b"\n")

    def run_output(impl: Any) -> dict[str, Any]:
        try:
            if rs.rego_output_ok(impl):
                return {"ok": True, "result": rs.rego_output_string(impl)}
            return {"ok": False, "kind": "error", "text": "", "errors": _errors_of(impl, rs)}
        finally:
            rs.rego_free_output(impl)

    for raw in proto_in:
        try:
            req = json.loads(raw)
            op = req.get("op")
            captured()
            if op == "version":
                respond({"ok": True, "result": regopy.__version__})
            elif op == "load":
                interp = regopy.Interpreter()
                interp.strict_built_in_errors = True  # never let a built-in error drop a deny
                bundle = None
                try:
                    for name, source in req["modules"]:
                        interp.add_module(name, source)
                    # the same string form as input strings (see ``rego_string``): regopy's
                    # add_data would escape non-ASCII as \uXXXX, a body that compares unequal
                    # to the same text from the input
                    interp.add_data_json(
                        json.dumps(req.get("data") or {}, ensure_ascii=False)
                    )
                    if req.get("entrypoints"):
                        bundle = interp.build(None, list(req["entrypoints"]))
                        if not bundle.ok():
                            respond({"ok": False, "kind": "compile", "text": "bundle not ok"})
                            continue
                except regopy.RegoError as err:
                    interp = None
                    respond({"ok": False, "kind": "compile", "text": str(err)})
                    continue
                respond({"ok": True, "result": "loaded"})
            elif op in ("eval", "query"):
                if interp is None:
                    respond({"ok": False, "kind": "error", "text": "no policy loaded"})
                    continue
                if "input" in req:
                    handle = make_input(req["input"], plain=b"\\" not in raw)
                    try:
                        rs.rego_set_input(interp._impl, handle)
                    finally:
                        rs.rego_free_input(handle)
                try:
                    if op == "eval":
                        if bundle is None:
                            respond({"ok": False, "kind": "error", "text": "no bundle built"})
                            continue
                        impl = rs.rego_bundle_query_entrypoint(
                            interp._impl, bundle._impl, req["entrypoint"]
                        )
                    else:
                        impl = rs.rego_query(interp._impl, req["query"])
                except regopy.RegoError as err:
                    respond({"ok": False, "kind": "error", "text": str(err)})
                    continue
                respond(run_output(impl))
            else:
                respond({"ok": False, "kind": "error", "text": f"unknown op {op!r}"})
        except Exception as err:  # noqa: BLE001 - report, never die silently
            respond({"ok": False, "kind": "error", "text": f"{type(err).__name__}: {err}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
