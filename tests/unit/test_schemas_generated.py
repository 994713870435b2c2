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


def test_the_check_mode_passes_on_the_shipped_files_and_names_a_stale_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`gen_schemas.py --check` (run by .ci/run) can fail: a shipped file that differs from the
    generator's output, or is missing, exits 1 and is named; nothing is written."""
    assert GEN.main(["--check"]) == 0
    for schema in GEN.SCHEMAS:
        (tmp_path / GEN.file_name(schema)).write_text(GEN.render(schema), encoding="utf-8")
    assert GEN.main(["--check", "--out", str(tmp_path)]) == 0
    ledger = tmp_path / "ledger-event.schema.json"
    edited = ledger.read_text(encoding="utf-8").replace('"key_rotated"\n', '"key_rotated",\n'
                                                        '"hand_added"\n', 1)
    ledger.write_text(edited, encoding="utf-8")
    (tmp_path / "model.schema.json").unlink()
    capsys.readouterr()
    assert GEN.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "ledger-event.schema.json differs" in err and "model.schema.json differs" in err
    assert ledger.read_text(encoding="utf-8") == edited  # --check writes nothing
    assert not (tmp_path / "model.schema.json").exists()


def test_the_event_table_drives_the_ledger_event_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table entry is all the schema needs: its $defs entry (with the table's required
    fields) and its allOf dispatch come from the table, without a hand edit."""
    from dataclasses import replace

    from governance.domain.event_table import EVENT_TABLE
    from governance.domain.event_types import POLICY_VIOLATION

    extra = replace(EVENT_TABLE[POLICY_VIOLATION], name="model_archived",
                    required=("model_name", "reason"))
    monkeypatch.setattr(GEN, "EVENT_TABLE", {**EVENT_TABLE, "model_archived": extra})
    schema = GEN.ledger_event_schema()
    assert schema["$defs"]["model_archived"] == {"required": ["model_name", "reason"]}
    assert schema["allOf"][-1] == {
        "if": {"properties": {"event_type": {"const": "model_archived"}},
               "required": ["event_type"]},
        "then": {"$ref": "#/$defs/model_archived"}}
    assert list(schema["$defs"])[: len(EVENT_TABLE) + 1] == [*EVENT_TABLE, "model_archived"]
    monkeypatch.setattr(GEN, "EVENT_TYPE_SHAPES", {"no_such_type": {}})
    with pytest.raises(SystemExit, match="no_such_type"):
        GEN.ledger_event_schema()
