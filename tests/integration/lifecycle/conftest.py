"""Fixtures: one governed world built per run (real keys, git, Rego; shared by the xdist
workers, see tests/support/shared.py), copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lifecycle.world import World, add_approved_release, build
from tests.support.fake_github import FakeGitHub
from tests.support.shared import shared_dir


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> World:
    for tool in ("git", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return World(shared_dir(tmp_path_factory, "lifecycle-world", build))


@pytest.fixture
def world(world_template: World, tmp_path: Path) -> World:
    """r1 of fraud-risk approved and live in staging and production; origin + CI clone."""
    return world_template.copy(tmp_path / "world")


@pytest.fixture(scope="session")
def approved_template(world_template: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(shared_dir(tmp_path_factory, "lifecycle-approved",
                            lambda path: add_approved_release(world_template.copy(path))))


@pytest.fixture
def approved(approved_template: World, tmp_path: Path) -> World:
    """As ``world``, plus r2 (R2) committed on main and approved by every role, not yet live."""
    return approved_template.copy(tmp_path / "world")


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The local GitHub REST stand-in; every response it gave is checked against GitHub's
    OpenAPI description when the test ends."""
    fake = FakeGitHub(owner="acme", repo="models", timeout_seconds=3.0)
    with fake:
        yield fake
    assert fake.schema_violations == [], "a fake response does not match GitHub's OpenAPI"
