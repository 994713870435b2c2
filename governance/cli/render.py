"""The renderer registry: for one kind of result, which function writes it in which format.

A command renders its result with ``REGISTRY.render(fmt, result)`` instead of an if/else over
formats, and its ``--format`` option offers exactly the formats registered
(``Renderers.option``), so a format a command cannot write is a usage error (exit 2), never a
silent fallback. Renderers write through ``governance.cli.output`` (stdout for the report,
stderr for logs, control characters escaped). Free of typer: the fast path of the entry point
(``governance.cli.fast``) renders with the same registries and offers the same ``formats``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from governance.cli.output import OutputFormat, emit_json

R = TypeVar("R")

# The format of every command whose --format is not given.
DEFAULT_FORMAT = OutputFormat.text


class Renderers(Generic[R]):
    """format -> renderer for one result type ``R``."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._by_format: dict[OutputFormat, Callable[[R], None]] = {}

    def register(self, *formats: OutputFormat) -> Callable[[Callable[[R], None]],
                                                           Callable[[R], None]]:
        """Decorator: the function renders ``R`` in each of ``formats``."""
        def add(renderer: Callable[[R], None]) -> Callable[[R], None]:
            for fmt in formats:
                if fmt in self._by_format:  # two renderers for one format: a bug
                    raise RuntimeError(f"{self.what}: a second renderer for {fmt.value}")
                self._by_format[fmt] = renderer
            return renderer
        return add

    @property
    def formats(self) -> tuple[OutputFormat, ...]:
        """The registered formats, in the order of ``OutputFormat``."""
        return tuple(f for f in OutputFormat if f in self._by_format)

    def option(self, default: OutputFormat = DEFAULT_FORMAT) -> Any:
        """The ``--format`` option offering exactly the registered formats."""
        from governance.cli.options import format_option  # typer: only for the application

        return format_option(*self.formats, default=default)

    def render(self, fmt: OutputFormat, result: R) -> None:
        self._by_format[OutputFormat(fmt)](result)


class SaysJson(Protocol):
    def to_json(self) -> Any: ...


def emit_to_json(result: SaysJson) -> None:
    """The json renderer of every result that states its own JSON (``to_json``)."""
    emit_json(result.to_json())
