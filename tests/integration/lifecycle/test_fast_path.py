"""The entry point's fast path answers exactly as the typer application (issue 18).

``governance live``, ``status`` and ``history`` on the local ledger are answered by
``governance.cli.fast`` without typer or click; every command line it does not parse exactly as
click would goes to the application. Each command line below runs twice in a fresh interpreter,
in a real governed repository (real git, real ssh-keygen signatures, the lifecycle world):
through the console entry point (``governance.cli.entry.main``, as ``governance`` runs) and
through the application alone (``governance.cli.app.main``, which has no fast path). stdout,
stderr and the exit status must be the same bytes; and the entry point must have taken the fast
path exactly for the command lines it is meant to (typer unimported), so a fast path that
silently fell back everywhere fails here too.

With ``--traceback`` the stack frames differ by construction (the application's pass through
click's frames): there the stack is compared without its frame lines, the rest byte for byte.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lifecycle.test_forged_ledger import unsigned
from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World

# the entry point as the console script runs it; the file named by FAST_MARK says whether the
# run imported typer (the fast path did not)
ENTRY = ("import os, sys\nfrom governance.cli.entry import main\ntry:\n    main(sys.argv[1:])\n"
         "finally:\n    open(os.environ['FAST_MARK'], 'w').write("
         "'slow' if 'typer' in sys.modules or 'click' in sys.modules else 'fast')\n")
APP = "import sys\nfrom governance.cli.app import main\nmain(sys.argv[1:])\n"

BEFORE = "2000-01-01T00:00:00Z"  # before anything was live: nothing live, exit 1
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


@pytest.fixture(scope="module")
def worlds(approved_template: World, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, World]]:
    """plain: r2 live in staging, r1 in production; drift: as plain with the staging pointer
    edited to r1 (status exits 1); tampered: as plain plus an unsigned forged promotion."""
    base = tmp_path_factory.mktemp("fast")
    plain = approved_template.copy(base / "plain")
    plain.run(BOT, "promote", R2, "--env", "staging")
    drift = plain.copy(base / "drift")
    pointer = drift.ci / "environments" / "staging.yaml"
    pointer.write_text(pointer.read_text().replace(R2, R1))
    tampered = plain.copy(base / "tampered")
    unsigned(tampered)
    yield {"plain": plain, "drift": drift, "tampered": tampered}


def _env(world: World, mark: Path) -> dict[str, str]:
    env = world.env(None)
    env.pop("COLUMNS", None)
    env["FAST_MARK"] = str(mark)
    return env


def _run(code: str, world: World, argv: list[str], mark: Path
         ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=world.ci,
                          env=_env(world, mark), capture_output=True, timeout=120, check=False)


def _recorded(world: World) -> set[str]:
    """Every instant the repository records (ledger events, checkpoints, commits)."""
    log = subprocess.run(["git", "log", "--all", "-p"], cwd=world.ci, capture_output=True,
                         text=True, check=True).stdout
    return set(_STAMP.findall(log))


def _now_masked(data: bytes, recorded: set[str], argv: list[str]) -> bytes:
    """The answer's "now" (``--at now``, the default, or relative to now: ``--at 30d``)
    differs between two runs: an instant neither recorded nor typed is masked."""
    def mask(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0) in recorded or m.group(0) in argv else "<now>"
    return _STAMP.sub(mask, data.decode()).encode()


def _frames_dropped(stderr: bytes) -> bytes:
    """A Python stack without its frame lines (file, line, code): the rest stays."""
    out, in_stack = [], False
    for line in stderr.decode().splitlines(keepends=True):
        if line.startswith("Traceback (most recent call last):"):
            in_stack = True
            out.append(line)
        elif in_stack and line.startswith(" "):
            continue
        else:
            in_stack = False
            out.append(line)
    return "".join(out).encode()


FAST, SLOW = True, False
# (world, argv, taken by the fast path)
CASES: list[tuple[str, list[str], bool]] = [
    # live: every format, option orders, = forms, repeats, --at forms
    ("plain", ["live", MODEL, "--env", "production"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--format", "json"], FAST),
    ("plain", ["live", MODEL, "--env=staging", "--format=text"], FAST),
    ("plain", ["live", "--env", "staging", MODEL], FAST),
    ("plain", ["live", "--format", "json", "--env", "staging", "--at", "1h", MODEL], FAST),
    ("plain", ["live", MODEL, "--env", "nowhere", "--env", "staging"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--at", "2099-01-01T00:00:00Z"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--at", "2099-01-01T00:00:00+02:00",
               "--format", "json"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--at", "30d"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--at", "yesterday-ish"], FAST),
    ("plain", ["live", MODEL, "--env", "staging", "--at", ""], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--at", BEFORE], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--at", BEFORE, "--format", "json"], FAST),
    ("plain", ["live", "no-such-model", "--env", "production"], FAST),
    ("plain", ["live", MODEL, "--env", "no-such-env"], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--repo", "."], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--repo", "/nonexistent/dir"], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--repo=environments"], FAST),
    ("plain", ["live", MODEL, "--env", "production", "--verified-prefix",
               "--verified-prefix"], FAST),
    ("plain", ["--traceback", "live", MODEL, "--env", "production"], FAST),
    ("plain", ["--traceback", "--traceback", "live", MODEL, "--env", "production",
               "--at", BEFORE], FAST),
    ("plain", ["live", MODEL, "--env", "--at"], FAST),  # click takes "--at" as the value
    ("plain", ["live", "-", "--env", "production"], FAST),  # "-" alone is an argument
    # live: what only the application answers
    ("plain", ["live", MODEL], SLOW),  # missing --env
    ("plain", ["live", "--env", "production"], SLOW),  # missing MODEL
    ("plain", ["live", MODEL, "--env"], SLOW),  # missing value
    ("plain", ["live", MODEL, "--env", "production", "--format", "csv"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--format="], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--help"], SLOW),
    ("plain", ["live", "--help"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--nope"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "-e"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--verified-prefix=yes"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "extra"], SLOW),
    ("plain", ["live", "--", MODEL, "--env", "production"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--origin", "x"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--trust", "t.yaml"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--source", "postgres",
               "--verified-prefix"], SLOW),
    ("plain", ["live", MODEL, "--env", "production", "--traceback"], SLOW),
    ("plain", ["--traceback=1", "live", MODEL, "--env", "production"], SLOW),
    ("plain", ["--version", "live", MODEL, "--env", "production"], SLOW),
    ("plain", ["Live", MODEL, "--env", "production"], SLOW),
    # history: every format
    ("plain", ["history", MODEL], FAST),
    ("plain", ["history", MODEL, "--format", "json"], FAST),
    ("plain", ["history", "--format=csv", MODEL], FAST),
    ("plain", ["history", MODEL, "--format", "json", "--format", "text"], FAST),
    ("plain", ["history", "no-such-model"], FAST),
    ("plain", ["history", ""], FAST),
    ("plain", ["history", "x\x1b[31mred\u202e"], FAST),  # escaped in the message
    ("plain", ["live", "", "--env", "production"], FAST),
    ("plain", ["history", MODEL, "--verified-prefix"], FAST),
    ("plain", ["history"], SLOW),
    ("plain", ["history", MODEL, "--format", "html"], SLOW),
    ("plain", ["history", MODEL, "--env", "production"], SLOW),
    ("plain", ["history", MODEL, MODEL], SLOW),
    # status: formats, --limit bounds, --all, no argument
    ("plain", ["status"], FAST),
    ("plain", ["status", MODEL], FAST),
    ("plain", ["status", MODEL, "--format", "json"], FAST),
    ("plain", ["status", "--all", MODEL], FAST),
    ("plain", ["status", MODEL, "--limit", "1"], FAST),
    ("plain", ["status", MODEL, "--limit=1000000000", "--format=json"], FAST),
    ("plain", ["status", MODEL, "--limit", "007"], FAST),
    ("plain", ["status", MODEL, "--limit", "1", "--all"], FAST),
    ("plain", ["status", "no-such-model"], FAST),
    ("plain", ["status", ""], FAST),
    ("plain", ["status", MODEL, "--limit", "0"], SLOW),
    ("plain", ["status", MODEL, "--limit", "1000000001"], SLOW),
    ("plain", ["status", MODEL, "--limit", "-1"], SLOW),
    ("plain", ["status", MODEL, "--limit", "x"], SLOW),
    ("plain", ["status", MODEL, "--limit", " 5"], SLOW),
    ("plain", ["status", MODEL, "--limit"], SLOW),
    ("plain", ["status", MODEL, "--format", "csv"], SLOW),
    ("plain", ["status", MODEL, "--all=1"], SLOW),
    ("plain", ["status", "--help"], SLOW),
    # status drift: exit 1, the same report
    ("drift", ["status"], FAST),
    ("drift", ["status", MODEL, "--format", "json"], FAST),
    ("drift", ["live", MODEL, "--env", "staging"], FAST),
    # a tampered ledger: refused, or answered from the verified prefix when asked
    ("tampered", ["live", MODEL, "--env", "production"], FAST),
    ("tampered", ["live", MODEL, "--env", "production", "--verified-prefix"], FAST),
    ("tampered", ["live", MODEL, "--env", "production", "--verified-prefix", "--format",
                  "json"], FAST),
    ("tampered", ["history", MODEL], FAST),
    ("tampered", ["history", MODEL, "--verified-prefix", "--format", "csv"], FAST),
    ("tampered", ["status", MODEL], FAST),
    ("tampered", ["status", MODEL, "--verified-prefix"], FAST),
    ("tampered", ["--traceback", "status", MODEL], FAST),
]


@pytest.mark.parametrize(("world", "argv", "fast"), CASES,
                         ids=[f"{w}: {' '.join(a)}" for w, a, _ in CASES])
def test_the_fast_path_answers_as_the_application(
        worlds: dict[str, World], tmp_path: Path, world: str, argv: list[str],
        fast: bool) -> None:
    where = worlds[world]
    mark = tmp_path / "mark"
    entry = _run(ENTRY, where, argv, mark)
    app = _run(APP, where, argv, tmp_path / "unused")
    assert mark.read_text() == ("fast" if fast else "slow"), (argv, entry.stderr)
    recorded = _recorded(where)
    got = (entry.returncode, _now_masked(entry.stdout, recorded, argv),
           _now_masked(entry.stderr, recorded, argv))
    want = (app.returncode, _now_masked(app.stdout, recorded, argv),
            _now_masked(app.stderr, recorded, argv))
    if "--traceback" in argv and b"Traceback" in app.stderr:
        assert b"Traceback (most recent call last):" in entry.stderr
        got = (got[0], got[1], _frames_dropped(got[2]))
        want = (want[0], want[1], _frames_dropped(want[2]))
    assert got == want
    assert b"Traceback" not in entry.stderr or "--traceback" in argv


def test_the_cases_cover_what_they_claim(worlds: dict[str, World], tmp_path: Path) -> None:
    """The comparisons above are not vacuous: the exit statuses they compare include success,
    nothing live (1), a drift (1), a tampered ledger and usage errors (2)."""
    plain, drift, tampered = worlds["plain"], worlds["drift"], worlds["tampered"]
    mark = tmp_path / "mark"
    assert _run(ENTRY, plain, ["live", MODEL, "--env", "production"], mark).returncode == 0
    nothing = _run(ENTRY, plain, ["live", MODEL, "--env", "production", "--at", BEFORE], mark)
    assert nothing.returncode == 1 and nothing.stderr.startswith(b"error: no release of")
    assert _run(ENTRY, drift, ["status"], mark).returncode == 1
    refused = _run(ENTRY, tampered, ["status", MODEL], mark)
    assert refused.returncode != 0 and b"unsigned commit" in refused.stderr
    prefix = _run(ENTRY, tampered, ["live", MODEL, "--env", "production", "--verified-prefix"],
                  mark)
    assert prefix.returncode == 0 and b"VERIFIED PREFIX ONLY" in prefix.stdout
    assert _run(ENTRY, plain, ["status", MODEL, "--limit", "0"], mark).returncode == 2


# ``governance ledger verify``: on the fast path too (issue 13: as a command >= 100x ``git log
# --show-signature``). "{good}" is a checkpoint note signed over the plain world's tip, "{bad}"
# one that is no signed note, "{none}" a path that does not exist (placeholders: the files are
# written by the fixture below).
VERIFY_CASES: list[tuple[str, list[str], bool]] = [
    ("plain", ["ledger", "verify"], FAST),
    ("plain", ["ledger", "verify", "--format", "json"], FAST),
    ("plain", ["ledger", "verify", "--format=text", "--repo", "."], FAST),
    ("plain", ["ledger", "verify", "--format", "json", "--format", "text"], FAST),
    ("plain", ["ledger", "verify", "--repo=environments"], FAST),
    ("plain", ["ledger", "verify", "--repo", "/nonexistent/dir"], FAST),
    ("plain", ["--traceback", "ledger", "verify", "--format", "json"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint", "{good}"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint={good}", "--checkpoint", "{good}",
               "--format", "json"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint", "{bad}"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint", "{good}", "--checkpoint", "{bad}",
               "--format", "json"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint", "{none}"], FAST),
    ("plain", ["ledger", "verify", "--checkpoint", "environments"], FAST),
    ("tampered", ["ledger", "verify"], FAST),
    ("tampered", ["ledger", "verify", "--format", "json"], FAST),
    ("tampered", ["ledger", "verify", "--checkpoint", "{good}"], FAST),
    ("tampered", ["--traceback", "ledger", "verify"], FAST),
    # what only the application answers: help, usage errors, other ledger commands
    ("plain", ["ledger", "verify", "--help"], SLOW),
    ("plain", ["ledger", "--help", "verify"], SLOW),
    ("plain", ["ledger"], SLOW),
    ("plain", ["ledger", "verify", "extra"], SLOW),
    ("plain", ["ledger", "verify", "--format", "csv"], SLOW),
    ("plain", ["ledger", "verify", "--format"], SLOW),
    ("plain", ["ledger", "verify", "--checkpoint"], SLOW),
    ("plain", ["ledger", "verify", "--nope"], SLOW),
    ("plain", ["ledger", "verify", "-c", "x"], SLOW),
    ("plain", ["ledger", "verify", "--verified-prefix"], SLOW),
    ("plain", ["ledger", "verify", "--", "--format", "json"], SLOW),
    ("plain", ["ledger", "verify", "--traceback"], SLOW),
    ("plain", ["ledger", "Verify"], SLOW),
    ("plain", ["ledger", "log", "--limit", "1"], SLOW),
    ("plain", ["--version", "ledger", "verify"], SLOW),
]
_SECONDS = re.compile(rb'"seconds": [0-9.e-]+')


@pytest.fixture(scope="module")
def notes(worlds: dict[str, World], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("notes")
    good = base / "good.note"
    worlds["plain"].run(None, "ledger", "checkpoint", "--out", str(good))
    assert good.read_text().count("\n") > 3
    bad = base / "bad.note"
    bad.write_text("not a checkpoint\n")
    return {"{good}": str(good), "{bad}": str(bad), "{none}": str(base / "none.note")}


@pytest.mark.parametrize(("world", "argv", "fast"), VERIFY_CASES,
                         ids=[f"{w}: {' '.join(a)}" for w, a, _ in VERIFY_CASES])
def test_ledger_verify_on_the_fast_path_answers_as_the_application(
        worlds: dict[str, World], notes: dict[str, str], tmp_path: Path, world: str,
        argv: list[str], fast: bool) -> None:
    """stdout, stderr and the exit status, byte for byte (the json report's own timing
    masked), through the entry point and the application alone."""
    where = worlds[world]
    for placeholder, path in notes.items():
        argv = [a.replace(placeholder, path) for a in argv]
    mark = tmp_path / "mark"
    entry = _run(ENTRY, where, argv, mark)
    app = _run(APP, where, argv, tmp_path / "unused")
    assert mark.read_text() == ("fast" if fast else "slow"), (argv, entry.stderr)
    got = (entry.returncode, _SECONDS.sub(b"", entry.stdout), entry.stderr)
    want = (app.returncode, _SECONDS.sub(b"", app.stdout), app.stderr)
    if "--traceback" in argv and b"Traceback" in app.stderr:
        got = (got[0], got[1], _frames_dropped(got[2]))
        want = (want[0], want[1], _frames_dropped(want[2]))
    assert got == want
    assert b"Traceback" not in entry.stderr or "--traceback" in argv


def test_ledger_verify_cases_cover_what_they_claim(
        worlds: dict[str, World], notes: dict[str, str], tmp_path: Path) -> None:
    """The comparisons above are not vacuous: through the fast path, an ok ledger exits 0
    with its report, the forged one exits 1 naming the seq and the reason, a checkpoint that
    is no note exits 1, an unreadable one 3, a bad option 2."""
    plain, tampered = worlds["plain"], worlds["tampered"]
    mark = tmp_path / "mark"

    def verify(world: World, *argv: str) -> subprocess.CompletedProcess[bytes]:
        done = _run(ENTRY, world, ["ledger", "verify", *argv], mark)
        return done

    ok = verify(plain, "--checkpoint", notes["{good}"])
    assert mark.read_text() == "fast"
    assert ok.returncode == 0 and ok.stdout.startswith(b"ok: ") and \
        b"1 external checkpoints verified" in ok.stdout, ok.stderr
    size = int(ok.stdout.split(b"ok: ", 1)[1].split(b" ", 1)[0])
    forged = verify(tampered, "--format", "json")
    assert forged.returncode == 1, forged.stderr
    assert f"ledger verification failed at seq {size}: unsigned commit".encode() in \
        forged.stderr
    assert b'"reason": "unsigned commit (no gpgsig header)"' in forged.stdout
    assert f'"seq": {size}'.encode() in forged.stdout
    assert verify(plain, "--checkpoint", notes["{bad}"]).returncode == 1
    missing = verify(plain, "--checkpoint", notes["{none}"])
    assert missing.returncode == 3 and b"cannot read checkpoint" in missing.stderr
    assert verify(plain, "--format", "csv").returncode == 2
    assert mark.read_text() == "slow"


@pytest.mark.parametrize("argv", [["history", MODEL], ["live", MODEL, "--env", "production"],
                                  ["status"]])
def test_a_closed_pipe_exits_as_the_application_does(worlds: dict[str, World],
                                                     tmp_path: Path, argv: list[str]) -> None:
    """A reader that is gone before the command writes (``| true``): the same exit status (141,
    as a tool killed by SIGPIPE) and the same stderr from both, never a traceback."""
    where = worlds["plain"]
    results = []
    for code in (ENTRY, APP):
        script = tmp_path / "run.py"
        script.write_text(code)
        quoted = " ".join(f"'{a}'" for a in argv)
        shell = (f"{sys.executable} {script} {quoted} 2>{tmp_path / 'err'} | "
                 "true; echo \"${PIPESTATUS[0]}\"")
        done = subprocess.run(["bash", "-c", shell], cwd=where.ci,
                              env=_env(where, tmp_path / "mark"), capture_output=True,
                              text=True, timeout=120, check=False)
        results.append((done.stdout.strip(), (tmp_path / "err").read_bytes()))
    assert results[0] == results[1]
    assert results[0][0] == "141" and b"Traceback" not in results[0][1]


def test_a_not_a_terminal_stdout_and_an_ascii_one_print_the_same(
        worlds: dict[str, World], tmp_path: Path) -> None:
    """click.echo re-wraps an ASCII stdout as UTF-8 (errors replaced); the fast path's echo
    leaves such a stream to click itself, so the bytes stay the same."""
    where = worlds["plain"]
    env = {**_env(where, tmp_path / "mark"), "PYTHONIOENCODING": "ascii"}
    argv = ["status", MODEL]
    runs = [subprocess.run([sys.executable, "-c", code, *argv], cwd=where.ci, env=env,
                           capture_output=True, timeout=120, check=False)
            for code in (ENTRY, APP)]
    assert (runs[0].returncode, runs[0].stdout, runs[0].stderr) == (
        runs[1].returncode, runs[1].stdout, runs[1].stderr)
    assert runs[0].returncode == 0 and runs[0].stdout


@pytest.mark.parametrize("argv", [
    ["live", MODEL, "--env", "production"], ["live", MODEL, "--env", "production", "--format",
                                             "json"],
    ["history", MODEL, "--format", "json"], ["history", MODEL, "--format", "csv"],
    ["status", "--format", "json"], ["live", "no-such-model", "--env", "production"],
    ["--version"], ["--help"]])
def test_a_process_started_without_stdout_ends_as_the_application_does(
        worlds: dict[str, World], tmp_path: Path, argv: list[str]) -> None:
    """stdout closed before the start (``>&-``): every format ends with the exit status and
    stderr the same command has with stdout to /dev/null, both ways; no traceback, no internal
    error (stdout gets /dev/null: governance.cli.streams)."""
    where = worlds["plain"]
    env = _env(where, tmp_path / "mark")
    expected = subprocess.run([sys.executable, "-c", APP, *argv], cwd=where.ci, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                              check=False)
    assert b"Traceback" not in expected.stderr and b"internal error" not in expected.stderr
    for code in (ENTRY, APP):
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=where.ci, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                              check=False, preexec_fn=lambda: os.close(1))
        assert (done.returncode, done.stderr) == (expected.returncode, expected.stderr), code
    assert expected.returncode == (1 if "no-such-model" in argv else 0)


def test_no_file_opened_without_stdout_takes_its_descriptor(tmp_path: Path) -> None:
    """With descriptor 1 closed at the start, the first file the process opens would be
    descriptor 1, where a child process writes its standard output: /dev/null takes it first."""
    probe = ("import os, sys\nfrom governance.cli.streams import attach_closed_streams\n"
             "attach_closed_streams()\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)\n"
             "os.write(2, str(fd).encode())\nimport subprocess\n"
             "subprocess.run(['echo', 'leaked'], check=True)\n"
             "print('dropped', flush=True)\n")
    target = tmp_path / "file"
    done = subprocess.run([sys.executable, "-c", probe, str(target)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=60, check=False,
                          preexec_fn=lambda: os.close(1))
    assert done.returncode == 0, done.stderr
    assert int(done.stderr) > 2
    assert target.read_bytes() == b""
