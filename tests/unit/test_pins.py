"""The workflows' hash-pinned requirements (issue 15, item 9): written, parsed, checked."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from governance import __version__
from governance.errors import UsageError
from governance.pins import (
    REQUIREMENTS,
    artifact_hash,
    check_requirements,
    installed_version,
    parse_requirements,
    requirements_text,
    write_requirements,
)

ROOT = Path(__file__).resolve().parents[2]
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64
LOCK = f"pyyaml==6.0.2 \\\n    --hash=sha256:{H2} \\\n    --hash=sha256:{H3}\n"


def test_the_pinned_version_is_the_package_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert installed_version() == __version__ == pyproject["project"]["version"]


def test_parse_joins_continuations_and_drops_comments() -> None:
    pins = parse_requirements(
        "# header\n"
        f"model-governance==0.1.0 \\\n    --hash=sha256:{H1}\n"
        "# between\n"
        f"PyYAML==6.0.2 ; python_version >= '3.11' \\\n    --hash=sha256:{H2}\n"
        "requests>=2\n")
    assert [(p.name, p.version, p.hashes, p.line) for p in pins] == [
        ("model-governance", "0.1.0", (H1,), 2),
        ("pyyaml", "6.0.2", (H2,), 5),
        ("requests", None, (), 7),
    ]


def _write(root: Path, text: str) -> None:
    (root / ".github").mkdir(parents=True, exist_ok=True)
    (root / REQUIREMENTS).write_text(text)


def test_a_complete_file_for_this_version_has_no_problem(tmp_path: Path) -> None:
    _write(tmp_path, requirements_text(__version__, [H1], LOCK))
    assert check_requirements(tmp_path) == []


@pytest.mark.parametrize(("text", "expected"), [
    (requirements_text("0.0.9", [H1], LOCK),
     f"pins model-governance 0.0.9, but {__version__} is installed here"),
    (requirements_text(__version__, [], LOCK), "model-governance has no --hash=sha256:"),
    (requirements_text(__version__, [H1], None), "no dependencies listed"),
    (requirements_text(__version__, [H1], "pyyaml==6.0.2\n"), "pyyaml has no --hash=sha256:"),
    (requirements_text(__version__, [H1], f"pyyaml>=6 --hash=sha256:{H2}\n"),
     "pyyaml is not pinned with =="),
    (LOCK, "no model-governance==VERSION line"),
])
def test_each_problem_is_named(tmp_path: Path, text: str, expected: str) -> None:
    _write(tmp_path, text)
    messages = [p.message for p in check_requirements(tmp_path)]
    assert any(expected in m for m in messages), messages


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    assert [p.message for p in check_requirements(tmp_path)] == [f"{REQUIREMENTS} does not exist"]


def test_write_pins_the_sha256_of_the_given_artifacts(tmp_path: Path) -> None:
    wheel = tmp_path / f"model_governance-{__version__}-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel, but bytes with a hash")
    notes: list[str] = []
    assert write_requirements(tmp_path, notes, (wheel,)) == [tmp_path / REQUIREMENTS]
    pins = parse_requirements((tmp_path / REQUIREMENTS).read_text())
    assert pins[0].name == "model-governance" and pins[0].version == __version__
    assert pins[0].hashes == (hashlib.sha256(wheel.read_bytes()).hexdigest(),)
    assert not any("without its sha256" in n for n in notes)
    # existing files are kept unless overwriting is asked for
    assert write_requirements(tmp_path, [], ()) == []
    notes = []
    write_requirements(tmp_path, notes, (), overwrite=True)
    assert any("without its sha256" in n for n in notes)
    assert "NO HASH for model-governance itself" in (tmp_path / REQUIREMENTS).read_text()


def test_an_artifact_of_another_version_or_package_is_refused(tmp_path: Path) -> None:
    for name in ("model_governance-9.9.9-py3-none-any.whl", "evil-0.1.0.tar.gz"):
        path = tmp_path / name
        path.write_bytes(b"x")
        with pytest.raises(UsageError, match="not a wheel or sdist of model-governance"):
            artifact_hash(path, __version__)
