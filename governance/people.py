"""People, bots and their signing keys: the identity commands (issue 15 item 3).

``governance people add|remove|list|sync`` and ``governance keys add|retire`` change the
``people``/``bots``/``roles``/``ledger.rotators`` of governance.yaml for the user (comments and
order kept, ``governance.yaml_edit``), refuse an edit that would leave the repository unable to
govern, and keep the ledger's trust in step:

1. the edit is applied to the round-trip document and the new text is validated with the
   project's safe loader and schema (a located message, nothing written, when it would not
   validate);
2. the rules no schema can state are checked: one identity per login (case-insensitively), one
   owner per key, no role an environment requires left without members, never no rotator, and
   never no rotator with a key;
3. when a ledger exists, the ``key_rotated`` changes from its verified tip to the new
   configuration are computed (``governance.ledger.rotation``). Run by a rotator (the signing
   key of the current user: GOVERNANCE_LEDGER_SIGNING_KEY, else git's user.signingkey) they are
   appended on that exact tip, before the file is written; otherwise nothing is appended and the
   outcome names the command a rotator runs (``governance people sync``) once the change is
   merged;
4. governance.yaml is replaced atomically and ``.github/CODEOWNERS``, when present, is
   regenerated (``governance.approvals.ownership``), since role members own releases there.

A retired key stays valid for the events signed before its retirement (the ledger's trust keeps
its validity window, ``Trust.principal_for``); only events after the rotation are refused.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance import yaml_edit
from governance.config import CONFIG_FILE
from governance.domain.config import GovernanceConfig
from governance.domain.event_table import KeyRotated
from governance.domain.identity import identity_key, same_identity
from governance.errors import (
    AlreadyExists,
    ConfigurationError,
    Denied,
    GovernanceError,
    InvalidInput,
    NotFound,
    Problem,
)
from governance.ledger.sshsig import KEY_TYPES, PublicKey, SignatureError, parse_public_key
from governance.records import display_path

SYNC_COMMAND = "governance people sync"


# --- reading a public key file ------------------------------------------------------------


@dataclass(frozen=True)
class KeyLine:
    """A public key as governance.yaml stores it: the .pub line, and the parsed key."""

    line: str
    key: PublicKey


def read_public_key(path: Path) -> KeyLine:
    """The one OpenSSH public key line in ``path`` (a ``.pub`` file); never echoes a secret."""
    name = display_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput([Problem(name, None, "$", "file does not exist",
                                    "give the public key file, e.g. ~/.ssh/id_ed25519.pub")]
                           ) from None
    except OSError as err:
        raise InvalidInput([Problem(name, None, "$", f"cannot read file: {err.strerror}")]
                           ) from None
    if b"PRIVATE KEY" in data:  # said without quoting any of it
        raise InvalidInput([Problem(name, 1, "$", "this is a private key",
                                    "give the public half (the .pub file); a private key "
                                    "never goes into governance.yaml")])
    text = data.decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) != 1:
        raise InvalidInput([Problem(name, None, "$", f"found {len(lines)} non-empty lines, "
                                    "expected exactly one OpenSSH public key line",
                                    "'ssh-ed25519 AAAA... comment' (ssh-keygen -t ed25519)")])
    try:
        key = parse_public_key(lines[0], KEY_TYPES)
    except SignatureError as err:
        raise InvalidInput([Problem(name, 1, "$", err.reason,
                                    "expected an 'ssh-ed25519 AAAA...' or "
                                    "'sk-ssh-ed25519@openssh.com AAAA...' public key line")]
                           ) from None
    comment = " ".join(lines[0].split()[2:])
    printable = comment.isprintable() and "\u2028" not in comment and "\u2029" not in comment
    return KeyLine(f"{key.line} {comment}".rstrip() if printable else key.line, key)


def fingerprint_of(line: str) -> str | None:
    try:
        return parse_public_key(line).fingerprint
    except SignatureError:
        return None


# --- the edits on the round-trip document -----------------------------------------------------


def _entries(doc: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for section in ("people", "bots"):
        for entry in doc.get(section) or []:
            out.append((section, entry))
    return out


def _find(doc: Any, ident: str) -> tuple[str, Any]:
    for section, entry in _entries(doc):
        if same_identity(str(entry.get("id", "")), ident):
            return section, entry
    raise NotFound(f"{ident!r} is not a person or bot in {CONFIG_FILE}",
                   hint="list them with `governance people list`")


def _key_owner(doc: Any, key: PublicKey) -> str | None:
    for _, entry in _entries(doc):
        for line in entry.get("signing_keys") or []:
            try:
                if parse_public_key(str(line)).blob == key.blob:
                    return str(entry.get("id"))
            except SignatureError:
                continue
    return None


def required_roles(config: GovernanceConfig) -> list[str]:
    roles: list[str] = []
    for env in config.environments.values():
        roles += [r for r in env.required_approvals if r not in roles]
    return roles


def add_person(doc: Any, config: GovernanceConfig, ident: str, name: str, email: str,
               key: KeyLine | None, roles: Sequence[str], rotator: bool) -> None:
    for section, entry in _entries(doc):
        if same_identity(str(entry.get("id", "")), ident):
            raise AlreadyExists(f"{ident!r} is already listed in {CONFIG_FILE} $.{section} "
                                f"as {entry.get('id')!r}",
                                hint="add a key with `governance keys add`")
    unknown = [r for r in roles if r not in config.roles]
    if unknown:
        raise NotFound(f"role {unknown[0]!r} is not defined in {CONFIG_FILE} $.roles",
                       hint=f"defined roles: {', '.join(config.roles) or 'none'}")
    if key is not None:
        owner = _key_owner(doc, key.key)
        if owner is not None:
            raise AlreadyExists(f"key {key.key.fingerprint} already belongs to {owner!r}",
                                hint="each person signs with their own key")
    person = yaml_edit.mapping()
    person["id"] = ident
    person["name"] = name
    person["email"] = email
    person["signing_keys"] = yaml_edit.block_list([key.line]) if key else yaml_edit.flow_list([])
    yaml_edit.append_item(yaml_edit.ensure_list(doc, "people", flow=False), person)
    for role in dict.fromkeys(roles):
        members = yaml_edit.ensure_list(doc["roles"][role], "members", flow=True)
        members.append(ident)
    if rotator:
        ledger = doc.get("ledger")
        if ledger is None:
            ledger = yaml_edit.mapping()
            yaml_edit.set_new_key(doc, "ledger", ledger)
        yaml_edit.ensure_list(ledger, "rotators", flow=True).append(ident)


def change_roles(doc: Any, config: GovernanceConfig, ident: str, add: Sequence[str],
                 remove: Sequence[str]) -> str:
    """Join ``ident`` to the ``add`` roles and take them out of the ``remove`` roles; the
    person's id as governance.yaml spells it is returned."""
    section, entry = _find(doc, ident)
    who = str(entry["id"])
    if section != "people":
        raise Denied(f"{who!r} is a bot: roles are held by people (bots emit events by "
                     "may_emit)")
    unknown = [r for r in (*add, *remove) if r not in config.roles]
    if unknown:
        raise NotFound(f"role {unknown[0]!r} is not defined in {CONFIG_FILE} $.roles",
                       hint=f"defined roles: {', '.join(config.roles) or 'none'}")
    both = sorted(set(add) & set(remove))
    if both:
        raise Denied(f"role {both[0]!r} is both added and removed")
    key = identity_key(who)
    for role in dict.fromkeys(remove):
        members = config.roles[role].members
        if role in required_roles(config) and members and all(
                identity_key(m) == key for m in members):
            envs = [e.name for e in config.environments.values() if role in e.required_approvals]
            raise Denied(f"{who!r} is the last member of role {role!r}, required by "
                         f"{', '.join(envs)}: nobody could approve a promotion there",
                         hint=f"add another member first: governance people roles ID --add "
                              f"{role}")
        if doc["roles"][role].get("members") is not None:
            _without(doc["roles"][role]["members"], who)
    for role in dict.fromkeys(add):
        members = yaml_edit.ensure_list(doc["roles"][role], "members", flow=True)
        if not any(same_identity(str(m), who) for m in members):
            members.append(who)
    return who


