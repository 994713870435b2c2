package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

approval_denials(approvals, env, model) := found if {
	r := fx.release
	c := fx.config
	ctx := {"excluded_actors": ["pr-author", "governance-ci"]}
	found := gates.deny_required_approvals with input.release as r with input.config as c
		with input.model as model with input.environment as env with input.approvals as approvals
		with input.approval_context as ctx with input.approval_source as "git"
}

test_approvals_three_people_pass if {
	count(approval_denials(fx.approvals, fx.production, fx.model)) == 0
}

test_approvals_missing_role_denies if {
	found := approval_denials([fx.approval("ml_lead", "alice"), fx.approval("platform_owner", "bob")], fx.production, fx.model)
	count(found) == 1
	some v in found
	startswith(v.msg, "production needs 1 approval(s) from role risk_owner")
	v.remediation == "ask a member of risk_owner to approve: governance approve 2026-05-01-01 --role risk_owner"
}

test_approvals_one_person_cannot_fill_two_roles if {
	# dave is both ml_lead and (here) risk_owner: each role is filled, but not by distinct people
	c := json.patch(fx.config, [{"op": "add", "path": "/roles/risk_owner/members", "value": ["dave"]}])
	r := fx.release
	m := fx.model
	e := fx.production
	a := [fx.approval("ml_lead", "dave"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "dave")]
	ctx := {"excluded_actors": []}
	found := gates.deny_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as e with input.approvals as a
		with input.approval_context as ctx with input.approval_source as "git"
	some v in found
	contains(v.msg, "need 2 different people, but only 1 approved (dave)")
}

