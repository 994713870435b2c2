"""Locating a governed repository and loading its governance.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from governance.domain.config import GovernanceConfig
from governance.errors import ConfigurationError, InvalidInput

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


CONFIG_MAX_BYTES = 1024 * 1024  # governance.yaml_source.DEFAULT_MAX_BYTES (not imported: yaml)


def load_config(root: Path, *, remembered: bool = False) -> GovernanceConfig:
    """Load and validate ``root/governance.yaml``; every problem is reported at once.

    ``remembered`` (read queries only: live, history, audit query): a configuration validated
    earlier from exactly these bytes is taken from ``governance.config_cache`` without parsing
    it again. Every load that parses and validates the file refreshes that entry."""
    from governance import config_cache
    from governance.input_files import InputFileProblem, read_input

    path = root / CONFIG_FILE
    if not os.path.lexists(path):
        raise ConfigurationError(f"{path} does not exist",
                                 hint="create one with `governance init`")
    try:
        raw: bytes | None = read_input(path, str(path), CONFIG_MAX_BYTES)
    except InputFileProblem:
        raw = None  # named, with its location, by the loader below
    if remembered and raw is not None:
        config = config_cache.recall(root, raw)
        if config is not None:
            return config
    from governance.records import display_path, load_bytes, load_file

    display = display_path(path)
    if raw is None:
        loaded, problems = load_file(path, display=display, max_bytes=CONFIG_MAX_BYTES)
    else:  # the bytes read once: what is checked is what is remembered
        loaded, problems = load_bytes(raw, display, "GovernanceConfig")
    if problems or loaded is None:
        raise InvalidInput(problems, message=f"{CONFIG_FILE} is invalid")
    if raw is not None:
        config_cache.remember(root, raw, loaded.source.data)
    result: GovernanceConfig = loaded.value
    return result
