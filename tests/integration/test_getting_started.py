"""docs/getting-started.md runs verbatim: its shell blocks, in order, in a fresh directory.

Every line of a ```sh block is a command (a trailing backslash continues it), run by one bash
process so `cd` and `export` carry over, exactly as a reader pasting them would. A here-document
(`<<'EOF'` ... `EOF`) belongs to the command that opens it. A command that must fail says so
with a trailing `# exit N`; every other command must exit 0. The guide's
commands are what a new team types, so this test fails when any of them stops working.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"
_EXPECT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_HEREDOC = re.compile(r"<<-?'?(\w+)'?")


def guide_commands(text: str) -> list[tuple[int, str, int]]:
    """(line number, command, expected exit) for each command of the guide's ```sh blocks."""
    commands: list[tuple[int, str, int]] = []
    in_block = False
    pending: list[str] = []
    heredoc: str | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if heredoc is not None:
            commands[-1] = (commands[-1][0], commands[-1][1] + "\n" + line, commands[-1][2])
            if line == heredoc:
                heredoc = None
            continue
        if line.startswith("```"):
            if in_block and pending:
                raise AssertionError(f"{GUIDE.name}:{start}: continued line never ends")
            in_block = line.strip() == "```sh"
            continue
        if not in_block or (not pending and (not line.strip() or line.lstrip().startswith("#"))):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        command = "\n".join(pending) if len(pending) == 1 else " ".join(p.strip() for p in pending)
        pending = []
        expected = 0
        found = _EXPECT.search(command)
        if found:
            expected = int(found.group(1))
            command = command[: found.start()]
        commands.append((start, command, expected))
        opened = _HEREDOC.search(command)
        heredoc = opened.group(1) if opened else None
    return commands


def _script(commands: list[tuple[int, str, int]]) -> str:
    lines = ["set -u"]
    for number, command, expected in commands:
        label = shlex.quote(f"{GUIDE.name}:{number}: {command}")
        lines.append(f"echo \"\\$ \"{label}")
        lines.append(command)
        lines.append(
            f"rc=$?; if [ $rc -ne {expected} ]; then echo \"GUIDE FAILED at \"{label}"
            f"\" (exit $rc, expected {expected})\" >&2; exit 99; fi"
        )
    return "\n".join(lines) + "\n"


def test_commands_are_parsed_with_their_expected_exits() -> None:
    text = ("x\n```sh\n# a comment\nfoo a \\\n  b\nbar  # exit 1\ncat > f <<'EOF'\n# kept\n"
            "EOF\n```\n```text\nnot run\n```\n")
    assert guide_commands(text) == [(4, "foo a b", 0), (6, "bar", 1),
                                    (7, "cat > f <<'EOF'\n# kept\nEOF", 0)]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_the_guide_runs_verbatim(tmp_path: Path) -> None:
    commands = guide_commands(GUIDE.read_text(encoding="utf-8"))
    assert len(commands) >= 10, "the guide lost its commands"
    work = tmp_path / "work"
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    # a new user's machine: their own HOME and global git configuration, nothing else
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "GOVERNANCE_", "GITHUB_")) and k != "CI"}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", _script(commands)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + "\n" + done.stderr[-6000:]
    assert "GUIDE FAILED" not in done.stderr
