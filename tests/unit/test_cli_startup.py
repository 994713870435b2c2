"""The CLI starts without the heavy adapters it does not need.

Every command pays the import time of whatever ``governance.cli.app`` imports; PyGithub (with
requests) alone is ~90 ms. These modules are imported by the adapters when a command first uses
them. Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from governance.approvals import github as github_adapter

# Network clients, schema explanation, git, the Rego engine, cryptography and the ledger are
# imported by the commands that use them (the CLI's own import went from ~300 ms to ~90 ms).
LAZY = ("github", "requests", "psycopg", "boto3", "jsonschema", "git", "regopy",
        "cryptography", "governance.ledger", "governance.policy.check")


def test_the_cli_imports_no_heavy_module_at_start() -> None:
    code = (
        "import json, sys\n"
        "import governance.cli.app\n"
        f"print(json.dumps([m for m in {list(LAZY)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []


def test_throttle_defaults_are_pygithubs() -> None:
    from github import Consts

    assert github_adapter.SECONDS_BETWEEN_REQUESTS == Consts.DEFAULT_SECONDS_BETWEEN_REQUESTS
    assert github_adapter.SECONDS_BETWEEN_WRITES == Consts.DEFAULT_SECONDS_BETWEEN_WRITES
