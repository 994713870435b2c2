"""Promotion order, the next environment, the PR of a release, and pointers vs the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from governance.domain.config import Environment, GovernanceConfig
from governance.domain.events import LedgerEntry
from governance.environments import (
    check_pointers,
    compare_pointers,
    first_environment,
    next_environment,
    next_step,
    pointers_from_ledger,
    promotion_order,
    pull_request_of,
)
from governance.errors import ConfigurationError, Denied
from governance.lifecycle import fold_lifecycle
from tests.unit.test_lifecycle import M, ev

D = "sha256:" + "a" * 64


def config(*envs: Environment) -> GovernanceConfig:
    return GovernanceConfig(roles={}, environments={e.name: e for e in envs})


THREE = config(Environment("canary"), Environment("staging", after="canary"),
               Environment("production", after="staging"))



def _fold(events: Any) -> Any:
    return fold_lifecycle(events, production_env=THREE.production_environment)

def test_first_is_the_first_without_after_in_file_order() -> None:
    assert first_environment(THREE).name == "canary"
    assert [e.name for e in promotion_order(THREE)] == ["canary", "staging", "production"]


@pytest.mark.parametrize(
    "envs",
    [(Environment("production", after="staging"), Environment("staging")),
     (Environment("a", after="a"),), (Environment("Prod"),), ()],
    ids=["after-later", "self", "not-a-slug", "none"],
)
def test_an_order_that_is_not_a_promotion_path_is_refused(envs: tuple[Environment, ...]) -> None:
    with pytest.raises(ConfigurationError):
        first_environment(config(*envs))


def test_next_follows_the_order_and_what_was_live() -> None:
    r = "r2"
    events = [ev(0, "release_registered", release_id=r)]
    assert next_environment(THREE, _fold(events), r, M).name == "canary"  # type: ignore[union-attr]
    events.append(ev(1, "deployment_promoted", release_id=r, environment="canary",
                     release_digest=D, source={"pr": 9}))
    assert next_environment(THREE, _fold(events), r, M).name == "staging"  # type: ignore[union-attr]
    events.append(ev(2, "deployment_promoted", release_id=r, environment="staging",
                     release_digest=D))
    events.append(ev(3, "deployment_promoted", release_id=r, environment="production",
                     release_digest=D))
    assert next_environment(THREE, _fold(events), r, M) is None
    # rolled back out of production: production is next again
    events.append(ev(4, "rollback_executed", environment="production", from_release=r,
                     to_release="r1", release_id="r1"))
    assert next_environment(THREE, _fold(events), r, M).name == "production"  # type: ignore[union-attr]


def test_the_pull_request_must_name_the_same_digest() -> None:
    events = [ev(1, "deployment_promoted", release_id="r2", environment="canary",
                 release_digest=D, source={"pr": 9}),
              ev(2, "approval_granted", release_id="r2", release_digest="sha256:" + "b" * 64,
                 source={"pr": 10})]
    assert pull_request_of(events, "r2", D) == 9
    assert pull_request_of(events, "r2", "sha256:" + "c" * 64) is None
    assert pull_request_of(events, "r3", D) is None


def test_pointers_compare_with_the_ledger() -> None:
    events = [ev(1, "deployment_promoted", release_id="r2", environment="canary",
                 release_digest=D, model_version="2")]
    expected = pointers_from_ledger(THREE, _fold(events), events)
    entry = expected["canary"][M].to_json()
    assert entry == {"release_id": "r2", "model_version": "2", "release_digest": D,
                     "promoted_at": "2026-04-02T00:00:00Z", "ledger_seq": 1,
                     "ledger_event_id": "e1"}
    assert compare_pointers(expected, {"canary": {M: entry}}) == []
    [missing] = compare_pointers(expected, {})
    assert missing.why == "missing from the pointer"
    [other] = compare_pointers(expected, {"canary": {M: {**entry, "release_id": "r9"}}})
    assert (other.found, other.expected) == ("r9", "r2")
    [seq] = compare_pointers(expected, {"canary": {M: {**entry, "ledger_seq": 0}}})
    assert "names ledger seq 0" in seq.why
    [extra] = compare_pointers(expected, {"staging": {M: entry}, "canary": {M: entry}})
    assert (extra.environment, extra.why) == ("staging", "no ledger event made it live")
    [unknown] = compare_pointers(expected, {"canary": {M: entry}, "qa": {M: entry}})
    assert unknown.why == "not an environment of governance.yaml"


def test_pointer_files_are_read_with_the_hardened_loader(tmp_path: Path) -> None:
    """The pointer branch is writable by whoever may push to it: an alias bomb, a duplicate key
    or a non-UTF-8 file is not expanded or guessed at but reported, located, as a mismatch."""
    from governance.pointers import pointers_in

    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "staging.yaml").write_text(
        "apiVersion: governance/v1\nkind: EnvironmentState\nenvironment: staging\n"
        "models:\n  fraud-risk: {release_id: a}\n  fraud-risk: {release_id: b}\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    (envs / "production.yaml").write_text(bomb + "models: *i\n")
    (envs / "dev.yaml").write_bytes(b"models:\n  m: {release_id: \xff}\n")
    found = pointers_in(tmp_path)
    staging = found["staging"]["<unreadable>"]["release_id"]
    assert staging.startswith("environments/staging.yaml:6 ") and "duplicate key" in staging
    assert "alias" in found["production"]["<unreadable>"]["release_id"]
    assert "not valid UTF-8" in found["dev"]["<unreadable>"]["release_id"]


def test_next_step_names_the_environment_and_the_pull_request() -> None:
    events = [ev(0, "release_registered", release_id="r2"),
              ev(1, "deployment_promoted", release_id="r2", environment="canary",
                 release_digest=D, source={"pr": 9})]
    step = next_step(THREE, "r2", M, D, events)
    assert step.to_json() == {"release_id": "r2", "model_name": M, "environment": "staging",
                              "after": "canary", "required_approvals": [],
                              "pull_request": 9, "release_digest": D}
    for seq, env in ((2, "staging"), (3, "production")):
        events.append(ev(seq, "deployment_promoted", release_id="r2", environment=env,
                         release_digest=D))
    with pytest.raises(Denied, match="r2 is live in every environment"):
        next_step(THREE, "r2", M, D, events)


def test_check_pointers_records_a_mismatch_only_when_asked() -> None:
    events = [ev(1, "deployment_promoted", release_id="r2", environment="canary",
                 release_digest=D, model_version="2")]
    entry = pointers_from_ledger(THREE, _fold(events), events)["canary"][M].to_json()
    assert check_pointers(THREE, events, {"canary": {M: entry}}, ref=None, record=None,
                          source={}).to_json() == {"ok": True, "mismatches": [],
                                                   "recorded_seq": None}
    edited = {"canary": {M: {**entry, "release_id": "r9"}}}
    unrecorded = check_pointers(THREE, events, edited, ref=None, record=None, source={})
    assert not unrecorded.ok and unrecorded.recorded is None
    appended: list[dict[str, Any]] = []

    def record(fields: Mapping[str, Any]) -> LedgerEntry:
        appended.append(dict(fields))
        return ev(7, str(fields["event_type"]))

    done = check_pointers(THREE, events, edited, ref="c" * 40, record=record,
                          source={"pusher": "mallory"})
    assert done.to_json()["recorded_seq"] == 7
    [fields] = appended
    assert fields["event_type"] == "policy_violation"
    assert fields["reason"].startswith("pointer files differ from the ledger (edited by hand?): ")
    assert fields["details"]["ref"] == "c" * 40
    assert fields["details"]["pointer_mismatches"] == [m.to_json() for m in done.mismatches]
    assert fields["source"] == {"pusher": "mallory"}
