package governance.decision_test

import data.governance.decision
import data.governance.fixtures as fx

# Waivers are tested through the decision package's pure functions; every gate has its own
# tests beside it, and tests/data/policy-vectors run the whole decision end to end.

regression := {
	"msg": "subgroup region=eu: auc regressed",
	"gate_id": "subgroup_regression",
	"severity": "high",
	"remediation": "fix it",
	"document": "release",
	"field": "$.evaluation.subgroups",
}

missing_approval := object.union(regression, {"gate_id": "required_approvals", "msg": "production needs 1 approval(s)"})

ctx := {
	"model": "fraud-risk",
	"release_id": "2026-05-01-01",
	"trained_by": "trainer",
	"now_ns": fx.now_ns,
	"people": {"alice", "bob", "jane.smith", "trainer"},
}

waiver(expires_ns) := {
	"gate_id": "subgroup_regression",
	"model": "fraud-risk",
	"approver": "jane.smith",
	"reason": "eu slice re-labelled; tracked in RISK-12",
	"expires": "2026-06-30T00:00:00+00:00",
	"expires_ns": expires_ns,
}

live := waiver(fx.now_ns + fx.day_ns)

test_decision_unwaived_failure_stays if {
	count(decision.unwaived([regression], [], ctx)) == 1
}

test_decision_waiver_turns_failure_into_exception if {
	count(decision.unwaived([regression], [live], ctx)) == 0
	applied := decision.applied([regression], [live], ctx)
	count(applied) == 1
	some x in applied
	x.waiver.approver == "jane.smith"
	x.violation.gate_id == "subgroup_regression"
	count(decision.lapsed([regression], [live], ctx)) == 0
}

test_decision_expired_waiver_does_not_apply if {
	w := waiver(fx.now_ns - 1)
	count(decision.unwaived([regression], [w], ctx)) == 1
	count(decision.applied([regression], [w], ctx)) == 0
	some v in decision.lapsed([regression], [w], ctx)
	endswith(v.msg, "does not apply: it has expired")
}

test_decision_waiver_by_unknown_approver_does_not_apply if {
	w := object.union(live, {"approver": "mallory"})
	count(decision.unwaived([regression], [w], ctx)) == 1
	some v in decision.lapsed([regression], [w], ctx)
	endswith(v.msg, "the approver is not a person in governance.yaml")
}

test_decision_waiver_by_trainer_does_not_apply if {
	w := object.union(live, {"approver": "trainer"})
	count(decision.unwaived([regression], [w], ctx)) == 1
}

test_decision_waiver_without_reason_does_not_apply if {
	w := object.union(live, {"reason": ""})
	count(decision.unwaived([regression], [w], ctx)) == 1
}

test_decision_waiver_for_other_model_does_not_apply if {
	w := object.union(live, {"model": "churn"})
	count(decision.unwaived([regression], [w], ctx)) == 1
}

test_decision_waiver_for_other_release_does_not_apply if {
	w := object.union(live, {"release_id": "2026-01-01-01"})
	count(decision.unwaived([regression], [w], ctx)) == 1
}

test_decision_waiver_for_this_release_applies if {
	w := object.union(live, {"release_id": "2026-05-01-01"})
	count(decision.unwaived([regression], [w], ctx)) == 0
}

test_decision_approvals_cannot_be_waived if {
	w := object.union(live, {"gate_id": "required_approvals"})
	count(decision.unwaived([missing_approval], [w], ctx)) == 1
	some v in decision.lapsed([missing_approval], [w], ctx)
	endswith(v.msg, "gate required_approvals cannot be waived")
}
