"""Fixtures for the GitHub approval tests: a fake GitHub on loopback and a real git clone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_github import FakeGitHub
from tests.support.github_scenarios import Clone, make_clone


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    return make_clone(tmp_path)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(owner="acme", repo="models", timeout_seconds=3.0)
    with fake:
        yield fake
    assert fake.schema_violations == [], "a fixture response does not match GitHub's OpenAPI"
