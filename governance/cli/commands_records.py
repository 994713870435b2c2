"""Commands over governed records: init, validate, digest, model new, release new, schema."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the application."""
