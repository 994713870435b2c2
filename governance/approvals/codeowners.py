"""CODEOWNERS: locate, parse and match, with GitHub's semantics (our own implementation).

Owns the reading of a CODEOWNERS file into rules and located errors, and the question "who owns
this path". Pure: callers hand in the file's bytes (read at the pull request's BASE commit,
DESIGN section 6) and get values back.

Rules follow GitHub's documentation, "About code owners"
(https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/
customizing-your-repository/about-code-owners):

- the file is looked up in ``.github/``, then the repository root, then ``docs/``; the first one
  found is used;
- a file of 3 MB or more is not loaded by GitHub: we refuse it (an error, so callers fail closed);
- patterns follow gitignore rules, except that escaping a leading ``#`` with ``\\``, negation with
  ``!`` and character ranges with ``[ ]`` do not work: such lines are reported as errors instead
  of being silently misread;
- paths are case-sensitive;
- the last matching pattern takes precedence;
- a pattern with no owners means the matching files have no code owner;
- a line with invalid syntax is skipped (and reported here with its line number);
- text after ``#`` is a comment, so ``*.js @a # @b`` is owned by ``@a`` only.

Where GitHub departs from gitignore (a final lone ``*`` segment, as in ``docs/*``, matches files
directly in that directory and not deeper ones: the documentation's own example), we follow
GitHub; see docs/approvals.md for the cases cross-checked against ``git check-ignore``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

# Lookup order documented by GitHub: first file found wins.
CODEOWNERS_LOCATIONS: tuple[str, ...] = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
# "CODEOWNERS files must be under 3 MB in size."
MAX_CODEOWNERS_BYTES = 3 * 1024 * 1024

# Owners: @login, @org/team-slug, or an e-mail address. Logins in governance.yaml may carry dots
# (people ids), so the login class is deliberately a little wider than github.com's.
_USER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?")
_TEAM = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]*)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class CodeownersError:
    """One invalid line: skipped, as GitHub skips it, and reported so callers can fail closed."""

    line: int
    source: str
    message: str

    def render(self, file: str) -> str:
        return f"{file}:{self.line}: {self.message} (line: {self.source!r})"


@dataclass(frozen=True)
class Rule:
    """One valid pattern line. ``owners`` may be empty: then matching files have no owner."""

    line: int
    pattern: str
    owners: tuple[str, ...]

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return compile_pattern(self.pattern)

    def matches(self, path: str) -> bool:
        return self._regex.fullmatch(path.lstrip("/")) is not None


@dataclass(frozen=True)
class Codeowners:
    """A parsed CODEOWNERS file: valid rules in file order plus every invalid line."""

    path: str
    rules: tuple[Rule, ...]
    errors: tuple[CodeownersError, ...]

    def rule_for(self, path: str) -> Rule | None:
        """The rule deciding ``path``: the last matching one (GitHub: last match wins)."""
        parts = path.lstrip("/").split("/", 2)
        key = (parts[0], parts[1] if len(parts) > 1 else None)
        for index in self._candidates(key):
            if self.rules[index].matches(path):
                return self.rules[index]
        return None

    @cached_property
    def _index(self) -> dict[tuple[str, str | None] | None, list[int]]:
        """Rules bucketed by the literal leading segments they require (None: any path).

        Only an index: a rule is still decided by its full pattern, and candidates are tried
        in reverse file order, so "last match wins" is unchanged.
        """
        index: dict[tuple[str, str | None] | None, list[int]] = {}
        for i, rule in enumerate(self.rules):
            index.setdefault(_literal_prefix(rule.pattern), []).append(i)
        return index

    def _candidates(self, key: tuple[str, str | None]) -> list[int]:
        cache: dict[tuple[str, str | None], list[int]] = self.__dict__.setdefault("_cache", {})
        found = cache.get(key)
        if found is None:
            idx = self._index
            merged = idx.get(None, []) + idx.get((key[0], None), [])
            if key[1] is not None:
                merged += idx.get(key, [])
            found = cache[key] = sorted(merged, reverse=True)
        return found

    def owners_of(self, path: str) -> tuple[str, ...]:
        """Owners of ``path``; empty when no rule matches or the deciding rule lists none."""
        rule = self.rule_for(path)
        return rule.owners if rule else ()

    def error_lines(self) -> list[str]:
        return [e.render(self.path) for e in self.errors]


class CodeownersTooLarge(ValueError):
    """The file is 3 MB or more: GitHub ignores it, so we refuse to read it."""


def parse(data: bytes | str, path: str = "CODEOWNERS") -> Codeowners:
    """Parse a CODEOWNERS document; never raises for syntax, collects located errors instead.

    Raises ``CodeownersTooLarge`` for a document of 3 MB or more.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) >= MAX_CODEOWNERS_BYTES:
        raise CodeownersTooLarge(
            f"{path}: {len(raw)} bytes; GitHub ignores a CODEOWNERS file of 3 MB "
            f"({MAX_CODEOWNERS_BYTES} bytes) or more"
        )
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark is not a pattern
    except UnicodeDecodeError as err:
        return Codeowners(path, (), (CodeownersError(1, "", f"not UTF-8: {err.reason}"),))
    rules: list[Rule] = []
    errors: list[CodeownersError] = []
    # lines end at "\n" (optionally "\r\n"); str.splitlines would also split on \x0b, \x1c...,
    # shifting line numbers away from the ones GitHub reports
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.removesuffix("\r")
        rule, error = parse_line(line, number)
        if rule is not None:
            rules.append(rule)
        if error is not None:
            errors.append(error)
    return Codeowners(path, tuple(rules), tuple(errors))


