"""`status` on a long history: one live release per environment, superseded ones labelled with
since when and by what, newest first by time, summarised (the newest N and a count of the rest),
every release with ``limit=None`` (``--all``), and the same facts in text and json."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from governance.domain.events import LedgerEntry
from governance.lifecycle import fold_lifecycle
from governance.repo import GovernedRepo
from governance.status import DEFAULT_LIMIT, model_status, render_text
from tests.support.histories import START, seal, ts

ROOT = Path(__file__).resolve().parents[2]
MODEL = "churn"
RELEASES = 3000


def churn_history(releases: int = RELEASES) -> list[LedgerEntry]:
    """``releases`` releases of one model, each registered and approved; every second one is
    promoted to staging and then production (the issue's 3,000 / 1,500 ledger)."""
    events: list[dict[str, Any]] = []
    clock = START

    def add(kind: str, **fields: Any) -> None:
        nonlocal clock
        clock += timedelta(minutes=1)
        events.append({"event_type": kind, "timestamp": ts(clock), "model_name": MODEL,
                       "actor_id": "governance-ci", **fields})

    for i in range(1, releases + 1):
        rid, digest = f"v0.0.{i}", f"sha256:{i:064x}"
        add("release_registered", release_id=rid, release_digest=digest)
        add("release_approved", release_id=rid, release_digest=digest)
        if i % 2 == 0:
            for env in ("staging", "production"):
                add("deployment_promoted", release_id=rid, environment=env,
                    release_digest=digest)
    return list(seal(events))


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> tuple[GovernedRepo, Any]:
    root = tmp_path_factory.mktemp("churn")
    shutil.copy(ROOT / "governance.yaml", root / "governance.yaml")
    return GovernedRepo.open(root), fold_lifecycle(churn_history(), production_env="production")


def test_exactly_one_release_is_live_per_environment(churn: tuple[GovernedRepo, Any]) -> None:
    repo, state = churn
    status = model_status(repo, state, MODEL, limit=None).to_json()
    assert status["releases_total"] == RELEASES and status["releases_omitted"] == 0
    by_state: dict[str, list[str]] = {}
    for r in status["releases"]:
        by_state.setdefault(r["state"], []).append(r["release_id"])
    assert by_state["production"] == ["v0.0.3000"]
    assert len(by_state["superseded"]) == RELEASES // 2 - 1
    assert len(by_state["approved"]) == RELEASES // 2
    for env in ("staging", "production"):
        live = [r["release_id"] for r in status["releases"]
                if env in {s["environment"] for s in r["live"]}]
        assert live == ["v0.0.3000"], env
    assert status["state_counts"] == {"approved": 1500, "production": 1, "superseded": 1499}


def test_a_superseded_release_says_since_when_and_by_what(
        churn: tuple[GovernedRepo, Any]) -> None:
    repo, state = churn
    releases = {r["release_id"]: r for r in
                model_status(repo, state, MODEL, limit=None).to_json()["releases"]}
    old = releases["v0.0.10"]
    assert old["state"] == "superseded" and old["live"] == []
    replaced = {g["environment"]: g for g in old["replaced"]}
    assert set(replaced) == {"staging", "production"}
    assert replaced["production"]["by_release"] == "v0.0.12"
    assert replaced["production"]["via"] == "deployment_promoted"
    # since: the promotion of v0.0.12 to production (the sixth production span)
    v12 = state.live[(MODEL, "production")][5]
    assert v12.release_id == "v0.0.12"
    assert (replaced["production"]["since"], replaced["production"]["seq"]) == (v12.since,
                                                                               v12.seq)
    assert releases["v0.0.9"]["replaced"] == []  # never live: nothing replaced


def test_newest_first_by_time_not_by_text(churn: tuple[GovernedRepo, Any]) -> None:
    repo, state = churn
    every = model_status(repo, state, MODEL, limit=None).to_json()["releases"]
    assert [r["release_id"] for r in every] == [f"v0.0.{i}" for i in range(RELEASES, 0, -1)]
    times = [r["time"] for r in every]
    assert times == sorted(times, reverse=True)


def test_long_history_is_summarised_in_text_and_json(churn: tuple[GovernedRepo, Any]) -> None:
    repo, state = churn
    status = model_status(repo, state, MODEL)
    doc = status.to_json()
    assert len(doc["releases"]) == DEFAULT_LIMIT
    assert doc["releases_omitted"] == RELEASES - DEFAULT_LIMIT
    assert [r["release_id"] for r in doc["releases"]][:2] == ["v0.0.3000", "v0.0.2999"]
    text = render_text([status])
    lines = text.splitlines()
    assert len(lines) < 40, "a long history is summarised, not printed whole"
    assert "releases, newest first (3000: 1500 approved, 1 production, 1499 superseded):" in text
    assert lines[-1] == (f"  ... {RELEASES - DEFAULT_LIMIT} older release(s) not shown "
                         "(--all lists every release)")
    # the same facts in both formats: every listed release and its state, in the same order
    listed = [m.groups() for line in lines if (m := re.match(r"  (v[0-9.]+): (\w+)", line))]
    assert listed == [(r["release_id"], r["state"]) for r in doc["releases"]]
    assert ("  v0.0.2998: superseded; replaced in production since "
            f"{doc['releases'][2]['replaced'][0]['since']} by v0.0.3000") in text
    assert text.count(": production;") == 1


def test_all_lists_every_release(churn: tuple[GovernedRepo, Any]) -> None:
    repo, state = churn
    status = model_status(repo, state, MODEL, limit=None)
    text = render_text([status])
    assert sum(1 for line in text.splitlines() if line.startswith("  v0.0.")) == RELEASES
    assert "not shown" not in text


def test_drift_is_promotions_reading(churn: tuple[GovernedRepo, Any], tmp_path: Path) -> None:
    """Pointer drift (status reports it, promote and rollback repair it; one function, in
    governance.status, so status does not import governance.promotion): None when the pointer
    agrees with the ledger, else a message naming both, for a pointer that agrees, one naming
    another release, one naming nothing and a missing pointer file."""
    from governance.authoring import dump_document
    from governance.status import pointer_drift

    _, state = churn
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "governance.yaml", root / "governance.yaml")
    repo = GovernedRepo.open(root)
    live = {env: state.current(MODEL, env).release_id for env in ("staging", "production")}
    pointers: list[dict[str, Any] | None] = [
        None, {}, {MODEL: {"release_id": "v0.0.1"}},
        {MODEL: {"release_id": live["production"]}}]
    seen = set()
    for models in pointers:
        (root / "environments").mkdir(exist_ok=True)
        for env in ("staging", "production"):
            path = root / "environments" / f"{env}.yaml"
            if models is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(dump_document("EnvironmentState",
                                              {"environment": env, "models": models}))
            for model in (MODEL, "other-model"):
                got = pointer_drift(repo, state, model, env)
                current = state.current(model, env)
                want = current.release_id if current else None
                have = (models or {}).get(model, {}).get("release_id")
                if want == have:
                    assert got is None
                else:
                    assert got is not None and got.endswith(
                        f"environments/{env}.yaml says {have or 'nothing'} for {model}, the "
                        f"ledger says {want or 'nothing'} is live"), got
                seen.add(got is None)
    assert seen == {True, False}


