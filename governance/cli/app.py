"""The ``governance`` application and its single error funnel.

Commands parse options, call one core function, render the result and return; every
``GovernanceError`` raised below is caught here once, printed as its ``diagnostics()`` on stderr
and turned into the contract's exit code (DESIGN section 8). ``--traceback`` re-raises with the
stack. Typer is built with ``pretty_exceptions_show_locals=False`` everywhere: locals in a
traceback leak tokens into CI logs.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click
import typer
from typer.core import TyperGroup

from governance import __version__, ci_context
from governance.errors import EXIT_UNDECIDED, EXIT_USAGE, GovernanceError
from governance.safe_text import keep_lines, one_line

# A reader that stopped reading (``governance history M | head -1``, ``| true``): the command
# stops quietly, as a tool killed by SIGPIPE does, with the exit status a shell reports for one
# (128 + SIGPIPE): never 0, since the output was not delivered, so ``set -o pipefail`` in CI
# sees the same as with git or coreutils; never an "internal error" on stderr.
EXIT_BROKEN_PIPE = 141


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


class _FunnelGroup(TyperGroup):
    """Top-level group: maps GovernanceError (and bugs) to exit codes in one place."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _no_envvar_hints(command)
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
            # the one read of the process environment (governance.ci_context), per command
            with ci_context.using(ci_context.read_at_edge()):
                return super().invoke(ctx)
        except click.ClickException as err:  # usage errors quote what was typed: escape it
            _escape_message(err)
            raise
        except (typer.Exit, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except GovernanceError as err:
            if _wants_traceback(ctx):
                traceback.print_exc(file=sys.stderr)
            typer.echo(f"error: {keep_lines(err.diagnostics())}", err=True)
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            raise
        except Exception as err:  # a bug: still never a pass
            if _wants_traceback(ctx):
                traceback.print_exc(file=sys.stderr)
            typer.echo(
                f"internal error: {type(err).__name__}: {keep_lines(str(err))}\n"
                "hint: this is a bug in governance; re-run with --traceback and report it",
                err=True,
            )
            raise typer.Exit(EXIT_UNDECIDED) from None


def _escape_message(err: click.ClickException) -> None:
    """A usage error quotes the arguments as typed; shown on a terminal, their control and
    bidi characters are escaped like every other text output (governance.safe_text)."""
    err.message = one_line(err.message)
    if isinstance(err, click.NoSuchOption):
        err.option_name = one_line(err.option_name)
        err.possibilities = [one_line(p) for p in err.possibilities or ()]


def _wants_traceback(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("traceback_"))


app = typer.Typer(
    cls=_FunnelGroup,
    help=(
        "Git-native, policy-as-code governance for ML model releases: release records and model "
        "cards in Git, Rego gates through OPA, named approvals, a signed-commit ledger, audited "
        "promotion and rollback."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"governance {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    traceback_: bool = typer.Option(
        False, "--traceback", help="Show the Python stack when a command fails."
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version,
        help="Print the version of governance and exit."),
) -> None:
    """Git-native governance for ML model releases."""


# Command groups register themselves here (one module per group, DESIGN section 2).
from governance.cli import (  # noqa: E402
    commands_approvals,
    commands_audit,
    commands_config,
    commands_demo,
    commands_doctor,
    commands_env,
    commands_evidence,
    commands_ledger,
    commands_lifecycle,
    commands_people,
    commands_policy,
    commands_records,
)

commands_records.register(app)
commands_ledger.register(app)
commands_audit.register(app)
commands_evidence.register(app)
commands_policy.register(app)
commands_lifecycle.register(app)
commands_demo.register(app)
commands_approvals.register(app)
commands_env.register(app)
commands_config.register(app)
commands_doctor.register(app)
commands_people.register(app)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still buffered
    does not raise BrokenPipeError again (Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or not a file: nothing to flush
        pass


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
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
        _silence_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    try:
        sys.stdout.flush()  # what is still buffered, while a closed pipe can still be told
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    sys.exit(code)
