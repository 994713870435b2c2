"""The ``governance`` console entry point: ``--help``, ``--version`` and the read queries
without typer.

``governance --help`` and ``governance --version`` are asked by scripts and people far more
often than they need the application: both are answered here from the static command table
(``governance.cli.command_table``) with click alone, the same bytes the typer application
prints (``tests/unit/test_cli_entry.py`` compares them at several terminal widths), without
importing typer (issue 18: ``--help`` <= 90 ms). ``live``, ``status`` and ``history`` on the
local ledger, and ``ledger verify``, are answered by the fast path (``governance.cli.fast``),
without typer or click,
when the command line is one it parses exactly as click would. Every other command line goes to
``governance.cli.app.main`` unchanged.
"""

from __future__ import annotations

import os
import sys

EXIT_BROKEN_PIPE = 141  # governance.cli.app.EXIT_BROKEN_PIPE (not imported: it imports typer)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    from governance.cli.streams import attach_closed_streams

    attach_closed_streams()
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from governance import __version__

        _answer(f"governance {__version__}\n")
    if args == ["--help"]:
        _answer(root_help())
    from governance.cli import fast

    fast.main(args)  # exits when it answers the command line
    from governance.cli.app import main as app_main

    app_main(argv)


def _answer(text: str) -> None:
    """Print ``text`` and exit 0; a reader that stopped reading gets the exit status of a tool
    killed by SIGPIPE, as from the application (``governance.cli.app``)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(EXIT_BROKEN_PIPE)
    sys.exit(0)


def root_help() -> str:
    """``governance --help`` as the application renders it (click's formatter, the table's
    commands each with the whole first paragraph of its help: ``app_support.ListingGroup``)."""
    import click

    from governance.cli.command_table import COMMANDS, ROOT_HELP, TRACEBACK_HELP, VERSION_HELP

    class _Root(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return [entry.name for entry in COMMANDS]

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [(entry.name, " ".join(entry.help.strip().split("\n\n", 1)[0].split()))
                    for entry in COMMANDS]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    root = _Root("governance", help=ROOT_HELP, params=[
        click.Option(["--traceback"], is_flag=True, help=TRACEBACK_HELP),
        click.Option(["--version"], is_flag=True, help=VERSION_HELP),
    ])
    with click.Context(root, info_name="governance") as ctx:
        return ctx.get_help() + "\n"
