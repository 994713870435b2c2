"""The values behind the shared options, without typer: defaults and bounds.

``governance.cli.options`` builds the typer options from these, and the fast path of the entry
point (``governance.cli.fast``) parses ``live``, ``status`` and ``history`` with the same ones,
so a default or a bound cannot differ between the two.
"""

from __future__ import annotations

from pathlib import Path

# Without --repo, the repository is the one the current directory is in (walking up to
# governance.yaml, as git does).
REPO_DEFAULT = Path(".")

# Without --at, a query answers for now.
AT_DEFAULT = "now"

# Every --limit is validated the same way (a click range: exit 2 naming the value), so no command
# accepts what another refuses; the bound keeps the value an SQLite integer.
LIMIT_MIN = 1
LIMIT_MAX = 1_000_000_000
