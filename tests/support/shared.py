"""Build an expensive, read-only test template once per run, even with pytest-xdist workers.

A session-scoped fixture runs once per *process*: with ``-n 2`` each worker would build its own
copy of, say, the lifecycle world (a dozen real CLI runs, real keys, real git). ``shared_dir``
builds the template once in the run's temporary root (shared by the workers of that run only;
every run gets a fresh root from pytest), under an exclusive ``flock``, and lets every other
worker wait for it and reuse it. Tests never touch a template: they copy it (``cp -a`` style)
into their own ``tmp_path``, so nothing mutable is shared between tests.

A build that fails leaves no completion marker: the next worker that asks rebuilds from
scratch and reports its own failure, so an error is never hidden behind a half-built template.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def run_root(factory: pytest.TempPathFactory) -> Path:
    """This run's temporary root: shared by its xdist workers, fresh for every run."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_dir(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
               ) -> Path:
    """``run_root/shared/name``, built by ``build(path)`` (``path`` does not exist yet) by the
    first worker that asks; the others wait on the lock and get the finished directory."""
    shared = run_root(factory) / "shared"
    shared.mkdir(exist_ok=True)
    target = shared / name
    done = shared / f"{name}.done"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                if target.exists():  # a worker's build failed half-way: start again
                    shutil.rmtree(target)
                build(target)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target
