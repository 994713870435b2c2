"""SSHSIG against real ssh-keygen, both directions; signed-note checkpoints; UUIDv7; schema."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from governance.domain.events import EVENT_TYPES
from governance.ledger.checkpoint import (
    CheckpointError,
    key_id,
    log_key_of,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from governance.ledger.events import build_event, event_schema, schema_errors, uuid7
from governance.ledger.sshsig import (
    SignatureError,
    ed25519_verify,
    load_private_key,
    parse_armored,
    parse_public_key,
    sign,
    verify,
)


@pytest.fixture(scope="module")
def keyfile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    d = tmp_path_factory.mktemp("k")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f",
                    str(d / "id")], check=True)
    return d / "id"


def test_ssh_keygen_signature_verifies_in_process(keyfile: Path, tmp_path: Path) -> None:
    msg = tmp_path / "msg"
    msg.write_bytes(b"tree abc\n\nhello\n")
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", str(keyfile),
                    str(msg)], check=True, capture_output=True)
    sig = parse_armored((tmp_path / "msg.sig").read_text())
    key = verify(sig, msg.read_bytes(), "git")
    assert key == parse_public_key(Path(str(keyfile) + ".pub").read_text())
    with pytest.raises(SignatureError, match="does not verify"):
        verify(sig, msg.read_bytes() + b"x", "git")
    with pytest.raises(SignatureError, match="namespace 'git', expected 'file'"):
        verify(sig, msg.read_bytes(), "file")


def test_in_process_signature_verifies_with_ssh_keygen(keyfile: Path, tmp_path: Path) -> None:
    private = load_private_key(keyfile.read_bytes())
    data = b"payload\n"
    (tmp_path / "sig").write_text(sign(private, data, "git"))
    pub = Path(str(keyfile) + ".pub").read_text().split()
    (tmp_path / "allowed").write_text(f'me@example.com namespaces="git" {pub[0]} {pub[1]}\n')
    out = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"),
                          "-I", "me@example.com", "-n", "git", "-s", str(tmp_path / "sig")],
                         input=data, capture_output=True)
    assert out.returncode == 0, out.stderr


def test_fingerprint_matches_ssh_keygen(keyfile: Path) -> None:
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(keyfile) + ".pub"],
                         capture_output=True, text=True, check=True).stdout
    key = parse_public_key(Path(str(keyfile) + ".pub").read_text())
    assert key.fingerprint in out


def test_malformed_signatures_are_refused() -> None:
    with pytest.raises(SignatureError, match="OpenPGP"):
        parse_armored("-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n")
    with pytest.raises(SignatureError, match="not an armored"):
        parse_armored("hello")
    with pytest.raises(SignatureError, match="unsupported key type"):
        parse_public_key("ssh-rsa AAAAB3NzaC1yc2E= x")


def test_ed25519_verify_agrees_with_openssl_and_refuses_what_it_must(keyfile: Path) -> None:
    # libsodium (PyNaCl) does the Ed25519 check; OpenSSL (cryptography) signed: a valid
    # signature verifies, any changed bit of signature, message or key does not, nor a key or
    # signature of the wrong length, nor the all-zero (small-order) key with an all-zero R
    from cryptography.hazmat.primitives import serialization

    private = load_private_key(keyfile.read_bytes())
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    message = b"ledger commit payload"
    signature = private.sign(message)
    private.public_key().verify(signature, message)  # OpenSSL agrees it is valid
    assert ed25519_verify(public, signature, message)
    for at in (0, 31, 32, 63):
        bad = bytearray(signature)
        bad[at] ^= 1
        assert not ed25519_verify(public, bytes(bad), message)
    assert not ed25519_verify(public, signature, message + b"x")
    other = bytearray(public)
    other[0] ^= 1
    assert not ed25519_verify(bytes(other), signature, message)
    assert not ed25519_verify(public[:31], signature, message)
    assert not ed25519_verify(public, signature[:63], message)
    assert not ed25519_verify(bytes(32), bytes(64), message)


def test_checkpoint_note_format_and_key_id(keyfile: Path) -> None:
    private = load_private_key(keyfile.read_bytes())
    root = hashlib.sha256(b"r").digest()
    note = sign_checkpoint("example.com/log", 42, root, private)
    body, sigs = note.split("\n\n")
    assert body == f"example.com/log\n42\n{base64.b64encode(root).decode()}"
    assert re.fullmatch(r"\u2014 example\.com/log [A-Za-z0-9+/=]+\n", sigs)
    lk = log_key_of("example.com/log", private)
    # C2SP signed-note: key id = SHA-256(name || 0x0A || 0x01 || key)[:4]
    assert key_id("example.com/log", lk.public) == hashlib.sha256(
        b"example.com/log\n\x01" + lk.public).digest()[:4]
    assert base64.b64decode(sigs.split()[-1])[:4] == lk.key_id
    assert lk.vkey.startswith(f"example.com/log+{lk.key_id.hex()}+")
    cp, used = verify_checkpoint(note, [lk])
    assert (cp.origin, cp.size, cp.root, used) == ("example.com/log", 42, root, lk)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(note.replace("\n42\n", "\n43\n"), [lk])
    with pytest.raises(CheckpointError, match="unknown log key"):
        verify_checkpoint(note, [])
    for bad in ("no blank line", "o\nx\nAAAA\n\n\u2014 o AAAA\n", "o\n1\nAAAA\n\n"):
        with pytest.raises(CheckpointError):
            parse_checkpoint(bad)


def test_uuid7_layout() -> None:
    ids = {uuid7() for _ in range(200)}
    assert len(ids) == 200
    for value in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            value)
    assert uuid7(now_ms=0x0123456789AB).startswith("01234567-89ab-7")


MINIMAL = {
    "ledger_genesis": {"details": {"origin": "o", "checkpoint_every": 1,
                                   "clock_skew_seconds": 0, "rotators": [], "signers": [],
                                   "log_keys": [],
                                   "lifecycle": {"roles": {"ml_lead": ["alice"]},
                                                 "environments": [
                                                     {"name": "staging",
                                                      "required_approvals": ["ml_lead"]}]}}},
    "model_registered": {"model_name": "m"},
    "release_registered": {"model_name": "m", "release_id": "r", "model_version": "1",
                           "release_digest": "sha256:" + "0" * 64},
    "evaluation_completed": {"model_name": "m", "release_id": "r", "evidence_refs": ["x"]},
    "gate_evaluated": {"model_name": "m", "release_id": "r", "decision": {}},
    "approval_granted": {"model_name": "m", "release_id": "r", "actor_role": "ml_lead",
                         "release_digest": "sha256:" + "0" * 64},
    "approval_denied": {"model_name": "m", "release_id": "r", "actor_role": "ml_lead",
                        "reason": "no"},
    "release_approved": {"model_name": "m", "release_id": "r",
                         "release_digest": "sha256:" + "0" * 64},
    "deployment_promoted": {"model_name": "m", "release_id": "r", "environment": "prod",
                            "release_digest": "sha256:" + "0" * 64},
    "rollback_executed": {"model_name": "m", "environment": "prod", "from_release": "b",
                          "to_release": "a", "reason": "regression"},
    "config_changed": {"details": {"file": "governance.yaml"}},
    "release_retired": {"model_name": "m", "release_id": "r", "reason": "old"},
    "policy_violation": {"reason": "gate bypassed"},
    "break_glass": {"reason": "outage", "incident": "INC-1"},
    "key_rotated": {"reason": "r", "details": {"changes": [{"op": "set_rotators",
                                                            "rotators": ["a"]}]}},
}


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_schema_covers_every_event_type(event_type: str) -> None:
    assert event_type in event_schema()["$defs"]
    event = build_event(event_type, MINIMAL[event_type])
    event.update({"seq": 0 if event_type == "ledger_genesis" else 1, "prev": "",
                  "actor_id": "jane"})
    assert schema_errors(event) == []
    required = event_schema()["$defs"][event_type].get("required", [])
    for field in required:
        broken = {k: v for k, v in event.items() if k != field}
        assert any(field in e for e in schema_errors(broken)), field


def test_schema_rejects_unknown_fields_and_bad_formats() -> None:
    event = build_event("model_registered", {"model_name": "m"})
    event.update({"seq": 1, "prev": "", "actor_id": "jane", "colour": "red"})
    assert any("colour" in e for e in schema_errors(event))
    event.pop("colour")
    event["timestamp"] = "2026-01-01 00:00:00"
    assert any(e.startswith("$.timestamp") for e in schema_errors(event))
    with pytest.raises(ValueError, match="unknown event type"):
        build_event("nope", {})


def test_libsodium_verify_agrees_with_ssh_keygen(keyfile: Path, tmp_path: Path) -> None:
    """ssh-keygen -Y verify is the reference: the in-process check (libsodium's Ed25519, the one
    every ledger read uses) accepts exactly what it accepts for the ledger's signer and
    namespace: good (sha512 and sha256), content changed, signature bytes changed, another
    namespace, another key."""
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "o", "-f", str(other)],
                   check=True)
    payload = (b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
               b"author Jane <jane@example.com> 1700000000 +0000\n"
               b"committer Jane <jane@example.com> 1700000000 +0000\n\nledger: seq 1\n")
    pub = Path(str(keyfile) + ".pub").read_text().split()
    allowed = tmp_path / "allowed"
    allowed.write_text(f'jane@example.com namespaces="git" {pub[0]} {pub[1]}\n')
    expected_key = parse_public_key(" ".join(pub))

    def ssh_sign(key: Path, namespace: str, *opts: str) -> str:
        msg = tmp_path / "msg"
        msg.write_bytes(payload)
        (tmp_path / "msg.sig").unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(key),
                        *opts, str(msg)], check=True, capture_output=True)
        return (tmp_path / "msg.sig").read_text()

    def flipped(armored: str) -> str:
        sig = parse_armored(armored)
        blob = bytearray(base64.b64decode("".join(armored.strip().splitlines()[1:-1])))
        at = bytes(blob).rfind(sig.signature_blob[-64:])
        blob[at + 10] ^= 0x01
        b64 = base64.b64encode(bytes(blob)).decode()
        return ("-----BEGIN SSH SIGNATURE-----\n"
                + "\n".join(b64[i : i + 70] for i in range(0, len(b64), 70))
                + "\n-----END SSH SIGNATURE-----\n")

    good = ssh_sign(keyfile, "git")
    cases = {  # name -> (armored signature, signed bytes, ssh-keygen should accept)
        "good": (good, payload, True),
        "good-sha256": (ssh_sign(keyfile, "git", "-O", "hashalg=sha256"), payload, True),
        "content-changed": (good, payload + b"x", False),
        "signature-changed": (flipped(good), payload, False),
        "wrong-namespace": (ssh_sign(keyfile, "file"), payload, False),
        "wrong-key": (ssh_sign(other, "git"), payload, False),
    }
    for name, (armored, data, want) in cases.items():
        (tmp_path / "case.sig").write_text(armored)
        ref = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I",
                              "jane@example.com", "-n", "git", "-s", str(tmp_path / "case.sig")],
                             input=data, capture_output=True)
        assert (ref.returncode == 0) is want, (name, ref.stderr)
        try:
            ours = verify(parse_armored(armored), data, "git") == expected_key
        except SignatureError:
            ours = False
        assert ours is want, name
