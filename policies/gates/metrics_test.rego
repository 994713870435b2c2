package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_metrics_above_minimum_passes if {
	r := fx.release
	c := fx.config
	m := fx.model
	found := gates.deny_metric_thresholds with input.release as r with input.config as c with input.model as m
	count(found) == 0
}

test_metrics_model_override_raises_minimum if {
	# 0.91 passes the global minimum 0.90 but not fraud-risk's override 0.92
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/metrics/auc", "value": 0.91}])
	c := fx.config
	m := fx.model
	found := gates.deny_metric_thresholds with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == "auc is 0.91, below the minimum 0.92 (model override for fraud-risk)"
}

test_metrics_global_minimum_for_other_model if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/metrics/auc", "value": 0.91}])
	c := fx.config
	m := json.patch(fx.model, [{"op": "add", "path": "/name", "value": "churn"}])
	found := gates.deny_metric_thresholds with input.release as r with input.config as c with input.model as m
	count(found) == 0
}

test_metrics_missing_metric_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/metrics", "value": {"latency_p95_ms": 20}}])
	c := fx.config
	m := fx.model
	found := gates.deny_metric_thresholds with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == "metric auc is missing from the evaluation"
}

test_metrics_maximum_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/evaluation/metrics/false_positive_rate", "value": 0.2}])
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/metric_maximums", "value": {"false_positive_rate": 0.1}}])
	m := fx.model
	found := gates.deny_metric_thresholds with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == "false_positive_rate is 0.2, above the maximum 0.1"
}
