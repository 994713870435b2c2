"""The ``opa`` binary as an engine: ``opa eval`` and ``opa test`` through argv lists.

Every call is one process with an argv list (never a shell): ``opa eval --format json
--strict-builtin-errors --data <policies> --data <data.json> --stdin-input data.<path>`` with
the input document on stdin, and ``opa test --format json <policies> <data.json>``. Responses
(https://www.openpolicyagent.org/docs/latest/cli/):

- success: ``{"result": [{"expressions": [{"value": ..., "text": ..., "location": ...}]}]}``;
- undefined: ``{}`` (no ``result``) -> fail closed;
- errors: ``{"errors": [{"message", "code", "location": {"file", "row", "col"}}]}`` with a
  non-zero exit status -> fail closed with file:row:col;
- output that is not strict JSON (a repeated key, NaN, a raw control character) -> fail closed
  (``decode_engine_json``): the text is not one answer.

OPA before 1.0 needs ``--v1-compatible`` to read Rego v1; it is added when ``opa version``
reports a 0.x release. Tested against recorded OPA outputs (tests/data/opa-recordings/), and
against the real binary by the conformance vectors when ``opa`` is on PATH.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from governance.policy.bundle import PolicyBundle
from governance.policy.engines.port import (
    DEFAULT_TIMEOUT_S,
    EngineError,
    Evaluation,
    RegoTestResult,
    SourceLocation,
    decode_engine_json,
    normalise_path,
)


def _location(loc: Mapping[str, Any] | None) -> SourceLocation | None:
    if not isinstance(loc, Mapping) or not loc.get("file"):
        return None
    row, col = loc.get("row"), loc.get("col")
    return SourceLocation(
        str(loc["file"]), int(row) if row is not None else None, int(col) if col else None
    )


def errors_to_engine_error(doc: Mapping[str, Any], *, kind: str = "error") -> EngineError:
    errors = doc.get("errors") or []
    if not isinstance(errors, list) or not errors:
        message = str(doc.get("message") or "opa reported an error without details")
        return EngineError(message, kind=kind)
    first = errors[0]
    parts = [f"{first.get('message', 'error')} [{first.get('code', '')}]".rstrip(" []")]
    for extra in errors[1:]:
        where = _location(extra.get("location"))
        parts.append(f"also {where.render() + ': ' if where else ''}{extra.get('message')}")
    return EngineError("; ".join(parts), kind=kind, location=_location(first.get("location")))


def parse_eval_output(stdout: str, returncode: int, path: str) -> Any:
    """The value of ``data.<path>`` from ``opa eval --format json`` output (or an error)."""
    doc = decode_engine_json(stdout, "opa eval output") if stdout.strip() else {}
    if not isinstance(doc, dict):
        raise EngineError("opa eval output is not a JSON object")
    if doc.get("errors") or returncode != 0:
        raise errors_to_engine_error(doc if doc.get("errors") else {"message": stdout[:500]})
    results = doc.get("result")
    if not results:
        raise EngineError(f"data.{path} is undefined", kind="undefined")
    if len(results) != 1:
        raise EngineError(f"data.{path} gave {len(results)} results, expected exactly one")
    expressions = results[0].get("expressions") or []
    if len(expressions) != 1 or "value" not in expressions[0]:
        raise EngineError(f"data.{path} is undefined", kind="undefined")
    return expressions[0]["value"]


def parse_test_output(stdout: str) -> list[RegoTestResult]:
    """``opa test --format json`` output -> results (fail/error/skip as OPA reports them)."""
    items = decode_engine_json(stdout, "opa test output") if stdout.strip() else []
    if not isinstance(items, list):
        raise EngineError("opa test output is not a JSON list")
    results = []
    for item in items:
        loc = _location(item.get("location")) or SourceLocation("?")
        package = str(item.get("package", "")).removeprefix("data.")
        if item.get("error"):
            outcome, message = "error", str(item["error"].get("message", "error"))
        elif item.get("fail"):
            outcome, message = "fail", "undefined or false"
        elif item.get("skip"):
            outcome, message = "skip", ""
        else:
            outcome, message = "pass", ""
        prints: tuple[str, ...] = ()
        if item.get("output"):
            try:
                text = base64.b64decode(item["output"]).decode("utf-8", "replace")
            except (ValueError, TypeError):
                text = str(item["output"])
            prints = tuple(line for line in text.splitlines() if line.strip())
        results.append(
            RegoTestResult(
                package, str(item.get("name", "")), loc, outcome, message, prints,
                float(item.get("duration", 0)) / 1e6,
            )
        )
    return results


_VERSION = re.compile(r"^Version:\s*v?(\S+)", re.MULTILINE)


class OpaCliEngine:
    """``PolicyEngine`` over the ``opa`` executable."""

    name = "opa-cli"

    def __init__(self, *, executable: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
        found = executable or shutil.which("opa")
        if not found:
            raise EngineError(
                "the opa binary is not on PATH", kind="unavailable",
                hint="install OPA or choose --engine regopy",
            )
        self.executable = found
        self.timeout_s = timeout_s
        self._bundle: PolicyBundle | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._data_file: Path | None = None
        self._version: str | None = None

    def _run(
        self, argv: Sequence[str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                list(argv), input=stdin, capture_output=True, text=True, timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EngineError(
                f"opa did not answer within {self.timeout_s:g}s", kind="timeout"
            ) from None
        except OSError as err:
            raise EngineError(f"could not run opa: {err}", kind="unavailable") from None

    def version(self) -> str:
        if self._version is None:
            proc = self._run([self.executable, "version"])
            m = _VERSION.search(proc.stdout)
            self._version = m.group(1) if m else "unknown"
        return self._version

    def _v1_flags(self) -> list[str]:
        return ["--v1-compatible"] if self.version().startswith("0.") else []

    def load(self, bundle: PolicyBundle, data: Mapping[str, Any] | None = None) -> None:
        self.close()
        self._bundle = bundle
        self._tmp = tempfile.TemporaryDirectory(prefix="governance-opa-")
        self._data_file = Path(self._tmp.name) / "data.json"
        self._data_file.write_text(json.dumps(dict(data or {})), encoding="utf-8")

    def eval_argv(self, path: str) -> list[str]:
        assert self._bundle is not None and self._data_file is not None
        return [
            self.executable, "eval", *self._v1_flags(),
            "--format", "json", "--strict-builtin-errors",
            "--data", str(self._bundle.root), "--data", str(self._data_file),
            "--stdin-input", f"data.{normalise_path(path)}",
        ]

    def evaluate(self, path: str, input_doc: Mapping[str, Any]) -> Evaluation:
        if self._bundle is None:
            raise EngineError("no policy bundle loaded", kind="unavailable")
        started = time.perf_counter()
        proc = self._run(self.eval_argv(path), json.dumps(input_doc))
        value = parse_eval_output(proc.stdout, proc.returncode, normalise_path(path))
        return Evaluation(normalise_path(path), value, (), (time.perf_counter() - started) * 1e3)

    def test_argv(self, bundle: PolicyBundle) -> list[str]:
        argv = [self.executable, "test", *self._v1_flags(), "--format", "json", str(bundle.root)]
        if self._data_file is not None:
            argv.append(str(self._data_file))
        return argv

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        proc = self._run(self.test_argv(bundle))
        if proc.returncode not in (0, 2) and not proc.stdout.strip().startswith("["):
            try:
                failed = decode_engine_json(proc.stdout, "opa test output")
            except EngineError:
                raise EngineError(f"opa test failed: {proc.stderr[:500]}") from None
            raise errors_to_engine_error(failed if isinstance(failed, dict) else {})
        return parse_test_output(proc.stdout)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._data_file = None
