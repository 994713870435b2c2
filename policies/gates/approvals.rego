package governance.gates

import data.governance.lib

default required_roles := []

required_roles := input.environment.required_approvals

risk_tier := object.get(input.model, "risk_tier", "medium")

approvals_per_role := object.get(input.config, ["risk_tiers", risk_tier, "approvals_per_role"], 1)

approval_records := input.approvals

approval_state(a) := object.get(a, "state", "approved")

# Why an approval on the current digest does not count (DESIGN section 6: bots, the PR author,
# the trainer and anyone who committed to the PR never count; a pull request review counts only
# from someone with write access, on the head commit; approvers must hold the role).
approval_exclusion(a) := person_exclusion(a)

approval_exclusion(a) := sprintf("%v is not a member of role %v", [a.actor_id, a.role]) if {
	not person_exclusion(a)
	not role_member(a)
}

# Why this person's approval never counts, whatever the role (what a code owner's review needs).
person_exclusion(a) := "the trainer cannot approve their own release" if {
	a.actor_id == input.release.trained_by
} else := sprintf("a bot or non-User account (%v) never counts", [object.get(a, "account_type", "Bot")]) if {
	github_bot(a)
} else := "authors, committers and bots never count" if {
	excluded_by_context(a.actor_id)
} else := sprintf("permission is %v, write access is required", [lib.fmt(a.permission)]) if {
	not write_access(a)
} else := concat("", ["review ", object.get(a, "review_id", "?"), " was given on ", substring(lib.fmt(a.commit_id), 0, 12), ", not on the head ", substring(input.approval_context.head_sha, 0, 12), " (stale after a new push)"]) if {
	stale_review(a)
}

write_permissions := {"admin", "maintain", "write"}

# GitHub's reviewer facts (set by the github source only; ledger approvals carry none).
github_bot(a) if {
	a.source == "github"
	object.get(a, "account_type", "User") != "User"
}

github_bot(a) if {
	a.source == "github"
	endswith(a.actor_id, "[bot]")
}

write_access(a) if not a.permission

write_access(a) if a.permission in write_permissions

stale_review(a) if {
	a.source == "github"
	head := input.approval_context.head_sha
	a.commit_id != head
}

excluded_by_context(actor) if {
	some x in object.get(input.approval_context, "excluded_actors", [])
	x == actor
}

# Team membership is resolved by the approval source (GitHub teams), which sets role_verified.
role_member(a) if {
	some m in input.config.roles[a.role].members
	m == a.actor_id
}

role_member(a) if {
	a.role_verified == true
}

known_roles := object.keys(object.get(input.config, "roles", {})) | {a.role | some a in approval_records}

# Distinct people per role who approved the current digest and count. A function, so a gate
# asking about one role does not build the answer for every role.
qualified_people(role) := {a.actor_id |
	some a in approval_records
	a.role == role
	approval_state(a) == "approved"
	a.digest == input.release.digest
	not approval_exclusion(a)
}

qualified[role] := qualified_people(role) if {
	some role in known_roles
}

# The gates look many roles up (the subset check asks each role several times): the object
# is built once. Pending approvals ask for one role each and use qualified_people.
qualified_count(role) := count(object.get(qualified, role, set()))

approval_source_note := " (no approval source was consulted: --approvals none)" if {
	input.approval_source == "none"
}

approval_source_note := "" if {
	input.approval_source != "none"
}

# METADATA
# title: Required approvals by role, distinct people
# description: >-
#   Promotion to an environment needs, for each role it requires, `approvals_per_role` (by the
#   model's risk tier) approvals of the current release digest from members of that role; every
#   role slot is filled by a different person (checked for every combination of roles), and the
#   trainer, authors, committers and bots never count. An outstanding denial blocks.
# custom:
#   gate_id: required_approvals
#   severity: critical
deny_required_approvals contains v if {
	lib.promotion
	some role in required_roles
	have := qualified_count(role)
	have < approvals_per_role
	v := lib.violation(
		"required_approvals", "critical",
		concat("", [input.environment.name, " needs ", lib.fmt(approvals_per_role), " approval(s) from role ", role, " for digest ", input.release.digest, ", got ", lib.fmt(have), approval_source_note]),
		sprintf("ask a member of %v to approve: governance approve %v --role %v", [role, input.release.release_id, role]),
		"release", "$",
	)
}

