"""Architecture guard: only the GitHub adapter imports PyGithub; the core stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "governance"
PURE = ("codeowners.py", "facts.py", "duties.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_github_adapter_imports_pygithub() -> None:
    importers = sorted(
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "github" in _imports(p)
    )
    assert importers == ["approvals/github.py"]


def test_counting_rules_do_no_io() -> None:
    for name in PURE:
        imports = _imports(PACKAGE / "approvals" / name)
        assert not imports & {"github", "git", "subprocess", "requests", "os", "socket"}, name
