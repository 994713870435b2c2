"""Regenerates governance/schemas/*.schema.json (JSON Schema draft 2020-12).

The schemas are data shipped with the package; this script is their single source so the shared
definitions (slugs, sha256, evidence references) are written once. Run it after editing and
commit the output: `python tools/gen_schemas.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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

SCHEMAS = (RELEASE, CARD, MODEL, CONFIG, ENVSTATE, EVALUATION)


def file_name(schema: dict[str, Any]) -> str:
    return str(schema["$id"]).rsplit("/", 1)[1]


def render(schema: dict[str, Any]) -> str:
    """The shipped file's exact text."""
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "governance" / "schemas"
    for schema in SCHEMAS:
        (out / file_name(schema)).write_text(render(schema), encoding="utf-8")
        print(file_name(schema))


if __name__ == "__main__":
    main()
