"""The governed repository's configuration (governance.yaml) as values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.domain.frozen import field, frozen
from governance.domain.identity import identity_key, identity_keys


@frozen
class Identity:
    """A person or a bot: id is the GitHub login; keys are OpenSSH public key lines."""

    id: str
    name: str
    email: str
    signing_keys: tuple[str, ...] = ()
    may_emit: tuple[str, ...] = ()  # bots only
    is_bot: bool = False


@frozen
class Role:
    name: str
    members: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()  # "org/slug"


# The production environment's name when a configuration names no environment (and for folds
# made without one, e.g. an organisation's rows): governance.yaml's last environment otherwise.
DEFAULT_PRODUCTION = "production"


@frozen
class Environment:
    name: str
    required_approvals: tuple[str, ...] = ()
    after: str | None = None  # must have been live there first
    protected_branch: str | None = None


@frozen
class Waiver:
    gate_id: str
    model: str
    approver: str
    reason: str
    expires: str  # YYYY-MM-DD, end of that day UTC
    release_id: str | None = None


@frozen
class GovernanceConfig:
    roles: Mapping[str, Role]
    environments: Mapping[str, Environment]  # in file order (promotion order)
    people: Mapping[str, Identity] = field(default_factory=dict)
    bots: Mapping[str, Identity] = field(default_factory=dict)
    organization: str | None = None
    repository: str | None = None
    protected_branch: str = "main"
    approvals_per_role: Mapping[str, int] = field(default_factory=dict)  # by risk tier
    gates: Mapping[str, Any] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    ledger: Mapping[str, Any] = field(default_factory=dict)
    sinks: Mapping[str, Any] = field(default_factory=dict)
    max_file_bytes: int | None = None
    # metrics declared as rates (AUC, precision, accuracy...): their values lie in [0, 1]
    ratio_metrics: frozenset[str] = frozenset()
    raw: Mapping[str, Any] = field(default_factory=dict)  # the validated document, for Rego input

    @property
    def production_environment(self) -> str:
        """Where a release is in production: the last environment of the promotion order (file
        order), e.g. ``prod``; ``production`` when governance.yaml names no environment."""
        return list(self.environments)[-1] if self.environments else DEFAULT_PRODUCTION

    def identity(self, ident: str) -> Identity | None:
        return self.people.get(ident) or self.bots.get(ident)

    def approvals_needed(self, risk_tier: str) -> int:
        return int(self.approvals_per_role.get(risk_tier, 1))

    def roles_of(self, person: str) -> tuple[str, ...]:
        who = identity_key(person)
        return tuple(name for name, role in self.roles.items()
                     if who in identity_keys(role.members))
