"""Signed checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed notes, Ed25519 log key.

Formats (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note):
    <origin>\\n<tree size, decimal>\\n<base64 RFC 6962 root hash>\\n
followed by an empty line and one signature line per signer
    \\u2014 <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\\n
The Ed25519 signature is over the body bytes. The key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key), 0x01 being the signed-note Ed25519
signature type. The key name is the ledger origin (``ledger.origin`` in governance.yaml).

A checkpoint commits to every event up to its size: a rewritten history, even re-signed with
valid commit keys, no longer reproduces an earlier checkpoint's root.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from governance.ledger.sshsig import ed25519_verify

if TYPE_CHECKING:  # signing only (imported there): verifying a note needs libsodium alone
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIG_PREFIX = "\u2014 "
ALG_ED25519 = 0x01


class CheckpointError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LogKey:
    """A log verifier key: the note key name and the raw Ed25519 public key."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def vkey(self) -> str:
        """The signed-note verifier key string ``name+hexid+base64(0x01||key)``."""
        enc = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{enc}"


class Checkpoint(NamedTuple):
    """A parsed checkpoint (immutable; a tuple: the verifier parses one per stored note)."""

    origin: str
    size: int
    root: bytes
    note: str  # the whole signed note text, as stored and exported

    @property
    def body(self) -> str:
        return self.note.split("\n\n", 1)[0] + "\n"


@functools.lru_cache(maxsize=256)
def key_id(name: str, public: bytes) -> bytes:
    """The signed-note key id (a ledger has a handful of log keys, asked for at every note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def log_key_of(name: str, private: Ed25519PrivateKey) -> LogKey:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    return LogKey(name=name, public=raw)


def body_text(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise CheckpointError("checkpoint origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(origin: str, size: int, root: bytes, private: Ed25519PrivateKey) -> str:
    """A signed note over the checkpoint body, key name = origin."""
    body = body_text(origin, size, root)
    key = log_key_of(origin, private)
    sig = private.sign(body.encode())
    line = f"{SIG_PREFIX}{origin} {base64.b64encode(key.key_id + sig).decode()}\n"
    return f"{body}\n{line}"


def parse_checkpoint(note: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """Split a note into its checkpoint and raw signature lines (name, key id, signature)."""
    if "\n\n" not in note:
        raise CheckpointError("not a signed note (no blank line before signatures)")
    body, sigs_text = note.split("\n\n", 1)
    lines = body.split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise CheckpointError("checkpoint root is not base64") from None
    if len(root) != 32:
        raise CheckpointError(f"checkpoint root has {len(root)} bytes, expected 32")
    if not sigs_text.endswith("\n"):
        raise CheckpointError("signature lines must end with a newline")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in sigs_text[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise CheckpointError(f"malformed signature line {line[:40]!r}")
        parts = line[len(SIG_PREFIX):].split(" ")
        if len(parts) != 2:
            raise CheckpointError(f"malformed signature line {line[:40]!r}")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except ValueError:  # binascii.Error, or a non-ASCII character
            raise CheckpointError("signature is not base64") from None
        if len(blob) < 5:
            raise CheckpointError("signature too short")
        sigs.append((parts[0], blob[:4], blob[4:]))
    if not sigs:
        raise CheckpointError("signed note carries no signature")
    return Checkpoint(origin, int(size_text), root, note), sigs


def verify_checkpoint(note: str, keys: Iterable[LogKey]) -> tuple[Checkpoint, LogKey]:
    """Parse and verify a checkpoint note against the known log keys.

    Raises CheckpointError naming why: malformed, signed only by unknown keys, or a known key's
    signature that does not verify (the body was altered).
    """
    cp, sigs = parse_checkpoint(note)
    known = {(k.name, k.key_id): k for k in keys}
    body = cp.body.encode()
    for name, kid, sig in sigs:
        key = known.get((name, kid))
        if key is None:
            continue
        if not ed25519_verify(key.public, sig, body):
            raise CheckpointError(
                f"checkpoint signature by log key {name}+{kid.hex()} does not verify "
                "(note body altered)")
        return cp, key
    names = ", ".join(f"{n}+{k.hex()}" for n, k, _ in sigs)
    raise CheckpointError(f"checkpoint signed by unknown log key ({names}); "
                          f"known: {', '.join(k.vkey.rsplit('+', 1)[0] for k in known.values())}")


