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


# --- model.yaml and the environment pointer files, remembered for their bytes ---------------


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The documents each in-process status loaded through governance.repo (YAML parse and
    checks), by kind."""
    from governance.repo import GovernedRepo

    seen: list[str] = []
    real_model, real_env = GovernedRepo.load_model, GovernedRepo.load_environment

    def load_model(self: GovernedRepo, name: str) -> Any:
        seen.append(f"model {name}")
        return real_model(self, name)

    def load_environment(self: GovernedRepo, env: str) -> Any:
        seen.append(f"environment {env}")
        return real_env(self, env)

    monkeypatch.setattr(GovernedRepo, "load_model", load_model)
    monkeypatch.setattr(GovernedRepo, "load_environment", load_environment)
    yield seen


def _documents(world: World) -> dict[str, Any]:
    import json

    with sqlite3.connect(world.ci / MEMO) as conn:
        return {path: json.loads(value) for path, value in
                conn.execute("SELECT path, value FROM documents")}


def test_a_warm_status_reads_model_yaml_and_pointers_as_remembered(
        world: World, loads: list[str]) -> None:
    first = world.json(None, "status", MODEL)
    kept = _documents(world)
    assert kept[f"releases/{MODEL}/model.yaml"] is True
    assert kept["environments/production.yaml"][MODEL] == R1
    assert _status(world) == first["models"][0]
    assert loads == []  # neither model.yaml nor a pointer file parsed again
    # a comment is content: the file is loaded and checked again, the answer is the same
    model_yaml = world.ci / "releases" / MODEL / "model.yaml"
    model_yaml.write_bytes(model_yaml.read_bytes() + b"# reviewed\n")
    assert _status(world) == first["models"][0]
    assert loads == [f"model {MODEL}"]
    assert _status(world) == first["models"][0] and loads == [f"model {MODEL}"]


def test_an_invalid_model_yaml_is_refused_though_it_was_remembered(world: World) -> None:
    world.json(None, "status", MODEL)  # remembers the valid model.yaml
    model_yaml = world.ci / "releases" / MODEL / "model.yaml"
    model_yaml.write_text(model_yaml.read_text().replace("risk_tier:", "risk_tire:"))
    done = world.run(None, "status", MODEL, expect=None)
    assert done.returncode == 1, done.stderr
    assert "model.yaml" in done.stderr and "risk_tire" in done.stderr and not done.stdout


def test_an_edited_pointer_file_is_read_again(world: World, loads: list[str]) -> None:
    world.json(None, "status", MODEL)
    pointer = world.ci / "environments" / "production.yaml"
    pointer.write_text(pointer.read_text().replace(R1, f"{MODEL}-2026-01-01-01"))
    now = _status(world)
    assert loads == ["environment production"]
    assert now["drift"] == [f"environments/production.yaml says {MODEL}-2026-01-01-01 for "
                            f"{MODEL}, the ledger says {R1} is live (re-run the promote or "
                            "rollback to repair)"]
    done = world.run(None, "status", MODEL, expect=1)  # drift: exit 1, as before
    assert "DRIFT" in done.stdout
    pointer.write_text("models: [not, a, mapping\n")  # broken YAML: refused, not remembered
    done = world.run(None, "status", MODEL, expect=None)
    assert done.returncode == 1 and "production.yaml" in done.stderr, done.stderr


def test_a_document_kept_by_other_loaders_or_for_other_bytes_is_loaded_again(
        world: World, loads: list[str]) -> None:
    first = world.json(None, "status", MODEL)
    with sqlite3.connect(world.ci / MEMO) as conn:  # as if another version had checked it
        conn.execute("UPDATE documents SET code = 'other' WHERE path LIKE 'releases/%'")
        # another digest of the same length (its first digit changed: a digest that already
        # began with 0 stayed the same when the test wrote a 0 there, 1 time in 16)
        assert conn.execute("UPDATE documents SET digest = CASE WHEN substr(digest, 1, 1) = '0' "
                            "THEN '1' ELSE '0' END || substr(digest, 2) "
                            "WHERE path = 'environments/production.yaml'").rowcount == 1
    assert _status(world) == first["models"][0]
    assert sorted(loads) == ["environment production", f"model {MODEL}"]
    assert _status(world) == first["models"][0] and len(loads) == 2  # kept again
