"""Governed documents' validated mappings -> frozen domain values (the builders).

What ``governance.records`` hands out once a document passed its schema, built here without
the YAML parser or a schema library, so that a read query holding an already validated
``governance.yaml`` (``governance.config_cache``) builds its configuration without importing
either (issue 18). ``governance.records`` re-exports every name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from governance.domain.config import (
    Environment,
    GovernanceConfig,
    Identity,
    Role,
    Waiver,
)

if TYPE_CHECKING:  # each imported by its builder: a query building only its configuration
    # does not create the other documents' dataclasses (issue 18)
    from governance.domain.card import ModelCard
    from governance.domain.model import EnvironmentState, Model
    from governance.domain.release import EvidenceRef, Release


def _evidence(d: Mapping[str, Any]) -> EvidenceRef:
    from governance.domain.release import EvidenceRef

    return EvidenceRef(uri=d["uri"], sha256=d["sha256"], path=d.get("path"),
                       media_type=d.get("media_type"), description=d.get("description"))


def _maybe_evidence(d: Mapping[str, Any] | None) -> EvidenceRef | None:
    return _evidence(d) if d is not None else None


def build_release(d: Mapping[str, Any]) -> Release:
    from governance.domain.release import Release, RollbackTarget

    rt = d.get("rollback_target")
    return Release(
        release_id=d["release_id"],
        model_name=d["model_name"],
        model_version=str(d["model_version"]),
        created_at=d["created_at"],
        git_commit=d.get("git_commit"),
        training_dataset=_maybe_evidence(d.get("training_dataset")),
        feature_schema_version=d.get("feature_schema_version"),
        artifact=_maybe_evidence(d.get("artifact")),
        evaluation_report=_maybe_evidence(d.get("evaluation_report")),
        config_version=d.get("config_version"),
        trained_by=d.get("trained_by"),
        rollback_target=None if rt is None else RollbackTarget(
            release_id=rt.get("release_id"), disable=bool(rt.get("disable", False)),
            reason=rt.get("reason")),
        title=d.get("title"),
        prompt_version=d.get("prompt_version"),
        policy_version=d.get("policy_version"),
        baseline=d.get("baseline"),
        evidence=tuple(_evidence(e) for e in d.get("evidence", [])),
    )


def build_card(d: Mapping[str, Any]) -> ModelCard:
    from governance.domain.card import ModelCard

    return ModelCard(
        model_name=d["model_name"],
        version=str(d["version"]),
        release_id=d["release_id"],
        owner=d["owner"],
        metrics=dict(d["metrics"]),
        purpose=d.get("purpose"),
        escalation_path=tuple(d.get("escalation_path", [])),
        intended_use=tuple(d.get("intended_use", [])),
        not_for_use=tuple(d.get("not_for_use", [])),
        training_data_scope=d.get("training_data_scope"),
        training_data_window=d.get("training_data_window"),
        training_data_exclusions=tuple(d.get("training_data_exclusions", [])),
        test_conditions=dict(d.get("test_conditions", {})),
        subgroups={k: dict(v) for k, v in d.get("subgroups", {}).items()},
        evaluated_at=d.get("evaluated_at"),
        known_limitations=tuple(d.get("known_limitations", [])),
        artifact_uri=d.get("artifact_uri"),
    )


def build_model(d: Mapping[str, Any]) -> Model:
    from governance.domain.model import Model

    return Model(
        name=d["name"],
        owner=d["owner"],
        risk_tier=d["risk_tier"],
        title=d.get("title"),
        description=d.get("description"),
        escalation_path=tuple(d.get("escalation_path", [])),
        system_type=d.get("system_type"),
        intended_use=tuple(d.get("intended_use", [])),
        not_for_use=tuple(d.get("not_for_use", [])),
        approver_roles=tuple(d.get("approver_roles", [])),
    )


def _identity(d: Mapping[str, Any], *, bot: bool) -> Identity:
    return Identity(id=d["id"], name=d["name"], email=d["email"],
                    signing_keys=tuple(d.get("signing_keys", [])),
                    may_emit=tuple(d.get("may_emit", [])), is_bot=bot)


def build_config(d: Mapping[str, Any]) -> GovernanceConfig:
    return GovernanceConfig(
        roles={name: Role(name=name, members=tuple(r.get("members", [])),
                          teams=tuple(r.get("teams", [])))
               for name, r in d["roles"].items()},
        environments={name: Environment(name=name,
                                        required_approvals=tuple(e.get("required_approvals", [])),
                                        after=e.get("after"),
                                        protected_branch=e.get("protected_branch"))
                      for name, e in d["environments"].items()},
        people={p["id"]: _identity(p, bot=False) for p in d.get("people", [])},
        bots={b["id"]: _identity(b, bot=True) for b in d.get("bots", [])},
        organization=d.get("organization"),
        repository=d.get("repository"),
        protected_branch=d.get("protected_branch", "main"),
        approvals_per_role={tier: int(v.get("approvals_per_role", 1))
                            for tier, v in d.get("risk_tiers", {}).items()},
        gates=dict(d.get("gates", {})),
        waivers=tuple(Waiver(gate_id=w["gate_id"], model=w["model"], approver=w["approver"],
                             reason=w["reason"], expires=w["expires"],
                             release_id=w.get("release_id"))
                      for w in d.get("waivers", [])),
        ledger=dict(d.get("ledger", {})),
        sinks=dict(d.get("sinks", {})),
        max_file_bytes=d.get("limits", {}).get("max_file_bytes"),
        ratio_metrics=frozenset(d.get("ratio_metrics", [])),
        raw=dict(d),
    )


def build_environment(d: Mapping[str, Any]) -> EnvironmentState:
    from governance.domain.model import Deployment, EnvironmentState

    return EnvironmentState(
        environment=d["environment"],
        models={name: Deployment(
            release_id=m["release_id"], model_version=m.get("model_version"),
            release_digest=m.get("release_digest"), promoted_at=m.get("promoted_at"),
            promoted_by=m.get("promoted_by"), ledger_seq=m.get("ledger_seq"),
            ledger_event_id=m.get("ledger_event_id"), disabled=bool(m.get("disabled", False)))
            for name, m in d["models"].items()},
    )


BUILDERS: dict[str, Any] = {
    "Release": build_release,
    "ModelCard": build_card,
    "Model": build_model,
    "GovernanceConfig": build_config,
    "EnvironmentState": build_environment,
    # the schema-checked mapping; keys and duplicate origins: governance.audit.org.load_org_trust
    "OrgTrust": dict,
}
