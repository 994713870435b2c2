package governance.gates

import data.governance.lib

model_card_required_fields := lib.setting("model_card_required_fields", [
	"purpose",
	"intended_use",
	"not_for_use",
	"owner",
	"escalation_path",
	"training_data_scope",
	"training_data_window",
	"training_data_exclusions",
	"metrics",
	"test_conditions",
	"known_limitations",
])

# The shape each field expects, named in the remediation (issue 15: a shape is never learned
# from an error alone). Fields not listed here are named without a shape.
card_field_shapes := {
	"purpose": "one or two sentences: what the model is for and which decision it supports",
	"intended_use": "a list of the uses it is approved for, e.g. [transaction review prioritization]",
	"not_for_use": "a list of the uses it must not serve, e.g. [credit decisions]",
	"owner": "a person or team id",
	"escalation_path": "a list of person or team ids, first contact first",
	"training_data_scope": "text: the population, sources and regions the training data covers",
	"training_data_window": "{start: YYYY-MM-DD, end: YYYY-MM-DD}, the period the training data was drawn from",
	"training_data_exclusions": "a list of the data left out of training and why, e.g. [transactions under active chargeback dispute]",
	"metrics": "{metric: number}, written by `governance release new --from-eval FILE`",
	"test_conditions": "{holdout: ..., latency_method: ...}, written from the evaluation file",
	"known_limitations": "a list of known weaknesses, e.g. [weaker on first-time international merchants]",
	"evaluated_at": "an RFC 3339 time such as 2026-04-10T09:14:11Z, written from the evaluation file",
	"subgroups": "{slice: {metric: number}}, written from the evaluation file",
}

card_remediation(field) := concat("", ["fill `", field, "` in model-card.yaml: ", card_field_shapes[field]])

card_remediation(field) := concat("", ["fill `", field, "` in model-card.yaml"]) if {
	not card_field_shapes[field]
}

# A placeholder `release new` wrote and nobody filled: a string starting with "TODO:", alone
# or anywhere inside a list or mapping.
placeholder_prefix := "TODO:"

unfilled(value) if {
	is_string(value)
	startswith(value, placeholder_prefix)
}

unfilled(value) if {
	not is_string(value)
	walk(value, [_, inner])
	is_string(inner)
	startswith(inner, placeholder_prefix)
}

# METADATA
# title: Required model card fields
# description: >-
#   The release's model card fills every required field (purpose, intended use, not-for-use,
#   owner, escalation path, training data scope/window/exclusions, evaluation metrics and test
#   conditions, known limitations; `gates.model_card_required_fields` to change the list, dotted
#   paths allowed), holds no "TODO:" placeholder of the skeleton `release new` writes, and names
#   the release it describes.
# custom:
#   gate_id: model_card_fields
#   severity: high
deny_model_card_fields contains v if {
	card := input.model_card
	some field in model_card_required_fields
	object.get(card, split(field, "."), null) in lib.empty_values
	v := lib.violation(
		"model_card_fields", "high",
		sprintf("model card field %v is missing or empty", [field]),
		card_remediation(field),
		"model_card", sprintf("$.%v", [field]),
	)
}

# Every top-level field still holding a placeholder (required or not: a "TODO:" in a card is
# never evidence).
deny_model_card_fields contains v if {
	some field, value in input.model_card
	field != "file"
	unfilled(value)
	v := lib.violation(
		"model_card_fields", "high",
		concat("", ["model card field ", field, " is still a placeholder (", placeholder_prefix, " ...): fill it"]),
		card_remediation(field),
		"model_card", concat("", ["$.", field]),
	)
}

deny_model_card_fields contains v if {
	card_release := input.model_card.release_id
	is_string(card_release)
	card_release != input.release.release_id
	v := lib.violation(
		"model_card_fields", "high",
		sprintf("model card describes release %v, not %v", [card_release, input.release.release_id]),
		"use the model card written for this release",
		"model_card", "$.release_id",
	)
}
