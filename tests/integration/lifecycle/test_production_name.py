"""Issue 20: the production state follows governance.yaml's environment order. A repository
whose last environment is ``prod`` (not ``production``) shows its live release in production,
through the real CLI, the real ledger and the query index."""

from __future__ import annotations

import shutil

import pytest

from tests.integration.lifecycle.world import MODEL, R1, World, build


@pytest.fixture(scope="module")
def prod_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    for tool in ("git", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return build(tmp_path_factory.mktemp("prod-world") / "world", production="prod")


def test_status_shows_production_for_the_release_live_in_prod(prod_world: World) -> None:
    status = prod_world.json(None, "status", MODEL)
    [model] = status["models"]
    assert [e["environment"] for e in model["environments"]] == ["staging", "prod"]
    envs = {e["environment"]: e for e in model["environments"]}
    assert envs["prod"]["live"] == R1
    assert {r["release_id"]: r["state"] for r in model["releases"]} == {R1: "production"}
    assert model == prod_world.full_fold_status()  # the index's fold and the full fold agree
    text = prod_world.run(None, "status", MODEL).stdout
    assert f"{R1}: production" in text


def test_explain_says_production(prod_world: World) -> None:
    explained = prod_world.json(None, "explain", R1)
    deployed = explained["answers"]["deployed"]
    assert deployed["state"] == "production"
    assert [w["environment"] for w in deployed["live"]] == ["prod", "staging"]
