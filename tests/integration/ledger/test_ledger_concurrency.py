"""Concurrent appenders (two processes; two clones racing to one bare origin) and kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governance.errors import Undecided
from governance.ledger import entries, verify_repo
from governance.ledger.store import LOCK_NAME
from tests.integration.ledger.conftest import Ledger

REPO_ROOT = Path(__file__).resolve().parents[3]

APPENDER = """
import json, sys
from pathlib import Path
from governance.ledger import append_event
root, key, tag, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
remote = sys.argv[5] if len(sys.argv) > 5 else None
ids = []
for i in range(n):
    e = append_event(root, {"event_type": "model_registered", "model_name": f"{tag}-{i}"},
                     signing_key=key, remote=remote)
    ids.append(e.event_id)
print(json.dumps(ids))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", APPENDER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())


def _ids(proc: subprocess.Popen[str]) -> list[str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    ids: list[str] = json.loads(out)
    return ids


def test_two_processes_appending_to_one_repository(ledger: Ledger) -> None:
    key = str(ledger.keys.path("jane"))
    a = _spawn(str(ledger.root), key, "a", "8")
    b = _spawn(str(ledger.root), key, "b", "8")
    ids = _ids(a) + _ids(b)
    report = verify_repo(ledger.root)
    assert report.failure is None, report.failure
    assert report.events == 7 + 16
    stored = [e.event_id for e in entries(ledger.root)]
    assert set(ids) <= set(stored) and len(set(stored)) == len(stored)
    a_models = [e.get("model_name") for e in entries(ledger.root)
                if str(e.get("model_name", "")).startswith("a-")]
    assert a_models == [f"a-{i}" for i in range(8)]  # each appender's events in its order


def test_two_clones_pushing_to_one_bare_origin(ledger: Ledger, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ledger.root), str(origin)], check=True)
    clones = []
    for name in ("one", "two"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
        clones.append(clone)
    a = _spawn(str(clones[0]), str(ledger.keys.path("jane")), "one", "6", "origin")
    b = _spawn(str(clones[1]), str(ledger.keys.path("bob")), "two", "6", "origin")
    ids = _ids(a) + _ids(b)
    report = verify_repo(origin)
    assert report.failure is None, report.failure
    assert report.events == 7 + 12
    stored = {e.event_id for e in entries(origin)}
    assert set(ids) <= stored


STEPS = ["locked", "objects_written", "commit_signed", "ref_updated"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_during_append_leaves_all_or_nothing(ledger: Ledger, tmp_path: Path,
                                                    step: str) -> None:
    marker = tmp_path / "paused"
    env = _env()
    env.update({"GOVERNANCE_LEDGER_SIGNING_KEY": str(ledger.keys.path("jane")),
                "GOVERNANCE_LEDGER_TEST_PAUSE": step,
                "GOVERNANCE_LEDGER_TEST_PAUSE_FILE": str(marker)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "governance", "ledger", "append", "--repo", str(ledger.root),
         "--type", "model_registered", "--field", "model_name=interrupted"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "append exited before the pause point"
        assert time.monotonic() < deadline, "append never reached the pause point"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    models = [e.get("model_name") for e in entries(ledger.root)]
    landed = step == "ref_updated"
    assert models.count("interrupted") == (1 if landed else 0)
    report = verify_repo(ledger.root)
    assert report.failure is None, report.failure
    assert report.events == (8 if landed else 7)
    lock = ledger.root / ".git" / LOCK_NAME
    assert any("stale ledger lock" in w and f"rm -f {lock}" in w for w in report.warnings)

    with pytest.raises(Undecided) as caught:
        ledger.append("model_registered", model_name="next")
    assert "stale ledger lock" in caught.value.message
    assert f"rm -f {lock}" in caught.value.hint
    lock.unlink()  # the clearing command
    ledger.append("model_registered", model_name="next")
    assert verify_repo(ledger.root).failure is None


def test_stale_git_ref_lock_is_reported_with_its_clearing_command(ledger: Ledger) -> None:
    ref_lock = ledger.root / ".git" / "refs" / "heads" / "governance" / "ledger.lock"
    ref_lock.write_text("")  # what a git killed inside update-ref leaves behind
    assert any(f"rm -f {ref_lock}" in w for w in verify_repo(ledger.root).warnings)
    with pytest.raises(Undecided) as caught:
        ledger.append("model_registered", model_name="blocked")
    assert f"rm -f {ref_lock}" in caught.value.hint
    ref_lock.unlink()
    ledger.append("model_registered", model_name="unblocked")
    assert verify_repo(ledger.root).events == 8
