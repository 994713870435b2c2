"""The ``governance`` application and its single error funnel.

Commands are listed from ``governance.cli.command_table`` and their modules imported only when
they run (issue 18: a read query or ``--help`` does not pay for the ledger writer, the Rego
engine or PyGithub). Commands parse options, call one core function, render the result and
return; every ``GovernanceError`` raised below is caught here once, printed as its
``diagnostics()`` on stderr and turned into the contract's exit code (DESIGN section 8).
``--traceback`` re-raises with the stack. Typer is built with
``pretty_exceptions_show_locals=False`` everywhere: locals in a traceback leak tokens into CI logs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import click
import typer
import typer.core
import typer.main

from governance import __version__
from governance.cli import funnel
from governance.cli.app_support import ListingGroup
from governance.cli.command_table import (
    BY_NAME,
    COMMANDS,
    ROOT_HELP,
    TRACEBACK_HELP,
    VERSION_HELP,
    CommandEntry,
)
from governance.cli.streams import attach_closed_streams
from governance.errors import EXIT_USAGE
from governance.safe_text import one_line

# Help and usage errors are rendered by click (rich_markup_mode=None on every application, see
# app_support.ListingGroup). typer 0.19 still imports rich for every option line with a default
# ("[default: ...]", escaped for rich, so click would print "\[default: ...]") whenever rich is
# installed; telling typer rich is absent keeps the plain rendering plain and rich unimported.
typer.core.HAS_RICH = False

EXIT_BROKEN_PIPE = funnel.EXIT_BROKEN_PIPE  # a closed stdout pipe (governance.cli.funnel)


def _no_envvar_hints(command: click.Command) -> None:
    """Typer marks every option ``show_envvar`` even when it reads no environment variable, so
    click's usage errors said ``Invalid value for '--format' (env var: 'None')``. Only an
    option that really has an environment variable names it."""
    for param in command.params:
        if isinstance(param, click.Option) and not param.envvar:
            param.show_envvar = False
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _no_envvar_hints(sub)


# Each command module registers into this application once, when a command it defines is first
# used; the root group below takes the command it needs from here (governance.cli.command_table).
_staging = typer.Typer(pretty_exceptions_show_locals=False, add_completion=False,
                     rich_markup_mode=None)
_registered: set[str] = set()


def _load(entry: CommandEntry) -> click.Command:
    """The click command (or group) ``entry`` names, built by typer from its modules, exactly
    as an application registering every module at start would build it."""
    for module_name in entry.modules:
        if module_name not in _registered:
            module = importlib.import_module(f"governance.cli.{module_name}")
            module.register(_staging)
            _registered.add(module_name)
    one = typer.Typer(pretty_exceptions_show_locals=False, add_completion=False,
                     rich_markup_mode=None)
    one.registered_commands = [c for c in _staging.registered_commands if c.name == entry.name]
    one.registered_groups = [g for g in _staging.registered_groups if g.name == entry.name]
    command = typer.main.get_group(one).commands.get(entry.name)
    if command is None:  # the table names a module that does not define the command: a bug
        raise RuntimeError(f"governance.cli.command_table: {', '.join(entry.modules)} "
                           f"define no command {entry.name!r}")
    _no_envvar_hints(command)
    return command


class _LazyCommands(MutableMapping[str, click.Command]):
    """The root group's commands: the table's names, each command built on first access.

    Iterating gives the names without importing anything; ``commands[name]`` imports the
    modules that define ``name``. ``listed(name)`` is what a listing needs (``--help``, shell
    completion): the command if it is already built, else a stand-in holding the table's help.
    """

    def __init__(self) -> None:
        self._names: list[str] = [entry.name for entry in COMMANDS]
        self._built: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = _load(BY_NAME[name])
        return self._built[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def listed(self, name: str) -> click.Command | None:
        if name in self._built:
            return self._built[name]
        entry = BY_NAME.get(name)
        if entry is None or name not in self._names:
            return None
        # never invoked: resolve_command swaps in the real command before anything runs
        return click.Command(entry.name, help=entry.help)


class _FunnelGroup(ListingGroup):
    """Top-level group: maps GovernanceError (and bugs) to exit codes in one place, and imports
    a command's implementation only when that command runs (governance.cli.command_table)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = _LazyCommands()
        for name, command in self.commands.items():
            lazy[name] = command
        self.lazy_commands = lazy
        self.commands = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # typer's own walks the values, building every command

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.lazy_commands.listed(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None:
            command = self.commands[name]
        return name, command, rest

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as err:
            _escape_message(err)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with funnel.at_the_edge():  # the one read of the process environment, per command
                return super().invoke(ctx)
        except click.ClickException as err:  # usage errors quote what was typed: escape it
            _escape_message(err)
            raise
        except (typer.Exit, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise
        except Exception as err:  # the funnel shared with the fast path (governance.cli.fast)
            raise typer.Exit(funnel.failed(err, _wants_traceback(ctx))) from None


def _escape_message(err: click.ClickException) -> None:
    """A usage error quotes the arguments as typed; shown on a terminal, their control and
    bidi characters are escaped like every other text output (governance.safe_text). A bare
    group's help (click's NoArgsIsHelpError) is our own text, shown as it is."""
    if isinstance(err, click.exceptions.NoArgsIsHelpError):
        return
    err.message = one_line(err.message)
    if isinstance(err, click.NoSuchOption):
        err.option_name = one_line(err.option_name)
        err.possibilities = [one_line(p) for p in err.possibilities or ()]


def _wants_traceback(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("traceback_"))


app = typer.Typer(
    cls=_FunnelGroup,
    help=ROOT_HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"governance {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    traceback_: bool = typer.Option(
        False, "--traceback", help=TRACEBACK_HELP
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version,
        help=VERSION_HELP),
) -> None:
    """Git-native governance for ML model releases."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    attach_closed_streams()
    code: Any = 0
    try:
        app(args=argv, prog_name="governance")
    except click.exceptions.UsageError as err:  # pragma: no cover - typer exits itself
        typer.echo(str(err), err=True)
        code = EXIT_USAGE
    except SystemExit as done:
        code = done.code
        if isinstance(sys.stdout, click.utils.PacifyFlushWrapper):
            code = EXIT_BROKEN_PIPE  # click's own EPIPE handling (help, usage) exits 1
    except BrokenPipeError:  # raised outside a command (help text, usage)
        funnel.silence_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    sys.exit(funnel.flushed(code))
