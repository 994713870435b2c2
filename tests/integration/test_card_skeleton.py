"""The model card skeleton of ``governance release new`` (issue 15 item 5), end to end.

Every field the default gates require is in the skeleton with a one-line comment; what only
people know is a ``TODO:`` placeholder in the expected shape; a fresh release validates, the
gates deny every placeholder with "fill it" and a remediation naming the shape, and once the
placeholders are filled the card gate passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from governance.card_skeleton import FIELDS
from governance.cli.app import app
from governance.demo import CARD_FACTS, fill_card

ROOT = Path(__file__).resolve().parents[2]
RID = "fraud-risk-2026-04-10-01"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if "json" in args else result.output


def gate_required_fields() -> list[str]:
    """The default list in the shipped gate (not a copy of it)."""
    text = (ROOT / "policies" / "gates" / "model_card.rego").read_text()
    block = re.search(r'lib\.setting\("model_card_required_fields", \[(.*?)\]\)', text, re.S)
    assert block is not None
    return re.findall(r'"([a-z_.]+)"', block[1])


@pytest.fixture
def card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    assert run("init", str(root))[0] == 0
    monkeypatch.chdir(root)
    assert run("model", "new", "fraud-risk", "--owner", "risk-platform")[0] == 0
    ev = tmp_path / "eval.json"
    ev.write_text(json.dumps({"metrics": {"auc": 0.93, "latency_p95_ms": 40},
                              "test_conditions": {"holdout": "4 weeks"},
                              "evaluated_at": "2026-04-09T10:00:00Z"}))
    code, out = run("release", "new", "--model", "fraud-risk", "--version", "2026-04-10",
                    "--from-eval", str(ev))
    assert code == 0, out
    return root / "releases" / "fraud-risk" / RID / "model-card.yaml"


def _card_failures() -> list[dict[str, Any]]:
    code, out = run("check", RID, "--format", "json")
    assert code == 1, out
    failures: list[dict[str, Any]] = json.loads(out)["results"][0]["failures"]
    # conftest's shape: msg, and the rest under metadata
    return [{"msg": f["msg"], **f["metadata"]} for f in failures
            if f["metadata"]["gate_id"] == "model_card_fields"]


def test_skeleton_has_every_required_field_with_a_comment(card: Path) -> None:
    text = card.read_text()
    lines = text.splitlines()
    doc = yaml.safe_load(text)
    for field in [*gate_required_fields(), "evaluated_at"]:
        assert field in doc, field
        at = next(i for i, ln in enumerate(lines) if ln.startswith(f"{field}:"))
        # a comment above it (model_name/version/release_id share one)
        assert lines[at - 1].startswith("# ") or field in ("version", "release_id"), field
    assert {f for f, _, _ in FIELDS} >= set(gate_required_fields())
    assert doc["training_data_window"] == {"start": "TODO: YYYY-MM-DD",
                                           "end": "TODO: YYYY-MM-DD"}
    assert doc["training_data_exclusions"][0].startswith("TODO:")
    assert doc["evaluated_at"] == "2026-04-09T10:00:00Z"  # from the evaluation file
    assert run("validate")[0] == 0  # a draft validates; the gates say what to fill


def test_placeholders_are_denied_with_their_shape_then_pass_when_filled(card: Path) -> None:
    failures = _card_failures()
    by_field = {f["field"]: f for f in failures}
    for field in ("purpose", "intended_use", "not_for_use", "training_data_scope",
                  "training_data_window", "training_data_exclusions", "known_limitations"):
        f = by_field[f"$.{field}"]
        assert f["msg"] == f"model card field {field} is still a placeholder (TODO: ...): fill it"
        assert f["remediation"].startswith(f"fill `{field}` in model-card.yaml: ")
    assert "{start: YYYY-MM-DD, end: YYYY-MM-DD}" in by_field["$.training_data_window"][
        "remediation"]
    fill_card(card, {**CARD_FACTS, "purpose": "Scores card transactions for review",
                     "intended_use": ["transaction review prioritization"],
                     "not_for_use": ["credit decisions"]})
    assert "# The period the training data was drawn from" in card.read_text()  # comments kept
    assert _card_failures() == []


def test_a_partly_filled_window_is_still_denied(card: Path) -> None:
    fill_card(card, {"training_data_window": {"start": "2025-10-01", "end": "TODO: YYYY-MM-DD"}})
    assert "$.training_data_window" in {f["field"] for f in _card_failures()}
    # the schema refuses a window date that is neither a date nor a placeholder
    fill_card(card, {"training_data_window": {"start": "2025-10-01", "end": "soon"}})
    code, out = run("validate")
    assert code == 1
    assert "$.training_data_window.end" in out and "YYYY-MM-DD" in out
