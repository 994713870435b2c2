"""Which key signs ledger commits and checkpoints, from the environment or git's configuration.

Commit signing goes through git's configured signing program (``gpg.format=ssh``,
``user.signingkey``), so ssh-agent keys and hardware tokens work unchanged. CI, which has no
agent, passes a key in the environment instead:

  GOVERNANCE_LEDGER_SIGNING_KEY  commit signing key: a path to an unencrypted OpenSSH ed25519
                                 private key, or the key text itself (written to a 0600
                                 temporary file for the duration of one append, then removed)
  GOVERNANCE_LEDGER_LOG_KEY      the checkpoint log key, same two forms; when absent no
                                 checkpoint is cut (appends still succeed and say so on stderr)

A relative key path (``../keys/alice``) is resolved against the current directory, as a shell
would, once, before git runs (git signs from the repository's git directory, where the same
relative path would name another file or none).

Neither value is ever logged or put in an error message. The signer's public key is needed to
find its principal (and committer identity) in the ledger's trust before signing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import ci_context
from governance.errors import ConfigurationError
from governance.ledger.sshsig import (
    PublicKey,
    SignatureError,
    load_private_key,
    parse_public_key,
    public_key_of,
)

ENV_SIGNING_KEY = "GOVERNANCE_LEDGER_SIGNING_KEY"
ENV_LOG_KEY = "GOVERNANCE_LEDGER_LOG_KEY"
_PEM = "-----BEGIN OPENSSH PRIVATE KEY-----"


@dataclass(frozen=True)
class CommitSigner:
    """How to make git sign: extra ``-c`` options, and the public key that will sign."""

    git_args: tuple[str, ...]
    public_key: PublicKey
    private_key: Ed25519PrivateKey | None  # known only for file/env keys (bulk path)


def _key_bytes(value: str) -> tuple[bytes, Path | None]:
    if value.lstrip().startswith(_PEM):
        return value.strip().encode() + b"\n", None
    path = Path(value).expanduser().absolute()  # git runs elsewhere: see the module docstring
    try:
        return path.read_bytes(), path
    except OSError:
        raise ConfigurationError("the configured private key file cannot be read "
                                 "(value not shown)") from None


@contextlib.contextmanager
def commit_signer(config_get: Callable[[str], str | None],
                  key_file: Path | None = None) -> Iterator[CommitSigner]:
    """Resolve the commit signer: explicit file, then the environment, then git config."""
    value = str(key_file) if key_file else ci_context.current().signing_key
    if value:
        data, path = _key_bytes(value)
        try:
            private = load_private_key(data)
        except SignatureError as err:
            raise ConfigurationError(f"ledger signing key: {err.reason}") from None
        tmp: str | None = None
        if path is None:
            fd, tmp = tempfile.mkstemp(prefix="governance-sign.")
            os.write(fd, data)
            os.close(fd)
            os.chmod(tmp, 0o600)
            path = Path(tmp)
        try:
            yield CommitSigner(("-c", "gpg.format=ssh", "-c", f"user.signingkey={path}"),
                               public_key_of(private), private)
        finally:
            if tmp:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return
    fmt = (config_get("gpg.format") or "").lower()
    configured = config_get("user.signingkey")
    how = (f"git config gpg.format ssh && git config user.signingkey "
           f"~/.ssh/id_ed25519.pub (your SSH public key listed in governance.yaml), or set "
           f"{ENV_SIGNING_KEY} to the private key file (CI)")
    if not fmt and not configured:
        # Nothing is configured at all: say what is missing, not git's openpgp default.
        raise ConfigurationError(
            f"no ledger signing key: {ENV_SIGNING_KEY} is not set and git has no SSH signing "
            "configured (gpg.format and user.signingkey are unset); ledger commits are signed "
            "with an SSH key", hint=how)
    if fmt != "ssh":
        missing = "gpg.format is unset (git's default is openpgp)" if not fmt else \
            f"git is configured to sign with gpg.format={fmt}"
        raise ConfigurationError(
            f"ledger commits are signed with an SSH key, but {missing}",
            hint="git config gpg.format ssh" + (
                "" if configured else " && git config user.signingkey ~/.ssh/id_ed25519.pub")
                 + f", or set {ENV_SIGNING_KEY} to the private key file (CI)")
    if not configured:
        raise ConfigurationError(
            "git signs with SSH (gpg.format=ssh) but names no key: user.signingkey is unset",
            hint="git config user.signingkey ~/.ssh/id_ed25519.pub (your SSH public key listed "
                 f"in governance.yaml), or set {ENV_SIGNING_KEY} to the private key file (CI)")
    yield CommitSigner((), _public_of_configured(configured), None)


def _public_of_configured(value: str) -> PublicKey:
    try:
        if value.startswith("key::"):
            return parse_public_key(value[5:])
        if value.startswith("ssh-"):
            return parse_public_key(value)
        path = Path(value).expanduser()
        text = path.read_text(errors="replace")
        if text.startswith("ssh-"):
            return parse_public_key(text)
        pub = path.with_name(path.name + ".pub")
        if pub.exists():
            return parse_public_key(pub.read_text())
        out = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True,
                             check=False, stdin=subprocess.DEVNULL)
        if out.returncode == 0:
            return parse_public_key(out.stdout.decode())
    except (OSError, SignatureError) as err:
        raise ConfigurationError(f"cannot read the public half of user.signingkey: {err}"
                                 ) from None
    raise ConfigurationError("cannot derive the public key of user.signingkey",
                             hint="point user.signingkey at the .pub file")


def log_private_key(key_file: Path | None = None) -> Ed25519PrivateKey | None:
    """The checkpoint log key from ``key_file`` or GOVERNANCE_LEDGER_LOG_KEY, if provided."""
    value = str(key_file) if key_file else ci_context.current().log_key
    if not value:
        return None
    data, _ = _key_bytes(value)
    try:
        return load_private_key(data)
    except SignatureError as err:
        raise ConfigurationError(f"{ENV_LOG_KEY}: {err.reason}") from None
