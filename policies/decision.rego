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
non_waivable := {"required_approvals", "digest_unchanged", "release_status", "separation_of_duties"}

# Every gate is wired here by name (`governance policy lint` reports a deny_*/warn_*/pending_*
# rule of governance.gates that is not). Iterating the whole package instead is ~3x slower in
# regopy, because it evaluates every helper rule of the package as well.
raw_failures := {v |
	some vs in [
		gates.deny_required_artifacts,
		gates.deny_model_card_fields,
		gates.deny_required_approvals,
		gates.deny_release_status,
		gates.deny_latency,
		gates.deny_metric_thresholds,
		gates.deny_subgroup_regression,
		gates.deny_rollback_target,
		gates.deny_evaluation_freshness,
		gates.deny_digest_unchanged,
		gates.deny_separation_of_duties,
	]
	some v in vs
}

raw_warnings := {v |
	some vs in [
		gates.warn_required_approvals,
		gates.warn_release_status,
		gates.warn_latency,
		gates.warn_subgroup_regression,
		gates.warn_rollback_target,
		gates.warn_digest_unchanged,
	]
	some v in vs
}

pending := gates.pending_required_approvals

# The approvals the required-approvals gate counts (``check --record`` records only these).
counted_approvals := gates.counted_approvals

default waivers := []

waivers := data.waivers

context := {
	"model": lib.model_name,
	"release_id": input.release.release_id,
	"trained_by": object.get(input.release, "trained_by", null),
	"now_ns": input.time.now_ns,
	"people": {p | some p in object.get(input.config, "people", [])},
}

# Waivers are applied by pure functions of (violations, waivers, context) so they can be
# tested without replacing the input document.
waiver_applies(w, v, ctx) if {
	w.gate_id == v.gate_id
	not v.gate_id in non_waivable
	w.model == ctx.model
	object.get(w, "release_id", ctx.release_id) == ctx.release_id
	is_number(w.expires_ns)
	w.expires_ns > ctx.now_ns
	lib.present(object.get(w, "reason", ""))
	w.approver in ctx.people
	w.approver != ctx.trained_by
}

unwaived(violations, ws, ctx) := {v |
	some v in violations
	not waived(v, ws, ctx)
}

waived(v, ws, ctx) if {
	some w in ws
	waiver_applies(w, v, ctx)
}

applied(violations, ws, ctx) := {{"violation": v, "waiver": w} |
	some v in violations
	some w in ws
	waiver_applies(w, v, ctx)
}

# A waiver that matches a failure but does not apply is reported, never silently ignored.
lapsed(violations, ws, ctx) := {lib.violation(
	w.gate_id, "medium",
	concat("", ["waiver for gate ", w.gate_id, " (approver ", lib.fmt(object.get(w, "approver", null)), ", expires ", lib.fmt(object.get(w, "expires", null)), ") does not apply: ", waiver_problem(w, ctx)]),
	"renew the waiver with an eligible approver, a reason and a future expiry, or fix the cause",
	"config", "$.waivers",
) |
	some w in ws
	w.model == ctx.model
	object.get(w, "release_id", ctx.release_id) == ctx.release_id
	some f in violations
	f.gate_id == w.gate_id
	not waiver_applies(w, f, ctx)
}

waiver_problem(w, ctx) := "it has expired" if {
	is_number(w.expires_ns)
	w.expires_ns <= ctx.now_ns
} else := concat("", ["gate ", w.gate_id, " cannot be waived"]) if {
	w.gate_id in non_waivable
} else := "the approver is not a person in governance.yaml" if {
	not w.approver in ctx.people
} else := "the approver trained the model" if {
	w.approver == ctx.trained_by
} else := "it has no reason or no expiry"

failures := unwaived(raw_failures, waivers, context)

exceptions := applied(raw_failures, waivers, context)

warnings := raw_warnings | lapsed(raw_failures, waivers, context)

allow := count(failures) == 0

mode := lib.mode
