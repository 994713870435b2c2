"""The release-specific model card (Control 2).

Approval status is deliberately absent: it is derived from the ledger when a card is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What the skeleton `release new` writes marks a field to fill with (the model_card_fields gate
# denies any of it; the card schema accepts it where a date is expected, so a draft validates).
PLACEHOLDER_PREFIX = "TODO:"


def is_placeholder(value: object) -> bool:
    """Whether ``value`` is a skeleton placeholder nobody filled yet."""
    return isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class ModelCard:
    model_name: str
    version: str
    release_id: str
    owner: str
    metrics: Mapping[str, float]
    purpose: str | None = None
    escalation_path: tuple[str, ...] = ()
    intended_use: tuple[str, ...] = ()
    not_for_use: tuple[str, ...] = ()
    training_data_scope: str | None = None
    training_data_window: Mapping[str, str] | None = None  # {start, end} YYYY-MM-DD
    training_data_exclusions: tuple[str, ...] = ()
    test_conditions: Mapping[str, Any] = field(default_factory=dict)
    subgroups: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    evaluated_at: str | None = None
    known_limitations: tuple[str, ...] = ()
    artifact_uri: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model_name": self.model_name,
            "version": self.version,
            "release_id": self.release_id,
            "owner": self.owner,
            "metrics": dict(self.metrics),
            "escalation_path": list(self.escalation_path),
            "intended_use": list(self.intended_use),
            "not_for_use": list(self.not_for_use),
            "training_data_exclusions": list(self.training_data_exclusions),
            "test_conditions": dict(self.test_conditions),
            "subgroups": {k: dict(v) for k, v in self.subgroups.items()},
            "known_limitations": list(self.known_limitations),
        }
        for key in ("purpose", "training_data_scope", "evaluated_at", "artifact_uri"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.training_data_window is not None:
            out["training_data_window"] = dict(self.training_data_window)
        return out
