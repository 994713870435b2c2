"""The upkeep use cases behind ``governance doctor``, ``pins write``, ``codeowners
generate | check``, ``release propose`` and ``policy test | lint``: a typed request in, the
result out.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``, which finds the governed repository unless
``--root`` names it exactly): ``governance.doctor`` checks readiness, ``governance.pins`` writes
the workflows' hash-checked requirements, ``governance.approvals.ownership`` generates and checks
CODEOWNERS, ``governance.approvals.propose`` opens the release pull request through the GitHub
adapter, ``governance.policy`` tests and lints the Rego bundle through an engine. The result is
data; the CLI renders it through a renderer registry.

Every one of those modules (the Rego engine, PyGithub among them) loads inside its use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.approvals.ownership import CheckResult
    from governance.approvals.propose import Proposed
    from governance.doctor import Diagnosis
    from governance.policy.bundle import PolicyBundle
    from governance.policy.lint import LintFinding
    from governance.policy.testing import TestSummary
    from governance.service import Service


def _root(service: Service, root: Path | None) -> Path:
    """``--root`` exactly, else the governed repository the service finds from ``--repo``."""
    return root or service.root


# --- doctor and pins -----------------------------------------------------------------------


@dataclass(frozen=True)
class DoctorRequest:
    root: Path | None = None


def doctor(service: Service, request: DoctorRequest) -> Diagnosis:
    """Whether this repository and its user are ready to govern, each finding with its fix."""
    from governance.doctor import diagnose

    return diagnose(_root(service, request.root))


@dataclass(frozen=True)
class PinsRequest:
    artifacts: tuple[Path, ...] = ()  # wheels or sdists whose sha256 is pinned
    root: Path | None = None


@dataclass(frozen=True)
class PinsWritten:
    path: str  # the requirements file, relative to the repository
    notes: tuple[str, ...]


def write_pins(service: Service, request: PinsRequest) -> PinsWritten:
    """(Re)write .github/governance-requirements.txt for the installed version."""
    from governance.pins import REQUIREMENTS, write_requirements

    notes: list[str] = []
    write_requirements(_root(service, request.root), notes, request.artifacts, overwrite=True)
    return PinsWritten(REQUIREMENTS, tuple(notes))


# --- codeowners ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeownersRequest:
    root: Path | None = None


def generate_codeowners(service: Service, request: CodeownersRequest) -> str:
    """Write .github/CODEOWNERS from governance.yaml; its path relative to the repository."""
    from governance.approvals import ownership

    root = _root(service, request.root)
    return ownership.write(root).relative_to(root).as_posix()


def check_codeowners(service: Service, request: CodeownersRequest) -> CheckResult:
    """CODEOWNERS' invalid lines and drift from governance.yaml."""
    from governance.approvals import ownership

    return ownership.check(_root(service, request.root))


# --- release propose -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProposeRequest:
    release: str  # directory or id
    remote: str = "origin"
    repository: str | None = None  # GitHub owner/name (None: $GITHUB_REPOSITORY)
    gates: Path | None = None  # JSON output of `governance check` for the summary


def propose(service: Service, request: ProposeRequest) -> Proposed:
    """Push the release branch and open or update its pull request with one summary comment."""
    from governance.approvals import propose as proposal
    from governance.approvals.github import GitHubSettings, GitHubSource, token_from_env

    root = service.root
    gate_results: Any = None
    if request.gates is not None:
        from governance.json_source import read_json_option
        from governance.yaml_source import DEFAULT_MAX_BYTES

        gate_results = read_json_option(request.gates, "--gates", 16 * DEFAULT_MAX_BYTES).data
    source = GitHubSource(GitHubSettings.from_env(request.repository), token_from_env())
    try:
        return proposal.propose(root, request.release, source, remote=request.remote,
                                gates=gate_results)
    finally:
        source.close()


# --- policy test and lint ------------------------------------------------------------------


def _bundle(policy_dir: Path) -> PolicyBundle:
    from governance.policy.bundle import load_bundle

    return load_bundle(policy_dir, display_prefix=policy_dir.as_posix().rstrip("/"))


@dataclass(frozen=True)
class PolicyTestRequest:
    policy_dir: Path
    engine: str | None = None  # default: OPA server, opa, regopy


@dataclass(frozen=True)
class PolicyTested:
    engine: str
    summary: TestSummary


def run_policy_tests(request: PolicyTestRequest) -> PolicyTested:
    """Every test_* rule of the bundle's *_test.rego, run through the engine."""
    from governance.policy.engines.select import select_engine
    from governance.policy.testing import summarise

    bundle = _bundle(request.policy_dir)
    eng = select_engine(request.engine)
    try:
        summary = summarise(eng.run_tests(bundle))
    finally:
        eng.close()
    return PolicyTested(eng.name, summary)


@dataclass(frozen=True)
class PolicyLintRequest:
    policy_dir: Path


@dataclass(frozen=True)
class PolicyLinted:
    bundle: PolicyBundle
    findings: tuple[LintFinding, ...]


def lint_policies(request: PolicyLintRequest) -> PolicyLinted:
    """Rego v0, %q, semver.*, `with input as` and gates without METADATA, located."""
    from governance.policy.lint import lint_bundle

    bundle = _bundle(request.policy_dir)
    return PolicyLinted(bundle, tuple(lint_bundle(bundle)))