def _without(seq: Any, ident: str) -> None:
    for i in reversed(range(len(seq))):
        if same_identity(str(seq[i]), ident):
            del seq[i]


def remove_person(doc: Any, config: GovernanceConfig, ident: str) -> None:
    section, entry = _find(doc, ident)
    who = str(entry["id"])
    key = identity_key(who)
    reasons = []
    for role in required_roles(config):
        members = config.roles[role].members if role in config.roles else ()
        if members and all(identity_key(m) == key for m in members):
            envs = [e.name for e in config.environments.values() if role in e.required_approvals]
            reasons.append(f"{who!r} is the last member of role {role!r}, required by "
                           f"{', '.join(envs)}: nobody could approve a promotion there (add "
                           f"another member first: governance people add ID ... --role {role})")
    rotators = [str(r) for r in (config.ledger.get("rotators") or [])]
    if rotators and all(identity_key(r) == key for r in rotators):
        reasons.append(f"{who!r} is the last rotator (ledger.rotators): nobody could change "
                       "the ledger's trust afterwards (add another rotator first: governance "
                       "people add ID ... --rotator)")
    if reasons:
        raise Denied("; ".join(reasons), hint="nothing was changed")
    items = doc[section]
    for i in reversed(range(len(items))):
        if items[i] is entry:
            yaml_edit.delete_item(doc, section, i)
    for role in (doc.get("roles") or {}).values():
        if role is not None and role.get("members") is not None:
            _without(role["members"], who)
    ledger = doc.get("ledger") or {}
    if ledger.get("rotators") is not None:
        _without(ledger["rotators"], who)
    permissions = ledger.get("permissions") or {}
    for pid in [p for p in permissions if same_identity(str(p), who)]:
        del permissions[pid]


