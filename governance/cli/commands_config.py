"""``governance config record``: record a merged governance configuration change.

Thin: parse into a ``governance.configuring.ConfigRecordRequest``, run the use case
``governance.config_change.record_config_change`` (the governance
paths the push changed, the merged pull request's approvals re-verified, the pushed content
compared with the PR head, the event picked and appended) through the ports the composition
root wires (``governance.service.Service.config_change_ports``), render through a renderer
registry (``governance.cli.render``). Exit 0 when
``config_changed`` was recorded (or nothing changed), 1 when a ``policy_violation`` was, 3 when
the approvals could not be decided (nothing recorded; re-run).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import ci_context, configuring
from governance.cli.app_support import new_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.errors import UsageError
from governance.service import Service

if TYPE_CHECKING:
    from governance.config_change import ConfigRecord

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?\Z")

RECORDED: Renderers[ConfigRecord] = Renderers("config record")
RECORDED.register(OutputFormat.json)(emit_to_json)


@RECORDED.register(OutputFormat.text)
def _recorded_text(done: ConfigRecord) -> None:
    if done.entry is None:
        emit_text("no governance configuration changed")
    else:
        emit_text(f"recorded {done.entry.event_type} (seq {done.entry.seq}): {done.reason}")


RECORDED_FORMAT = RECORDED.option()

config_app = new_app("Governance configuration changes merged to the protected branch.")


@config_app.command("record")
def record_cmd(
    before: str = typer.Option(..., "--before", help="The commit before the push."),
    after: str = typer.Option(None, "--after", help="The pushed commit (default: HEAD)."),
    pr: int = typer.Option(None, "--pr", min=1,
                           help="The pull request merged as this push (none: a direct push)."),
    fmt: OutputFormat = RECORDED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Record config_changed with the pull request's approvals, or policy_violation."""
    for option, value in (("--before", before), ("--after", after)):
        if value is not None and not _SHA.fullmatch(value):
            raise UsageError(f"{option} {value!r} is not a full commit sha",
                             hint="40 (or 64) lowercase hex characters, e.g. github.event.before")
    request = configuring.ConfigRecordRequest(before, after, pr, ci_context.current().source())
    done = configuring.record_config(Service(repo), request)
    RECORDED.render(fmt, done)
    if done.entry is not None and not done.decision.approved:
        log(f"error: {done.reason}")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
