package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_digest_unchanged_passes if {
	r := fx.release
	l := fx.lifecycle
	a := fx.approvals
	found := gates.deny_digest_unchanged with input.release as r with input.lifecycle as l with input.approvals as a
	count(found) == 0
}

test_digest_changed_after_approval_denies if {
	r := json.patch(fx.release, [{"op": "add", "path": "/digest", "value": "sha256:9999999999999999999999999999999999999999999999999999999999999999"}])
	l := fx.lifecycle
	a := []
	found := gates.deny_digest_unchanged with input.release as r with input.lifecycle as l with input.approvals as a
	some v in found
	contains(v.msg, "release content changed after approval")
	contains(v.msg, fx.digest)
}

test_digest_not_yet_approved_passes if {
	r := fx.release
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/approved_digest", "value": null}])
	a := []
	found := gates.deny_digest_unchanged with input.release as r with input.lifecycle as l with input.approvals as a
	count(found) == 0
}

test_digest_stale_approval_warns if {
	r := fx.release
	l := fx.lifecycle
	a := [json.patch(fx.approval("ml_lead", "alice"), [{"op": "add", "path": "/digest", "value": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}])]
	warned := gates.warn_digest_unchanged with input.release as r with input.lifecycle as l with input.approvals as a
	some v in warned
	contains(v.msg, "approval by alice as ml_lead was given on digest sha256:0000")
}
