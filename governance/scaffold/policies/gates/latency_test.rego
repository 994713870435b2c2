package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

# `with` values are bound to locals first: regopy 1.5.2 mishandles `with input.x as data.ref`.
# json.patch paths are literals: a path passed in as a function argument breaks json.patch there.

with_metrics(metrics) := json.patch(fx.release, [{"op": "add", "path": "/evaluation/metrics", "value": metrics}])

test_latency_within_threshold_passes if {
	r := fx.release
	c := fx.config
	m := fx.model
	found := gates.deny_latency with input.release as r with input.config as c with input.model as m
	count(found) == 0
}

test_latency_above_threshold_denies if {
	r := with_metrics({"auc": 0.95, "latency_p95_ms": 62})
	c := fx.config
	m := fx.model
	found := gates.deny_latency with input.release as r with input.config as c with input.model as m
	some v in found
	v.gate_id == "latency"
	v.msg == "latency_p95_ms is 62 ms, above the maximum 50 ms"
	v.field == "$.metrics.latency_p95_ms"
}

test_latency_exactly_at_threshold_passes if {
	r := with_metrics({"auc": 0.95, "latency_p95_ms": 50})
	c := fx.config
	m := fx.model
	found := gates.deny_latency with input.release as r with input.config as c with input.model as m
	count(found) == 0
}

test_latency_missing_metric_denies if {
	r := with_metrics({"auc": 0.95})
	c := fx.config
	m := fx.model
	found := gates.deny_latency with input.release as r with input.config as c with input.model as m
	some v in found
	contains(v.msg, "missing")
}

test_latency_model_override_applies if {
	r := fx.release
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/model_overrides/fraud-risk/latency_p95_ms_max", "value": 30}])
	m := fx.model
	found := gates.deny_latency with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == "latency_p95_ms is 41 ms, above the maximum 30 ms"
}

test_latency_unconfigured_warns if {
	r := fx.release
	c := json.patch(fx.config, [{"op": "remove", "path": "/gates/latency_p95_ms_max"}])
	m := fx.model
	denied := gates.deny_latency with input.release as r with input.config as c with input.model as m
	warned := gates.warn_latency with input.release as r with input.config as c with input.model as m
	count(denied) == 0
	count(warned) == 1
}
