"""One time module (issue 20, item 4): nothing outside ``governance/timeparse.py`` parses or
formats instants on its own, or reads the wall clock through ``datetime.now``."""

from __future__ import annotations

import ast
from pathlib import Path

import governance

PACKAGE = Path(governance.__file__).parent
AUTHORITY = PACKAGE / "timeparse.py"
# parse: fromisoformat/strptime; format: strftime/isoformat; clock: now/utcnow/utcfromtimestamp
FORBIDDEN = {"fromisoformat", "strptime", "strftime", "isoformat", "utcnow", "utcfromtimestamp"}
# text.when shows a naive datetime as it is (it never gives it a zone); nothing else may
ALLOWED = {("text.py", "isoformat")}


def _calls(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = node.func.value
            clock = name == "now" and isinstance(owner, ast.Name) and owner.id == "datetime"
            if name in FORBIDDEN or clock:
                out.append((node.lineno, name))
    return out


def test_no_module_outside_the_time_module_parses_formats_or_reads_the_clock() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == AUTHORITY:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        found += [f"governance/{rel}:{line} calls {name}()" for line, name in _calls(path)
                  if (rel, name) not in ALLOWED]
    assert found == [], "use governance.timeparse instead:\n" + "\n".join(found)


def test_the_scan_finds_what_it_forbids(tmp_path: Path) -> None:
    """The check can fail: a module with each forbidden call is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from datetime import datetime\n"
        "a = datetime.fromisoformat('2026-01-01')\n"
        "b = datetime.strptime('2026', '%Y')\n"
        "c = a.strftime('%Y')\n"
        "d = datetime.now()\n", "utf-8")
    assert [name for _line, name in _calls(sample)] == [
        "fromisoformat", "strptime", "strftime", "now"]
