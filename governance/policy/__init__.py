"""Release gates: Rego policies evaluated through an OPA-compatible engine (DESIGN section 5).

Python builds the input document and renders the answer; Rego decides. The pieces:

- ``engines/``    the port (``engines.port``: ``PolicyEngine``, result values, ``EngineError``),
                  ``engines.select.select_engine`` (configured / ``--engine``, OPA server, ``opa``
                  on PATH, regopy) and the adapters: ``regopy_engine``/``regopy_worker`` (the
                  embedded default in a reusable worker process), ``opa_cli``, ``opa_server``,
                  ``rego_errors``. Adapters import the port only, so there is no cycle.
- ``bundle``      the policy directory on disk and its digest (git tree id + sha256 manifest).
- ``metadata``    ``# METADATA`` annotations (title, description, custom.gate_id).
- ``testing``     discovery and running of ``test_*`` rules in ``*_test.rego``.
- ``lint``        rejected constructs (Rego v0, ``%q``, ``semver.*``, gates without METADATA).
- ``input``       the gate input document (schema: governance/schemas/gate-input.schema.json).
- ``gates``       evaluate the gates fail-closed into a ``GateDecision``.
- ``decision_log`` decision records shaped like OPA decision logs.
- ``report``      renderers: text, json, github, junit, markdown (``sarif`` beside it;
                  ``locate`` finds where a violation points, for both).
"""
