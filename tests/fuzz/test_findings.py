"""Regression tests for the defects the fuzz harness found beyond issue 16's list.

Each test is the minimised reproducer of one finding (see the report in bench/results/fuzz.md):
the input that ended in ``internal error`` or a wrong pass now gets a located message and the
contract's exit code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer.main
from click.testing import CliRunner

from governance.cli.app import app
from governance.errors import EXIT_NO, EXIT_USAGE, NotFound, UsageError
from governance.records import validate_document
from governance.repo import GovernedRepo
from governance.timeparse import EARLIEST, parse_time
from governance.yaml_source import YamlProblem, parse_yaml_text

VALID_REPO = Path(__file__).resolve().parents[1] / "data" / "valid" / "repo"
COMMAND = typer.main.get_command(app)


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(COMMAND, args, prog_name="governance")
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("char", ["\x7f", "\x80", "\x9b", "\x0e", "\x1b"])
def test_a_control_character_in_yaml_is_a_located_problem(char: str) -> None:
    # was: internal error: ReaderError: unacceptable character #x009b
    text = f"apiVersion: governance/v1\nkind: Model\nname: a{char}b\n"
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text(text, "model.yaml")
    problem = caught.value.problem
    assert problem.line == 3
    assert f"U+{ord(char):04X}" in problem.message


@pytest.mark.parametrize("text", [
    "name: x\nextra: &x {self: *x}\n",  # an anchor that contains itself
    "name: " + "{a: " * 950 + "1" + "}" * 950 + "\n",  # deep, under libyaml's own limit
    "name: " + "[" * 101 + "]" * 101 + "\n",  # just past the limit
    "a0: &a0 1\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, {'[' * 20}*a{i - 1}{']' * 20}]\n"
                             for i in range(1, 8)),  # deep only once the aliases are expanded
])
def test_self_containing_or_deep_yaml_is_a_problem_not_a_recursion_error(text: str) -> None:
    # was: internal error: RecursionError
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text("apiVersion: governance/v1\nkind: Model\n" + text, "model.yaml")
    assert "nesting" in caught.value.problem.message


def test_a_document_as_deep_as_the_limit_still_loads() -> None:
    from governance.yaml_source import MAX_DEPTH

    value = "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2)
    doc = parse_yaml_text(f"apiVersion: governance/v1\nkind: Model\nname: {value}\n", "m.yaml")
    assert doc.data["kind"] == "Model"


@pytest.mark.parametrize("kind", ["[Model]", "{a: 1}"])
def test_a_kind_that_is_a_list_or_mapping_is_named(kind: str) -> None:
    # was: internal error: TypeError: unhashable type: 'list'
    doc = parse_yaml_text(f"apiVersion: governance/v1\nkind: {kind}\nname: x\n", "model.yaml")
    problems = validate_document(doc)
    assert [p.path for p in problems] == ["$.kind"]
    assert problems[0].line == 2


def test_an_over_long_release_argument_is_an_unknown_release() -> None:
    # was: internal error: OSError: [Errno 36] File name too long (check, approve)
    repo = GovernedRepo.open(VALID_REPO)
    with pytest.raises(NotFound):
        repo.resolve_release("A" * 300)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_times_outside_years_1_to_9999_are_usage_errors(text: str) -> None:
    # was: internal error: OverflowError: date value out of range (live --at, audit --since)
    with pytest.raises(UsageError):
        parse_time(text, option="--at")


@pytest.mark.parametrize("text", ["999999d", "999999y", "999999w"])
def test_a_relative_time_before_year_1_counts_from_the_epoch(text: str) -> None:
    # was: internal error: OverflowError; a relative time reaching before 1970 counts from the
    # epoch (docs/audit.md), however far back it reaches
    assert parse_time(text, option="--at") == EARLIEST


@pytest.mark.parametrize("text", ["۶૧s", "١٢mo", "٢٠٢٦-٠٤-١٠", "２０２６-04-10", "now\x85"])
def test_only_ascii_digits_and_whitespace_make_a_time(text: str) -> None:
    # was: live --at '۶૧s' answered as if 61 seconds ago (a wrong pass)
    with pytest.raises(UsageError):
        parse_time(text, option="--at")


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_an_empty_since_or_until_is_malformed_not_absent(option: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # was: audit query --since '' exit 0 with every event
    monkeypatch.chdir(tmp_path)
    code, output = run(["audit", "query", option, ""])
    assert code == EXIT_USAGE, output
    assert option in output


@pytest.mark.parametrize("content", [b'{"reason": "\xb0"}', b"[" * 100_000 + b"]" * 100_000])
def test_ledger_append_event_not_utf8_or_too_deep_is_located_invalid_input(
        content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # was: internal error: UnicodeDecodeError / RecursionError; the file's content is input
    # (exit 1, located in the file), as for every JSON reader (docs/records.md)
    shutil.copytree(VALID_REPO, tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    (tmp_path / "event.json").write_bytes(content)
    code, output = run(["ledger", "append", "--type", "config_changed", "--event",
                        str(tmp_path / "event.json")])
    assert code == EXIT_NO, output
    assert "internal error" not in output and "--event" in output
    assert "event.json:1 $" in output


def test_an_evidence_path_with_an_over_long_name_is_a_located_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # was: validate exit 3, internal error: OSError: [Errno 36] File name too long
    shutil.copytree(VALID_REPO, tmp_path / "repo")
    release = tmp_path / "repo" / "releases" / "demo" / "demo-2026-01-01-01" / "release.yaml"
    text = release.read_text()
    assert "path: evidence/eval.json" in text
    release.write_text(text.replace("path: evidence/eval.json", "path: " + "A" * 300))
    monkeypatch.chdir(tmp_path / "repo")
    code, output = run(["validate"])
    assert code == 1, output
    assert "release.yaml:" in output and ".path: evidence path 'AAAA" in output
    assert "cannot be looked up" in output and "internal error" not in output


@pytest.mark.parametrize("value", ["!!float 1{a, b}", "!!int 5, disagreements adjudicated",
                                   "!!int x", "!!float [1]"])
def test_a_value_that_does_not_fit_its_tag_is_a_located_problem(value: str) -> None:
    # was: internal error: ValueError: could not convert string to float: '1{a, b}'
    with pytest.raises(YamlProblem) as caught:
        parse_yaml_text(f"apiVersion: governance/v1\nkind: Model\nname: {value}\n", "m.yaml")
    assert caught.value.problem.line == 3


def test_an_empty_evaluated_at_in_the_evaluation_file_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # was (long fuzz run, seed 17): exit 0, the card's placeholder standing in for the file's ""
    shutil.copytree(VALID_REPO, tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    (tmp_path / "eval.json").write_text(
        '{"metrics": {"auc": 0.9}, "subgroups": {}, "test_conditions": {}, "evaluated_at": ""}')
    code, output = run(["release", "new", "--model", "demo", "--version", "2099-01-01",
                        "--from-eval", str(tmp_path / "eval.json")])
    assert code == EXIT_NO, output
    assert "$.evaluated_at" in output and "internal error" not in output


@pytest.mark.parametrize("option", ["--\u2069x", "--\u202ex", "--actor\x1b[2J\x1b[H"])
def test_a_usage_error_shows_control_and_bidi_characters_escaped(option: str) -> None:
    # was (long fuzz run, seed 17): click's "No such option" printed the argument raw
    code, output = run(["approve", option])
    assert code == EXIT_USAGE, output
    assert not any(c in output for c in "\u2069\u202e\x1b")
    assert "No such option: --" in output
    assert "\\u20" in output or "\\x1b" in output  # shown escaped
