"""Engine selection: which adapter evaluates the gates, chosen in the DESIGN section 5 order.

The configured engine or ``--engine`` (``GOVERNANCE_ENGINE``); an OPA server when a URL is
configured (``GOVERNANCE_OPA_URL``); the ``opa`` binary when on PATH; the embedded regopy engine.
Adapters are imported only when chosen (each imports the port, never this module, so there is no
cycle), and are returned constructed but not yet loaded.
"""

from __future__ import annotations

import shutil

from governance import ci_context
from governance.errors import ConfigurationError, UsageError
from governance.policy.engines.port import DEFAULT_TIMEOUT_S, ENGINE_NAMES, PolicyEngine


def select_engine(
    requested: str | None = None,
    *,
    opa_url: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PolicyEngine:
    """Choose an engine in the DESIGN section 5 order and construct it (not yet loaded)."""
    env = ci_context.current()
    name = (requested or env.variable("GOVERNANCE_ENGINE") or "").strip()
    url = opa_url or env.variable("GOVERNANCE_OPA_URL") or None
    configured = (env.variable("GOVERNANCE_POLICY_TIMEOUT") or "").strip()
    if timeout_s == DEFAULT_TIMEOUT_S and configured:
        try:
            timeout_s = float(configured)
        except ValueError:
            raise UsageError(
                f"GOVERNANCE_POLICY_TIMEOUT={configured!r} is not a number of seconds"
            ) from None
    if not name:
        if url:
            name = "opa-server"
        elif shutil.which("opa"):
            name = "opa-cli"
        else:
            name = "regopy"
    if name == "regopy":
        from governance.policy.engines.regopy_engine import RegopyEngine

        return RegopyEngine(timeout_s=timeout_s)
    if name == "opa-cli":
        from governance.policy.engines.opa_cli import OpaCliEngine

        return OpaCliEngine(timeout_s=timeout_s)
    if name == "opa-server":
        if not url:
            raise ConfigurationError(
                "engine opa-server needs a server URL",
                hint="set GOVERNANCE_OPA_URL (and GOVERNANCE_OPA_TOKEN if the server wants one)",
            )
        from governance.policy.engines.opa_server import OpaServerEngine

        return OpaServerEngine.from_url(url, timeout_s=timeout_s)
    raise UsageError(
        f"unknown policy engine {name!r}", hint=f"choose one of: {', '.join(ENGINE_NAMES)}"
    )
