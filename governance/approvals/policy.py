"""From governance.yaml (read at the BASE commit) to the approval policy the counting rules take.

Owns the mapping of roles, bots, people, environments and risk tiers to ``ApprovalPolicy``, and
the list of GitHub teams whose membership must be looked up. The typed loader
(``governance.config.load_config``) is the source of truth for validation; this module reads
the plain mapping through one small function so it can run on a document read from a commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from governance.approvals.counting import ApprovalPolicy, RoleDefinition, required_roles
from governance.errors import ConfigurationError


def read_governance_yaml(data: bytes, where: str = "governance.yaml") -> Mapping[str, Any]:
    """Parse governance.yaml bytes (yaml.safe_load); a non-mapping is a configuration error."""
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{where}: not valid YAML: {err}") from None
    if not isinstance(loaded, Mapping):
        raise ConfigurationError(f"{where}: expected a mapping at the top level")
    return loaded


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"governance.yaml {where}: expected a mapping")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"governance.yaml {where}: expected a list of strings")
    return list(value)


def roles_of(config: Mapping[str, Any]) -> dict[str, RoleDefinition]:
    roles = {}
    for name, spec in _mapping(config.get("roles"), "$.roles").items():
        spec = _mapping(spec, f"$.roles.{name}")
        roles[str(name)] = RoleDefinition(
            members=frozenset(_strings(spec.get("members"), f"$.roles.{name}.members")),
            teams=frozenset(_strings(spec.get("teams"), f"$.roles.{name}.teams")),
        )
    return roles


def environment_roles(config: Mapping[str, Any], environment: str) -> list[str]:
    envs = _mapping(config.get("environments"), "$.environments")
    if environment not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise ConfigurationError(
            f"governance.yaml $.environments: no environment {environment!r} (known: {known})"
        )
    spec = _mapping(envs[environment], f"$.environments.{environment}")
    return _strings(spec.get("required_approvals"), f"$.environments.{environment}")


def approvals_per_role(config: Mapping[str, Any], risk_tier: str) -> int:
    tiers = _mapping(config.get("risk_tiers"), "$.risk_tiers")
    if risk_tier not in tiers:
        raise ConfigurationError(
            f"governance.yaml $.risk_tiers: no tier {risk_tier!r} "
            f"(known: {', '.join(sorted(tiers)) or 'none'})"
        )
    count = _mapping(tiers[risk_tier], f"$.risk_tiers.{risk_tier}").get("approvals_per_role", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigurationError(
            f"governance.yaml $.risk_tiers.{risk_tier}.approvals_per_role: {count!r} "
            "(expected an integer >= 1)"
        )
    return count


def approval_policy(
    config: Mapping[str, Any],
    environment: str,
    risk_tier: str,
    trainers: Iterable[str] = (),
) -> ApprovalPolicy:
    """The policy for promoting a model of ``risk_tier`` to ``environment``."""
    roles = roles_of(config)
    needed = environment_roles(config, environment)
    unknown = [r for r in needed if r not in roles]
    if unknown:
        raise ConfigurationError(
            f"governance.yaml $.environments.{environment}.required_approvals names unknown "
            f"role(s) {', '.join(unknown)} (defined: {', '.join(sorted(roles)) or 'none'})"
        )
    people_emails: dict[str, str] = {}
    for section in ("people", "bots"):
        for entry in config.get(section) or []:
            if isinstance(entry, Mapping) and entry.get("email") and entry.get("id"):
                people_emails[str(entry["email"]).lower()] = str(entry["id"])
    bots = frozenset(
        str(b["id"]) for b in config.get("bots") or [] if isinstance(b, Mapping) and "id" in b
    )
    return ApprovalPolicy(
        required=required_roles(needed, approvals_per_role(config, risk_tier)),
        roles=roles,
        protected_branch=str(config.get("protected_branch") or "main"),
        bots=bots,
        trainers=frozenset(trainers),
        people_emails=people_emails,
    )


def teams_to_check(policy: ApprovalPolicy, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Every org/slug team whose membership may decide a required role or a code owner."""
    teams = {t for role, _ in policy.required for t in policy.roles[role].teams}
    teams.update(extra)
    return tuple(sorted(teams))
