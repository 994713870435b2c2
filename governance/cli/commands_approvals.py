"""Approval commands: ``governance codeowners generate|check`` and ``release propose``.

Thin: parse options into a typed request of ``governance.upkeep``, call its use case
(``governance.approvals.ownership`` or ``propose``) on the repository the composition root
finds, render through a renderer registry, return. Errors propagate to the funnel in
``governance.cli.app`` (exit 1 for drift or invalid lines, 3 for missing configuration).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import upkeep
from governance.cli.app_support import new_app
from governance.cli.commands_records import release_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_json, emit_text
from governance.cli.render import Renderers, emit_to_json
from governance.errors import InvalidInput
from governance.service import Service

if TYPE_CHECKING:  # loaded when a command runs
    from governance.approvals.ownership import CheckResult
    from governance.approvals.propose import Proposed

codeowners_app = new_app("Generate and check CODEOWNERS from governance.yaml.")

ROOT = typer.Option(None, "--root",
                    help="Root of the governed repository, exactly (default: from --repo).")

WRITTEN: Renderers[str] = Renderers("CODEOWNERS written")
WRITTEN.register(OutputFormat.json)(lambda rel: emit_json({"written": rel}))
WRITTEN.register(OutputFormat.text)(lambda rel: emit_text(f"wrote {rel}"))

CHECKED: Renderers[CheckResult] = Renderers("CODEOWNERS check")
CHECKED.register(OutputFormat.json)(lambda result: emit_json(
    {"path": result.path, "ok": result.ok, "problems": [p.to_json() for p in result.problems]}))


@CHECKED.register(OutputFormat.text)
def _checked_text(result: CheckResult) -> None:
    if result.ok:
        emit_text(f"{result.path} matches governance.yaml")


PROPOSED: Renderers[Proposed] = Renderers("release proposal")
PROPOSED.register(OutputFormat.json)(emit_to_json)


@PROPOSED.register(OutputFormat.text)
def _proposed_text(result: Proposed) -> None:
    emit_text(f"pull request #{result.number} for {result.branch}")
    emit_text(f"summary comment {result.comment_id}")


WRITTEN_FORMAT, CHECKED_FORMAT, PROPOSED_FORMAT = (WRITTEN.option(), CHECKED.option(),
                                                   PROPOSED.option())


@codeowners_app.command("generate")
def generate(root: Path | None = ROOT, output_format: OutputFormat = WRITTEN_FORMAT,
             repo: Path = REPO) -> None:
    """Write .github/CODEOWNERS from governance.yaml (model approvers, governance owners)."""
    request = upkeep.CodeownersRequest(root)
    WRITTEN.render(output_format, upkeep.generate_codeowners(Service(repo), request))


@codeowners_app.command("check")
def check(root: Path | None = ROOT, output_format: OutputFormat = CHECKED_FORMAT,
          repo: Path = REPO) -> None:
    """Fail (exit 1) when CODEOWNERS has invalid lines or drifts from governance.yaml."""
    result = upkeep.check_codeowners(Service(repo), upkeep.CodeownersRequest(root))
    CHECKED.render(output_format, result)
    if not result.ok:
        raise InvalidInput(
            result.problems, message=f"{result.path} is not in sync with governance.yaml"
        )


def propose(
    release: str = typer.Argument(..., help="Release directory or release id."),
    remote: str = typer.Option("origin", "--remote", help="Git remote to push the branch to."),
    repository: str = typer.Option(
        "", "--repository", help="GitHub owner/name (default: $GITHUB_REPOSITORY)."
    ),
    gates: Path | None = typer.Option(
        None, "--gates", help="JSON output of `governance check` to include in the summary."
    ),
    output_format: OutputFormat = PROPOSED_FORMAT,
    repo: Path = REPO,
) -> None:
    """Push a release branch and open or update its pull request with one summary comment."""
    request = upkeep.ProposeRequest(release, remote, repository or None, gates)
    PROPOSED.render(output_format, upkeep.propose(Service(repo), request))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.add_typer(codeowners_app, name="codeowners")
    # `release propose` joins the release group owned by commands_records (once, however many
    # applications this module registers into)
    if not any(c.name == "propose" for c in release_app.registered_commands):
        release_app.command("propose")(propose)