def add_key(doc: Any, ident: str, key: KeyLine) -> None:
    _, entry = _find(doc, ident)
    owner = _key_owner(doc, key.key)
    if owner is not None:
        raise AlreadyExists(f"key {key.key.fingerprint} already belongs to {owner!r}")
    yaml_edit.append_item(yaml_edit.ensure_list(entry, "signing_keys", flow=False),
                            key.line)


def _ledger_store(root: Path, config: GovernanceConfig) -> Any | None:
    """The ledger's store when the ledger exists (a repository whose ledger branch has a tip),
    else None: before ``git init`` or ``ledger init`` there is no trust to keep in step."""
    from governance.ledger.append import open_store
    from governance.vcs import git_toplevel

    if git_toplevel(root) is None:
        return None
    branch = str((config.ledger or {}).get("branch") or "governance/ledger")
    store = open_store(root, branch)
    return store if store.tip() is not None else None


def set_log_key(doc: Any, config: GovernanceConfig, root: Path, key: KeyLine) -> None:
    """``ledger.log_public_key``: the checkpoint log's key, pinned by the genesis. Set here only
    before ``ledger init``; afterwards it changes on the ledger (key_rotated add_log_key)."""
    from governance.ledger.sshsig import ED25519

    if key.key.kind != ED25519:
        raise InvalidInput([Problem("PUBKEY_FILE", 1, "$", f"found a {key.key.kind} key",
                                    "expected an ssh-ed25519 key: checkpoints are signed with "
                                    "a plain Ed25519 key kept as the GOVERNANCE_LOG_KEY secret")])
    if _ledger_store(root, config) is not None:
        raise Denied(
            "the ledger exists: its genesis pinned the log key, so it changes on the ledger",
            hint="a rotator records the new key with a key_rotated event, op add_log_key "
                 "(docs/ledger.md, Checkpoints)")
    ledger = doc.get("ledger")
    if ledger is None:
        yaml_edit.set_new_key(doc, "ledger", yaml_edit.mapping())
        ledger = doc["ledger"]
    if "log_public_key" in ledger:
        ledger["log_public_key"] = key.key.line
    else:
        yaml_edit.set_new_key(ledger, "log_public_key", key.key.line)


def retire_key(doc: Any, config: GovernanceConfig, ident: str, fingerprint: str) -> str:
    """Remove the key with ``fingerprint`` (``SHA256:...``) from ``ident``; returns its line."""
    _, entry = _find(doc, ident)
    who = str(entry["id"])
    keys = entry.get("signing_keys") or []
    found = [i for i, line in enumerate(keys) if fingerprint_of(str(line)) == fingerprint]
    if not found:
        have = ", ".join(filter(None, (fingerprint_of(str(k)) for k in keys))) or "none"
        raise NotFound(f"{who!r} has no key {fingerprint}",
                       hint=f"{who}'s keys: {have} (fingerprints as `ssh-keygen -lf KEY.pub` "
                            "prints them)")
    rotators = [str(r) for r in (config.ledger.get("rotators") or [])]
    if len(keys) == 1 and any(same_identity(r, who) for r in rotators):
        others = [r for r in rotators if not same_identity(r, who)
                  and _lookup(config, r) is not None and _lookup(config, r).signing_keys]
        if not others:
            raise Denied(f"{fingerprint} is the last key of {who!r}, and no other rotator has a "
                         "key: nobody could change the ledger's trust afterwards",
                         hint=f"add the new key first: governance keys add {who} NEW_KEY.pub")
    line = str(keys[found[0]])
    yaml_edit.delete_item(entry, "signing_keys", found[0])
    return line


