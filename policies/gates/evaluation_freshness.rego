package governance.gates

import data.governance.lib

day_ns := 86400000000000

evaluation_max_age_days := lib.setting("evaluation_max_age_days", 90)

# Clock skew tolerated for an evaluation stamped "in the future" (ledger.clock_skew_seconds).
future_tolerance_ns := object.get(input.config, ["ledger", "clock_skew_seconds"], 300) * 1000000000

# METADATA
# title: Evaluation fresh enough
# description: >-
#   The evaluation was completed at most `gates.evaluation_max_age_days` days before now, and
#   not in the future. Times arrive normalised as integer nanoseconds.
# custom:
#   gate_id: evaluation_freshness
#   severity: medium
deny_evaluation_freshness contains v if {
	not is_number(lib.release_evaluation.completed_at_ns)
	v := lib.violation(
		"evaluation_freshness", "medium",
		"the evaluation has no completion time",
		"give the evaluation file an evaluated_at (RFC 3339, e.g. 2026-04-10T09:14:11Z) and create the release with `governance release new --from-eval FILE`, or fill model-card.yaml evaluated_at in that shape",
		"model_card", "$.evaluated_at",
	)
}

deny_evaluation_freshness contains v if {
	completed := lib.release_evaluation.completed_at_ns
	is_number(completed)
	age_days := (input.time.now_ns - completed) / day_ns
	age_days > evaluation_max_age_days
	v := lib.violation(
		"evaluation_freshness", "medium",
		sprintf("evaluation completed %v is %v days old, older than the maximum %v days", [lib.release_evaluation.completed_at, floor(age_days), evaluation_max_age_days]),
		"re-run the evaluation on current data and open a new release",
		"model_card", "$.evaluated_at",
	)
}

deny_evaluation_freshness contains v if {
	completed := lib.release_evaluation.completed_at_ns
	is_number(completed)
	completed - input.time.now_ns > future_tolerance_ns
	v := lib.violation(
		"evaluation_freshness", "medium",
		sprintf("evaluation completion time %v is in the future (now %v)", [lib.release_evaluation.completed_at, input.time.now]),
		"fix the evaluation timestamp",
		"model_card", "$.evaluated_at",
	)
}
