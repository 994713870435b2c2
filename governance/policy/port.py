"""The gates as the promotion core's port (``governance.promotion.Ports.gates``).

``gates_port(repo)`` returns the callable ``promote``/``rollback`` use: it evaluates every
promotion gate (``--env``) for a release against the lifecycle state the core folded from the
ledger, and answers a ``GateVerdict``: allow, the decision summary recorded on the ledger's
``gate_evaluated`` event, the policy digest, ``undecided`` (exit 3) or the denial messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from governance.lifecycle import LifecycleState
from governance.policy.bundle import POLICY_DIR, load_bundle
from governance.policy.engines.port import DEFAULT_TIMEOUT_S
from governance.policy.engines.select import select_engine
from governance.policy.gates import GateRun
from governance.policy.input import GateRequest
from governance.policy.request import approvals_for, default_now, github_request
from governance.promotion import GateVerdict
from governance.records import display_path
from governance.repo import GovernedRepo, LoadedRelease

GatesPort = Callable[[LoadedRelease, str | None, LifecycleState], GateVerdict]


def gates_port(
    repo: GovernedRepo,
    *,
    engine: str | None = None,
    approvals: str = "git",
    pr: int | None = None,
    policy_dir: Path | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    deployers: tuple[str, ...] = (),
) -> GatesPort:
    def evaluate(loaded: LoadedRelease, env: str | None, state: LifecycleState) -> GateVerdict:
        root = policy_dir or repo.root / POLICY_DIR
        bundle = load_bundle(root, display_prefix=display_path(root))
        facts, excluded = approvals_for(approvals, pr)
        request = GateRequest(
            environment=env,
            now=default_now(),
            approval_source=approvals,
            approvals=facts,
            excluded_actors=excluded,
            pr=pr,
            deployers=deployers,
        )
        if approvals == "github":
            # the pull request's reviews, counted at its head (as `check --pr N` does);
            # without this fetch the github source evaluated with no approvals at all
            assert pr is not None  # approvals_for refuses github without a pull request
            request = github_request(repo, pr, env, [loaded.directory], request)
        run = GateRun(repo, bundle, select_engine(engine, timeout_s=timeout_s), request, state)
        try:
            decision = run.evaluate(loaded)
        finally:
            run.close()
        summary = decision.summary()
        summary["engine"] = decision.record.get("engine")
        summary["input_digest"] = decision.record.get("input_digest")
        summary["data_digest"] = decision.record.get("data_digest")
        return GateVerdict(
            allow=decision.allow and decision.undecided is None,
            summary=summary,
            policy_digest=bundle.digest,
            undecided=decision.undecided,
            messages=tuple(f"{v.gate_id}: {v.msg}" for v in decision.failures),
            remediations=tuple(v.remediation for v in decision.failures),
        )

    return evaluate
