"""The ledger use cases behind ``governance ledger init | append | log | checkpoint | verify``.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``, which finds the governed repository holding
the ledger); ``governance.ledger`` writes, reads and verifies. Appends go on the verified tip
(``governance.ledger.append``); ``log`` reads through the verified reader unless the request is
explicitly ``unverified`` (forensics, marked as such). The result is data; the CLI renders it
through a renderer registry (``governance.cli.commands_ledger``).

The ledger writer, the verifier and GitPython load inside the use case that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from governance.errors import GovernanceError, Tampered, Undecided

if TYPE_CHECKING:
    from governance.domain.events import LedgerEntry
    from governance.ledger.verify import VerifyReport
    from governance.service import Service


# --- init and append -----------------------------------------------------------------------


@dataclass(frozen=True)
class InitRequest:
    remote: str | None = None


@dataclass(frozen=True)
class Initialised:
    entry: LedgerEntry  # the genesis event, seq 0
    advice: tuple[str, ...]  # what the settings still lack (a log key, a CI identity, ...)


def init(service: Service, request: InitRequest) -> Initialised:
    """Write the genesis event pinning trust from governance.yaml at this commit."""
    from governance.ledger import init_ledger
    from governance.ledger.append import genesis_advice
    from governance.ledger.settings import load_settings

    root = service.ledger_root
    entry = init_ledger(root, remote=request.remote)
    return Initialised(entry, tuple(genesis_advice(load_settings(root))))


@dataclass(frozen=True)
class AppendRequest:
    event_type: str
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    remote: str | None = None

    def __post_init__(self) -> None:  # a frozen request holds a read-only copy
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))


def append(service: Service, request: AppendRequest) -> LedgerEntry:
    """Append one signed event by hand (the lifecycle's own events are refused there)."""
    from governance.ledger.append import append_by_hand

    fields = {**request.fields, "event_type": request.event_type}
    return append_by_hand(service.ledger_root, fields, remote=request.remote)


# --- log -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRequest:
    event_type: str | None = None
    actor: str | None = None
    model: str | None = None
    release: str | None = None
    limit: int | None = None  # only the last N matching events
    unverified: bool = False  # forensics: the commits as stored, nothing verified


def log(service: Service, request: LogRequest) -> list[LedgerEntry]:
    """The matching events in seq order."""
    from governance.ledger.reader import entries, unverified_entries

    want = {"event_type": request.event_type, "actor_id": request.actor,
            "model_name": request.model, "release_id": request.release}
    read = unverified_entries if request.unverified else entries
    rows = [e for e in read(service.ledger_root)
            if all(v is None or e.get(k) == v for k, v in want.items())]
    if request.limit is not None:
        rows = rows[-request.limit:]
    return rows


# --- checkpoint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRequest:
    out: Path | None = None  # None: stdout


@dataclass(frozen=True)
class Checkpoint:
    request: CheckpointRequest
    note: str  # the C2SP signed note
    size: int  # events it covers
    total: int  # events on the ledger


def checkpoint(service: Service, request: CheckpointRequest) -> Checkpoint:
    """The latest signed checkpoint note of the ledger."""
    from governance.ledger import latest_checkpoint

    note, size, total = latest_checkpoint(service.ledger_root)
    return Checkpoint(request, note, size, total)


# --- verify --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyRequest:
    checkpoint_files: tuple[Path, ...] = ()  # external checkpoints to check against


def verify(service: Service, request: VerifyRequest) -> VerifyReport:
    """Every commit, event, signature and checkpoint, up to the first failure."""
    from governance.ledger import verify_repo

    return verify_repo(service.ledger_root, checkpoint_files=list(request.checkpoint_files))


def refusal(report: VerifyReport) -> GovernanceError | None:
    """The failure as the error the funnel maps to an exit code: 3 undecided, 1 tampered."""
    f = report.failure
    if f is None:
        return None
    where = f"seq {f.seq}" if f.seq is not None else "an external checkpoint"
    if f.undecided:
        return Undecided(f"ledger verification could not decide at {where}")
    return Tampered(f"ledger verification failed at {where}: {f.reason}")
