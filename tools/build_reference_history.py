"""Builds the reference governed history in releases/ (used by the demo, docs and tests).

The records are generated, not typed: evaluation evidence is written first, its sha256 is
computed, and the release record and model card are emitted from the same facts. Re-running
with --force rewrites the same bytes (the output is deterministic).

    python tools/build_reference_history.py [--root DIR] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from governance.authoring import dump_document

FRAUD_CARD: dict[str, Any] = {
    "purpose": "Scores card transactions for fraud risk so analysts review the riskiest first",
    "owner": "risk-platform",
    "escalation_path": ["platform-oncall", "bob", "jane.smith"],
    "intended_use": ["transaction review prioritization"],
    "not_for_use": ["automatic account closure", "credit decisions"],
    "training_data_scope": "Card-not-present and card-present transactions, EU and UK issuers",
    "training_data_exclusions": ["transactions under active chargeback dispute",
                                 "test-mode merchant traffic"],
}
FRAUD_LIMITATION = "weaker performance on first-time international merchants"


def fraud(version: str, *, features: str, config: str, commit: str, window: tuple[str, str],
          auc: float, prec: float, latency: float, intl_auc: float, domestic_auc: float,
          new_merchant_auc: float, baseline: str | None, limitations: list[str],
          trained_by: str = "dana", dataset: str | None = None) -> dict[str, Any]:
    return {
        "model": "fraud-risk",
        "version": version,
        "title": f"Fraud risk scoring {version}",
        "git_commit": commit,
        "dataset": dataset or f"s3://ml-datasets/fraud/{window[1][:7]}",
        "features": features,
        "config": config,
        "trained_by": trained_by,
        "baseline": baseline,
        "window": window,
        "eval": {
            "metrics": {"auc": auc, "precision_at_review_queue": prec,
                        "latency_p95_ms": latency},
            "subgroups": {
                "first_time_international_merchants": {"auc": intl_auc},
                "domestic_merchants": {"auc": domestic_auc},
                "new_merchants_under_30_days": {"auc": new_merchant_auc},
            },
            "test_conditions": {
                "holdout": f"out-of-time holdout, 4 weeks after {window[1]}",
                "rows": 1_850_000,
                "hardware": "c6i.2xlarge, batch 1, model server warm",
                "latency_method": "p95 over 100k replayed requests",
            },
            "evaluated_at": f"{version}T06:30:00Z",
        },
        "card": FRAUD_CARD,
        "limitations": limitations,
    }


SUPPORT_CARD: dict[str, Any] = {
    "purpose": "Drafts answers for customer-support agents from the help-centre knowledge base",
    "owner": "alice",
    "escalation_path": ["platform-oncall", "alice", "jane.smith"],
    "intended_use": ["agent-assist answer drafting, reviewed by a human agent"],
    "not_for_use": ["sending answers to customers without agent review",
                    "legal, medical or credit advice"],
    "training_data_scope": "Help-centre articles and resolved tickets (redacted), EN/DE/ES",
    "training_data_exclusions": ["tickets containing payment card numbers",
                                 "conversations of minors"],
}


def support(version: str, *, prompt: str, policy: str, commit: str, grounded: float,
            refusal: float, latency: float, de: float, es: float, baseline: str | None,
            limitations: list[str]) -> dict[str, Any]:
    return {
        "model": "support-assistant",
        "version": version,
        "title": f"Support assistant {version}",
        "git_commit": commit,
        "dataset": f"s3://ml-datasets/support-kb/{version}",
        "features": "support-retrieval-v2",
        "config": "support-routing-v5",
        "prompt": prompt,
        "policy": policy,
        "trained_by": "dana",
        "baseline": baseline,
        "window": ("2025-06-01", "2026-02-28"),
        "eval": {
            "metrics": {"groundedness": grounded, "refusal_accuracy": refusal,
                        "toxicity_rate": 0.001, "latency_p95_ms": latency},
            "subgroups": {"lang_en": {"groundedness": grounded + 0.01},
                          "lang_de": {"groundedness": de},
                          "lang_es": {"groundedness": es}},
            "test_conditions": {"suite": "support-eval-2026.1 (1,200 graded conversations)",
                                "grader": "two human raters, disagreements adjudicated",
                                "model_endpoint": "self-hosted, 4x A10G"},
            "evaluated_at": f"{version}T10:00:00Z",
        },
        "card": SUPPORT_CARD,
        "limitations": limitations,
    }


HISTORY: list[dict[str, Any]] = [
    fraud("2026-02-14", features="fraud-features-v2", config="risk-thresholds-v3",
          commit="51c0e7a94b2d", window=("2025-08-01", "2026-01-31"), auc=0.925, prec=0.78,
          latency=38, intl_auc=0.85, domestic_auc=0.94, new_merchant_auc=0.88, baseline=None,
          limitations=[FRAUD_LIMITATION, "not evaluated on marketplace payouts"]),
    fraud("2026-03-28", features="fraud-features-v3", config="risk-thresholds-v4",
          commit="7d2b1e04c3aa", window=("2025-09-15", "2026-03-14"), auc=0.93, prec=0.80,
          latency=40, intl_auc=0.865, domestic_auc=0.945, new_merchant_auc=0.89,
          baseline="fraud-risk-2026-02-14-01", limitations=[FRAUD_LIMITATION]),
    # The seed's release: auc 0.94, precision_at_review_queue 0.81, latency_p95_ms 42.
    fraud("2026-04-10", features="fraud-features-v3", config="risk-thresholds-v4",
          commit="9af31d2", window=("2025-10-01", "2026-03-31"), auc=0.94, prec=0.81,
          latency=42, intl_auc=0.86, domestic_auc=0.95, new_merchant_auc=0.90,
          baseline="fraud-risk-2026-03-28-01", limitations=[FRAUD_LIMITATION],
          dataset="s3://ml-datasets/fraud/2026-04-07"),
    # A candidate that must not ship: better overall, but the first-time international
    # merchant slice regresses by 0.05 AUC against the 2026-04-10 baseline.
    fraud("2026-05-06", features="fraud-features-v4", config="risk-thresholds-v4",
          commit="c41f09be7a31", window=("2025-11-01", "2026-04-30"), auc=0.945, prec=0.82,
          latency=41, intl_auc=0.81, domestic_auc=0.955, new_merchant_auc=0.905,
          baseline="fraud-risk-2026-04-10-01",
          limitations=[FRAUD_LIMITATION, "new feature set untested on marketplace payouts"]),
    support("2026-03-02", prompt="support-prompt-v7", policy="safety-policy-v3",
            commit="e0a4c7d21f56", grounded=0.93, refusal=0.97, latency=1450, de=0.91, es=0.92,
            baseline=None, limitations=["answers about promotions older than 90 days may cite "
                                        "retired terms"]),
    support("2026-04-20", prompt="support-prompt-v8", policy="safety-policy-v4",
            commit="3b9d5f0a8c12", grounded=0.95, refusal=0.98, latency=1520, de=0.93,
            es=0.935, baseline="support-assistant-2026-03-02-01",
            limitations=["answers about promotions older than 90 days may cite retired terms",
                         "German answers are longer than agents prefer"]),
]

MODELS: dict[str, dict[str, Any]] = {
    "fraud-risk": {"title": "Fraud risk scoring", "owner": "risk-platform",
                   "description": FRAUD_CARD["purpose"], "risk_tier": "high",
                   "system_type": "classifier",
                   "escalation_path": FRAUD_CARD["escalation_path"],
                   "intended_use": FRAUD_CARD["intended_use"],
                   "not_for_use": FRAUD_CARD["not_for_use"]},
    "support-assistant": {"title": "Customer-support answer assistant (LLM)", "owner": "alice",
                          "description": SUPPORT_CARD["purpose"], "risk_tier": "medium",
                          "system_type": "llm",
                          "escalation_path": SUPPORT_CARD["escalation_path"],
                          "intended_use": SUPPORT_CARD["intended_use"],
                          "not_for_use": SUPPORT_CARD["not_for_use"]},
}


def _fake_digest(*parts: str) -> str:
    """Stand-in digests of remote objects this repository cannot hold (artifacts, datasets)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def write(root: Path, force: bool) -> None:
    releases = root / "releases"
    if force and releases.exists():
        shutil.rmtree(releases)
    first_of: dict[str, str] = {}
    for name, model in MODELS.items():
        path = releases / name / "model.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"name": name, "title": model["title"], "description": model["description"],
                "owner": model["owner"], "escalation_path": model["escalation_path"],
                "risk_tier": model["risk_tier"], "system_type": model["system_type"],
                "intended_use": model["intended_use"], "not_for_use": model["not_for_use"]}
        path.write_text(dump_document("Model", body), encoding="utf-8")
    for spec in HISTORY:
        model, version = spec["model"], spec["version"]
        release_id = f"{model}-{version}-01"
        directory = releases / model / release_id
        (directory / "evidence").mkdir(parents=True, exist_ok=True)
        eval_bytes = (json.dumps(spec["eval"], indent=2, sort_keys=True) + "\n").encode()
        (directory / "evidence" / "eval.json").write_bytes(eval_bytes)
        registry = f"s3://model-registry/{model}/{version}"
        record: dict[str, Any] = {
            "release_id": release_id, "model_name": model, "model_version": version,
            "title": spec["title"], "git_commit": spec["git_commit"],
            "training_dataset": {"uri": spec["dataset"],
                                 "sha256": _fake_digest("dataset", spec["dataset"])},
            "feature_schema_version": spec["features"],
            "artifact": {"uri": f"{registry}/model.joblib" if model == "fraud-risk"
                         else f"{registry}/adapter.safetensors",
                         "sha256": _fake_digest("artifact", model, version)},
            "evaluation_report": {"uri": f"{registry}/eval.json",
                                  "sha256": hashlib.sha256(eval_bytes).hexdigest(),
                                  "path": "evidence/eval.json",
                                  "media_type": "application/json"},
            "config_version": spec["config"],
        }
        if "prompt" in spec:
            record["prompt_version"] = spec["prompt"]
            record["policy_version"] = spec["policy"]
        record["trained_by"] = spec["trained_by"]
        if spec["baseline"]:
            record["baseline"] = spec["baseline"]
            record["rollback_target"] = {"release_id": spec["baseline"]}
        else:
            first_of[model] = release_id
            record["rollback_target"] = {
                "disable": True,
                "reason": f"first release of {model}: rolling back switches scoring off and "
                "routes all traffic to the manual review queue",
            }
        record["created_at"] = f"{version}T08:00:00Z"
        card: dict[str, Any] = {"model_name": model, "version": version,
                                "release_id": release_id}
        card.update(spec["card"])
        card["training_data_window"] = {"start": spec["window"][0], "end": spec["window"][1]}
        card["metrics"] = spec["eval"]["metrics"]
        card["test_conditions"] = spec["eval"]["test_conditions"]
        card["subgroups"] = spec["eval"]["subgroups"]
        card["evaluated_at"] = spec["eval"]["evaluated_at"]
        card["known_limitations"] = spec["limitations"]
        card["artifact_uri"] = record["artifact"]["uri"]
        (directory / "release.yaml").write_text(dump_document("Release", record), "utf-8")
        (directory / "model-card.yaml").write_text(dump_document("ModelCard", card), "utf-8")
        print(f"wrote {directory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--force", action="store_true", help="rewrite releases/ from scratch")
    args = parser.parse_args()
    write(args.root, args.force)


if __name__ == "__main__":
    main()
