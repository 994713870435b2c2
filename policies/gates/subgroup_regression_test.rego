package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_subgroup_within_tolerance_passes if {
	# region=eu: 0.93 -> 0.92 is a loss of 0.01, inside the tolerance 0.02
	r := fx.release
	b := fx.baseline
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	count(found) == 0
}

test_subgroup_regression_names_slice_values_delta_and_baseline if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/subgroups/region=eu/auc", "value": 0.88}])
	b := fx.baseline
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	count(found) == 1
	some v in found
	v.msg == "subgroup region=eu: auc regressed from 0.93 (baseline 2026-03-01-01) to 0.88, delta -0.05 exceeds tolerance 0.02"
	v.field == "$.subgroups.region=eu.auc"
}

test_subgroup_tolerance_configurable if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/subgroups/region=eu/auc", "value": 0.88}])
	b := fx.baseline
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/subgroup_regression_tolerance", "value": 0.1}])
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	count(found) == 0
}

test_subgroup_lower_is_better_latency if {
	b := json.patch(fx.baseline, [{"op": "add", "path": "/subgroups/region=eu", "value": {"latency_p95_ms": 30}}])
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/subgroups/region=eu", "value": {"latency_p95_ms": 35}}])
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	some v in found
	contains(v.msg, "latency_p95_ms regressed from 30")
}

test_subgroup_improvement_of_lower_is_better_passes if {
	b := json.patch(fx.baseline, [{"op": "add", "path": "/subgroups/region=eu", "value": {"latency_p95_ms": 30}}])
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/subgroups/region=eu", "value": {"latency_p95_ms": 20}}])
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	count(found) == 0
}

test_subgroup_missing_slice_warns if {
	r := json.patch(fx.release, [{"op": "remove", "path": "/evaluation/subgroups/region=us"}])
	b := fx.baseline
	c := fx.config
	m := fx.model
	warned := gates.warn_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	some v in warned
	v.msg == "subgroup region=us: auc was reported by baseline 2026-03-01-01 but not by this release"
}

test_subgroup_unknown_baseline_denies if {
	r := fx.release
	b := {"release_id": "2020-01-01-01", "found": false}
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	some v in found
	contains(v.msg, "baseline release 2020-01-01-01 is not registered")
}

test_subgroup_no_baseline_passes if {
	r := fx.release
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as null with input.config as c with input.model as m
	count(found) == 0
}

test_subgroup_baseline_of_another_model_denies if {
	r := fx.release
	b := object.union(fx.baseline, {"model_name": "churn"})
	c := fx.config
	m := fx.model
	found := gates.deny_subgroup_regression with input.release as r with input.baseline as b with input.config as c with input.model as m
	some v in found
	v.msg == "baseline release 2026-03-01-01 belongs to model churn, not fraud-risk"
}
