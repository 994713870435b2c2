"""`status` from a model's summary (``governance.status.summarize``, kept as JSON by
``governance.status_memo``) says exactly what the status computed straight from the fold said:
the reference below is that computation as it was before the summary existed. Checked on
generated histories of many models (rollbacks, retirements, break-glass with and without its
post-hoc review, denials), with releases on disk the ledger does not name yet, pointer files
that drift, and a production environment named otherwise; text and JSON, every limit."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.lifecycle import DRAFT, LifecycleState, ReleaseStanding, fold_lifecycle
from governance.repo import GovernedRepo
from governance.status import (
    AWAITING,
    ModelStatus,
    ReleaseDirs,
    _add_approvals,
    _created_at,
    _sort_key,
    pointer_drift,
    render_text,
    status_of,
    summarize,
)
from governance.status_memo import decode_summary, encode_summary
from tests.support.histories import generate_entries, generate_events, seal

ROOT = Path(__file__).resolve().parents[2]


def reference_status(repo: GovernedRepo, state: LifecycleState, model: str,
                     limit: int | None) -> ModelStatus:
    """``governance.status.model_status`` before the summary (commit 0e3c672), computed
    straight from the fold."""
    envs = []
    drift = []
    for env in repo.config.environments:
        current = state.current(model, env)
        envs.append({
            "environment": env,
            "live": current.release_id if current else None,
            "since": current.since if current else None,
            "by": current.actor_id if current else None,
            "via": current.event_type if current else None,
            "seq": current.seq if current else None,
            "fallback": state.fallback(model, env),
        })
        problem = pointer_drift(repo, state, model, env)
        if problem:
            drift.append(problem + " (re-run the promote or rollback to repair)")
    standings = state.standings(model)
    dirs = {d.name: d for d in repo.release_dirs(model)}
    rows = []
    for rid in set(dirs) | set(standings):
        standing = standings.get(rid) or ReleaseStanding(release_id=rid, state=DRAFT)
        when = standing.first_seen or (_created_at(dirs[rid]) if rid in dirs else None)
        rows.append((_sort_key(when), rid, when, standing))
    rows.sort(reverse=True)
    counts = Counter(standing.state for _, _, _, standing in rows)
    shown = rows if limit is None else rows[:limit]

    def digest(rid: str) -> str | None:
        life = state.release(rid)
        return life.approved_digest if life else None

    releases = [{**standing.to_json(), "time": when, "on_disk": rid in dirs,
                 "approved_digest": digest(rid)}
                for _, rid, when, standing in shown]
    awaiting = [r for r in releases if r["on_disk"] and r["state"] in AWAITING
                and not r["live"] and not r["replaced"]]
    if awaiting and repo.config.environments:
        _add_approvals(repo, state, dirs, awaiting)
    obligations = tuple({"kind": o.kind, "event_id": o.event_id, "seq": o.seq,
                         "release_id": o.release_id, "environment": o.environment,
                         "incident": o.incident, "opened_at": o.opened_at, "by": o.actor_id}
                        for o in state.open_obligations(model))
    return ModelStatus(model=model, environments=tuple(envs), releases=tuple(releases),
                       obligations=obligations, drift=tuple(drift), releases_total=len(rows),
                       state_counts=tuple(sorted(counts.items())))


def _repo(tmp_path: Path, production: str, pointers: dict[str, dict[str, str]],
          on_disk: dict[str, list[tuple[str, str | None]]]) -> GovernedRepo:
    """A governed repository whose environments are staging and ``production``, with pointer
    files and release directories (release id, created_at or None for a malformed file)."""
    doc = yaml.safe_load((ROOT / "governance.yaml").read_text())
    assert list(doc["environments"]) == ["staging", "production"]
    if production != "production":
        doc["environments"] = {"staging": doc["environments"]["staging"],
                               production: doc["environments"]["production"]}
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "environments").mkdir()
    for env, models in pointers.items():
        (tmp_path / "environments" / f"{env}.yaml").write_text(yaml.safe_dump({
            "apiVersion": "governance/v1", "kind": "EnvironmentState", "environment": env,
            "models": {m: {"release_id": rid} for m, rid in models.items()}}))
    for model, releases in on_disk.items():
        for rid, created in releases:
            d = tmp_path / "releases" / model / rid
            d.mkdir(parents=True)
            text = f"created_at: '{created}'\n" if created else "created_at: [not a time\n"
            (d / "release.yaml").write_text(f"release_id: {rid}\n{text}")
        # not releases: a directory without release.yaml, a file; a link is one (refused by
        # name when loaded)
        (tmp_path / "releases" / model / "notes").mkdir()
        (tmp_path / "releases" / model / "README.md").write_text("notes\n")
        (tmp_path / "releases" / model / f"{model}-2097-01-01-01").symlink_to(tmp_path)
    return GovernedRepo.open(tmp_path)


def _history(seed: int, production: str) -> list[Any]:
    """Generated events of 12 models, production renamed to ``production``, sealed."""
    events = [{**e, "environment": production} if e.get("environment") == "production" else e
              for e in generate_events(models=12, releases_per_model=9, seed=seed)]
    return list(seal(events, seed=seed))


@pytest.mark.parametrize(("seed", "production"), [(0, "production"), (1, "production"),
                                                  (2, "prod"), (3, "production")])
def test_the_summary_answers_as_the_fold(tmp_path: Path, seed: int, production: str) -> None:
    entries = _history(seed, production)
    kinds = Counter(e.event_type for e in entries)
    # the histories hold what makes status interesting, or this test proves little
    assert kinds["rollback_executed"] and kinds["break_glass"] and kinds["release_retired"]
    assert kinds["approval_denied"]
    models = sorted({str(e.event["model_name"]) for e in entries if e.event.get("model_name")})
    full = fold_lifecycle(entries, production_env=production)
    # pointer files: one model agrees, one drifts, one points at nothing the ledger knows
    pointers: dict[str, dict[str, str]] = {"staging": {}, production: {}}
    for i, model in enumerate(models[:3]):
        for env in pointers:
            cur = full.current(model, env)
            have = cur.release_id if cur else None
            pointers[env][model] = (have or "x") if i == 0 else f"{model}-elsewhere"
    on_disk = {models[0]: [(f"{models[0]}-2099-01-01-01", "2099-01-01T00:00:00Z"),
                           (f"{models[0]}-2098-01-01-01", None)],
               models[1]: [(rid, "2020-01-01T00:00:00Z") for rid, s in list(
                   full.standings(models[1]).items()) if s.live or s.replaced][:2]}
    repo = _repo(tmp_path, production, pointers, on_disk)
    drifted = 0
    for model in models:
        assert dict(ReleaseDirs(repo.root / "releases" / model)) == {
            d.name: d for d in repo.release_dirs(model)}
        per_model = fold_lifecycle([e for e in entries if e.event.get("model_name") == model],
                                   production_env=production)
        kept = decode_summary(encode_summary(summarize(per_model, model)))  # as kept
        assert kept is not None
        for limit in (None, 1, 5, 20):
            want = reference_status(repo, full, model, limit)
            got = status_of(repo, kept, model, limit, lambda: per_model)  # noqa: B023
            assert got.to_json() == want.to_json(), (model, limit)
            assert render_text([got]) == render_text([want])
        drifted += bool(want.drift)
    assert drifted >= 2


def _one_model(tmp_path: Path, model: str, *, models: int, releases: int, seed: int
               ) -> tuple[GovernedRepo, LifecycleState]:
    """A repository with this project's governance.yaml in ``tmp_path``, and the fold of
    ``model``'s events from a generated history."""
    shutil.copy(ROOT / "governance.yaml", tmp_path / "governance.yaml")
    entries = generate_entries(models=models, releases_per_model=releases, seed=seed)
    state = fold_lifecycle([e for e in entries if e.event.get("model_name") == model],
                           production_env="production")
    return GovernedRepo.open(tmp_path), state


