"""The policy engine port: what every Rego engine adapter offers, and how one is chosen.

An engine is loaded once with a policy bundle and data (so one compiled policy serves many
evaluations), then asked to evaluate a package or rule path against an input document, or to run
the bundle's ``test_*`` rules; ``list_annotations`` gives the bundle's ``# METADATA``. Every
failure to produce a defined answer raises ``EngineError``, an ``Undecided`` (exit 3): callers
that gate anything treat it as a denial (fail closed, DESIGN section 5).

Selection order (DESIGN section 5): the configured engine or ``--engine``; an OPA server when a
URL is configured (``GOVERNANCE_OPA_URL``); the ``opa`` binary when on PATH; the embedded
regopy engine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from governance import ci_context
from governance.errors import ConfigurationError, Undecided, UsageError
from governance.policy.bundle import PolicyBundle
from governance.policy.metadata import Annotation, bundle_annotations

ENGINE_NAMES = ("regopy", "opa-cli", "opa-server")

# Seconds one evaluation may take before it counts as a hang (and so a denial);
# GOVERNANCE_POLICY_TIMEOUT overrides it.
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int | None = None
    col: int | None = None

    def render(self) -> str:
        if self.line is None:
            return self.file
        if self.col is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"


class EngineError(Undecided):
    """The engine could not produce a defined answer: the gate fails closed (exit 3)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        location: SourceLocation | None = None,
        hint: str = "",
        prints: Sequence[str] = (),
    ) -> None:
        where = f"{location.render()}: " if location is not None else ""
        super().__init__(f"could not decide: {where}{message}", hint=hint)
        self.kind = kind  # error | compile | crash | timeout | undefined | unavailable
        self.location = location
        self.reason = message
        self.prints = tuple(prints)


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_engine_json(text: str | bytes, what: str) -> Any:
    """An engine's JSON answer as a value, read strictly: any doubt is an ``EngineError``.

    ``json.loads`` keeps the last of repeated keys, so text that says ``"allow": false`` and
    later ``"allow": true`` would read as an allow: a repeated key is refused, as are NaN and
    Infinity (not JSON) and control characters inside strings (``strict``). Engines that build
    their answer with a JSON encoder never produce any of these; when one does, the answer is
    not the engine's decision (issue 14: regopy once echoed document strings unescaped).
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _RepeatedKey as err:
        raise EngineError(
            f"{what} repeats the key {json.dumps(err.args[0])[:80]} in one object, "
            "so it cannot be read as one answer"
        ) from None
    except (ValueError, UnicodeDecodeError) as err:
        shown = text[:200] if isinstance(text, str) else text[:200].decode("utf-8", "replace")
        raise EngineError(f"unreadable {what} ({err}): {shown}") from None


@dataclass(frozen=True)
class Evaluation:
    """A defined result of evaluating one path (undefined is an ``EngineError``)."""

    path: str
    value: Any
    prints: tuple[str, ...] = ()
    duration_ms: float = 0.0


@dataclass(frozen=True)
class RegoTestResult:
    """One ``test_*`` rule's outcome: pass, fail (false/undefined) or error."""

    package: str
    name: str
    location: SourceLocation
    outcome: str  # pass | fail | error | skip
    message: str = ""
    prints: tuple[str, ...] = field(default=())
    duration_ms: float = 0.0


class PolicyEngine(Protocol):
    """What every engine adapter implements."""

    name: str

    def version(self) -> str:
        """Engine name-specific version string (e.g. ``regopy 1.5.2``)."""
        ...

    def load(self, bundle: PolicyBundle, data: Mapping[str, Any] | None = None) -> None:
        """Compile the bundle once; raises ``EngineError`` (with file:line:col) if it fails."""
        ...

    def evaluate(self, path: str, input_doc: Mapping[str, Any]) -> Evaluation:
        """Evaluate ``data.<path>`` (dotted, e.g. ``governance.decision``) against the input."""
        ...

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        """Run every ``test_*`` rule of the bundle."""
        ...

    def close(self) -> None:
        ...


def list_annotations(bundle: PolicyBundle) -> list[Annotation]:
    """The bundle's ``# METADATA`` annotations, the same for every engine.

    rego-cpp has no annotation API, and OPA's (``opa inspect -a``, ``rego.metadata``) reads the
    same comment blocks, so they are parsed once here (``governance.policy.metadata``).
    """
    return bundle_annotations(bundle)


def normalise_path(path: str) -> str:
    """``data.a.b`` / ``a/b`` / ``a.b`` -> ``a.b`` (a Rego ref below ``data``)."""
    p = path.strip()
    if p.startswith("data."):
        p = p[len("data.") :]
    p = p.replace("/", ".").strip(".")
    if not p or not all(part.isidentifier() for part in p.split(".")):
        raise ConfigurationError(
            f"policy path {path!r} is not a Rego reference",
            hint="use a dotted package or rule path such as governance.decision",
        )
    return p


def select_engine(
    requested: str | None = None,
    *,
    opa_url: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PolicyEngine:
    """Choose an engine in the DESIGN section 5 order and construct it (not yet loaded)."""
    env = ci_context.current()
    name = (requested or env.variable("GOVERNANCE_ENGINE") or "").strip()
    url = opa_url or env.variable("GOVERNANCE_OPA_URL") or None
    configured = (env.variable("GOVERNANCE_POLICY_TIMEOUT") or "").strip()
    if timeout_s == DEFAULT_TIMEOUT_S and configured:
        try:
            timeout_s = float(configured)
        except ValueError:
            raise UsageError(
                f"GOVERNANCE_POLICY_TIMEOUT={configured!r} is not a number of seconds"
            ) from None
    if not name:
        if url:
            name = "opa-server"
        elif shutil.which("opa"):
            name = "opa-cli"
        else:
            name = "regopy"
    if name == "regopy":
        from governance.policy.regopy_engine import RegopyEngine

        return RegopyEngine(timeout_s=timeout_s)
    if name == "opa-cli":
        from governance.policy.opa_cli import OpaCliEngine

        return OpaCliEngine(timeout_s=timeout_s)
    if name == "opa-server":
        if not url:
            raise ConfigurationError(
                "engine opa-server needs a server URL",
                hint="set GOVERNANCE_OPA_URL (and GOVERNANCE_OPA_TOKEN if the server wants one)",
            )
        from governance.policy.opa_server import OpaServerEngine

        return OpaServerEngine.from_url(url, timeout_s=timeout_s)
    raise UsageError(
        f"unknown policy engine {name!r}", hint=f"choose one of: {', '.join(ENGINE_NAMES)}"
    )
