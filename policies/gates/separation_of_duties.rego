package governance.gates

import data.governance.lib

default given_duties := {}

given_duties := input.separation_of_duties.duties

# A pull request review holds the approver duty when the required-approvals gate counts it
# (Python lists the other duties, and the ledger's signed approvals, as facts): a review by the
# PR's author or a committer does not count, which that gate reports, so it is no approval here.
github_approvers := {c.actor_id | some c in counted_approvals; c.source == "github"}

sod_duties := object.union(given_duties, {"approver": sort({p | some p in object.get(given_duties, "approver", [])} | github_approvers)}) if {
	count(github_approvers) > 0
} else := given_duties

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
		sod_remediation(rule.duties),
		"release", "$",
	)
}

# The way out of each overlap. A small team whose role members all trained, authored,
# committed to or approved the release cannot deploy it themselves (issue 15: "sam held both
# trainer and deployer"); the CI bot holds the deployment authority on the ledger, so the
# person who approves its deployment run needs no governance role and no ledger key.
sod_remediation(duties) := concat("", [
	"have someone who did not train, author, commit to or approve this release deploy it: ",
	"another person running `governance promote`, or the CI bot through the promote workflow ",
	"(.github/workflows/governance-promote.yml), with that person approving the deployment ",
	"as the environment's reviewer (no governance role or ledger key needed)",
]) if {
	"deployer" in duties
} else := concat("", [
	"ask another member of the role to approve: one who did not train, author or commit to ",
	"this release (add a person with `governance people add ID --name N --email E --key FILE ",
	"--role ROLE`)",
]) if {
	"approver" in duties
} else := concat("", [
	"have a different person take one of the two duties (add a person with ",
	"`governance people add ID --name N --email E --key FILE`)",
])
