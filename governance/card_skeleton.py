"""The model card skeleton ``governance release new`` writes (issue 15 item 5).

Every field the default gates read is present, each under a one-line comment saying what it
holds and in which shape. What the tool knows is filled in (identity from the release, owner,
escalation path and uses from model.yaml, metrics, subgroups, test conditions and completion
time from ``--from-eval``); what only people know is a placeholder in the expected shape whose
text starts with ``TODO:`` (``governance.domain.card.PLACEHOLDER_PREFIX``). The model_card_fields
gate denies any placeholder still there ("... is still a placeholder: fill it", with the shape in
its remediation), so a skeleton can never pass for a filled card; the card schema accepts the
placeholder where a date is expected, so a fresh release still validates.

The text is generated field by field (PyYAML for each value, the comment above it), so the
comments are part of the file and of its digest, like any other content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from governance.domain.card import PLACEHOLDER_PREFIX

TODO = PLACEHOLDER_PREFIX + " "

# field -> (comment, placeholder used when the tool knows nothing), in the card's order
FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("model_name", "The model, version and release this card describes (written by the tool).",
     None),
    ("version", "", None),
    ("release_id", "", None),
    ("purpose", "What the model is for and which decision it supports, in one or two sentences.",
     TODO + "what the model is for and which decision it supports"),
    ("owner", "Person or team accountable for the model (from model.yaml).", None),
    ("escalation_path", "Who to contact about it, first contact first: person or team ids "
     "(from model.yaml).", []),
    ("intended_use", "Uses the model is approved for, one per item.",
     [TODO + "a use the model is approved for"]),
    ("not_for_use", "Uses it must not serve, one per item.",
     [TODO + "a use the model must not serve"]),
    ("training_data_scope", "The population, sources and regions the training data covers.",
     TODO + "which records the training data covers"),
    ("training_data_window", "The period the training data was drawn from: "
     "{start: YYYY-MM-DD, end: YYYY-MM-DD}.",
     {"start": TODO + "YYYY-MM-DD", "end": TODO + "YYYY-MM-DD"}),
    ("training_data_exclusions", "Data deliberately left out of training and why, one per item "
     "('none' needs a reason too).", [TODO + "data left out of training, and why"]),
    ("metrics", "Evaluation metrics {name: number}, written by `release new --from-eval FILE`.",
     {}),
    ("subgroups", "Per-slice metrics {slice: {name: number}} from the evaluation file; "
     "compared with the baseline release.", {}),
    ("test_conditions", "How the evaluation was run (holdout, period, latency method...), from "
     "the evaluation file.", {}),
    ("evaluated_at", "When the evaluation finished, RFC 3339 (the evaluation file's "
     "evaluated_at); the freshness gate checks it.",
     TODO + "RFC 3339 time the evaluation finished, e.g. 2026-04-10T09:14:11Z"),
    ("known_limitations", "Known weaknesses and where the model should not be trusted, one per "
     "item.", [TODO + "a known weakness of this model"]),
    ("artifact_uri", "The model artifact this release ships (from --artifact).", None),
)
HEADER = (
    "# Model card of release {release_id}.\n"
    "# Replace every 'TODO: ...': the model_card_fields gate denies a card that still holds one.\n"
    "# Approval status is never written here: it is derived from the ledger when the card is\n"
    "# rendered.\n"
)


def _dump(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def skeleton_fields(known: Mapping[str, Any]) -> dict[str, Any]:
    """The card's fields as ``card_text`` writes them: what the tool filled, else the field's
    placeholder (a field with neither is left out)."""
    fields: dict[str, Any] = {}
    for key, _comment, placeholder in FIELDS:
        value = known.get(key)
        if _empty(value):
            if placeholder is None:
                continue
            value = placeholder
        fields[key] = value
    return fields


def card_text(schema_line: str, known: Mapping[str, Any]) -> str:
    """The card as YAML text: ``schema_line`` (the editor's schema hint), the header, then every
    field with its comment; ``known`` holds what the tool filled (a missing or empty value gets
    the field's placeholder, or is left out when it has none)."""
    out = [schema_line, HEADER.format(release_id=known.get("release_id", "")),
           "apiVersion: governance/v1\nkind: ModelCard\n"]
    fields = skeleton_fields(known)
    for key, comment, _placeholder in FIELDS:
        if key not in fields:
            continue
        if comment:
            out.append(f"# {comment}\n")
        out.append(_dump(key, fields[key]))
    return "".join(out)
