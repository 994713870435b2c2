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


def test_an_alias_bomb_is_refused_with_its_line() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    with pytest.raises(YamlProblem, match="expands to more than 100000 nodes") as caught:
        parse_yaml_text("\n".join(lines) + "\n", "bomb.yaml")
    assert caught.value.problem.line is not None


def test_shared_aliases_under_the_limit_load() -> None:
    doc = parse_yaml_text("a: &x [1, 2]\nb: *x\nc: *x\n", "f.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_many_keys_are_counted_like_the_located_walk() -> None:
    # 60,000 keys are 60,001 nodes as the located walk counts them (keys are not nodes there);
    # counting keys too used to refuse this document and then fail to locate why.
    text = "".join(f"k{i:05d}: 1\n" for i in range(60_000))
    assert len(parse_yaml_text(text, "wide.yaml").data) == 60_000


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("? [a, b]\n: 1\n", 1, "a mapping key is a sequence, expected a plain string"),
        ("a: 1\n? {b: 1}\n: 2\n", 2, "a mapping key is a mapping, expected a plain string"),
        # keys YAML reads as numbers, booleans or null are refused where they stand (issue 16),
        # so 1/01 or True/true can no longer collide once read
        ("x: 1\n1: a\n01: b\n", 2, "found key '1', which YAML reads as a number; expected a "
         "string key"),
        ("a: 1\nTrue: 2\ntrue: 3\n", 2, "found key 'True', which YAML reads as a boolean"),
        ("a: 1\n~: 2\n", 2, "found key '~', which YAML reads as null"),
        ("metrics:\n  auc: 1\n  2: 3\n", 3, "found key '2', which YAML reads as a number"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first defined on line 1)"),
    ],
)
def test_keys_that_cannot_be_told_apart_are_located(text: str, line: int, message: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text(text, "keys.yaml")
    assert caught.value.problem.line == line
    assert message in caught.value.problem.message


def test_a_key_that_is_not_a_string_is_located_with_its_path() -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text("metrics:\n  auc: 1\n  true: 2\n", "card.yaml")
    problem = caught.value.problem
    assert (problem.line, problem.path) == (3, "$.metrics.true")
    assert problem.hint == "quote it: 'true'"


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        ("a: 1\nb: " + "9" * 5000 + "\n", 2, "$.b"),
        ("a:\n  - 0x" + "f" * 5000 + "\n", 2, "$.a[0]"),
        ("a: 1\nb: -" + "1" * 101 + "\n", 2, "$.b"),
    ],
)
def test_an_integer_too_long_to_be_a_value_is_refused_where_it_stands(
        text: str, line: int, path: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text(text, "big.yaml")
    problem = caught.value.problem
    assert (problem.line, problem.path) == (line, path)
    assert "expected a number of at most 100 digits" in problem.message


def test_a_hundred_digit_integer_still_reads() -> None:
    assert parse_yaml_text("a: " + "9" * 100 + "\n", "ok.yaml").data["a"] == int("9" * 100)


@pytest.mark.parametrize("depth", [65, 500, 100_000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text("a: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert ("nesting deeper than 64 levels" in caught.value.problem.message
            or "maximum nesting depth" in caught.value.problem.message)


def test_sixty_four_levels_still_read() -> None:
    assert parse_yaml_text("a: " + "[" * 63 + "]" * 63 + "\n", "ok.yaml").data["a"] is not None
