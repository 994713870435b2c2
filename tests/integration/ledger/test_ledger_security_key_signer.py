"""A person whose ledger key is a FIDO security key (``sk-ssh-ed25519@openssh.com``).

The commits are signed in-process in the security-key format (no authenticator is attached
here; tests/unit/ledger/test_ledger_security_keys.py shows ssh-keygen accepts that format), and
`git verify-commit` with the ledger's own allowed_signers file is the cross-check.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger import verify_repo
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import Keys, Ledger, governance_yaml
from tests.unit.ledger.test_ledger_security_keys import sk_key, sk_sign

ERIN = ("Erin Example", "erin@example.com")


def ledger_with_erin(path: Path, keys: Keys, token: Ed25519PrivateKey) -> Ledger:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    erin = (f"  - id: erin\n    name: {ERIN[0]}\n    email: {ERIN[1]}\n"
            f'    signing_keys: ["{sk_key(token)} erin-yubikey"]\n')
    (path / "governance.yaml").write_text(governance_yaml(keys, extra_people=erin))
    subprocess.run(["git", "add", "governance.yaml"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "governance"], cwd=path, check=True)
    led = Ledger(path, keys)
    led.init()
    return led


def test_a_security_key_signer_verifies_and_a_touchless_signature_does_not(
        tmp_path: Path, keys: Keys) -> None:
    token = Ed25519PrivateKey.generate()
    led = ledger_with_erin(tmp_path / "repo", keys, token)
    erin = forge.Signer(ERIN[0], ERIN[1], token)
    sha = forge.append_raw(led.root, erin, {"actor_id": "erin"},
                           sign_payload=lambda payload: sk_sign(token, payload))
    report = verify_repo(led.root)
    assert report.failure is None, report.failure
    assert "erin" in report.principals

    # git itself, with the allowed_signers file the ledger keeps, agrees
    allowed = tmp_path / "allowed_signers"
    allowed.write_bytes(subprocess.run(
        ["git", "cat-file", "blob", "governance/ledger:trust/allowed_signers"], cwd=led.root,
        capture_output=True, check=True).stdout)
    assert "sk-ssh-ed25519@openssh.com" in allowed.read_text()
    out = subprocess.run(["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}",
                          "verify-commit", sha], cwd=led.root, capture_output=True, text=True)
    assert out.returncode == 0 and 'Good "git" signature for erin@example.com' in out.stderr

    # the same key without a touch: refused, naming the seq and why
    forge.append_raw(led.root, erin, {"actor_id": "erin"},
                     sign_payload=lambda payload: sk_sign(token, payload, flags=0))
    report = verify_repo(led.root)
    assert report.failure is not None and report.failure.seq == 2
    assert "without user presence" in report.failure.reason
