"""Release digest: canonical, platform-independent, sensitive to every content byte."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.digest import release_digest
from governance.errors import InvalidInput

REFERENCE = Path(__file__).resolve().parents[2] / "releases" / "fraud-risk"


def _copy(tmp: Path, name: str = "fraud-risk-2026-04-10-01") -> Path:
    target = tmp / name
    shutil.copytree(REFERENCE / name, target)
    return target


def test_digest_is_stable_and_documented_format(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    first = release_digest(d)
    assert first.value.startswith("sha256:") and len(first.value) == 71
    assert [p for p, _ in first.manifest] == [
        "evidence/eval.json",
        "model-card.yaml",
        "release.yaml",
    ]
    assert release_digest(d) == first


def test_line_endings_and_modes_do_not_matter_for_yaml(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    before = release_digest(d).value
    card = d / "model-card.yaml"
    card.write_bytes(card.read_bytes().replace(b"\n", b"\r\n"))
    card.chmod(0o755)
    assert release_digest(d).value == before


def test_evidence_is_hashed_byte_exact(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    before = release_digest(d).value
    ev = d / "evidence" / "eval.json"
    ev.write_bytes(ev.read_bytes().replace(b"\n", b"\r\n"))
    assert release_digest(d).value != before


def test_symlink_is_refused(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "evidence" / "link.json").symlink_to("../release.yaml")
    with pytest.raises(InvalidInput, match="symbolic link"):
        release_digest(d)


def test_same_digest_in_two_clones_with_different_checkout_settings(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _copy(src)
    (src / ".gitattributes").write_text("**/evidence/** binary\n")
    run = lambda *a, cwd=src: subprocess.run(a, cwd=cwd, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "release")
    a, b = tmp_path / "a", tmp_path / "b"
    run("git", "clone", "-q", str(src), str(a), cwd=tmp_path)
    run(
        "git",
        "-c",
        "core.autocrlf=true",
        "-c",
        "core.eol=crlf",
        "clone",
        "-q",
        str(src),
        str(b),
        cwd=tmp_path,
    )
    name = "fraud-risk-2026-04-10-01"
    assert (b / name / "release.yaml").read_bytes() != (a / name / "release.yaml").read_bytes()
    assert release_digest(a / name) == release_digest(b / name) == release_digest(src / name)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_byte_change_changes_the_digest(tmp_path: Path, data: st.DataObject) -> None:
    d = tmp_path / "r"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(REFERENCE / "fraud-risk-2026-04-10-01", d)
    before = release_digest(d).value
    files = sorted(p for p in d.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    content = bytearray(target.read_bytes())
    index = data.draw(st.integers(0, len(content) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != content[index]))
    if target.suffix == ".yaml" and {content[index], replacement} <= {ord("\r"), ord("\n")}:
        return  # line-ending normalisation is the documented exception for YAML
    content[index] = replacement
    target.write_bytes(bytes(content))
    assert release_digest(d).value != before


def test_nested_files_count_git_directories_do_not_and_special_files_are_refused(
        tmp_path: Path) -> None:
    d = _copy(tmp_path)
    before = release_digest(d)
    (d / ".git").mkdir()
    (d / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert release_digest(d) == before  # a .git directory is not content
    (d / "evidence" / "more").mkdir()
    (d / "evidence" / "more" / "table.csv").write_text("a,b\n")
    with_nested = release_digest(d)
    assert "evidence/more/table.csv" in [p for p, _ in with_nested.manifest]
    assert with_nested != before
    os.mkfifo(d / "evidence" / "pipe")
    with pytest.raises(InvalidInput, match="not a regular file"):
        release_digest(d)


def test_an_unreadable_directory_is_refused_not_skipped(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: directory permissions do not stop reading")
    d = _copy(tmp_path)
    (d / "evidence").chmod(0)
    try:
        with pytest.raises(InvalidInput, match="cannot read directory"):
            release_digest(d)
    finally:
        (d / "evidence").chmod(0o755)
