"""Rendering helpers shared by commands: formats, JSON to stdout, logs to stderr."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

import typer


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (machine output; logs go to stderr)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


def emit_text(text: str) -> None:
    typer.echo(text)


def log(text: str) -> None:
    """Progress and logs: stderr, never mixed into the report."""
    typer.echo(text, err=True)
