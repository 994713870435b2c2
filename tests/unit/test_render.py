"""The renderer registry: one renderer per format, the --format option offers exactly those."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from governance.cli.output import OutputFormat
from governance.cli.render import Renderers


def test_a_result_is_rendered_by_the_renderer_of_its_format() -> None:
    seen: list[tuple[str, int]] = []
    numbers: Renderers[int] = Renderers("numbers")
    numbers.register(OutputFormat.text)(lambda n: seen.append(("text", n)))
    numbers.register(OutputFormat.json, OutputFormat.csv)(lambda n: seen.append(("data", n)))
    for fmt, n in ((OutputFormat.csv, 1), (OutputFormat.text, 2), (OutputFormat.json, 3)):
        numbers.render(fmt, n)
    assert seen == [("data", 1), ("text", 2), ("data", 3)]
    assert numbers.formats == (OutputFormat.text, OutputFormat.json, OutputFormat.csv)
    with pytest.raises(KeyError):
        numbers.render(OutputFormat.html, 4)


def test_a_second_renderer_for_a_format_is_refused() -> None:
    numbers: Renderers[int] = Renderers("numbers")
    numbers.register(OutputFormat.text)(print)
    with pytest.raises(RuntimeError, match="numbers: a second renderer for text"):
        numbers.register(OutputFormat.text)(print)


def test_the_format_option_offers_exactly_the_registered_formats() -> None:
    numbers: Renderers[int] = Renderers("numbers")
    numbers.register(OutputFormat.text)(lambda n: click.echo(f"n={n}"))
    numbers.register(OutputFormat.json)(lambda n: click.echo(f'{{"n": {n}}}'))
    app = typer.Typer(rich_markup_mode=None, pretty_exceptions_show_locals=False)
    option = numbers.option()

    @app.command()
    def show(fmt: OutputFormat = option) -> None:
        numbers.render(fmt, 7)

    runner = CliRunner()
    assert runner.invoke(app, []).stdout == "n=7\n"
    assert runner.invoke(app, ["--format", "json"]).stdout == '{"n": 7}\n'
    refused = runner.invoke(app, ["--format", "csv"])
    assert refused.exit_code == 2
    assert "'csv' is not one of 'text', 'json'" in " ".join(refused.stderr.split())
