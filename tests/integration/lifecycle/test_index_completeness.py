"""The query index cannot hide an event (issue 13, item 4): an answer is complete.

Checking the rows an answer returns is not enough: an edited filter column (an event's model,
type, environment or time) or a deleted row leaves the event out of the answer, and the rows
that remain are all honest. Every answer therefore asks the verified chain (in the git
directory, written only by the verifier) the same question: the seqs it holds for the
predicate must be the seqs the index answered with. Here each edit is made to a real index of
a real ledger (real git, ssh-keygen keys); each is reported once with its reason, the index is
rebuilt, and the answer is the true one (the answer given before the edit).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lifecycle.world import BOT, MODEL, R1, R2, World


@pytest.fixture(scope="module")
def promoted_template(approved_template: World, tmp_path_factory: pytest.TempPathFactory
                      ) -> World:
    """r1 then r2 live in production: deleting the latest deployment row would name r1."""
    world = approved_template.copy(tmp_path_factory.mktemp("completeness") / "world")
    world.run(BOT, "promote", R2, "--env", "staging")
    world.run(BOT, "promote", R2, "--env", "production")
    return world


@pytest.fixture
def promoted(promoted_template: World, tmp_path: Path) -> World:
    return promoted_template.copy(tmp_path / "world")


def _index(world: World) -> Path:
    return world.ci / ".governance" / "index.sqlite"


def _seq(world: World, sql: str) -> int:
    with sqlite3.connect(_index(world)) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None and row[0] is not None, sql
    return int(row[0])


# the seqs the edits aim at, found in the index as built
_APPROVAL = ("SELECT max(seq) FROM events WHERE event_type = 'approval_granted' "
             f"AND model = '{MODEL}'")
_GATE = "SELECT max(seq) FROM events WHERE event_type = 'gate_evaluated'"
_PROMOTION = ("SELECT max(seq) FROM events WHERE event_type = 'deployment_promoted' "
              "AND environment = 'production'")
_LATEST = "SELECT max(seq) FROM deployments WHERE environment = 'production'"
_LACKS = "the query index's answer lacks the event at seq {seq}"
_INCLUDES = "the query index's answer includes the event at seq {seq}"
_DIFFERS = "where the verified chain answers"

LIVE = ("live", MODEL, "--env", "production")
HISTORY = ("history", MODEL)
STATUS = ("status", MODEL)

CASES = {
    # history: a deleted row, a row moved to another model
    "history-deleted-row": (HISTORY, _APPROVAL, "DELETE FROM events WHERE seq = {seq}", _LACKS),
    "history-model-edited": (HISTORY, _APPROVAL,
                             "UPDATE events SET model = 'other-model' WHERE seq = {seq}", _LACKS),
    # audit query --type: an event moved out of the type asked, another moved into it
    "query-type-out": (("audit", "query", "--type", "approval_granted"), _APPROVAL,
                       "UPDATE events SET event_type = 'approval_denied' WHERE seq = {seq}",
                       _LACKS),
    "query-type-in": (("audit", "query", "--type", "approval_granted"), _GATE,
                      "UPDATE events SET event_type = 'approval_granted' WHERE seq = {seq}",
                      _INCLUDES),
    # audit query --env, --since: an event moved out of the environment, out of the period
    "query-env": (("audit", "query", "--env", "production"), _PROMOTION,
                  "UPDATE events SET environment = 'staging' WHERE seq = {seq}", _LACKS),
    "query-since": (("audit", "query", "--since", "{since}"), _PROMOTION,
                    "UPDATE events SET ts = 0 WHERE seq = {seq}", _LACKS),
    # live: the latest deployment deleted (would name r1), moved to another environment or
    # in time, every event of the model deleted (would be an unknown model)
    "live-latest-deleted": (LIVE, _LATEST, "DELETE FROM deployments WHERE seq = {seq}",
                            _DIFFERS),
    "live-env-edited": (LIVE, _LATEST,
                        "UPDATE deployments SET environment = 'staging' WHERE seq = {seq}",
                        _DIFFERS),
    "live-time-edited": (LIVE, _LATEST,
                         "UPDATE deployments SET ts = ts + 86400000000000 WHERE seq = {seq}",
                         _DIFFERS),
    "live-model-gone": (LIVE, _LATEST, f"DELETE FROM events WHERE model = '{MODEL}'",
                        _DIFFERS),
    # status folds the model's events: a deleted promotion, a promotion moved to another model
    "status-deleted-row": (STATUS, _PROMOTION, "DELETE FROM events WHERE seq = {seq}", _LACKS),
    "status-model-edited": (STATUS, _PROMOTION,
                            "UPDATE events SET model = 'other-model' WHERE seq = {seq}", _LACKS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_event_hidden_from_the_index_is_detected_and_the_answer_stays_true(
        promoted: World, case: str) -> None:
    argv, target, edit, reason = CASES[case]
    promoted.run(None, *LIVE)  # builds the index
    seq = _seq(promoted, target)
    with sqlite3.connect(_index(promoted)) as conn:
        since = conn.execute("SELECT timestamp FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    argv = tuple(a.format(since=since) for a in argv)
    truth = promoted.run(None, *argv)
    assert "warning" not in truth.stderr, truth.stderr
    with sqlite3.connect(_index(promoted)) as conn:
        assert conn.execute(edit.format(seq=seq)).rowcount >= 1
    done = promoted.run(None, *argv)
    assert reason.format(seq=seq) in done.stderr, done.stderr
    assert "rebuilt from the verified ledger" in done.stderr
    assert done.stderr.count("warning:") == 1, done.stderr  # reported once
    assert _answer(done.stdout) == _answer(truth.stdout)  # the true answer, not the index's
    again = promoted.run(None, *argv)
    assert _answer(again.stdout) == _answer(truth.stdout) and again.stderr == truth.stderr


def _answer(text: str) -> str:
    """The output without the moment it was asked (``live`` says "at: <now>")."""
    return re.sub(r"  at: \S+", "", text)


def test_the_true_answers_name_what_the_edits_would_hide(promoted: World) -> None:
    """The cases above hide something an auditor needs: r2 is live, and its promotion, its
    approvals and the production history are in the answers (so an answer without them is a
    wrong answer, not a harmless one)."""
    live = promoted.run(None, *LIVE, "--format", "json")
    assert json.loads(live.stdout)["release_id"] == R2
    events: Any = json.loads(promoted.run(None, "audit", "query", "--env", "production",
                                          "--format", "json").stdout)
    promotions = [e["release_id"] for e in events if e["event_type"] == "deployment_promoted"]
    assert promotions == [R1, R2]
