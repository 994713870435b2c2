package governance.gates_test

import data.governance.gates

sod_rules := [
	{"rule": "sod-trainer-approver", "duties": ["trainer", "approver"], "why": "who trained a model may not approve it"},
	{"rule": "sod-approver-deployer", "duties": ["approver", "deployer"], "why": "an approver may not deploy the release"},
]

test_distinct_people_pass if {
	sod := {"duties": {"trainer": ["dana"], "approver": ["alice", "bob"], "deployer": ["governance-ci"]}, "rules": sod_rules}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	count(found) == 0
}

test_deployer_who_approved_is_denied if {
	sod := {"duties": {"trainer": ["dana"], "approver": ["alice", "bob"], "deployer": ["bob"]}, "rules": sod_rules}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	some v in found
	v.gate_id == "separation_of_duties"
	v.msg == "bob held both approver and deployer: an approver may not deploy the release (sod-approver-deployer)"
}

test_trainer_who_approved_is_denied if {
	sod := {"duties": {"trainer": ["dana"], "approver": ["dana"], "deployer": []}, "rules": sod_rules}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	count(found) == 1
}

test_missing_facts_deny_nothing_and_do_not_error if {
	found := gates.deny_separation_of_duties with input.separation_of_duties as {}
	count(found) == 0
}

test_deployer_overlap_names_the_ci_bot if {
	sod := {"duties": {"trainer": ["sam"], "approver": ["alice"], "deployer": ["sam"]}, "rules": [{"rule": "sod-trainer-deployer", "duties": ["trainer", "deployer"], "why": "who trained a model may not deploy it"}]}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	some v in found
	v.msg == "sam held both trainer and deployer: who trained a model may not deploy it (sod-trainer-deployer)"
	startswith(v.remediation, "have someone who did not train, author, commit to or approve this release deploy it")
	contains(v.remediation, "the CI bot through the promote workflow")
}

test_approver_overlap_names_another_member if {
	sod := {"duties": {"trainer": ["dana"], "approver": ["dana"], "deployer": []}, "rules": sod_rules}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	some v in found
	startswith(v.remediation, "ask another member of the role to approve")
	contains(v.remediation, "governance people add")
}

test_audit_overlap_has_the_general_remediation if {
	sod := {"duties": {"audit_config_alterer": ["eve"], "trainer": ["eve"]}, "rules": [{"rule": "sod-audit-trainer", "duties": ["audit_config_alterer", "trainer"], "why": "w"}]}
	found := gates.deny_separation_of_duties with input.separation_of_duties as sod
	some v in found
	startswith(v.remediation, "have a different person take one of the two duties")
}
