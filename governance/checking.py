"""The gate check use case behind ``governance check``: a typed request in, the decisions out.

``check`` parses its options into a ``CheckRequest`` and calls ``check`` with the composition
root (``governance.service.Service``); ``governance.policy.check`` evaluates the gates through
the Rego engine. The result is data (the decisions, the gates' annotations, the exit code it
implies); the CLI renders it through a renderer registry (``governance.cli.commands_policy``).
With ``--record``, ``record`` then puts each counted pull-request review on the ledger, after
the report is out, so a failed append never hides the decisions.

The engine, the gate report and the ledger writer are imported by the use case that needs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.policy.check import CheckOutcome
    from governance.service import Service


@dataclass(frozen=True)
class CheckRequest:
    releases: tuple[str, ...]  # release directories or ids
    all_releases: bool
    environment: str | None  # None: release readiness; E: every promotion gate for E
    approvals: str  # github, git or none
    pr: int | None
    engine: str | None
    policy_dir: Path | None
    fail_on_warn: bool
    decision_out: Path | None  # where the decision record(s) go as JSON, if anywhere
    record: bool = False  # record the counted reviews of --pr on the ledger


@dataclass(frozen=True)
class CheckResult:
    request: CheckRequest
    outcome: CheckOutcome

    @property
    def totals(self) -> bool:
        """Whether the text report ends with totals (more than one release checked)."""
        return self.request.all_releases or len(self.outcome.decisions) > 1

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code(self.request.fail_on_warn)


def check(service: Service, request: CheckRequest, *,
          progress: Callable[[str], None] | None = None) -> CheckResult:
    """Evaluate the gates for the releases asked for; write the decision records to
    ``decision_out`` if asked."""
    from governance.policy.check import CheckOptions, run_check  # the engine loads on demand

    outcome = run_check(
        service.repo,
        CheckOptions(
            refs=request.releases,
            all_releases=request.all_releases,
            environment=request.environment,
            approvals=request.approvals,
            pr=request.pr,
            engine=request.engine,
            policy_dir=request.policy_dir,
            fail_on_warn=request.fail_on_warn,
        ),
        progress=progress,
    )
    if request.decision_out is not None:
        records = [d.record for d in outcome.decisions]
        request.decision_out.write_text(
            json.dumps(records[0] if len(records) == 1 else records, indent=2, sort_keys=True)
            + "\n", encoding="utf-8")
    return CheckResult(request, outcome)


def record(service: Service, result: CheckResult) -> int:
    """Record each review counted from the request's pull request as approval evidence on the
    ledger (signed by the CI identity); how many were written."""
    from governance.errors import UsageError
    from governance.policy.record import approval_events, record_approvals

    pr = result.request.pr
    if pr is None or result.request.approvals != "github":
        raise UsageError("--record goes with --pr N --approvals github")
    written = record_approvals(approval_events(result.outcome.decisions, pr),
                               service.entries(), service.append)
    return len(written)
