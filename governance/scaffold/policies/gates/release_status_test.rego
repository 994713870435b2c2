package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

status_denials(lifecycle, checks, env) := found if {
	found := status_denials_with(lifecycle, checks, env, [])
}

status_denials_with(lifecycle, checks, env, approvals) := found if {
	r := fx.release
	c := fx.config
	m := fx.model
	ctx := {"excluded_actors": []}
	found := gates.deny_release_status with input.release as r with input.lifecycle as lifecycle
		with input.checks as checks with input.environment as env with input.approvals as approvals
		with input.config as c with input.model as m with input.approval_context as ctx
		with input.approval_source as "git"
}

test_status_approved_and_checks_green_passes if {
	count(status_denials(fx.lifecycle, fx.checks, fx.production)) == 0
}

test_status_draft_denies_promotion if {
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/state", "value": "draft"}])
	found := status_denials(l, fx.checks, fx.production)
	some v in found
	v.msg == "release is draft; promotion to production needs it approved"
}

test_status_draft_with_every_approval_passes if {
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/state", "value": "draft"}])
	count(status_denials_with(l, fx.checks, fx.production, fx.approvals)) == 0
}

test_status_rejected_denies_even_with_approvals if {
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/state", "value": "rejected"}])
	found := status_denials_with(l, fx.checks, fx.production, fx.approvals)
	some v in found
	v.msg == "release is rejected; it cannot be promoted to production"
}

test_status_draft_is_fine_for_readiness if {
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/state", "value": "draft"}])
	count(status_denials(l, fx.checks, null)) == 0
}

test_status_failed_check_denies if {
	found := status_denials(fx.lifecycle, [{"name": "ci/tests", "conclusion": "failure"}], fx.production)
	some v in found
	v.msg == "check ci/tests concluded failure"
}

test_status_must_be_live_in_previous_environment if {
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/was_live_in", "value": []}])
	found := status_denials(l, fx.checks, fx.production)
	some v in found
	v.msg == "production requires the release to be live in staging first"
}

test_status_open_obligation_warns if {
	r := fx.release
	l := json.patch(fx.lifecycle, [{"op": "add", "path": "/obligations", "value": [{"description": "post-hoc review of break-glass INC-7"}]}])
	warned := gates.warn_release_status with input.release as r with input.lifecycle as l
	some v in warned
	v.msg == "open obligation: post-hoc review of break-glass INC-7"
}
