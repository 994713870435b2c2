"""SSHSIG signatures (OpenSSH PROTOCOL.sshsig) over ed25519 keys, verified in-process.

Git's SSH signing (``gpg.format=ssh``) stores an armored SSHSIG in the commit's ``gpgsig``
header; the signed message is the commit object without that header. Verifying here in-process
instead of spawning ``ssh-keygen -Y verify`` per commit is what makes a thousands-of-events
verify take well under a second. The Ed25519 check itself (``ed25519_verify``) is libsodium's,
through PyNaCl: about twice as fast as OpenSSL's (``cryptography``) on the machines measured
(bench/results/ledger.md), and at least as strict (it also refuses non-canonical and
small-order keys and R values). ``cryptography`` still parses private keys and signs.

Wire format (https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.sshsig):
    "SSHSIG" || uint32 version(1) || string publickey || string namespace || string reserved
    || string hash_algorithm || string signature
and the bytes actually signed are
    "SSHSIG" || string namespace || string reserved || string hash_algorithm || string H(msg).
Supported keys: ``ssh-ed25519`` and the FIDO security-key form ``sk-ssh-ed25519@openssh.com``
(OpenSSH PROTOCOL.u2f): its public key adds ``string application``, its signature adds
``byte flags || uint32 counter`` after the Ed25519 signature, and the Ed25519 signature is over
``SHA256(application) || flags || counter || SHA256(signed bytes)``. A security-key signature
must carry the user-presence flag (a touch): stricter than ``ssh-keygen -Y verify``, which does
not look at the flags, because a ledger signature stands for a person's act. Any other key type
is reported, never accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

if TYPE_CHECKING:  # imported where keys are parsed or used to sign: verifying (every read that
    # catches up) needs only libsodium, and `cryptography` costs about 30 ms to import
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

MAGIC = b"SSHSIG"
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
ED25519 = "ssh-ed25519"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"
KEY_TYPES = (ED25519, SK_ED25519)
SK_USER_PRESENT = 0x01  # flags bit: the authenticator saw a touch
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}


def ed25519_verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (64 bytes) is ``public``'s (32 raw bytes) Ed25519 signature of
    ``message`` (libsodium's ``crypto_sign_open``; a malformed key or signature is a no)."""
    if len(public) != 32 or len(signature) != 64:
        return False
    try:
        crypto_sign_open(signature + message, public)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


