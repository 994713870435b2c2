"""Standard streams a process started without (``governance live M --env E >&-``).

Python leaves ``sys.stdout`` (``stdin``, ``stderr``) as None when its descriptor was closed at
start-up. Left so, a command would fail on its first write outside ``click.echo`` (JSON, CSV,
``--version``: an ``internal error`` or a traceback), and the next file the process opens would
take the free descriptor 0, 1 or 2, where a child process (git, ssh-keygen) would read or write
it as its standard stream. ``attach_closed_streams`` gives each such stream /dev/null first:
what the command prints is dropped (as ``click.echo`` drops it with no stream) and the command
ends with its own exit status.
"""

from __future__ import annotations

import os
import sys

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))


def attach_closed_streams() -> None:
    """Attach /dev/null to every standard stream that is None with its descriptor free; a
    descriptor already taken (by a file opened since the start) is left alone."""
    for fd, name, mode in _STREAMS:
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
            continue  # taken since the start: not ours to replace
        except OSError:
            pass
        try:
            got = os.open(os.devnull, os.O_RDONLY if mode == "r" else os.O_WRONLY)
            if got != fd:
                os.dup2(got, fd)  # inheritable, as a standard stream is
                os.close(got)
            else:
                os.set_inheritable(fd, True)  # os.open's descriptors are not (PEP 446)
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
        except OSError:  # no /dev/null: the stream stays None (click.echo writes nothing)
            continue
