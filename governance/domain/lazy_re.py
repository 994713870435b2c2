"""Regular expressions compiled when first used (issue 18: start-up).

A module-level ``re.compile`` costs 0.1-1 ms at import, paid by every command that imports the
module even when it never matches anything (a read query never checks a login, a timestamp
given with ``--since``, Markdown or XML escapes). ``lazy(pattern)`` stands for
``re.compile(pattern)``: the first attribute asked for (``match``, ``fullmatch``, ``sub``...)
compiles it, and the compiled pattern's attributes are then kept on the instance, so later
calls cost what the compiled pattern's calls cost.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast


class _Lazy:
    __slots__ = ("__dict__", "_source", "_flags")

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source = source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(self._source, self._flags)
        for attr in ("match", "fullmatch", "search", "sub", "subn", "split", "findall",
                     "finditer", "pattern", "flags", "groups", "groupindex", "scanner"):
            self.__dict__[attr] = getattr(compiled, attr)
        self.__dict__["compiled"] = compiled
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source!r})"


def lazy(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, done on first use (see the module docstring)."""
    return cast("re.Pattern[AnyStr]", _Lazy(pattern, flags))
