"""Shared construction of typer sub-applications (safe defaults in one place)."""

from __future__ import annotations

import click
import typer
from typer.core import TyperGroup

from governance.errors import UsageError
from governance.safe_text import one_line


class ListingGroup(TyperGroup):
    """A group whose help lists each command with the whole first paragraph of its help.

    Help is rendered by click, not rich (``rich_markup_mode=None`` on every application):
    importing rich's help renderer cost more than the rest of ``governance --help`` together
    (issue 18). Click would cut each command's line to the terminal width; this keeps it whole,
    wrapped, as the rich rendering did."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, first_paragraph(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def first_paragraph(command: click.Command) -> str:
    """A command's short help, else the first paragraph of its help, on one line."""
    text = command.short_help or (command.help or "").strip().split("\n\n", 1)[0]
    return " ".join(text.split())


def new_app(help_text: str) -> typer.Typer:
    """A sub-application: no locals in tracebacks (they leak tokens), help when bare, help
    rendered by click (see ListingGroup)."""
    return typer.Typer(
        cls=ListingGroup,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        add_completion=False,
    )


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
