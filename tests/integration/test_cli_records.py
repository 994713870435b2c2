"""The records commands end to end: init, validate, model new, release new, digest, schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from governance.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
SHA = "ab" * 32


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_reference_history_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run("validate", "releases/")
    assert code == 0, out
    assert "6 releases, 2 models" in out
    code, out = run("validate", "--format", "json")
    assert code == 0 and json.loads(out)["valid"] is True


def test_init_then_validate_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("init", str(tmp_path / "g"))
    assert code == 0, out
    assert (tmp_path / "g" / ".gitattributes").read_text().count("binary") == 1
    code, out = run("validate", str(tmp_path / "g"))
    assert code == 0, out
    code, out = run("init", str(tmp_path / "g"))
    assert code == 1 and "already exists" in out


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_init_starts_git_on_the_protected_branch(tmp_path: Path) -> None:
    """Promotion runs only from the protected branch (main in the scaffold): a new directory
    becomes a repository on it, so `git init` afterwards (which keeps HEAD) changes nothing."""
    code, out = run("init", str(tmp_path / "g"))
    assert code == 0, out
    assert "note: initialised a git repository on branch 'main'" in out
    _git(tmp_path / "g", "init", "-q")
    assert _git(tmp_path / "g", "symbolic-ref", "--short", "HEAD") == "main"


def test_init_in_a_repository_on_another_branch_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "master")
    code, out = run("init", str(repo))
    assert code == 0, out
    assert ("note: this repository is on branch 'master', but governance.yaml and the workflows "
            "protect 'main'") in out
    assert "git branch -m main" in out
    assert _git(repo, "symbolic-ref", "--short", "HEAD") == "master"  # nothing renamed


@pytest.fixture
def governed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "g"
    assert run("init", str(repo))[0] == 0
    monkeypatch.chdir(repo)
    assert (
        run("model", "new", "fraud-risk", "--owner", "risk-platform", "--risk-tier", "high")[0] == 0
    )
    return repo


def _eval(tmp: Path, body: str) -> Path:
    path = tmp / "eval.json"
    path.write_text(body)
    return path


def test_release_new_writes_a_valid_release_with_digests(governed: Path) -> None:
    ev = _eval(
        governed.parent,
        json.dumps(
            {
                "metrics": {"auc": 0.94, "latency_p95_ms": 42},
                "subgroups": {"intl": {"auc": 0.86}},
                "test_conditions": {"holdout": "4 weeks"},
                "evaluated_at": "2026-04-09T18:30:00Z",
            }
        ),
    )
    code, out = run(
        "release",
        "new",
        "--model",
        "fraud-risk",
        "--version",
        "2026-04-10",
        "--from-eval",
        str(ev),
        "--artifact",
        "s3://r/model.joblib",
        "--sha256",
        SHA,
        "--trained-by",
        "dana",
    )
    assert code == 0, out
    d = governed / "releases" / "fraud-risk" / "fraud-risk-2026-04-10-01"
    assert (d / "evidence" / "eval.json").read_bytes() == ev.read_bytes()
    card = (d / "model-card.yaml").read_text()
    assert "auc: 0.94" in card and "intl:" in card and "holdout" in card
    assert "evaluated_at: '2026-04-09T18:30:00Z'" in card  # the file's time, never invented
    record = (d / "release.yaml").read_text()
    assert "disable: true" in record  # a first release declares its fallback explicitly
    assert run("validate")[0] == 0
    code, out = run("digest", str(d))
    assert code == 0 and out.startswith("sha256:")
    # the second release defaults its baseline and rollback target to the first
    code, out = run(
        "release", "new", "--model", "fraud-risk", "--version", "2026-05-01", "--from-eval", str(ev)
    )
    assert code == 0, out
    second = (
        governed / "releases" / "fraud-risk" / "fraud-risk-2026-05-01-01" / "release.yaml"
    ).read_text()
    assert "baseline: fraud-risk-2026-04-10-01" in second
    assert "release_id: fraud-risk-2026-04-10-01" in second


def test_the_default_fallback_is_the_newest_release_by_instant(governed: Path) -> None:
    """created_at is compared as a time, not as text: 09:00+02:00 is before 08:00Z."""
    for version in ("2026-04-10", "2026-04-11"):
        assert run("release", "new", "--model", "fraud-risk", "--version", version)[0] == 0
    base = governed / "releases" / "fraud-risk"
    for version, created in (("2026-04-10", "2026-04-10T08:00:00Z"),
                             ("2026-04-11", "2026-04-10T09:00:00+02:00")):
        record = base / f"fraud-risk-{version}-01" / "release.yaml"
        text = record.read_text()
        start = text.index("created_at:")
        end = text.index("\n", start)
        record.write_text(text[:start] + f"created_at: '{created}'" + text[end:])
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "2026-04-12")
    assert code == 0, out
    third = (base / "fraud-risk-2026-04-12-01" / "release.yaml").read_text()
    assert "baseline: fraud-risk-2026-04-10-01" in third  # the later instant, though "0" < "9"

    # a release record that does not load is named, not skipped
    (base / "fraud-risk-2026-04-10-01" / "release.yaml").write_text("release_id: [unclosed\n")
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "2026-04-13")
    assert code == 1
    assert "cannot choose the previous release of 'fraud-risk'" in out
    assert "releases/fraud-risk/fraud-risk-2026-04-10-01/release.yaml:2 $: malformed YAML" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "nope", "--version", "1"], 1, "unknown model 'nope'"),
        (
            [
                "--model",
                "fraud-risk",
                "--version",
                "1",
                "--artifact",
                "s3://x",
                "--sha256",
                SHA.upper(),
            ],
            2,
            "uppercase",
        ),
        (
            ["--model", "fraud-risk", "--version", "1", "--artifact", "s3://x"],
            2,
            "--artifact and --sha256 go together",
        ),
        (["--model", "fraud-risk", "--version", "1", "--release-id", "Bad Id"], 2, "is not a slug"),
        (
            ["--model", "fraud-risk", "--version", "1", "--baseline", "missing-1"],
            2,
            "is not a release of",
        ),
    ],
)
def test_release_new_refuses_bad_input(
    governed: Path, args: list[str], code: int, message: str
) -> None:
    got, out = run("release", "new", *args)
    assert got == code, out
    assert message in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"metrics": {"auc": NaN}}', "eval.json:1 $.metrics.auc: found NaN, expected a finite "
         "number"),
        ('{"metrics": {"auc": Infinity}}', "$.metrics.auc: found Infinity, expected a finite"),
        ('{"metrics": {"auc": "high"}}', "$.metrics.auc: found 'high', expected a number"),
        ('{"metric": {}}', "unknown field 'metric'"),
        ('{"metrics": {"auc": 0.9}', "eval.json:1 $: malformed JSON"),
        ('{"metrics": {"auc": 0.9}}', "$: missing required field 'evaluated_at'"),
        # issue 16: the last value of a repeated key used to reach the card while the evidence
        # copy showed the first
        ('{"metrics": {\n "auc": 0.99,\n "auc": 0.5}}', "eval.json:3 $.metrics.auc: duplicate "
         "key 'auc' (first defined on line 2)"),
        ('{"metrics": {"n": 1}, "test_conditions": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "eval.json:1 $.test_conditions" + "[0]" * 63 + ": nesting deeper than 64 levels"),
        ('{"metrics": {\n"auc": ' + "9" * 5000 + "}}", "eval.json:2 $.metrics.auc: found an "
         "integer written with 5000 digits, expected a number of at most 100 digits"),
        ('{"metrics": {"auc": 0.9},\n "evaluated_at": "not a date"}', "eval.json:2 "
         "$.evaluated_at: 'not a date' is not an RFC 3339 timestamp with an offset"),
        ('{"metrics": {"auc": 0.9}, "evaluated_at": "2026-04-10T09:14:11"}',
         "$.evaluated_at: '2026-04-10T09:14:11' is not an RFC 3339 timestamp with an offset"),
        ('{"metrics": {"auc": 0.9},\n "evaluated_at": "0001-01-01T00:00:00Z"}',
         "eval.json:2 $.evaluated_at: '0001-01-01T00:00:00Z' is not an RFC 3339 timestamp"),
        ('{"metrics": {\n"latency_p95_ms": -38.25}, "evaluated_at": "2026-04-10T09:14:11Z"}',
         "eval.json:2 $.metrics.latency_p95_ms: found number -38.25, expected a number >= 0"),
        ('{"metrics": {"auc": 0.9}, "subgroups": {"eu": {\n"n_rows": -1}}, '
         '"evaluated_at": "2026-04-10T09:14:11Z"}',
         "eval.json:2 $.subgroups.eu.n_rows: found number -1, expected a number >= 0"),
    ],
)
def test_evaluation_file_is_checked(governed: Path, body: str, message: str) -> None:
    ev = _eval(governed.parent, body)
    code, out = run(
        "release", "new", "--model", "fraud-risk", "--version", "1", "--from-eval", str(ev)
    )
    assert code == 1, out
    assert message in out
    assert not (governed / "releases" / "fraud-risk" / "fraud-risk-1-01").exists()


def test_release_new_refuses_to_overwrite(governed: Path) -> None:
    assert run("release", "new", "--model", "fraud-risk", "--version", "1")[0] == 0
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "1")
    assert code == 1 and "already exists" in out


def test_model_new_refuses_duplicates_and_bad_tier(governed: Path) -> None:
    code, out = run("model", "new", "fraud-risk", "--owner", "x")
    assert code == 1 and "already exists" in out
    code, out = run("model", "new", "other", "--owner", "x", "--risk-tier", "extreme")
    assert code == 2 and "risk tier" in out


def test_schema_export(tmp_path: Path) -> None:
    code, _ = run("schema", "export", str(tmp_path))
    assert code == 0
    schema = json.loads((tmp_path / "release.schema.json").read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    # the semantic bounds (issue 16) reach editors too
    card = json.loads((tmp_path / "model-card.schema.json").read_text())
    metrics = card["$defs"]["metrics"]
    assert [v["minimum"] for v in metrics["patternProperties"].values()] == [0]
    assert metrics["additionalProperties"] == {"type": "number", "minimum": -1e15,
                                               "maximum": 1e15}
    assert card["properties"]["purpose"]["maxLength"] == 16_384
    # the skeleton's placeholder is the other branch (issue 15)
    assert card["properties"]["evaluated_at"]["anyOf"][0]["pattern"].startswith(
        "^(19[7-9][0-9]|")
    config = json.loads((tmp_path / "governance-config.schema.json").read_text())
    assert config["properties"]["ratio_metrics"]["items"]["pattern"]


def test_outside_a_governed_repo_is_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("model", "new", "x", "--owner", "y")
    assert code == 3 and "no governance.yaml" in out


def test_python_dash_m_and_traceback_flag(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "governance", "validate", str(tmp_path / "no")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 1
    assert "no such file or directory" in proc.stdout
    assert "Traceback" not in proc.stderr


def _walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _walk(sub, (*path, name))
    return found


def test_every_command_and_option_has_help_text() -> None:
    root = typer.main.get_command(app)
    missing = []
    for path, command in _walk(root):
        if path and not (command.help or command.short_help):
            missing.append(" ".join(path))
        for param in command.params:
            if isinstance(param, click.Option) and not param.help and param.name != "help":
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert not missing, f"no help text: {missing}"


def test_parallel_validation_reports_exactly_what_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.generate_repo import generate
    from governance import repo as repo_module

    root = tmp_path / "big"
    generate(root, models=6, per_model=5)
    card = root / "releases" / "model-0002" / "model-0002-2026-01-03-01" / "model-card.yaml"
    card.write_text(card.read_text().replace("known_limitations:", "known_limitation:"))
    ev = root / "releases" / "model-0004" / "model-0004-2026-01-02-01" / "evidence" / "eval.json"
    ev.write_text(ev.read_text() + " ")
    monkeypatch.setattr(repo_module, "PARALLEL_THRESHOLD", 1)
    monkeypatch.chdir(root)
    one = repo_module.validate_paths([root], jobs=1)
    two = repo_module.validate_paths([root], jobs=2)
    assert one.problems == two.problems and len(one.problems) == 2
    assert (one.files, one.releases, one.models) == (two.files, two.releases, two.models)


def test_schema_export_includes_the_evaluation_file(tmp_path: Path) -> None:
    code, out = run("schema", "export", str(tmp_path))
    assert code == 0, out
    schema = json.loads((tmp_path / "evaluation.schema.json").read_text())
    assert "evaluated_at" in schema["required"]
    assert "evaluation.schema.json" in out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.json", "no such file"),
        (".", "found a directory, expected a regular file"),
        ("/dev/zero", "found a character device, expected a regular file"),
    ],
)
def test_evaluation_file_that_is_not_a_file_is_a_usage_error(
        governed: Path, name: str, message: str) -> None:
    """/dev/zero used to hang (read to the end of an endless file), a directory ended in an
    internal error: the name is refused as what it is, before anything is read."""
    if name == "/dev/zero" and not Path(name).exists():
        pytest.skip("/dev/zero is not available here")
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "1",
                    "--from-eval", name)
    assert code == 2, out
    assert f"--from-eval {name}: {message}" in out
    assert "internal error" not in out
    assert not (governed / "releases" / "fraud-risk" / "fraud-risk-1-01").exists()


def test_evaluation_fifo_is_refused_without_blocking(governed: Path) -> None:
    fifo = governed.parent / "eval.fifo"
    os.mkfifo(fifo)
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "1",
                    "--from-eval", str(fifo))
    assert code == 2, out
    assert "eval.fifo: found a FIFO (named pipe), expected a regular file" in out


def test_ratio_metrics_declared_in_governance_yaml_are_held_to_0_1(governed: Path) -> None:
    config = governed / "governance.yaml"  # the scaffold declares the usual rates
    assert "ratio_metrics: [auc, accuracy, precision, recall, f1]" in config.read_text()
    ev = _eval(governed.parent, '{"metrics": {\n"auc": 1.3, "lift": 1.3}, '
                                  '"evaluated_at": "2026-04-10T09:14:11Z"}')
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "1",
                    "--from-eval", str(ev))
    assert code == 1, out
    assert ("eval.json:2 $.metrics.auc: found number 1.3, expected a ratio in [0, 1] "
            "(governance.yaml ratio_metrics declares 'auc' a ratio)") in out
    assert "lift" not in out  # not declared: any finite number
    # the same rule holds in validate for a card edited by hand
    ev.write_text('{"metrics": {"auc": 0.9}, "subgroups": {"eu": {"auc": 0.8}}, '
                  '"evaluated_at": "2026-04-10T09:14:11Z"}')
    assert run("release", "new", "--model", "fraud-risk", "--version", "1",
               "--from-eval", str(ev))[0] == 0
    card = governed / "releases" / "fraud-risk" / "fraud-risk-1-01" / "model-card.yaml"
    card.write_text(card.read_text().replace("auc: 0.8", "auc: -0.1"))
    code, out = run("validate")
    assert code == 1, out
    assert ("model-card.yaml:40 $.subgroups.eu.auc: found number -0.1, expected a ratio in "
            "[0, 1]") in out


def test_schema_export_into_a_path_it_cannot_write(tmp_path: Path) -> None:
    """A file it cannot write is a usage error naming it (exit 2, no traceback), and the files
    written before it are named as they were written."""
    out = tmp_path / "out"
    (out / "model.schema.json").mkdir(parents=True)  # the third file's name is taken
    result = CliRunner().invoke(app, ["schema", "export", str(out)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "cannot write model.schema.json: Is a directory" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines()] == [
        "release.schema.json", "model-card.schema.json"]
    (tmp_path / "file").write_text("x")
    blocked = CliRunner().invoke(app, ["schema", "export", str(tmp_path / "file" / "sub")])
    assert blocked.exit_code == 2 and "cannot create the directory" in blocked.stderr
