"""``governance promote | rollback | retire | status | approve``: the lifecycle commands.

Thin: parse the options into a typed request (``governance.deciding`` for the lifecycle,
``governance.reading`` for status), call its use case with the composition root
(``governance.service.Service``, which wires the ports: git ledger, Rego gates, signer) and
render the result through a renderer registry (``governance.cli.render``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import ci_context, deciding
from governance.cli import reads
from governance.cli.app_support import check_identifier
from governance.cli.options import REMOTE, REPO, VERIFIED_PREFIX, env_option, limit_option
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.reads import STATUS
from governance.cli.render import Renderers, emit_to_json
from governance.errors import UsageError
from governance.service import Service
from governance.status import DEFAULT_LIMIT

if TYPE_CHECKING:  # status, which this module also serves, never imports the promotion code
    from governance.promotion import Outcome

OUTCOME: Renderers[Outcome] = Renderers("lifecycle outcome")
OUTCOME.register(OutputFormat.json)(emit_to_json)
OUTCOME.register(OutputFormat.text)(lambda outcome: emit_text(outcome.message))
OUTCOME_FORMAT = OUTCOME.option()


def _render(outcome: Outcome, fmt: OutputFormat) -> None:
    for warning in outcome.warnings:
        log(f"warning: {warning}")
    OUTCOME.render(fmt, outcome)


def promote_cmd(
    release: str = typer.Argument(..., help="Release id or release directory."),
    env: str = env_option("Target environment (from governance.yaml).", required=True),
    break_glass: bool = typer.Option(
        False, "--break-glass",
        help="Override a gate denial loudly (needs --reason and --incident; opens a "
             "post-hoc review obligation)."),
    reason: str = typer.Option(None, "--reason", help="Why (mandatory with --break-glass)."),
    incident: str = typer.Option(None, "--incident",
                                 help="Incident id (mandatory with --break-glass)."),
    pr: int = typer.Option(None, "--pr", min=1,
                           help="Pull request whose reviews are the approvals (GitHub; "
                                "default: GOVERNANCE_PR, set by the promote workflow)."),
    approvals: str = typer.Option(None, "--approvals",
                                  help="Approval source: git (ledger, default) or github "
                                       "(default when --pr is given)."),
    remote: str = REMOTE,
    fmt: OutputFormat = OUTCOME_FORMAT,
    repo: Path = REPO,
) -> None:
    """Promote a release to an environment: every gate and approval must hold for its digest."""
    ci = ci_context.current()  # read once at the CLI edge (governance.cli.app)
    if pr is None:
        pr = ci.pull_request()
    source = approvals or ("github" if pr is not None else "git")
    if source not in ("git", "github"):
        raise UsageError(f"--approvals {source!r}: choose git or github")
    if source == "github" and pr is None:
        raise UsageError("--approvals github needs --pr N")
    check_identifier(incident, "--incident")
    if break_glass and not (reason and incident):
        raise UsageError("--break-glass needs --reason and --incident")
    if not break_glass and (reason or incident):
        raise UsageError("--reason and --incident go with --break-glass on promote")
    request = deciding.PromoteRequest(release, env, source, pr,
                                      (reason, incident) if break_glass else None, remote)
    _render(deciding.promote(Service(repo), request, ci), fmt)


def rollback_cmd(
    model: str = typer.Argument(..., help="Model name."),
    env: str = env_option("Environment to roll back.", required=True),
    to: str = typer.Option(None, "--to",
                           help="Target release (default: the fallback, the prior approved "
                                "release live there)."),
    reason: str = typer.Option(..., "--reason", help="Why the rollback happens."),
    incident: str = typer.Option(None, "--incident", help="Linked incident id."),
    remote: str = REMOTE,
    fmt: OutputFormat = OUTCOME_FORMAT,
    repo: Path = REPO,
) -> None:
    """Return a model in an environment to a prior approved release that was live there."""
    if not reason.strip():
        raise UsageError("--reason must not be empty")
    check_identifier(incident, "--incident")
    request = deciding.RollbackRequest(model, env, reason, incident, to, remote)
    _render(deciding.rollback(Service(repo), request), fmt)


def retire_cmd(
    release: str = typer.Argument(..., help="Release id."),
    reason: str = typer.Option(..., "--reason", help="Why the release is retired."),
    remote: str = REMOTE,
    fmt: OutputFormat = OUTCOME_FORMAT,
    repo: Path = REPO,
) -> None:
    """Retire a release: it can never be promoted again."""
    if not reason.strip():
        raise UsageError("--reason must not be empty")
    request = deciding.RetireRequest(release, reason, remote)
    _render(deciding.retire(Service(repo), request), fmt)


STATUS_FORMAT = STATUS.option()


def status_cmd(
    model: str = typer.Argument(None, help="Model name (default: every model)."),
    fmt: OutputFormat = STATUS_FORMAT,
    verified_prefix: bool = VERIFIED_PREFIX,
    every: bool = typer.Option(False, "--all", help="List every release, not only the newest."),
    limit: int = limit_option(DEFAULT_LIMIT, "How many releases to list per model, newest first"),
    repo: Path = REPO,
) -> None:
    """Live release per environment, fallback, pointer drift, open obligations, and the
    releases newest first with their state now (the newest --limit; --all for every one)."""
    code = reads.status(model, fmt, verified_prefix, every, limit, repo)  # also the fast path's
    if code:  # a pointer drifted from the ledger
        raise typer.Exit(code)


APPROVAL: Renderers[deciding.Approval] = Renderers("approval")
APPROVAL.register(OutputFormat.json)(emit_to_json)


@APPROVAL.register(OutputFormat.text)
def _approval_text(approval: deciding.Approval) -> None:
    request, result, actor = approval.request, approval.result, approval.actor
    verb = "denied" if request.deny else "approved"
    emit_text(f"{actor} {verb} {result.release_id} as {request.role} "
              f"(seq {result.events[0].seq})")
    if request.deny:
        # a recorded denial says what would lift it, as every other denial does
        emit_text(f"remediation: {result.release_id} stays rejected until {actor} approves "
                  f"it again (governance approve {result.release_id} --role {request.role}), "
                  "or a new release addresses the objection")
    if request.closes:
        emit_text(f"closes the break-glass review {request.closes}")
    if result.approved:
        emit_text(f"{result.release_id} is approved: every required role is filled")
    for line in result.remaining:
        emit_text(f"  pending: {line}")


APPROVAL_FORMAT = APPROVAL.option()


def approve_cmd(
    release: str = typer.Argument(..., help="Release id or release directory."),
    role: str = typer.Option(..., "--role", help="The role you approve in (governance.yaml)."),
    deny: bool = typer.Option(False, "--deny", help="Record a denial instead of an approval."),
    reason: str = typer.Option(None, "--reason", help="Why (mandatory with --deny)."),
    closes: str = typer.Option(
        None, "--closes",
        help="Event id of an open break-glass this post-hoc approval reviews (closes it)."),
    remote: str = REMOTE,
    fmt: OutputFormat = APPROVAL_FORMAT,
    repo: Path = REPO,
) -> None:
    """Sign a git-native approval (or denial) bound to the release digest."""
    request = deciding.ApproveRequest(release, role, deny, reason, closes, remote)
    APPROVAL.render(fmt, deciding.approve(Service(repo), request))


def register(app: typer.Typer) -> None:
    app.command("promote")(promote_cmd)
    app.command("rollback")(rollback_cmd)
    app.command("retire")(retire_cmd)
    app.command("status")(status_cmd)
    app.command("approve")(approve_cmd)
