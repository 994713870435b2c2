"""``governance check``: evaluate the gates for one release, several, or all of them.

The core of the command: find the policies, pick and load one engine, build each release's
input, evaluate, and return decisions. The CLI only parses and renders. Exit status: 0 every
release passes; 1 a gate denies (or, with ``fail_on_warn``, warns); 3 a decision could not be
made (fail closed). ``state`` is the lifecycle folded from the ledger; without a ledger every
release is a draft with no approvals, which is what the evidence then warrants.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from governance import ci_context
from governance.errors import (
    EXIT_NO,
    EXIT_PASS,
    EXIT_UNDECIDED,
    UsageError,
)
from governance.lifecycle import LifecycleState, fold_lifecycle
from governance.policy.bundle import POLICY_DIR, PolicyBundle, load_bundle
from governance.policy.engines.port import DEFAULT_TIMEOUT_S
from governance.policy.engines.select import select_engine
from governance.policy.gates import GateDecision, GateRun, PipelinedEngine
from governance.policy.input import GateRequest
from governance.policy.metadata import Annotation, gate_annotations
from governance.policy.request import approvals_for, default_now, github_request
from governance.records import display_path
from governance.repo import GovernedRepo

# From this many releases on, more regopy workers (one compiled policy each) pay for their
# start-up; below it one worker is faster.
PARALLEL_THRESHOLD = 200


@dataclass(frozen=True)
class CheckOptions:
    refs: tuple[str, ...] = ()
    all_releases: bool = False
    environment: str | None = None
    approvals: str = "git"
    pr: int | None = None
    engine: str | None = None
    policy_dir: Path | None = None
    now: datetime | None = None
    fail_on_warn: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    workers: int | None = None  # regopy worker processes for many releases (default: CPUs)


@dataclass
class CheckOutcome:
    decisions: list[GateDecision]
    bundle: PolicyBundle | None
    gates: dict[str, Annotation] = field(default_factory=dict)
    engine: str = ""

    def exit_code(self, fail_on_warn: bool = False) -> int:
        if any(d.undecided is not None for d in self.decisions) or not self.decisions:
            return EXIT_UNDECIDED
        if any(not d.allow for d in self.decisions):
            return EXIT_NO
        if fail_on_warn and any(d.warnings for d in self.decisions):
            return EXIT_NO
        return EXIT_PASS


def ledger_state(root: Path, *, production_env: str,
                 ) -> tuple[LifecycleState, str | None]:
    """The lifecycle folded from the repository's ledger, and a note when there is none.

    A directory that is not a git repository has no ledger: every release is then a draft
    without approvals, which is what the evidence warrants (promotion gates deny). A ledger
    that exists but cannot be read is an error (fail closed), never an empty history.
    """
    if not (root / ".git").exists():
        return (LifecycleState(production_env=production_env),
                f"{display_path(root)} is not a git repository: no ledger")
    from governance.ledger.reader import entries  # the git adapter, only when there is git

    state = fold_lifecycle(entries(root), production_env=production_env)
    note = None if state.last_seq >= 0 else "the ledger is empty: every release is a draft"
    return state, note


@contextmanager
def _few_full_collections() -> Iterator[None]:
    """Keep the cyclic garbage collector from rescanning the decisions already made.

    Every decision keeps its record (the whole input document), so ``--all`` builds up millions
    of long-lived objects, and each full collection walks all of them: a fifth of this
    process's CPU at 10,000 releases. Young generations are still collected as usual; the
    threshold is restored afterwards.
    """
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, max(old, 1000))
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


def run_check(
    repo: GovernedRepo,
    options: CheckOptions,
    *,
    state: LifecycleState | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckOutcome:
    if not options.refs and not options.all_releases:
        raise UsageError("name a release (directory or id) or pass --all")
    policy_root = options.policy_dir or repo.root / POLICY_DIR
    bundle = load_bundle(policy_root, display_prefix=display_path(policy_root))
    if options.environment is not None and options.environment not in repo.config.environments:
        from governance.errors import NotFound

        raise NotFound(
            f"unknown environment {options.environment!r}",
            hint=f"governance.yaml defines: {', '.join(repo.config.environments) or 'none'}",
        )
    approvals, excluded = approvals_for(options.approvals, options.pr)
    request = GateRequest(
        environment=options.environment,
        now=options.now or default_now(),
        approval_source=options.approvals,
        approvals=approvals,
        excluded_actors=excluded,
        pr=options.pr,
    )
    if options.all_releases:
        dirs = repo.release_dirs()
    else:
        dirs = [repo.resolve_release(ref) for ref in options.refs]
    if options.approvals == "github":
        assert options.pr is not None  # approvals_for refuses github without --pr
        request = github_request(repo, options.pr, options.environment, dirs, request)
    engine = select_engine(options.engine, timeout_s=options.timeout_s)
    if state is None:
        state, note = ledger_state(repo.root,
                                   production_env=repo.config.production_environment)
        if note and progress is not None:
            progress(f"note: {note}")
    run = GateRun(repo, bundle, engine, request, state)
    extra: list[PipelinedEngine] = []
    if engine.name == "regopy" and len(dirs) >= PARALLEL_THRESHOLD:
        from governance.policy.engines.regopy_engine import RegopyEngine

        configured = ci_context.current().variable("GOVERNANCE_POLICY_WORKERS") or ""
        workers = options.workers or (int(configured) if configured.isdigit() else 0)
        # one worker per CPU, each with requests queued: measured against CPUs + 1 workers
        # (bench/policy_bench.py), a fourth process on two CPUs cost ~6% more CPU per release
        # in cache and switching than the idle time it filled
        workers = workers or max(1, min(os.cpu_count() or 1, 8))
        extra = [RegopyEngine(timeout_s=options.timeout_s) for _ in range(workers - 1)]
    decisions: list[GateDecision] = []
    try:
        with _few_full_collections():
            loaded_iter = (repo.load_release(d) for d in dirs)
            for i, decision in enumerate(run.evaluate_all(loaded_iter, extra)):
                decisions.append(decision)
                if progress is not None and (i + 1) % 1000 == 0:
                    progress(f"checked {i + 1}/{len(dirs)} releases")
    finally:
        run.close()
        for e in extra:
            e.close()
    return CheckOutcome(decisions, bundle, gate_annotations(bundle), engine.name)
