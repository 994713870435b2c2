"""The ``key_rotated`` changes that bring the ledger's trust in line with governance.yaml.

After the genesis, governance.yaml edits reach the ledger only as ``key_rotated`` events
(DESIGN section 10). ``trust_changes`` compares the trust folded at the verified tip with the
settings of a configuration and lists the rotation ops (``governance.ledger.trust``
``apply_rotation``) that make them equal: people and bots added or removed, keys added or
retired, name/email and authority (``may_emit``) changes, the rotators, and the role membership
and environment order pinned for the lifecycle replay. It is pure; the people commands and
``governance people sync`` append the result, signed by a rotator.

Identities are matched in the normal form of ``governance.domain.identity`` (GitHub logins are
case-insensitive). Keys are matched by their key blob (the comment after the key is not part of
the key). A retired key stays valid for the events before the rotation (``Trust.principal_for``);
nothing here rewrites history.

The checkpoint log key (``ledger.log_public_key``) is not rotated here: it is the log's
identity, rotated with ``add_log_key`` / ``retire_log_key`` by hand (docs/ledger.md).
"""

from __future__ import annotations

from typing import Any

from governance.domain.identity import identity_key, identity_keys
from governance.ledger.replay import environment_rules, lifecycle_details
from governance.ledger.settings import Identity, LedgerSettings
from governance.ledger.sshsig import parse_public_key
from governance.ledger.trust import Trust, default_may_emit


def may_emit_of(ident: Identity, settings: LedgerSettings) -> list[str]:
    """The event types ``ident`` may emit under ``settings`` (as the genesis would pin them)."""
    role_people = identity_keys(m for members in settings.role_members.values()
                                for m in members)
    rotators = identity_keys(settings.rotators)
    return default_may_emit(ident.id, ident.kind, ident.may_emit,
                            identity_key(ident.id) in role_people,
                            identity_key(ident.id) in rotators)


def signer_entry(ident: Identity, settings: LedgerSettings) -> dict[str, Any]:
    """An ``add_signer`` signer, shaped as the genesis lists its signers."""
    return {"principal": ident.id, "kind": ident.kind, "name": ident.name,
            "email": ident.email,
            "keys": [parse_public_key(k).line for k in ident.signing_keys],
            "may_emit": may_emit_of(ident, settings)}


def _live_keys(trust: Trust, principal: str) -> dict[bytes, str]:
    """Key blob -> the key line the ledger stores, for ``principal``'s live grants."""
    return {blob: g.key.line for blob, grants in trust.grants.items() for g in grants
            if g.principal == principal and g.valid_before is None}


def trust_changes(trust: Trust, settings: LedgerSettings) -> list[dict[str, Any]]:
    """The rotation ops, in an order ``apply_rotation`` accepts, from ``trust`` to ``settings``
    (empty when the ledger already matches)."""
    active = {identity_key(p): s for p, s in trust.signers.items() if s.removed_at is None}
    wanted = {identity_key(i.id): i for i in settings.identities}
    added: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    keys_added: list[dict[str, Any]] = []
    keys_retired: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for key, ident in wanted.items():
        signer = active.get(key)
        if signer is None:
            added.append({"op": "add_signer", "signer": signer_entry(ident, settings)})
            continue
        principal = signer.principal
        if (signer.name, signer.email) != (ident.name, ident.email):
            updated.append({"op": "set_identity", "principal": principal, "name": ident.name,
                            "email": ident.email})
        may_emit = may_emit_of(ident, settings)
        if frozenset(may_emit) != signer.may_emit:
            updated.append({"op": "set_may_emit", "principal": principal,
                            "may_emit": may_emit})
        live = _live_keys(trust, principal)
        configured = {parse_public_key(k).blob: parse_public_key(k).line
                      for k in ident.signing_keys}
        keys_added += [{"op": "add_key", "principal": principal, "key": line}
                       for blob, line in configured.items() if blob not in live]
        keys_retired += [{"op": "retire_key", "principal": principal, "key": line}
                         for blob, line in sorted(live.items(), key=lambda kv: kv[1])
                         if blob not in configured]
    for key, signer in sorted(active.items()):
        if key not in wanted:
            removed.append({"op": "remove_signer", "principal": signer.principal})
    changes = added + updated + keys_retired + keys_added + removed
    if identity_keys(trust.rotators) != identity_keys(settings.rotators):
        changes.append({"op": "set_rotators", "rotators": list(dict.fromkeys(settings.rotators))})
    pinned = lifecycle_details(settings.role_members, environment_rules(
        {"name": name, "after": after, "required_approvals": list(required)}
        for name, after, required in settings.environments))
    current = trust.lifecycle or {}
    current_roles = current.get("roles") or {}
    for role, members in pinned["roles"].items():
        if sorted(current_roles.get(role, [])) != members:
            changes.append({"op": "set_role_members", "role": role, "members": members})
    for role in sorted(set(current_roles) - set(pinned["roles"])):
        if current_roles[role]:
            changes.append({"op": "set_role_members", "role": role, "members": []})
    if current.get("environments") != pinned["environments"]:
        changes.append({"op": "set_environments", "environments": pinned["environments"]})
    return changes


def describe(change: dict[str, Any]) -> str:
    """One line for a person reading what a rotation will record."""
    op = change["op"]
    if op == "add_signer":
        s = change["signer"]
        keys = ", ".join(parse_public_key(k).fingerprint for k in s["keys"]) or "no key"
        return f"add {s['kind']} {s['principal']} <{s['email']}> ({keys})"
    if op in ("add_key", "retire_key"):
        verb = "add key" if op == "add_key" else "retire key"
        return f"{verb} {parse_public_key(change['key']).fingerprint} of {change['principal']}"
    if op == "remove_signer":
        return f"remove {change['principal']} (their keys are refused from the next event on)"
    if op == "set_identity":
        return f"set {change['principal']}'s name/email to {change['name']} <{change['email']}>"
    if op == "set_may_emit":
        return (f"set what {change['principal']} may sign: "
                f"{', '.join(sorted(change['may_emit'])) or 'nothing'}")
    if op == "set_rotators":
        return f"set the rotators to {', '.join(change['rotators']) or 'nobody'}"
    if op == "set_role_members":
        return f"set role {change['role']} to {', '.join(change['members']) or 'nobody'}"
    if op == "set_environments":
        return "set the environment order to " + " -> ".join(
            e["name"] for e in change["environments"])
    return str(op)
