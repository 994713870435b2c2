"""Rendering helpers shared by commands: formats, JSON to stdout, logs to stderr.

This is the output funnel: every text a command prints passes ``governance.safe_text`` here, so
a control character recorded in the ledger or a YAML file (a newline, an ANSI escape) is shown
escaped and cannot forge a line or drive the terminal. ``emit_text`` prints one record as one
line (a newline inside it is shown as ``\n``); ``emit_block`` keeps the line breaks of text a
renderer built one record per line (``governance.safe_text.join_lines``); ``emit_document``
writes a machine format (JUnit, workflow commands, markdown, HTML) its renderer escaped. JSON
stays exact (``escape_json`` writes the same characters as ``\\uXXXX`` escapes).

Free of typer and click (issue 18: the fast path of ``governance.cli.entry`` renders through
this module without importing them): ``echo`` writes a line exactly as ``click.echo`` does.
"""

from __future__ import annotations

import codecs
import json
import sys
from enum import StrEnum
from typing import Any, TextIO

from governance.domain.lazy_re import lazy
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


_ANSI = lazy(r"\033\[[;?0-9]*[a-zA-Z]")  # click._compat._ansi_re


def echo(text: str, err: bool = False) -> None:
    """``click.echo(text, err=err)`` for a ``str``, without importing click: ``text`` and a
    newline written to stdout (stderr with ``err``) and flushed; ANSI style codes removed when
    the stream is not a terminal (as click does; the text was escaped before, so there are
    none unless a caller wrote them). A stream click would not write to as it is (no encoding
    or an ASCII one: click re-wraps it as UTF-8) is left to click itself."""
    stream: TextIO | None = sys.stderr if err else sys.stdout
    if stream is None:  # no standard stream attached (click writes nothing either)
        return
    if _misconfigured(stream):
        import click

        click.echo(text, err=err)
        return
    out = text + "\n"
    if "\033" in out and not _isatty(stream) and \
            not type(stream).__module__.startswith("ipykernel."):
        out = _ANSI.sub("", out)
    stream.write(out)
    stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except Exception:  # noqa: BLE001 - click.utils.isatty: a stream that cannot tell is no tty
        return False


def _misconfigured(stream: TextIO) -> bool:
    """What ``click._compat._force_correct_text_writer`` would not return as it is: a stream
    without ``encoding``/``errors``, with an ASCII encoding, or a binary one."""
    encoding = getattr(stream, "encoding", None)
    if not encoding or getattr(stream, "errors", None) is None:
        return True
    try:
        return codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return True


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (machine output; logs go to stderr)."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    sys.stdout.write(escape_json(text))
    sys.stdout.write("\n")


def emit_text(text: str) -> None:
    """One record: shown on one line whatever it holds (newlines escaped too)."""
    echo(one_line(text))


def emit_block(text: str) -> None:
    """Text a renderer built one record per line (``join_lines``): its line breaks kept, every
    other control character escaped."""
    echo(keep_lines(text))


def emit_document(text: str) -> None:
    """A document in a machine format (JUnit XML, GitHub workflow commands, markdown) whose
    renderer escaped its content for that format: written as it is."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def log(text: str) -> None:
    """Progress and logs: stderr, never mixed into the report (control characters escaped)."""
    echo(keep_lines(text), err=True)
