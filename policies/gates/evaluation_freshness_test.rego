package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_freshness_recent_passes if {
	r := fx.release
	t := fx.clock
	c := fx.config
	m := fx.model
	found := gates.deny_evaluation_freshness with input.release as r with input.time as t with input.config as c with input.model as m
	count(found) == 0
}

test_freshness_too_old_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/completed_at_ns", "value": fx.now_ns - (120 * fx.day_ns)}])
	t := fx.clock
	c := fx.config
	m := fx.model
	found := gates.deny_evaluation_freshness with input.release as r with input.time as t with input.config as c with input.model as m
	some v in found
	contains(v.msg, "is 120 days old, older than the maximum 90 days")
}

test_freshness_override_per_model if {
	r := fx.release # 8 days old
	t := fx.clock
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/model_overrides/fraud-risk/evaluation_max_age_days", "value": 7}])
	m := fx.model
	found := gates.deny_evaluation_freshness with input.release as r with input.time as t with input.config as c with input.model as m
	count(found) == 1
}

test_freshness_missing_time_denies if {
	r := json.patch(fx.release, [{"op": "remove", "path": "/evaluation/completed_at_ns"}])
	t := fx.clock
	c := fx.config
	m := fx.model
	found := gates.deny_evaluation_freshness with input.release as r with input.time as t with input.config as c with input.model as m
	some v in found
	v.msg == "the evaluation has no completion time"
}

test_freshness_future_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/completed_at_ns", "value": fx.now_ns + fx.day_ns}])
	t := fx.clock
	c := fx.config
	m := fx.model
	found := gates.deny_evaluation_freshness with input.release as r with input.time as t with input.config as c with input.model as m
	some v in found
	contains(v.msg, "is in the future")
}