# Hall's condition over every combination of two or more roles: the roles together need
# count(roles) * approvals_per_role different people. One entry per short combination; the
# deny rule below and approval_standing both read it.
distinct_shortfalls contains s if {
	lib.promotion
	n := count(required_roles)
	n > 1
	some mask in numbers.range(1, bits.lsh(1, n) - 1)
	roles := [r | some i; r := required_roles[i]; bits.and(mask, bits.lsh(1, i)) != 0]
	count(roles) > 1
	every r in roles {
		qualified_count(r) >= approvals_per_role
	}
	people := {p | some r in roles; some p in qualified[r]}
	need := count(roles) * approvals_per_role
	count(people) < need
	s := {"roles": roles, "need": need, "people": sort([p | some p in people])}
}

shortfall_msg(s) := concat("", ["roles ", concat(", ", s.roles), " need ", lib.fmt(s.need), " different people, but only ", lib.fmt(count(s.people)), " approved (", concat(", ", s.people), ")"])

deny_required_approvals contains v if {
	some s in distinct_shortfalls
	v := lib.violation(
		"required_approvals", "critical",
		shortfall_msg(s),
		"each required role must be filled by a different person; ask another member to approve",
		"release", "$",
	)
}

denial_msg(a) := concat("", [a.actor_id, " (", a.role, ") denied this release: ", object.get(a, "reason", "no reason given")])

not_counted_msg(a) := concat("", ["approval by ", a.actor_id, " as ", a.role, " does not count: ", approval_exclusion(a)])

deny_required_approvals contains v if {
	some a in approval_records
	approval_state(a) in {"denied", "changes_requested"}
	a.source != "github"
	a.digest == input.release.digest
	v := lib.violation(
		"required_approvals", "critical",
		denial_msg(a),
		"address the objection; the denial blocks until that person approves",
		"release", "$",
	)
}

# A pull request review requesting changes blocks while it is the reviewer's latest review
# (GitHub's "Require approvals": only reviewers with write access block).
deny_required_approvals contains v if {
	lib.promotion
	some a in approval_records
	a.source == "github"
	approval_state(a) == "changes_requested"
	write_access(a)
	v := lib.violation(
		"required_approvals", "critical",
		concat("", [a.actor_id, " requested changes (review ", object.get(a, "review_id", "?"), ") and has not approved since; the request must be resolved or dismissed"]),
		"resolve the requested changes, or dismiss the review on the pull request",
		"release", "$",
	)
}

# CODEOWNERS (GitHub "Require review from Code Owners"): every changed file with owners needs a
# review from one of them that counts as a person (write access, on the head, not excluded).
code_owner_reviewers := {a.actor_id |
	some a in approval_records
	a.source == "github"
	approval_state(a) == "approved"
	a.digest == input.release.digest
	not person_exclusion(a)
}

shown_paths(paths) := concat(", ", paths) if {
	count(paths) <= 5
} else := concat("", [concat(", ", array.slice(paths, 0, 5)), " and ", lib.fmt(count(paths) - 5), " more"])

deny_required_approvals contains v if {
	lib.promotion
	some group in object.get(input.approval_context, "codeowners", [])
	count({p | some p in group.people; p in code_owner_reviewers}) == 0
	v := lib.violation(
		"required_approvals", "critical",
		concat("", ["no counted approval from a code owner (", concat(" ", group.owners), ") for ", shown_paths(group.paths)]),
		"ask a code owner of those files to review and approve the pull request",
		"release", "$",
	)
}

# METADATA
# title: Approvals that do not count
# description: Names each approval of the current digest that is excluded, and why.
# custom:
#   gate_id: required_approvals
#   severity: medium
warn_required_approvals contains v if {
	some a in approval_records
	approval_state(a) == "approved"
	judged_now(a)
	v := lib.violation(
		"required_approvals", "medium",
		not_counted_msg(a),
		"ask an eligible member of the role to approve",
		"release", "$",
	)
}

# An approval is judged against this release when it binds its digest, or when it is a pull
# request review given on another commit than the head (so its staleness is reported).
judged_now(a) if a.digest == input.release.digest

judged_now(a) if stale_review(a)

# METADATA
# title: Pending approvals (readiness)
# description: Without --env, lists every environment's required approvals, each satisfied or pending.
# custom:
#   gate_id: required_approvals
#   severity: info
pending_required_approvals contains p if {
	not lib.promotion
	some env, settings in object.get(input.config, "environments", {})
	some role in object.get(settings, "required_approvals", [])
	have := count(qualified_people(role))
	p := {
		"gate_id": "required_approvals",
		"environment": env,
		"role": role,
		"need": approvals_per_role,
		"have": have,
		"satisfied": have >= approvals_per_role,
		"msg": sprintf("%v: %v of %v approval(s) from %v", [env, have, approvals_per_role, role]),
	}
}

