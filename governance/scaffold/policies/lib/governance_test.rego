package governance.lib_test

import data.governance.fixtures as fx
import data.governance.lib

test_sha256_lowercase_only if {
	lib.is_sha256(fx.sha)
	not lib.is_sha256("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567")
	not lib.is_sha256("abc")
	not lib.is_sha256(concat("", [fx.sha, "\n"]))
	not lib.is_sha256(concat("", ["\n", fx.sha]))
	not lib.is_sha256(null)
}

test_mode_follows_environment if {
	e := fx.production
	lib.mode == "promotion" with input.environment as e
	lib.mode == "readiness" with input.environment as null
}

test_model_override_replaces_setting if {
	c := fx.config
	m := fx.model
	lib.mapping_setting("metric_minimums") == {"auc": 0.92} with input.config as c with input.model as m
}

test_model_override_replaces_whole_mapping if {
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/model_overrides/fraud-risk/metric_minimums", "value": {"groundedness": 0.9}}])
	m := fx.model
	lib.mapping_setting("metric_minimums") == {"groundedness": 0.9} with input.config as c with input.model as m
}

test_other_model_uses_global_setting if {
	c := fx.config
	m := json.patch(fx.model, [{"op": "add", "path": "/name", "value": "churn"}])
	lib.mapping_setting("metric_minimums") == {"auc": 0.9} with input.config as c with input.model as m
}

test_fmt_rounds_numbers if {
	lib.fmt(0.030000000000000027) == "0.03"
	lib.fmt(0.8100000000000001) == "0.81"
	lib.fmt(62) == "62"
	lib.fmt(100) == "100"
	lib.fmt(0) == "0"
	lib.fmt(-0.05) == "-0.05"
	lib.fmt(null) == "null"
}

test_present_rejects_empty_values if {
	lib.present("x")
	not lib.present("")
	not lib.present([])
	not lib.present({})
	not lib.present(null)
}
