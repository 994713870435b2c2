"""``governance promote | rollback | retire | status | approve``: the lifecycle commands.

Thin: parse, wire the ports (git ledger, Rego gates, signer), call one function of
``governance.promotion`` / ``governance.approving``, render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from governance import ci_context
from governance.ci_context import CiContext
from governance.cli.app_support import check_identifier, limit_option
from governance.cli.output import TextOrJson, emit_block, emit_json, emit_text, log
from governance.errors import UsageError
from governance.lifecycle import LifecycleState
from governance.promotion import Outcome, Ports, promote, retire, rollback
from governance.repo import GovernedRepo
from governance.status import DEFAULT_LIMIT, model_state, model_status, render_text

FORMAT = typer.Option(TextOrJson.text, "--format", help="Output format: text or json.")
REMOTE = typer.Option(None, "--remote",
                      help="Also publish ledger events to this git remote (fast-forward push).")


class _Basis:
    """The verified ledger commit a command's decision rests on: set by every read of the
    lifecycle state or the entries, moved by each of the command's own appends, and required
    of the next append (``append_event(expected_tip=...)``), so a decision lands only on the
    tip it was made on (issue 14: decide on the tip you append to)."""

    def __init__(self, repo: GovernedRepo, remote: str | None) -> None:
        self.repo = repo
        self.remote = remote
        self.tip: str | None = None

    def state(self, model: str) -> LifecycleState:
        """One model's lifecycle from the query index, at the verified head."""
        from governance.audit.index import answer
        from governance.ledger.reader import ledger_source

        source = ledger_source(self.repo.root, recording=True)
        state = answer(self.repo.root, source, lambda conn: model_state(
            conn, model, production_env=self.repo.config.production_environment))
        self.tip = source.last_commit
        return state

    def entries(self) -> list[Any]:
        from governance.ledger.verified import VerifiedLedger

        with VerifiedLedger(self.repo.root, recording=True) as ledger:
            rows = list(ledger.entries(0))
            self.tip = ledger.last_commit
        return rows

    def append(self, fields: Any) -> Any:
        from governance.ledger import append_event

        entry = append_event(self.repo.root, fields, remote=self.remote, expected_tip=self.tip)
        self.tip = entry.commit
        return entry


def ports_for(repo: GovernedRepo, remote: str | None = None, *, approvals: str = "git",
              pr: int | None = None, ci: CiContext | None = None) -> Ports:
    from governance.ledger.append import signer_principal

    ci = ci or ci_context.current()
    actor = signer_principal(repo.root)
    if pr is None:
        pr = ci.pull_request()
    if pr is not None and approvals == "git":
        approvals = "github"  # the promote workflow: the merged pull request's reviews
    # In CI the signer is the bot; the people who approved the deployment run (GitHub
    # deployment review) are the deployers that separation of duties checks, and the events
    # name them (source.deployers) so an auditor sees who deployed, not only the bot.
    deployers = ci.deployers(actor)
    source: dict[str, Any] = {"pr": pr} if pr is not None else {}
    if ci.deployer:
        source["deployers"] = list(deployers)

    def gates(*args: Any) -> Any:
        from governance.policy.port import gates_port  # lazy: the engine loads on demand

        return gates_port(repo, deployers=deployers, approvals=approvals, pr=pr)(*args)

    reviewed = None
    if approvals == "github" and pr is not None:
        number = pr

        def reviewed(loaded: Any) -> tuple[str | None, str]:
            from governance.approvals.pull_request import pull_request_head
            from governance.policy.request import digest_at_commit

            head = pull_request_head(number)
            return digest_at_commit(repo, loaded.directory, head), head

    basis = _Basis(repo, remote)
    return Ports(
        reviewed=reviewed,
        entries=basis.entries,
        append=basis.append,
        gates=gates,
        actor=actor,
        pause=ci.pause,
        source=source,
        fold=basis.state,
        production_env=repo.config.production_environment,
    )


def _render(outcome: Outcome, fmt: TextOrJson) -> None:
    for warning in outcome.warnings:
        log(f"warning: {warning}")
    if fmt is TextOrJson.json:
        emit_json(outcome.to_json())
    else:
        emit_text(outcome.message)


