package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

rollback_denials(target, model, env) := found if {
	r := fx.release
	found := gates.deny_rollback_target with input.release as r with input.rollback_target as target
		with input.model as model with input.environment as env
}

test_rollback_approved_earlier_release_passes if {
	count(rollback_denials(fx.rollback_target, fx.model, fx.production)) == 0
}

test_rollback_not_declared_denies if {
	found := rollback_denials({"declared": false}, fx.model, null)
	some v in found
	v.msg == "no rollback target is declared"
}

test_rollback_disable_on_first_release_passes if {
	m := json.patch(fx.model, [{"op": "add", "path": "/releases_before", "value": 0}])
	count(rollback_denials({"declared": true, "disable": true, "reason": "no earlier model; fall back to rules"}, m, fx.production)) == 0
}

test_rollback_disable_on_later_release_denies if {
	found := rollback_denials({"declared": true, "disable": true, "reason": "x"}, fx.model, null)
	some v in found
	contains(v.msg, "only for a model's first release")
}

test_rollback_disable_without_reason_denies if {
	m := json.patch(fx.model, [{"op": "add", "path": "/releases_before", "value": 0}])
	found := rollback_denials({"declared": true, "disable": true, "reason": ""}, m, null)
	some v in found
	v.msg == "rollback_target.disable is set without a reason"
}

test_rollback_unregistered_denies if {
	t := json.patch(fx.rollback_target, [{"op": "add", "path": "/registered", "value": false}])
	found := rollback_denials(t, fx.model, null)
	some v in found
	v.msg == "rollback target 2026-03-01-01 is not registered"
}

test_rollback_other_model_denies if {
	t := json.patch(fx.rollback_target, [{"op": "add", "path": "/same_model", "value": false}])
	found := rollback_denials(t, fx.model, null)
	some v in found
	v.msg == "rollback target 2026-03-01-01 belongs to another model"
}

test_rollback_later_release_denies if {
	t := json.patch(fx.rollback_target, [{"op": "add", "path": "/earlier", "value": false}])
	found := rollback_denials(t, fx.model, null)
	some v in found
	v.msg == "rollback target 2026-03-01-01 is not an earlier release"
}

test_rollback_unapproved_denies_promotion if {
	t := object.union(fx.rollback_target, {"approved": false, "lifecycle_state": "draft"})
	found := rollback_denials(t, fx.model, fx.production)
	some v in found
	v.msg == "rollback target 2026-03-01-01 is not approved (state draft)"
}

test_rollback_unapproved_only_warns_in_readiness if {
	t := object.union(fx.rollback_target, {"approved": false, "lifecycle_state": "draft"})
	r := fx.release
	m := fx.model
	found := rollback_denials(t, m, null)
	warned := gates.warn_rollback_target with input.release as r with input.rollback_target as t
		with input.model as m with input.environment as null
	count(found) == 0
	count(warned) == 1
}
