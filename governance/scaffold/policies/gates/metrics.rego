package governance.gates

import data.governance.lib

metric_minimums := lib.mapping_setting("metric_minimums")

metric_maximums := lib.mapping_setting("metric_maximums")

threshold_source(kind) := concat("", [" (model override for ", lib.model_name, ")"]) if {
	_ := lib.override_gates[kind]
}

threshold_source(kind) := "" if {
	not lib.override_gates[kind]
}

# METADATA
# title: Metric thresholds
# description: >-
#   Every metric named in `gates.metric_minimums` is reported and at least its minimum, every
#   metric in `gates.metric_maximums` at most its maximum; `gates.model_overrides.<model>`
#   replaces individual thresholds for one model.
# custom:
#   gate_id: metric_thresholds
#   severity: high
deny_metric_thresholds contains v if {
	some name, _ in object.union(metric_minimums, metric_maximums)
	not is_number(lib.release_metrics[name])
	v := lib.violation(
		"metric_thresholds", "high",
		sprintf("metric %v is missing from the evaluation", [name]),
		sprintf("report %v in the evaluation metrics", [name]),
		"model_card", concat("", ["$.metrics.", name]),
	)
}

deny_metric_thresholds contains v if {
	some name, minimum in metric_minimums
	got := lib.release_metrics[name]
	is_number(got)
	got < minimum
	v := lib.violation(
		"metric_thresholds", "high",
		concat("", [name, " is ", lib.fmt(got), ", below the minimum ", lib.fmt(minimum), threshold_source("metric_minimums")]),
		sprintf("improve %v or change the threshold through a reviewed governance.yaml change", [name]),
		"model_card", concat("", ["$.metrics.", name]),
	)
}

deny_metric_thresholds contains v if {
	some name, maximum in metric_maximums
	got := lib.release_metrics[name]
	is_number(got)
	got > maximum
	v := lib.violation(
		"metric_thresholds", "high",
		concat("", [name, " is ", lib.fmt(got), ", above the maximum ", lib.fmt(maximum), threshold_source("metric_maximums")]),
		sprintf("improve %v or change the threshold through a reviewed governance.yaml change", [name]),
		"model_card", concat("", ["$.metrics.", name]),
	)
}
