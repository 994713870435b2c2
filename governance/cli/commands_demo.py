"""``governance demo``: the governed lifecycle end to end on a temporary repository."""

from __future__ import annotations

from pathlib import Path

import typer

from governance.cli.output import emit_block


def demo(
    keep: Path = typer.Option(
        None, "--keep", help="Build the demo in this new directory and keep it (default: a "
                             "temporary directory, removed afterwards)."),
) -> None:
    """Run register -> gates -> approvals -> promote -> deny -> rollback -> verify -> export."""
    from governance.demo import main

    main(emit_block, keep)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