def promote_cmd(
    release: str = typer.Argument(..., help="Release id or release directory."),
    env: str = typer.Option(..., "--env", help="Target environment (from governance.yaml)."),
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
    fmt: TextOrJson = FORMAT,
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
    repo = GovernedRepo.open(Path("."))
    outcome = promote(repo, release, env, ports_for(repo, remote, approvals=source, pr=pr, ci=ci),
                      break_glass=(reason, incident) if break_glass else None)
    _render(outcome, fmt)


def rollback_cmd(
    model: str = typer.Argument(..., help="Model name."),
    env: str = typer.Option(..., "--env", help="Environment to roll back."),
    to: str = typer.Option(None, "--to",
                           help="Target release (default: the fallback, the prior approved "
                                "release live there)."),
    reason: str = typer.Option(..., "--reason", help="Why the rollback happens."),
    incident: str = typer.Option(None, "--incident", help="Linked incident id."),
    remote: str = REMOTE,
    fmt: TextOrJson = FORMAT,
) -> None:
    """Return a model in an environment to a prior approved release that was live there."""
    if not reason.strip():
        raise UsageError("--reason must not be empty")
    check_identifier(incident, "--incident")
    repo = GovernedRepo.open(Path("."))
    outcome = rollback(repo, model, env, ports_for(repo, remote), reason=reason,
                       incident=incident, to=to)
    _render(outcome, fmt)


def retire_cmd(
    release: str = typer.Argument(..., help="Release id."),
    reason: str = typer.Option(..., "--reason", help="Why the release is retired."),
    remote: str = REMOTE,
    fmt: TextOrJson = FORMAT,
) -> None:
    """Retire a release: it can never be promoted again."""
    if not reason.strip():
        raise UsageError("--reason must not be empty")
    repo = GovernedRepo.open(Path("."))
    _render(retire(repo, release, ports_for(repo, remote), reason=reason), fmt)


def status_cmd(
    model: str = typer.Argument(None, help="Model name (default: every model)."),
    fmt: TextOrJson = FORMAT,
    verified_prefix: bool = typer.Option(
        False, "--verified-prefix",
        help="If the ledger fails verification, report from its verified prefix (marked as "
             "such) instead of refusing."),
    every: bool = typer.Option(False, "--all", help="List every release, not only the newest."),
    limit: int = limit_option(DEFAULT_LIMIT, "How many releases to list per model, newest first"),
) -> None:
    """Live release per environment, fallback, pointer drift, open obligations, and the
    releases newest first with their state now (the newest --limit; --all for every one)."""
    from governance.audit.index import answer
    from governance.cli.commands_audit import prefix_line, prefix_note
    from governance.ledger.reader import ledger_source

    repo = GovernedRepo.open(Path("."))
    models = [model] if model else repo.model_names()
    if model:
        repo.load_model(model)  # unknown model: exit 1 with a hint
    source = ledger_source(repo.root, allow_prefix=verified_prefix)
    production = repo.config.production_environment
    statuses = answer(repo.root, source, lambda conn: [
        model_status(repo, model_state(conn, m, production_env=production), m,
                     limit=None if every else limit)
        for m in models])
    head = source.head()
    prefix = prefix_note(source)
    if fmt is TextOrJson.json:
        doc: dict[str, Any] = {"models": [s.to_json() for s in statuses],
                               "ledger_seq": head.seq if head else -1}
        if prefix is not None:
            doc["verified_prefix"] = prefix
        emit_json(doc)
    else:
        emit_block(render_text(statuses))
        if prefix is not None:
            emit_text(prefix_line(prefix))
    if any(s.drift for s in statuses):
        raise typer.Exit(1)


def approve_cmd(
    release: str = typer.Argument(..., help="Release id or release directory."),
    role: str = typer.Option(..., "--role", help="The role you approve in (governance.yaml)."),
    deny: bool = typer.Option(False, "--deny", help="Record a denial instead of an approval."),
    reason: str = typer.Option(None, "--reason", help="Why (mandatory with --deny)."),
    closes: str = typer.Option(
        None, "--closes",
        help="Event id of an open break-glass this post-hoc approval reviews (closes it)."),
    remote: str = REMOTE,
    fmt: TextOrJson = FORMAT,
) -> None:
    """Sign a git-native approval (or denial) bound to the release digest."""
    from governance.approving import approve

    repo = GovernedRepo.open(Path("."))
    ports = ports_for(repo, remote)
    result = approve(repo, release, role, actor=ports.actor, entries=ports.entries,
                     append=ports.append, deny=deny, reason=reason, closes=closes)
    if fmt is TextOrJson.json:
        emit_json(result.to_json())
        return
    verb = "denied" if deny else "approved"
    emit_text(f"{ports.actor} {verb} {result.release_id} as {role} "
              f"(seq {result.events[0].seq})")
    if deny:
        # a recorded denial says what would lift it, as every other denial does
        emit_text(f"remediation: {result.release_id} stays rejected until {ports.actor} approves "
                  f"it again (governance approve {result.release_id} --role {role}), or a new "
                  "release addresses the objection")
    if closes:
        emit_text(f"closes the break-glass review {closes}")
    if result.approved:
        emit_text(f"{result.release_id} is approved: every required role is filled")
    for line in result.remaining:
        emit_text(f"  pending: {line}")


def register(app: typer.Typer) -> None:
    app.command("promote")(promote_cmd)
    app.command("rollback")(rollback_cmd)
    app.command("retire")(retire_cmd)
    app.command("status")(status_cmd)
    app.command("approve")(approve_cmd)
