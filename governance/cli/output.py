"""Rendering helpers shared by commands: formats, JSON to stdout, logs to stderr.

This is the output funnel: every text a command prints passes ``governance.safe_text`` here, so
a control character recorded in the ledger or a YAML file (a newline, an ANSI escape) is shown
escaped and cannot forge a line or drive the terminal. ``emit_text`` prints one record as one
line (a newline inside it is shown as ``\n``); ``emit_block`` keeps the line breaks of text a
renderer built one record per line (``governance.safe_text.join_lines``); ``emit_document``
writes a machine format (JUnit, workflow commands, markdown, HTML) its renderer escaped. JSON
stays exact (``escape_json`` writes the same characters as ``\\uXXXX`` escapes).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

import typer

from governance.safe_text import escape_json, keep_lines, one_line


class OutputFormat(StrEnum):
    """Every output format of the CLI: one enum; each command's ``--format`` accepts the ones
    it renders (``governance.cli.options.format_option``)."""

    text = "text"
    json = "json"
    csv = "csv"
    github = "github"
    junit = "junit"
    markdown = "markdown"
    sarif = "sarif"
    html = "html"


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (machine output; logs go to stderr)."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    sys.stdout.write(escape_json(text))
    sys.stdout.write("\n")


def emit_text(text: str) -> None:
    """One record: shown on one line whatever it holds (newlines escaped too)."""
    typer.echo(one_line(text))


def emit_block(text: str) -> None:
    """Text a renderer built one record per line (``join_lines``): its line breaks kept, every
    other control character escaped."""
    typer.echo(keep_lines(text))


def emit_document(text: str) -> None:
    """A document in a machine format (JUnit XML, GitHub workflow commands, markdown) whose
    renderer escaped its content for that format: written as it is."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def log(text: str) -> None:
    """Progress and logs: stderr, never mixed into the report (control characters escaped)."""
    typer.echo(keep_lines(text), err=True)
