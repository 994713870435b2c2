"""FIDO security-key signatures (``sk-ssh-ed25519@openssh.com``), cross-checked with ssh-keygen.

No authenticator is attached here, so the signatures are made in-process in the wire format of
OpenSSH's PROTOCOL.u2f (what a security key returns through ssh-keygen) and the real
``ssh-keygen -Y verify`` is the referee: whatever it accepts we accept, and what it refuses
(another message, no touch) we refuse.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger.sshsig import (
    ED25519,
    MAGIC,
    SK_ED25519,
    SignatureError,
    parse_armored,
    parse_public_key,
    signed_data,
    verify,
)
from governance.ledger.trust import TrustError, _log_key

APPLICATION = b"ssh:"


def put(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def sk_key(private: Ed25519PrivateKey, application: bytes = APPLICATION) -> str:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    blob = put(SK_ED25519.encode()) + put(raw) + put(application)
    return f"{SK_ED25519} {base64.b64encode(blob).decode()}"


def sk_sign(private: Ed25519PrivateKey, message: bytes, *, flags: int = 0x01,
            counter: int = 7, namespace: str = "git",
            application: bytes = APPLICATION) -> str:
    """An armored SSHSIG as a security key makes it (PROTOCOL.u2f, "Signature format")."""
    pub_blob = base64.b64decode(sk_key(private, application).split()[1])
    data = signed_data(namespace, "sha512", message)
    tail = bytes([flags]) + struct.pack(">I", counter)
    raw_sig = private.sign(hashlib.sha256(application).digest() + tail
                           + hashlib.sha256(data).digest())
    sig_blob = put(SK_ED25519.encode()) + put(raw_sig) + tail
    blob = (MAGIC + struct.pack(">I", 1) + put(pub_blob) + put(namespace.encode()) + put(b"")
            + put(b"sha512") + put(sig_blob))
    b64 = base64.b64encode(blob).decode()
    body = "\n".join(b64[i : i + 70] for i in range(0, len(b64), 70))
    return f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"


def ssh_keygen_accepts(tmp_path: Path, key_line: str, armored: str, message: bytes) -> bool:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    (tmp_path / "allowed").write_text(f'me@example.com namespaces="git" {key_line}\n')
    (tmp_path / "sig").write_text(armored)
    out = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"),
                          "-I", "me@example.com", "-n", "git", "-s", str(tmp_path / "sig")],
                         input=message, capture_output=True)
    return out.returncode == 0


def test_a_touched_security_key_signature_verifies_as_ssh_keygen_says(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    message = b"tree abc\n\nledger commit\n"
    armored = sk_sign(private, message)
    assert ssh_keygen_accepts(tmp_path, sk_key(private), armored, message)
    key = verify(parse_armored(armored), message, "git")
    assert key == parse_public_key(sk_key(private))
    assert (key.kind, key.application) == (SK_ED25519, APPLICATION)
    assert key.line == sk_key(private)  # what allowed_signers and trust state are written with


def test_a_security_key_signature_over_other_bytes_is_refused(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    armored = sk_sign(private, b"the approved commit\n")
    assert not ssh_keygen_accepts(tmp_path, sk_key(private), armored, b"another commit\n")
    with pytest.raises(SignatureError, match="does not verify"):
        verify(parse_armored(armored), b"another commit\n", "git")


def test_a_signature_without_a_touch_is_refused_where_ssh_keygen_accepts_it(
        tmp_path: Path) -> None:
    """Deliberately stricter than `ssh-keygen -Y verify` (OpenSSH 9.2 does not look at the
    flags): a ledger signature is an act by a person, so the authenticator must have seen a
    touch. A key made with `-O no-touch-required` cannot sign ledger events."""
    private = Ed25519PrivateKey.generate()
    message = b"payload\n"
    armored = sk_sign(private, message, flags=0x00)
    assert ssh_keygen_accepts(tmp_path, sk_key(private), armored, message)
    with pytest.raises(SignatureError, match="without user presence"):
        verify(parse_armored(armored), message, "git")


def test_the_application_is_part_of_what_was_signed(tmp_path: Path) -> None:
    """A signature made for another FIDO application does not verify for this key."""
    private = Ed25519PrivateKey.generate()
    message = b"payload\n"
    armored = sk_sign(private, message, application=b"ssh:other")
    forged = armored_with_key(armored, sk_key(private))  # claim the ssh: key
    assert not ssh_keygen_accepts(tmp_path, sk_key(private), forged, message)
    with pytest.raises(SignatureError, match="does not verify"):
        verify(parse_armored(forged), message, "git")


def armored_with_key(armored: str, key_line: str) -> str:
    """The same SSHSIG with its public key replaced."""
    lines = armored.strip().splitlines()
    blob = base64.b64decode("".join(lines[1:-1]))
    at = len(MAGIC) + 4
    (n,) = struct.unpack(">I", blob[at : at + 4])
    new = blob[:at] + put(base64.b64decode(key_line.split()[1])) + blob[at + 4 + n :]
    b64 = base64.b64encode(new).decode()
    return f"{lines[0]}\n{b64}\n{lines[-1]}\n"


def test_plain_and_security_key_types_are_not_interchangeable() -> None:
    private = Ed25519PrivateKey.generate()
    sk_line = sk_key(private)
    with pytest.raises(SignatureError, match="says 'ssh-ed25519' but the key is"):
        parse_public_key(f"{ED25519} {sk_line.split()[1]}")
    # an ed25519 signature blob under a security-key public key is refused
    message = b"payload\n"
    armored = sk_sign(private, message)
    sig = parse_armored(armored)
    plain = put(ED25519.encode()) + put(b"\0" * 64)
    with pytest.raises(SignatureError, match="signature type 'ssh-ed25519', expected "
                                             "'?sk-ssh-ed25519@openssh.com"):
        verify(type(sig)(sig.public_key_blob, sig.namespace, sig.reserved,
                         sig.hash_algorithm, plain), message, "git")


def test_a_checkpoint_log_key_must_be_a_plain_ed25519_key() -> None:
    """Checkpoints are C2SP signed notes (Ed25519); a security key cannot sign them."""
    with pytest.raises(TrustError, match="unsupported key type 'sk-ssh-ed25519@openssh.com'"):
        _log_key("example.com/log", sk_key(Ed25519PrivateKey.generate()))
