"""The record schemas shipped in governance/schemas are tools/gen_schemas.py's output, exactly:
an edit by hand to a generated file would be lost at the next regeneration."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "tools" / "gen_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


@pytest.mark.parametrize("schema", GEN.SCHEMAS, ids=GEN.file_name)
def test_shipped_schema_is_the_generated_one(schema: dict[str, Any]) -> None:
    path = ROOT / "governance" / "schemas" / GEN.file_name(schema)
    assert path.read_text(encoding="utf-8") == GEN.render(schema), (
        f"{path.name} differs from tools/gen_schemas.py: edit the generator and run it")
