"""Rego engines behind one port (DESIGN section 5).

- ``port``          what every adapter offers (``PolicyEngine``: load, evaluate, run_tests,
                    version), its result values and ``EngineError`` (fail closed, exit 3).
- ``select``        ``select_engine``: configured / ``--engine``, OPA server, ``opa`` on PATH,
                    regopy.
- ``regopy_engine`` / ``regopy_worker``  the embedded default (rego-cpp) in a reusable worker
                    process, with guard rails for regopy's known gaps.
- ``opa_cli``       the ``opa`` binary (``opa eval`` / ``opa test``) through argv lists.
- ``opa_server``    an OPA server over REST through opa-python-client.
- ``rego_errors``   rego-cpp S-expression errors translated to file:line:col.

Adapters import the port only; only ``select`` knows the adapters.
"""
