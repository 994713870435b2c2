"""Shared construction of typer sub-applications (safe defaults in one place)."""

from __future__ import annotations

from typing import Any

import typer

from governance.errors import UsageError
from governance.safe_text import one_line


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


def check_identifier(value: str | None, option: str) -> None:
    """An identifier given on the command line (an incident id, a role, an actor id) with no
    control or format character in it (UsageError, exit 2, naming the option and showing the
    character escaped): an identifier is matched and printed, never a place for a newline or
    an ANSI escape. Free text (``--reason``) may hold them and is shown escaped on output."""
    if value is None or one_line(value) == value:
        return
    bad = next(c for c in value if one_line(c) != c)
    raise UsageError(f"{option} {one_line(value)!s}: contains the control character "
                     f"{one_line(bad)}",
                     hint=f"{option} is an identifier: letters, digits and punctuation only")
