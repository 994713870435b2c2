"""The CLI's single error funnel, without typer or click.

Both ways a command runs use it: the typer application (``governance.cli.app``, its root
group's ``invoke``) and the fast path of the entry point (``governance.cli.fast``) for
``live``, ``status`` and ``history``. A command body runs inside ``at_the_edge()`` (the one
read of the process environment: ``governance.ci_context``); what it raises becomes an exit
code here (``failed``): a ``GovernanceError`` is printed as ``error: ...`` with its
``diagnostics()`` on stderr and exits with its contract code (DESIGN section 8); a reader
that stopped reading (``governance history M | head -1``) ends the command quietly with
``EXIT_BROKEN_PIPE``; anything else is a bug, printed as ``internal error: ...`` with a hint,
exit ``EXIT_UNDECIDED`` (never a pass). ``--traceback`` prints the stack first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from governance import ci_context
from governance.cli.output import echo
from governance.errors import EXIT_UNDECIDED, GovernanceError
from governance.safe_text import keep_lines

# A reader that stopped reading (``governance history M | head -1``, ``| true``): the command
# stops quietly, as a tool killed by SIGPIPE does, with the exit status a shell reports for one
# (128 + SIGPIPE): never 0, since the output was not delivered, so ``set -o pipefail`` in CI
# sees the same as with git or coreutils; never an "internal error" on stderr.
EXIT_BROKEN_PIPE = 141

# A command interrupted (Ctrl-C): nothing printed, exit 130 (128 + SIGINT), as typer's main
# (typer.core._main) ends it.
EXIT_INTERRUPTED = 130


@contextmanager
def at_the_edge() -> Iterator[None]:
    """The command's CI context, read once from the process environment."""
    with ci_context.using(ci_context.read_at_edge()):
        yield


def failed(err: Exception, show_traceback: bool) -> int:
    """Report ``err``, raised by a command, and give the process's exit code."""
    if isinstance(err, BrokenPipeError):
        silence_stdout()
        return EXIT_BROKEN_PIPE
    if show_traceback:
        import traceback  # only then: it pulls linecache, tokenize and textwrap in

        traceback.print_exception(err, file=sys.stderr)
    if isinstance(err, GovernanceError):
        echo(f"error: {keep_lines(err.diagnostics())}", err=True)
        return err.exit_code
    # a bug: still never a pass
    echo(f"internal error: {type(err).__name__}: {keep_lines(str(err))}\n"
         "hint: this is a bug in governance; re-run with --traceback and report it", err=True)
    return EXIT_UNDECIDED


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still buffered
    does not raise BrokenPipeError again (Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or not a file: nothing to flush
        pass


def flushed(code: int | str | None) -> int | str | None:
    """``code``, unless what is still buffered on stdout cannot be delivered (a closed pipe:
    ``EXIT_BROKEN_PIPE``); called last, while a closed pipe can still be told. With no stdout
    at all (started with it closed: ``governance live M --env E >&-``) there is nothing to
    flush (``click.echo`` wrote nothing either)."""
    if sys.stdout is None:
        return code
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    return code
