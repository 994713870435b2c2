"""The embedded engine: regopy (Microsoft rego-cpp) in a reusable worker process.

Guard rails for regopy's known gaps (verified against regopy 1.5.2; docs/policy.md lists them):

- strict built-in errors are always on (without them ``sprintf("%q", ...)`` silently drops a
  deny instead of failing);
- evaluation runs in ``regopy_worker``, kept alive and reused (one compiled bundle serves many
  evaluations); a segfault, a hang past the timeout, or any unreadable response is an
  ``EngineError`` (the gate denies) and the next request starts a fresh worker;
- queries bind the value (``x := data.pkg.rule``) or query a built entrypoint, because a bare
  query of a rule whose value is ``false`` comes back undefined;
- an output that is itself an error AST (regopy returns recursion errors as an *ok* output) is
  an error, never a value;
- errors are translated from S-expressions with byte offsets to ``file:line:col``;
- input strings are handed to rego-cpp JSON-escaped (``regopy_worker.rego_string``), the form
  it holds literals and data in and writes back out verbatim, so every string in a result reads
  back exactly and no document text can become JSON syntax in the decision; the result is read
  with repeated keys refused (``decode_engine_json``) and the decision's shape is checked by
  ``gates.interpret``;
- ``print`` output is captured from the worker's C stdout and returned with the result.
Inputs are normalised by ``governance.policy.input`` (timestamps as integer ns and RFC 3339 with
``+00:00``; version comparisons precomputed), because ``time.parse_rfc3339_ns`` rejects ``Z`` and
``semver.compare`` orders ``1.10.0`` before ``1.9.0``; ``governance policy lint`` rejects
``semver.*``, ``%q``, Rego v0 and ``with input as`` (which crashes regopy).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from governance.ci_context import child_environment
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
from governance.policy.engines.rego_errors import (
    GateRule,
    gate_rules,
    locate_term,
    looks_like_error,
    translate,
)

DEFAULT_ENTRYPOINTS = ("governance/decision",)
# Distinct runtime errors one engine locates (each probe compiles the bundle in a new worker).
MAX_LOCATED = 8


class _Worker:
    """One worker process and its pipes (started by us, ended by us, by pid)."""

    def __init__(self) -> None:
        env = child_environment()
        package_root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "governance.policy.engines.regopy_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            close_fds=True,
        )
        assert self.proc.stdin is not None
        os.set_blocking(self.proc.stdin.fileno(), False)
        self.buffer = b""
        self.outbox = bytearray()
        self.broken = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not block
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.stderr.close()

    def stderr_tail(self) -> str:
        try:
            self.stderr.seek(0)
            return self.stderr.read()[-2000:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def request(self, message: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        self.send(message)
        return self.receive(timeout_s)

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue a request line and write what the pipe takes now; ``receive`` writes the rest.

        Writes never block: with a request queued behind the one being evaluated, a blocking
        write could wait on a worker that is itself waiting for us to read its reply.
        """
        self.outbox += json.dumps(message).encode("utf-8") + b"\n"
        self._flush()

    def _flush(self) -> None:
        assert self.proc.stdin is not None
        while self.outbox and not self.broken:
            try:
                written = os.write(self.proc.stdin.fileno(), self.outbox)
            except BlockingIOError:
                return
            except OSError:  # BrokenPipeError: the worker is gone; receive reports how
                self.broken = True
                self.outbox.clear()
                return
            del self.outbox[:written]

    def receive(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        out_fd = self.proc.stdin.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            writing = False
            while b"\n" not in self.buffer:
                if self.broken:
                    return self._died()
                if bool(self.outbox) != writing:
                    writing = bool(self.outbox)
                    if writing:
                        sel.register(out_fd, selectors.EVENT_WRITE)
                    else:
                        sel.unregister(out_fd)
                remaining = deadline - time.monotonic()
                events = sel.select(remaining) if remaining > 0 else []
                if not events:
                    raise TimeoutError
                for key, _ in events:
                    if key.fd == out_fd:
                        self._flush()
                        continue
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        return self._died()
                    self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        reply = decode_engine_json(line, "regopy worker reply")
        if not isinstance(reply, dict):
            raise EngineError("regopy worker sent a reply that is not an object")
        return reply

    def _died(self) -> dict[str, Any]:
        code = self.proc.wait()
        raise ChildProcessError(code)


@dataclass
class _Pending:
    """An evaluation sent to the worker and not yet collected (kept to re-send it)."""

    ref: str
    binding: str | None
    message: dict[str, Any]
    started: float


def _signal_name(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


class RegopyEngine:
    """``PolicyEngine`` over regopy in a worker process."""

    name = "regopy"

    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 locate_errors: bool = True) -> None:
        self.timeout_s = timeout_s
        self._worker: _Worker | None = None
        self._bundle: PolicyBundle | None = None
        self._data: Mapping[str, Any] = {}
        self._entrypoints: tuple[str, ...] = ()
        self._with_tests = False
        self._loaded = False
        self._pending: deque[_Pending] = deque()
        # runtime error text -> where it happened (see ``_located``)
        self._where: dict[str, tuple[SourceLocation, GateRule] | None] = {}
        self._locates = locate_errors  # False in the probe engine itself (see ``_located``)

    # -- lifecycle -------------------------------------------------------------------------
    def version(self) -> str:
        try:
            return metadata.version("regopy")
        except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
            return "unknown"

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker is not None and self._worker.alive() else None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        self._loaded = False
        self._pending.clear()

    def __enter__(self) -> RegopyEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(
        self,
        bundle: PolicyBundle,
        data: Mapping[str, Any] | None = None,
        *,
        entrypoints: Sequence[str] = DEFAULT_ENTRYPOINTS,
        include_tests: bool = False,
    ) -> None:
        self._bundle = bundle
        self._data = dict(data or {})
        self._entrypoints = tuple(normalise_path(e).replace(".", "/") for e in entrypoints)
        # Tests are compiled only to run them: building a bundle over a test module that uses
        # `with input as {...}` aborts rego-cpp 1.5.2, and gate evaluation never needs tests.
        self._with_tests = include_tests
        self._loaded = False
        self._ensure_loaded()

    def _ensure_loaded(self) -> _Worker:
        if self._bundle is None:
            raise EngineError("no policy bundle loaded", kind="unavailable")
        if self._worker is not None and self._worker.alive() and self._loaded:
            return self._worker
        self.close()
        self._worker = _Worker()
        reply = self._call(
            {
                "op": "load",
                "modules": [
                    [f.path, f.source]
                    for f in self._bundle.files
                    if self._with_tests or not f.is_test
                ],
                "data": self._data,
                "entrypoints": list(self._entrypoints),
            },
            what="compiling the policy bundle",
        )
        if not reply.get("ok"):
            self.close()
            raise self._error(reply, kind="compile")
        self._loaded = True
        return self._worker

    # -- requests --------------------------------------------------------------------------
    def _call(self, message: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        worker = self._worker
        assert worker is not None
        worker.send(message)
        return self._receive(what)

    def _receive(self, what: str) -> dict[str, Any]:
        worker = self._worker
        assert worker is not None
        try:
            return worker.receive(self.timeout_s)
        except TimeoutError:
            self.close()
            raise EngineError(
                f"regopy did not answer within {self.timeout_s:g}s while {what}; "
                "the worker was stopped",
                kind="timeout",
                hint="a policy that loops or builds huge collections; raise "
                "GOVERNANCE_POLICY_TIMEOUT only if the policy is known to be slow",
            ) from None
        except ChildProcessError as died:
            code = int(died.args[0]) if died.args else 0
            tail = worker.stderr_tail()
            self.close()
            raise EngineError(
                f"regopy worker crashed ({_signal_name(code)}) while {what}"
                + (f": {tail}" if tail else ""),
                kind="crash",
                hint="a rego-cpp bug; known trigger: `with input as {...}` in a test "
                "(replace fields instead: `with input.release as {...}`)",
            ) from None

    def _error(self, reply: Mapping[str, Any], *, kind: str) -> EngineError:
        prints = _prints(reply)
        text = str(reply.get("text") or "")
        source_of = self._bundle.source_of if self._bundle is not None else None
        if text and looks_like_error(text):
            diags = translate(text, source_of)
            first = diags[0]
            rest = "; ".join(d.render() for d in diags[1:])
            message = first.message + (f" [{first.code}]" if first.code else "")
            if rest:
                message += f" (also: {rest})"
            return EngineError(message, kind=kind, location=first.location, prints=prints)
        errors = reply.get("errors") or []
        if errors:
            parts = []
            for e in errors:
                msg = f"{e.get('message') or 'error'}"
                if e.get("ast"):
                    msg += f" (at term {e['ast']})"
                if e.get("code"):
                    msg += f" [{e['code']}]"
                parts.append(msg)
            return EngineError("; ".join(parts), kind=kind, prints=prints)
        return EngineError(text or "regopy reported an error without a message", kind=kind)

    def _result(self, path: str, reply: Mapping[str, Any], *, binding: str | None) -> Any:
        if not reply.get("ok"):
            raise self._error(reply, kind="error")
        text = str(reply.get("result", ""))
        if looks_like_error(text):
            raise self._error({"text": text, "prints": reply.get("prints")}, kind="error")
        if text.strip() == "undefined" or not text.strip():
            raise EngineError(f"data.{path} is undefined", kind="undefined")
        doc = decode_engine_json(text, f"regopy output for data.{path}")
        results = doc if isinstance(doc, list) else [doc]
        if len(results) != 1 or not isinstance(results[0], dict):
            raise EngineError(f"data.{path} gave {len(results)} results, expected exactly one")
        result = results[0]
        if binding is not None:
            bindings = result.get("bindings") or {}
            if binding not in bindings:
                raise EngineError(f"data.{path} is undefined", kind="undefined")
            return bindings[binding]
        exprs = result.get("expressions") or []
        if len(exprs) != 1:
            raise EngineError(f"data.{path} is undefined", kind="undefined")
        return exprs[0]

    def evaluate(self, path: str, input_doc: Mapping[str, Any]) -> Evaluation:
        self.submit(path, input_doc)
        return self.collect()

    def submit(self, path: str, input_doc: Mapping[str, Any]) -> None:
        """Queue one evaluation without waiting; ``collect`` returns results in order.

        The worker reads requests one line at a time, so a caller can keep a second request
        queued behind the one being evaluated and the worker never waits for the caller.
        """
        ref = normalise_path(path)
        entry = ref.replace(".", "/")
        if entry in self._entrypoints:
            message: dict[str, Any] = {"op": "eval", "entrypoint": entry, "input": input_doc}
            pending = _Pending(ref, None, message, time.perf_counter())
        else:
            message = {"op": "query", "query": f"x := data.{ref}", "input": input_doc}
            pending = _Pending(ref, "x", message, time.perf_counter())
        if self._pending and self._worker is not None:
            # behind requests already queued on this worker: if it has died, ``collect``
            # finds out on the earlier request and re-sends this one to a fresh worker
            worker = self._worker
        else:
            worker = self._ensure_loaded()
        self._pending.append(pending)
        worker.send(message)

    @property
    def queued(self) -> int:
        """Evaluations submitted and not yet collected."""
        return len(self._pending)

    def collect(self) -> Evaluation:
        if not self._pending:
            raise EngineError("no evaluation was submitted")
        if self._worker is None:
            self._pending.popleft()
            raise EngineError(
                "the regopy worker stopped on an earlier evaluation and could not be restarted",
                kind="crash",
            )
        pending = self._pending.popleft()
        queued = list(self._pending)
        try:
            reply = self._receive(f"evaluating data.{pending.ref}")
        except EngineError:
            # The worker is gone (crash or timeout) and took the queued requests with it: they
            # go to a fresh worker, so one bad evaluation never decides another's outcome.
            self._pending.extend(queued)
            self._resend_queued()
            raise
        try:
            value = self._result(pending.ref, reply, binding=pending.binding)
        except EngineError as err:
            if (self._locates and err.kind == "error" and err.location is None
                    and reply.get("errors")):
                raise self._located(pending, err, reply) from None
            raise
        return Evaluation(
            pending.ref, value, _prints(reply), (time.perf_counter() - pending.started) * 1000.0
        )

    def _located(self, pending: _Pending, err: EngineError,
                 reply: Mapping[str, Any]) -> EngineError:
        """A runtime error (a built-in failing on a value) from rego-cpp names the failing
        term but no source position. Find the gate rule whose evaluation fails on this input
        and, when the term's text occurs exactly once in it (else in the bundle), its line and
        column. Probing costs a worker of its own (the queued requests stay untouched), so it
        is done once per distinct error and at most ``MAX_LOCATED`` times per engine."""
        if err.reason not in self._where:
            if len(self._where) >= MAX_LOCATED:
                return err
            self._where[err.reason] = self._probe(pending.message.get("input"), reply)
        found = self._where[err.reason]
        if found is None:
            return err
        location, rule = found
        head = "" if location.line == rule.line else f", {rule.file}:{rule.line}"
        return EngineError(
            f"{err.reason} (while evaluating {rule.rule} of package {rule.package}{head})",
            kind="error", location=location, prints=err.prints,
            hint="a built-in failed on this input (strict built-in errors are on, so the "
            "gate cannot pass): guard the value or fix the input")

    def _probe(self, input_doc: Any, reply: Mapping[str, Any]
               ) -> tuple[SourceLocation, GateRule] | None:
        bundle = self._bundle
        if bundle is None:
            return None
        files = [(f.path, f.source) for f in bundle.policies()]
        sources = dict(files)
        rules = gate_rules(files)
        terms = [str(e["ast"]) for e in reply.get("errors") or [] if e.get("ast")]
        probe = RegopyEngine(timeout_s=min(self.timeout_s, 10.0), locate_errors=False)
        try:
            probe.load(bundle, self._data, entrypoints=())
            for ref in dict.fromkeys(r.ref for r in rules):
                try:
                    probe.evaluate(ref, input_doc)
                except EngineError as failed:
                    if failed.kind == "undefined":
                        continue
                    if failed.kind != "error":
                        return None  # the probe itself could not run: say nothing more
                    defs = [r for r in rules if r.ref == ref]
                    spans = [(r.file, sources[r.file], r.start, r.end) for r in defs]
                    everywhere = [(path, src, 0, len(src)) for path, src in files]
                    for term in terms:
                        at = locate_term(term, spans) or locate_term(term, everywhere)
                        if at is not None:
                            return at, defs[0]
                    return SourceLocation(defs[0].file, defs[0].line), defs[0]
        except EngineError:
            return None
        finally:
            probe.close()
        return None

    def _resend_queued(self) -> None:
        queued = list(self._pending)
        if not queued:
            return
        try:
            worker = self._ensure_loaded()  # a fresh worker (starting one empties the queue)
        except EngineError:
            worker = None  # each queued evaluation then fails on its own when collected
        self._pending.extend(queued)
        if worker is None:
            return
        for pending in queued:
            pending.started = time.perf_counter()
            worker.send(pending.message)

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        """Build one bundle with every test rule as an entrypoint, then run each in turn.

        One build (rather than a compiled query per test) keeps the suite fast; a test that
        hangs or crashes the worker is reported as an error and the next test gets a fresh one.
        """
        from governance.policy.testing import discover_tests

        tests = discover_tests(bundle)
        runnable = [t for t in tests if not t.skip]
        self.load(
            bundle,
            self._data,
            entrypoints=[f"{t.package}.{t.name}" for t in runnable],
            include_tests=True,
        )
        results: list[RegoTestResult] = []
        for test in tests:
            location = SourceLocation(test.file, test.line)
            if test.skip:
                results.append(RegoTestResult(test.package, test.name, location, "skip"))
                continue
            ref = f"{test.package}.{test.name}"
            started = time.perf_counter()
            try:
                self._ensure_loaded()
                reply = self._call(
                    # `with input.<field>` needs an input document to patch
                    {"op": "eval", "entrypoint": ref.replace(".", "/"), "input": {}},
                    what=f"running {ref}",
                )
                value = self._result(ref, reply, binding=None)
                outcome = "pass" if value is True else "fail"
                message = "" if value is True else f"got {json.dumps(value)}, expected true"
                prints = _prints(reply)
            except EngineError as err:
                outcome = "fail" if err.kind == "undefined" else "error"
                message = "undefined (a condition was false)" if outcome == "fail" else err.reason
                prints = err.prints
            elapsed = (time.perf_counter() - started) * 1000.0
            results.append(
                RegoTestResult(
                    test.package, test.name, location, outcome, message, prints, elapsed
                )
            )
        return results


def _prints(reply: Mapping[str, Any]) -> tuple[str, ...]:
    text = str(reply.get("prints") or "")
    return tuple(line for line in text.splitlines() if line.strip())
