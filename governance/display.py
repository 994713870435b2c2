"""How files are named in messages: relative to the working directory, or to the repository a
command was pointed at with ``--repo`` (set once by the composition root, ``governance.service``).

Kept apart from ``governance.records`` so that the composition root can set the display base
without loading the YAML reader or the schema checker (a warm read query loads neither).
"""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when inside it;
    else, for a command run on a repository elsewhere (``--repo``), relative to that
    repository's root when inside it, as if the command ran there (``display_from``)."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.relative_to(_cwd()).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(_cwd()).as_posix()
        except ValueError:
            base = _repository_base()
            if base is not None:
                try:
                    return path.resolve().relative_to(base).as_posix()
                except ValueError:
                    pass
            return str(path)


# (working directory, repository root): set by the composition root (governance.service) for a
# command run from outside the repository it works on; applies while the working directory is
# the one it was set in.
_BASE: tuple[str, Path] | None = None


def display_from(root: Path) -> None:
    """Name files of the repository at ``root`` relative to it when the working directory is
    outside it (a command given ``--repo``): the output then reads as it does when the command
    runs at the repository root. Inside the repository nothing changes."""
    global _BASE
    resolved = root.resolve()
    here = _cwd()
    inside = here == resolved or resolved in here.parents
    _BASE = None if inside else (os.getcwd(), resolved)


def _repository_base() -> Path | None:
    if _BASE is None or _BASE[0] != os.getcwd():
        return None
    return _BASE[1]


_CWD: tuple[str, Path] = ("", Path())


def _cwd() -> Path:
    """The working directory, resolved; remembered while it stays the same (``display_path``
    runs for every file loaded, and resolving costs a system call per path component)."""
    global _CWD
    here = os.getcwd()
    if _CWD[0] != here:
        _CWD = (here, Path(here).resolve())
    return _CWD[1]
