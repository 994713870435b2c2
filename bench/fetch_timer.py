"""The SQL share of an organisation answer (org_bench.py, org_query_ab.py): the time an
``OrgSource`` spends in its ``_fetch`` (statements and row transfer), summed per answer.

No governance import here: org_query_ab.py loads it beside another checkout's reader.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def timed_fetches(src: Any) -> Iterator[list[float]]:
    """While open, ``src._fetch`` adds its wall seconds to the yielded one-item list (reset it
    to 0.0 before each answer); the original method is put back on leaving."""
    original = src._fetch
    spent = [0.0]

    def fetch(query: str, args: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(query, args)
        finally:
            spent[0] += time.perf_counter() - start

    src._fetch = fetch
    try:
        yield spent
    finally:
        src._fetch = original