def test_a_release_awaiting_promotion_asks_for_the_whole_fold(tmp_path: Path) -> None:
    """The approvals gate's input reads the fold itself: a listed release on disk awaiting
    promotion asks for it (once), a status with none never does."""
    model = "fraud-risk"
    repo, state = _one_model(tmp_path, model, models=3, releases=4, seed=5)
    asked: list[int] = []

    def whole() -> LifecycleState:
        asked.append(1)
        return state

    status_of(repo, summarize(state, model), model, None, whole)
    assert asked == []
    d = tmp_path / "releases" / model / f"{model}-2099-01-01-01"
    d.mkdir(parents=True)
    (d / "release.yaml").write_text("created_at: '2099-01-01T00:00:00Z'\n")
    got = status_of(repo, summarize(state, model), model, None, whole)
    assert asked == [1]
    [waiting] = [r for r in got.releases if r["release_id"] == d.name]
    assert waiting["state"] == DRAFT and waiting["approvals"]["evaluated"] is True


def test_a_kept_summary_reads_only_the_listed_standings(tmp_path: Path) -> None:
    """As kept (``encode_summary``), a summary answers what the fold answers; its standings
    stay JSON text until listed, so an unreadable one outside the list is never read, and
    one inside it makes the status the fold's (asked for once), never an error; a text that is
    not a kept summary is a miss."""
    model = "fraud-risk"
    repo, state = _one_model(tmp_path, model, models=2, releases=30, seed=11)
    summary = summarize(state, model)
    text = encode_summary(summary)
    kept = decode_summary(text)
    assert kept is not None and len(kept["releases"]) == len(summary["releases"]) > 20
    assert all(isinstance(r[5], str) for r in kept["releases"])
    asked: list[int] = []

    def whole() -> LifecycleState:
        asked.append(1)
        return state

    for limit in (None, 3, 20):
        want = status_of(repo, summary, model, limit, whole).to_json()
        assert status_of(repo, decode_summary(text), model, limit,  # type: ignore[arg-type]
                         whole).to_json() == want
    assert asked == []
    listed = status_of(repo, summary, model, 3, whole).releases
    lines = text.split("\n")
    order = [r[0] for r in kept["releases"]]
    hidden = next(i for i, rid in enumerate(order) if rid not in {r["release_id"]
                                                                  for r in listed})
    shown = order.index(listed[0]["release_id"])
    for line, calls in ((hidden, 0), (shown, 1)):
        broken = list(lines)
        broken[line + 1] = "{not json"
        got = status_of(repo, decode_summary("\n".join(broken)),  # type: ignore[arg-type]
                        model, 3, whole)
        assert got.to_json() == status_of(repo, summary, model, 3, whole).to_json()
        assert len(asked) == calls
    for bad in ("", "{", "[]", text + "\n{}", "\n".join(lines[:-1]),
                '{"releases": [["a"]]}\n{}', json.dumps({"releases": 1})):
        assert decode_summary(bad) is None, bad