def parse_line(line: str, number: int) -> tuple[Rule | None, CodeownersError | None]:
    """One line: a rule, an error, or neither (blank line, comment)."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None, None
    pattern, *rest = _tokens(stripped)
    problem = pattern_problem(pattern)
    if problem:
        return None, CodeownersError(number, line, problem)
    owners: list[str] = []
    for token in rest:
        if token.startswith("#"):
            break  # inline comment: nothing after it grants ownership
        if not (_USER.fullmatch(token) or _TEAM.fullmatch(token) or _EMAIL.fullmatch(token)):
            return None, CodeownersError(
                number,
                line,
                f"owner {token!r} is not @login, @org/team or an e-mail address",
            )
        owners.append(token)
    return Rule(number, pattern, tuple(owners)), None


def _tokens(stripped: str) -> list[str]:
    """Split on unescaped whitespace; ``\\ `` is an escaped space inside a pattern."""
    tokens: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(stripped):
        ch = stripped[i]
        if ch == "\\" and i + 1 < len(stripped) and stripped[i + 1] == " ":
            current.append(" ")
            i += 2
            continue
        if ch.isspace():
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        tokens.append("".join(current))
    return tokens


def pattern_problem(pattern: str) -> str:
    """Why GitHub would not honour ``pattern`` ('' when it is fine)."""
    if pattern.startswith("\\#"):
        return "escaping a leading '#' with '\\' does not work in CODEOWNERS (GitHub docs)"
    if pattern.startswith("!"):
        return "negation with '!' does not work in CODEOWNERS (GitHub docs)"
    if "[" in pattern or "]" in pattern:
        return "character ranges with '[ ]' do not work in CODEOWNERS (GitHub docs)"
    if "\\" in pattern:
        return "backslash escapes are not supported in CODEOWNERS patterns (only '\\ ' for space)"
    if "***" in pattern:
        return "three consecutive asterisks have no meaning in a pattern"
    if pattern == "/":
        return "'/' alone matches no file"
    return ""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Translate a valid CODEOWNERS pattern into a regex over repository-relative paths.

    gitignore (https://git-scm.com/docs/gitignore#_pattern_format): a slash at the start or in the
    middle anchors the pattern at the root, otherwise it matches at any depth; a trailing slash
    matches directories only (so: files below it); ``*`` and ``?`` never match ``/``; a leading
    ``**/`` matches in all directories, a trailing ``/**`` everything inside, ``/**/`` zero or more
    directories. A pattern that names a directory owns every file below it.
    """
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/") if dir_only else pattern
    anchored = "/" in body
    segments = body.lstrip("/").split("/")
    if not anchored and segments[0] != "**":
        segments = ["**", *segments]
    last = len(segments) - 1
    out: list[str] = []
    for i, seg in enumerate(segments):
        if seg == "**":
            if i == 0:
                out.append(".+" if i == last else "(?:.+/)?")
            else:
                out.append("/.+" if i == last else "(?:/.+)?")
            continue
        if i > 0 and not (i == 1 and segments[0] == "**"):
            out.append("/")
        out.append(_segment(seg))
    if segments[-1] == "**":
        pass  # already matches everything below
    elif dir_only:
        out.append("/.+")  # directories only: the files below them
    elif segments[-1] == "*" and (len(segments) > 1 or anchored):
        # GitHub's documented departure from gitignore: "docs/*" owns docs/a.md, not docs/b/c.md
        pass
    else:
        out.append("(?:/.+)?")  # a name that is a directory owns everything below it
    return re.compile("".join(out))


def _is_literal(seg: str) -> bool:
    return bool(seg) and not any(c in seg for c in "*?")


def _literal_prefix(pattern: str) -> tuple[str, str | None] | None:
    """The literal first (and second) path segment an anchored pattern requires, if any."""
    body = pattern.rstrip("/")
    if "/" not in body:
        return None  # unanchored: matches at any depth
    segments = body.lstrip("/").split("/")
    if not _is_literal(segments[0]):
        return None
    second = segments[1] if len(segments) > 1 and _is_literal(segments[1]) else None
    return (segments[0], second)


def _segment(seg: str) -> str:
    if seg == "*":
        return "[^/]+"
    parts: list[str] = []
    for ch in seg:
        if ch == "*":
            parts.append("[^/]*")
        elif ch == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def locate(read: Callable[[str], bytes | None]) -> tuple[str, bytes] | None:
    """Find the CODEOWNERS file GitHub would use; ``read(path)`` returns bytes or None."""
    for location in CODEOWNERS_LOCATIONS:
        data = read(location)
        if data is not None:
            return location, data
    return None


def load(read: Callable[[str], bytes | None]) -> Codeowners | None:
    """Locate and parse; None when the repository has no CODEOWNERS file."""
    found = locate(read)
    if found is None:
        return None
    path, data = found
    return parse(data, path)


def owners_by_path(codeowners: Codeowners, paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {p: codeowners.owners_of(p) for p in paths}
