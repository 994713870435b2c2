"""Decision records shaped like OPA decision logs.

OPA's decision log event carries ``decision_id``, ``timestamp``, ``path``, ``input``, ``result``,
``bundles: {name: {revision}}``, ``metrics`` and ``labels``
(https://www.openpolicyagent.org/docs/latest/management-decision-logs/). A record here has
those fields plus what an auditor needs to re-run the decision: ``input_digest`` and
``data_digest`` (sha256 over canonical JSON: keys sorted, no insignificant whitespace, UTF-8),
``policy_digest`` (git tree id of the policy directory, see ``bundle``), ``policy_sha256`` and
the engine's name and version.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from typing import Any

from governance.policy.bundle import PolicyBundle
from governance.timeparse import format_rfc3339, utc_now


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def json_digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


@cache
def _package_version() -> str:
    try:
        return metadata.version("model-governance")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "unknown"


def decision_record(
    *,
    path: str,
    input_doc: Mapping[str, Any],
    result: Any,
    bundle: PolicyBundle,
    engine_name: str,
    engine_version: str,
    data: Mapping[str, Any],
    eval_ns: int,
    error: str | None = None,
    input_digest: str | None = None,
    data_digest: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "decision_id": str(uuid.uuid4()),
        "timestamp": format_rfc3339(utc_now()),
        "path": path.replace(".", "/"),
        "input": input_doc,
        "input_digest": input_digest or json_digest(input_doc),
        "result": result,
        "bundles": {"policies": {"revision": bundle.git_tree}},
        "policy_digest": bundle.digest,
        "policy_sha256": bundle.sha256,
        "engine": {"name": engine_name, "version": engine_version},
        "data_digest": data_digest or json_digest(data),
        "metrics": {"timer_rego_query_eval_ns": eval_ns},
        "labels": {"app": "model-governance", "version": _package_version()},
    }
    if error is not None:
        record["error"] = error
    return record
