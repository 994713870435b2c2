"""Who may sign what, at which seq: the trust state folded from the genesis and rotations.

Trust lives in the ledger itself. The ``ledger_genesis`` event at seq 0 pins it (taken from
governance.yaml at ``ledger init``); afterwards only ``key_rotated`` events change it, and
governance.yaml edits have no effect on the ledger until such an event records them. A
rotation at seq R takes effect from seq R + 1 (the rotation itself is judged by the trust before
it): a key retired there is valid for every event with seq <= R and refused from R + 1 on.

Default authority (written into the genesis as explicit ``may_emit`` lists, so the ledger never
depends on these defaults changing later):
  * every person: model_registered, release_registered, evaluation_completed;
  * a person who is a member of any role: also approval_granted, approval_denied,
    release_approved, deployment_promoted, rollback_executed, release_retired, break_glass,
    policy_violation, and gate_evaluated (``governance promote`` records the gate decision
    before the promotion or break-glass, signed by the same person);
  * a rotator: also key_rotated and config_changed;
  * a bot: exactly its ``may_emit`` list (plus key_rotated when listed as a rotator);
  * a person with an explicit ``may_emit`` in governance.yaml gets exactly that list.
A person may only sign events whose ``actor_id`` is themselves; a bot records actions on behalf
of others (e.g. CI recording a GitHub review) and so may name another actor. ``ledger_genesis``
is valid only at seq 0 and only signed by a key the genesis itself lists.

The genesis also pins what the lifecycle replay (``governance.ledger.replay``) checks against:
role membership and the environment order (``details.lifecycle``). It is folded here with the
rest of the trust (``key_rotated`` ops ``set_role_members``, ``set_environments``) so that
``trust/state.json`` shows every change to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.domain.event_types import (
    APPROVAL_DENIED,
    APPROVAL_GRANTED,
    BREAK_GLASS,
    CONFIG_CHANGED,
    DEPLOYMENT_PROMOTED,
    EVALUATION_COMPLETED,
    GATE_EVALUATED,
    KEY_ROTATED,
    MODEL_REGISTERED,
    POLICY_VIOLATION,
    RELEASE_APPROVED,
    RELEASE_REGISTERED,
    RELEASE_RETIRED,
    ROLLBACK_EXECUTED,
)
from governance.domain.identity import identity_key, identity_keys
from governance.errors import ConfigurationError
from governance.ledger.checkpoint import LogKey
from governance.ledger.replay import (
    LIFECYCLE_OPS,
    EnvironmentRule,
    LifecycleViolation,
    environment_rules,
    lifecycle_details,
    pinned_after,
)
from governance.ledger.settings import LedgerSettings
from governance.ledger.sshsig import (
    ED25519,
    KEY_TYPES,
    PublicKey,
    SignatureError,
    parse_public_key,
    public_key_from_raw,
)

PERSON_DEFAULT = (MODEL_REGISTERED, RELEASE_REGISTERED, EVALUATION_COMPLETED)
ROLE_HOLDER_EXTRA = (APPROVAL_GRANTED, APPROVAL_DENIED, RELEASE_APPROVED, DEPLOYMENT_PROMOTED,
                     ROLLBACK_EXECUTED, RELEASE_RETIRED, BREAK_GLASS, POLICY_VIOLATION,
                     GATE_EVALUATED)
ROTATOR_EXTRA = (KEY_ROTATED, CONFIG_CHANGED)


class TrustError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Grant:
    principal: str
    key: PublicKey
    valid_from: int
    valid_before: int | None = None  # None: still valid

    def valid_at(self, seq: int) -> bool:
        return self.valid_from <= seq and (self.valid_before is None or seq < self.valid_before)


@dataclass
class SignerState:
    principal: str
    kind: str
    name: str
    email: str
    may_emit: frozenset[str]
    removed_at: int | None = None


@dataclass
class Trust:
    """Mutable fold state; ``apply`` is called once per event in seq order."""

    origin: str
    checkpoint_every: int
    clock_skew_seconds: int
    signers: dict[str, SignerState] = field(default_factory=dict)
    grants: dict[bytes, list[Grant]] = field(default_factory=dict)  # key blob -> grants
    rotators: frozenset[str] = frozenset()
    log_keys: list[tuple[LogKey, int, int | None]] = field(default_factory=list)
    # role membership and environment order pinned for the lifecycle replay (None: an older
    # genesis without them); stored in trust/state.json so every change to it shows there
    lifecycle: dict[str, Any] | None = None

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_genesis(cls, details: Mapping[str, Any]) -> Trust:
        trust = cls(origin=str(details["origin"]),
                    checkpoint_every=int(details["checkpoint_every"]),
                    clock_skew_seconds=int(details["clock_skew_seconds"]),
                    rotators=frozenset(details.get("rotators", ())))
        for s in details.get("signers", ()):
            trust._add_signer(s, 0)
        for line in details.get("log_keys", ()):
            trust.log_keys.append((_log_key(trust.origin, line), 0, None))
        pinned = details.get("lifecycle")
        if pinned is not None:
            try:
                trust.lifecycle = pinned_after(pinned, ())
            except LifecycleViolation as err:
                raise TrustError(f"lifecycle: {err.reason}") from None
        return trust

    def _add_signer(self, s: Mapping[str, Any], from_seq: int) -> None:
        principal = str(s["principal"])
        if principal in self.signers and self.signers[principal].removed_at is None:
            raise TrustError(f"signer {principal!r} already exists")
        self.signers[principal] = SignerState(principal, str(s["kind"]), str(s["name"]),
                                              str(s["email"]), frozenset(s["may_emit"]))
        for line in s.get("keys", ()):
            self._grant(principal, line, from_seq)

    def _grant(self, principal: str, line: str, from_seq: int) -> None:
        key = _key(line)
        for g in self.grants.get(key.blob, []):
            if g.valid_before is None and g.principal != principal:
                raise TrustError(f"key {key.fingerprint} already belongs to {g.principal!r}")
        self.grants.setdefault(key.blob, []).append(Grant(principal, key, from_seq))

    # --- rotation -----------------------------------------------------------------------
    def apply_rotation(self, details: Mapping[str, Any], seq: int) -> None:
        """Apply a key_rotated event at ``seq``; changes take effect from seq + 1."""
        at = seq + 1
        for ch in details.get("changes", ()):
            op = ch.get("op")
            principal = ch.get("principal")
            if principal is not None and op != "add_signer" and not self._active(principal):
                raise TrustError(f"{op}: unknown principal {principal!r}")
            if op == "add_key":
                self._grant(principal, ch["key"], at)
            elif op == "retire_key":
                key = _key(ch["key"])
                live = [g for g in self.grants.get(key.blob, [])
                        if g.principal == principal and g.valid_before is None]
                if not live:
                    raise TrustError(f"retire_key: {key.fingerprint} is not a live key of "
                                     f"{principal!r}")
                for g in live:
                    g.valid_before = at
            elif op == "add_signer":
                self._add_signer(ch["signer"], at)
            elif op == "remove_signer":
                self.signers[principal].removed_at = at
                for grants in self.grants.values():
                    for g in grants:
                        if g.principal == principal and g.valid_before is None:
                            g.valid_before = at
            elif op == "set_may_emit":
                self.signers[principal].may_emit = frozenset(ch["may_emit"])
            elif op == "set_identity":
                self.signers[principal].name = str(ch["name"])
                self.signers[principal].email = str(ch["email"])
            elif op == "set_rotators":
                self.rotators = frozenset(ch["rotators"])
            elif op == "add_log_key":
                self.log_keys.append((_log_key(self.origin, ch["key"]), at, None))
            elif op in LIFECYCLE_OPS:  # what the lifecycle replay checks against
                try:
                    self.lifecycle = pinned_after(self.lifecycle, [ch])
                except LifecycleViolation as err:
                    raise TrustError(f"{op}: {err.reason}") from None
            elif op == "retire_log_key":
                lk = _log_key(self.origin, ch["key"])
                self.log_keys = [(k, f, at if k == lk and b is None else b)
                                 for k, f, b in self.log_keys]
            else:
                raise TrustError(f"unknown rotation op {op!r}")

    def _active(self, principal: str) -> bool:
        s = self.signers.get(principal)
        return s is not None and s.removed_at is None

    # --- queries ------------------------------------------------------------------------
    def principal_for(self, key_blob: bytes, seq: int) -> SignerState:
        """The principal whose key signed the event at ``seq``; TrustError says why not."""
        grants = self.grants.get(key_blob)
        if not grants:
            fp = PublicKey(key_blob, b"").fingerprint
            raise TrustError(f"unknown signing key {fp}: not in the ledger's allowed signers "
                             "(keys reach the ledger only through key_rotated events)")
        for g in grants:
            if g.valid_at(seq):
                return self.signers[g.principal]
        g = grants[-1]
        if g.valid_before is not None and seq >= g.valid_before:
            raise TrustError(f"key {g.key.fingerprint} of {g.principal!r} was retired at seq "
                             f"{g.valid_before} (valid for seq < {g.valid_before})")
        raise TrustError(f"key {g.key.fingerprint} of {g.principal!r} is valid only from seq "
                         f"{g.valid_from}")

    def may_emit(self, signer: SignerState, event_type: str) -> bool:
        if event_type == KEY_ROTATED:
            return signer.principal in self.rotators
        return event_type in signer.may_emit

    def log_keys_at(self, seq: int | None = None) -> list[LogKey]:
        """Log keys valid at ``seq`` (all ever known when None)."""
        return [k for k, f, b in self.log_keys
                if seq is None or (f <= seq and (b is None or seq < b))]

    def allowed_signers(self) -> str:
        """git's allowed_signers file (ssh-keygen ALLOWED SIGNERS) for the current trust.

        Kept in the ledger tree as ``trust/allowed_signers`` so ``git verify-commit`` works
        with ``gpg.ssh.allowedSignersFile``; retired keys stay (old commits must still verify in
        git) behind a comment saying from which seq the ledger refuses them.
        """
        lines = []
        for blob in sorted(self.grants):
            for g in self.grants[blob]:
                s = self.signers[g.principal]
                if g.valid_before is not None:
                    lines.append(f"# {g.principal}: retired from seq {g.valid_before}")
                lines.append(f'{s.email} namespaces="git" {g.key.line} {g.principal}')
        return "\n".join(lines) + "\n"


def _key(line: str, kinds: tuple[str, ...] = KEY_TYPES) -> PublicKey:
    try:
        return parse_public_key(line, kinds)
    except SignatureError as err:
        raise TrustError(f"bad signer key: {err.reason}") from None


def _log_key(origin: str, line: str) -> LogKey:
    """A checkpoint log key: plain Ed25519 (C2SP signed notes), never a security key."""
    return LogKey(name=origin, public=_key(line, (ED25519,)).raw)


def default_may_emit(identity_id: str, kind: str, explicit: Iterable[str] | None,
                     in_role: bool, rotator: bool) -> list[str]:
    if explicit is not None:
        base = list(explicit)
    elif kind == "bot":
        base = []
    else:
        base = list(PERSON_DEFAULT) + (list(ROLE_HOLDER_EXTRA) if in_role else [])
    if rotator and explicit is None:
        base += [t for t in ROTATOR_EXTRA if t not in base]
    return base


def genesis_details(settings: LedgerSettings, config_commit: str) -> dict[str, Any]:
    """The ``details`` of the ledger_genesis event, pinned from governance.yaml."""
    # role members and rotators may spell a login in another case (GitHub logins are
    # case-insensitive): the defaults compare the normal form
    role_people = identity_keys(m for members in settings.role_members.values() for m in members)
    rotators = identity_keys(settings.rotators)
    signers = []
    for ident in settings.identities:
        signers.append({
            "principal": ident.id, "kind": ident.kind, "name": ident.name,
            "email": ident.email, "keys": [_key(k).line for k in ident.signing_keys],
            "may_emit": default_may_emit(ident.id, ident.kind, ident.may_emit,
                                         identity_key(ident.id) in role_people,
                                         identity_key(ident.id) in rotators),
        })
    details: dict[str, Any] = {
        "origin": settings.origin, "checkpoint_every": settings.checkpoint_every,
        "clock_skew_seconds": settings.clock_skew_seconds,
        "rotators": list(settings.rotators), "signers": signers,
        "log_keys": [_key(settings.log_public_key).line] if settings.log_public_key else [],
        "config_digest": settings.config_digest,
        # what the lifecycle replay checks approvals and promotions against
        "lifecycle": lifecycle_details(settings.role_members, _environments(settings)),
    }
    if config_commit:
        details["config_commit"] = config_commit
    return details


def _environments(settings: LedgerSettings) -> tuple[EnvironmentRule, ...]:
    try:
        return environment_rules(
            {"name": name, "after": after, "required_approvals": list(required)}
            for name, after, required in settings.environments)
    except LifecycleViolation as err:
        raise ConfigurationError(f"governance.yaml $.environments: {err.reason}",
                                 hint="list environments in promotion order") from None


def trust_to_json(trust: Trust) -> dict[str, Any]:
    """The folded trust as a JSON value (stored canonically as trust/state.json)."""
    grants = sorted(
        ({"principal": g.principal, "key": g.key.line, "valid_from": g.valid_from,
          "valid_before": g.valid_before} for gs in trust.grants.values() for g in gs),
        key=lambda d: (d["principal"], d["valid_from"], d["key"]))
    doc: dict[str, Any] = {
        "origin": trust.origin, "checkpoint_every": trust.checkpoint_every,
        "clock_skew_seconds": trust.clock_skew_seconds, "rotators": sorted(trust.rotators),
        "signers": [{"principal": s.principal, "kind": s.kind, "name": s.name, "email": s.email,
                     "may_emit": sorted(s.may_emit), "removed_at": s.removed_at}
                    for s in sorted(trust.signers.values(), key=lambda s: s.principal)],
        "grants": grants,
        "log_keys": [{"key": public_key_from_raw(k.public).line, "valid_from": f,
                      "valid_before": b} for k, f, b in trust.log_keys],
    }
    if trust.lifecycle is not None:  # absent for ledgers that pin none (state.json unchanged)
        doc["lifecycle"] = trust.lifecycle
    return doc


def trust_from_json(doc: Mapping[str, Any]) -> Trust:
    trust = Trust(origin=str(doc["origin"]), checkpoint_every=int(doc["checkpoint_every"]),
                  clock_skew_seconds=int(doc["clock_skew_seconds"]),
                  rotators=frozenset(doc["rotators"]))
    for s in doc["signers"]:
        trust.signers[s["principal"]] = SignerState(
            s["principal"], s["kind"], s["name"], s["email"], frozenset(s["may_emit"]),
            s.get("removed_at"))
    for g in doc["grants"]:
        key = _key(g["key"])
        trust.grants.setdefault(key.blob, []).append(
            Grant(g["principal"], key, int(g["valid_from"]), g["valid_before"]))
    for lk in doc["log_keys"]:
        trust.log_keys.append((_log_key(trust.origin, lk["key"]), int(lk["valid_from"]),
                               lk["valid_before"]))
    trust.lifecycle = doc.get("lifecycle")
    return trust
