package governance.gates

import data.governance.lib

# METADATA
# title: Release digest unchanged since approval
# description: >-
#   Once a release is approved its content is frozen: the digest recorded at approval must equal
#   the digest of the release directory now (DESIGN section 3, "Release digest").
# custom:
#   gate_id: digest_unchanged
#   severity: critical
deny_digest_unchanged contains v if {
	approved := input.lifecycle.approved_digest
	is_string(approved)
	approved != input.release.digest
	v := lib.violation(
		"digest_unchanged", "critical",
		sprintf("release content changed after approval (digest now %v, approved %v)", [input.release.digest, approved]),
		"restore the approved content, or open a new release and have it approved",
		"release", "$",
	)
}

# METADATA
# title: Approvals bound to another digest
# description: Reports approvals given on an earlier digest of this release; they do not count.
# custom:
#   gate_id: digest_unchanged
#   severity: medium
warn_digest_unchanged contains v if {
	some a in input.approvals
	is_string(a.digest) # a pull request review off the head is bound to no digest: it is stale
	a.digest != input.release.digest
	v := lib.violation(
		"digest_unchanged", "medium",
		concat("", ["approval by ", a.actor_id, " as ", a.role, " was given on digest ", a.digest, ", not on the current digest ", input.release.digest, "; it does not count"]),
		"ask the approver to review the current content again",
		"release", "$",
	)
}
