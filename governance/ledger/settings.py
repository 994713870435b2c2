"""The ledger's view of governance.yaml: identities, roles, and the ``ledger:`` section.

Read through the shared loader (``governance.config.load_config``, which validates the whole
document against its schema); only what the ledger needs is extracted here, and a missing or
malformed ledger setting is a ConfigurationError naming the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from governance.config import CONFIG_FILE, load_config
from governance.domain.config import GovernanceConfig
from governance.domain.frozen import frozen
from governance.errors import ConfigurationError, GovernanceError

DEFAULT_BRANCH = "governance/ledger"


@frozen
class Identity:
    id: str
    kind: str  # "person" | "bot"
    name: str
    email: str
    signing_keys: tuple[str, ...]
    may_emit: tuple[str, ...] | None  # explicit list, or None for the defaults


@frozen
class LedgerSettings:
    branch: str
    origin: str
    checkpoint_every: int
    log_public_key: str | None
    rotators: tuple[str, ...]
    clock_skew_seconds: int
    identities: tuple[Identity, ...]
    role_members: Mapping[str, tuple[str, ...]]  # role -> people ids
    config_digest: str  # sha256 of governance.yaml bytes
    # environments in promotion order: (name, after, required roles), pinned in the genesis
    # for the lifecycle replay (governance.ledger.replay)
    environments: tuple[tuple[str, str | None, tuple[str, ...]], ...] = ()


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ConfigurationError(f"{CONFIG_FILE} {where}: {what}")


def load_settings(root: Path) -> LedgerSettings:
    """Settings from ``root/governance.yaml`` through the shared, validating config loader."""
    return settings_of(load_config(root), (root / CONFIG_FILE).read_bytes())


def settings_of(config: GovernanceConfig, raw: bytes) -> LedgerSettings:
    """Settings from a validated configuration and the bytes it was read from (the people
    commands compute them for an edit before it is written)."""
    ledger = dict(config.ledger or {})
    permissions = ledger.get("permissions") or {}
    _need(isinstance(permissions, dict), "$.ledger.permissions",
          "expected a mapping of principal id to event types")
    identities = []
    for ident in (*config.people.values(), *config.bots.values()):
        explicit = permissions.get(ident.id)
        if explicit is None and ident.is_bot:
            explicit = ident.may_emit
        identities.append(Identity(
            id=ident.id, kind="bot" if ident.is_bot else "person", name=ident.name,
            email=ident.email, signing_keys=tuple(ident.signing_keys),
            may_emit=tuple(str(t) for t in explicit) if explicit is not None else None))
    members = {name: tuple(role.members) for name, role in config.roles.items()}
    origin = ledger.get("origin")
    _need(isinstance(origin, str) and bool(origin) and " " not in origin, "$.ledger.origin",
          "expected the checkpoint origin line, e.g. example.com/acme/models")
    every = ledger.get("checkpoint_every", 100)
    _need(isinstance(every, int) and every >= 1, "$.ledger.checkpoint_every",
          "expected a positive integer")
    skew = ledger.get("clock_skew_seconds", 300)
    _need(isinstance(skew, int) and skew >= 0, "$.ledger.clock_skew_seconds",
          "expected a non-negative integer")
    rotators = ledger.get("rotators") or []
    _need(isinstance(rotators, list), "$.ledger.rotators", "expected a list of ids")
    log_key = ledger.get("log_public_key")
    _need(log_key is None or isinstance(log_key, str), "$.ledger.log_public_key",
          "expected an OpenSSH ed25519 public key line")
    return LedgerSettings(
        branch=str(ledger.get("branch") or DEFAULT_BRANCH), origin=str(origin),
        checkpoint_every=int(every), log_public_key=log_key,
        rotators=tuple(str(r) for r in rotators), clock_skew_seconds=int(skew),
        identities=tuple(identities), role_members=members,
        config_digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        environments=tuple((env.name, env.after, tuple(env.required_approvals))
                           for env in config.environments.values()))


def branch_of(root: Path, *, remembered: bool = False) -> str:
    """The configured ledger branch, or the default when governance.yaml has none
    (``remembered``: for a read query, see ``governance.config.load_config``)."""
    try:
        ledger = load_config(root, remembered=remembered).ledger or {}
    except GovernanceError:
        return DEFAULT_BRANCH
    branch = ledger.get("branch")
    return branch if isinstance(branch, str) and branch else DEFAULT_BRANCH
