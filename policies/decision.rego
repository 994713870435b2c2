# METADATA
# title: Gate decision
# description: >-
#   Collects every deny_*/warn_*/pending_* rule of governance.gates, applies waivers from
#   data.waivers (approver, reason, expiry; expired ones do not apply) and decides `allow`.
package governance.decision

import data.governance.gates
import data.governance.lib

# Gates no waiver can lift: they are the separation of duties and the binding of approvals to
# content; waiving them would let one person approve their own way through.
non_waivable := {"required_approvals", "digest_unchanged", "release_status"}

raw_failures contains v if {
	some name
	vs := gates[name]
	startswith(name, "deny_")
	some v in vs
}

raw_warnings contains v if {
	some name
	vs := gates[name]
	startswith(name, "warn_")
	some v in vs
}

pending contains p if {
	some name
	ps := gates[name]
	startswith(name, "pending_")
	some p in ps
}

default waivers := []

waivers := data.waivers

people := {p | some p in object.get(input.config, "people", [])}

waiver_applies(w, v) if {
	w.gate_id == v.gate_id
	not v.gate_id in non_waivable
	w.model == lib.model_name
	object.get(w, "release_id", input.release.release_id) == input.release.release_id
	is_number(w.expires_ns)
	w.expires_ns > input.time.now_ns
	lib.present(object.get(w, "reason", ""))
	w.approver in people
	w.approver != input.release.trained_by
}

waived(v) if {
	some w in waivers
	waiver_applies(w, v)
}

failures contains v if {
	some v in raw_failures
	not waived(v)
}

exceptions contains {"violation": v, "waiver": w} if {
	some v in raw_failures
	some w in waivers
	waiver_applies(w, v)
}

warnings contains v if {
	some v in raw_warnings
}

# A waiver that matches a failure but no longer applies is reported, never silently ignored.
warnings contains v if {
	some w in waivers
	w.model == lib.model_name
	object.get(w, "release_id", input.release.release_id) == input.release.release_id
	some f in raw_failures
	f.gate_id == w.gate_id
	not waiver_applies(w, f)
	v := lib.violation(
		w.gate_id, "medium",
		concat("", ["waiver for gate ", w.gate_id, " (approver ", lib.fmt(object.get(w, "approver", null)), ", expires ", lib.fmt(object.get(w, "expires", null)), ") does not apply: ", waiver_problem(w)]),
		"renew the waiver with an eligible approver, a reason and a future expiry, or fix the cause",
		"config", "$.waivers",
	)
}

waiver_problem(w) := "it has expired" if {
	is_number(w.expires_ns)
	w.expires_ns <= input.time.now_ns
} else := concat("", ["gate ", w.gate_id, " cannot be waived"]) if {
	w.gate_id in non_waivable
} else := "the approver is not a person in governance.yaml or trained the model" if {
	not w.approver in people
} else := "the approver trained the model" if {
	w.approver == input.release.trained_by
} else := "it has no reason or no expiry"

allow := count(failures) == 0

mode := lib.mode
