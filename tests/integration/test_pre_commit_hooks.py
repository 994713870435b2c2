"""`.pre-commit-hooks.yaml` works with pre-commit itself: `pre-commit try-repo` on this
repository, run in a governed repository made by `governance init`, installs the hooks the way
a user's pre-commit does (a virtualenv with this package pip-installed from a clone) and
passes, then fails with the problem named when governance.yaml or a policy test is broken.

Offline: pip may not reach an index here, so the hook environment is built with
PIP_NO_INDEX=1 and without build isolation, its dependencies taken from this test's own
environment (PYTHONPATH: pip counts them as installed). Where that cannot build the
environment the test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pre_commit() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install -e '.[dev]')")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return [sys.executable, "-m", "pre_commit"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVERNANCE_", "PIP_"))}
    env.update({
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",  # never an index: filesystem only
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of --no-build-isolation
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "VIRTUALENV_NO_DOWNLOAD": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    return env


def _try_repo(cmd: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*cmd, "try-repo", str(ROOT), "--all-files", "--color", "never"],
                          cwd=cwd, env=_env(home), capture_output=True, text=True,
                          timeout=600, check=False)
    out = done.stdout + done.stderr
    if "Installing environment" in out and ("No matching distribution" in out
                                            or "Could not find a version" in out):
        pytest.skip("pre-commit could not build the hook environment offline (a dependency "
                    "is not in this environment): " + out[-400:])
    return done


def test_the_manifest_offers_validate_and_policy_test() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["governance-validate"]["entry"] == "governance validate"
    assert hooks["governance-policy-test"]["entry"] == "governance policy test"
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False


@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    cmd = _pre_commit()
    repo = tmp_path / "governed"
    subprocess.run([sys.executable, "-m", "governance", "init", str(repo)], check=True,
                   capture_output=True, text=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "governed"], cwd=repo, check=True)
    home = tmp_path / "pre-commit-home"

    done = _try_repo(cmd, repo, home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "governance validate" in done.stdout and "governance policy test" in done.stdout
    assert done.stdout.count("Passed") == 2, done.stdout

    # broken: an unknown key in governance.yaml, and a policy test that fails
    config = repo / "governance.yaml"
    config.write_text(config.read_text() + "\nunexpected_key: 1\n")
    test_file = repo / "policies" / "decision_test.rego"
    test_file.write_text(test_file.read_text() + "\ntest_broken_on_purpose if { 1 == 2 }\n")
    done = _try_repo(cmd, repo, home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("Failed") == 2, done.stdout
    assert "governance.yaml" in done.stdout and "unexpected_key" in done.stdout
    assert "test_broken_on_purpose" in done.stdout
