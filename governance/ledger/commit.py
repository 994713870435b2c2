"""Ledger commit objects as bytes: the message and trailers we write, the parse we verify.

A ledger commit is an ordinary git commit object (https://git-scm.com/docs/git-commit-tree):
headers ``tree``, ``parent``, ``author``, ``committer``, optionally ``gpgsig`` (the armored
signature, continuation lines prefixed by one space), a blank line, then the message. The signed
payload is the object with the ``gpgsig`` header removed, exactly as git computes it.

Message (trailers per git-interpret-trailers, one ``Key: value`` per line in the last paragraph):
    ledger: <event_type> seq <n>

    Ledger-Seq: <n>
    Ledger-Event-Id: <uuid7>
    Ledger-Leaf: <hex SHA-256(0x00 || stored bytes)>
    Ledger-Prev: <hex SHA-256 of the previous stored bytes, empty at seq 0>
    Ledger-Root: <hex RFC 6962 root over leaves 0..n>
"""

from __future__ import annotations

import re
from typing import NamedTuple

TRAILERS = ("Ledger-Seq", "Ledger-Event-Id", "Ledger-Leaf", "Ledger-Prev", "Ledger-Root")


# identity bytes ("Name <email>") -> (name, email), as Person._parse read them: a ledger has a
# handful of signers, each on thousands of commits
_IDENTITIES: dict[bytes, tuple[str, str]] = {}


class Person(NamedTuple):
    """An author or committer line (immutable; a tuple: built once per commit, cheaply)."""

    name: str
    email: str
    when: int  # Unix seconds
    tz: str

    @classmethod
    def parse(cls, value: bytes) -> Person:
        gt = value.rfind(b">")
        known = _IDENTITIES.get(value[: gt + 1]) if gt > 0 else None
        if known is not None and b"<" not in value[gt + 1 :]:  # name and email read before
            rest = value[gt + 1 :].decode("utf-8", errors="replace").split()
            if len(rest) == 2 and rest[0].lstrip("-").isdigit():
                return cls(known[0], known[1], int(rest[0]), rest[1])
        person = cls._parse(value)
        if gt > 0 and len(_IDENTITIES) < 4096:
            _IDENTITIES[value[: gt + 1]] = (person.name, person.email)
        return person

    @classmethod
    def _parse(cls, value: bytes) -> Person:
        text = value.decode("utf-8", errors="replace")
        lt, gt = text.rfind("<"), text.rfind(">")
        if lt < 0 or gt < lt:
            raise ValueError(f"malformed identity {text[:60]!r}")
        rest = text[gt + 1 :].split()
        if len(rest) != 2 or not rest[0].lstrip("-").isdigit():
            raise ValueError(f"malformed identity date {text[gt + 1 :]!r}")
        return cls(text[:lt].strip(), text[lt + 1 : gt], int(rest[0]), rest[1])


class CommitObject(NamedTuple):
    """A parsed commit object (immutable; a tuple: the verifier builds one per commit)."""

    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    signature: bytes | None
    payload: bytes  # the object without gpgsig: what the signature covers
    message: str
    trailers: dict[str, str]


def parse_commit(raw: bytes) -> CommitObject:
    fast = _split_signed(raw)
    if fast is not None:
        headers, signature, payload, body = fast
        return _commit_object(headers, signature, payload, body)
    return _parse_general(raw)


def signed_parts(raw: bytes) -> tuple[bytes, bytes] | None:
    """(payload, signature) of a commit in the usual shape, exactly as ``parse_commit`` gives
    them; None for any other shape (then use ``parse_commit``)."""
    fast = _split_signed(raw)
    return None if fast is None else (fast[2], fast[1])


def _split_signed(raw: bytes) -> tuple[list[bytes], bytes, bytes, bytes] | None:
    """The shape every signed ledger commit has (headers, then ``gpgsig`` and its continuation
    lines ending the header block, then the message), split by slicing: (other header lines,
    signature, payload, message bytes). None for anything else, which ``_parse_general``
    handles; for the bytes accepted here both give the same result."""
    head, sep, body = raw.partition(b"\n\n")
    at = head.find(b"\ngpgsig ")
    if not sep or at <= 0 or b"\ngpgsig" in head[:at] \
            or head.count(b"\n", at + 1) != head.count(b"\n ", at + 1):
        return None
    kept_head = head[:at]
    lines = kept_head.split(b"\n")
    if lines[0].startswith(b"gpgsig"):
        return None
    return lines, head[at + 8 :].replace(b"\n ", b"\n"), kept_head + b"\n\n" + body, body


