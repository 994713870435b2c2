"""Offline linters over both workflow directories: zizmor and the GitHub workflow JSON Schema.

Both tools are dev dependencies (installed by tools/run-tests); each test skips, visibly, when
its tool is missing. A known-bad workflow proves each tool still reports what it should, so a
clean result means something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.workflows.workflow_files import DOGFOOD_DIR, SCAFFOLD_DIR

DIRECTORIES = pytest.mark.parametrize(
    "directory", [SCAFFOLD_DIR, DOGFOOD_DIR], ids=["scaffold", "dogfood"]
)

# A pull-request title spliced into a shell script, an unpinned action, a checkout that keeps
# its token: the classic template-injection workflow.
BAD_WORKFLOW = """\
name: bad
on: pull_request
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (a dev dependency: bash tools/run-tests installs it)")
    return found


def _zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    # --offline: no network here; the online audits (impostor commits, known-vulnerable
    # actions) need GitHub's API. The auditor persona is zizmor's strictest.
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--persona=auditor", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _schema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@DIRECTORIES
def test_zizmor_offline_finds_nothing(directory: Path) -> None:
    result = _zizmor(directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout


def test_zizmor_reports_a_template_injection(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(BAD_WORKFLOW)
    result = _zizmor(tmp_path / "bad.yml")
    assert result.returncode != 0
    assert "template-injection" in result.stdout and "unpinned-uses" in result.stdout


@DIRECTORIES
def test_workflows_match_the_github_workflow_schema(directory: Path) -> None:
    files = sorted(directory.glob("*.yml"))
    assert files
    result = _schema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_an_invalid_workflow(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(BAD_WORKFLOW.replace("runs-on:", "runs_on:"))
    assert _schema(tmp_path / "bad.yml").returncode != 0


@pytest.mark.parametrize("config", [SCAFFOLD_DIR.parent / "dependabot.yml",
                                    DOGFOOD_DIR.parent / "dependabot.yml"],
                         ids=["scaffold", "dogfood"])
def test_dependabot_keeps_the_pinned_actions_current(config: Path) -> None:
    """Issue 17: nothing kept the workflows' pinned SHAs current; Dependabot's github-actions
    ecosystem updates each SHA with its version comment."""
    import yaml

    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(config)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    updates = yaml.safe_load(config.read_text())["updates"]
    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= updates[0].items()
