"""``governance --help`` and ``--version`` answered by the entry point without typer (issue 18).

The entry point (``governance.cli.entry``, the console script and ``python -m governance``)
renders the top-level help from the command table with click alone; it must print the very
bytes the typer application prints, at every terminal width, with the same exit status.

Its fast path for ``live``, ``status`` and ``history`` (``governance.cli.fast``) is checked here
against the click commands it stands in for (options, argument, defaults) and for what it must
leave to the application; ``tests/integration/lifecycle/test_fast_path.py`` compares its
answers with the application's byte for byte in a real governed repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = "from governance.cli.app import main; main({argv!r})"
ENTRY = "from governance.cli.entry import main; main({argv!r})"


def _run(code: str, argv: list[str], columns: int | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-c", code.format(argv=argv)], capture_output=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("columns", [None, 40, 60, 79, 80, 100, 200])
@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_the_entry_point_prints_what_the_application_prints(argv: list[str],
                                                            columns: int | None) -> None:
    fast, app = _run(ENTRY, argv, columns), _run(APP, argv, columns)
    assert (fast.returncode, fast.stdout, fast.stderr) == (app.returncode, app.stdout,
                                                           app.stderr)
    assert fast.returncode == 0 and fast.stdout.startswith(b"governance " if argv ==
                                                           ["--version"] else b"Usage: ")


def test_help_and_version_import_no_typer() -> None:
    probe = ("import json, sys\nfrom governance.cli.entry import main\ntry:\n"
             "    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write(json.dumps([m for m in ('typer', 'governance.cli.app') "
             "if m in sys.modules]))\n")
    for argv in (["--help"], ["--version"]):
        done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True,
                              text=True, timeout=60)
        assert json.loads(done.stderr) == [], argv
    # the check can fail: any other command line is the application's
    done = subprocess.run([sys.executable, "-c", probe, "live", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert json.loads(done.stderr.rsplit("\n", 1)[-1]) == ["typer", "governance.cli.app"]


@pytest.mark.parametrize("argv", [[], ["--help", "--traceback"], ["--nope"], ["-h"]])
def test_every_other_command_line_is_the_applications(argv: list[str]) -> None:
    fast, app = _run(ENTRY, argv), _run(APP, argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (app.returncode, app.stdout,
                                                           app.stderr)


def test_a_closed_pipe_exits_as_the_application_does() -> None:
    for code in (ENTRY, APP):
        shell = f"{sys.executable} -c {json.dumps(code.format(argv=['--help']))} | head -c 1"
        done = subprocess.run(["bash", "-c", f"set -o pipefail; {shell} >/dev/null; "
                               "echo \"${PIPESTATUS[0]}\""], capture_output=True, text=True,
                              timeout=60)
        assert done.stdout.strip() in ("0", "141"), (code, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr


# The options the fast path leaves to the application: the organisation's database.
ORG_OPTIONS = {"--source", "--origin", "--trust"}


@pytest.mark.parametrize("name", ["live", "history", "status"])
def test_the_fast_path_parses_the_options_the_application_defines(name: str) -> None:
    """``governance.cli.fast`` knows each command's options as click does (which take a value,
    which are flags, whether the argument is required) and takes its defaults from the same
    constants: a new option, or a changed default, fails here until the fast path has it."""
    import click

    from governance.cli import app, fast
    from governance.cli.command_table import BY_NAME

    command = app._load(BY_NAME[name])
    kind, takes_value, is_flag, repeatable = fast._SPECS[name]
    options = [p for p in command.params if isinstance(p, click.Option)]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    assert [a.required for a in arguments] == [kind == fast.REQUIRED]
    assert {o for p in options if not p.is_flag for o in p.opts} - ORG_OPTIONS == takes_value
    assert {o for p in options if p.is_flag for o in p.opts} == is_flag
    assert not repeatable
    assert all(not p.secondary_opts and len(p.opts) == 1 for p in options)  # no -x, no --no-x
    assert not command.context_settings and command.allow_interspersed_args

    plan = fast.take([name, "m", "--env", "e"] if name == "live" else [name, "m"])
    assert plan is not None
    body, traceback = plan
    assert traceback is False
    # the defaults the body closes over are the click defaults of the same parameters
    closed = {cell.cell_contents for cell in body.__closure__ or ()
              if not callable(cell.cell_contents)}
    for param in command.params:
        if param.name in ("model", "env", "source_url", "origin", "trust"):
            continue
        default = param.get_default(click.Context(command))
        assert default in closed, (param.name, default, closed)


@pytest.mark.parametrize("argv", [
    ["live", "m"], ["live", "m", "--env"], ["live", "m", "--env", "e", "--help"],
    ["live", "m", "--env", "e", "--", "x"], ["live", "m", "--env", "e", "-x"],
    ["status", "--limit", "0"], ["status", "--limit", "+1"], ["status", "--all=yes"],
    ["history"], ["history", "a", "b"], ["history", "a", "--format", "html"],
    ["history", "a", "--origin", "o"], ["audit", "query"], [], ["--traceback"],
    ["--traceback=1", "history", "a"], ["history", "a", "--traceback"],
    ["ledger"], ["ledger", "--help", "verify"], ["ledger", "verify", "x"],
    ["ledger", "verify", "--format", "csv"], ["ledger", "verify", "--checkpoint"],
    ["ledger", "verify", "--verified-prefix"], ["ledger", "log"], ["verify"],
    ["ledger", "verify", "--help"], ["ledger", "verify", "--", "x"],
])
def test_the_fast_path_leaves_what_click_would_refuse_to_the_application(
        argv: list[str]) -> None:
    from governance.cli import fast

    assert fast.take(argv) is None


def test_the_fast_path_takes_the_last_of_a_repeated_option() -> None:
    from governance.cli import fast

    parsed = fast.parse(["--traceback", "live", "--env=a", "m", "--env", "b", "--at", "--x",
                         "--verified-prefix"])
    assert parsed == ("live", True, "m", {"--env": "b", "--at": "--x"}, {"--verified-prefix"},
                      {})


def test_the_fast_path_parses_ledger_verify_as_the_application_defines_it() -> None:
    """``ledger verify``: no argument, ``--checkpoint`` repeatable (every value kept, in
    order: click's ``multiple``), ``--repo`` and ``--format`` (text or json, the registry's);
    the body closes over the click defaults of the same parameters."""
    import click

    from governance.cli import app, fast
    from governance.cli.command_table import BY_NAME

    group = app._load(BY_NAME["ledger"])
    assert isinstance(group, click.Group)
    command = group.commands["verify"]
    kind, takes_value, is_flag, repeatable = fast._SPECS["ledger verify"]
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert kind == fast.NONE and not [p for p in command.params
                                      if isinstance(p, click.Argument)]
    assert {o for p in options if not p.is_flag for o in p.opts} == takes_value
    assert {o for p in options if p.is_flag for o in p.opts} == is_flag
    assert {o for p in options if p.multiple for o in p.opts} == repeatable
    assert all(not p.secondary_opts and len(p.opts) == 1 for p in options)
    assert not command.context_settings and command.allow_interspersed_args
    formats = [p for p in options if p.opts == ["--format"]][0].type
    assert isinstance(formats, click.Choice)
    from governance.cli.ledger_verify import VERIFIED

    assert list(formats.choices) == [f.value for f in VERIFIED.formats]
    plan = fast.take(["ledger", "verify"])
    assert plan is not None
    closed = {repr(cell.cell_contents) for cell in plan[0].__closure__ or ()
              if not callable(cell.cell_contents)}
    for param in command.params:
        assert repr(param.get_default(click.Context(command))) in closed, (param.name, closed)
    parsed = fast.parse(["--traceback", "ledger", "verify", "--checkpoint=a", "--format", "json",
                         "--checkpoint", "--format", "--repo", "r"])
    assert parsed == ("ledger verify", True, None,
                      {"--checkpoint": "--format", "--format": "json", "--repo": "r"}, set(),
                      {"--checkpoint": ["a", "--format"]})


def test_shell_completion_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.cli import fast

    assert fast.take(["history", "a"]) is not None
    monkeypatch.setenv("_GOVERNANCE_COMPLETE", "bash_complete")
    assert fast.take(["history", "a"]) is None


# The command bodies replaced by one that raises: the error funnel's answers compared both ways
# (the fast path through the entry point, the application alone), with no repository needed.
RAISING = ("import sys\nfrom governance.cli import reads\nfrom governance import errors\n"
           "def body(*args, **kwargs):\n    raise {exc}\n"
           "reads.live = reads.history = reads.status = body\n"
           "from governance.cli.{module} import main\nmain(sys.argv[1:])\n")


def _frames_dropped(stderr: bytes) -> bytes:
    return b"".join(line for line in stderr.splitlines(keepends=True)
                    if not line.startswith(b" "))


@pytest.mark.parametrize("exc", [
    "KeyboardInterrupt()",
    "RuntimeError('a bug\\nwith a second line \\x1b[31m')",
    "errors.NotFound('nothing here')",
    "errors.UsageError('bad --at', hint='use 30d')",
    "BrokenPipeError()",
    "EOFError()",
    "SystemExit(5)",
])
@pytest.mark.parametrize("argv", [["history", "m"], ["--traceback", "status"],
                                  ["live", "m", "--env", "e", "--format", "json"]])
def test_the_funnel_answers_the_same_on_both_paths(exc: str, argv: list[str],
                                                   tmp_path: Path) -> None:
    runs = [subprocess.run([sys.executable, "-c", RAISING.format(exc=exc, module=module),
                            *argv], capture_output=True, cwd=tmp_path, timeout=60)
            for module in ("entry", "app")]
    fast, app = runs
    assert fast.returncode == app.returncode
    assert fast.stdout == app.stdout
    if "--traceback" in argv and b"Traceback" in app.stderr:
        assert b"Traceback (most recent call last):" in fast.stderr
        assert _frames_dropped(fast.stderr) == _frames_dropped(app.stderr)
    else:
        assert fast.stderr == app.stderr
    expected = {"KeyboardInterrupt()": 130, "BrokenPipeError()": 141,
                "errors.NotFound('nothing here')": 1,
                "errors.UsageError('bad --at', hint='use 30d')": 2, "SystemExit(5)": 5}.get(exc, 3)
    assert fast.returncode == expected, fast.stderr


@pytest.mark.parametrize("exc", ["errors.NotFound('nothing here')", "RuntimeError('a bug')"])
def test_a_failure_reported_to_a_closed_stderr_ends_the_same_on_both_paths(
        exc: str, tmp_path: Path) -> None:
    """The report of a failure written to a closed pipe (stderr): the application's main ends
    that run as a closed pipe (141), and so does the fast path."""
    statuses = []
    for module in ("entry", "app"):
        script = tmp_path / f"{module}.py"
        script.write_text(RAISING.format(exc=exc, module=module))
        done = subprocess.run(["bash", "-c", f"{sys.executable} {script} history m 2>&1 "
                               ">/dev/null | true; echo \"${PIPESTATUS[0]}\""],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60)
        statuses.append(done.stdout.strip())
    assert statuses == ["141", "141"]
