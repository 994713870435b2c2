"""Approval commands: ``governance codeowners generate|check``.

Thin: parse options, call ``governance.approvals.ownership``, render, return. Errors propagate
to the funnel in ``governance.cli.app`` (exit 1 for drift or invalid lines, 3 for missing
configuration).
"""

from __future__ import annotations

from pathlib import Path

import typer

from governance.approvals import ownership
from governance.cli.app_support import new_app
from governance.cli.output import TextOrJson, emit_json, emit_text
from governance.errors import InvalidInput

codeowners_app = new_app("Generate and check CODEOWNERS from governance.yaml.")

ROOT = typer.Option(Path("."), "--root", help="Root of the governed repository.")
FORMAT = typer.Option(TextOrJson.text, "--format", help="Output format: text or json.")


@codeowners_app.command("generate")
def generate(root: Path = ROOT, output_format: TextOrJson = FORMAT) -> None:
    """Write .github/CODEOWNERS from governance.yaml (model approvers, governance owners)."""
    target = ownership.write(root)
    rel = target.relative_to(root).as_posix()
    if output_format is TextOrJson.json:
        emit_json({"written": rel})
    else:
        emit_text(f"wrote {rel}")


@codeowners_app.command("check")
def check(root: Path = ROOT, output_format: TextOrJson = FORMAT) -> None:
    """Fail (exit 1) when CODEOWNERS has invalid lines or drifts from governance.yaml."""
    result = ownership.check(root)
    if output_format is TextOrJson.json:
        emit_json(
            {
                "path": result.path,
                "ok": result.ok,
                "problems": [p.to_json() for p in result.problems],
            }
        )
    elif result.ok:
        emit_text(f"{result.path} matches governance.yaml")
    if not result.ok:
        raise InvalidInput(
            result.problems, message=f"{result.path} is not in sync with governance.yaml"
        )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.add_typer(codeowners_app, name="codeowners")