def test_the_fast_sort_key_is_parse_instants() -> None:
    """status sorts 1,000 releases by time: the ledger's own spelling goes through the C parser,
    with the same instant (or the same refusal) as ``parse_instant``."""
    import random

    from governance.status import _sort_key
    from governance.timeparse import TimeFormatError, parse_instant, to_seconds

    def slow(when: str) -> tuple[int, float]:
        try:
            return (1, to_seconds(parse_instant(when)))
        except TimeFormatError:
            return (0, 0.0)

    rng = random.Random(7)
    samples = ["2026-04-10T09:14:11Z", "2026-04-10T09:14:11.5Z", "2026-04-10T09:14:11.123456Z",
               "2024-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
               "2026-04-10T24:00:00Z", "2026-04-10T09:60:00Z", "2026-04-10T09:14:60Z",
               "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "0000-01-01T00:00:00Z",
               "2026-04-10T09:14:11+02:00", "2026-04-10t09:14:11z", "2026-04-10",
               "2026-04-10T09:14:11.1234567Z", "2026-13-01T00:00:00Z"]
    for _ in range(300):
        digits = str(rng.randint(0, 999999))[:rng.randint(1, 6)]
        fraction = f".{digits}" if rng.random() < .5 else ""
        samples.append(f"{rng.randint(1, 9999):04d}-{rng.randint(0, 13):02d}-"
                       f"{rng.randint(0, 32):02d}T{rng.randint(0, 24):02d}:"
                       f"{rng.randint(0, 60):02d}:{rng.randint(0, 60):02d}{fraction}Z")
    for when in samples:
        assert _sort_key(when) == slow(when), when
    assert _sort_key(None) == _sort_key("") == (0, 0.0)


def test_the_layout_names_status_keeps_are_the_repositorys() -> None:
    """governance.status names the layout and the size limit itself (importing governance.repo
    would bring the YAML parser into every warm status): they are governance.repo's."""
    import governance.repo as repo
    import governance.status as status
    from governance.yaml_source import DEFAULT_MAX_BYTES

    assert (status.RELEASES, status.ENVIRONMENTS, status.RELEASE_FILE, status.MODEL_FILE) == (
        repo.RELEASES, repo.ENVIRONMENTS, repo.RELEASE_FILE, repo.MODEL_FILE)
    assert status.DEFAULT_MAX_BYTES == DEFAULT_MAX_BYTES
