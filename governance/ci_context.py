"""The process environment, read once: ``CiContext`` (issue 20, item 4).

Every environment variable governance honours is read here and nowhere else (a test scans the
package for ``os.environ``/``getenv``). The CLI reads the environment once per command, at its
edge (``governance.cli.app``), and makes the frozen ``CiContext`` current for the duration of
that command (``using``); the lifecycle commands hand it on explicitly (``ports_for``), and an
adapter deeper down (signing keys, engine selection, a sink's DSN) asks ``current()``. Library
use outside the CLI (``governance.runtime``, tests) gets a context read from ``os.environ`` at
that moment.

What it holds (docs/ci.md and docs/ledger.md name the variables):

- CI detection: ``GITHUB_ACTIONS=true`` and ``GITHUB_REF_NAME`` (the branch of a detached
  checkout); the run's ``source`` (``GITHUB_SHA``, ``GITHUB_ACTOR``, ``GITHUB_SERVER_URL``,
  ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``);
- deployer identity and pull request: ``GOVERNANCE_DEPLOYER``, ``GOVERNANCE_PR`` (checked when a
  command uses them, so a malformed value fails the command that relies on it, exit 2);
- whether ``GITHUB_TOKEN`` is set: the token itself is never a field, never printed (the
  context's ``repr`` shows no secret; the GitHub adapter reads the token from ``environ``,
  which is excluded from ``repr``);
- ``GOVERNANCE_NOW`` (a fixed clock for reproducible gate runs);
- one crash-test pause hook (``pause``): ``GOVERNANCE_TEST_PAUSE=<step>`` stops the process at
  that step, writing its pid to the file named by ``GOVERNANCE_TEST_PAUSE_FILE``, so a test can
  ``kill -9`` it between two writes. The ledger's append steps (``locked``, ``objects_written``,
  ``commit_signed``, ``ref_updated``) also answer to the older names
  ``GOVERNANCE_LEDGER_TEST_PAUSE``/``GOVERNANCE_LEDGER_TEST_PAUSE_FILE``, kept for existing
  test harnesses;
- configuration paths and settings: ``GOVERNANCE_LEDGER_SIGNING_KEY``,
  ``GOVERNANCE_LEDGER_LOG_KEY``, ``GOVERNANCE_ORG_TRUST``, ``GOVERNANCE_REPO``, the engine
  (``GOVERNANCE_ENGINE``, ``GOVERNANCE_OPA_URL``, ``GOVERNANCE_POLICY_TIMEOUT``,
  ``GOVERNANCE_POLICY_WORKERS``, ``GOVERNANCE_OPA_*``), ``GOVERNANCE_S3_ENDPOINT_URL``, and any
  variable governance.yaml names for a DSN (``variable``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from governance.domain.frozen import field, frozen
from governance.domain.lazy_re import lazy
from governance.errors import UsageError

PAUSE = "GOVERNANCE_TEST_PAUSE"
PAUSE_FILE = "GOVERNANCE_TEST_PAUSE_FILE"
LEDGER_PAUSE = "GOVERNANCE_LEDGER_TEST_PAUSE"  # the ledger's older name for the same hook
LEDGER_PAUSE_FILE = "GOVERNANCE_LEDGER_TEST_PAUSE_FILE"
# The PostgreSQL DSN the organisation source and the postgres sink read by default, and the
# organisation trust file (named once: the CLI's help, the use cases and the sink settings)
ENV_DSN = "GOVERNANCE_PG_DSN"
ENV_TRUST = "GOVERNANCE_ORG_TRUST"

# A GitHub login or a governance.yaml person/bot id (ids may carry dots, e.g. jane.smith).
_LOGIN = lazy(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\[bot\])?\Z")
_SHA = lazy(r"^[0-9a-f]{40}\Z")


@frozen
class CiContext:
    """What the environment says, as values (see the module docstring)."""

    in_ci: bool = False
    ref_name: str | None = None  # GITHUB_REF_NAME, only when in_ci
    deployer: str = ""  # GOVERNANCE_DEPLOYER as given (checked by ``deployers``)
    pr: str = ""  # GOVERNANCE_PR as given (checked by ``pull_request``)
    github_token_present: bool = False
    now: str | None = None  # GOVERNANCE_NOW
    pause_step: str | None = None
    pause_file: str | None = None
    ledger_pause_step: str | None = None
    ledger_pause_file: str | None = None
    signing_key: str | None = None  # GOVERNANCE_LEDGER_SIGNING_KEY (a path or an agent key)
    log_key: str | None = None  # GOVERNANCE_LEDGER_LOG_KEY
    # the whole environment, for variables named elsewhere (a DSN's name in governance.yaml,
    # the GitHub adapter's settings and token): never shown
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> CiContext:
        snapshot = dict(environ)
        in_ci = snapshot.get("GITHUB_ACTIONS") == "true"
        return cls(
            in_ci=in_ci,
            ref_name=(snapshot.get("GITHUB_REF_NAME") or None) if in_ci else None,
            deployer=snapshot.get("GOVERNANCE_DEPLOYER") or "",
            pr=snapshot.get("GOVERNANCE_PR", ""),
            github_token_present=bool(snapshot.get("GITHUB_TOKEN")),
            now=snapshot.get("GOVERNANCE_NOW") or None,
            pause_step=snapshot.get(PAUSE) or None,
            pause_file=snapshot.get(PAUSE_FILE) or None,
            ledger_pause_step=snapshot.get(LEDGER_PAUSE) or None,
            ledger_pause_file=snapshot.get(LEDGER_PAUSE_FILE) or None,
            signing_key=snapshot.get("GOVERNANCE_LEDGER_SIGNING_KEY") or None,
            log_key=snapshot.get("GOVERNANCE_LEDGER_LOG_KEY") or None,
            environ=snapshot,
        )

    # --- values read by name ----------------------------------------------------------------

    def variable(self, name: str) -> str | None:
        """A variable named elsewhere (e.g. governance.yaml's ``dsn_env``); None when unset."""
        return self.environ.get(name)

    # --- deployer and pull request ------------------------------------------------------------

    def pull_request(self) -> int | None:
        """GOVERNANCE_PR (set by governance-promote.yml): the merged pull request whose reviews
        are the approvals; a value that is not a positive number is a usage error."""
        value = self.pr.strip()
        if not value:
            return None
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"GOVERNANCE_PR={value!r} is not a pull request number")
        return int(value)

    def deployers(self, actor: str) -> tuple[str, ...]:
        """Everyone who deploys: each login in GOVERNANCE_DEPLOYER (comma- or
        newline-separated: governance-promote.yml passes every reviewer who approved the
        deployment) plus the signer, who always counts (naming someone else cannot hide the
        person who actually runs the promotion)."""
        logins = [part.strip() for part in re.split(r"[,\n]", self.deployer) if part.strip()]
        for login in logins:
            if not _LOGIN.fullmatch(login):
                raise UsageError(f"GOVERNANCE_DEPLOYER names {login!r}, which is not a login",
                                 hint="comma-separated GitHub logins, e.g. dora,erin")
        return tuple(dict.fromkeys([*logins, actor]))

    def source(self) -> dict[str, Any]:
        """``source`` of an event recorded from GitHub Actions: the pushed commit, who pushed,
        the run (GITHUB_SHA, GITHUB_ACTOR, GITHUB_SERVER_URL/GITHUB_REPOSITORY/GITHUB_RUN_ID)."""
        env = self.environ
        out: dict[str, Any] = {}
        if _SHA.fullmatch(env.get("GITHUB_SHA", "")):
            out["merge_sha"] = env["GITHUB_SHA"]
        if env.get("GITHUB_ACTOR"):
            out["pusher"] = env["GITHUB_ACTOR"]
        if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL", "https://github.com")
            out["ci_run"] = (f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/"
                             f"{env['GITHUB_RUN_ID']}")
        return out

    # --- the crash-test hook --------------------------------------------------------------------

    def pause(self, step: str, *, seconds: float = 120.0,
              before: Callable[[], None] | None = None) -> None:
        """The one crash-test hook: when GOVERNANCE_TEST_PAUSE (or, for the ledger's steps,
        GOVERNANCE_LEDGER_TEST_PAUSE) names ``step``, write this process's pid to the file
        named by the matching ``..._FILE`` variable and sleep ``seconds`` so a test can kill -9
        the process there. ``before`` runs first (the ledger records the step it reached)."""
        if self.pause_step == step:
            marker = self.pause_file
        elif self.ledger_pause_step == step:
            marker = self.ledger_pause_file
        else:
            return
        if before is not None:
            before()
        if marker:
            Path(marker).write_text(str(os.getpid()))
        time.sleep(seconds)


_CURRENT: ContextVar[CiContext | None] = ContextVar("governance_ci_context", default=None)


def current() -> CiContext:
    """The context of the running command (set by the CLI), else the environment as it is."""
    ctx = _CURRENT.get()
    return ctx if ctx is not None else CiContext.from_environ(os.environ)


@contextmanager
def using(ctx: CiContext) -> Iterator[CiContext]:
    """Make ``ctx`` current for the duration of a command."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def read_at_edge() -> CiContext:
    """The CLI's one read of the process environment."""
    return CiContext.from_environ(os.environ)


def completion_requested() -> bool:
    """Whether the shell asked for completions (click's ``_GOVERNANCE_COMPLETE``): the CLI's
    fast path then leaves the command line to the application, which answers it."""
    return "_GOVERNANCE_COMPLETE" in os.environ


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process (git, the Rego worker, the demo's CLI runs): this
    process's own, plus ``extra``."""
    env = dict(os.environ)
    env.update(extra or {})
    return env
