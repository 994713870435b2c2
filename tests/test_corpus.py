"""Data-driven corpus: every invalid document fails with its message, every valid one passes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app

DATA = Path(__file__).resolve().parent / "data"
INVALID = sorted(p for p in (DATA / "invalid").glob("*.expect"))
VALID = sorted(p for p in (DATA / "valid").iterdir())


def _target(expect: Path) -> Path:
    as_dir = expect.with_suffix("")
    return as_dir if as_dir.is_dir() else expect.with_suffix(".yaml")


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("expect", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_document_fails_with_its_message(
    expect: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [ln for ln in expect.read_text().splitlines() if ln.strip()]
    args: list[str] = []
    if lines and lines[0].startswith("args:"):
        args = shlex.split(lines.pop(0)[len("args:") :])
    target = _target(expect)
    monkeypatch.chdir(target.parent)
    result = CliRunner().invoke(app, ["validate", target.name, *args], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for wanted in lines:
        assert wanted in result.output, f"expected {wanted!r} in:\n{result.output}"


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_document_passes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    result = CliRunner().invoke(app, ["validate", path.name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid")
