"""Located, safe YAML loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.yaml_source import (
    DEFAULT_MAX_BYTES,
    YamlProblem,
    load_yaml_file,
    parse_yaml_text,
)


def test_lines_are_mapped_per_json_path() -> None:
    doc = parse_yaml_text("a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n", "f.yaml")
    assert doc.line_of("$.b.c") == 3
    assert doc.line_of("$.b.d[0].e") == 5
    assert doc.line_of("$.b.d[0].missing") == 5


def test_timestamps_stay_strings_and_only_true_false_are_booleans() -> None:
    doc = parse_yaml_text("v: 2026-04-10\nt: 2026-04-10T09:14:11Z\nn: no\nb: true\n", "f")
    assert doc.data == {"v": "2026-04-10", "t": "2026-04-10T09:14:11Z", "n": "no", "b": True}


def test_default_size_limit_is_one_mebibyte(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * DEFAULT_MAX_BYTES + "\n")
    with pytest.raises(YamlProblem, match="over the limit of 1048576 bytes"):
        load_yaml_file(big)


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlProblem, match="malformed YAML"):
        parse_yaml_text("a: !!python/object/apply:os.system ['echo hi']\n", "f.yaml")