test_approvals_trainer_does_not_count if {
	c := json.patch(fx.config, [{"op": "add", "path": "/roles/ml_lead/members", "value": ["trainer"]}])
	r := fx.release
	m := fx.model
	e := fx.production
	a := [fx.approval("ml_lead", "trainer"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")]
	ctx := {"excluded_actors": []}
	found := gates.deny_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as e with input.approvals as a
		with input.approval_context as ctx with input.approval_source as "git"
	warned := gates.warn_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as e with input.approvals as a
		with input.approval_context as ctx with input.approval_source as "git"
	count(found) == 1
	some w in warned
	w.msg == "approval by trainer as ml_lead does not count: the trainer cannot approve their own release"
}

test_approvals_excluded_author_does_not_count if {
	c := json.patch(fx.config, [{"op": "add", "path": "/roles/ml_lead/members", "value": ["pr-author"]}])
	found := approval_denials([fx.approval("ml_lead", "pr-author"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")], fx.production, fx.model) with input.config as c
	some v in found
	contains(v.msg, "from role ml_lead")
}

test_approvals_non_member_does_not_count if {
	found := approval_denials([fx.approval("ml_lead", "bob"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")], fx.production, fx.model)
	some v in found
	contains(v.msg, "from role ml_lead")
}

test_approvals_team_verified_member_counts if {
	a := [object.union(fx.approval("ml_lead", "erin"), {"role_verified": true}), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")]
	count(approval_denials(a, fx.production, fx.model)) == 0
}

test_approvals_high_risk_needs_two_per_role if {
	m := json.patch(fx.model, [{"op": "add", "path": "/risk_tier", "value": "high"}])
	found := approval_denials(fx.approvals, fx.production, m)
	count({v | some v in found; contains(v.msg, "needs 2 approval(s)")}) == 3
}

test_approvals_high_risk_satisfied if {
	m := json.patch(fx.model, [{"op": "add", "path": "/risk_tier", "value": "high"}])
	a := array.concat(fx.approvals, [fx.approval("ml_lead", "dave"), fx.approval("risk_owner", "carol"), object.union(fx.approval("platform_owner", "frank"), {"role_verified": true})])
	count(approval_denials(a, fx.production, m)) == 0
}

test_approvals_stale_digest_does_not_count if {
	stale := json.patch(fx.approval("risk_owner", "jane.smith"), [{"op": "add", "path": "/digest", "value": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}])
	found := approval_denials([fx.approval("ml_lead", "alice"), fx.approval("platform_owner", "bob"), stale], fx.production, fx.model)
	some v in found
	contains(v.msg, "from role risk_owner")
}

test_approvals_denial_blocks if {
	no := object.union(fx.approval("risk_owner", "carol"), {"state": "denied", "reason": "bias review open"})
	found := approval_denials(array.concat(fx.approvals, [no]), fx.production, fx.model)
	some v in found
	v.msg == "carol (risk_owner) denied this release: bias review open"
}

test_approvals_none_source_says_so if {
	r := fx.release
	c := fx.config
	m := fx.model
	e := fx.production
	ctx := {"excluded_actors": []}
	found := gates.deny_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as e with input.approvals as []
		with input.approval_context as ctx with input.approval_source as "none"
	count(found) == 3
	some v in found
	contains(v.msg, "no approval source was consulted")
}

test_approvals_readiness_lists_pending_without_denying if {
	r := fx.release
	c := fx.config
	m := fx.model
	ctx := {"excluded_actors": []}
	found := gates.deny_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as null with input.approvals as []
		with input.approval_context as ctx with input.approval_source as "none"
	pending := gates.pending_required_approvals with input.release as r with input.config as c
		with input.model as m with input.environment as null with input.approvals as []
		with input.approval_context as ctx with input.approval_source as "none"
	count(found) == 0
	count(pending) == 4
	some p in pending
	p.msg == "production: 0 of 1 approval(s) from risk_owner"
	p.satisfied == false
}

# approval_standing: the gate's own count as data (what report, explain and status show)

standing_of_approvals(approvals, c) := st if {
	r := fx.release
	m := fx.model
	e := fx.production
	ctx := {"excluded_actors": ["pr-author", "governance-ci"]}
	st := gates.approval_standing with input.release as r with input.config as c
		with input.model as m with input.environment as e with input.approvals as approvals
		with input.approval_context as ctx with input.approval_source as "git"
}

test_standing_all_roles_filled if {
	st := standing_of_approvals(fx.approvals, fx.config)
	st.allow == true
	st.failures == []
	every x in st.roles {
		x.filled == true
		count(x.counted) == 1
	}
	every a in st.approvals {
		a.counted == true
	}
}

test_standing_trainer_not_counted_with_the_gates_reason if {
	c := json.patch(fx.config, [{"op": "add", "path": "/roles/ml_lead/members", "value": ["trainer"]}])
	st := standing_of_approvals([fx.approval("ml_lead", "trainer"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")], c)
	st.allow == false
	some a in st.approvals
	a.actor_id == "trainer"
	a.counted == false
	a.outcome == "excluded"
	a.reason == "approval by trainer as ml_lead does not count: the trainer cannot approve their own release"
	some x in st.roles
	x.role == "ml_lead"
	x.counted == []
	x.filled == false
	"production needs 1 approval(s) from role ml_lead for digest sha256:1111111111111111111111111111111111111111111111111111111111111111, got 0" in st.failures
}

test_standing_non_member_not_counted if {
	st := standing_of_approvals([fx.approval("ml_lead", "bob"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "jane.smith")], fx.config)
	some a in st.approvals
	a.role == "ml_lead"
	a.counted == false
	a.outcome == "excluded"
	startswith(a.reason, "approval by bob as ml_lead does not count: ")
	# (the member test quotes its sprintf arguments when they come from a test's function
	# arguments in regopy 1.5.2; gate inputs from JSON read "bob is not a member of role ...")
	contains(a.reason, "is not a member of role")
}

test_standing_one_person_two_roles_fills_neither if {
	c := json.patch(fx.config, [{"op": "add", "path": "/roles/risk_owner/members", "value": ["dave"]}])
	st := standing_of_approvals([fx.approval("ml_lead", "dave"), fx.approval("platform_owner", "bob"), fx.approval("risk_owner", "dave")], c)
	st.allow == false
	some x in st.roles
	x.role == "risk_owner"
	x.counted == ["dave"]
	x.filled == false
	"roles ml_lead, risk_owner need 2 different people, but only 1 approved (dave)" in x.shortfalls
	every s in x.shortfalls {
		s in st.failures
	}
	# bob counts for platform_owner, but the three roles together still lack a third person
	some y in st.roles
	y.role == "platform_owner"
	y.counted == ["bob"]
	"roles ml_lead, platform_owner, risk_owner need 3 different people, but only 2 approved (bob, dave)" in y.shortfalls
}

test_standing_stale_and_denied if {
	old := object.union(fx.approval("ml_lead", "alice"), {"digest": "sha256:9999999999999999999999999999999999999999999999999999999999999999"})
	no := object.union(fx.approval("risk_owner", "jane.smith"), {"state": "denied", "reason": "drift"})
	st := standing_of_approvals([old, fx.approval("platform_owner", "bob"), no], fx.config)
	some a in st.approvals
	a.actor_id == "alice"
	a.outcome == "stale"
	some d in st.approvals
	d.actor_id == "jane.smith"
	d.outcome == "denied"
	d.reason == "jane.smith (risk_owner) denied this release: drift"
	d.reason in st.failures
}

test_standing_undefined_without_an_environment if {
	r := fx.release
	not gates.approval_standing with input.release as r with input.environment as null
}
