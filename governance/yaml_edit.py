"""YAML edited in place by tools: comments, key order and quoting kept.

The people and keys commands change governance.yaml for the user, so the file a team wrote
(its comments explain the configuration) must come back as they wrote it plus the change; the
demo fills a model card skeleton the same way. This module is the round-trip adapter
(ruamel.yaml, the only importer of it): ``load`` reads governance.yaml for editing, ``parse``
any YAML text, ``render`` writes a document back, and ``checked`` validates the new text with the
project's own safe loader and schema (``governance.yaml_source``, ``governance.records``), so a
problem is reported with the line it would have in the file written. ``write`` replaces the file
atomically (temporary file in the same directory, fsync, rename): a crash leaves either the old
or the new configuration, never half of one.

The current file is read first through the safe loader (``governance.config.load_config``): a
configuration that does not validate is never edited (the user fixes it first, with the located
message), and ruamel only ever parses text the safe loader already accepted.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tokens import CommentToken

from governance.config import CONFIG_FILE, load_config
from governance.domain.config import GovernanceConfig
from governance.errors import InvalidInput
from governance.records import build_config, validate_document
from governance.yaml_source import YamlProblem, load_yaml_bytes


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a key line or a long description
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load(root: Path) -> tuple[GovernanceConfig, Any]:
    """The validated configuration and its round-trip document for editing."""
    config = load_config(root)  # the safe loader first: refuses an invalid file, located
    doc = _yaml().load((root / CONFIG_FILE).read_text(encoding="utf-8"))
    return config, doc


def parse(text: str) -> Any:
    """A round-trip document of ``text`` (already accepted by the project's safe loader)."""
    return _yaml().load(text)


def render(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def checked(text: str) -> GovernanceConfig:
    """The configuration ``text`` would be, or InvalidInput with every located problem."""
    try:
        source = load_yaml_bytes(text.encode("utf-8"), CONFIG_FILE)
    except YamlProblem as err:
        raise InvalidInput([err.problem], message=f"the edited {CONFIG_FILE} would not load; "
                           "nothing was written") from None
    problems = validate_document(source, "GovernanceConfig")
    if problems:
        raise InvalidInput(problems, message=f"the edited {CONFIG_FILE} would be invalid; "
                           "nothing was written")
    return build_config(source.data)


def write(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (mode kept)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mapping() -> CommentedMap:
    return CommentedMap()


def block_list(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_block_style()
    return seq


def flow_list(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def ensure_list(parent: Any, key: str, *, flow: bool) -> Any:
    """``parent[key]`` as an editable list (created when absent or null); an empty list written
    ``[]`` in a block list's place becomes a block list when it gets its first item."""
    current = parent.get(key)
    if not isinstance(current, CommentedSeq):
        current = flow_list([]) if flow else block_list([])
        if key in parent:
            parent[key] = current
        else:
            set_new_key(parent, key, current)
    elif not current:
        if flow:
            current.fa.set_flow_style()
        else:
            current.fa.set_block_style()
    return current


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Where ruamel keeps the comment that follows ``node`` in the text: on its deepest last
    scalar (a map keeps it at position 2 of ``ca.items[key]``, a sequence at position 0)."""
    if isinstance(node, CommentedMap) and node:
        key = list(node.keys())[-1]
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and value \
                and not value.fa.flow_style():
            return _last_slot(value)
        return node, key, 2
    if isinstance(node, CommentedSeq) and node:
        index = len(node) - 1
        value = node[index]
        if isinstance(value, (CommentedMap, CommentedSeq)) and value \
                and not value.fa.flow_style():
            return _last_slot(value)
        return node, index, 0
    return None


def _take_trailing(node: Any) -> Any:
    slot = _last_slot(node)
    if slot is None:
        return None
    container, key, pos = slot
    item = container.ca.items.get(key)
    if item is None or len(item) <= pos or item[pos] is None:
        return None
    token = item[pos]
    value = str(token.value)
    if value.startswith("\n"):
        item[pos] = None
        return token
    # an inline comment on the old last line stays there; only the lines after it move
    first, _, rest = value.partition("\n")
    if not rest.strip():
        return None
    token.value = first + "\n"
    return CommentToken("\n" + rest, token.start_mark, None)


def _put_trailing(node: Any, token: Any) -> None:
    slot = _last_slot(node) if token is not None else None
    if slot is not None:
        container, key, pos = slot
        item = container.ca.items.setdefault(key, [None, None, None, None])
        kept = item[pos]
        if kept is not None:  # an inline comment there: the moved lines follow it
            kept.value = str(kept.value).rstrip("\n") + "\n" + str(token.value).lstrip("\n")
        else:
            item[pos] = token


def append_item(seq: Any, item: Any) -> None:
    """Append to a list keeping the comment that followed the list after it (ruamel attaches it
    to the old last item, which would leave it between the items)."""
    token = _take_trailing(seq)
    seq.append(item)
    _put_trailing(seq, token)


def delete_item(parent: Any, key: str, index: int) -> None:
    """Delete ``parent[key][index]`` keeping the comment that followed the list after it (an
    emptied list is written ``[]``, the comment after it)."""
    seq = parent[key]
    token = _take_trailing(seq)
    del seq[index]
    if len(seq):
        _put_trailing(seq, token)
    else:
        seq.fa.set_flow_style()
        if token is not None:
            item = parent.ca.items.setdefault(key, [None, None, None, None])
            item[2] = token


def set_new_key(parent: Any, key: str, value: Any) -> None:
    """Add ``key`` at the end of a mapping, keeping the comment (or blank line) that followed
    the mapping after it."""
    token = _take_trailing(parent)
    parent[key] = value
    _put_trailing(parent, token)
