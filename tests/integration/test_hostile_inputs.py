"""Hostile and careless input on the input side (issue 16), through the real CLI.

Every case ends with an exit code from the contract (1 invalid input, 2 usage error) and a
located message (file, line or field, what was found, what was expected); never an internal
error, never a pass, never a release silently fewer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance import digest as digest_module
from governance import input_files
from governance.cli.app import app

SHA = "ab" * 32
RELEASE = "fraud-risk-2026-04-10-01"
RDIR = f"releases/fraud-risk/{RELEASE}"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def no_crash(out: str) -> None:
    assert "internal error" not in out and "Traceback" not in out, out


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A governed repository with one valid release (with local evaluation evidence)."""
    root = tmp_path / "g"
    assert run("init", str(root))[0] == 0
    monkeypatch.chdir(root)
    assert run("model", "new", "fraud-risk", "--owner", "risk-platform")[0] == 0
    ev = tmp_path / "eval.json"
    ev.write_text(json.dumps({"metrics": {"auc": 0.95, "latency_p95_ms": 30},
                              "subgroups": {"intl": {"auc": 0.9}},
                              "test_conditions": {"holdout": "4 weeks"},
                              "evaluated_at": "2026-04-09T18:30:00Z"}))
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "2026-04-10",
                    "--from-eval", str(ev), "--artifact", "s3://r/m.joblib", "--sha256", SHA)
    assert code == 0, out
    code, out = run("validate")
    assert code == 0 and "1 releases" in out, out
    return root


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# --- item 1: the defects of the issue ---------------------------------------------------------


def test_an_integer_of_5000_digits_in_release_yaml_is_located(repo: Path) -> None:
    record = repo / RDIR / "release.yaml"
    record.write_text(record.read_text().replace("model_version: '2026-04-10'",
                                                 "model_version: " + "9" * 5000))
    line = _line_of(record, "model_version")
    code, out = run("validate")
    no_crash(out)
    assert code == 1, out
    assert (f"{RDIR}/release.yaml:{line} $.model_version: found an integer written with 5000 "
            "digits, expected a number of at most 100 digits") in out
    code, out = run("check", RELEASE)
    no_crash(out)
    assert code == 1 and f"release.yaml:{line} $.model_version" in out, out


def test_an_integer_of_5000_digits_in_governance_yaml_is_located(repo: Path) -> None:
    config = repo / "governance.yaml"
    config.write_text(config.read_text() + "limits: {max_file_bytes: " + "9" * 5000 + "}\n")
    line = _line_of(config, "limits:")
    code, out = run("validate")
    no_crash(out)
    assert code == 1, out
    assert f"governance.yaml:{line} $.limits.max_file_bytes: found an integer written with" in out


def test_a_negative_latency_is_refused(repo: Path) -> None:
    card = repo / RDIR / "model-card.yaml"
    card.write_text(card.read_text().replace("latency_p95_ms: 30", "latency_p95_ms: -38.25"))
    line = _line_of(card, "latency_p95_ms")
    code, out = run("validate")
    assert code == 1, out
    assert (f"{RDIR}/model-card.yaml:{line} $.metrics.latency_p95_ms: found number -38.25, "
            "expected a number >= 0") in out


def test_a_release_yaml_that_is_a_directory_is_named(repo: Path) -> None:
    other = repo / "releases" / "fraud-risk" / "fraud-risk-2026-05-01-01"
    (other / "release.yaml").mkdir(parents=True)
    code, out = run("validate")
    assert code == 1, out
    assert ("releases/fraud-risk/fraud-risk-2026-05-01-01/release.yaml $: found a directory, "
            "expected a regular file") in out
    assert "2 releases" in out  # counted, not silently one fewer
    code, out = run("check", "fraud-risk-2026-05-01-01")
    no_crash(out)
    assert code == 1 and "release.yaml $: found a directory" in out, out


def test_a_linked_release_directory_is_refused_the_same_everywhere(
        repo: Path, tmp_path: Path) -> None:
    real = repo / RDIR
    outside = tmp_path / "elsewhere"
    real.rename(outside)
    real.symlink_to(outside, target_is_directory=True)
    code, out = run("validate")
    assert code == 1, out
    assert (f"{RDIR} $: found a symbolic link to '{outside}' (pointing outside the repository), "
            "expected a directory or a regular file") in out
    code, out = run("check", RELEASE)  # used to say: unknown release
    no_crash(out)
    assert code == 1, out
    assert f"the release directory {RDIR} is a symbolic link" in out
    assert "unknown release" not in out
    code, out = run("check", "--all")  # used to check every release but this one
    no_crash(out)
    assert code == 1 and f"the release directory {RDIR} is a symbolic link" in out, out
    code, out = run("digest", RDIR)  # used to follow the link
    assert code == 1, out
    assert "found a symbolic link to" in out and "expected a release directory" in out
    code, out = run("validate", RDIR)
    assert code == 1 and "found a symbolic link" in out, out


@pytest.mark.parametrize(("key", "path"), [("1", "$.metrics.1"), ("~", "$.metrics['~']"),
                                           ("true", "$.metrics.true")])
