"""Shared construction of typer sub-applications (safe defaults in one place)."""

from __future__ import annotations

from typing import Any

import typer


def new_app(help_text: str) -> typer.Typer:
    """A sub-application: no locals in tracebacks (they leak tokens), help when bare."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=False,
    )


# Every --limit is validated the same way (a click range: exit 2 naming the value), so no command
# accepts what another refuses; the bound keeps the value an SQLite integer.
LIMIT_MAX = 1_000_000_000


def limit_option(default: int | None, help_text: str) -> Any:
    """The ``--limit N`` option: a whole number from 1 to LIMIT_MAX."""
    return typer.Option(default, "--limit", min=1, max=LIMIT_MAX,
                        help=f"{help_text} (1 to {LIMIT_MAX:,})")
