"""Evaluate the gates for releases, fail closed, into ``GateDecision`` values.

One ``GateRun`` loads the policy bundle into one engine once (one compiled policy) and then
evaluates any number of releases (``check --all`` reuses it). Every way of not getting a clear
answer becomes ``undecided`` with the reason (exit 3 in the CLI, a denial everywhere): an input
that does not match its schema, an engine error, crash or timeout, an undefined decision, or a
result that is missing fields or contradicts itself.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Protocol

from governance.errors import GovernanceError
from governance.lifecycle import LifecycleState
from governance.policy.bundle import PolicyBundle
from governance.policy.decision_log import decision_record, json_digest
from governance.policy.engines.port import EngineError, PolicyEngine
from governance.policy.input import (
    GateRequest,
    ReleaseFacts,
    build_gate_input,
    config_input,
    waivers_data,
)
from governance.repo import GovernedRepo, LoadedRelease

DECISION_PATH = "governance.decision"


@dataclass(frozen=True)
class Violation:
    gate_id: str
    msg: str
    severity: str
    remediation: str
    level: str  # deny | warn
    document: str = "release"  # release | model_card | model | config
    field: str = "$"

    def to_json(self) -> dict[str, Any]:
        return {
            "gate_id": self.gate_id,
            "msg": self.msg,
            "severity": self.severity,
            "remediation": self.remediation,
            "level": self.level,
            "document": self.document,
            "field": self.field,
        }


@dataclass(frozen=True)
class GateDecision:
    release_id: str
    model_name: str
    environment: str | None
    mode: str
    allow: bool
    failures: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    exceptions: tuple[Mapping[str, Any], ...] = ()
    pending: tuple[Mapping[str, Any], ...] = ()
    undecided: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # document -> display path
    record: Mapping[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.undecided is not None:
            return "undecided"
        return "pass" if self.allow else "deny"

    def summary(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "model_name": self.model_name,
            "environment": self.environment,
            "mode": self.mode,
            "outcome": self.outcome,
            "allow": self.allow and self.undecided is None,
            "undecided": self.undecided,
            "failures": [v.to_json() for v in self.failures],
            "warnings": [v.to_json() for v in self.warnings],
            "exceptions": list(self.exceptions),
            "pending": list(self.pending),
            "decision_id": self.record.get("decision_id"),
            "policy_digest": self.record.get("policy_digest"),
        }


@cache
def input_schema() -> Mapping[str, Any]:
    text = resources.files("governance.schemas").joinpath("gate-input.schema.json").read_text()
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    import jsonschema  # only to explain an input that failed the fast check

    schema = input_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@cache
def _fast_check() -> Any:
    # fastjsonschema knows drafts 4-7; the schema uses nothing later than draft 7, so the same
    # document compiles under draft 7. It only answers yes/no fast; jsonschema explains a no.
    schema = dict(input_schema())
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    import fastjsonschema  # compiled when a gate input is first checked, not by every import

    return fastjsonschema.compile(schema)


def input_problems(doc: Mapping[str, Any]) -> list[str]:
    import fastjsonschema

    try:
        _fast_check()(doc)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    problems = [
        f"$.{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]
    return problems or ["does not match the schema"]


# The decision document's shape (policies/decision.rego; DESIGN 5: messages are
# {msg, gate_id, severity, remediation}, and lib.violation adds document and field). Checked
# after the reading checks of ``interpret``: a message with a key no gate writes, an exception
# that is not {violation, waiver}, a pending item without gate_id and msg is not a decision the
# policies made, so it is undecided. Other top-level rules of the decision package (context,
# raw_failures, ...) may exist and are not read.
_VIOLATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "msg": {"type": "string"},
        "gate_id": {"type": "string", "minLength": 1},
        "severity": {"type": "string", "minLength": 1},
        "remediation": {"type": "string"},
        "document": {"type": "string"},
        "field": {"type": "string"},
    },
    "required": ["msg", "gate_id", "severity", "remediation"],
    "additionalProperties": False,
}
DECISION_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Gate decision (data.governance.decision)",
    "type": "object",
    "properties": {
        "allow": {"type": "boolean"},
        "failures": {"type": "array", "items": _VIOLATION_SCHEMA},
        "warnings": {"type": "array", "items": _VIOLATION_SCHEMA},
        "exceptions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"violation": _VIOLATION_SCHEMA, "waiver": {"type": "object"}},
                "required": ["violation", "waiver"],
                "additionalProperties": False,
            },
        },
        "pending": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"gate_id": {"type": "string"}, "msg": {"type": "string"}},
                "required": ["gate_id", "msg"],
            },
        },
        "mode": {"enum": ["promotion", "readiness"]},
    },
    "required": ["allow", "failures", "warnings"],
}


@cache
def _decision_check() -> Any:
    import fastjsonschema

    return fastjsonschema.compile(DECISION_SCHEMA)


def decision_shape_problems(value: Any) -> list[str]:
    """Where the decision document departs from ``DECISION_SCHEMA`` (empty when it does not)."""
    import fastjsonschema

    try:
        _decision_check()(value)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    import jsonschema  # only to explain a decision that failed the fast check

    validator = jsonschema.Draft7Validator(DECISION_SCHEMA)
    return [
        f"decision does not match its schema at $"
        f"{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in e.absolute_path)}: "
        f"{e.message[:300]}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    ] or ["decision does not match its schema"]


def _violations(items: Any, level: str, problems: list[str]) -> tuple[Violation, ...]:
    if not isinstance(items, list):
        problems.append(f"{level} set is not a list")
        return ()
    out = []
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("msg", "gate_id", "severity", "remediation")
        ):
            problems.append(
                f"a {level} message lacks msg/gate_id/severity/remediation: "
                f"{json.dumps(item)[:200]}"
            )
            continue
        out.append(
            Violation(
                item["gate_id"],
                item["msg"],
                item["severity"],
                item["remediation"],
                level,
                str(item.get("document") or "release"),
                str(item.get("field") or "$"),
            )
        )
    return tuple(sorted(out, key=lambda v: (v.gate_id, v.msg)))


def interpret(value: Any) -> tuple[dict[str, Any], list[str]]:
    """Check the decision document's shape; any problem makes the decision undecided."""
    problems: list[str] = []
    if not isinstance(value, dict):
        return {}, [f"decision is {type(value).__name__}, expected an object"]
    allow = value.get("allow")
    if not isinstance(allow, bool):
        problems.append(f"decision.allow is {json.dumps(allow)}, expected true or false")
    failures = _violations(value.get("failures"), "deny", problems)
    warnings = _violations(value.get("warnings"), "warn", problems)
    exceptions = value.get("exceptions", [])
    pending = value.get("pending", [])
    if not isinstance(exceptions, list) or not isinstance(pending, list):
        problems.append("decision.exceptions/pending are not lists")
        exceptions, pending = [], []
    if allow is True and failures:
        problems.append(f"decision.allow is true but {len(failures)} failure(s) were reported")
    if allow is False and not failures:
        problems.append("decision.allow is false but no failure says why")
    if not problems:
        problems.extend(decision_shape_problems(value))
    return {
        "allow": allow is True,
        "failures": failures,
        "warnings": warnings,
        "exceptions": tuple(exceptions),
        "pending": tuple(sorted(pending, key=lambda p: json.dumps(p, sort_keys=True))),
        "mode": value.get("mode"),
    }, problems


