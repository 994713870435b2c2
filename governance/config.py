"""Locating a governed repository and loading its governance.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from governance.domain.config import GovernanceConfig
from governance.errors import ConfigurationError, InvalidInput
from governance.records import display_path, load_file

CONFIG_FILE = "governance.yaml"
STATE_DIR = ".governance"  # local state (index, cursors, locks); never committed


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` that holds governance.yaml."""
    probe = start.resolve()
    if probe.is_file():
        probe = probe.parent
    for candidate in (probe, *probe.parents):
        # whatever it is (a directory, a link, a FIFO): the repository is here, and loading
        # governance.yaml names what is wrong with it instead of looking further up
        if os.path.lexists(candidate / CONFIG_FILE):
            return candidate
    return None


def require_root(start: Path) -> Path:
    root = find_root(start)
    if root is None:
        raise ConfigurationError(
            f"no {CONFIG_FILE} found in {start} or any parent directory",
            hint="run inside a governed repository, or create one with `governance init DIR`",
        )
    return root


def load_config(root: Path) -> GovernanceConfig:
    """Load and validate ``root/governance.yaml``; every problem is reported at once."""
    path = root / CONFIG_FILE
    if not os.path.lexists(path):
        raise ConfigurationError(f"{path} does not exist",
                                 hint="create one with `governance init`")
    loaded, problems = load_file(path, display=display_path(path))
    if problems or loaded is None:
        raise InvalidInput(problems, message=f"{CONFIG_FILE} is invalid")
    config: GovernanceConfig = loaded.value
    return config
