"""Identifiers with a trailing newline, end to end (issue 14): `model new $'ok\\n'` used to exit 0
and create `releases/ok\\n/`, which `validate` then accepted. Now the command refuses it (exit 2,
usage) and creates nothing, and `validate` refuses such a directory written by hand, at the
field, with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.cli.app import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def governed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "g"
    assert run("init", str(repo))[0] == 0
    monkeypatch.chdir(repo)
    return repo


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in (root / "releases").rglob("*")}


def test_model_new_refuses_a_name_with_a_trailing_newline(governed: Path) -> None:
    before = _tree(governed)
    code, out = run("model", "new", "ok\n", "--owner", "x")
    assert code == 2, out
    assert "model name 'ok\\n' is not a slug" in out
    assert _tree(governed) == before


def test_model_new_refuses_an_owner_with_a_trailing_newline(governed: Path) -> None:
    before = _tree(governed)
    code, out = run("model", "new", "ok", "--owner", "x\n")
    assert code == 2, out
    assert "--owner 'x\\n' is not a person or bot id" in out
    assert _tree(governed) == before


def test_release_new_refuses_a_trainer_or_release_id_with_a_newline(governed: Path) -> None:
    assert run("model", "new", "ok", "--owner", "x")[0] == 0
    before = _tree(governed)
    code, out = run("release", "new", "--model", "ok", "--version", "1", "--trained-by", "al\n")
    assert code == 2, out
    assert "--trained-by 'al\\n' is not a person or bot id" in out
    code, out = run("release", "new", "--model", "ok", "--version", "1",
                    "--release-id", "ok-1\n")
    assert code == 2, out
    assert "release id 'ok-1\\n' is not a slug" in out
    assert _tree(governed) == before


def test_validate_refuses_a_hand_made_directory_with_a_newline(governed: Path) -> None:
    directory = governed / "releases" / "ok\n"
    directory.mkdir()
    (directory / "model.yaml").write_text(
        "apiVersion: governance/v1\nkind: Model\nname: \"ok\\n\"\nowner: x\n"
        "risk_tier: medium\n", encoding="utf-8")
    code, out = run("validate")
    assert code == 1, out
    assert "releases/ok\\n/model.yaml:3 $.name: 'ok\\n' is not a slug" in out


def test_validate_refuses_a_field_with_a_trailing_newline(governed: Path) -> None:
    assert run("model", "new", "ok", "--owner", "x")[0] == 0
    assert run("release", "new", "--model", "ok", "--version", "1", "--trained-by", "al")[0] == 0
    release = governed / "releases" / "ok" / "ok-1-01" / "release.yaml"
    text = release.read_text(encoding="utf-8")
    assert "trained_by: al\n" in text
    release.write_text(text.replace("trained_by: al\n", "trained_by: \"al\\n\"\n"), "utf-8")
    line = next(i for i, t in enumerate(release.read_text().splitlines(), 1)
                if t.startswith("trained_by"))
    code, out = run("validate")
    assert code == 1, out
    assert f"release.yaml:{line} $.trained_by: 'al\\n' is not a person or bot id" in out
