"""``governance --help`` and ``--version`` answered by the entry point without typer (issue 18).

The entry point (``governance.cli.entry``, the console script and ``python -m governance``)
renders the top-level help from the command table with click alone; it must print the very
bytes the typer application prints, at every terminal width, with the same exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
