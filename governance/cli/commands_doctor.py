"""``governance doctor`` (readiness, each finding with its fix) and ``governance pins write``
(the workflows' hash-checked requirements). Thin: parse into a typed request of
``governance.upkeep``, call its use case (``governance.doctor`` or ``governance.pins``), render
through a renderer registry, map readiness to the exit code (0 ready, 1 not ready)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from governance import upkeep
from governance.cli.app_support import new_app
from governance.cli.options import REPO
from governance.cli.output import OutputFormat, emit_text, log
from governance.cli.render import Renderers, emit_to_json
from governance.service import Service

ROOT = typer.Option(None, "--root",
                    help="Root of the governed repository, exactly (default: from --repo).")

if TYPE_CHECKING:  # the checks load when doctor runs
    from governance.doctor import Diagnosis

pins_app = new_app("The workflows' pinned, hash-checked install of model-governance.")


DIAGNOSIS: Renderers[Diagnosis] = Renderers("readiness")
DIAGNOSIS.register(OutputFormat.json)(emit_to_json)


@DIAGNOSIS.register(OutputFormat.text)
def _diagnosis_text(result: Diagnosis) -> None:
    from governance.doctor import ERROR

    errors = [f for f in result.findings if f.severity == ERROR]
    emit_text("ready" if result.ready else f"not ready: {len(errors)} problem(s)")
    for f in result.findings:
        emit_text(f"{f.severity} [{f.check}] {f.message}")
        emit_text(f"  fix: {f.fix}")
    emit_text(f"checked: {', '.join(result.checked)}")


DIAGNOSIS_FORMAT = DIAGNOSIS.option()

PINNED: Renderers[upkeep.PinsWritten] = Renderers("pins")


@PINNED.register(OutputFormat.text)
def _pinned_text(written: upkeep.PinsWritten) -> None:
    for note in written.notes:
        log(f"note: {note}")
    emit_text(f"wrote {written.path}")


def doctor(root: Path | None = ROOT, fmt: OutputFormat = DIAGNOSIS_FORMAT,
           repo: Path = REPO) -> None:
    """Check that this repository and you are ready to govern; each finding names its fix.
    Exit 0 when ready, 1 otherwise (advice never fails)."""
    result = upkeep.doctor(Service(repo), upkeep.DoctorRequest(root))
    DIAGNOSIS.render(fmt, result)
    if not result.ready:
        raise typer.Exit(1)


@pins_app.command("write")
def pins_write(
    artifact: list[Path] = typer.Option(
        [], "--artifact",
        help="Wheel or sdist of the installed model-governance version (repeatable); its "
             "sha256 is pinned.",
    ),
    root: Path | None = ROOT,
    repo: Path = REPO,
) -> None:
    """(Re)write .github/governance-requirements.txt for the installed version."""
    written = upkeep.write_pins(Service(repo), upkeep.PinsRequest(tuple(artifact), root))
    PINNED.render(OutputFormat.text, written)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
    app.command("doctor")(doctor)
    app.add_typer(pins_app, name="pins")
