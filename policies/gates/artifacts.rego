package governance.gates

import data.governance.lib

required_artifacts := lib.setting("required_artifacts", ["artifact", "evaluation_report", "training_dataset"])

declared_artifact_names := {a.name | some a in input.release.artifacts}

local_artifacts := [a | some a in input.release.artifacts; a.local == true]

# METADATA
# title: Required artifacts present with digests
# description: >-
#   Every required artifact (model artifact, evaluation report, training dataset by default;
#   `gates.required_artifacts` in governance.yaml) is declared with a URI and a sha256 digest, and
#   every local evidence file exists and hashes to its declared digest.
# custom:
#   gate_id: required_artifacts
#   severity: critical
deny_required_artifacts contains v if {
	some name in required_artifacts
	not name in declared_artifact_names
	v := lib.violation(
		"required_artifacts", "critical",
		sprintf("required artifact %v is not declared in the release record", [name]),
		sprintf("add %v with its uri and sha256 to release.yaml", [name]),
		"release", sprintf("$.%v", [name]),
	)
}

deny_required_artifacts contains v if {
	some a in input.release.artifacts
	not lib.is_sha256(object.get(a, "sha256", null))
	v := lib.violation(
		"required_artifacts", "critical",
		sprintf("artifact %v has no valid sha256 digest (got %v, expected 64 lowercase hex characters)", [a.name, object.get(a, "sha256", null)]),
		"record the artifact's sha256 (`sha256sum FILE`) in the release record",
		"release", object.get(a, "field", "$"),
	)
}

deny_required_artifacts contains v if {
	some a in local_artifacts
	a.present == false
	v := lib.violation(
		"required_artifacts", "critical",
		sprintf("evidence file %v for %v is listed but missing from the release directory", [a.uri, a.name]),
		"add the file to the release directory or fix the path",
		"release", object.get(a, "field", "$"),
	)
}

deny_required_artifacts contains v if {
	some a in local_artifacts
	a.present == true
	lib.is_sha256(a.sha256)
	a.actual_sha256 != a.sha256
	v := lib.violation(
		"required_artifacts", "critical",
		sprintf("evidence file %v does not match its digest (got %v, expected %v)", [a.uri, a.actual_sha256, a.sha256]),
		"restore the evidence file that was evaluated, or open a new release for the new file",
		"release", object.get(a, "field", "$"),
	)
}
