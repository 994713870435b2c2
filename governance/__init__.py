"""model-governance: a Git-native, policy-as-code release and evidence system for ML models.

Architecture (dependencies point downwards; adapters implement ports at the edges):

- ``governance.cli``        thin commands: parse, call one core function, render, exit code.
- core (pure, no I/O of its own beyond reading the governed repository):
  ``records`` (YAML -> domain values with located problems), ``digest`` (release digest),
  ``repo`` (the governed repository and its validation), ``authoring`` (new records),
  ``policy`` (gate input, engines, decisions), ``approvals`` (CODEOWNERS, approval facts),
  ``lifecycle`` (events folded into state), ``audit`` (index and queries).
- ``governance.domain``     frozen values: Release, ModelCard, Model, GovernanceConfig, events.
- adapters: ``ledger.store`` (git), ``approvals.github`` (GitHub), ``policy`` engines (regopy,
  opa binary, OPA server), ``sinks`` (JSON Lines, PostgreSQL, S3).
- ``governance.errors``     one hierarchy; each error knows its exit code and diagnostics().
"""

__version__ = "0.1.0"
