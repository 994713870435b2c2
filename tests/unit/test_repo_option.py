"""Every command that reads or writes a governed repository takes ``--repo`` (issue 20 item 3),
with the one shared definition (``governance.cli.options.REPO``); the commands without it are
an explicit allow-list, each with its reason. The behaviour (the same answer with ``--repo``
as from inside the repository) is tested in tests/integration/test_repo_option.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
import typer.main

from governance.cli.app import app
from governance.cli.options import REPO

# command -> why it takes no --repo
WITHOUT_REPO = {
    "init": "scaffolds the directory given as its argument (DIR), which is not a governed "
            "repository yet",
    "demo": "runs the whole lifecycle on a temporary repository it creates",
    "schema export": "writes the shipped JSON Schemas into the directory given as its "
                     "argument; reads no repository",
    "policy test": "takes the policy directory as its argument (any Rego bundle)",
    "policy lint": "takes the policy directory as its argument (any Rego bundle)",
}


def leaf_commands() -> Iterator[tuple[str, click.Command]]:
    root = typer.main.get_command(app)
    ctx = click.Context(root)

    def walk(command: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                yield from walk(command.commands[name], [*path, name])
        else:
            yield " ".join(path), command

    yield from walk(root, [])


def repo_option(command: click.Command) -> click.Option | None:
    return next((p for p in command.params
                 if isinstance(p, click.Option) and "--repo" in p.opts), None)


LEAVES = dict(leaf_commands())
WITH_REPO = sorted(name for name, command in LEAVES.items() if repo_option(command) is not None)


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_every_repository_command_takes_the_shared_repo_option(name: str) -> None:
    option = repo_option(LEAVES[name])
    if name in WITHOUT_REPO:
        assert option is None, f"{name} takes --repo: drop it from WITHOUT_REPO"
        return
    assert option is not None, (f"governance {name} has no --repo: add "
                                "governance.cli.options.REPO (or justify it in WITHOUT_REPO)")
    assert option.opts == ["--repo"] and option.help == REPO.help
    assert str(option.default) == "."


def test_the_allow_list_names_real_commands() -> None:
    assert set(WITHOUT_REPO) <= set(LEAVES)
    assert len(WITH_REPO) == len(LEAVES) - len(WITHOUT_REPO)
