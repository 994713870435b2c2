"""The gates `governance init` scaffolds are the gates this repository ships and tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "policies"
SCAFFOLD = ROOT / "governance" / "scaffold" / "policies"


def _rego(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*.rego"))}


def test_scaffold_policies_equal_the_shipped_policies() -> None:
    shipped, scaffold = _rego(POLICIES), _rego(SCAFFOLD)
    assert shipped, "no policies found"
    assert sorted(scaffold) == sorted(shipped)
    differing = [name for name in shipped if shipped[name] != scaffold[name]]
    assert not differing, (
        f"governance/scaffold/policies differs from policies/ in {differing}; copy them: "
        "cp -r policies/. governance/scaffold/policies/")
