"""The fast path of the entry point: ``live``, ``status``, ``history`` and ``ledger verify``
without typer or click.

The three read queries are asked from scripts, CI steps and the runtime many times a day, and
importing typer and click cost about a third of their whole run (issue 18: <= 120 ms warm);
``ledger verify`` is held to ``git log --show-signature`` as a command (issue 13: >= 100x),
and typer, click and the other ledger commands' modules were a fifth of its run. The
entry point (``governance.cli.entry``) hands every command line here first; ``take`` accepts
only a command line it parses exactly as click would parse it for the typer application, and
everything else goes to the application unchanged (``None``): help, the organisation options
(``--source``, ``--origin``, ``--trust``), an unknown, repeated-with-``=``-on-a-flag or
malformed option, ``--``, a short option, a missing or extra argument, a missing value, a
``--format`` or ``--limit`` click would refuse, an unreadable ``--repo`` or ``--checkpoint``,
anything between ``ledger`` and ``verify``, shell completion
(``_GOVERNANCE_COMPLETE``), so usage errors and help stay click's, byte for byte.

Accepted: the root's ``--traceback`` (repeated or not) before the command; the command's
argument and its options in any order; ``--opt value`` and ``--opt=value``; a value taken from
the next argument whatever it looks like (click does the same for an option that needs one); a
repeated option, the last one counting, except ``--checkpoint`` (click's ``multiple``: every
one, in order). Defaults come from the constants the typer options are
built from (``governance.cli.option_values``, ``governance.cli.render.DEFAULT_FORMAT``, the
registries' formats, ``governance.status.DEFAULT_LIMIT``).

The command then runs the body the typer command runs (``governance.cli.reads``,
``governance.cli.ledger_verify``) inside the
error funnel the application uses (``governance.cli.funnel``), and exits as the application's
``main`` does. ``tests/integration/lifecycle/test_fast_path.py`` runs a wide set of command lines
both ways in a real governed repository and compares stdout, stderr and the exit status byte
for byte; ``tests/unit/test_cli_entry.py`` holds the parser to the click commands' options.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

# per command: (its argument: required / optional / none, the options taking a value, the flags,
# the options given any number of times, every value kept in order: click's ``multiple``)
REQUIRED, OPTIONAL, NONE = "required", "optional", "none"
_SPECS: dict[str, tuple[str, frozenset[str], frozenset[str], frozenset[str]]] = {
    "live": (REQUIRED, frozenset({"--env", "--at", "--format", "--repo"}),
             frozenset({"--verified-prefix"}), frozenset()),
    "history": (REQUIRED, frozenset({"--format", "--repo"}), frozenset({"--verified-prefix"}),
                frozenset()),
    "status": (OPTIONAL, frozenset({"--format", "--limit", "--repo"}),
               frozenset({"--verified-prefix", "--all"}), frozenset()),
    "ledger verify": (NONE, frozenset({"--checkpoint", "--format", "--repo"}), frozenset(),
                      frozenset({"--checkpoint"})),
}
# the commands of a group, named by the group and the command ("ledger verify")
_GROUPS = {"ledger": frozenset({"verify"})}
COMMANDS = tuple(_SPECS)


def main(args: list[str]) -> None:
    """Run ``args`` on the fast path and exit, or return when it is not one it takes."""
    plan = take(args)
    if plan is not None:
        run(*plan)


def take(args: list[str]) -> tuple[Callable[[], int], bool] | None:
    """``(body, --traceback)`` for a command line the fast path answers exactly as the typer
    application would, else None."""
    parsed = parse(args)
    if parsed is None:
        return None
    from governance.ci_context import completion_requested

    if completion_requested():
        return None
    name, traceback, argument, values, flags, every_value = parsed
    if name == "ledger verify":
        return _verify(traceback, values, every_value)
    from governance.cli import reads
    from governance.cli.option_values import AT_DEFAULT, LIMIT_MAX, LIMIT_MIN, REPO_DEFAULT
    from governance.cli.output import OutputFormat
    from governance.cli.render import DEFAULT_FORMAT

    formats = {"live": reads.LIVE.formats, "history": reads.EVENTS.formats,
               "status": reads.STATUS.formats}[name]  # what the typer options offer
    fmt = DEFAULT_FORMAT
    if "--format" in values:
        if values["--format"] not in {f.value for f in formats}:
            return None  # click.Choice refuses it
        fmt = OutputFormat(values["--format"])
    repo = Path(values["--repo"]) if "--repo" in values else REPO_DEFAULT
    if not _readable_or_absent(repo):
        return None  # click.Path(readable=True) refuses it
    verified_prefix = "--verified-prefix" in flags
    body: Callable[[], int]
    if name == "live":
        env = values.get("--env")
        if env is None or argument is None:
            return None  # click: missing option / argument
        at = values.get("--at", AT_DEFAULT)
        model = argument

        def body() -> int:
            return reads.live(model, env, at, fmt, repo, verified_prefix)
    elif name == "history":
        if argument is None:
            return None
        model = argument

        def body() -> int:
            return reads.history(model, fmt, repo, verified_prefix)
    else:
        from governance.status import DEFAULT_LIMIT

        limit = DEFAULT_LIMIT
        if "--limit" in values:
            text = values["--limit"]
            if not (text.isascii() and text.isdigit()):
                return None  # click's int conversion decides (" 5", "+5", "1_0", "x")
            limit = int(text)
            if not LIMIT_MIN <= limit <= LIMIT_MAX:
                return None  # click.IntRange refuses it
        every = "--all" in flags

        def body() -> int:
            return reads.status(argument, fmt, verified_prefix, every, limit, repo)
    return body, traceback


def _verify(traceback: bool, values: dict[str, str], every_value: dict[str, list[str]]
            ) -> tuple[Callable[[], int], bool] | None:
    """``governance ledger verify``: its options checked as click checks them."""
    from governance.cli import ledger_verify
    from governance.cli.option_values import REPO_DEFAULT
    from governance.cli.output import OutputFormat
    from governance.cli.render import DEFAULT_FORMAT

    fmt = DEFAULT_FORMAT
    if "--format" in values:
        if values["--format"] not in {f.value for f in ledger_verify.VERIFIED.formats}:
            return None  # click.Choice refuses it
        fmt = OutputFormat(values["--format"])
    repo = Path(values["--repo"]) if "--repo" in values else REPO_DEFAULT
    checkpoints = [Path(v) for v in every_value.get("--checkpoint", ())]
    if not all(_readable_or_absent(p) for p in (repo, *checkpoints)):
        return None  # click.Path(readable=True) refuses it

    def body() -> int:
        return ledger_verify.verify(checkpoints, repo, fmt)
    return body, traceback


def parse(args: list[str]) -> tuple[str, bool, str | None, dict[str, str], set[str],
                                    dict[str, list[str]]] | None:
    """``(command, --traceback, argument, {option: last value}, {flags}, {option: every
    value})`` when ``args`` is a command line of one of ``COMMANDS`` that click would parse the
    same way, else None (the syntax only: the values are checked by ``take``)."""
    traceback = False
    i = 0
    while i < len(args) and args[i] == "--traceback":
        traceback, i = True, i + 1
    if i == len(args):
        return None
    name = args[i]
    if name in _GROUPS:  # the command must follow the group's name: a group option (--help)
        if i + 1 == len(args) or args[i + 1] not in _GROUPS[name]:  # or none is click's
            return None
        i += 1
        name = f"{name} {args[i]}"
    if name not in _SPECS:
        return None
    argument_kind, takes_value, is_flag, repeatable = _SPECS[name]
    values: dict[str, str] = {}
    every_value: dict[str, list[str]] = {}
    flags: set[str] = set()
    positional: list[str] = []
    rest = args[i + 1:]
    j = 0
    while j < len(rest):
        arg = rest[j]
        j += 1
        if arg[:1] != "-" or len(arg) == 1:  # click: "-" alone is an argument
            positional.append(arg)
            continue
        option, eq, explicit = arg.partition("=")
        if option in takes_value:
            if eq:
                value = explicit
            elif j < len(rest):
                value = rest[j]
                j += 1
            else:
                return None  # click: "Option '--env' requires an argument."
            values[option] = value
            if option in repeatable:
                every_value.setdefault(option, []).append(value)
        elif option in is_flag and not eq:
            flags.add(option)
        else:  # --help, --, --source/--origin/--trust, short or unknown options, --flag=value
            return None
    if len(positional) > (0 if argument_kind == NONE else 1) or (
            argument_kind == REQUIRED and not positional):
        return None  # click: extra argument / missing argument
    return (name, traceback, (positional[0] if positional else None), values, flags,
            every_value)


def _readable_or_absent(path: Path) -> bool:
    """What ``click.Path(readable=True)`` accepts: a path that does not exist, or one that does
    and can be read."""
    try:
        os.stat(path)
    except OSError:
        return True
    except ValueError:  # an embedded NUL: left to click
        return False
    return os.access(path, os.R_OK)


def run(body: Callable[[], int], traceback: bool) -> NoReturn:
    """Run ``body`` in the application's error funnel and exit as ``governance.cli.app.main``
    does."""
    from governance.cli import funnel

    try:
        try:
            with funnel.at_the_edge():
                code: int | str | None = body()
        except KeyboardInterrupt:  # as the application ends an interrupted command
            code = funnel.EXIT_INTERRUPTED
        except SystemExit as done:  # as governance.cli.app.main takes one
            code = done.code
        except Exception as err:  # noqa: BLE001 - the funnel reports it (bugs included)
            code = funnel.failed(err, traceback)
    except BrokenPipeError:
        # the report of a failure written to a closed stderr: the application's main ends
        # such a run (click's EPIPE handling) as a closed pipe, quietly
        funnel.silence_stdout()
        code = funnel.EXIT_BROKEN_PIPE
    sys.exit(funnel.flushed(code))
