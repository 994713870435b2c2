"""Regenerates governance/schemas/*.schema.json (JSON Schema draft 2020-12).

The schemas are data shipped with the package; this script is their single source so the shared
definitions (slugs, sha256, evidence references) are written once. Run it after editing and
commit the output: `python tools/gen_schemas.py`; `--check` (run by .ci/run) writes nothing and
exits 1 when a shipped schema differs. The ledger event schema's enums, dispatch and per-type
required fields come from the event table, governance.domain.event_table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from governance.domain.event_table import EVENT_TABLE
from governance.domain.event_types import ENVELOPE_REQUIRED, EVENT_TYPES
from governance.domain.events import EVENT_FIELDS

OUT = Path(__file__).resolve().parent.parent / "governance" / "schemas"

BASE = "https://model-governance.dev/schemas/v1"
# Every pattern ends with END, never `$`: validators run patterns with `re.search`, where Python's
# `$` also matches before a final newline ("ok\n" would pass as a slug), while `(?![\s\S])`
# ("no character follows") ends the match at the end of the string in ECMA (editors) and Python
# alike. `[0-9]` rather than `\d` for the same reason: Python's `\d` also matches non-ASCII
# digits. tests/unit/test_schema_patterns.py holds every shipped pattern to this (issue 14).
END = r"(?![\s\S])"
# A key line's comment: `.` differs (Python's also matches CR and U+2028/9, ECMA's does not), so
# the comment is any text without control characters or line separators, in both.
KEY_COMMENT = r"( [^\x00-\x1f\x7f\u2028\u2029]*)?"
SLUG = {
    "type": "string",
    "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}" + END,
    "x-expected": "a slug: lowercase letters, digits, '.', '_' or '-', 1-128 characters, "
    "starting with a letter or digit",
}
SHA256 = {
    "type": "string",
    "pattern": "^[0-9a-f]{64}" + END,
    "x-expected": "a sha256 digest: 64 lowercase hex characters (uppercase is rejected, "
    "not normalised)",
}
# Semantic bounds (issue 16; docs/records.md "Bounds"): generous, so no real record meets them,
# and tight enough that a typo, a unit mistake or a hostile value is refused where it stands.
# Years 1970 to 2200: a governed record is about a model trained, evaluated and deployed in the
# computer era; year 1 or 9999 is a typo (and year 1 printed as '1-01-01' confused readers).
YEAR = "(19[7-9][0-9]|2[01][0-9]{2}|2200)"
MAX_TEXT = 16_384  # characters of one free-text field (a purpose, a limitation, a reason)
MAX_ITEMS = 1_000  # items of one list (uses, limitations, escalation path, evidence)
MAX_ENTRIES = 10_000  # entries of one mapping (metrics, subgroups, roles, models)
MAX_NUMBER = 1e15  # magnitude of any metric or threshold: beyond it is a unit mistake
DATE = {
    "type": "string",
    "pattern": f"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}" + END,
    "x-expected": "a calendar date YYYY-MM-DD in the years 1970 to 2200",
    "x-date": True,
}
DATETIME = {
    "type": "string",
    "pattern": f"^{YEAR}" + r"-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})" + END,
    "x-expected": "an RFC 3339 timestamp with an offset, such as 2026-04-10T09:14:11Z, in the "
    "years 1970 to 2200",
    "x-datetime": True,
}
# The skeleton `release new` writes marks what a person must fill with "TODO: ..." (the
# model_card_fields gate denies any of it). Where a field's shape is not free text (a date), the
# schema accepts the placeholder too, so a fresh release validates and the gate says "fill it".
PLACEHOLDER = {
    "type": "string",
    "pattern": "^TODO:" + r"[^\x00-\x1f\x7f\u2028\u2029]*" + END,
    "x-expected": "a 'TODO: ...' placeholder",
}


def or_placeholder(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, PLACEHOLDER],
            "x-expected": f"{schema['x-expected']} (or the skeleton's 'TODO: ...' until filled)"}


TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
TEXT_LIST = {"type": "array", "items": TEXT, "maxItems": MAX_ITEMS}
IDENTITY = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9._-]{1,100})?" + END,
    "x-expected": "a person or bot id (GitHub login) or a team written org/slug",
}
GIT_COMMIT = {
    "type": "string",
    "pattern": "^[0-9a-f]{7,64}" + END,
    "x-expected": "a git commit id (7 to 64 lowercase hex characters)",
}
FINITE = {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}
# Metrics whose name says they are a duration, a count, a number of rows or an age cannot be
# negative (latency_p95_ms, n_rows, eval_samples, data_age_days); the convention is documented
# in docs/records.md. Rates in [0, 1] are declared by name in governance.yaml (ratio_metrics).
NON_NEGATIVE_NAME = (r"^(latency[A-Za-z0-9_.:-]*|(n|num|count|rows|age)_[A-Za-z0-9_.:-]*"
                     r"|[A-Za-z0-9_.:-]*_(ms|seconds|count|rows|samples|bytes|days|hours|age))"
                     + END)
NON_NEGATIVE = {"type": "number", "minimum": 0, "maximum": MAX_NUMBER,
                "x-expected": "a metric named as a latency, count, number of rows or age "
                "(latency*, *_ms, *_count, n_*, *_rows, ...) is never negative"}
SIGNING_KEY = {
    "type": "string",
    "pattern": r"^(ssh-ed25519|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,2}"
    + KEY_COMMENT + END,
    "x-expected": "an OpenSSH public key line 'ssh-ed25519 AAAA...' or "
    "'sk-ssh-ed25519@openssh.com AAAA...' (RSA and ECDSA keys are not supported)",
}
LOG_KEY = {
    "type": "string",
    "pattern": "^ssh-ed25519 [A-Za-z0-9+/]+={0,2}" + KEY_COMMENT + END,
    "x-expected": "an 'ssh-ed25519 AAAA...' public key line (checkpoints are Ed25519 signed "
    "notes)",
}
# Names the gates use as object keys and quote in their messages (subgroups, metrics, gate ids
# in waivers) are identifiers, not free text.
NAME_END = END
SUBGROUP_NAME = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:+=-]{0,127}" + NAME_END,
    "x-expected": "a subgroup name such as region=eu or age:18-25: letters, digits, '.', '_', "
    "':', '+', '=' or '-', 1-128 characters, starting with a letter or digit",
}
METRIC_NAME = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9_.:-]{1,128}" + NAME_END,
    "x-expected": "a metric name: letters, digits, '.', '_', ':' or '-', 1-128 characters",
}
GATE_ID = {
    "type": "string",
    "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}" + NAME_END,
    "x-expected": "a gate id (a gate's custom.gate_id, e.g. latency): lowercase letters, "
    "digits, '.', '_' or '-', 1-128 characters",
}
HEADER = {
    "apiVersion": {"const": "governance/v1", "x-expected": "governance/v1"},
}


def doc(kind: str, title: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/{kind_file(kind)}",
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "properties": {**HEADER, "kind": {"const": kind, "x-expected": kind}, **props},
        "required": ["apiVersion", "kind", *required],
        "$defs": DEFS,
    }


def kind_file(kind: str) -> str:
    return {
        "Release": "release.schema.json",
        "ModelCard": "model-card.schema.json",
        "Model": "model.schema.json",
        "GovernanceConfig": "governance-config.schema.json",
        "EnvironmentState": "environment-state.schema.json",
    }[kind]


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "required": required or [],
    }


DEFS: dict[str, Any] = {
    "evidence": obj(
        {
            "uri": {**TEXT, "x-expected": "a URI such as s3://bucket/key or a local path"},
            "sha256": SHA256,
            "path": {
                **TEXT,
                "x-expected": "a path relative to the release directory (no '..', not absolute)",
            },
            "media_type": TEXT,
            "description": TEXT,
        },
        ["uri", "sha256"],
    ),
    "metrics": {
        "type": "object",
        "propertyNames": METRIC_NAME,
        "maxProperties": MAX_ENTRIES,
        "patternProperties": {NON_NEGATIVE_NAME: NON_NEGATIVE},
        "additionalProperties": FINITE,
    },
    # test conditions are free-form, but bounded like everything else
    "condition": {
        "type": ["string", "number", "boolean", "null", "array", "object"],
        "maxLength": MAX_TEXT,
        "minimum": -MAX_NUMBER,
        "maximum": MAX_NUMBER,
        "maxItems": MAX_ITEMS,
        "items": {"$ref": "#/$defs/condition"},
        "maxProperties": MAX_ENTRIES,
        "additionalProperties": {"$ref": "#/$defs/condition"},
    },
}
EVIDENCE = {"$ref": "#/$defs/evidence"}
METRICS = {"$ref": "#/$defs/metrics"}

RELEASE = doc(
    "Release",
    "Governed release record",
    {
        "release_id": SLUG,
        "model_name": SLUG,
        "model_version": {**TEXT, "maxLength": 128},
        "title": TEXT,
        "git_commit": GIT_COMMIT,
        "training_dataset": EVIDENCE,
        "feature_schema_version": TEXT,
        "artifact": EVIDENCE,
        "evaluation_report": EVIDENCE,
        "config_version": TEXT,
        "prompt_version": TEXT,
        "policy_version": TEXT,
        "trained_by": IDENTITY,
        "baseline": SLUG,
        "rollback_target": {
            "oneOf": [
                obj({"release_id": SLUG}, ["release_id"]),
                obj(
                    {"disable": {"const": True, "x-expected": "true"}, "reason": TEXT},
                    ["disable", "reason"],
                ),
            ],
            "x-expected": "{release_id: <earlier approved release>} or, for a first release, "
            "{disable: true, reason: ...}",
        },
        "created_at": DATETIME,
        "evidence": {"type": "array", "items": {**EVIDENCE}, "maxItems": MAX_ITEMS},
    },
    # Evidence fields are optional in the schema on purpose: a draft may lack them, and the
    # gates (Rego) deny promotion while they are missing. The schema checks shape only.
    ["release_id", "model_name", "model_version", "created_at"],
)

CARD = doc(
    "ModelCard",
    "Release-specific model card",
    {
        "model_name": SLUG,
        "version": {**TEXT, "maxLength": 128},
        "release_id": SLUG,
        "purpose": TEXT,
        "owner": IDENTITY,
        "escalation_path": {"type": "array", "items": IDENTITY, "maxItems": MAX_ITEMS},
        "intended_use": TEXT_LIST,
        "not_for_use": TEXT_LIST,
        "training_data_scope": TEXT,
        "training_data_window": obj(
            {"start": or_placeholder(DATE), "end": or_placeholder(DATE)}, ["start", "end"]
        ),
        "training_data_exclusions": TEXT_LIST,
        "metrics": METRICS,
        "test_conditions": {"type": "object", "maxProperties": MAX_ENTRIES,
                            "additionalProperties": {"$ref": "#/$defs/condition"}},
        "subgroups": {
            "type": "object",
            "propertyNames": SUBGROUP_NAME,
            "maxProperties": MAX_ENTRIES,
            "additionalProperties": METRICS,
        },
        "evaluated_at": or_placeholder(DATETIME),
        "known_limitations": TEXT_LIST,
        "artifact_uri": TEXT,
        "approvals": {
            "not": {},
            "x-expected": "no 'approvals' field: approval status is derived from the ledger "
            "when the card is rendered, never written by hand",
        },
    },
    ["model_name", "version", "release_id", "owner", "metrics"],
)

MODEL = doc(
    "Model",
    "Model identity",
    {
        "name": SLUG,
        "title": TEXT,
        "description": TEXT,
        "owner": IDENTITY,
        "escalation_path": {"type": "array", "items": IDENTITY, "maxItems": MAX_ITEMS},
        "risk_tier": {"enum": ["low", "medium", "high"], "x-expected": "low, medium or high"},
        "system_type": {
            "enum": ["classifier", "regressor", "ranker", "llm", "other"],
            "x-expected": "classifier, regressor, ranker, llm or other",
        },
        "intended_use": TEXT_LIST,
        "not_for_use": TEXT_LIST,
        "approver_roles": {"type": "array", "items": SLUG, "maxItems": MAX_ITEMS},
    },
    ["name", "owner", "risk_tier"],
)

PERSON = obj(
    {
        "id": IDENTITY,
        "name": TEXT,
        "email": {
            "type": "string",
            "pattern": r"^[^@\s]+@[^@\s]+" + END,
            "x-expected": "an email address",
        },
        "signing_keys": {"type": "array", "items": SIGNING_KEY, "maxItems": MAX_ITEMS},
    },
    ["id", "name", "email"],
)
BOT = obj(
    {**PERSON["properties"], "may_emit": {"type": "array", "items": SLUG,
                                          "maxItems": MAX_ITEMS}},
    ["id", "name", "email"],
)
THRESHOLDS = {
    "latency_p95_ms_max": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_NUMBER},
    "metric_minimums": METRICS,
    "metric_maximums": METRICS,
    "subgroup_regression_tolerance": {"type": "number", "minimum": 0, "maximum": MAX_NUMBER},
    "evaluation_max_age_days": {"type": "integer", "minimum": 1, "maximum": 100_000},
    # names the Rego gates read (policies/gates/*.rego via lib.setting)
    "model_card_required_fields": {"type": "array", "items": SLUG},
    "required_artifacts": {"type": "array", "items": SLUG},
    "lower_is_better": {"type": "array", "items": METRIC_NAME},
    "latency_metric": METRIC_NAME,
}
CONFIG = doc(
    "GovernanceConfig",
    "Governed repository configuration (governance.yaml)",
    {
        "organization": {**TEXT},
        "repository": {**TEXT},
        "protected_branch": TEXT,
        "people": {"type": "array", "items": PERSON, "maxItems": MAX_ENTRIES},
        "bots": {"type": "array", "items": BOT, "maxItems": MAX_ENTRIES},
        "ratio_metrics": {
            "type": "array",
            "items": METRIC_NAME,
            "maxItems": MAX_ITEMS,
            "x-expected": "a list of metric names whose values are rates in [0, 1]",
        },
        "roles": {
            "type": "object",
            "propertyNames": SLUG,
            "maxProperties": MAX_ENTRIES,
            "additionalProperties": obj(
                {
                    "members": {"type": "array", "items": IDENTITY, "maxItems": MAX_ENTRIES},
                    "teams": {"type": "array", "items": IDENTITY, "maxItems": MAX_ENTRIES},
                    "description": TEXT,
                }
            ),
        },
        "environments": {
            "type": "object",
            "propertyNames": SLUG,
            "additionalProperties": obj(
                {
                    "after": SLUG,
                    "required_approvals": {"type": "array", "items": SLUG,
                                           "maxItems": MAX_ITEMS},
                    "protected_branch": TEXT,
                    "description": TEXT,
                }
            ),
        },
        "risk_tiers": {
            "type": "object",
            "propertyNames": {"enum": ["low", "medium", "high"]},
            "additionalProperties": obj(
                {"approvals_per_role": {"type": "integer", "minimum": 1, "maximum": 10}}
            ),
        },
        "gates": obj(
            {
                **THRESHOLDS,
                "model_overrides": {
                    "type": "object",
                    "propertyNames": SLUG,
                    "additionalProperties": obj(THRESHOLDS),
                },
            }
        ),
        "waivers": {
            "type": "array",
            "maxItems": MAX_ENTRIES,
            "items": obj(
                {
                    "gate_id": GATE_ID,
                    "model": SLUG,
                    "release_id": SLUG,
                    "approver": IDENTITY,
                    "reason": TEXT,
                    "expires": DATE,
                },
                ["gate_id", "model", "approver", "reason", "expires"],
            ),
        },
        "ledger": obj(
            {
                "branch": TEXT,
                "origin": TEXT,
                "checkpoint_every": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                "log_public_key": LOG_KEY,
                "rotators": {"type": "array", "items": IDENTITY},
                "clock_skew_seconds": {"type": "integer", "minimum": 0, "maximum": 86_400},
                "permissions": {
                    "type": "object",
                    "propertyNames": SLUG,
                    "additionalProperties": {"type": "array", "items": TEXT},
                },
            }
        ),
        "sinks": obj(
            {
                "jsonl": obj({"dir": TEXT}),
                "postgres": obj({"dsn_env": TEXT, "table": SLUG}),
                "s3": obj(
                    {
                        "bucket": TEXT,
                        "prefix": {"type": "string"},
                        "retention_days": {"type": "integer", "minimum": 1,
                                           "maximum": 100_000},
                        "endpoint_url": TEXT,
                        "region": TEXT,
                    },
                    ["bucket"],
                ),
            }
        ),
        "limits": obj({"max_file_bytes": {"type": "integer", "minimum": 1,
                                          "maximum": 1 << 30}}),
    },
    ["roles", "environments"],
)

ENVSTATE = doc(
    "EnvironmentState",
    "Desired state of one environment (written only by promote/rollback)",
    {
        "environment": SLUG,
        "models": {
            "type": "object",
            "propertyNames": SLUG,
            "additionalProperties": obj(
                {
                    "release_id": SLUG,
                    "model_version": TEXT,
                    "release_digest": {
                        "type": "string",
                        "pattern": "^sha256:[0-9a-f]{64}" + END,
                        "x-expected": "sha256:<64 lowercase hex>",
                    },
                    "promoted_at": DATETIME,
                    "promoted_by": IDENTITY,
                    "ledger_seq": {"type": "integer", "minimum": 0,
                                   "maximum": (1 << 63) - 1},
                    "ledger_event_id": TEXT,
                    "disabled": {"type": "boolean"},
                },
                ["release_id"],
            ),
        },
    },
    ["environment", "models"],
)


# The evaluation file `release new --from-eval` reads (docs/evaluation.md). Plain JSON written
# by a training pipeline, so no apiVersion/kind header; evaluated_at is required because the
# freshness gate checks it (a time invented by the tool would make that gate check nothing).
EVALUATION = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{BASE}/evaluation.schema.json",
    "title": "Evaluation results read by `governance release new --from-eval`",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "metrics": {
            **METRICS,
            "description": "Overall metrics, name: finite number (latency metrics too, e.g. "
            "latency_p95_ms); copied to the model card's metrics",
        },
        "subgroups": {
            "type": "object",
            "propertyNames": SUBGROUP_NAME,
            "additionalProperties": METRICS,
            "description": "Per-slice metrics, slice: {name: number}; the subgroup regression "
            "gate compares them with the baseline release",
        },
        "test_conditions": {
            "type": "object",
            "description": "How the evaluation was run (holdout, period, latency method...); "
            "copied to the model card",
        },
        "evaluated_at": {
            **DATETIME,
            "description": "When the evaluation finished (RFC 3339 with an offset); the "
            "evaluation freshness gate checks it",
        },
        "dataset": {
            "description": "Free-form description of the evaluation data; kept in the evidence "
            "copy, not read by the gates",
        },
    },
    "required": ["metrics", "evaluated_at"],
    "$defs": DEFS,
}


# --- the ledger event schema ------------------------------------------------------------------
# Issue 20 item 5: the event table (governance.domain.event_table) drives it. From the table:
# the event_type enum and both may_emit enums (its names, in its order), the envelope's required
# fields, one allOf dispatch per type, and each type's $defs entry with the table's `required`.
# Written here by hand: the shape of each field (EVENT_FIELD_SHAPES, keyed by the field list
# governance.domain.events.EVENT_FIELDS, which fixes their order), the extra constraints a type
# adds beyond its required fields (EVENT_TYPE_SHAPES) and the shared definitions (EVENT_DEFS).
# A new event type is its table entry; regenerate, and it is in the schema.

EVENT_TYPE_ENUM = {"type": "string", "enum": list(EVENT_TYPES)}
EVENT_PRINCIPAL = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?![\s\S])",
}
EVENT_SIGNER_KEY = {
    "type": "string",
    "pattern": (
        r"^(ssh-ed25519|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]"
        r"+={0,2}( [^\x00-\x1f\x7f\u2028\u2029]*)?(?![\s\S])"
    ),
}
EVENT_LOG_KEY = {
    "type": "string",
    "pattern": (
        r"^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( [^\x00-\x1f\x7f\u2028"
        r"\u2029]*)?(?![\s\S])"
    ),
}
EVENT_FIELD_SHAPES: dict[str, Any] = {
    "event_type": EVENT_TYPE_ENUM,
    "event_id": {
        "type": "string",
        "pattern": (
            "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
            r"[0-9a-f]{12}(?![\s\S])"
        ),
        "description": "UUIDv7 (RFC 9562 section 5.7), lowercase",
    },
    "seq": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807},
    "timestamp": {
        "type": "string",
        "pattern": (
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\."
            r"[0-9]{1,9})?Z(?![\s\S])"
        ),
        "description": "RFC 3339, UTC, with Z",
    },
    "prev": {
        "type": "string",
        "pattern": r"^([0-9a-f]{64})?(?![\s\S])",
        "description": (
            "hex SHA-256 of the previous event's stored bytes; empty "
            "for seq 0"
        ),
    },
    "release_id": {
        "type": "string",
        "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
    },
    "model_name": {
        "type": "string",
        "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
    },
    "model_version": {"type": "string", "minLength": 1, "maxLength": 128},
    "actor_id": EVENT_PRINCIPAL,
    "actor_role": {"type": "string", "minLength": 1, "maxLength": 128},
    "approval_state": {"enum": ["pending", "approved", "denied", "revoked"]},
    "evidence_refs": {
        "type": "array",
        "items": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {
                        "uri": {"type": "string"},
                        "sha256": {
                            "type": "string",
                            "pattern": r"^[0-9a-f]{64}(?![\s\S])",
                        },
                    },
                },
            ],
        },
    },
    "environment": {
        "type": "string",
        "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
    },
    "release_digest": {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}(?![\s\S])"},
    "policy_digest": {"type": "string", "minLength": 1},
    "source": {
        "type": "object",
        "properties": {
            "pr": {"type": ["integer", "string"]},
            "head_sha": {
                "type": "string",
                "pattern": r"^[0-9a-f]{40,64}(?![\s\S])",
            },
            "merge_sha": {
                "type": "string",
                "pattern": r"^[0-9a-f]{40,64}(?![\s\S])",
            },
            "review_id": {"type": ["integer", "string"]},
            "ci_run": {"type": ["integer", "string"]},
            "deployers": {
                "description": (
                    "Everyone who approved the deployment run (GOVERNANCE_DEP"
                    "LOYER) and the signer: the people separation of duties w"
                    "as checked for."
                ),
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
            },
        },
    },
    "reason": {"type": "string", "minLength": 1, "maxLength": 16384},
    "incident": {"type": "string", "minLength": 1, "maxLength": 1024},
    "from_release": {
        "type": "string",
        "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
    },
    "to_release": {
        "type": "string",
        "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
    },
    "decision": {"type": "object"},
    "details": {"type": "object"},
}
EVENT_TYPE_SHAPES: dict[str, dict[str, Any]] = {
    "ledger_genesis": {
        "properties": {
            "seq": {"const": 0},
            "details": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "origin",
                    "checkpoint_every",
                    "clock_skew_seconds",
                    "rotators",
                    "signers",
                    "log_keys",
                ],
                "properties": {
                    "origin": {
                        "type": "string",
                        "pattern": r"^[^\s]+(?![\s\S])",
                    },
                    "checkpoint_every": {"type": "integer", "minimum": 1},
                    "clock_skew_seconds": {"type": "integer", "minimum": 0},
                    "rotators": {
                        "type": "array",
                        "items": EVENT_PRINCIPAL,
                        "uniqueItems": True,
                    },
                    "signers": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/signer"},
                    },
                    "log_keys": {"type": "array", "items": EVENT_LOG_KEY},
                    "config_commit": {
                        "type": "string",
                        "pattern": r"^([0-9a-f]{40,64})?(?![\s\S])",
                    },
                    "config_digest": {
                        "type": "string",
                        "pattern": r"^sha256:[0-9a-f]{64}(?![\s\S])",
                    },
                    "lifecycle": {"$ref": "#/$defs/lifecycle"},
                },
            },
        },
    },
    "approval_granted": {"properties": {"approval_state": {"const": "approved"}}},
    "approval_denied": {"properties": {"approval_state": {"const": "denied"}}},
    "key_rotated": {
        "properties": {
            "details": {
                "type": "object",
                "required": ["changes"],
                "additionalProperties": False,
                "properties": {
                    "changes": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/change"},
                    },
                },
            },
        },
    },
}
EVENT_DEFS: dict[str, Any] = {
    "signer": {
        "type": "object",
        "additionalProperties": False,
        "required": ["principal", "kind", "name", "email", "keys", "may_emit"],
        "properties": {
            "principal": EVENT_PRINCIPAL,
            "kind": {"enum": ["person", "bot"]},
            "name": {"type": "string", "minLength": 1},
            "email": {
                "type": "string",
                "pattern": r"^[^@\s<>]+@[^@\s<>]+(?![\s\S])",
            },
            "keys": {"type": "array", "items": EVENT_SIGNER_KEY},
            "may_emit": {
                "type": "array",
                "items": EVENT_TYPE_ENUM,
                "uniqueItems": True,
            },
        },
    },
    "change": {
        "type": "object",
        "required": ["op"],
        "oneOf": [
            {
                "properties": {
                    "op": {"const": "add_key"},
                    "principal": EVENT_PRINCIPAL,
                    "key": EVENT_SIGNER_KEY,
                },
                "required": ["principal", "key"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "retire_key"},
                    "principal": EVENT_PRINCIPAL,
                    "key": EVENT_SIGNER_KEY,
                },
                "required": ["principal", "key"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "add_signer"},
                    "signer": {"$ref": "#/$defs/signer"},
                },
                "required": ["signer"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "remove_signer"},
                    "principal": EVENT_PRINCIPAL,
                },
                "required": ["principal"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "set_may_emit"},
                    "principal": EVENT_PRINCIPAL,
                    "may_emit": {
                        "type": "array",
                        "items": EVENT_TYPE_ENUM,
                        "uniqueItems": True,
                    },
                },
                "required": ["principal", "may_emit"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "set_identity"},
                    "principal": EVENT_PRINCIPAL,
                    "name": {"type": "string", "minLength": 1},
                    "email": {
                        "type": "string",
                        "pattern": r"^[^@\s<>]+@[^@\s<>]+(?![\s\S])",
                    },
                },
                "required": ["principal", "name", "email"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "set_rotators"},
                    "rotators": {
                        "type": "array",
                        "items": EVENT_PRINCIPAL,
                        "uniqueItems": True,
                    },
                },
                "required": ["rotators"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "add_log_key"},
                    "key": EVENT_LOG_KEY,
                },
                "required": ["key"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "retire_log_key"},
                    "key": EVENT_LOG_KEY,
                },
                "required": ["key"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "set_role_members"},
                    "role": {"type": "string", "minLength": 1},
                    "members": {"$ref": "#/$defs/role_members"},
                },
                "required": ["role", "members"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "op": {"const": "set_environments"},
                    "environments": {"$ref": "#/$defs/environment_order"},
                },
                "required": ["environments"],
                "additionalProperties": False,
            },
        ],
    },
    "lifecycle": {
        "description": (
            "What the lifecycle replay checks against, pinned from go"
            "vernance.yaml at ledger init; changed only by key_rotate"
            "d set_role_members / set_environments."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["roles", "environments"],
        "properties": {
            "roles": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/role_members"},
            },
            "environments": {"$ref": "#/$defs/environment_order"},
        },
    },
    "role_members": {"type": "array", "items": EVENT_PRINCIPAL, "uniqueItems": True},
    "environment_order": {
        "description": (
            "Environments in promotion order; after names an earlier "
            "environment."
        ),
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "required_approvals"],
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
                },
                "after": {
                    "type": "string",
                    "pattern": r"^[a-z0-9][a-z0-9._-]{0,127}(?![\s\S])",
                },
                "required_approvals": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}


def ledger_event_schema() -> dict[str, Any]:
    unknown = sorted(set(EVENT_TYPE_SHAPES) - set(EVENT_TABLE))
    if unknown:
        raise SystemExit(f"EVENT_TYPE_SHAPES names types the event table does not: {unknown}")
    if set(EVENT_FIELD_SHAPES) != set(EVENT_FIELDS):
        raise SystemExit("EVENT_FIELD_SHAPES and governance.domain.events.EVENT_FIELDS differ: "
                         f"{sorted(set(EVENT_FIELD_SHAPES) ^ set(EVENT_FIELDS))}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://model-governance.dev/schemas/ledger-event.schema.json",
        "title": "Ledger event",
        "description": "One event on the governance ledger, stored as canonical JSON "
                       "(docs/ledger.md).",
        "type": "object",
        "required": list(ENVELOPE_REQUIRED),
        "properties": {name: EVENT_FIELD_SHAPES[name] for name in EVENT_FIELDS},
        "additionalProperties": False,
        "allOf": [{"if": {"properties": {"event_type": {"const": name}},
                          "required": ["event_type"]},
                   "then": {"$ref": f"#/$defs/{name}"}} for name in EVENT_TABLE],
        "$defs": {
            **{name: {"required": list(spec.required), **EVENT_TYPE_SHAPES.get(name, {})}
               for name, spec in EVENT_TABLE.items()},
            **EVENT_DEFS,
        },
    }


LEDGER_EVENT = ledger_event_schema()

SCHEMAS = (RELEASE, CARD, MODEL, CONFIG, ENVSTATE, EVALUATION, LEDGER_EVENT)


def file_name(schema: dict[str, Any]) -> str:
    return str(schema["$id"]).rsplit("/", 1)[1]


def render(schema: dict[str, Any]) -> str:
    """The shipped file's exact text."""
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming each shipped schema that differs "
                             "from the generated one")
    parser.add_argument("--out", type=Path, default=OUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = []
    for schema in SCHEMAS:
        path = args.out / file_name(schema)
        text = render(schema)
        if args.check:
            try:
                current = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                current = None
            if current != text:
                stale.append(path.name)
            continue
        path.write_text(text, encoding="utf-8")
        print(file_name(schema))
    for name in stale:
        print(f"governance/schemas/{name} differs from tools/gen_schemas.py (the event table "
              "drives ledger-event.schema.json): run `python tools/gen_schemas.py` and commit",
              file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
