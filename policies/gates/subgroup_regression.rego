package governance.gates

import data.governance.lib

regression_tolerance := lib.setting("subgroup_regression_tolerance", 0.02)

# Metrics where a larger value is worse (latency, error rates); every other metric is
# "higher is better". `gates.lower_is_better` adds names.
lower_is_better contains name if {
	some name in lib.setting("lower_is_better", [])
}

lower_is_better contains name if {
	some slice, metrics in input.baseline.subgroups
	some name, _ in metrics
	endswith(name, "_ms")
}

# A positive loss is a regression, whichever direction the metric improves in.
loss(name, before, after) := after - before if lower_is_better[name]

loss(name, before, after) := before - after if not lower_is_better[name]

# METADATA
# title: Subgroup regression against the baseline
# description: >-
#   No subgroup (slice) metric of this release is worse than the baseline release's value by
#   more than `gates.subgroup_regression_tolerance` (absolute). The message names the subgroup,
#   the metric, both values, the delta and the baseline release.
# custom:
#   gate_id: subgroup_regression
#   severity: high
deny_subgroup_regression contains v if {
	input.baseline.found == true
	some slice, metrics in input.baseline.subgroups
	some name, before in metrics
	after := lib.release_subgroups[slice][name]
	is_number(before)
	is_number(after)
	loss(name, before, after) > regression_tolerance
	v := lib.violation(
		"subgroup_regression", "high",
		sprintf(
			"subgroup %v: %v regressed from %v (baseline %v) to %v, delta %v exceeds tolerance %v",
			[slice, name, lib.fmt(before), input.baseline.release_id, lib.fmt(after), lib.fmt(after - before), lib.fmt(regression_tolerance)],
		),
		sprintf("fix the %v regression on %v, or record a waiver with an approver and expiry", [name, slice]),
		"model_card", concat("", ["$.subgroups.", slice, ".", name]),
	)
}

deny_subgroup_regression contains v if {
	is_string(input.baseline.release_id)
	input.baseline.found == false
	v := lib.violation(
		"subgroup_regression", "high",
		sprintf("baseline release %v is not registered, so regressions cannot be checked", [input.baseline.release_id]),
		"name an existing earlier release of this model as baseline",
		"release", "$.baseline",
	)
}

deny_subgroup_regression contains v if {
	input.baseline.found == true
	is_string(input.baseline.model_name)
	input.baseline.model_name != input.release.model_name
	v := lib.violation(
		"subgroup_regression", "high",
		concat("", ["baseline release ", input.baseline.release_id, " belongs to model ", input.baseline.model_name, ", not ", input.release.model_name]),
		"compare against an earlier release of the same model",
		"release", "$.baseline",
	)
}

# METADATA
# title: Subgroup coverage against the baseline
# description: Warns when a subgroup metric the baseline reported is missing from this release.
# custom:
#   gate_id: subgroup_regression
#   severity: medium
warn_subgroup_regression contains v if {
	input.baseline.found == true
	some slice, metrics in input.baseline.subgroups
	some name, _ in metrics
	not is_number(lib.release_subgroups[slice][name])
	v := lib.violation(
		"subgroup_regression", "medium",
		sprintf("subgroup %v: %v was reported by baseline %v but not by this release", [slice, name, input.baseline.release_id]),
		"evaluate the same subgroups as the baseline",
		"model_card", "$.subgroups",
	)
}
