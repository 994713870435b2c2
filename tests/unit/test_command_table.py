"""The lazily loaded application is the application that registers every module at start.

``governance.cli.app`` lists its commands from ``governance.cli.command_table`` and imports a
command's modules only when it runs (issue 18). Here the same modules are registered eagerly into
a reference application, the way app.py did before, and every command path's ``--help``, a
usage error and the bare group output are compared between the two, with the table's entries
(name, order, help) checked against the commands the modules really define.
"""

from __future__ import annotations

import importlib
import inspect

import click
import pytest
import typer
import typer.main
from click.testing import CliRunner

from governance.cli import app as app_module
from governance.cli.app_support import ListingGroup
from governance.cli.command_table import COMMANDS

# The registration order of app.py before issue 18 (it fixed the listing order).
EAGER_ORDER = ("commands_records", "commands_ledger", "commands_audit", "commands_evidence",
               "commands_policy", "commands_lifecycle", "commands_demo", "commands_approvals",
               "commands_env", "commands_config", "commands_doctor", "commands_people")
ENV = {"COLUMNS": "100", "TERMINAL_WIDTH": "100"}


@pytest.fixture(scope="module")
def eager() -> click.Group:
    reference = typer.Typer(cls=ListingGroup, help=app_module.app.info.help,
                            no_args_is_help=True, pretty_exceptions_show_locals=False,
                            rich_markup_mode=None, add_completion=False)
    reference.callback()(app_module._root)
    for name in EAGER_ORDER:
        importlib.import_module(f"governance.cli.{name}").register(reference)
    group = typer.main.get_command(reference)
    assert isinstance(group, click.Group)
    app_module._no_envvar_hints(group)  # the funnel group does this for every command it runs
    return group


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name in list(group.commands):
        sub = group.commands[name]
        if isinstance(sub, click.Group):
            found += _paths(sub, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_the_table_lists_every_command_in_order_with_its_own_help(eager: click.Group) -> None:
    assert [e.name for e in COMMANDS] == list(eager.commands)
    for entry in COMMANDS:
        real = eager.commands[entry.name]
        first = inspect.cleandoc(real.short_help or real.help or "").split("\n\n")[0]
        assert entry.help == first, f"command_table entry {entry.name!r}: help should be {first!r}"
        assert not real.hidden and not real.deprecated


def test_the_table_names_the_modules_that_define_each_command() -> None:
    for entry in COMMANDS:
        staging = typer.Typer()
        for module in entry.modules:
            importlib.import_module(f"governance.cli.{module}").register(staging)
        names = {c.name for c in staging.registered_commands}
        names |= {g.name for g in staging.registered_groups}
        assert entry.name in names, f"{entry.modules} do not define {entry.name!r}"


def test_every_help_and_usage_error_is_what_the_eager_application_prints(
        eager: click.Group) -> None:
    lazy = typer.main.get_command(app_module.app)
    assert isinstance(lazy, click.Group)
    paths = _paths(eager)
    assert paths == _paths(lazy) and len(paths) > 40
    runner = CliRunner()
    for path in paths:
        is_group = isinstance(eager if not path else _walk(eager, path), click.Group)
        cases = [["--help"], ["--no-such-option"]] + ([[]] if is_group else [])
        for extra in cases:
            args = [*path, *extra]
            want = runner.invoke(eager, args, prog_name="governance", env=ENV)
            got = runner.invoke(lazy, args, prog_name="governance", env=ENV)
            assert (got.exit_code, got.stdout, got.stderr) == (
                want.exit_code, want.stdout, want.stderr), " ".join(args)


def _walk(group: click.Group, path: tuple[str, ...]) -> click.Command:
    command: click.Command = group
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    result = CliRunner().invoke(typer.main.get_command(app_module.app), ["lve"],
                                prog_name="governance")
    assert result.exit_code == 2
    assert "No such command 'lve'" in result.stderr
