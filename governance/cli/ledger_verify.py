"""``governance ledger verify``: the command body and its renderers, without typer or click.

One implementation, two callers: the typer command (``governance.cli.commands_ledger.verify``)
and the fast path of the entry point (``governance.cli.fast``), which answers ``governance
ledger verify`` command lines without importing typer, click or the other ledger commands
(issue 13: ``ledger verify`` as a command >= 100x ``git log --show-signature``; the imports
were a fifth of the command's run). The body takes the parsed options, calls the use case
(``governance.trail.verify``) with the composition root, renders the report through its
renderer registry and returns the exit code; a failure is raised as the ``GovernanceError``
the caller's error funnel (``governance.cli.funnel``, shared too) maps to 1 (tampered) or 3
(undecided).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from governance import trail
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.service import Service

if TYPE_CHECKING:  # the verifier loads when the command runs
    from governance.ledger.verify import VerifyReport

VERIFIED: Renderers[VerifyReport] = Renderers("ledger verification")
VERIFIED.register(OutputFormat.json)(emit_to_json)


@VERIFIED.register(OutputFormat.text)
def _verified_text(report: VerifyReport) -> None:
    if report.failure is None:
        emit_text(f"ok: {report.events} events, {report.signatures} signatures, "
                  f"{report.stored_checkpoints} stored checkpoints, "
                  f"{report.external_checkpoints} external checkpoints verified; "
                  f"{len(report.principals)} signers; root {report.root}")
        return
    f = report.failure
    where = f"seq {f.seq}" if f.seq is not None else "checkpoint"
    verdict = "undecided" if f.undecided else "tampered"
    emit_text(f"{verdict}: {where}: {f.reason}" + (f" (commit {f.commit})" if f.commit
                                                    else ""))
    emit_text(f"verified {report.events} events before the failure")


def verify(checkpoint_files: Sequence[Path], repo: Path, fmt: OutputFormat) -> int:
    """``governance ledger verify``: every commit, event, signature and checkpoint, the first
    failure named (raised for the funnel: 1 tampered, 3 undecided); 0 when all passed."""
    report = trail.verify(Service(repo), trail.VerifyRequest(tuple(checkpoint_files)))
    for w in report.warnings:
        log(f"warning: {w}")
    if not checkpoint_files and report.failure is None:
        log("note: no external checkpoint given; a history rewritten and re-signed with valid "
            "keys, or a dropped tip, is only caught against one (--checkpoint FILE)")
    VERIFIED.render(fmt, report)
    failure = trail.refusal(report)  # exit code through the funnel: 3 undecided, 1 tampered
    if failure is not None:
        raise failure
    return 0
