"""Safe YAML loading with source locations.

Owns the byte-level and YAML-level checks every governed document goes through before its
schema: size limit, binary content, byte-order mark, UTF-8, tabs, duplicate keys, alias
expansion, a single document. It returns the plain data together with a map from JSON path
(``$.artifact.sha256``) to 1-based line number, so later checks can point at the exact line.

Deliberate choices (documented in the README):
- YAML 1.1 timestamp resolution is switched off: dates and times stay strings and are checked by
  the schema layer (``2026-02-30`` must be an error, not a silent ``datetime``), and
  ``model_version: 2026-04-10`` stays the string it looks like.
- Booleans are only ``true``/``false`` (any case); ``yes``/``no``/``on``/``off`` stay strings.
- Anchors and aliases are allowed but the expanded document may have at most
  ``MAX_EXPANDED_NODES`` nodes: a "billion laughs" alias bomb is refused before it is walked.
- Mapping keys are strings: a key YAML reads as a number, null or boolean (``1:``, ``~:``,
  ``true:``) is refused at its line with "quote it", so no later sort or lookup mixes types.
- Integers are written with at most ``MAX_INT_DIGITS`` digits and documents nest at most
  ``MAX_DEPTH`` levels: both are refused, located, before any conversion or recursion.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from governance.errors import Problem
from governance.input_files import InputFileProblem, read_input

DEFAULT_MAX_BYTES = 1024 * 1024  # governance.config.CONFIG_MAX_BYTES: the same
MAX_EXPANDED_NODES = 100_000
# Governed documents are a few levels deep; a deeper one is refused before anything recurses
# over it (the builder, the locator, the schema validator and the Rego input builder all do).
MAX_DEPTH = 64
# Digits an integer may be written with: far above any count or metric, far below Python's
# 4,300-digit conversion limit (a longer literal would fail in int() or when printed).
MAX_INT_DIGITS = 100
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_DEPTH = (f"nesting deeper than {MAX_DEPTH} levels",
          "governed documents are a few levels deep; flatten the structure")
_BOMB = (f"document expands to more than {MAX_EXPANDED_NODES} nodes through aliases",
         "refused as a possible alias bomb; write the values out explicitly")


class _Resolver(yaml.resolver.Resolver):
    """SafeLoader's resolvers minus timestamps, with booleans restricted to true/false."""


_Resolver.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _PyLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


