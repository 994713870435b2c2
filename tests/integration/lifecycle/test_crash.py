"""kill -9 between the ledger append and the pointer write (promotion.py's write order).

The CLI's crash-test hook (GOVERNANCE_TEST_PAUSE=ledger_appended) writes the process id to
GOVERNANCE_TEST_PAUSE_FILE and sleeps right after the event is on the ledger and before
environments/<env>.yaml is written; the test then SIGKILLs it. ``status`` must report the
drift (exit 1), re-running the same command must repair the pointer without a second event,
and ``status`` must be clean again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World


def killed_at_ledger_appended(world: World, who: str, *args: str) -> None:
    marker = world.path / "paused.pid"
    env = world.env(who, {"GOVERNANCE_TEST_PAUSE": "ledger_appended",
                          "GOVERNANCE_TEST_PAUSE_FILE": str(marker)})
    proc = subprocess.Popen([sys.executable, "-m", "governance", *args], cwd=world.ci, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text().strip()):
            assert proc.poll() is None, f"exited {proc.returncode}: {proc.communicate()}"
            assert time.monotonic() < deadline, "the pause hook was never reached"
            time.sleep(0.05)
        pid = int(marker.read_text())
        assert pid == proc.pid
        os.kill(pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def pointed(world: World, env: str) -> str:
    import yaml

    doc = yaml.safe_load((world.ci / "environments" / f"{env}.yaml").read_text())
    entry = (doc.get("models") or {}).get(MODEL)
    return str(entry["release_id"]) if entry else ""


def count(world: World, kind: str) -> int:
    return sum(e["event_type"] == kind for e in world.events())


def test_promote_killed_after_the_append_is_detected_and_repaired(approved: World) -> None:
    promoted = count(approved, "deployment_promoted")
    killed_at_ledger_appended(approved, BOT, "promote", R2, "--env", "staging")
    assert count(approved, "deployment_promoted") == promoted + 1  # the ledger has it
    assert pointed(approved, "staging") == R1  # the pointer does not

    drift = approved.run(None, "status", MODEL, expect=1)
    assert (f"DRIFT environments/staging.yaml says {R1} for {MODEL}, the ledger says {R2} is "
            "live (re-run the promote or rollback to repair)") in drift.stdout

    again = approved.run(BOT, "promote", R2, "--env", "staging")
    assert again.stdout.startswith(f"{R2} is already live in staging (pointer repaired")
    assert count(approved, "deployment_promoted") == promoted + 1  # no second event
    assert pointed(approved, "staging") == R2
    status = approved.json(None, "status", MODEL)
    assert status["models"][0]["drift"] == []
    approved.run(None, "ledger", "verify")


def test_rollback_killed_after_the_append_is_detected_and_repaired(approved: World) -> None:
    approved.run(BOT, "promote", R2, "--env", "staging")
    approved.run(BOT, "promote", R2, "--env", "production")
    killed_at_ledger_appended(approved, "platform-oncall", "rollback", MODEL, "--env",
                              "production", "--reason", "error spike", "--incident", "INC-9")
    assert count(approved, "rollback_executed") == 1
    assert pointed(approved, "production") == R2

    drift = approved.run(None, "status", MODEL, expect=1)
    assert f"the ledger says {R1} is live" in drift.stdout

    again = approved.json("platform-oncall", "rollback", MODEL, "--env", "production",
                          "--reason", "error spike", "--incident", "INC-9")
    assert again["repaired_pointer"] is True and again["events"] == []
    assert count(approved, "rollback_executed") == 1
    assert pointed(approved, "production") == R1
    approved.run(None, "status", MODEL, expect=0)


def test_a_rollback_without_drift_is_not_mistaken_for_a_repair(approved: World) -> None:
    """With the pointer in step, re-running a finished rollback is refused, not 'repaired'."""
    approved.run(BOT, "promote", R2, "--env", "staging")
    approved.run(BOT, "promote", R2, "--env", "production")
    approved.run("platform-oncall", "rollback", MODEL, "--env", "production", "--reason", "x")
    done = approved.run("platform-oncall", "rollback", MODEL, "--env", "production",
                        "--reason", "x", expect=1)
    assert f"no prior approved release of {MODEL} was live in production" in done.stderr
    assert count(approved, "rollback_executed") == 1

