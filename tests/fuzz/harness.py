"""The fuzz harness of issue 16 (item 4): cases, a prepared repository, and the oracle.

A ``Case`` names an entry point, the command line, and the files to put in the prepared
repository before it runs (mutated or generated documents). ``Workspace`` is one prepared
governed repository (the lifecycle test world: real keys, git, a signed ledger, release r1 of
fraud-risk live in staging and production) in which cases run in process, through the typer
app's click command, with a per-case timeout; files a case writes are put back after it, and a
case that appended to the ledger has the ledger branch and the local indexes reset.

``judge`` turns an outcome into findings: an internal error, an uncaught exception, a hang, an
exit code outside the contract, a refusal without a message, a pass on input the independent
oracle (tests/fuzz/oracle.py) calls invalid, JSON output that does not parse, and raw control
characters in the output.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from tests.fuzz import oracle

ROOT = Path(__file__).resolve().parents[2]
MODEL = "fraud-risk"
R1 = "fraud-risk-2026-03-28-01"
R1_DIR = f"releases/{MODEL}/{R1}"
TARGETS = {  # kind -> path of that document in the prepared repository
    "Release": f"{R1_DIR}/release.yaml",
    "ModelCard": f"{R1_DIR}/model-card.yaml",
    "Model": f"releases/{MODEL}/model.yaml",
    "GovernanceConfig": "governance.yaml",
    "EnvironmentState": "environments/production.yaml",
}
ENTRY_POINTS = ("validate", "check", "release-new", "approve", "live", "audit-query", "runtime",
                "ledger-append")
WRITERS = {"approve", "release-new", "ledger-append"}
LEDGER_REF = "refs/heads/governance/ledger"


@dataclass
class Case:
    entry: str
    args: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    may_pass: bool = True  # exit 0 is acceptable (the input is valid per the oracle)
    why_invalid: str = ""  # what the oracle found wrong (reported with a wrong pass)
    label: str = ""  # how the input was made (mutators, strategy)
    runtime: dict[str, Any] | None = None  # entry "runtime": live_release arguments

    def describe(self) -> str:
        files = {k: (v[:300] + (b"..." if len(v) > 300 else b"")) for k, v in self.files.items()}
        return (f"entry={self.entry} label={self.label} args={self.args!r} "
                f"files={files!r} runtime={self.runtime!r}")


@dataclass
class Outcome:
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    exception: str | None = None  # an exception that escaped the CLI's funnel
    hang: bool = False


@dataclass(frozen=True)
class Finding:
    entry: str
    kind: str  # internal uncaught hang bad-exit silent wrong-pass bad-json raw-control
    detail: str
    output: str

    def line(self) -> str:
        return f"[{self.entry}] {self.kind}: {self.detail}"


class CaseTimeout(BaseException):
    """Raised by the per-case alarm; a BaseException so the CLI's funnel cannot swallow it."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def build_template(path: Path) -> Path:
    """Build the prepared world once (about 10 s: real keys, git, signed ledger)."""
    from tests.integration.lifecycle.world import build

    build(path)
    return path


