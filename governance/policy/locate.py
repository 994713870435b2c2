"""Where a gate violation points: the field's line in the release's YAML, else the gate's rule.

Shared by every renderer that names a location (GitHub workflow commands, SARIF); a location is a
nicety, so an unreadable file gives no line rather than an error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from governance.policy.gates import GateDecision, Violation
from governance.policy.metadata import Annotation


@lru_cache(maxsize=256)
def _yaml_doc(path: str) -> Any:
    from governance.yaml_source import load_yaml_file

    try:
        return load_yaml_file(Path(path))
    except Exception:  # noqa: BLE001 - a location is a nicety; never fail the report for it
        return None


def line_of(path: str, field: str) -> int | None:
    doc = _yaml_doc(path)
    if doc is None:
        return None
    probe = field
    while probe:
        line = doc.line_of(probe)
        if line is not None:
            return int(line)
        if probe == "$" or "." not in probe:
            break
        probe = probe.rsplit(".", 1)[0]
    return 1


def locate(
    decision: GateDecision, v: Violation, gates: dict[str, Annotation]
) -> tuple[str | None, int | None]:
    """Where a violation points: the field in the release's YAML, else the gate's rule."""
    file = decision.files.get(v.document)
    if file is not None and Path(file).is_file():
        return file, line_of(file, v.field)
    annotation = gates.get(v.gate_id)
    if annotation is not None:
        return annotation.file, annotation.line
    return decision.files.get("release"), None
