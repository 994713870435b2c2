"""One error hierarchy for the whole package.

Every error a user can cause carries an exit code from the CLI contract (DESIGN section 8) and a
``diagnostics()`` text a person can act on: where (file, line, JSON path), what was found, what
was expected, and what to do next. The CLI catches ``GovernanceError`` in exactly one place
(``governance.cli.app``); anything else is a bug and is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from governance.domain.frozen import frozen

# Exit codes of the CLI contract (DESIGN section 8).
EXIT_PASS = 0
EXIT_NO = 1  # denied, invalid, tampered, unknown target
EXIT_USAGE = 2
EXIT_UNDECIDED = 3  # engine error, API failure, missing configuration


@frozen
class Problem:
    """One located problem in an input document.

    ``message`` states what was found and what was expected; ``hint`` is the next step.
    """

    file: str
    line: int | None
    path: str  # JSON path such as ``$.artifact.sha256``; ``$`` for the whole document
    message: str
    hint: str = ""

    def location(self) -> str:
        # a file name with a newline or control character (releases/ok\n/) is shown escaped,
        # so the location stays on one line and says what is there
        name = self.file if self.file.isprintable() else self.file.encode(
            "unicode_escape").decode("ascii")
        where = name if self.line is None else f"{name}:{self.line}"
        return f"{where} {self.path}"

    def render(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class GovernanceError(Exception):
    """Base class: a failure with an exit code and an actionable explanation."""

    exit_code = EXIT_NO

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        text = self.message
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class InvalidInput(GovernanceError):
    """One or more documents are invalid; carries every problem found (exit 1)."""

    exit_code = EXIT_NO

    def __init__(self, problems: Sequence[Problem], *, message: str = "") -> None:
        self.problems = list(problems)
        n = len(self.problems)
        summary = message or f"{n} problem{'s' if n != 1 else ''} found"
        super().__init__(summary)

    def diagnostics(self) -> str:
        lines = [p.render() for p in self.problems]
        lines.append(self.message)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.diagnostics()


class NotFound(GovernanceError):
    """An unknown model, release, environment or event (exit 1)."""

    exit_code = EXIT_NO


class AlreadyExists(GovernanceError):
    """A target that would be overwritten already exists (exit 1)."""

    exit_code = EXIT_NO


class Denied(GovernanceError):
    """The answer is no: a gate, approval rule or lifecycle rule refused (exit 1).

    A denial says what would remedy it: its ``hint`` is printed as ``remediation:``, the word
    ``check`` uses under each failed gate, so every command's "no" reads the same way.
    """

    exit_code = EXIT_NO

    def diagnostics(self) -> str:
        text = self.message
        if self.hint:
            text += f"\nremediation: {self.hint}"
        return text


class Tampered(GovernanceError):
    """The ledger or an export does not verify (exit 1)."""

    exit_code = EXIT_NO


class UsageError(GovernanceError):
    """A malformed option value, time or argument (exit 2)."""

    exit_code = EXIT_USAGE


class Undecided(GovernanceError):
    """Could not decide: engine error, API failure, missing configuration (exit 3).

    Callers that gate anything treat this as a denial (fail closed).
    """

    exit_code = EXIT_UNDECIDED


class LedgerMoved(Undecided):
    """The ledger tip moved after a decision was made on it: the event was NOT appended, and the
    caller decides again on the new tip (deciding commands retry; exit 3 if it keeps moving)."""


class ConfigurationError(Undecided):
    """Missing or unusable configuration (exit 3)."""


def problems_text(problems: Iterable[Problem]) -> str:
    return "\n".join(p.render() for p in problems)
