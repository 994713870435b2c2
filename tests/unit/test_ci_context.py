"""CiContext (issue 20, item 4): the environment read once, at the CLI edge, as values; one
crash-test pause hook; the GitHub token never shown."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import governance
from governance import ci_context
from governance.ci_context import CiContext
from governance.errors import UsageError

PACKAGE = Path(governance.__file__).parent


def test_ci_detection_and_branch_only_in_github_actions() -> None:
    ci = CiContext.from_environ({"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main"})
    assert (ci.in_ci, ci.ref_name) == (True, "main")
    local = CiContext.from_environ({"GITHUB_REF_NAME": "main"})
    assert (local.in_ci, local.ref_name) == (False, None)


def test_the_token_is_a_presence_flag_and_never_in_the_repr() -> None:
    ci = CiContext.from_environ({"GITHUB_TOKEN": "ghp_s3cr3t", "GOVERNANCE_OPA_TOKEN": "opa-s3"})
    assert ci.github_token_present is True
    assert "s3cr3t" not in repr(ci) and "opa-s3" not in repr(ci)
    assert "s3cr3t" not in str(ci)
    assert CiContext.from_environ({}).github_token_present is False


def test_deployers_are_every_listed_login_plus_the_signer() -> None:
    ci = CiContext.from_environ({"GOVERNANCE_DEPLOYER": "dora, erin\nfrank"})
    assert ci.deployers("governance-ci") == ("dora", "erin", "frank", "governance-ci")
    assert CiContext.from_environ({}).deployers("bob") == ("bob",)
    with pytest.raises(UsageError, match="GOVERNANCE_DEPLOYER names 'dora;rm'") as err:
        CiContext.from_environ({"GOVERNANCE_DEPLOYER": "dora;rm"}).deployers("bob")
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("value", "expected"), [("", None), (" 12 ", 12), ("7", 7)])
def test_pull_request_number(value: str, expected: int | None) -> None:
    assert CiContext.from_environ({"GOVERNANCE_PR": value}).pull_request() == expected


@pytest.mark.parametrize("value", ["0", "-3", "12a", "#12"])
def test_a_malformed_pull_request_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="GOVERNANCE_PR=") as err:
        CiContext.from_environ({"GOVERNANCE_PR": value}).pull_request()
    assert err.value.exit_code == 2


def test_source_of_a_ci_run() -> None:
    ci = CiContext.from_environ({
        "GITHUB_SHA": "a" * 40, "GITHUB_ACTOR": "bob", "GITHUB_RUN_ID": "42",
        "GITHUB_REPOSITORY": "acme/models", "GITHUB_SERVER_URL": "https://ghe.example"})
    assert ci.source() == {"merge_sha": "a" * 40, "pusher": "bob",
                           "ci_run": "https://ghe.example/acme/models/actions/runs/42"}
    assert CiContext.from_environ({"GITHUB_SHA": "not-a-sha"}).source() == {}


def test_using_makes_a_context_current_and_restores_the_previous() -> None:
    mine = CiContext.from_environ({"GOVERNANCE_NOW": "2026-01-01T00:00:00Z"})
    with ci_context.using(mine):
        assert ci_context.current() is mine
    assert ci_context.current() is not mine


def test_the_pause_hook_returns_at_once_for_another_step(tmp_path: Path) -> None:
    ci = CiContext.from_environ({"GOVERNANCE_TEST_PAUSE": "ledger_appended",
                                 "GOVERNANCE_TEST_PAUSE_FILE": str(tmp_path / "pid")})
    ran: list[str] = []
    started = time.monotonic()
    ci.pause("locked", before=lambda: ran.append("x"))
    assert time.monotonic() - started < 1 and ran == []
    assert not (tmp_path / "pid").exists()


@pytest.mark.parametrize(("step_var", "file_var"), [
    ("GOVERNANCE_TEST_PAUSE", "GOVERNANCE_TEST_PAUSE_FILE"),
    ("GOVERNANCE_LEDGER_TEST_PAUSE", "GOVERNANCE_LEDGER_TEST_PAUSE_FILE"),
])
def test_one_pause_hook_answers_to_both_names(tmp_path: Path, step_var: str,
                                              file_var: str) -> None:
    """A real process pauses at the named step and writes its pid; the test kills it."""
    marker = tmp_path / "pid"
    code = ("from governance.ci_context import current\n"
            "current().pause('locked', before=lambda: print('reached', flush=True))\n"
            "print('not paused', flush=True)\n")
    env = {**os.environ, step_var: "locked", file_var: str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.read_text() == str(proc.pid)
        assert proc.poll() is None  # still paused
    finally:
        proc.kill()
        out, _ = proc.communicate(timeout=30)
    assert out == "reached\n"


def test_no_module_outside_ci_context_reads_the_environment() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "ci_context.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} os.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv", "environb") for a in node.names):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} from os import")
    assert found == [], "read the environment through governance.ci_context:\n" + "\n".join(found)
