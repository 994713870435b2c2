"""The signed-commit ledger (DESIGN section 7): the immutable trail of governance events.

Public API (what other commands call):
  append_event(repo_root, fields, *, signing_key=None, log_key=None, remote=None)
      -> LedgerEntry      one signed commit per event; checkpoints cut automatically
  init_ledger(repo_root, *, signing_key=None, log_key=None, remote=None) -> LedgerEntry
  entries(repo_root, *, after_commit=None) -> Iterator[LedgerEntry]   fast batch reader
  signer_principal(repo_root, *, signing_key=None) -> str   who the configured key signs as
  verify_repo(repo_root, *, checkpoint_files=()) -> VerifyReport
  latest_checkpoint(repo_root) -> (note, checkpoint size, ledger size)

Modules: canonical (bytes), merkle (RFC 6962), sshsig (SSHSIG ed25519), checkpoint (C2SP
signed notes), trust (allowed signers from the genesis), events (schema, UUIDv7), commit and
layout (object shapes), signing (which key), store (the git adapter, the only ``git`` import),
append (the write path; ``append_by_hand`` for ``ledger append``), verify (pure verifier),
replay (the lifecycle the verifier replays), reader (entries, verify_repo, checkpoints), bulk
(fast import for generators and tests). See docs/ledger.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.ledger.append import append_event, init_ledger, signer_principal
    from governance.ledger.reader import entries, latest_checkpoint, verify_repo

# The public API is imported when first used (PEP 562): a read query importing one submodule
# (``governance.ledger.verified``) does not load the write path and GitPython with it (issue 18).
_PUBLIC = {"append_event": "append", "init_ledger": "append", "signer_principal": "append",
           "entries": "reader", "latest_checkpoint": "reader", "verify_repo": "reader"}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'governance.ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"governance.ledger.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["append_event", "entries", "init_ledger", "latest_checkpoint", "signer_principal",
           "verify_repo"]