if getattr(yaml, "__with_libyaml__", False):
    # libyaml's parser is the fast path; marks (lines) and our resolver are the same.
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _CLoader(CParser, yaml.constructor.SafeConstructor, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    _Loader: type = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = _PyLoader


class SourceDocument:
    """A loaded YAML document: its data and, on demand, where each JSON path came from.

    Locations are computed lazily from the node tree: valid documents (the common case) never
    pay for them.
    """

    def __init__(self, file: str, data: Any, node: yaml.Node | None = None,
                 text: str = "") -> None:
        self.file = file
        self.data = data
        self.text = text
        self._node = node
        self._lines: dict[str, int] | None = None
        self._written: dict[str, str] = {}

    @property
    def lines(self) -> dict[str, int]:
        if self._lines is None:
            self._lines = {}
            if self._node is not None:
                _walk(self._node, "$", self._lines, self.file, [0], self._written)
        return self._lines

    @property
    def written(self) -> dict[str, str]:
        """How non-string plain scalars were written (``000...1`` read as the number 1)."""
        _ = self.lines
        return self._written

    def line_of(self, path: str) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        lines = self.lines
        probe = path
        while True:
            if probe in lines:
                return lines[probe]
            if probe == "$":
                return None
            probe = parent_path(probe)


def parent_path(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    if "." in path[1:]:
        return path[: path.rindex(".")]
    return "$"


def child_path(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return f"{path}.{text}"
    return f"{path}[{text!r}]"


class YamlProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def load_yaml_file(path: Path, *, display: str | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> SourceDocument:
    """Read and parse one YAML file; raises YamlProblem with a located message.

    Only a regular file is read (``governance.input_files``): a link, directory, FIFO or
    device is named as what it is, and a file that changes while it is read is refused."""
    name = display or str(path)
    try:
        raw = read_input(path, name, max_bytes)
    except InputFileProblem as err:
        raise YamlProblem(err.problem) from None
    return load_yaml_bytes(raw, name)


def load_yaml_bytes(raw: bytes, name: str) -> SourceDocument:
    if not raw.strip():
        raise YamlProblem(
            Problem(name, 1, "$", "file is empty",
                    "expected a YAML mapping with apiVersion and kind")
        )
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise YamlProblem(
            Problem(name, line, "$", "file is binary (contains a NUL byte)",
                    "expected a UTF-8 YAML text document")
        )
    if raw.startswith(b"\xef\xbb\xbf") or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlProblem(
            Problem(name, 1, "$", "file starts with a byte-order mark",
                    "save it as UTF-8 without BOM: the digest is over exact bytes")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise YamlProblem(
            Problem(name, line, "$",
                    f"file is not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start})",
                    "save the file as UTF-8")
        ) from None
    return parse_yaml_text(text, name)


def parse_yaml_text(text: str, name: str) -> SourceDocument:
    try:
        return _parse_yaml_text(text, name)
    except yaml.reader.ReaderError as err:
        # characters YAML does not allow in a stream (C0/C1 controls, DEL, lone surrogates)
        line = text[: err.position].count("\n") + 1
        raise YamlProblem(Problem(
            name, line, "$", f"character U+{err.character:04X} is not allowed in YAML text"
            if isinstance(err.character, int) else f"malformed YAML: {err.reason}",
            "remove the control character or write it as an escape inside a double-quoted "
            "string")) from None
    except RecursionError:
        raise YamlProblem(Problem(
            name, None, "$", "nesting too deep (or an anchor that contains itself)",
            "governed documents are a few levels deep; write the values out")) from None


def _parse_yaml_text(text: str, name: str) -> SourceDocument:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.composer.ComposerError as err:
        raise YamlProblem(
            _mark_problem(name, err, text, "expected a single YAML document")
        ) from None
    except yaml.MarkedYAMLError as err:
        raise YamlProblem(_mark_problem(name, err, text)) from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlProblem(Problem(name, 1, "$", "file holds no YAML document",
                                  "expected a mapping with apiVersion and kind"))
    deep = _too_deep(node)
    if deep is not None:
        raise YamlProblem(Problem(name, deep[0].start_mark.line + 1, deep[1],
                                  f"nesting deeper than {MAX_DEPTH} levels",
                                  "governed documents are a few levels deep; flatten the value"))
    try:
        data = _Builder(loader).build(node)
    except _NeedsLocation as need:
        # Re-walk with paths to raise the located problem (duplicate key, merge key, bomb);
        # what only the builder can see (keys equal once constructed) is raised from its mark.
        _walk(node, "$", {}, name, [0], {})
        raise YamlProblem(Problem(name, need.line, "$", need.message, need.hint)) from None
    except yaml.MarkedYAMLError as err:
        raise YamlProblem(_mark_problem(name, err, text)) from None
    except RecursionError:  # explicitly tagged collections go through PyYAML's own recursion
        raise YamlProblem(Problem(name, None, "$", *_DEPTH)) from None
    return SourceDocument(file=name, data=data, node=node, text=text)


def _too_deep(root: yaml.Node) -> tuple[yaml.Node, str] | None:
    """The first node found below MAX_DEPTH levels (aliases followed) with its path, else
    None; the root is level 0, as for the builder. Iterative, and each node is expanded once per
    depth bound, so neither recursion nor aliases bite."""
    deepest: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, str]] = [(root, 0, "$")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return node, path
        if deepest.get(id(node), -1) >= depth:
            continue  # already expanded at this depth or deeper
        deepest[id(node)] = depth
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                stack.append((key_node, depth + 1, path))
                stack.append((value_node, depth + 1, child_path(path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(node.value))
    return None


class _NeedsLocation(Exception):
    """The fast build found a problem; the slow walk will say where."""

    def __init__(self, node: yaml.Node, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1
        self.message = message
        self.hint = hint


class _Builder:
    """Builds plain data straight from the node graph in one pass.

    Strings are taken as they are; other scalars go through the safe constructor. Aliased
    nodes are built once and shared. The expanded size is counted the way ``_walk`` counts
    (every node but mapping keys): while building when no node is shared, and otherwise by a
    walk memoised per node, so an alias bomb is refused without being expanded.
    """

    _STR = "tag:yaml.org,2002:str"
    _MERGE = "tag:yaml.org,2002:merge"
    _PLAIN = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.values: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.count = 0
        self.shared = False

    def build(self, node: yaml.Node) -> Any:
        value = self._value(node, 0)
        size = self._size(node) if self.shared else self.count
        if size > MAX_EXPANDED_NODES:
            raise _NeedsLocation(node, *_BOMB)
        return value

    def _size(self, node: yaml.Node) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(v) for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(v) for v in node.value)
        else:
            size = 1
        self.sizes[id(node)] = size
        return size

    def _construct(self, node: yaml.Node, deep: bool = False) -> Any:
        """The safe constructor, with a value that does not fit its tag (``!!float 1{a}``,
        ``!!int 5, x``, an integer too long to convert) made a located problem."""
        try:
            return self.loader.construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as err:
            shown = node.value if isinstance(node.value, str) else type(node).__name__
            if len(shown) > 40:
                shown = f"{shown[:40]}... ({len(shown)} characters)"
            raise _NeedsLocation(node, f"{shown!r} cannot be read as {node.tag}: {err}",
                                 "write a plain value of the expected type") from None

    def _value(self, node: yaml.Node, depth: int) -> Any:
        key = id(node)
        if key in self.values:
            self.shared = True
            return self.values[key]
        if depth > MAX_DEPTH:
            raise _NeedsLocation(node, *_DEPTH)
        self.count += 1
        value: Any
        if not isinstance(node, yaml.ScalarNode) and node.tag not in self._PLAIN:
            # Explicit tags on collections (!!python/..., !!set) go through the safe
            # constructor, which refuses anything it does not know; their size is then walked.
            self.shared = True
            value = self._construct(node, deep=True)
        elif isinstance(node, yaml.ScalarNode):
            if node.tag == self._STR:
                value = node.value
            else:
                if _long_int(node):
                    raise _NeedsLocation(node, *_long_int_problem(node))
                value = self._construct(node)
        elif isinstance(node, yaml.SequenceNode):
            value = [self._value(item, depth + 1) for item in node.value]
        elif isinstance(node, yaml.MappingNode):
            value = {}
            for key_node, value_node in node.value:
                if key_node.tag == self._MERGE or not isinstance(key_node, yaml.ScalarNode):
                    raise _NeedsLocation(key_node, "unsupported mapping key", "")
                if key_node.tag != self._STR:
                    raise _NeedsLocation(key_node, *_key_problem(key_node))
                k = key_node.value
                if k in value:
                    raise _NeedsLocation(key_node, f"duplicate key {k!r}",
                                         "each key may appear once; remove or rename one")
                value[k] = self._value(value_node, depth + 1)
        else:  # pragma: no cover - the composer only makes these three
            raise _NeedsLocation(node, "unsupported YAML node", "")
        self.values[key] = value
        return value


def _long_int(node: yaml.ScalarNode) -> bool:
    return node.tag == _INT_TAG and sum(c.isalnum() for c in node.value) > MAX_INT_DIGITS


def _long_int_problem(node: yaml.ScalarNode) -> tuple[str, str]:
    digits = sum(c.isalnum() for c in node.value)
    return (f"found an integer written with {digits} digits, expected a number of at most "
            f"{MAX_INT_DIGITS} digits", "no governed value is that large; quote it if it is text")


def _key_problem(node: yaml.Node) -> tuple[str, str]:
    shown = node.value if isinstance(node, yaml.ScalarNode) else "?"
    reads = {"tag:yaml.org,2002:null": "null", "tag:yaml.org,2002:bool": "a boolean",
             _INT_TAG: "a number", "tag:yaml.org,2002:float": "a number"}.get(
        node.tag, node.tag.rsplit(":", 1)[-1])
    return (f"found key {shown!r}, which YAML reads as {reads}; expected a string key",
            f"quote it: '{shown}'" if shown else "keys are names")


def _walk(node: yaml.Node, path: str, lines: dict[str, int], name: str,
          count: list[int], written: dict[str, str], depth: int = 0) -> None:
    """Record lines, refuse duplicate keys, non-string keys, over-long integers, deep nesting
    and alias bombs (count of expanded nodes)."""
    count[0] += 1
    if count[0] > MAX_EXPANDED_NODES:
        raise YamlProblem(
            Problem(name, node.start_mark.line + 1, path, *_BOMB)
        )
    if depth > MAX_DEPTH:
        raise YamlProblem(Problem(name, node.start_mark.line + 1, path, *_DEPTH))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        if _long_int(node):
            raise YamlProblem(Problem(name, node.start_mark.line + 1, path,
                                      *_long_int_problem(node)))
        if node.tag != _STR_TAG and not node.style:
            written[path] = node.value
    elif isinstance(node, yaml.MappingNode):
        keys: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(
                    Problem(name, key_node.start_mark.line + 1, path,
                            "merge keys ('<<') are not allowed in governed documents",
                            "write the fields out explicitly")
                )
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(
                    Problem(name, line, path,
                            f"a mapping key is a {key_node.id}, expected a plain string",
                            "keys of governed documents are plain strings")
                )
            key = key_node.value
            if key_node.tag != _STR_TAG:
                raise YamlProblem(Problem(name, line, child_path(path, key),
                                          *_key_problem(key_node)))
            if key in keys:
                raise YamlProblem(
                    Problem(name, line, child_path(path, key),
                            f"duplicate key {key!r} (first defined on line {keys[key]})",
                            "each key may appear once; remove or rename one")
                )
            keys[key] = line
            sub = child_path(path, key)
            lines.setdefault(sub, line)
            _walk(value_node, sub, lines, name, count, written, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, child_path(path, index), lines, name, count, written, depth + 1)


def _tab_at(err: yaml.MarkedYAMLError, text: str) -> bool:
    """libyaml words tab errors differently; look at the offending line itself."""
    mark = err.problem_mark
    if mark is None:
        return False
    lines = text.split("\n")
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return "\t" in line[: len(line) - len(line.lstrip(" \t"))]


def _mark_problem(
    name: str, err: yaml.MarkedYAMLError, text: str, expected: str = ""
) -> Problem:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = err.problem or str(err)
    if "'\\t'" in problem or "\\t" in problem or _tab_at(err, text):
        return Problem(name, line, "$", "tab character used for indentation",
                       "YAML indents with spaces only; replace the tabs")
    message = f"malformed YAML: {problem}"
    if err.context:
        message += f" ({err.context})"
    return Problem(name, line, "$", message, expected or "fix the YAML syntax at that line")
