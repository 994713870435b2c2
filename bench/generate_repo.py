"""Generates a synthetic governed repository: N models x M releases with evidence.

    python bench/generate_repo.py OUT_DIR --models 1000 --releases-per-model 10

Every release is complete and valid (record, model card, evidence/eval.json with its sha256),
chained by baseline and rollback target, so benchmarks measure the honest path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from governance.authoring import dump_document
from governance.scaffolding import InitOptions, init_repo


def generate(out: Path, models: int, per_model: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    init_repo(out, InitOptions(git=False))
    count = 0
    for m in range(models):
        name = f"model-{m:04d}"
        mdir = out / "releases" / name
        mdir.mkdir(parents=True)
        (mdir / "model.yaml").write_text(dump_document("Model", {
            "name": name, "owner": "risk-platform", "risk_tier": rng.choice(["low", "medium",
                                                                              "high"]),
            "escalation_path": ["platform-oncall"], "intended_use": ["benchmarking"],
            "not_for_use": ["anything real"]}), "utf-8")
        previous = None
        for r in range(per_model):
            version = f"2026-{1 + r // 28:02d}-{1 + r % 28:02d}"
            rid = f"{name}-{version}-01"
            d = mdir / rid
            (d / "evidence").mkdir(parents=True)
            auc = round(0.85 + rng.random() * 0.1, 4)
            ev = {"metrics": {"auc": auc, "latency_p95_ms": rng.randint(20, 60)},
                  "subgroups": {"slice_a": {"auc": round(auc - 0.02, 4)},
                                "slice_b": {"auc": round(auc - 0.01, 4)}},
                  "test_conditions": {"holdout": "4 weeks"},
                  "evaluated_at": f"{version}T06:00:00Z"}
            ev_bytes = (json.dumps(ev, sort_keys=True, indent=2) + "\n").encode()
            (d / "evidence" / "eval.json").write_bytes(ev_bytes)
            digest = lambda *p: hashlib.sha256("|".join(p).encode()).hexdigest()  # noqa: E731
            record = {
                "release_id": rid, "model_name": name, "model_version": version,
                "git_commit": digest("c", rid)[:12],
                "training_dataset": {"uri": f"s3://data/{name}/{version}",
                                     "sha256": digest("d", rid)},
                "feature_schema_version": "features-v1",
                "artifact": {"uri": f"s3://registry/{name}/{version}/model.bin",
                             "sha256": digest("a", rid)},
                "evaluation_report": {"uri": "evidence/eval.json",
                                      "sha256": hashlib.sha256(ev_bytes).hexdigest(),
                                      "path": "evidence/eval.json"},
                "config_version": "thresholds-v1", "trained_by": "dana",
            }
            if previous:
                record["baseline"] = previous
                record["rollback_target"] = {"release_id": previous}
            else:
                record["rollback_target"] = {"disable": True, "reason": "first release"}
            record["created_at"] = f"{version}T08:00:00Z"
            (d / "release.yaml").write_text(dump_document("Release", record), "utf-8")
            card = {"model_name": name, "version": version, "release_id": rid,
                    "purpose": "benchmark", "owner": "risk-platform",
                    "escalation_path": ["platform-oncall"],
                    "intended_use": ["benchmarking"], "not_for_use": ["anything real"],
                    "training_data_scope": "synthetic transactions",
                    "training_data_exclusions": ["none: synthetic"],
                    "training_data_window": {"start": "2025-01-01", "end": "2025-12-31"},
                    "metrics": ev["metrics"], "subgroups": ev["subgroups"],
                    "test_conditions": ev["test_conditions"], "evaluated_at": ev["evaluated_at"],
                    "known_limitations": ["synthetic"]}
            (d / "model-card.yaml").write_text(dump_document("ModelCard", card), "utf-8")
            previous = rid
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description="generate a synthetic governed repository")
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--releases-per-model", type=int, default=10)
    args = parser.parse_args()
    n = generate(args.out, args.models, args.releases_per_model)
    print(f"generated {n} releases in {args.out}")


if __name__ == "__main__":
    main()
