"""Model identity (releases/<model>/model.yaml) and environment desired state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Model:
    name: str
    owner: str
    risk_tier: str  # low | medium | high
    title: str | None = None
    description: str | None = None
    escalation_path: tuple[str, ...] = ()
    system_type: str | None = None
    intended_use: tuple[str, ...] = ()
    not_for_use: tuple[str, ...] = ()
    approver_roles: tuple[str, ...] = ()  # empty: the environment's required roles

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "owner": self.owner,
            "risk_tier": self.risk_tier,
            "escalation_path": list(self.escalation_path),
            "intended_use": list(self.intended_use),
            "not_for_use": list(self.not_for_use),
            "approver_roles": list(self.approver_roles),
        }
        for key in ("title", "description", "system_type"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Deployment:
    """What one environment is told to run for one model."""

    release_id: str
    model_version: str | None = None
    release_digest: str | None = None
    promoted_at: str | None = None
    promoted_by: str | None = None
    ledger_seq: int | None = None
    ledger_event_id: str | None = None
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        """The pointer file's entry: release_id and every field that is set."""
        out: dict[str, Any] = {"release_id": self.release_id}
        for key in ("model_version", "release_digest", "promoted_at", "promoted_by",
                    "ledger_seq", "ledger_event_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class EnvironmentState:
    environment: str
    models: Mapping[str, Deployment] = field(default_factory=dict)