def test_model_card_keys_that_are_not_strings_are_refused(
        repo: Path, key: str, path: str) -> None:
    card = repo / RDIR / "model-card.yaml"
    card.write_text(card.read_text().replace("  auc: 0.95\n", f"  auc: 0.95\n  {key}: 2\n"))
    line = _line_of(card, f"  {key}: 2")
    code, out = run("validate")
    assert code == 1, out
    assert (f"{RDIR}/model-card.yaml:{line} {path}: found key '{key}', which YAML reads as") in out
    assert f"quote it: '{key}'" in out
    for args in (["check", RELEASE], ["report", RELEASE, "--format", "markdown"],
                 ["diff", RELEASE, RELEASE]):
        code, out = run(*args)
        no_crash(out)
        assert code == 1, (args, out)
        assert f"model-card.yaml:{line} {path}: found key" in out, (args, out)


def test_test_conditions_keys_that_are_not_strings_are_refused(repo: Path) -> None:
    """`check` used to end in "TypeError: '<' not supported between 'str' and 'int'"."""
    card = repo / RDIR / "model-card.yaml"
    card.write_text(card.read_text().replace("  holdout: 4 weeks\n",
                                             "  holdout: 4 weeks\n  1: 2\n"))
    code, out = run("check", RELEASE)
    no_crash(out)
    assert code == 1 and "$.test_conditions.1: found key '1'" in out, out


def test_an_evidence_path_that_is_a_directory_is_named_as_one(repo: Path) -> None:
    record = repo / RDIR / "release.yaml"
    record.write_text(record.read_text().replace("path: evidence/eval.json", "path: evidence"))
    code, out = run("validate")
    assert code == 1, out
    assert ("$.evaluation_report.path: evidence path 'evidence' is a directory, expected a "
            "regular file") in out
    assert "does not exist" not in out


def test_ledger_append_event_file_missing_is_a_usage_error(repo: Path) -> None:
    code, out = run("ledger", "append", "--type", "model_registered", "--event", "nope.json")
    no_crash(out)
    assert code == 2, out
    assert "--event nope.json: no such file" in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"model_name": "a",\n "model_name": "b"}',
         "ev.json:2 $.model_name: duplicate key 'model_name' (first defined on line 1)"),
        ('{"reason": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "ev.json:1 $.reason" + "[0]" * 63 + ": nesting deeper than 64 levels"),
        ('{"seq":\n' + "9" * 5000 + "}", "ev.json:2 $.seq: found an integer written with 5000"),
        ('{"reason": NaN}', "ev.json:1 $.reason: found NaN, expected a finite number"),
    ],
)
def test_ledger_append_event_file_is_read_strictly(repo: Path, body: str, message: str) -> None:
    (repo / "ev.json").write_text(body)
    code, out = run("ledger", "append", "--type", "model_registered", "--event", "ev.json")
    no_crash(out)
    assert code == 1, out
    assert message in out


def test_ledger_append_deep_field_value_is_a_usage_error(repo: Path) -> None:
    code, out = run("ledger", "append", "--type", "model_registered",
                    "--field", "reason=" + "[" * 100_000 + "]" * 100_000)
    no_crash(out)
    assert code == 2 and "--field reason: value is not acceptable JSON: nesting deeper" in out


# --- item 3: irregular files named, never skipped ---------------------------------------------


def test_a_fifo_where_a_document_is_expected_is_named_without_blocking(repo: Path) -> None:
    card = repo / RDIR / "model-card.yaml"
    card.unlink()
    os.mkfifo(card)
    code, out = run("validate")
    assert code == 1, out
    assert f"{RDIR}/model-card.yaml $: found a FIFO (named pipe), expected a regular file" in out
    code, out = run("check", RELEASE)
    no_crash(out)
    assert code == 1 and "found a FIFO" in out


def test_a_fifo_in_the_layout_is_named(repo: Path) -> None:
    os.mkfifo(repo / "releases" / "fraud-risk" / "notes")
    os.mkfifo(repo / "environments" / "qa.yaml")
    code, out = run("validate")
    assert code == 1, out
    assert ("releases/fraud-risk/notes $: found a FIFO (named pipe), expected a directory or a "
            "regular file") in out
    assert "environments/qa.yaml $: found a FIFO (named pipe)" in out


def test_a_device_file_is_named(repo: Path) -> None:
    target = repo / "releases" / "fraud-risk" / "dev"
    try:
        os.mknod(target, 0o600 | 0o020000, os.makedev(1, 5))  # a character device like /dev/zero
    except (PermissionError, OSError) as err:
        pytest.skip(f"cannot create a device file here ({err}): needs CAP_MKNOD")
    code, out = run("validate")
    assert code == 1, out
    assert "releases/fraud-risk/dev $: found a character device, expected a directory" in out


def test_a_symlink_loop_is_named(repo: Path) -> None:
    loop = repo / "releases" / "fraud-risk" / "loop"
    loop.symlink_to("loop")
    code, out = run("validate")
    assert code == 1, out
    assert ("releases/fraud-risk/loop $: found a symbolic link to 'loop' (a symbolic link loop)"
            in out)
    code, out = run("check", "loop")
    no_crash(out)
    assert code == 1 and "(a symbolic link loop)" in out, out


