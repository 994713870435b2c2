"""Write tests/data/policy-vectors/*.json: gate inputs with the decision each must get.

Inputs start from the reference history (real gate inputs built by governance.policy.input)
and change one fact at a time; each vector states its expected allow and the deny/warn gate-id
sets by hand, so the vectors check the engines, not the other way round. Re-run after changing
the input shape: `python tools/build_policy_vectors.py`.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.lifecycle import LifecycleState
from governance.policy.input import GateRequest, ReleaseFacts, build_gate_input, to_ns
from governance.repo import GovernedRepo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "policy-vectors"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = 86_400 * 10**9


def base(release_id: str, env: str | None = None, source: str = "git") -> dict[str, Any]:
    repo = GovernedRepo(ROOT)
    loaded = repo.load_release(release_id)
    request = GateRequest(environment=env, now=NOW, approval_source=source)
    state = LifecycleState(production_env=repo.config.production_environment)
    doc = build_gate_input(repo, loaded, request, state, ReleaseFacts(repo))
    return json.loads(json.dumps(doc))


def approval(doc: dict[str, Any], role: str, actor: str) -> dict[str, Any]:
    return {
        "role": role, "actor_id": actor, "source": "git", "state": "approved",
        "digest": doc["release"]["digest"], "commit_id": "c" * 40,
        "submitted_at": "2026-05-20T09:00:00+00:00", "submitted_at_ns": to_ns(NOW) - 12 * DAY,
        "role_verified": False,
    }


def promotable(doc: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d["lifecycle"].update(state="approved", approved_digest=d["release"]["digest"],
                          was_live_in=["staging"], live_in=["staging"])
    d["rollback_target"].update(approved=True, lifecycle_state="production")
    d["approvals"] = [approval(d, "ml_lead", "alice"), approval(d, "platform_owner", "bob"),
                      approval(d, "risk_owner", "jane.smith")]
    return d


def vectors() -> dict[str, dict[str, Any]]:
    v: dict[str, dict[str, Any]] = {}
    clean = base("fraud-risk-2026-04-10-01")
    v["readiness-pass"] = {"input": clean, "allow": True, "deny": [], "warn": ["rollback_target"]}
    v["readiness-subgroup-regression"] = {
        "input": base("fraud-risk-2026-05-06-01"), "allow": False,
        "deny": ["subgroup_regression"], "warn": ["rollback_target"],
    }
    v["first-release-disable-target"] = {
        "input": base("fraud-risk-2026-02-14-01"), "allow": True, "deny": [], "warn": []}
    v["llm-model-override-thresholds"] = {
        "input": base("support-assistant-2026-04-20-01"), "allow": True, "deny": [],
        "warn": ["rollback_target"]}
    prod = base("fraud-risk-2026-04-10-01", env="production", source="none")
    v["promotion-no-approval-source"] = {
        "input": prod, "allow": False,
        "deny": ["release_status", "required_approvals", "rollback_target"], "warn": []}
    good = promotable(base("fraud-risk-2026-04-10-01", env="production"))
    v["promotion-pass"] = {"input": good, "allow": True, "deny": [], "warn": []}
    same = copy.deepcopy(good)
    same["config"]["roles"]["risk_owner"]["members"].append("alice")
    same["approvals"][2] = approval(same, "risk_owner", "alice")
    v["promotion-one-person-two-roles"] = {
        "input": same, "allow": False, "deny": ["required_approvals"], "warn": []}
    changed = copy.deepcopy(good)
    changed["release"]["digest"] = "sha256:" + "9" * 64
    v["promotion-content-changed-after-approval"] = {
        "input": changed, "allow": False, "deny": ["digest_unchanged", "required_approvals"],
        "warn": ["digest_unchanged"]}
    trainer = copy.deepcopy(good)
    trainer["config"]["roles"]["ml_lead"]["members"].append(trainer["release"]["trained_by"])
    trainer["approvals"][0] = approval(trainer, "ml_lead", trainer["release"]["trained_by"])
    v["promotion-trainer-approval-does-not-count"] = {
        "input": trainer, "allow": False, "deny": ["required_approvals"],
        "warn": ["required_approvals"]}
    old = copy.deepcopy(clean)
    old["release"]["evaluation"]["completed_at_ns"] = to_ns(NOW) - 400 * DAY
    v["stale-evaluation"] = {"input": old, "allow": False, "deny": ["evaluation_freshness"],
                             "warn": ["rollback_target"]}
    slow = copy.deepcopy(clean)
    slow["release"]["evaluation"]["metrics"]["latency_p95_ms"] = 75
    v["latency-above-threshold"] = {"input": slow, "allow": False, "deny": ["latency"],
                                    "warn": ["rollback_target"]}
    upper = copy.deepcopy(clean)
    upper["release"]["artifacts"][0]["sha256"] = upper["release"]["artifacts"][0]["sha256"].upper()
    v["uppercase-digest"] = {"input": upper, "allow": False, "deny": ["required_artifacts"],
                             "warn": ["rollback_target"]}
    card = copy.deepcopy(clean)
    card["model_card"]["known_limitations"] = []
    v["model-card-missing-limitations"] = {
        "input": card, "allow": False, "deny": ["model_card_fields"], "warn": ["rollback_target"]}
    later_disable = copy.deepcopy(clean)
    later_disable["rollback_target"] = {"declared": True, "disable": True, "reason": "off"}
    v["later-release-may-not-disable"] = {
        "input": later_disable, "allow": False, "deny": ["rollback_target"], "warn": []}
    regressed = base("fraud-risk-2026-05-06-01")
    waiver = {"gate_id": "subgroup_regression", "model": "fraud-risk", "approver": "jane.smith",
              "reason": "slice re-labelled, RISK-12", "expires": "2026-06-30",
              "expires_ns": to_ns(datetime(2026, 7, 1, tzinfo=UTC))}
    v["waiver-applies"] = {"input": regressed, "data": {"waivers": [waiver]}, "allow": True,
                           "deny": [], "warn": ["rollback_target"],
                           "exceptions": ["subgroup_regression"]}
    expired = dict(waiver, expires="2026-05-01", expires_ns=to_ns(datetime(2026, 5, 2, tzinfo=UTC)))
    v["waiver-expired"] = {"input": regressed, "data": {"waivers": [expired]}, "allow": False,
                           "deny": ["subgroup_regression"],
                           "warn": ["rollback_target", "subgroup_regression"]}
    return v


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, vec in vectors().items():
        doc = {
            "description": name.replace("-", " "),
            "input": vec["input"],
            "data": vec.get("data", {"waivers": []}),
            "expected": {
                "allow": vec["allow"],
                "deny": sorted(vec["deny"]),
                "warn": sorted(vec["warn"]),
                "exceptions": sorted(vec.get("exceptions", [])),
            },
        }
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(vectors())} vectors to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
