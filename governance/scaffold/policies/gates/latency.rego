package governance.gates

import data.governance.lib

default latency_metric := "latency_p95_ms"

latency_metric := lib.configured("latency_metric")

latency_max := lib.setting("latency_p95_ms_max", null)

# METADATA
# title: Latency threshold
# description: >-
#   The evaluated p95 latency (metric `latency_p95_ms`, or `gates.latency_metric`) is at most
#   `gates.latency_p95_ms_max` milliseconds (per-model override allowed).
# custom:
#   gate_id: latency
#   severity: high
deny_latency contains v if {
	is_number(latency_max)
	not is_number(lib.release_metrics[latency_metric])
	v := lib.violation(
		"latency", "high",
		sprintf("latency metric %v is missing from the evaluation (threshold %v ms)", [latency_metric, latency_max]),
		sprintf("report %v in the evaluation metrics", [latency_metric]),
		"model_card", concat("", ["$.metrics.", latency_metric]),
	)
}

deny_latency contains v if {
	is_number(latency_max)
	got := lib.release_metrics[latency_metric]
	is_number(got)
	got > latency_max
	v := lib.violation(
		"latency", "high",
		sprintf("%v is %v ms, above the maximum %v ms", [latency_metric, lib.fmt(got), lib.fmt(latency_max)]),
		"reduce serving latency or raise gates.latency_p95_ms_max with a reviewed config change",
		"model_card", concat("", ["$.metrics.", latency_metric]),
	)
}

# METADATA
# title: Latency threshold configured
# description: Warns when governance.yaml sets no latency threshold, so the latency gate is inert.
# custom:
#   gate_id: latency
#   severity: low
warn_latency contains v if {
	not is_number(latency_max)
	v := lib.violation(
		"latency", "low",
		"no latency threshold is configured (gates.latency_p95_ms_max), latency is not gated",
		"set gates.latency_p95_ms_max in governance.yaml",
		"config", "$.gates.latency_p95_ms_max",
	)
}