def test_a_symlink_leaving_the_repository_is_named(repo: Path, tmp_path: Path) -> None:
    model = repo / "releases" / "fraud-risk" / "model.yaml"
    outside = tmp_path / "model.yaml"
    outside.write_bytes(model.read_bytes())
    model.unlink()
    model.symlink_to(outside)
    code, out = run("validate")
    assert code == 1, out
    assert (f"releases/fraud-risk/model.yaml $: found a symbolic link to '{outside}' (pointing "
            "outside the repository)") in out


def test_an_unreadable_file_is_named(repo: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop reading")
    card = repo / RDIR / "model-card.yaml"
    card.chmod(0)
    try:
        code, out = run("validate")
    finally:
        card.chmod(0o644)
    assert code == 1, out
    assert f"{RDIR}/model-card.yaml $: cannot read file: Permission denied" in out


def test_an_unreadable_directory_is_named(repo: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: directory permissions do not stop reading")
    model_dir = repo / "releases" / "fraud-risk"
    model_dir.chmod(0)
    try:
        code, out = run("validate")
    finally:
        model_dir.chmod(0o755)
    assert code == 1, out
    assert "releases/fraud-risk $: found an unreadable directory" in out


def test_a_document_changing_while_read_is_refused(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer appends to the card between the stat before the read and the one after it."""
    card = repo / RDIR / "model-card.yaml"
    original = input_files._read_all

    def read_then_write(fd: int, limit: int) -> bytes:
        data = original(fd, limit)
        if os.path.samestat(os.fstat(fd), os.stat(card)):
            with card.open("a") as handle:
                handle.write("# edited meanwhile\n")
        return data

    monkeypatch.setattr(input_files, "_read_all", read_then_write)
    code, out = run("validate")
    assert code == 1, out
    assert f"{RDIR}/model-card.yaml $: file changed while it was read" in out


def test_evidence_changing_while_hashed_is_refused(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evidence = repo / RDIR / "evidence" / "eval.json"
    original = digest_module._read_block

    def read_then_write(fd: int) -> bytes:
        block = original(fd)
        if block and os.path.samestat(os.fstat(fd), os.stat(evidence)):
            with evidence.open("a") as handle:  # a writer that keeps appending
                handle.write(" ")
        return block

    monkeypatch.setattr(digest_module, "_read_block", read_then_write)
    code, out = run("validate")
    assert code == 1, out
    assert "evidence/eval.json $: file changed while it was read" in out


def test_a_fifo_release_record_beside_a_good_release_does_not_hang_its_check(
        repo: Path) -> None:
    """The gates order a model's releases by created_at, read from every sibling record: a FIFO
    there used to block the read forever. The good release is decided; the FIFO is named by
    validate. (A hang here would hang the test run: the reads are non-blocking.)"""
    sibling = repo / "releases" / "fraud-risk" / "fraud-risk-2026-05-01-01"
    sibling.mkdir()
    os.mkfifo(sibling / "release.yaml")
    code, out = run("check", RELEASE)
    no_crash(out)
    assert code in (0, 1), out
    assert RELEASE in out
    code, out = run("validate")
    assert code == 1 and "fraud-risk-2026-05-01-01/release.yaml $: found a FIFO" in out, out


def test_an_environment_pointer_that_is_a_fifo_is_named_not_read(repo: Path) -> None:
    from governance.pointers import pointers_in

    os.mkfifo(repo / "environments" / "qa.yaml")
    found = pointers_in(repo)
    assert found["qa"] == {"<unreadable>": {"release_id": "environments/qa.yaml $: found a "
                                                          "FIFO (named pipe), expected a regular "
                                                          "file"}}


def test_governance_yaml_that_is_a_directory_is_named(repo: Path) -> None:
    """It used to be passed over ("no governance.yaml found", exit 3, or a parent's file)."""
    config = repo / "governance.yaml"
    config.unlink()
    config.mkdir()
    code, out = run("validate")
    assert code == 1, out
    assert "governance.yaml $: found a directory, expected a regular file" in out
    code, out = run("status")
    no_crash(out)
    assert code == 1 and "governance.yaml $: found a directory" in out, out


def test_a_declared_ratio_out_of_range_is_refused_by_every_loader(repo: Path) -> None:
    """validate and check load through the repository; explain loads one release alone: all
    three hold a metric governance.yaml declares a ratio (the scaffold declares auc) to [0, 1]."""
    card = repo / RDIR / "model-card.yaml"
    card.write_text(card.read_text().replace("  auc: 0.95\n", "  auc: 1.3\n"))
    line = _line_of(card, "auc: 1.3")
    for args in (["validate"], ["check", RELEASE], ["explain", RELEASE]):
        code, out = run(*args)
        no_crash(out)
        assert code == 1, (args, out)
        assert (f"model-card.yaml:{line} $.metrics.auc: found number 1.3, expected a ratio in "
                "[0, 1]") in out, (args, out)
