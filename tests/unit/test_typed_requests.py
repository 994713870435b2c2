"""Every command parses its options into a typed request and renders through a registry.

Issue 20 item 3: a command parses its options into a frozen request dataclass defined outside
``governance.cli`` (a core module: ``governance.reading``, ``governance.deciding``,
``governance.checking``, ...), calls one use case with it, and renders the result through a
``governance.cli.render.Renderers`` registry. This test reads each command's function (its
syntax tree, names resolved in its own module) and checks both. The commands that do not do it
yet are listed in ``NOT_YET`` below: an entry there must really lack a typed request (so a
converted command has to leave the list) and every other command must have one (so a new
command cannot join it): the list can only shrink.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import click
import typer
import typer.main

from governance.cli.app_support import ListingGroup
from governance.cli.command_table import COMMANDS
from governance.cli.render import Renderers

# The commands still without a typed request and a renderer registry (issue 20 item 3):
# ``demo`` streams each step's output as the step runs (governance.demo.main(emit, keep)), so
# rendering one result at the end would hold the whole run's output back.
NOT_YET = frozenset({
    "demo",
})


def _application() -> click.Group:
    app = typer.Typer(cls=ListingGroup)
    for module in dict.fromkeys(m for entry in COMMANDS for m in entry.modules):
        importlib.import_module(f"governance.cli.{module}").register(app)
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return group


def _commands(group: click.Group, prefix: tuple[str, ...] = ()
              ) -> Iterator[tuple[str, Callable[..., Any]]]:
    for name, sub in group.commands.items():
        if isinstance(sub, click.Group):
            yield from _commands(sub, (*prefix, name))
        else:
            callback = sub.callback
            assert callback is not None
            yield " ".join((*prefix, name)), getattr(callback, "__wrapped__", callback)


def _resolve(node: ast.expr, names: dict[str, Any]) -> Any:
    """The object a name or dotted attribute denotes in the function's module, or None."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, names)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _is_core_request(obj: Any) -> bool:
    return (inspect.isclass(obj) and dataclasses.is_dataclass(obj)
            and obj.__dataclass_params__.frozen  # type: ignore[attr-defined]
            and obj.__name__.endswith("Request")
            and obj.__module__.startswith("governance.")
            and not obj.__module__.startswith("governance.cli"))


def _names(function: Callable[..., Any]) -> dict[str, Any]:
    """The names a function sees: its module's globals and what it imports in its body (a
    command imports its use case there when that module is heavy, issue 18)."""
    names = dict(function.__globals__)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                try:
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:
                    value = getattr(importlib.import_module(node.module), alias.name)
                names[alias.asname or alias.name] = value
    return names


def _calls(function: Callable[..., Any]) -> list[ast.Call]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _renders(function: Callable[..., Any], depth: int = 1) -> bool:
    """The function renders through a registry, itself or in a helper of ``governance.cli``
    it calls (``_render(outcome, fmt)``)."""
    names = _names(function)
    for call in _calls(function):
        if (isinstance(call.func, ast.Attribute) and call.func.attr == "render"
                and isinstance(_resolve(call.func.value, names), Renderers)):
            return True
        helper = _resolve(call.func, names)
        if (depth > 0 and inspect.isfunction(helper)
                and helper.__module__.startswith("governance.cli")
                and _renders(helper, depth - 1)):
            return True
    return False


def _builds_request(function: Callable[..., Any], depth: int = 1) -> bool:
    """The function builds a core request, itself or in a helper of ``governance.cli`` it
    calls (``reads.status(...)``: the body the typer command shares with the fast path)."""
    names = _names(function)
    for call in _calls(function):
        target = _resolve(call.func, names)
        if _is_core_request(target):
            return True
        if (depth > 0 and inspect.isfunction(target)
                and target.__module__.startswith("governance.cli")
                and _builds_request(target, depth - 1)):
            return True
    return False


def _typed(function: Callable[..., Any]) -> bool:
    return _builds_request(function) and _renders(function)


def test_the_commands_without_a_typed_request_are_exactly_the_allow_list() -> None:
    found = dict(_commands(_application()))
    assert NOT_YET <= set(found), f"not commands: {sorted(NOT_YET - set(found))}"
    untyped = {name for name, function in found.items() if not _typed(function)}
    assert not untyped - NOT_YET, (
        f"parse the options of {sorted(untyped - NOT_YET)} into a frozen *Request of a core "
        "module and render through a Renderers registry (or, never, add them to NOT_YET)")
    assert not NOT_YET - untyped, (
        f"{sorted(NOT_YET - untyped)} now have a typed request: remove them from NOT_YET")


def test_the_check_recognises_a_typed_command_and_refuses_an_untyped_one() -> None:
    from governance.cli import commands_audit

    assert _typed(commands_audit.live)
    assert not _typed(_application().commands["demo"].callback  # type: ignore[arg-type]
                      .__wrapped__)  # type: ignore[union-attr]
