"""``governance env list|first|next|publish|verify``: environment order and the pointer branch.

Thin: parse the options into a typed request of ``governance.configuring``, call its use case
(order, next environment, the pointer branch, pointers compared with the ledger) with the
composition root (``governance.service.Service``), render through a renderer registry
(``governance.cli.render``). The workflows read the environment to promote into from here
instead of hard-coding one (docs/workflows.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from governance import ci_context, configuring
from governance.cli.app_support import new_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_block, emit_json, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.domain.config import Environment
from governance.environments import NextStep, PointerCheck
from governance.service import Service

if TYPE_CHECKING:  # the pointer branch's writer loads when env publish runs
    from governance.pointers import Publication

env_app = new_app("Environment order (governance.yaml) and the pointer branch.")


def _env_json(env: Environment) -> dict[str, Any]:
    return {"name": env.name, "after": env.after,
            "required_approvals": list(env.required_approvals),
            "protected_branch": env.protected_branch}


ORDER: Renderers[tuple[Environment, ...]] = Renderers("environment order")
ORDER.register(OutputFormat.json)(
    lambda order: emit_json({"environments": [_env_json(e) for e in order]}))
ORDER.register(OutputFormat.text)(lambda order: emit_block("\n".join(e.name for e in order)))

ONE: Renderers[Environment] = Renderers("environment")
ONE.register(OutputFormat.json)(lambda env: emit_json(_env_json(env)))
ONE.register(OutputFormat.text)(lambda env: emit_text(env.name))

NEXT: Renderers[NextStep] = Renderers("next environment")
NEXT.register(OutputFormat.json)(emit_to_json)
NEXT.register(OutputFormat.text)(lambda step: emit_text(step.environment.name))

PUBLISHED: Renderers[Publication] = Renderers("pointer publication")
PUBLISHED.register(OutputFormat.json)(emit_to_json)


@PUBLISHED.register(OutputFormat.text)
def _published_text(done: Publication) -> None:
    if done.changed:
        emit_text(f"published {done.branch} at {done.commit[:12]} (ledger seq {done.ledger_seq})")
    else:
        emit_text(f"{done.branch} already matches the ledger (seq {done.ledger_seq})")


CHECKED: Renderers[PointerCheck] = Renderers("pointer check")
CHECKED.register(OutputFormat.json)(emit_to_json)


@CHECKED.register(OutputFormat.text)
def _checked_text(done: PointerCheck) -> None:
    if done.ok:
        emit_text("pointer files match the ledger")


ORDER_FORMAT, ONE_FORMAT, NEXT_FORMAT = ORDER.option(), ONE.option(), NEXT.option()
PUBLISHED_FORMAT, CHECKED_FORMAT = PUBLISHED.option(), CHECKED.option()


@env_app.command("list")
def list_cmd(fmt: OutputFormat = ORDER_FORMAT, repo: Path = REPO) -> None:
    """The environments in promotion order (one name per line)."""
    ORDER.render(fmt, configuring.order(Service(repo), configuring.OrderRequest()))


@env_app.command("first")
def first_cmd(fmt: OutputFormat = ONE_FORMAT, repo: Path = REPO) -> None:
    """The first environment: where a merged release is promoted."""
    first, = configuring.order(Service(repo), configuring.OrderRequest(first_only=True))
    ONE.render(fmt, first)


@env_app.command("next")
def next_cmd(
    release: str = typer.Argument(..., help="Release id or release directory."),
    fmt: OutputFormat = NEXT_FORMAT,
    repo: Path = REPO,
) -> None:
    """The next environment for a release (exit 1 when it is live everywhere it may go), and
    with --format json the pull request the ledger says it came through."""
    NEXT.render(fmt, configuring.next_environment(Service(repo),
                                                  configuring.NextRequest(release)))


@env_app.command("publish")
def publish_cmd(
    remote: str = typer.Option(None, "--remote",
                               help="Push the pointer branch there (fast-forward, retried)."),
    fmt: OutputFormat = PUBLISHED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Commit environments/<env>.yaml as the ledger says onto governance/environments."""
    PUBLISHED.render(fmt, configuring.publish(Service(repo), configuring.PublishRequest(remote)))


@env_app.command("verify")
def verify_cmd(
    ref: str = typer.Option(None, "--ref",
                            help="Read the pointer files at this commit (default: the working "
                                 "tree), e.g. a push to the pointer branch."),
    record: bool = typer.Option(False, "--record",
                                help="Record a mismatch as policy_violation on the ledger."),
    fmt: OutputFormat = CHECKED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Compare the pointer files with the ledger: exit 1 when one names a release no ledger
    event made live there (a pointer edited by hand)."""
    request = configuring.PointerCheckRequest(ref, record, ci_context.current().source())
    done = configuring.verify_pointers(Service(repo), request)
    CHECKED.render(fmt, done)
    for m in done.mismatches:
        log(f"MISMATCH {m.message()}")
    if done.recorded is not None:
        log(f"recorded as policy_violation, seq {done.recorded.seq}")
    if not done.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(env_app, name="env")
