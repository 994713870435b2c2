"""Deciding commands started together: each decides on the ledger tip its event lands on.

Two processes (in one clone, or in two clones pushing to one bare origin) race: promote against
retire, promote against promote, promote against a denial, promote against rollback. Whatever
the interleaving, never both where only one may hold, every recorded change of what is live
names the release that really was live before it, and `status` and `live` agree (issue 14).
Each race is run RUNS times here; tools run more of them by setting GOVERNANCE_RACE_RUNS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World

RUNS = int(os.environ.get("GOVERNANCE_RACE_RUNS", "2"))


def start(world: World, who: str, cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "governance", *args, "--format", "json"],
                            cwd=cwd, env=world.env(who), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def race(world: World, a: tuple[Any, ...], b: tuple[Any, ...], gap: float = 0.01
         ) -> tuple[int, int]:
    """Start ``a`` then, ``gap`` seconds later, ``b`` (each: who, cwd, *args); exit codes."""
    first = start(world, a[0], a[1], *a[2:])
    time.sleep(gap)
    second = start(world, b[0], b[1], *b[2:])
    codes = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=180)
        assert "Traceback" not in err and "internal error" not in err, err
        codes.append(proc.returncode)
    return codes[0], codes[1]


def assert_consistent(world: World, clone: Path) -> list[dict[str, Any]]:
    """Every deployment change names what was live before it; status and live agree."""
    events = world.events(clone)
    live: dict[str, str | None] = {}
    retired: set[str] = set()
    for e in events:
        kind = e["event_type"]
        if kind == "release_retired":
            retired.add(e["release_id"])
        if kind in ("deployment_promoted", "break_glass", "rollback_executed"):
            env = e["environment"]
            assert e.get("from_release") == live.get(env), (
                f"seq {e['seq']} {kind} says it replaced {e.get('from_release')}, but "
                f"{live.get(env)} was live in {env}")
            assert kind == "rollback_executed" or e["release_id"] not in retired, (
                f"seq {e['seq']} promoted {e['release_id']} after it was retired")
            live[env] = e.get("to_release") if kind == "rollback_executed" else e["release_id"]
    status = world.json(None, "status", MODEL, cwd=clone, expect=None)
    assert status["models"][0] == world.full_fold_status(clone)  # the index agrees with a fold
    for env in ("staging", "production"):
        said = world.run(None, "live", MODEL, "--env", env, cwd=clone, expect=None)
        first = said.stdout.splitlines()[0] if said.returncode == 0 else None
        assert first == live.get(env), (env, first, live.get(env), said.stderr)
        assert first is None or first in json.dumps(status["models"][0]), (env, status)
    return events


@pytest.mark.parametrize("run", range(RUNS))
def test_promote_against_retire(approved: World, run: int) -> None:
    ci = approved.ci
    race(approved, (BOT, ci, "promote", R2, "--env", "staging"),
         ("bob", ci, "retire", R2, "--reason", "superseded"), gap=0.01 * run)
    events = assert_consistent(approved, ci)
    kinds = [(e["event_type"], e.get("release_id")) for e in events]
    # retire refuses a live release, promote refuses a retired one: exactly one of them holds
    assert (("deployment_promoted", R2) in kinds) != (("release_retired", R2) in kinds), kinds


@pytest.mark.parametrize("run", range(RUNS))
def test_promote_against_promote(approved: World, run: int) -> None:
    ci = approved.ci
    codes = race(approved, (BOT, ci, "promote", R2, "--env", "staging"),
                 (BOT, ci, "promote", R2, "--env", "staging"), gap=0.01 * run)
    assert codes == (0, 0), codes  # one promotes, the other finds it already live
    events = assert_consistent(approved, ci)
    promotions = [e for e in events if e["event_type"] == "deployment_promoted"
                  and e["release_id"] == R2]
    assert len(promotions) == 1, promotions


@pytest.mark.parametrize("run", range(RUNS))
def test_promote_against_a_denial(approved: World, run: int) -> None:
    ci = approved.ci
    race(approved, (BOT, ci, "promote", R2, "--env", "staging"),
         ("alice", ci, "approve", R2, "--role", "ml_lead", "--deny", "--reason", "bias found"),
         gap=0.01 * run)
    events = assert_consistent(approved, ci)
    seqs = {(e["event_type"], e.get("release_id")): e["seq"] for e in events}
    denied = seqs.get(("approval_denied", R2))
    promoted = seqs.get(("deployment_promoted", R2))
    assert denied is not None
    if promoted is not None:
        assert promoted < denied, "promoted after the denial was on the ledger"
        gate = max(e["seq"] for e in events if e["event_type"] == "gate_evaluated"
                   and e["seq"] < promoted)
        assert gate < denied


@pytest.mark.parametrize("run", range(RUNS))
def test_promote_against_rollback_from_two_clones(approved: World, run: int) -> None:
    """Two clones pushing to one bare origin: a promotion of r2 to production from the CI
    clone, a rollback of production from the on-call engineer's clone."""
    ci = approved.ci
    approved.run(BOT, "promote", R2, "--env", "staging", "--remote", "origin", cwd=ci)
    oncall = approved.clone("oncall")
    race(approved, (BOT, ci, "promote", R2, "--env", "production", "--remote", "origin"),
         ("platform-oncall", oncall, "rollback", MODEL, "--env", "production", "--reason",
          "error rate", "--remote", "origin"), gap=0.01 * run)
    approved.sync_ledger(ci)
    approved.sync_ledger(oncall)
    events = assert_consistent(approved, ci)
    assert [e["seq"] for e in events] == list(range(len(events)))
    rollbacks = [e for e in events if e["event_type"] == "rollback_executed"]
    assert len(rollbacks) <= 1 and all(r["from_release"] in (R1, R2) for r in rollbacks)
