package governance.gates_test

import data.governance.fixtures as fx
import data.governance.gates

test_model_card_complete_passes if {
	r := fx.release
	k := fx.model_card
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	count(found) == 0
}

test_model_card_missing_nested_field_denies if {
	r := fx.release
	k := json.patch(fx.model_card, [{"op": "remove", "path": "/training_data_window"}])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	count(found) == 1
	some v in found
	v.msg == "model card field training_data_window is missing or empty"
	v.document == "model_card"
}

test_model_card_empty_list_denies if {
	r := fx.release
	k := json.patch(fx.model_card, [{"op": "add", "path": "/known_limitations", "value": []}])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	some v in found
	v.field == "$.known_limitations"
}

test_model_card_other_release_denies if {
	r := fx.release
	k := json.patch(fx.model_card, [{"op": "add", "path": "/release_id", "value": "2026-01-01-01"}])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	some v in found
	v.msg == "model card describes release 2026-01-01-01, not 2026-05-01-01"
}

test_model_card_missing_field_remediation_names_the_shape if {
	r := fx.release
	k := json.patch(fx.model_card, [{"op": "remove", "path": "/training_data_window"}])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	some v in found
	v.remediation == "fill `training_data_window` in model-card.yaml: {start: YYYY-MM-DD, end: YYYY-MM-DD}, the period the training data was drawn from"
}

test_model_card_placeholders_deny_with_fill_it if {
	r := fx.release
	k := json.patch(fx.model_card, [
		{"op": "add", "path": "/purpose", "value": "TODO: what the model is for"},
		{"op": "add", "path": "/training_data_window", "value": {"start": "TODO: YYYY-MM-DD", "end": "2026-03-31"}},
		{"op": "add", "path": "/training_data_exclusions", "value": ["TODO: data left out of training"]},
	])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	count(found) == 3
	fields := {v.field | some v in found}
	fields == {"$.purpose", "$.training_data_window", "$.training_data_exclusions"}
	some v in found
	v.field == "$.training_data_window"
	v.msg == "model card field training_data_window is still a placeholder (TODO: ...): fill it"
	contains(v.remediation, "{start: YYYY-MM-DD, end: YYYY-MM-DD}")
}

test_model_card_text_mentioning_todo_is_not_a_placeholder if {
	r := fx.release
	k := json.patch(fx.model_card, [{"op": "add", "path": "/known_limitations", "value": ["a TODO: list is kept in the runbook"]}])
	c := fx.config
	m := fx.model
	found := gates.deny_model_card_fields with input.release as r with input.model_card as k with input.config as c with input.model as m
	count(found) == 0
}