class SignatureError(ValueError):
    """A signature is malformed, uses an unsupported algorithm, or does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    """An OpenSSH ed25519 public key (plain or security key): wire blob plus the raw 32
    bytes, and for a security key its FIDO application (``ssh:`` unless chosen otherwise)."""

    blob: bytes
    raw: bytes
    kind: str = ED25519
    application: bytes = b""

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    @property
    def line(self) -> str:
        """The authorized_keys form ``ssh-ed25519 AAAA...`` without a comment."""
        return f"{self.kind} {base64.b64encode(self.blob).decode()}"

    def crypto_key(self) -> Ed25519PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        return Ed25519PublicKey.from_public_bytes(self.raw)


@dataclass(frozen=True)
class SshSignature:
    public_key_blob: bytes
    namespace: str
    reserved: bytes
    hash_algorithm: str
    signature_blob: bytes


def _string(data: bytes, at: int) -> tuple[bytes, int]:
    if at + 4 > len(data):
        raise SignatureError("truncated SSH string length")
    (n,) = struct.unpack(">I", data[at : at + 4])
    end = at + 4 + n
    if end > len(data):
        raise SignatureError("truncated SSH string")
    return data[at + 4 : end], end


def _put(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def public_key_from_blob(blob: bytes, kinds: tuple[str, ...] = KEY_TYPES) -> PublicKey:
    kind_bytes, at = _string(blob, 0)
    kind = kind_bytes.decode(errors="replace")
    if kind not in kinds:
        raise SignatureError(f"unsupported key type {kind!r} (supported: {', '.join(kinds)})")
    raw, at = _string(blob, at)
    application = b""
    if kind == SK_ED25519:
        application, at = _string(blob, at)
        if not application:
            raise SignatureError("malformed security key: empty application")
    if len(raw) != 32 or at != len(blob):
        raise SignatureError(f"malformed {kind} public key")
    return PublicKey(blob=blob, raw=raw, kind=kind, application=application)


def parse_public_key(line: str, kinds: tuple[str, ...] = KEY_TYPES) -> PublicKey:
    """Parse ``ssh-ed25519 AAAA... [comment]`` (an allowed_signers or .pub line); ``kinds``
    narrows the accepted types (a checkpoint log key is plain ``ssh-ed25519`` only)."""
    parts = line.strip().split()
    if len(parts) < 2:
        raise SignatureError(f"not an OpenSSH public key line: {line.strip()[:40]!r}")
    if parts[0] not in kinds:
        raise SignatureError(f"unsupported key type {parts[0]!r} "
                             f"(supported: {', '.join(kinds)})")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise SignatureError("public key is not valid base64") from None
    key = public_key_from_blob(blob, kinds)
    if key.kind != parts[0]:
        raise SignatureError(f"key line says {parts[0]!r} but the key is {key.kind!r}")
    return key


def public_key_of(private: Ed25519PrivateKey) -> PublicKey:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    return PublicKey(blob=_put(ED25519.encode()) + _put(raw), raw=raw)


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """An unencrypted OpenSSH ed25519 private key (as ``ssh-keygen -t ed25519`` writes it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_ssh_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise SignatureError(f"cannot load OpenSSH private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("private key is not ed25519")
    return key


def parse_armored(text: bytes | str) -> SshSignature:
    raw_text = text.decode("ascii", errors="replace") if isinstance(text, bytes) else text
    lines = [ln.strip() for ln in raw_text.strip().splitlines()]
    if not lines or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        if lines and "PGP SIGNATURE" in lines[0]:
            raise SignatureError("OpenPGP signature: only SSH signatures are verifiable "
                                 "in-process")
        raise SignatureError("not an armored SSH signature")
    try:
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise SignatureError("SSH signature armor is not valid base64") from None
    if not blob.startswith(MAGIC):
        raise SignatureError("SSH signature lacks the SSHSIG magic")
    at = len(MAGIC)
    if len(blob) < at + 4:
        raise SignatureError("truncated SSHSIG")
    (version,) = struct.unpack(">I", blob[at : at + 4])
    if version != 1:
        raise SignatureError(f"SSHSIG version {version}, expected 1")
    at += 4
    pub, at = _string(blob, at)
    ns, at = _string(blob, at)
    reserved, at = _string(blob, at)
    alg, at = _string(blob, at)
    sig, at = _string(blob, at)
    if at != len(blob):
        raise SignatureError("trailing bytes after SSHSIG")
    return SshSignature(pub, ns.decode(errors="replace"), reserved, alg.decode(errors="replace"),
                        sig)


# The one shape an ed25519 SSHSIG over a git commit has when signed by ssh-keygen or in-process:
#   "SSHSIG" 1 | string(string "ssh-ed25519" string(32 bytes)) | string "git" | string ""
#   | string "sha512" | string(string "ssh-ed25519" string(64 bytes))
_QUICK_HEAD = MAGIC + struct.pack(">I", 1) + struct.pack(">I", 51) + _put(ED25519.encode()) \
    + struct.pack(">I", 32)
_QUICK_MIDDLE = _put(b"git") + _put(b"") + _put(b"sha512") + struct.pack(">I", 83) \
    + _put(ED25519.encode()) + struct.pack(">I", 64)
_QUICK_LEN = len(_QUICK_HEAD) + 32 + len(_QUICK_MIDDLE) + 64
_BEGIN = ARMOR_BEGIN.encode() + b"\n"
_END = b"\n" + ARMOR_END.encode()
_B64_LINES = re.compile(rb"[A-Za-z0-9+/=\n]*")
GIT_SHA512_PREFIX = MAGIC + _put(b"git") + _put(b"") + _put(b"sha512") + struct.pack(">I", 64)


def quick_git_signature(armored: bytes) -> tuple[bytes, bytes] | None:
    """(public key blob, 64-byte Ed25519 signature) of an armored ed25519 SSHSIG in namespace
    ``git`` with sha512 and no reserved data, the shape ssh-keygen writes; the signed message
    is then ``GIT_SHA512_PREFIX + sha512(payload)``. None for any other text: ``parse_armored``
    and ``verify`` judge it (for the texts accepted here they accept the same key and
    signature, and check nothing else)."""
    if not armored.startswith(_BEGIN) or not armored.endswith(_END):
        return None
    body = armored[len(_BEGIN) : -len(_END)]
    if not _B64_LINES.fullmatch(body):
        return None
    try:
        blob = binascii.a2b_base64(body.replace(b"\n", b""), strict_mode=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        return None
    n = len(_QUICK_HEAD)
    if len(blob) != _QUICK_LEN or not blob.startswith(_QUICK_HEAD) \
            or blob[n + 32 : n + 32 + len(_QUICK_MIDDLE)] != _QUICK_MIDDLE:
        return None
    return blob[14 : n + 32], blob[-64:]


def signed_data(namespace: str, hash_algorithm: str, message: bytes,
                reserved: bytes = b"") -> bytes:
    h = _HASHES[hash_algorithm](message).digest()
    return (MAGIC + _put(namespace.encode()) + _put(reserved) + _put(hash_algorithm.encode())
            + _put(h))


def verify(sig: SshSignature, message: bytes, namespace: str) -> PublicKey:
    """Check ``sig`` over ``message`` in ``namespace``; returns the signing key."""
    if sig.namespace != namespace:
        raise SignatureError(f"SSHSIG namespace {sig.namespace!r}, expected {namespace!r}")
    if sig.hash_algorithm not in _HASHES:
        raise SignatureError(f"SSHSIG hash algorithm {sig.hash_algorithm!r} not sha256/sha512")
    pub = public_key_from_blob(sig.public_key_blob)
    kind, at = _string(sig.signature_blob, 0)
    if kind.decode(errors="replace") != pub.kind:
        raise SignatureError(f"signature type {kind.decode(errors='replace')!r}, "
                             f"expected {pub.kind}")
    raw_sig, at = _string(sig.signature_blob, at)
    if len(raw_sig) != 64:
        raise SignatureError(f"malformed {pub.kind} signature")
    signed = signed_data(namespace, sig.hash_algorithm, message, sig.reserved)
    if pub.kind == SK_ED25519:
        if len(sig.signature_blob) != at + 5:
            raise SignatureError(f"malformed {pub.kind} signature")
        flags = sig.signature_blob[at]
        if not flags & SK_USER_PRESENT:
            raise SignatureError("security key signature without user presence (no touch)")
        signed = (hashlib.sha256(pub.application).digest() + sig.signature_blob[at : at + 5]
                  + hashlib.sha256(signed).digest())
    elif at != len(sig.signature_blob):
        raise SignatureError(f"malformed {pub.kind} signature")
    if not ed25519_verify(pub.raw, raw_sig, signed):
        raise SignatureError("signature does not verify over the commit content")
    return pub


def sign(private: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """An armored SSHSIG as ``ssh-keygen -Y sign -n NAMESPACE`` writes it (sha512)."""
    pub = public_key_of(private)
    raw_sig = private.sign(signed_data(namespace, "sha512", message))
    blob = (MAGIC + struct.pack(">I", 1) + _put(pub.blob) + _put(namespace.encode())
            + _put(b"") + _put(b"sha512") + _put(_put(ED25519.encode()) + _put(raw_sig)))
    b64 = base64.b64encode(blob).decode()
    body = "\n".join(b64[i : i + 70] for i in range(0, len(b64), 70))
    return f"{ARMOR_BEGIN}\n{body}\n{ARMOR_END}\n"


def public_key_from_raw(raw: bytes) -> PublicKey:
    return PublicKey(blob=_put(ED25519.encode()) + _put(raw), raw=raw)
