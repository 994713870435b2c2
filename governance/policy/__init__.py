"""Release gates: Rego policies evaluated through an OPA-compatible engine (DESIGN section 5).

Python builds the input document and renders the answer; Rego decides. The pieces:

- ``engine``      the port: ``PolicyEngine`` (load, evaluate, run_tests, version), result values,
                  ``select_engine`` (configured / ``--engine``, OPA server, ``opa`` on PATH,
                  regopy).
- ``bundle``      the policy directory on disk and its digest (git tree id + sha256 manifest).
- ``regopy_engine`` / ``regopy_worker``  the embedded default (rego-cpp) in a reusable worker
                  process, with guard rails for regopy's known gaps.
- ``opa_cli``     the ``opa`` binary (``opa eval`` / ``opa test``) through argv lists.
- ``opa_server``  an OPA server over REST through opa-python-client.
- ``rego_errors`` rego-cpp S-expression errors translated to file:line:col.
- ``metadata``    ``# METADATA`` annotations (title, description, custom.gate_id).
- ``testing``     discovery and running of ``test_*`` rules in ``*_test.rego``.
- ``lint``        rejected constructs (Rego v0, ``%q``, ``semver.*``, gates without METADATA).
- ``input``       the gate input document (schema: governance/schemas/gate-input.schema.json).
- ``gates``       evaluate the gates fail-closed into a ``GateDecision``.
- ``decision_log`` decision records shaped like OPA decision logs.
- ``report``      renderers: text, json, github, junit, markdown.
"""
