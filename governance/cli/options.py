"""The options many commands share, defined once: ``--repo``, ``--format``, ``--env``, ``--at``,
``--limit``, ``--remote``, ``--verified-prefix`` and the organisation source options.

A command takes these instead of spelling its own, so every command names, checks and explains
the same option the same way (the same default, the same help, the same exit 2 for a bad value).
``--format`` is always ``governance.cli.output.OutputFormat``, restricted to the formats the
command renders (``format_option``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import typer

from governance.ci_context import ENV_DSN, ENV_TRUST
from governance.cli.option_values import AT_DEFAULT, LIMIT_MAX, LIMIT_MIN, REPO_DEFAULT
from governance.cli.output import OutputFormat
from governance.errors import UsageError

# Every command that reads or writes a governed repository takes --repo; without it, the
# repository is the one the current directory is in (walking up to governance.yaml, as git
# does). tests/unit/test_repo_option.py lists the commands that take none, and why.
REPO = typer.Option(
    REPO_DEFAULT, "--repo",
    help="The governed repository, or a directory inside it.")

TEXT_OR_JSON = (OutputFormat.text, OutputFormat.json)
TABLE = (OutputFormat.text, OutputFormat.json, OutputFormat.csv)


def format_option(*choices: OutputFormat, default: OutputFormat = OutputFormat.text,
                  help_text: str | None = None) -> Any:
    """``--format`` limited to ``choices`` (default: text or json); the value is an
    ``OutputFormat``. A format the command does not render is a usage error (exit 2) listing
    the ones it does."""
    names = [c.value for c in (choices or TEXT_OR_JSON)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return typer.Option(default, "--format", click_type=click.Choice(names),
                        help=help_text or f"Output format: {listed}.")


FORMAT = format_option()
TABLE_FORMAT = format_option(*TABLE)

REMOTE = typer.Option(
    None, "--remote",
    help="Also publish ledger events to this git remote (fetch, append, fast-forward push; "
         "retried when the remote moved).")

AT = typer.Option(AT_DEFAULT, "--at", help="RFC 3339 time or relative (30d, 12mo).")

VERIFIED_PREFIX = typer.Option(
    False, "--verified-prefix",
    help="If the ledger fails verification, answer from its verified prefix (marked as such in "
         "the output) instead of refusing.")


def limit_option(default: int | None, help_text: str) -> Any:
    """The ``--limit N`` option: a whole number from 1 to LIMIT_MAX."""
    return typer.Option(default, "--limit", min=LIMIT_MIN, max=LIMIT_MAX,
                        help=f"{help_text} (1 to {LIMIT_MAX:,})")


def env_option(help_text: str, *, required: bool = False) -> Any:
    """``--env E``: an environment of governance.yaml."""
    return typer.Option(... if required else None, "--env", help=help_text)


# The organisation's evidence across repositories (PostgreSQL, ``governance.audit.org``).
SOURCE_HELP = (
    "Answer across repositories from the organisation's PostgreSQL: 'postgres' (DSN from "
    f"${ENV_DSN}), 'env:NAME' (DSN from $NAME) or a postgresql:// URL without a password "
    "(libpq takes it from PGPASSWORD or ~/.pgpass). Rows are verified per origin against the "
    f"org trust file (--trust or ${ENV_TRUST}).")
ORIGIN_HELP = "With --source: only this ledger origin (repeatable)."
TRUST_HELP = f"Org trust file pinning each origin's log keys (default ${ENV_TRUST})."
SOURCE = typer.Option(None, "--source", help=SOURCE_HELP)
ORIGIN = typer.Option([], "--origin", help=ORIGIN_HELP)
TRUST = typer.Option(None, "--trust", help=TRUST_HELP)


def check_source_flags(source: str | None, origins: Sequence[str], trust: Path | None,
                       verified_prefix: bool = False) -> None:
    """--origin and --trust only mean something with --source; --verified-prefix only without
    (the database answers from verified rows or refuses)."""
    if source is None and (origins or trust is not None):
        raise UsageError("--origin and --trust need --source (the organisation database)")
    if source is not None and verified_prefix:
        raise UsageError("--verified-prefix applies to the local ledger, not to --source: "
                         "a row that fails verification makes the answer refuse")
