"""`governance codeowners generate|check` through the CLI (CliRunner and a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from governance.approvals import codeowners as co
from governance.cli.app import app
from tests.support.github_scenarios import GOVERNANCE_YAML

runner = CliRunner()


@pytest.fixture
def governed(tmp_path: Path) -> Path:
    (tmp_path / "governance.yaml").write_text(GOVERNANCE_YAML)
    for model, extra in (("fraud-risk", "approver_roles: [ml_lead, risk_owner]\n"), ("churn", "")):
        (tmp_path / "releases" / model).mkdir(parents=True)
        (tmp_path / "releases" / model / "model.yaml").write_text(
            "apiVersion: governance/v1\nkind: Model\n"
            f"name: {model}\nowner: alice\nrisk_tier: high\n{extra}"
        )
    return tmp_path


def test_generate_then_check_passes(governed: Path) -> None:
    result = runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    assert result.exit_code == 0, result.output
    text = (governed / ".github" / "CODEOWNERS").read_text()
    parsed = co.parse(text)
    assert parsed.errors == ()
    assert parsed.owners_of("releases/fraud-risk/r1/release.yaml") == (
        "@alice",
        "@carol",
        "@governance-ci",
        "@acme/ml-leads",
        "@jane.smith",
    )
    # churn declares no approver roles: every role an environment requires
    assert parsed.owners_of("releases/churn/model.yaml") == (
        "@alice",
        "@carol",
        "@governance-ci",
        "@acme/ml-leads",
        "@bob",
        "@jane.smith",
    )
    for path in (
        ".github/workflows/ci.yml",
        "policies/gates.rego",
        "governance.yaml",
        "environments/production.yaml",
    ):
        assert parsed.owners_of(path) == ("@bob", "@carol", "@jane.smith"), path
    assert parsed.owners_of("README.md") == ()
    result = runner.invoke(app, ["codeowners", "check", "--root", str(governed)])
    assert result.exit_code == 0, result.output
    assert "matches governance.yaml" in result.output


def test_check_fails_on_drift_with_a_diff(governed: Path) -> None:
    runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    target = governed / ".github" / "CODEOWNERS"
    target.write_text(
        target.read_text().replace("/.github/** @bob @carol @jane.smith", "/.github/** @mallory")
    )
    result = runner.invoke(app, ["codeowners", "check", "--root", str(governed)])
    assert result.exit_code == 1
    assert "differs from what governance.yaml generates" in result.output
    assert "-/.github/** @mallory" in result.output
    assert "governance codeowners generate" in result.output


def test_check_reports_invalid_lines_with_numbers_json(governed: Path) -> None:
    runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    target = governed / ".github" / "CODEOWNERS"
    target.write_text(target.read_text() + "!secret @bob\n")
    result = runner.invoke(
        app, ["codeowners", "check", "--root", str(governed), "--format", "json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    invalid = [p for p in data["problems"] if "negation" in p["message"]]
    assert invalid and invalid[0]["line"] == len(target.read_text().splitlines())


def test_check_without_file_and_role_changes(governed: Path) -> None:
    result = runner.invoke(app, ["codeowners", "check", "--root", str(governed)])
    assert result.exit_code == 1 and "no CODEOWNERS file" in result.output
    runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    config = governed / "governance.yaml"
    config.write_text(
        config.read_text().replace(
            "platform_owner: {members: [bob]}", "platform_owner: {members: [bob, erin]}"
        )
    )
    result = runner.invoke(app, ["codeowners", "check", "--root", str(governed)])
    assert result.exit_code == 1 and "+/.github/** @bob @erin @carol @jane.smith" in result.output


def test_unknown_role_is_configuration_error(governed: Path) -> None:
    model = governed / "releases" / "fraud-risk" / "model.yaml"
    model.write_text(model.read_text().replace("[ml_lead, risk_owner]", "[ghost]"))
    result = runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    assert result.exit_code == 3
    assert "role 'ghost' is not defined" in result.output


def test_subprocess_end_to_end(governed: Path) -> None:
    gen = subprocess.run(
        [sys.executable, "-m", "governance", "codeowners", "generate", "--root", str(governed)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert gen.returncode == 0, gen.stderr
    chk = subprocess.run(
        [
            sys.executable,
            "-m",
            "governance",
            "codeowners",
            "check",
            "--root",
            str(governed),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert chk.returncode == 0, chk.stderr
    assert json.loads(chk.stdout)["ok"] is True


def test_every_command_and_option_has_help() -> None:
    group = typer.main.get_command(app)
    codeowners = group.commands["codeowners"]  # type: ignore[attr-defined]
    assert codeowners.help
    for name, command in codeowners.commands.items():
        assert command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name}"


def test_this_repository_codeowners_is_in_sync(repo_root: Path) -> None:
    """The committed .github/CODEOWNERS is what the reference governance.yaml generates."""
    result = runner.invoke(app, ["codeowners", "check", "--root", str(repo_root)])
    assert result.exit_code == 0, result.output


def test_root_is_found_from_a_subdirectory(governed: Path) -> None:
    runner.invoke(app, ["codeowners", "generate", "--root", str(governed)])
    sub = governed / "releases" / "churn"
    out = subprocess.run(
        [sys.executable, "-m", "governance", "codeowners", "check"],
        cwd=sub,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