def _parse_general(raw: bytes) -> CommitObject:
    head, sep, body = raw.partition(b"\n\n")
    if not sep:
        head, body = raw, b""
    lines = head.split(b"\n")
    tree = ""
    parents: list[str] = []
    author = committer = None
    sig_lines: list[bytes] | None = None
    kept: list[bytes] = []
    in_sig = False
    for line in lines:
        if in_sig and line.startswith(b" "):
            assert sig_lines is not None
            sig_lines.append(line[1:])
            continue
        in_sig = False
        key, _, value = line.partition(b" ")
        if key == b"gpgsig":
            if sig_lines is not None:
                raise ValueError("commit carries two gpgsig headers")
            sig_lines = [value]
            in_sig = True
            continue
        kept.append(line)
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
        elif key == b"author":
            author = Person.parse(value)
        elif key == b"committer":
            committer = Person.parse(value)
    if not tree or author is None or committer is None:
        raise ValueError("commit lacks tree, author or committer")
    payload = b"\n".join(kept) + (b"\n\n" + body if sep else b"")
    message = body.decode("utf-8", errors="replace")
    return CommitObject(tree, tuple(parents), author, committer,
                        b"\n".join(sig_lines) if sig_lines is not None else None,
                        payload, message, parse_trailers(message))


def _commit_object(headers: list[bytes], signature: bytes | None, payload: bytes,
                   body: bytes) -> CommitObject:
    tree = ""
    parents: list[str] = []
    author = committer = None
    author_value = None
    for line in headers:
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
        elif key == b"author":
            author, author_value = Person.parse(value), value
        elif key == b"committer":  # usually the author's bytes: parse once
            committer = author if value == author_value else Person.parse(value)
    if not tree or author is None or committer is None:
        raise ValueError("commit lacks tree, author or committer")
    message = body.decode("utf-8", errors="replace")
    return CommitObject(tree, tuple(parents), author, committer, signature, payload, message,
                        parse_trailers(message))


# a message as ledger_message writes it: its five trailers are the whole last paragraph
_LEDGER_MESSAGE = re.compile(
    r"[^\n]*\n\nLedger-Seq: ([0-9]+)\nLedger-Event-Id: ([0-9a-f-]+)\nLedger-Leaf: ([0-9a-f]+)\n"
    r"Ledger-Prev: ([0-9a-f]*)\nLedger-Root: ([0-9a-f]+)\n")


def parse_trailers(message: str) -> dict[str, str]:
    """Ledger trailers from the last paragraph; a repeated key keeps a marker so it fails."""
    plain = _LEDGER_MESSAGE.fullmatch(message)
    if plain is not None:  # what the general parse below gives for it, read in one match
        return dict(zip(TRAILERS, plain.groups(), strict=True))
    para = message.rstrip("\n").split("\n\n")[-1]
    out: dict[str, str] = {}
    for line in para.split("\n"):
        key, sep, value = line.partition(":")
        if sep and key in TRAILERS:
            out[key] = "\x00duplicate" if key in out else value.strip()
    return out


def ledger_message(event_type: str, seq: int, event_id: str, leaf: str, prev: str,
                   root: str) -> str:
    return (f"ledger: {event_type} seq {seq}\n\n"
            f"Ledger-Seq: {seq}\nLedger-Event-Id: {event_id}\nLedger-Leaf: {leaf}\n"
            f"Ledger-Prev: {prev}\nLedger-Root: {root}\n")


def build_commit(tree: str, parent: str | None, name: str, email: str, when: int,
                 message: str, signature: str | None = None) -> bytes:
    """Commit object bytes; with ``signature`` the gpgsig header is placed as git places it."""
    ident = f"{name} <{email}> {when} +0000"
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    head += f"author {ident}\ncommitter {ident}\n"
    if signature is not None:
        sig = signature.rstrip("\n").replace("\n", "\n ")
        head += f"gpgsig {sig}\n"
    return (head + "\n" + message).encode()


def signing_payload(tree: str, parent: str | None, name: str, email: str, when: int,
                    message: str) -> bytes:
    return build_commit(tree, parent, name, email, when, message)
