"""The people and key use cases behind ``governance people add | remove | roles | list | sync``
and ``governance keys add | retire | log``: a typed request in, the outcome out.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``). ``governance.people`` edits governance.yaml
(validated before it is written) and, once the ledger exists, records the trust change as
``key_rotated`` when the current signer is a rotator; the outcome says what was written and
where the ledger stands. The CLI renders it through a renderer registry
(``governance.cli.commands_people``).

``governance.people`` imports the ledger and ruamel: it loads inside the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.domain.config import GovernanceConfig
    from governance.people import EditOutcome, LedgerOutcome
    from governance.service import Service


@dataclass(frozen=True)
class AddPersonRequest:
    ident: str  # GitHub login
    name: str
    email: str  # their ledger commits must use it
    key: Path | None  # their SSH signing public key (.pub)
    roles: tuple[str, ...] = ()
    rotator: bool = False


def add_person(service: Service, request: AddPersonRequest) -> EditOutcome:
    from governance import people

    key_line = people.read_public_key(request.key) if request.key is not None else None
    roles = list(request.roles)

    def edit(doc: Any, config: GovernanceConfig) -> str:
        people.add_person(doc, config, request.ident, request.name, request.email, key_line,
                          roles, request.rotator)
        extras = [f"roles {', '.join(roles)}"] if roles else []
        if request.rotator:
            extras.append("rotator")
        if key_line is not None:
            extras.append(f"key {key_line.key.fingerprint}")
        return f"added {request.ident}" + (f" ({'; '.join(extras)})" if extras else "")

    return people.edit_config(service.root, edit, reason=f"people add {request.ident}")


@dataclass(frozen=True)
class RemovePersonRequest:
    ident: str


def remove_person(service: Service, request: RemovePersonRequest) -> EditOutcome:
    from governance import people

    def edit(doc: Any, config: GovernanceConfig) -> str:
        people.remove_person(doc, config, request.ident)
        return f"removed {request.ident} (events they signed before stay valid)"

    return people.edit_config(service.root, edit, reason=f"people remove {request.ident}")


@dataclass(frozen=True)
class RolesRequest:
    ident: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def change_roles(service: Service, request: RolesRequest) -> EditOutcome:
    from governance import people

    add, remove = list(request.add), list(request.remove)

    def edit(doc: Any, config: GovernanceConfig) -> str:
        who = people.change_roles(doc, config, request.ident, add, remove)
        changes = [f"joined {', '.join(add)}"] if add else []
        if remove:
            changes.append(f"left {', '.join(remove)}")
        return f"{who}: {'; '.join(changes)}"

    return people.edit_config(service.root, edit, reason=f"people roles {request.ident}")


@dataclass(frozen=True)
class RosterRequest:
    """``people list`` takes no option but ``--repo`` and ``--format``."""


@dataclass(frozen=True)
class Roster:
    """The people and bots, and whether the ledger's trust matches them."""

    rows: tuple[Any, ...]
    ledger: LedgerOutcome


def roster(service: Service, request: RosterRequest) -> Roster:
    from governance import people
    from governance.config import load_config

    root = service.root
    return Roster(tuple(people.list_people(load_config(root))), people.ledger_status(root))


@dataclass(frozen=True)
class SyncRequest:
    reason: str | None = None  # default: names the commit


def sync(service: Service, request: SyncRequest) -> LedgerOutcome:
    """Record governance.yaml's trust on the ledger (key_rotated), signed by a rotator."""
    from governance import people
    from governance.vcs import head_commit

    root = service.root
    head = head_commit(root)
    why = request.reason or f"governance.yaml at {head[:12] if head else 'the working tree'}"
    return people.sync(root, reason=why)


@dataclass(frozen=True)
class AddKeyRequest:
    ident: str
    key: Path  # the SSH public key (.pub)


def add_key(service: Service, request: AddKeyRequest) -> EditOutcome:
    from governance import people

    key_line = people.read_public_key(request.key)

    def edit(doc: Any, config: GovernanceConfig) -> str:
        people.add_key(doc, request.ident, key_line)
        return f"added key {key_line.key.fingerprint} to {request.ident}"

    return people.edit_config(service.root, edit, reason=f"keys add {request.ident}")


@dataclass(frozen=True)
class RetireKeyRequest:
    ident: str
    fingerprint: str  # SHA256:... as ssh-keygen -lf prints it


def retire_key(service: Service, request: RetireKeyRequest) -> EditOutcome:
    from governance import people

    ident, fingerprint = request.ident, request.fingerprint

    def edit(doc: Any, config: GovernanceConfig) -> str:
        people.retire_key(doc, config, ident, fingerprint)
        return (f"retired key {fingerprint} of {ident} (events it signed before stay valid; "
                "new ones are refused)")

    return people.edit_config(service.root, edit, reason=f"keys retire {ident} {fingerprint}")


@dataclass(frozen=True)
class LogKeyRequest:
    key: Path  # the checkpoint log key's SSH public key (.pub, ed25519)


def set_log_key(service: Service, request: LogKeyRequest) -> EditOutcome:
    from governance import people

    key_line = people.read_public_key(request.key)
    root = service.root

    def edit(doc: Any, config: GovernanceConfig) -> str:
        people.set_log_key(doc, config, root, key_line)
        return (f"ledger.log_public_key set to {key_line.key.fingerprint}; CI signs "
                "checkpoints with the private half, set as GOVERNANCE_LEDGER_LOG_KEY")

    return people.edit_config(root, edit, reason="keys log")
