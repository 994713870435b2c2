"""A warm `status` reads the model's kept summary (governance/status_memo.py) instead of folding
its events again, only while the model's last event is the one the verified chain holds; a new
event, a summary kept by other code, an edited index row or an unreadable file each fall back
to the fold (real git, real SSH-signed ledger, the real CLI)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import governance.status as status_module
from governance import reading
from governance.service import Service
from tests.integration.lifecycle.world import MODEL, R1, World, add_approved_release

MEMO = Path(".git") / "governance" / "status-governance_ledger.sqlite"


@pytest.fixture
def folds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The models folded from their events by each in-process status."""
    seen: list[str] = []
    real = status_module.model_state

    def counting(conn: Any, model: str, *, production_env: str) -> Any:
        seen.append(model)
        return real(conn, model, production_env=production_env)

    monkeypatch.setattr(status_module, "model_state", counting)
    yield seen


def _status(world: World) -> dict[str, Any]:
    cwd = Path.cwd()
    os.chdir(world.ci)  # the display of paths is relative to where the command runs
    try:
        result = reading.status(Service(world.ci), reading.StatusRequest(MODEL, None))
    finally:
        os.chdir(cwd)
    [model] = result.to_json()["models"]
    return dict(model)


def _rows(world: World) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.ci / MEMO) as conn:
        return list(conn.execute("SELECT model, production_env, seq, leaf, commit_sha, code "
                                 "FROM summary"))


def test_a_warm_status_reads_the_kept_summary(world: World, folds: list[str]) -> None:
    first = world.json(None, "status", MODEL)  # the command folds and keeps the summary
    [(model, production, seq, leaf, commit, code)] = _rows(world)
    assert (model, production) == (MODEL, "production")
    events = world.events()
    assert seq == max(i for i, e in enumerate(events) if e.get("model_name") == MODEL)
    assert len(leaf) == 64 and len(commit) >= 40 and len(code) == 64
    again = _status(world)
    assert folds == []  # answered from the summary
    assert again == first["models"][0] == world.full_fold_status()
    assert world.json(None, "status", MODEL) == first


def test_a_new_event_of_the_model_is_folded(world: World, folds: list[str]) -> None:
    world.json(None, "status", MODEL)
    [(_, _, before, *_)] = _rows(world)
    rid = add_approved_release(world)  # registration and approvals: new events of the model
    now = _status(world)
    assert folds == [MODEL]
    assert now == world.full_fold_status()
    assert {r["release_id"] for r in now["releases"]} == {R1, rid}
    [(_, _, after, *_)] = _rows(world)
    assert after > before
    # r2 awaits promotion: the approvals gate's input reads the fold itself, so a status that
    # lists it folds for that (the summary stays as kept)
    assert [r["approvals"]["evaluated"] for r in now["releases"] if r["release_id"] == rid] \
        == [True]
    assert _status(world) == now and folds == [MODEL, MODEL]
    assert [r[2] for r in _rows(world)] == [after]


def test_a_summary_kept_by_other_code_or_at_another_leaf_is_not_used(
        world: World, folds: list[str]) -> None:
    world.json(None, "status", MODEL)
    with sqlite3.connect(world.ci / MEMO) as conn:
        conn.execute("UPDATE summary SET code = 'other code', value = '{\"lie\": 1}'")
    assert _status(world) == world.full_fold_status() and folds == [MODEL]
    with sqlite3.connect(world.ci / MEMO) as conn:
        conn.execute("UPDATE summary SET leaf = '00' || substr(leaf, 3), "
                     "value = '{\"lie\": 1}'")
    assert _status(world) == world.full_fold_status() and folds == [MODEL, MODEL]


def test_an_edited_index_row_at_the_models_head_is_caught(world: World) -> None:
    world.json(None, "status", MODEL)
    index = world.ci / ".governance" / "index.sqlite"
    with sqlite3.connect(index) as conn:
        conn.execute("UPDATE events SET leaf_hash = '00' || substr(leaf_hash, 3) "
                     "WHERE seq = (SELECT max(seq) FROM events WHERE model = ?)", (MODEL,))
    done = world.run(None, "status", MODEL, "--format", "json")
    assert "the query index was rebuilt" in done.stderr
    import json

    assert json.loads(done.stdout)["models"][0] == world.full_fold_status()


def test_an_unreadable_summary_file_is_folded_past(world: World) -> None:
    world.json(None, "status", MODEL)
    for suffix in ("", "-wal", "-shm"):
        Path(str(world.ci / MEMO) + suffix).unlink(missing_ok=True)
    (world.ci / MEMO).write_bytes(b"not a database" * 100)
    done = world.run(None, "status", MODEL, "--format", "json")
    import json

    assert json.loads(done.stdout)["models"][0] == world.full_fold_status()
