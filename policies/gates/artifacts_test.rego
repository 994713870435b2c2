package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_artifacts_complete_passes if {
	r := fx.release
	c := fx.config
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	count(found) == 0
}

test_artifacts_missing_required_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/artifacts", "value": [a | some a in fx.release.artifacts; a.name != "training_dataset"]}])
	c := fx.config
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == "required artifact training_dataset is not declared in the release record"
	v.field == "$.training_dataset"
}

test_artifacts_uppercase_digest_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/artifacts/0/sha256", "value": "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567"}])
	c := fx.config
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	some v in found
	contains(v.msg, "artifact artifact has no valid sha256 digest")
	contains(v.msg, "64 lowercase hex")
}

test_artifacts_local_evidence_missing_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/artifacts/1/present", "value": false}])
	c := fx.config
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	some v in found
	contains(v.msg, "is listed but missing")
}

test_artifacts_local_digest_mismatch_denies if {
	other := "3333333333333333333333333333333333333333333333333333333333333333"
	r := json.patch(fx.release, [{"op": "add", "path": "/artifacts/1/actual_sha256", "value": other}])
	c := fx.config
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	some v in found
	v.msg == sprintf("evidence file evidence/eval.json does not match its digest (got %v, expected %v)", [other, fx.sha])
}

test_artifacts_required_list_configurable if {
	r := json.patch(fx.release, [{"op": "add", "path": "/artifacts", "value": [a | some a in fx.release.artifacts; a.name == "artifact"]}])
	c := json.patch(fx.config, [{"op": "add", "path": "/gates/required_artifacts", "value": ["artifact"]}])
	m := fx.model
	found := gates.deny_required_artifacts with input.release as r with input.config as c with input.model as m
	count(found) == 0
}
