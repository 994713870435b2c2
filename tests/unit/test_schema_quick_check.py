"""The quick schema check of governed documents agrees with jsonschema (issue 18).

``governance.records`` first asks the closures of ``governance.ledger.schema_fast`` whether a
document is valid and skips the compiled validators when they say so. They may answer "cannot
tell" (None), never a wrong "valid": checked here on every document of the corpora, this
repository's releases and configuration, and thousands of single mutations of them (a value
replaced by another type, a key removed, an unknown key added), each against the full jsonschema
validator.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.records import SCHEMA_FILES, _quick_check, _validator

ROOT = Path(__file__).resolve().parents[2]
REPLACEMENTS: tuple[Any, ...] = (None, -1, 1.5, True, "", "X Y", [], {"x": 1}, "2026-13-40")
PER_KIND = 400  # mutations checked per document kind (spread over the whole document)


def _documents() -> list[tuple[str, Any]]:
    found = []
    paths = [*ROOT.joinpath("tests", "data").rglob("*.yaml"), *ROOT.joinpath("releases").rglob(
        "*.yaml"), *ROOT.joinpath("environments").glob("*.yaml"), ROOT / "governance.yaml"]
    for path in sorted(paths):
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, OSError):
            continue
        if isinstance(data, dict) and data.get("kind") in SCHEMA_FILES:
            found.append((str(path.relative_to(ROOT)), data))
    return found


DOCUMENTS = _documents()


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:1]):
            yield from _paths(value, (*at, i))


def _mutations(data: Any) -> Iterator[Any]:
    for path in _paths(data):
        if not path:
            continue
        *parent_path, last = path
        for replacement in REPLACEMENTS:
            changed = copy.deepcopy(data)
            parent = changed
            for step in parent_path:
                parent = parent[step]
            parent[last] = copy.deepcopy(replacement)
            yield changed
        changed = copy.deepcopy(data)
        parent = changed
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, dict):
            del parent[last]
            yield changed
            parent["zz_unknown"] = 1
            yield changed


def _agrees(kind: str, data: Any) -> bool | None:
    check = _quick_check(kind)
    assert check is not None, f"the quick check cannot compile the {kind} schema"
    verdict = check(data)
    try:
        errors = list(_validator(kind).iter_errors(data))
    except TypeError:  # a non-string key: records reports it before any schema check
        assert verdict is not True
        return verdict
    if verdict is True:
        assert not errors, f"quick check said valid, jsonschema: {errors[0].message}"
    elif verdict is False:
        assert errors, "quick check said invalid, jsonschema said valid"
    return verdict


def test_every_document_kind_compiles() -> None:
    assert {kind for kind in SCHEMA_FILES if _quick_check(kind) is None} == set()


def test_this_repositorys_documents_are_vouched_for_without_fastjsonschema() -> None:
    ours = [(name, d) for name, d in DOCUMENTS if not name.startswith("tests/data/invalid")
            and not name.startswith("tests/")]
    assert len(ours) >= 10
    for name, data in ours:
        assert _agrees(data["kind"], data) is True, name


@pytest.mark.parametrize(("name", "data"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_the_quick_check_never_passes_what_jsonschema_refuses(name: str, data: Any) -> None:
    _agrees(data["kind"], data)


def _one_per_kind() -> list[tuple[str, Any]]:
    chosen: dict[str, tuple[str, Any]] = {}
    for name, data in DOCUMENTS:  # the largest valid document of each kind mutates the most
        if name.startswith("tests/data/invalid") or _agrees(data["kind"], data) is not True:
            continue
        best = chosen.get(data["kind"])
        if best is None or len(str(data)) > len(str(best[1])):
            chosen[data["kind"]] = (name, data)
    return sorted(chosen.values(), key=lambda item: item[0])


@pytest.mark.parametrize(("name", "data"), _one_per_kind(), ids=[n for n, _ in _one_per_kind()])
def test_no_single_mutation_passes_the_quick_check_wrongly(name: str, data: Any) -> None:
    mutations = list(_mutations(data))
    step = max(1, len(mutations) // PER_KIND)
    verdicts = [_agrees(data["kind"], m) for m in mutations[::step]]
    assert False in verdicts and True in verdicts  # some mutations are caught, some harmless
