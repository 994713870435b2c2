"""The workflows as reusable workflows called by pinned commit (issue 17, item 4).

A governed repository created with `governance init --workflows-from OWNER/REPO@COMMIT` holds
callers instead of copies: the same events, the union of the called jobs' permissions, the
dispatch inputs passed through, the called file pinned by a full commit SHA that Dependabot
keeps current. The linters that check the workflows check the callers too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.callers import caller_text, parse_source, permissions_union
from governance.cli.app import app
from governance.errors import UsageError
from tests.integration.workflows.workflow_files import SCAFFOLD_DIR, WORKFLOWS, load

REPO = "acme/model-governance"
SHA = "0123456789abcdef0123456789abcdef01234567"


def _callers(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOWS:
        (directory / name).write_text(
            caller_text(name, (SCAFFOLD_DIR / name).read_text(), REPO, SHA, "0.1.0"))
    return directory


def _parsed(path: Path) -> dict:
    import yaml

    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_workflow_can_be_called_with_its_dispatch_inputs(name: str) -> None:
    on = load(name)["on"]
    assert "workflow_call" in on
    dispatch = (on.get("workflow_dispatch") or {}).get("inputs")
    assert (on["workflow_call"] or {}).get("inputs") == dispatch


@pytest.mark.parametrize("name", WORKFLOWS)
def test_a_caller_keeps_the_events_grants_the_union_and_passes_the_inputs(
        tmp_path: Path, name: str) -> None:
    full = load(name)
    caller = _parsed(_callers(tmp_path / "callers") / name)
    on = dict(full["on"])
    del on["workflow_call"]
    assert caller["on"] == on
    assert caller["permissions"] == {}
    assert list(caller["jobs"]) == ["governance"]
    job = caller["jobs"]["governance"]
    assert job["uses"] == f"{REPO}/.github/workflows/{name}@{SHA}"
    assert job["permissions"] == permissions_union(full)
    # no wider than any called job, and every called job's grant is covered
    for called in full["jobs"].values():
        for scope, level in (called.get("permissions") or {}).items():
            assert {"read": 1, "write": 2}[job["permissions"][scope]] >= {"read": 1,
                                                                          "write": 2}[level]
    inputs = (full["on"]["workflow_call"] or {}).get("inputs") or {}
    assert job.get("with", {}) == {k: f"${{{{ inputs.{k} }}}}" for k in inputs}
    assert "secrets" not in job  # environment secrets stay in the called jobs' environments
    text = (tmp_path / "callers" / name).read_text()
    assert re.search(rf"uses: \S+@{SHA} # v\d+\.\d+\.\d+$", text, re.MULTILINE)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (a dev dependency)")
    return found


def test_callers_pass_zizmor_and_the_workflow_schema(tmp_path: Path) -> None:
    directory = _callers(tmp_path / "callers")
    files = [str(p) for p in sorted(directory.iterdir())]
    result = subprocess.run([_tool("zizmor"), "--offline", "--no-progress", "--persona=auditor",
                             *files], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "No findings" in result.stdout, result.stdout
    result = subprocess.run([_tool("check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", *files],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("spec", ["acme/model-governance@v0.1.0", "acme@" + SHA,
                                  "acme/model-governance@" + SHA[:12], SHA])
def test_a_caller_is_pinned_by_a_full_commit_only(spec: str) -> None:
    with pytest.raises(UsageError, match="is not OWNER/REPO@COMMIT"):
        parse_source(spec)


def test_init_writes_callers_and_doctor_accepts_only_pinned_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    code = runner.invoke(app, ["init", str(tmp_path / "g"), "--workflows-from", "bad@ref"],
                         catch_exceptions=False).exit_code
    assert code == 2 and not (tmp_path / "g").exists()
    result = runner.invoke(app, ["init", str(tmp_path / "g"), "--workflows-from",
                                 f"{REPO}@{SHA}"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    workflows = tmp_path / "g" / ".github" / "workflows"
    for name in WORKFLOWS:
        assert f"uses: {REPO}/.github/workflows/{name}@{SHA} # v" in (workflows / name).read_text()
    assert (tmp_path / "g" / ".github" / "dependabot.yml").is_file()
    monkeypatch.chdir(tmp_path / "g")
    out = runner.invoke(app, ["doctor"], catch_exceptions=False).output
    assert "[workflows]" not in out
    gate = workflows / "governance-gate.yml"
    gate.write_text(gate.read_text().replace(f"@{SHA}", "@main"))
    out = runner.invoke(app, ["doctor"], catch_exceptions=False).output
    assert f"error [workflows] .github/workflows/governance-gate.yml calls {REPO}@main, " \
           "not a full commit SHA" in out
