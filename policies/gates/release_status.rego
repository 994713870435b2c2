package governance.gates

import data.governance.lib

promotable_states := {"approved", "production"}

# METADATA
# title: Status approved and all checks passed before promotion
# description: >-
#   Promotion needs the release in state approved (or already live elsewhere), every recorded
#   check concluded successfully, and, for an environment with `after`, the release live in that
#   environment first.
# custom:
#   gate_id: release_status
#   severity: critical
deny_release_status contains v if {
	lib.promotion
	state := object.get(input.lifecycle, "state", "unknown")
	not state in promotable_states
	v := lib.violation(
		"release_status", "critical",
		sprintf("release is %v; promotion to %v needs it approved", [state, input.environment.name]),
		"complete the required approvals first (governance approve)",
		"release", "$",
	)
}

deny_release_status contains v if {
	lib.promotion
	some check in input.checks
	not check.conclusion in {"success", "neutral", "skipped"}
	v := lib.violation(
		"release_status", "critical",
		sprintf("check %v concluded %v", [check.name, check.conclusion]),
		"fix the failing check and re-run it",
		"release", "$",
	)
}

deny_release_status contains v if {
	lib.promotion
	after := input.environment.after
	is_string(after)
	not after in {e | some e in object.get(input.lifecycle, "was_live_in", [])}
	v := lib.violation(
		"release_status", "critical",
		sprintf("%v requires the release to be live in %v first", [input.environment.name, after]),
		sprintf("promote to %v first: governance promote %v --env %v", [after, input.release.release_id, after]),
		"release", "$",
	)
}

# METADATA
# title: Post-hoc review obligations
# description: Reports every open obligation (e.g. the review owed after a break-glass override).
# custom:
#   gate_id: release_status
#   severity: high
warn_release_status contains v if {
	some o in object.get(input.lifecycle, "obligations", [])
	v := lib.violation(
		"release_status", "high",
		sprintf("open obligation: %v", [object.get(o, "description", o)]),
		"complete the post-hoc review and record it",
		"release", "$",
	)
}
