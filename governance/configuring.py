"""The environment and configuration use cases behind ``governance env list | first | next |
publish | verify`` and ``governance config record``: a typed request in, the result out.

Each command parses its options into one frozen request below and calls its use case with the
composition root (``governance.service.Service``): ``governance.environments`` decides the
order, the next environment and whether the pointer files match the ledger;
``governance.pointers`` reads and writes the pointer branch;
``governance.config_change`` records a merged configuration change through the ports the root
wires. The CI run (``source``) is read once at the CLI edge and passed in. The result is data;
the CLI renders it through a renderer registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.config_change import ConfigRecord
    from governance.domain.config import Environment
    from governance.environments import NextStep, PointerCheck
    from governance.pointers import Publication
    from governance.service import Service


@dataclass(frozen=True)
class OrderRequest:
    """``env list`` (every environment) or ``env first`` (only the first)."""

    first_only: bool = False


def order(service: Service, request: OrderRequest) -> tuple[Environment, ...]:
    """The environments in promotion order (governance.yaml), or only the first."""
    from governance.environments import first_environment, promotion_order

    if request.first_only:
        return (first_environment(service.config),)
    return tuple(promotion_order(service.config))


@dataclass(frozen=True)
class NextRequest:
    release: str  # id or directory


def next_environment(service: Service, request: NextRequest) -> NextStep:
    """Where the release goes next, from the verified ledger."""
    from governance.environments import next_step

    loaded = service.repo.load_release(request.release)
    return next_step(service.config, loaded.release.release_id, loaded.release.model_name,
                     loaded.digest.value, service.entries())


@dataclass(frozen=True)
class PublishRequest:
    remote: str | None = None


def publish(service: Service, request: PublishRequest) -> Publication:
    """Commit the pointer files as the ledger says onto the pointer branch."""
    from governance.pointers import publish as publish_pointers

    return publish_pointers(service.root, service.config, remote=request.remote)


@dataclass(frozen=True)
class PointerCheckRequest:
    ref: str | None  # read the pointer files at this commit (None: the working tree)
    record: bool  # record a mismatch as policy_violation on the ledger
    source: Mapping[str, Any]  # the CI run, recorded with a violation


def verify_pointers(service: Service, request: PointerCheckRequest) -> PointerCheck:
    """The pointer files compared with the ledger (and a mismatch recorded if asked)."""
    from governance.environments import check_pointers
    from governance.pointers import pointers_at, pointers_in

    root = service.root
    listed = service.entries()
    found = pointers_at(root, request.ref) if request.ref else pointers_in(root)
    return check_pointers(service.config, listed, found, ref=request.ref,
                          record=service.append if request.record else None,
                          source=dict(request.source))


@dataclass(frozen=True)
class ConfigRecordRequest:
    before: str  # full commit sha before the push
    after: str | None  # the pushed commit (None: HEAD)
    pr: int | None  # the pull request merged as this push (None: a direct push)
    source: Mapping[str, Any]  # the CI run


def record_config(service: Service, request: ConfigRecordRequest) -> ConfigRecord:
    """Record config_changed with the pull request's approvals, or policy_violation."""
    from governance.config_change import record_config_change

    return record_config_change(request.before, request.after or service.head_commit() or "",
                                request.pr, dict(request.source),
                                service.config_change_ports())
