"""Shared construction of typer sub-applications (safe defaults in one place)."""

from __future__ import annotations

import typer


def new_app(help_text: str) -> typer.Typer:
    """A sub-application: no locals in tracebacks (they leak tokens), help when bare."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=False,
    )
