"""The lifecycle use cases behind ``promote``, ``rollback``, ``retire`` and ``approve``: a typed
request in, the outcome out.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``), which wires the ports the decision is made
through (approvals source, deployers, gates, the verified ledger tip, the event source);
``governance.promotion`` and ``governance.approving`` decide. The CLI renders the result
(``governance.cli.render``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.approving import ApprovalResult
    from governance.ci_context import CiContext
    from governance.promotion import Outcome
    from governance.service import Service


@dataclass(frozen=True)
class PromoteRequest:
    release: str  # id or directory
    environment: str
    approvals: str  # git (the ledger) or github (a pull request's reviews)
    pr: int | None
    break_glass: tuple[str, str] | None  # (reason, incident) overriding a denial loudly
    remote: str | None = None


@dataclass(frozen=True)
class RollbackRequest:
    model: str
    environment: str
    reason: str
    incident: str | None
    to: str | None  # None: the fallback, the prior approved release live there
    remote: str | None = None


@dataclass(frozen=True)
class RetireRequest:
    release: str
    reason: str
    remote: str | None = None


@dataclass(frozen=True)
class ApproveRequest:
    release: str
    role: str
    deny: bool
    reason: str | None
    closes: str | None  # event id of the break-glass this post-hoc approval reviews
    remote: str | None = None


@dataclass(frozen=True)
class Approval:
    """What ``approve`` recorded, and who signed it."""

    request: ApproveRequest
    actor: str
    result: ApprovalResult

    def to_json(self) -> dict[str, Any]:
        return self.result.to_json()


def promote(service: Service, request: PromoteRequest, ci: CiContext | None = None) -> Outcome:
    from governance import promotion

    ports = service.ports(request.remote, approvals=request.approvals, pr=request.pr, ci=ci)
    return promotion.promote(service.repo, request.release, request.environment, ports,
                             break_glass=request.break_glass)


def rollback(service: Service, request: RollbackRequest) -> Outcome:
    from governance import promotion

    return promotion.rollback(service.repo, request.model, request.environment,
                              service.ports(request.remote), reason=request.reason,
                              incident=request.incident, to=request.to)


def retire(service: Service, request: RetireRequest) -> Outcome:
    from governance import promotion

    return promotion.retire(service.repo, request.release, service.ports(request.remote),
                            reason=request.reason)


def approve(service: Service, request: ApproveRequest) -> Approval:
    from governance.approving import approve as record

    ports = service.ports(request.remote)
    result = record(service.repo, request.release, request.role, actor=ports.actor,
                    entries=ports.entries, append=ports.append, deny=request.deny,
                    reason=request.reason, closes=request.closes)
    return Approval(request, ports.actor, result)
