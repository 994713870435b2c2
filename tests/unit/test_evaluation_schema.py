"""The evaluation file's JSON Schema (docs/evaluation.md) and the reader agree.

``governance release new --from-eval`` checks the file in ``authoring.read_evaluation``; the
schema shipped as ``evaluation.schema.json`` (exported by ``governance schema export``) is what
pipelines and editors check it with. Every body below must be accepted by both or refused by
both, so the published format cannot drift from what the tool reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from governance.authoring import read_evaluation
from governance.errors import InvalidInput
from governance.records import INPUT_SCHEMA_FILES, shipped_schema

WHEN = "2026-04-09T18:30:00Z"
CASES: list[tuple[str, dict[str, Any] | list[Any], bool]] = [
    ("minimal", {"metrics": {"auc": 0.9}, "evaluated_at": WHEN}, True),
    ("full", {"metrics": {"auc": 0.94, "latency_p95_ms": 42},
              "subgroups": {"region=eu": {"auc": 0.9}},
              "test_conditions": {"holdout": "out-of-time, 4 weeks"},
              "evaluated_at": "2026-04-09T20:30:00+02:00",
              "dataset": {"uri": "s3://eval/holdout"}}, True),
    ("no evaluated_at", {"metrics": {"auc": 0.9}}, False),
    ("no metrics", {"evaluated_at": WHEN}, False),
    ("unknown field", {"metrics": {}, "evaluated_at": WHEN, "score": 1}, False),
    ("metric not a number", {"metrics": {"auc": "high"}, "evaluated_at": WHEN}, False),
    ("metric a boolean", {"metrics": {"auc": True}, "evaluated_at": WHEN}, False),
    ("subgroups not an object", {"metrics": {}, "subgroups": [], "evaluated_at": WHEN}, False),
    ("slice metric not a number", {"metrics": {}, "subgroups": {"eu": {"auc": "x"}},
                                   "evaluated_at": WHEN}, False),
    ("test_conditions not an object", {"metrics": {}, "test_conditions": "4 weeks",
                                       "evaluated_at": WHEN}, False),
    ("not an object", [], False),
]


def _schema() -> dict[str, Any]:
    return shipped_schema("evaluation.schema.json")


@pytest.mark.parametrize(("body", "valid"), [(b, v) for _, b, v in CASES],
                         ids=[c[0] for c in CASES])
def test_schema_and_reader_agree(tmp_path: Path, body: Any, valid: bool) -> None:
    errors = list(jsonschema.Draft202012Validator(_schema()).iter_errors(body))
    assert (not errors) is valid, errors
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(body))
    if valid:
        assert read_evaluation(path).data["evaluated_at"] == body["evaluated_at"]  # type: ignore[index]
    else:
        with pytest.raises(InvalidInput):
            read_evaluation(path)


def test_missing_evaluated_at_is_located_and_names_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "eval.json"
    path.write_text('{"metrics": {"auc": 0.9}}')
    with pytest.raises(InvalidInput) as caught:
        read_evaluation(path)
    text = caught.value.diagnostics()
    assert "eval.json $: missing required field 'evaluated_at'" in text
    assert "2026-04-10T09:14:11Z" in text  # the expected shape, not only "missing"


def test_the_schema_is_exported_and_requires_evaluated_at() -> None:
    assert "evaluation.schema.json" in INPUT_SCHEMA_FILES
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["metrics", "evaluated_at"]
