"""The governed release record (Control 1) and its evidence references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EvidenceRef:
    """A piece of evidence: where it lives, its sha256, and optionally a local copy."""

    uri: str
    sha256: str
    path: str | None = None  # relative to the release directory
    media_type: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uri": self.uri, "sha256": self.sha256}
        for key in ("path", "media_type", "description"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class RollbackTarget:
    """Where a rollback from this release goes: an earlier release, or switching the model off.

    A first release has nothing to return to and declares ``disable`` with a reason
    (DESIGN section 10); every later release names an approved earlier release.
    """

    release_id: str | None = None
    disable: bool = False
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.disable:
            return {"disable": True, "reason": self.reason}
        return {"release_id": self.release_id}


@dataclass(frozen=True)
class Release:
    """A governed release record. Evidence fields may be absent in a draft; the gates deny
    promotion until they are present (the schema checks shape, Rego decides completeness)."""

    release_id: str
    model_name: str
    model_version: str
    created_at: str
    git_commit: str | None = None
    training_dataset: EvidenceRef | None = None
    feature_schema_version: str | None = None
    artifact: EvidenceRef | None = None
    evaluation_report: EvidenceRef | None = None
    config_version: str | None = None
    trained_by: str | None = None
    rollback_target: RollbackTarget | None = None
    title: str | None = None
    prompt_version: str | None = None
    policy_version: str | None = None
    baseline: str | None = None
    evidence: tuple[EvidenceRef, ...] = ()

    def evidence_refs(self) -> tuple[tuple[str, EvidenceRef], ...]:
        """Every evidence reference with its JSON path, in document order."""
        named = (
            ("$.training_dataset", self.training_dataset),
            ("$.artifact", self.artifact),
            ("$.evaluation_report", self.evaluation_report),
        )
        refs = [(path, ref) for path, ref in named if ref is not None]
        refs += [(f"$.evidence[{i}]", ref) for i, ref in enumerate(self.evidence)]
        return tuple(refs)

    def seed_view(self) -> dict[str, Any]:
        """The record with the seed's flat field names (training_dataset_ref, artifact_uri...)."""
        view: dict[str, Any] = {
            "release_id": self.release_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "git_commit": self.git_commit,
            "training_dataset_ref": self.training_dataset.uri if self.training_dataset else None,
            "feature_schema_version": self.feature_schema_version,
            "artifact_uri": self.artifact.uri if self.artifact else None,
            "evaluation_report_uri": (
                self.evaluation_report.uri if self.evaluation_report else None
            ),
            "config_version": self.config_version,
        }
        if self.prompt_version:
            view["prompt_version"] = self.prompt_version
        if self.policy_version:
            view["policy_version"] = self.policy_version
        return view

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "release_id": self.release_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "created_at": self.created_at,
        }
        for key in ("git_commit", "feature_schema_version", "config_version", "trained_by",
                    "title", "prompt_version", "policy_version", "baseline"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key in ("training_dataset", "artifact", "evaluation_report", "rollback_target"):
            ref = getattr(self, key)
            if ref is not None:
                out[key] = ref.to_json()
        if self.evidence:
            out["evidence"] = [ref.to_json() for ref in self.evidence]
        return out
