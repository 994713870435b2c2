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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from governance import ci_context
from governance.domain.config import DEFAULT_PRODUCTION
from governance.errors import (
    EXIT_NO,
    EXIT_PASS,
    EXIT_UNDECIDED,
    UsageError,
)
from governance.lifecycle import LifecycleState, fold_lifecycle
from governance.policy.bundle import POLICY_DIR, PolicyBundle, load_bundle
from governance.policy.engine import DEFAULT_TIMEOUT_S, select_engine
from governance.policy.gates import GateDecision, GateRun, PipelinedEngine
from governance.policy.input import APPROVAL_SOURCES, ApprovalFact, GateRequest, parse_time
from governance.policy.metadata import Annotation, gate_annotations
from governance.records import display_path
from governance.repo import GovernedRepo
from governance.timeparse import utc_now

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


def default_now() -> datetime:
    """Now, or ``GOVERNANCE_NOW`` (RFC 3339) for reproducible runs and tests."""
    fixed = ci_context.current().now
    return parse_time(fixed) if fixed else utc_now()


def approvals_for(options: CheckOptions) -> tuple[tuple[ApprovalFact, ...], tuple[str, ...]]:
    """Check the approval source option (``git`` is read from the ledger by the input builder,
    ``github`` per pull request in ``run_check``)."""
    if options.approvals not in APPROVAL_SOURCES:
        raise UsageError(
            f"--approvals {options.approvals!r} is not a source",
            hint=f"choose one of {', '.join(APPROVAL_SOURCES)}",
        )
    if options.approvals == "github" and options.pr is None:
        raise UsageError("--approvals github needs --pr N (the pull request to read)")
    return (), ()


def _github_request(
    repo: GovernedRepo, options: CheckOptions, dirs: Sequence[Path], request: GateRequest
) -> GateRequest:
    """Approvals of pull request ``--pr`` for the release(s) checked (its model's risk tier)."""
    from governance.policy import github_approvals

    assert options.pr is not None
    first = repo.load_release(dirs[0]) if dirs else None
    environment = options.environment or next(iter(repo.config.environments), "")
    risk_tier = first.model.risk_tier if first is not None and first.model else "high"
    trainers = sorted(
        {r.trained_by for r in (repo.load_release(d).release for d in dirs) if r.trained_by}
    )
    got = github_approvals.fetch(
        repo.root, options.pr, environment=environment, risk_tier=risk_tier, trainers=trainers
    )
    return replace(
        request,
        approvals=got.approvals,
        excluded_actors=got.excluded_actors,
        checks=request.checks + got.checks,
        head_sha=got.head_sha,
        head_digests=digests_at_head(repo, dirs, got.head_sha),
    )


def digests_at_head(
    repo: GovernedRepo, dirs: Sequence[Path], head_sha: str | None
) -> tuple[tuple[str, str | None], ...]:
    """release_id -> digest of its directory at the pull request's head commit (from git
    objects). Outside a git checkout there is nothing to compare: the content is the head's."""
    if head_sha is None or not (repo.root / ".git").exists():
        return ()
    return tuple((repo.load_release(d).release.release_id, digest_at_commit(repo, d, head_sha))
                 for d in dirs)


def digest_at_commit(repo: GovernedRepo, directory: Path, commit: str) -> str | None:
    """The release digest of ``directory`` as committed at ``commit`` (from git objects);
    None when the directory does not exist there."""
    from governance.approvals.gitfiles import release_digest_at

    rel = directory.resolve().relative_to(repo.root.resolve()).as_posix()
    return release_digest_at(repo.root, commit, rel)


def ledger_state(root: Path, *, production_env: str = DEFAULT_PRODUCTION,
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
    approvals, excluded = approvals_for(options)
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
        request = _github_request(repo, options, dirs, request)
    engine = select_engine(options.engine, timeout_s=options.timeout_s)
    if state is None:
        state, note = ledger_state(repo.root,
                                   production_env=repo.config.production_environment)
        if note and progress is not None:
            progress(f"note: {note}")
    run = GateRun(repo, bundle, engine, request, state)
    extra: list[PipelinedEngine] = []
    if engine.name == "regopy" and len(dirs) >= PARALLEL_THRESHOLD:
        from governance.policy.regopy_engine import RegopyEngine

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
