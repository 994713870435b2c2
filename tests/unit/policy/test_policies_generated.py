"""policies/ is produced from the one packaged copy of the gates (tools/sync_policies.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tools" / "sync_policies.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_policies_equal_the_packaged_gates() -> None:
    proc = _run("--check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_check_names_each_difference_and_sync_repairs_them(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "governance" / "scaffold" / "policies",
                    tmp_path / "governance" / "scaffold" / "policies")
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    ours = tmp_path / "policies"
    (ours / "gates" / "latency.rego").write_text("package edited\n", encoding="utf-8")
    (ours / "gates" / "metrics_test.rego").unlink()
    (ours / "gates" / "extra.rego").write_text("package extra\n", encoding="utf-8")

    proc = _run("--check", "--root", str(tmp_path))
    assert proc.returncode == 1
    assert "policies/gates/latency.rego: differs from governance/scaffold/policies/" in proc.stderr
    assert "policies/gates/metrics_test.rego: missing" in proc.stderr
    assert "policies/gates/extra.rego: not in governance/scaffold/policies (stale)" in proc.stderr
    assert "edit the gates there" in proc.stderr

    proc = _run("--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "removed policies/gates/extra.rego" in proc.stdout
    assert _run("--check", "--root", str(tmp_path)).returncode == 0
    assert not (ours / "gates" / "extra.rego").exists()
    assert (ours / "gates" / "latency.rego").read_bytes() == (
        ROOT / "governance" / "scaffold" / "policies" / "gates" / "latency.rego").read_bytes()


def test_an_empty_packaged_copy_is_refused(tmp_path: Path) -> None:
    (tmp_path / "governance" / "scaffold" / "policies").mkdir(parents=True)
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    proc = _run("--root", str(tmp_path))
    assert proc.returncode == 1
    assert "holds no .rego files" in proc.stderr
    assert (tmp_path / "policies" / "decision.rego").exists()  # nothing deleted
    assert _run("--check", "--root", str(tmp_path)).returncode == 1
