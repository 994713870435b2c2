package governance.gates

import data.governance.lib

rollback := input.rollback_target

# METADATA
# title: Rollback target registered and approved
# description: >-
#   The release names its fallback: an earlier, registered, approved release of the same model,
#   or, for the model's first release only, `rollback_target: {disable: true, reason: ...}`
#   (rolling back switches the model off; DESIGN section 10).
# custom:
#   gate_id: rollback_target
#   severity: critical
deny_rollback_target contains v if {
	not rollback.declared
	v := lib.violation(
		"rollback_target", "critical",
		"no rollback target is declared",
		"set rollback_target.release_id to an approved earlier release (first release: rollback_target: {disable: true, reason: ...})",
		"release", "$.rollback_target",
	)
}

deny_rollback_target contains v if {
	rollback.declared
	rollback.disable == true
	not lib.present(object.get(rollback, "reason", null))
	v := lib.violation(
		"rollback_target", "critical",
		"rollback_target.disable is set without a reason",
		"explain what switching the model off means for its users in rollback_target.reason",
		"release", "$.rollback_target.reason",
	)
}

deny_rollback_target contains v if {
	rollback.declared
	rollback.disable == true
	object.get(input.model, "releases_before", 0) > 0
	v := lib.violation(
		"rollback_target", "critical",
		sprintf("rollback_target.disable is only for a model's first release; %v earlier release(s) of %v exist", [input.model.releases_before, lib.model_name]),
		"name an approved earlier release in rollback_target.release_id",
		"release", "$.rollback_target",
	)
}

deny_rollback_target contains v if {
	rollback.declared
	not rollback.disable
	some reason in rollback_target_problems
	v := lib.violation(
		"rollback_target", "critical",
		concat(" ", ["rollback target", lib.fmt(object.get(rollback, "release_id", null)), reason]),
		"name an approved earlier release of the same model in rollback_target.release_id",
		"release", "$.rollback_target.release_id",
	)
}

deny_rollback_target contains v if {
	lib.promotion
	rollback.declared
	not rollback.disable
	count(rollback_target_problems) == 0
	rollback.approved != true
	v := lib.violation(
		"rollback_target", "critical",
		sprintf("rollback target %v is not approved (state %v)", [rollback.release_id, object.get(rollback, "lifecycle_state", "unknown")]),
		"roll back only to a release that was approved; approve it first or choose another",
		"release", "$.rollback_target.release_id",
	)
}

rollback_target_problems contains "is not a release id" if {
	not is_string(rollback.release_id)
}

rollback_target_problems contains "is not registered" if {
	is_string(rollback.release_id)
	rollback.registered != true
}

rollback_target_problems contains "belongs to another model" if {
	rollback.registered == true
	rollback.same_model != true
}

rollback_target_problems contains "is this release itself" if {
	rollback.release_id == input.release.release_id
}

rollback_target_problems contains "is not an earlier release" if {
	rollback.registered == true
	rollback.release_id != input.release.release_id
	rollback.earlier != true
}

# METADATA
# title: Rollback target approved (readiness)
# description: Before promotion is asked for, reports a rollback target not approved yet.
# custom:
#   gate_id: rollback_target
#   severity: medium
warn_rollback_target contains v if {
	not lib.promotion
	rollback.declared
	not rollback.disable
	count(rollback_target_problems) == 0
	rollback.approved != true
	v := lib.violation(
		"rollback_target", "medium",
		sprintf("rollback target %v is not approved yet (state %v); promotion will be refused", [rollback.release_id, object.get(rollback, "lifecycle_state", "unknown")]),
		"approve the rollback target or choose an approved one",
		"release", "$.rollback_target.release_id",
	)
}
