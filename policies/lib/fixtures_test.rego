# Shared test inputs for the gate tests (no test rules here).
# Tests replace input fields one by one (`with input.release as ...`): replacing the whole
# document (`with input as {...}`) crashes regopy 1.5.2, and `governance policy lint` rejects it.
package governance.fixtures

now_ns := 1780000000000000000 # 2026-05-28T20:26:40+00:00

day_ns := 86400000000000

digest := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

sha := "2222222222222222222222222222222222222222222222222222222222222222"

clock := {"now_ns": now_ns, "now": "2026-05-28T20:26:40+00:00"}

model := {"name": "fraud-risk", "owner": "alice", "risk_tier": "medium", "releases_before": 1}

config := {
	"people": ["alice", "bob", "carol", "dave", "jane.smith"],
	"roles": {
		"ml_lead": {"members": ["alice", "dave"], "teams": []},
		"platform_owner": {"members": ["bob"], "teams": []},
		"risk_owner": {"members": ["jane.smith", "carol"], "teams": []},
	},
	"environments": {
		"staging": {"required_approvals": ["ml_lead"]},
		"production": {"after": "staging", "required_approvals": ["ml_lead", "platform_owner", "risk_owner"]},
	},
	"risk_tiers": {"low": {"approvals_per_role": 1}, "medium": {"approvals_per_role": 1}, "high": {"approvals_per_role": 2}},
	"gates": {
		"latency_p95_ms_max": 50,
		"metric_minimums": {"auc": 0.90},
		"subgroup_regression_tolerance": 0.02,
		"evaluation_max_age_days": 90,
		"model_overrides": {"fraud-risk": {"metric_minimums": {"auc": 0.92}}},
	},
}

release := {
	"release_id": "2026-05-01-01",
	"model_name": "fraud-risk",
	"model_version": "1.4.0",
	"digest": digest,
	"trained_by": "trainer",
	"artifacts": [
		{"name": "artifact", "uri": "s3://models/fraud-risk/1.4.0/model.onnx", "sha256": sha, "local": false, "field": "$.artifact"},
		{"name": "evaluation_report", "uri": "evidence/eval.json", "sha256": sha, "local": true, "present": true, "actual_sha256": sha, "field": "$.evaluation_report"},
		{"name": "training_dataset", "uri": "s3://data/fraud/2026-04", "sha256": sha, "local": false, "field": "$.training_dataset"},
	],
	"evaluation": {
		"metrics": {"auc": 0.93, "latency_p95_ms": 41},
		"subgroups": {"region=eu": {"auc": 0.92}, "region=us": {"auc": 0.94}},
		"completed_at": "2026-05-20T10:00:00+00:00",
		"completed_at_ns": now_ns - (8 * day_ns),
	},
}

model_card := {
	"release_id": "2026-05-01-01",
	"purpose": "Score card transactions for fraud",
	"intended_use": ["transaction scoring"],
	"not_for_use": ["credit decisions"],
	"owner": "alice",
	"escalation_path": ["fraud-oncall"],
	"training_data_scope": "card transactions",
	"training_data_window": {"start": "2025-01-01", "end": "2026-03-31"},
	"training_data_exclusions": ["test merchants"],
	"metrics": {"auc": 0.93},
	"test_conditions": {"holdout": "2026-04"},
	"known_limitations": ["new merchant categories"],
}

baseline := {
	"release_id": "2026-03-01-01",
	"found": true,
	"metrics": {"auc": 0.93},
	"subgroups": {"region=eu": {"auc": 0.93}, "region=us": {"auc": 0.94}},
}

lifecycle := {
	"state": "approved",
	"approved_digest": digest,
	"was_live_in": ["staging"],
	"live_in": ["staging"],
	"obligations": [],
}

rollback_target := {
	"declared": true,
	"disable": false,
	"release_id": "2026-03-01-01",
	"registered": true,
	"same_model": true,
	"earlier": true,
	"lifecycle_state": "production",
	"approved": true,
}

# concat() re-creates the strings: regopy 1.5.2 formats a string that arrived as a function
# argument with its quotes still on (sprintf %v), which would garble the gate messages.
approval(role, actor) := {
	"role": concat("", [role]),
	"actor_id": concat("", [actor]),
	"source": "git",
	"state": "approved",
	"digest": digest,
	"commit_id": "3333333333333333333333333333333333333333",
	"submitted_at": "2026-05-21T10:00:00+00:00",
	"submitted_at_ns": now_ns - (7 * day_ns),
}

approvals := [
	approval("ml_lead", "alice"),
	approval("platform_owner", "bob"),
	approval("risk_owner", "jane.smith"),
]

production := {"name": "production", "after": "staging", "required_approvals": ["ml_lead", "platform_owner", "risk_owner"]}

checks := [{"name": "ci/tests", "conclusion": "success"}]

ids(violations) := {v.gate_id | some v in violations}
