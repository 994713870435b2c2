# METADATA
# title: Shared helpers for the release gates
# description: >-
#   Effective gate settings (governance.yaml `gates:` with per-model overrides), the violation
#   message shape and the evaluation mode. Not a gate itself.
package governance.lib

# Gate settings from governance.yaml `gates:`; `model_overrides.<model>.<setting>` replaces that
# setting for one model, whole (an override of metric_minimums is the model's complete list, so
# an LLM's override need not inherit a classifier's auc minimum).
base_gates := object.get(input.config, "gates", {})

model_name := input.model.name

# The release's evaluation, its metrics and its subgroups as rule values: inside an iteration,
# regopy 1.5.2 looks up a rule's value several times faster than it walks a path into the input.
release_evaluation := input.release.evaluation

release_metrics := release_evaluation.metrics

release_subgroups := release_evaluation.subgroups

override_gates := object.get(base_gates, ["model_overrides", model_name], {})

# A configured setting (the model's override first). Gates give their defaults with `default`
# rules: a string fallback routed through a function into a rule value comes back from regopy
# 1.5.2 with its quotes still on when formatted with sprintf.
configured(name) := override_gates[name]

configured(name) := base_gates[name] if {
	not override_gates[name]
}

setting(name, fallback) := object.get(override_gates, name, object.get(base_gates, name, fallback))

mapping_setting(name) := object.get(override_gates, name, object.get(base_gates, name, {}))

overridden(name) if {
	_ := override_gates[name]
}

# "promotion" when `--env` was given (every gate applies), "readiness" otherwise (DESIGN 10).
promotion if {
	is_string(input.environment.name)
}

mode := "promotion" if promotion

mode := "readiness" if not promotion

# The message shape every gate emits (conftest conventions plus where to point an annotation).
violation(gate_id, severity, msg, remediation, document, field) := {
	"msg": msg,
	"gate_id": gate_id,
	"severity": severity,
	"remediation": remediation,
	"document": document,
	"field": field,
}

# A sha256 is 64 lowercase hex characters (DESIGN 10: uppercase is rejected, not normalised).
# `$` is the end of the text here (RE2 semantics without the m flag, as in regopy and OPA):
# unlike Python's `$`, it does not match before a final newline (lib tests hold this).
is_sha256(value) if {
	is_string(value)
	regex.match(`^[a-f0-9]{64}$`, value)
}

# What `present` rejects, as a set: `x in empty_values` is cheaper in regopy than `not present(x)`.
empty_values := {null, "", [], {}}

present(value) if {
	value != null
	value != ""
	value != []
	value != {}
}

# Four decimals are enough for a person; the exact values are in the decision record.
# Messages are assembled with concat(), and sprintf() only formats numbers: regopy 1.5.2's
# sprintf %v prints some strings that originate in policy literals with their quotes on.
# One else-chain rather than four guarded bodies: regopy then stops at the first that applies.
fmt(x) := trim_right(trim_right(sprintf("%.4f", [x]), "0"), ".") if {
	is_number(x)
} else := x if {
	is_string(x)
} else := "null" if {
	x == null
} else := json.marshal(x)