class Workspace:
    """One worker's copy of the prepared world; cases run in its CI clone, in process."""

    def __init__(self, template: Path, dest: Path) -> None:
        self.template = template
        self.dest = dest
        self._copy()
        import typer.main
        from click.testing import CliRunner

        from governance.cli.app import app

        self.command = typer.main.get_command(app)
        self.runner = CliRunner()
        self.originals = {rel: (self.ci / rel).read_bytes() for rel in TARGETS.values()}
        self.ledger_tip = self._git("rev-parse", LEDGER_REF)
        self.releases = sorted(p.name for p in (self.ci / "releases" / MODEL).iterdir())
        self.scratch = self.dest / "scratch"
        self.scratch.mkdir(exist_ok=True)
        self.env = {
            "GOVERNANCE_LEDGER_LOG_KEY": str(self.dest / "world" / "keys" / "log"),
            "GOVERNANCE_LEDGER_SIGNING_KEY": str(self.dest / "world" / "keys" / "alice"),
        }

    @property
    def ci(self) -> Path:
        return self.dest / "world" / "ci"

    def _copy(self) -> None:
        from tests.integration.lifecycle.world import World

        if (self.dest / "world").exists():
            shutil.rmtree(self.dest / "world")
        self.dest.mkdir(parents=True, exist_ok=True)
        World(self.template).copy(self.dest / "world")

    def _git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.ci, capture_output=True, text=True,
                              check=True)
        return done.stdout.strip()

    def rebuild(self) -> None:
        """After a hang: start again from a fresh copy (the case may have left anything)."""
        self._copy()

    def reset_after_write(self) -> None:
        if self._git("rev-parse", LEDGER_REF) != self.ledger_tip:
            self._git("update-ref", LEDGER_REF, self.ledger_tip)
            for cache in (self.ci / ".governance", self.ci / ".git" / "governance"):
                shutil.rmtree(cache, ignore_errors=True)
        for name in os.listdir(self.ci / "releases" / MODEL):
            if name not in self.releases:
                path = self.ci / "releases" / MODEL / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def run(self, case: Case, timeout: float) -> Outcome:
        written: list[Path] = []
        saved_env = {k: os.environ.get(k) for k in self.env}
        cwd = os.getcwd()
        started = time.perf_counter()
        try:
            for rel, data in case.files.items():
                path = (self.ci / rel) if not rel.startswith("@scratch/") else (
                    self.scratch / rel.removeprefix("@scratch/"))
                path.write_bytes(data)
                written.append(path)
            os.environ.update(self.env)
            os.chdir(self.ci)
            with _alarm(timeout):
                if case.entry == "runtime":
                    outcome = self._runtime(case)
                else:
                    result = self.runner.invoke(self.command, case.args, prog_name="governance",
                                                catch_exceptions=True)
                    exc = None
                    if result.exception is not None and not isinstance(result.exception,
                                                                       SystemExit):
                        exc = "".join(traceback.format_exception(result.exception)[-3:])
                    outcome = Outcome(result.exit_code, result.stdout, result.stderr, 0.0, exc)
        except CaseTimeout:
            outcome = Outcome(None, "", "", 0.0, None, hang=True)
        finally:
            os.chdir(cwd)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        outcome.seconds = time.perf_counter() - started
        try:
            for path in written:
                rel = str(path.relative_to(self.ci)) if path.is_relative_to(self.ci) else None
                if rel in self.originals:
                    path.write_bytes(self.originals[rel])
                else:
                    path.unlink(missing_ok=True)
            if outcome.hang:
                self.rebuild()
            elif case.entry in WRITERS:
                self.reset_after_write()
        except OSError:
            self.rebuild()
        return outcome

    def _runtime(self, case: Case) -> Outcome:
        """The serving-side reader: live_release, the log filter and the traffic headers."""
        from governance.errors import GovernanceError
        from governance.runtime import ReleaseTagFilter, live_release, traffic_headers

        spec = case.runtime or {}
        try:
            release = live_release(spec["model"], spec["environment"], root=self.ci,
                                   verify=bool(spec.get("verify", False)))
        except GovernanceError as err:
            return Outcome(err.exit_code, "", f"error: {err.diagnostics()}", 0.0)
        except Exception:  # noqa: BLE001 - this is what the harness looks for
            return Outcome(3, "", "", 0.0, traceback.format_exc(limit=-3))
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        # the tags only: the message is the caller's (hostile here on purpose), not ours to
        # escape; what the filter adds must be printable whatever the state file held
        handler.setFormatter(logging.Formatter(
            "%(release_id)s %(model_version)s %(model_name)s %(environment)s"))
        handler.addFilter(ReleaseTagFilter(release))
        logger = logging.getLogger(f"fuzz.runtime.{os.getpid()}")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            logger.warning("prediction served: %s", spec.get("message", "ok"))
        finally:
            logger.removeHandler(handler)
        headers = traffic_headers(release)
        return Outcome(0, stream.getvalue() + json.dumps(headers) + "\n", "", 0.0)


def judge(case: Case, out: Outcome) -> list[Finding]:
    """Findings for one case (empty: the case held)."""
    found: list[Finding] = []
    text = out.stdout + out.stderr

    def add(kind: str, detail: str) -> None:
        found.append(Finding(case.entry, kind, detail, text[-2000:]))

    if out.hang:
        add("hang", "no answer within the per-case timeout")
        return found
    if out.exception is not None:
        add("uncaught", out.exception.strip().splitlines()[-1][:300])
        return found
    if "internal error" in text or "Traceback (most recent call last)" in text:
        line = next((ln for ln in text.splitlines() if "internal error" in ln or
                     "Error" in ln), text[:200])
        add("internal", line[:300])
    if out.exit_code not in (0, 1, 2, 3):
        add("bad-exit", f"exit {out.exit_code}")
    elif out.exit_code != 0 and not text.strip():
        add("silent", f"exit {out.exit_code} with no message")
    if out.exit_code == 0 and not case.may_pass:
        add("wrong-pass", case.why_invalid or "exit 0 on invalid input")
    if out.exit_code == 0 and "--format" in case.args and "json" in case.args and out.stdout:
        try:
            json.loads(out.stdout)
        except ValueError as err:
            add("bad-json", f"--format json output does not parse: {err}")
    controls = oracle.raw_controls(text)
    if controls:
        add("raw-control", " ".join(controls[:8]))
    return found


Runner = Callable[[Case], tuple[Outcome, list[Finding]]]
