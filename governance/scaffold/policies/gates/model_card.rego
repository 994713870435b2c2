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

# METADATA
# title: Required model card fields
# description: >-
#   The release's model card fills every required field (purpose, intended use, not-for-use,
#   owner, escalation path, training data scope/window/exclusions, evaluation metrics and test
#   conditions, known limitations; `gates.model_card_required_fields` to change the list, dotted
#   paths allowed) and names the release it describes.
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
		sprintf("fill `%v` in model-card.yaml", [field]),
		"model_card", sprintf("$.%v", [field]),
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