def _lookup(config: GovernanceConfig, ident: str) -> Any:
    for i in (*config.people.values(), *config.bots.values()):
        if same_identity(i.id, ident):
            return i
    return None


# --- listing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    id: str
    kind: str  # person | bot
    name: str
    email: str
    keys: tuple[str, ...]  # fingerprints
    roles: tuple[str, ...]
    rotator: bool
    may_emit: tuple[str, ...] = ()  # bots

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "name": self.name,
                               "email": self.email, "keys": list(self.keys),
                               "roles": list(self.roles), "rotator": self.rotator}
        if self.kind == "bot":
            out["may_emit"] = list(self.may_emit)
        return out


def list_people(config: GovernanceConfig) -> list[PersonRow]:
    rotators = {identity_key(str(r)) for r in (config.ledger.get("rotators") or [])}
    rows = []
    for ident in (*config.people.values(), *config.bots.values()):
        rows.append(PersonRow(
            id=ident.id, kind="bot" if ident.is_bot else "person", name=ident.name,
            email=ident.email,
            keys=tuple(fingerprint_of(k) or "(unreadable key)" for k in ident.signing_keys),
            roles=config.roles_of(ident.id), rotator=identity_key(ident.id) in rotators,
            may_emit=tuple(ident.may_emit)))
    return rows


# --- applying an edit: validate, record on the ledger, write -----------------------------


@dataclass(frozen=True)
class LedgerOutcome:
    """What happened on the ledger: ``state`` is no_ledger, in_sync, recorded or pending."""

    state: str
    changes: tuple[str, ...] = ()  # described, one line each
    seq: int | None = None
    signer: str | None = None
    why_pending: str | None = None
    command: str | None = None
    raw_changes: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state, "changes": list(self.changes)}
        for key in ("seq", "signer", "why_pending", "command"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class EditOutcome:
    summary: str
    written: tuple[str, ...]  # files changed
    ledger: LedgerOutcome
    # "regenerated", "unchanged", "not regenerated (why)", or None (no CODEOWNERS file)
    codeowners: str | None

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "written": list(self.written),
                "ledger": self.ledger.to_json(), "codeowners": self.codeowners}


def edit_config(root: Path, edit: Callable[[Any, GovernanceConfig], str],
                *, reason: str) -> EditOutcome:
    """Apply ``edit`` (which changes the round-trip document and returns a summary) following
    the steps in the module docstring."""
    config, doc = yaml_edit.load(root)
    summary = edit(doc, config)
    text = yaml_edit.render(doc)
    new_config = yaml_edit.checked(text)
    _check_invariants(new_config)
    ledger = record_trust(root, new_config, text.encode("utf-8"), reason=reason)
    path = root / CONFIG_FILE
    yaml_edit.write(path, text)
    return EditOutcome(summary, (display_path(path),), ledger, sync_codeowners(root))


def _check_invariants(config: GovernanceConfig) -> None:
    seen: dict[str, str] = {}
    owners: dict[bytes, str] = {}
    problems: list[str] = []
    for ident in (*config.people.values(), *config.bots.values()):
        key = identity_key(ident.id)
        if key in seen:
            problems.append(f"{ident.id!r} and {seen[key]!r} are one GitHub login")
        seen[key] = ident.id
        for line in ident.signing_keys:
            try:
                blob = parse_public_key(line).blob
            except SignatureError:
                continue  # the schema and ledger init report a malformed key
            if blob in owners and owners[blob] != ident.id:
                problems.append(f"one key is listed for both {owners[blob]!r} and {ident.id!r}")
            owners[blob] = ident.id
    if problems:
        raise Denied("; ".join(problems), hint=f"fix {CONFIG_FILE} first; nothing was written")


def sync_codeowners(root: Path) -> str | None:
    """Regenerate ``.github/CODEOWNERS`` when the repository has one: "regenerated",
    "unchanged", "not regenerated (why)", or None when there is no such file."""
    from governance.approvals import ownership

    target = root / ownership.TARGET
    if not target.is_file():
        return None
    before = target.read_bytes()
    try:
        ownership.write(root)
    except GovernanceError as err:  # governance.yaml is written: say why CODEOWNERS is not
        return f"not regenerated ({err.message}); fix it, then `governance codeowners generate`"
    return "unchanged" if target.read_bytes() == before else "regenerated"