# The approvals of the current digest that count, each for a role its approver holds, as data:
# what `check --pr N --approvals github --record` writes to the ledger (nothing else is recorded).
counted_approvals := [c |
	some a in approval_records
	approval_state(a) == "approved"
	a.digest == input.release.digest
	not approval_exclusion(a)
	c := {"actor_id": a.actor_id, "role": a.role, "source": a.source, "review_id": object.get(a, "review_id", null)}
]

# What the required-approvals gate counted, as data: the one source of approval status for
# `report`, `explain` and `status` (they evaluate this rule with the gate input built for the
# environment; nothing outside this file decides whether an approval counts). Per required
# role: who counted and whether the role is filled by people no other role needs; per
# approval: counted or not, and the gate's own reason text; the gate's failures verbatim.
approval_standing := {
	"environment": input.environment.name,
	"digest": input.release.digest,
	"need": approvals_per_role,
	"allow": count(deny_required_approvals) == 0,
	"failures": sort([v.msg | some v in deny_required_approvals]),
	"roles": [x |
		some role in required_roles
		x := {
			"role": role,
			"need": approvals_per_role,
			"counted": sort([p | some p in qualified_people(role)]),
			"filled": role_filled(role),
			"shortfalls": sort([shortfall_msg(s) | some s in distinct_shortfalls; role in s.roles]),
			"may_approve": may_approve(role),
			"teams": sort(object.get(object.get(input.config.roles, role, {}), "teams", [])),
		}
	],
	"approvals": [standing_of(a) | some a in approval_records],
	# pull request reviewers whose approval counts as a person's (write access, on the head,
	# not excluded), role or not: who answers for the changed files (config record)
	"reviewers": sort([p | some p in code_owner_reviewers]),
	"reviewer_exclusions": sort([concat("", [a.actor_id, ": ", person_exclusion(a)]) |
		some a in approval_records
		a.source == "github"
		approval_state(a) == "approved"
		person_exclusion(a)
	]),
} if {
	lib.promotion
}

# Who could still fill a role: its governance.yaml members whose approval would count (not the
# trainer, an author, a committer or a bot) and who are not already counted for a required role
# (every role needs distinct people). Team members are named by their team in `teams`.
counted_anywhere := {p | some r in required_roles; some p in qualified_people(r)}

may_approve(role) := sort([m |
	some m in object.get(object.get(input.config.roles, role, {}), "members", [])
	m != object.get(input.release, "trained_by", "")
	not excluded_by_context(m)
	not m in counted_anywhere
])

role_filled(role) := true if {
	qualified_count(role) >= approvals_per_role
	not in_shortfall(role)
} else := false

in_shortfall(role) if {
	some s in distinct_shortfalls
	role in s.roles
}

standing_base(a) := {
	"actor_id": a.actor_id,
	"role": a.role,
	"state": approval_state(a),
	"digest": a.digest,
	"submitted_at": object.get(a, "submitted_at", null),
}

standing_of(a) := object.union(standing_base(a), {"counted": false, "outcome": "denied", "reason": denial_msg(a)}) if {
	approval_state(a) != "approved"
	a.digest == input.release.digest
} else := object.union(standing_base(a), {"counted": false, "outcome": "stale", "reason": not_counted_msg(a)}) if {
	# a pull request review given before the last push: the gate's own stale-review text
	stale_review(a)
} else := object.union(standing_base(a), {"counted": false, "outcome": "stale", "reason": concat("", [
	"approval by ", a.actor_id, " as ", a.role, " does not count: it is bound to ", lib.fmt(a.digest),
	", the release is now ", input.release.digest,
])}) if {
	a.digest != input.release.digest
} else := object.union(standing_base(a), {"counted": false, "outcome": "excluded", "reason": not_counted_msg(a)}) if {
	approval_exclusion(a)
} else := object.union(standing_base(a), {"counted": false, "outcome": "not_required", "reason": concat("", [
	"approval by ", a.actor_id, " as ", a.role, " does not count: ", input.environment.name,
	" does not require role ", a.role,
])}) if {
	not a.role in required_roles
} else := object.union(standing_base(a), {"counted": true, "outcome": "counted", "reason": null})
