"""From governance.yaml (read at the BASE commit) to the approval policy facts are read against.

Owns the mapping of the typed ``GovernanceConfig`` (roles, bots, people, environments, risk
tiers) to ``ApprovalPolicy``, and the list of GitHub teams whose membership must be looked up.
``config_at`` loads governance.yaml from bytes read at a commit with the foundation's loader, so
a pull request cannot change the rules that judge it (DESIGN section 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from governance.approvals.facts import ApprovalPolicy, RoleDefinition, required_roles
from governance.domain.config import GovernanceConfig
from governance.errors import ConfigurationError, problems_text
from governance.records import build_config, validate_document
from governance.yaml_source import YamlProblem, load_yaml_bytes


def config_at(raw: bytes, name: str) -> GovernanceConfig:
    """governance.yaml bytes (e.g. from the base commit) as a validated GovernanceConfig.

    An invalid document there is a configuration error (exit 3): we cannot know the rules.
    """
    try:
        doc = load_yaml_bytes(raw, name)
    except YamlProblem as err:
        raise ConfigurationError(f"{name} cannot be read: {err.problem.render()}") from None
    problems = validate_document(doc, "GovernanceConfig")
    if problems:
        raise ConfigurationError(f"{name} is invalid:\n{problems_text(problems)}")
    return build_config(doc.data)


def roles_of(config: GovernanceConfig) -> dict[str, RoleDefinition]:
    return {
        name: RoleDefinition(members=frozenset(role.members), teams=frozenset(role.teams))
        for name, role in config.roles.items()
    }


def environment_roles(config: GovernanceConfig, environment: str) -> list[str]:
    env = config.environments.get(environment)
    if env is None:
        known = ", ".join(config.environments) or "none"
        raise ConfigurationError(
            f"governance.yaml $.environments: no environment {environment!r} (known: {known})"
        )
    return list(env.required_approvals)


def approval_policy(
    config: GovernanceConfig,
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
    if config.approvals_per_role and risk_tier not in config.approvals_per_role:
        raise ConfigurationError(
            f"governance.yaml $.risk_tiers: no tier {risk_tier!r} "
            f"(known: {', '.join(sorted(config.approvals_per_role))})"
        )
    env = config.environments[environment]
    return ApprovalPolicy(
        required=required_roles(needed, config.approvals_needed(risk_tier)),
        roles=roles,
        protected_branch=env.protected_branch or config.protected_branch,
        bots=frozenset(config.bots),
        trainers=frozenset(trainers),
        people_emails=_people_emails(config),
    )


def governance_policy(config: GovernanceConfig) -> ApprovalPolicy:
    """The policy for a change to governance paths (governance.yaml, policies/, .github/): no
    role requirement; the CODEOWNERS rules at the base decide who must approve."""
    return ApprovalPolicy(
        required=(),
        roles=roles_of(config),
        protected_branch=config.protected_branch,
        bots=frozenset(config.bots),
        people_emails=_people_emails(config),
    )


def _people_emails(config: GovernanceConfig) -> dict[str, str]:
    """Commit email (lowercased) -> person or bot id, to recognise committers."""
    identities = [*config.people.values(), *config.bots.values()]
    return {i.email.lower(): i.id for i in identities if i.email}


def teams_to_check(policy: ApprovalPolicy, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Every org/slug team whose membership may decide a required role or a code owner."""
    teams = {t for role, _ in policy.required for t in policy.roles[role].teams}
    teams.update(extra)
    return tuple(sorted(teams))