class GateRun:
    """One loaded engine serving many gate evaluations (close it when done)."""

    def __init__(
        self,
        repo: GovernedRepo,
        bundle: PolicyBundle,
        engine: PolicyEngine,
        request: GateRequest,
        state: LifecycleState,
    ) -> None:
        self.repo = repo
        self.bundle = bundle
        self.engine = engine
        self.request = request
        self.state = state
        self.facts = ReleaseFacts(repo)
        self.config = config_input(repo.config)
        self.data = waivers_data(repo.config.waivers)
        self.data_digest = json_digest(self.data)
        self.engine_version = engine.version()
        self.load_error: str | None = None
        try:
            engine.load(bundle, self.data)
        except EngineError as err:
            self.load_error = err.message

    def close(self) -> None:
        self.engine.close()

    def _prepare(
        self, loaded: LoadedRelease
    ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        files = {"release": f"{loaded.directory.name}/release.yaml"}
        input_doc: dict[str, Any] = {}
        problems: list[str] = []
        try:
            input_doc = build_gate_input(
                self.repo, loaded, self.request, self.state, self.facts, config=self.config
            )
            files = {
                "release": input_doc["release"]["file"],
                "model_card": input_doc["model_card"]["file"],
            }
            problems = [
                f"gate input does not match its schema: {p}" for p in input_problems(input_doc)
            ]
        except GovernanceError as err:
            problems.append(f"could not decide: {err.diagnostics()}")
        if self.load_error is not None:
            problems.append(self.load_error)
        return input_doc, files, problems

    def _finish(
        self,
        loaded: LoadedRelease,
        input_doc: dict[str, Any],
        files: dict[str, str],
        problems: list[str],
        value: Any,
        elapsed_ns: int,
    ) -> GateDecision:
        rel = loaded.release
        parsed: dict[str, Any] = {}
        if not problems:
            parsed, shape = interpret(value)
            problems.extend(f"could not decide: {p}" for p in shape)
        undecided = "; ".join(problems) if problems else None
        record = decision_record(
            path=DECISION_PATH,
            input_doc=input_doc,
            result=value,
            bundle=self.bundle,
            engine_name=self.engine.name,
            engine_version=self.engine_version,
            data=self.data,
            eval_ns=elapsed_ns,
            error=undecided,
            data_digest=self.data_digest,
        )
        return GateDecision(
            release_id=rel.release_id,
            model_name=rel.model_name,
            environment=self.request.environment,
            mode="promotion" if self.request.environment else "readiness",
            allow=bool(parsed.get("allow")) and undecided is None,
            failures=parsed.get("failures", ()),
            warnings=parsed.get("warnings", ()),
            exceptions=parsed.get("exceptions", ()),
            pending=parsed.get("pending", ()),
            undecided=undecided,
            files=files,
            record=record,
        )

    def evaluate(self, loaded: LoadedRelease) -> GateDecision:
        started = time.perf_counter_ns()
        input_doc, files, problems = self._prepare(loaded)
        value: Any = None
        if not problems:
            try:
                value = self.engine.evaluate(DECISION_PATH, input_doc).value
            except EngineError as err:
                problems.append(err.message)
        return self._finish(
            loaded, input_doc, files, problems, value, time.perf_counter_ns() - started
        )

    def evaluate_all(
        self, releases: Iterable[LoadedRelease], extra: Sequence[PipelinedEngine] = ()
    ) -> Iterator[GateDecision]:
        """Evaluate many releases, in order, keeping every engine busy.

        With engines that can ``submit``/``collect`` (regopy), each one has a request queued
        behind the one it evaluates while the next input is being built; results come back in
        release order. A failure of one
        evaluation (crash, timeout) is that release's ``undecided``, never another's.
        """
        engines: list[Any] = [self.engine, *extra]
        if not all(hasattr(e, "submit") for e in engines):
            for loaded in releases:
                yield self.evaluate(loaded)
            return
        for e in extra:
            try:
                e.load(self.bundle, self.data)
            except EngineError as err:
                self.load_error = self.load_error or err.message
        inflight: deque[tuple[Any, LoadedRelease, dict[str, Any], dict[str, str], list[str],
                              int, bool]] = deque()
        turn = 0

        def drain_one() -> GateDecision:
            engine, loaded, doc, files, problems, started, sent = inflight.popleft()
            value: Any = None
            if sent:
                try:
                    value = engine.collect().value
                except EngineError as err:
                    problems.append(err.message)
            return self._finish(
                loaded, doc, files, problems, value, time.perf_counter_ns() - started
            )

        # Four requests per engine: the worker starts a queued one the moment it answers the
        # other, and keeps busy while this process is off the CPU (with as many workers as
        # CPUs, it shares one with them). Two per engine left the CPUs idle ~10% of the time.
        depth = 4 * len(engines)
        for loaded in releases:
            if len(inflight) >= depth:
                yield drain_one()
            engine = engines[turn % len(engines)]
            turn += 1
            started = time.perf_counter_ns()
            doc, files, problems = self._prepare(loaded)
            sent = False
            if not problems:
                try:
                    engine.submit(DECISION_PATH, doc)
                    sent = True
                except EngineError as err:
                    problems.append(err.message)
            inflight.append((engine, loaded, doc, files, problems, started, sent))
        while inflight:
            yield drain_one()


class PipelinedEngine(Protocol):
    """An engine that can have evaluations in flight, collected in order (regopy)."""

    name: str

    def load(self, bundle: PolicyBundle, data: Mapping[str, Any] | None = None) -> None: ...

    def submit(self, path: str, input_doc: Mapping[str, Any]) -> None: ...

    def collect(self) -> Any: ...

    def close(self) -> None: ...
