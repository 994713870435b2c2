"""The ledger's view of governance.yaml: identities, roles, and the ``ledger:`` section.

One small function reads the mapping (``yaml.safe_load``) until the shared config loader lands
(``governance.config.load_config``); swap ``_read_mapping`` for it then. Only what the ledger
needs is extracted, and a missing or malformed piece is a ConfigurationError naming the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.errors import ConfigurationError

CONFIG_FILE = "governance.yaml"
DEFAULT_BRANCH = "governance/ledger"


@dataclass(frozen=True)
class Identity:
    id: str
    kind: str  # "person" | "bot"
    name: str
    email: str
    signing_keys: tuple[str, ...]
    may_emit: tuple[str, ...] | None  # explicit list, or None for the defaults


@dataclass(frozen=True)
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


def _read_mapping(root: Path) -> tuple[dict[str, Any], bytes]:
    path = root / CONFIG_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"{CONFIG_FILE} not found in {root}",
                                 hint="run `governance init` or pass --repo") from None
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as err:
        raise ConfigurationError(f"{CONFIG_FILE}: not valid YAML: {err}") from None
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{CONFIG_FILE}: expected a mapping at the top level")
    return doc, data


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ConfigurationError(f"{CONFIG_FILE} {where}: {what}")


def load_settings(root: Path) -> LedgerSettings:
    doc, raw = _read_mapping(root)
    ledger = doc.get("ledger") or {}
    _need(isinstance(ledger, dict), "$.ledger", "expected a mapping")
    identities: list[Identity] = []
    for kind, key in (("person", "people"), ("bot", "bots")):
        items = doc.get(key) or []
        _need(isinstance(items, list), f"$.{key}", "expected a list")
        for i, item in enumerate(items):
            where = f"$.{key}[{i}]"
            _need(isinstance(item, dict) and isinstance(item.get("id"), str), where,
                  "expected a mapping with an id")
            keys = item.get("signing_keys") or []
            _need(isinstance(keys, list) and all(isinstance(k, str) for k in keys),
                  f"{where}.signing_keys", "expected a list of OpenSSH public key lines")
            may = item.get("may_emit")
            _need(may is None or (isinstance(may, list) and all(isinstance(m, str) for m in may)),
                  f"{where}.may_emit", "expected a list of event types")
            _need(isinstance(item.get("email"), str), f"{where}.email", "expected an email")
            identities.append(Identity(
                id=item["id"], kind=kind, name=str(item.get("name") or item["id"]),
                email=item["email"], signing_keys=tuple(keys),
                may_emit=tuple(may) if may is not None else None))
    roles = doc.get("roles") or {}
    _need(isinstance(roles, dict), "$.roles", "expected a mapping")
    members = {
        str(name): tuple(str(m) for m in (spec or {}).get("members") or [])
        for name, spec in roles.items() if isinstance(spec, dict) or spec is None
    }
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
        branch=str(ledger.get("branch") or DEFAULT_BRANCH), origin=origin,
        checkpoint_every=every, log_public_key=log_key,
        rotators=tuple(str(r) for r in rotators), clock_skew_seconds=skew,
        identities=tuple(identities), role_members=members,
        config_digest="sha256:" + hashlib.sha256(raw).hexdigest())


def branch_of(root: Path) -> str:
    """The configured ledger branch, or the default when governance.yaml has none."""
    try:
        doc, _ = _read_mapping(root)
    except ConfigurationError:
        return DEFAULT_BRANCH
    ledger = doc.get("ledger")
    if isinstance(ledger, dict) and isinstance(ledger.get("branch"), str):
        return str(ledger["branch"])
    return DEFAULT_BRANCH