@dataclass(frozen=True)
class _Plan:
    store: Any  # governance.ledger.store.GitStore
    tip: Any  # governance.ledger.append.TipState
    changes: list[dict[str, Any]]
    described: tuple[str, ...]


def _plan(root: Path, config: GovernanceConfig, raw: bytes) -> _Plan | LedgerOutcome:
    """The key_rotated changes from the verified tip to ``config``, or the outcome when there
    is nothing to record (no ledger, or its trust already matches)."""
    from governance.ledger.append import verified_tip
    from governance.ledger.rotation import describe, trust_changes
    from governance.ledger.settings import settings_of

    store = _ledger_store(root, config)
    if store is None:
        return LedgerOutcome("no_ledger")
    state = verified_tip(store)  # raises (exit 1) on a ledger that fails verification
    changes = trust_changes(state.trust, settings_of(config, raw))
    if not changes:
        return LedgerOutcome("in_sync")
    return _Plan(store, state, changes, tuple(describe(c) for c in changes))


def ledger_status(root: Path) -> LedgerOutcome:
    """Whether the ledger's trust matches the governance.yaml on disk (``people list``);
    never appends anything."""
    from governance.config import load_config

    plan = _plan(root, load_config(root), (root / CONFIG_FILE).read_bytes())
    if isinstance(plan, LedgerOutcome):
        return plan
    return _pending(plan.changes, plan.described, "not recorded on the ledger yet")


def record_trust(root: Path, config: GovernanceConfig, raw: bytes, *, reason: str
                 ) -> LedgerOutcome:
    """Bring the ledger's trust to ``config``: append ``key_rotated`` when the current signer is
    a rotator, else say what a rotator must run. Nothing is appended on an unverified tip."""
    from governance.ledger.append import append_event
    from governance.ledger.signing import commit_signer
    from governance.ledger.trust import TrustError

    plan = _plan(root, config, raw)
    if isinstance(plan, LedgerOutcome):
        return plan
    store, state, changes, described = plan.store, plan.tip, plan.changes, plan.described
    try:
        with commit_signer(store.config_get) as signer:
            blob = signer.public_key.blob
    except ConfigurationError as err:
        return _pending(changes, described, f"no signing key is configured ({err.message})")
    try:
        principal = state.trust.principal_for(blob, state.seq + 1).principal
    except TrustError as err:
        return _pending(changes, described, f"the current signing key is not the ledger's: "
                                            f"{err.reason}")
    if identity_key(principal) not in {identity_key(r) for r in state.trust.rotators}:
        rotators = ", ".join(sorted(state.trust.rotators)) or "nobody"
        return _pending(changes, described, f"{principal!r} is not a rotator (rotators on the "
                                            f"ledger: {rotators})")
    entry = append_event(root, KeyRotated(reason=reason, details={"changes": changes}).to_dict(),
                         branch=store.branch, expected_tip=state.commit)
    return LedgerOutcome("recorded", described, seq=entry.seq, signer=principal,
                         raw_changes=tuple(changes))


def _pending(changes: list[dict[str, Any]], described: tuple[str, ...], why: str
             ) -> LedgerOutcome:
    return LedgerOutcome("pending", described, why_pending=why, command=SYNC_COMMAND,
                         raw_changes=tuple(changes))


def sync(root: Path, *, reason: str) -> LedgerOutcome:
    """``governance people sync``: record the committed configuration's trust changes."""
    from governance.config import load_config

    config = load_config(root)
    outcome = record_trust(root, config, (root / CONFIG_FILE).read_bytes(), reason=reason)
    if outcome.state == "no_ledger":
        raise NotFound("no ledger yet: `governance ledger init` pins the people of "
                       f"{CONFIG_FILE} in its genesis")
    if outcome.state == "pending":
        listed = "".join(f"\n  - {c}" for c in outcome.changes)
        raise Denied(f"cannot record the trust changes: {outcome.why_pending}; pending:{listed}",
                     hint="a rotator (ledger.rotators) runs `governance people sync` with "
                          "their signing key configured")
    return outcome


def ledger_append_command(changes: Sequence[dict[str, Any]], reason: str) -> str:
    """The equivalent raw ``governance ledger append`` (for tooling without the sync command)."""
    import json

    details = json.dumps({"changes": list(changes)}, separators=(",", ":"), sort_keys=True)
    return ("governance ledger append --type key_rotated "
            f"--field {shlex.quote('reason=' + reason)} "
            f"--field {shlex.quote('details=' + details)}")
