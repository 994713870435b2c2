package governance.gates

import data.governance.lib

default sod_duties := {}

sod_duties := input.separation_of_duties.duties

default sod_rules := []

sod_rules := input.separation_of_duties.rules

# Duties someone holds: a rule whose two duties are not both held cannot be broken, and testing
# that first keeps the gate cheap (most duties are empty before a release is deployed).
held_duties contains duty if {
	some duty, people in sod_duties
	count(people) > 0
}

# METADATA
# title: Separation of duties
# description: >-
#   Training, approving, deploying and altering the audit configuration are held by different
#   identities; the deployer is checked against the approvers, the PR author and committers.
#   Python lists who held each duty and the rule pairs; this gate finds every overlap.
# custom:
#   gate_id: separation_of_duties
#   severity: critical
deny_separation_of_duties contains v if {
	# every rule pairs two different duties (the input schema says so): with fewer than two
	# duties held, no rule can be broken
	count(held_duties) > 1
	some rule in sod_rules
	rule.duties[0] in held_duties
	rule.duties[1] in held_duties
	both := {p |
		some p in object.get(sod_duties, rule.duties[0], [])
		p in object.get(sod_duties, rule.duties[1], [])
	}
	count(both) > 0
	v := lib.violation(
		"separation_of_duties", "critical",
		# concat, not sprintf: regopy 1.5.2 quotes a %v string built from a set's elements
		concat("", [concat(", ", sort(both)), " held both ", rule.duties[0], " and ", rule.duties[1], ": ", rule.why, " (", rule.rule, ")"]),
		"have a different person take one of the two duties",
		"release", "$",
	)
}
