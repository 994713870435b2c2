"""The validated governance.yaml remembered for read queries (governance.config_cache)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from governance import config_cache
from governance.config import load_config
from governance.errors import InvalidInput

SOURCE = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "governance.yaml").write_bytes((SOURCE / "governance.yaml").read_bytes())
    return root


def _entry(root: Path) -> Path:
    path = config_cache.cache_file(root)
    assert path is not None
    return path


def test_a_validated_configuration_is_remembered_in_the_git_directory(repo: Path) -> None:
    parsed = load_config(repo)
    entry = _entry(repo)
    assert entry.parent == repo / ".git" / "governance" and entry.exists()
    assert load_config(repo, remembered=True) == parsed
    assert not (repo / ".governance").exists()  # nothing in the work tree


def test_a_remembered_load_imports_no_yaml_parser(repo: Path) -> None:
    load_config(repo)
    code = ("import json, sys\nfrom pathlib import Path\nfrom governance.config import "
            "load_config\nconfig = load_config(Path(sys.argv[1]), remembered=True)\n"
            "print(json.dumps([sorted(config.environments), "
            "[m for m in ('yaml', 'governance.records', 'jsonschema', 'fastjsonschema') "
            "if m in sys.modules]]))")
    out = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True,
                         text=True, check=True)
    environments, imported = json.loads(out.stdout)
    assert environments == sorted(load_config(repo).environments)
    assert imported == []


def test_any_edit_of_the_file_is_parsed_and_checked_again(repo: Path) -> None:
    load_config(repo)
    path = repo / "governance.yaml"
    path.write_bytes(path.read_bytes() + b"# a comment\n")
    before = _entry(repo).read_text()
    assert load_config(repo, remembered=True) == load_config(repo)
    assert _entry(repo).read_text() != before  # the new bytes' entry replaced the old one
    path.write_bytes(path.read_bytes().replace(b"apiVersion: governance/v1",
                                               b"apiVersion: governance/v9"))
    with pytest.raises(InvalidInput) as caught:
        load_config(repo, remembered=True)
    assert "apiVersion" in caught.value.diagnostics()


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"key": 1}',
                                     b'{"key": "x", "data": {}}'])
def test_a_damaged_entry_is_a_miss_not_an_error(repo: Path, content: bytes) -> None:
    parsed = load_config(repo)
    entry = _entry(repo)
    key = json.loads(entry.read_text())["key"]
    entry.write_bytes(content.replace(b'"x"', json.dumps(key).encode()))
    assert load_config(repo, remembered=True) == parsed


def test_only_read_queries_take_the_remembered_configuration(repo: Path) -> None:
    """An entry is tied to the file's bytes, not proven by them: commands that decide or
    record never read it (they parse governance.yaml), so an edited entry can change no
    decision."""
    parsed = load_config(repo)
    entry = _entry(repo)
    doc = json.loads(entry.read_text())
    doc["data"]["roles"]["intruders"] = {"members": ["mallory"]}
    entry.write_text(json.dumps(doc))
    assert "intruders" not in load_config(repo).roles
    assert load_config(repo) == parsed


def test_without_a_git_directory_nothing_is_remembered(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "governance.yaml").write_bytes((SOURCE / "governance.yaml").read_bytes())
    assert config_cache.cache_file(root) is None
    assert load_config(root, remembered=True) == load_config(root)
