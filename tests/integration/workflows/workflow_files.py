"""The governance workflows as files and parsed YAML, shared by the workflow tests.

The source of truth is ``governance/scaffold/.github/workflows/`` (what ``governance init``
writes into a governed repository); ``.github/workflows/`` holds byte-identical copies that
this repository runs itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SCAFFOLD_DIR = REPO_ROOT / "governance" / "scaffold" / ".github" / "workflows"
DOGFOOD_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = (
    "governance-gate.yml",
    "governance-promote.yml",
    "governance-promote-next.yml",
    "governance-rollback.yml",
    "governance-pointers.yml",
)


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((SCAFFOLD_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    # YAML 1.1 reads the key `on` as the boolean True (PyYAML follows YAML 1.1).
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def jobs(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from doc["jobs"].items()


def steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in jobs(doc):
        for step in job.get("steps", []):
            yield job_id, step


def run_script(name: str, job_id: str, step_name: str) -> tuple[str, dict[str, str], set[str]]:
    """One named step as GitHub would run it: its ``run:`` text, the environment variables
    with literal values (workflow, job and step ``env:`` merged, innermost wins), and the
    names whose values are expressions (a test must supply those)."""
    doc = load(name)
    job = doc["jobs"][job_id]
    for step in job.get("steps", []):
        if step.get("name") == step_name:
            merged = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            literal = {k: str(v) for k, v in merged.items() if "${{" not in str(v)}
            return str(step["run"]), literal, set(merged) - set(literal)
    raise LookupError(f"{name}: no step {step_name!r} in job {job_id!r}")


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar in a parsed document with the path of keys and indexes leading to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))
    else:
        yield path, node
