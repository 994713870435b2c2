package governance.gates

import data.governance.lib

promotable_states := {"approved", "production"}

blocked_states := {"rejected", "retired", "rolled_back"}

# "Approved" is a ledger state (release_approved) or, for this environment, the evidence
# itself: every required approval present on the current digest (the approvals gate is quiet).
approved_by_evidence if {
	lib.promotion
	count(deny_required_approvals) == 0
}

# METADATA
# title: Status approved and all checks passed before promotion
# description: >-
#   Promotion needs the release approved (state approved or production on the ledger, or every
#   required approval for the environment present on the current digest) and not rejected,
#   retired or rolled back; every recorded check concluded successfully; and, for an
#   environment with `after`, the release live in that environment first.
# custom:
#   gate_id: release_status
#   severity: critical
deny_release_status contains v if {
	lib.promotion
	state := object.get(input.lifecycle, "state", "unknown")
	state in blocked_states
	v := lib.violation(
		"release_status", "critical",
		concat("", ["release is ", state, "; it cannot be promoted to ", input.environment.name]),
		"open a new release (a rejected one can be approved again by the objector)",
		"release", "$",
	)
}

deny_release_status contains v if {
	lib.promotion
	state := object.get(input.lifecycle, "state", "unknown")
	not state in promotable_states
	not state in blocked_states
	not approved_by_evidence
	v := lib.violation(
		"release_status", "critical",
		concat("", ["release is ", state, "; promotion to ", input.environment.name, " needs it approved"]),
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
