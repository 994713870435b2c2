"""The processor a benchmark ran on, for the header of its results."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The ``model name`` of /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"
