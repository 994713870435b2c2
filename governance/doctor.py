"""``governance doctor``: is this repository and this user ready to govern, and if not, what
command fixes it (issue 15, item 6).

Each check returns findings; a finding that blocks is an ``error`` (exit 1), one GitHub alone
can confirm is ``advice`` (it never fails the run). Every finding carries the command or step
that fixes it. The ledger is read only through the verified reader (``verified_tip``): a ledger
that fails verification is a finding, never trusted for the other checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.config import CONFIG_FILE, load_config
from governance.domain.config import GovernanceConfig
from governance.domain.event_types import DEPLOYMENT_PROMOTED
from governance.errors import GovernanceError, NotFound
from governance.vcs import git_config

ERROR = "error"
ADVICE = "advice"
PLACEHOLDER_ORIGIN = "example.com/example-org/models"
WORKFLOWS = ("governance-gate.yml", "governance-promote.yml", "governance-promote-next.yml",
             "governance-rollback.yml", "governance-pointers.yml")


@dataclass(frozen=True)
class Finding:
    check: str  # signing, config, ledger, origin, log-key, codeowners, workflows, pins, ...
    severity: str  # error | advice
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "severity": self.severity, "message": self.message,
                "fix": self.fix}


@dataclass(frozen=True)
class Diagnosis:
    checked: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "checked": list(self.checked),
                "findings": [f.to_json() for f in self.findings]}


def _error(check: str, message: str, fix: str) -> Finding:
    return Finding(check, ERROR, message, fix)


# --- the checks --------------------------------------------------------------------------


def check_signing(root: Path, config: GovernanceConfig,
                  config_get: Callable[[str], str | None] | None = None) -> list[Finding]:
    """The current user's SSH signing key is a key of a person (or bot) in governance.yaml."""
    from governance.ledger.signing import ENV_SIGNING_KEY, commit_signer

    get = config_get or (lambda key: git_config(root, key))
    try:
        with commit_signer(get) as signer:
            key = signer.public_key
    except GovernanceError as err:
        fix = (f"git config --global gpg.format ssh && git config --global user.signingkey "
               f"~/.ssh/id_ed25519.pub (or set {ENV_SIGNING_KEY})")
        return [_error("signing", f"git signing is not usable for the ledger: {err.message}",
                       fix)]
    owners = [ident.id for ident in (*config.people.values(), *config.bots.values())
              if any(k.split()[:2] == key.line.split()[:2] for k in ident.signing_keys)]
    if not owners:
        return [_error(
            "signing",
            f"your signing key {key.fingerprint} is not a key of any person in {CONFIG_FILE}",
            "governance people add ID --name N --email E --key ~/.ssh/id_ed25519.pub "
            "(or `governance keys add ID ~/.ssh/id_ed25519.pub` for an existing person)")]
    return []


def check_ledger(root: Path, config: GovernanceConfig) -> tuple[list[Finding], Any]:
    """The ledger branch exists and verifies; returns the verified trust (or None)."""
    from governance.ledger.append import open_store, verified_tip

    try:
        tip = verified_tip(open_store(root))
    except NotFound:
        return [_error("ledger", "no ledger yet", "governance ledger init (then git push "
                       "origin governance/ledger)")], None
    except GovernanceError as err:
        return [_error("ledger", f"the ledger does not verify: {err.message}",
                       "governance ledger verify (it names the first failing seq and why)")], None
    return [], tip


def check_origin_and_log_key(config: GovernanceConfig, tip: Any) -> list[Finding]:
    from governance.ledger.sshsig import ED25519, SignatureError, parse_public_key

    ledger = dict(config.ledger or {})
    findings: list[Finding] = []
    origin = ledger.get("origin")
    if not isinstance(origin, str) or not origin:
        findings.append(_error("origin", f"{CONFIG_FILE} $.ledger.origin is not set",
                               "set ledger.origin, e.g. github.com/ORG/REPO "
                               "(`governance init --origin` does it for a new repository)"))
    elif origin == PLACEHOLDER_ORIGIN:
        findings.append(_error("origin", f"$.ledger.origin is the scaffold's placeholder "
                               f"{origin!r}", "set ledger.origin to github.com/ORG/REPO "
                               "before `governance ledger init`"))
    elif tip is not None and tip.trust.origin != origin:
        findings.append(_error("origin", f"$.ledger.origin is {origin!r} but the ledger's "
                               f"genesis pinned {tip.trust.origin!r}",
                               f"set ledger.origin back to {tip.trust.origin!r} (the origin "
                               "names the log and never changes)"))
    log_key = ledger.get("log_public_key")
    if not isinstance(log_key, str) or not log_key:
        findings.append(_error(
            "log-key", "no ledger.log_public_key: checkpoints are neither signed nor verified",
            "ssh-keygen -t ed25519 -N '' -f log-key && governance keys log log-key.pub "
            "(before `ledger init`; after the genesis, a rotator records it with "
            "`governance ledger append --type key_rotated` op add_log_key); store log-key as "
            "the GOVERNANCE_LOG_KEY secret"))
    elif tip is not None:
        try:
            raw = parse_public_key(log_key, (ED25519,)).raw
        except SignatureError as err:
            return [*findings, _error("log-key", f"$.ledger.log_public_key: {err.reason}",
                                      "an 'ssh-ed25519 AAAA...' public key line")]
        if raw not in [k.public for k in tip.trust.log_keys_at(None)]:
            findings.append(_error(
                "log-key", "$.ledger.log_public_key is not a log key of the ledger's trust",
                "a rotator records it: `governance ledger append --type key_rotated` with "
                "details.changes [{op: add_log_key, key: ...}]"))
    return findings


def check_ledger_knows_signer(root: Path, tip: Any,
                              config_get: Callable[[str], str | None] | None = None
                              ) -> list[Finding]:
    """governance.yaml may list a key the ledger has not recorded yet (no key_rotated)."""
    from governance.ledger.signing import commit_signer
    from governance.ledger.trust import TrustError

    get = config_get or (lambda key: git_config(root, key))
    try:
        with commit_signer(get) as signer:
            blob = signer.public_key.blob
    except GovernanceError:
        return []  # reported by check_signing
    try:
        tip.trust.principal_for(blob, tip.seq + 1)
    except TrustError as err:
        return [_error("signing", f"the ledger does not accept your key: {err.reason}",
                       "a rotator records it: `governance keys add ID KEY.pub`")]
    return []


def check_roles(config: GovernanceConfig) -> list[Finding]:
    findings = []
    required = sorted({r for env in config.environments.values()
                       for r in env.required_approvals})
    for name in required:
        role = config.roles.get(name)
        if role is not None and not role.members and not role.teams:
            findings.append(_error(
                "roles", f"role {name} has no members or teams: no approval can count",
                f"governance people add ID --name N --email E --key KEY.pub --role {name}"))
    return findings


def check_deploy_bot(config: GovernanceConfig) -> list[Finding]:
    bots = [b for b in config.bots.values() if DEPLOYMENT_PROMOTED in (b.may_emit or ())]
    if any(b.signing_keys for b in bots):
        return []
    name = bots[0].id if bots else "ci-bot"
    return [_error(
        "bot", "no CI bot with a signing key may record promotions: the workflows cannot "
        "sign, and a small team cannot deploy without breaking separation of duties",
        f"ssh-keygen -t ed25519 -N '' -f {name}; governance keys add {name} {name}.pub; "
        f"store {name} as the GOVERNANCE_SIGNING_KEY secret")]


def check_codeowners(root: Path) -> list[Finding]:
    from governance.approvals import ownership

    result = ownership.check(root)
    if result.ok:
        return []
    first = result.problems[0]
    return [_error("codeowners", f"{result.path} is not in sync with {CONFIG_FILE} "
                   f"({len(result.problems)} problem(s); first: {first.message})",
                   "governance codeowners generate")]


def check_workflows(root: Path) -> list[Finding]:
    from governance.callers import pinned_caller
    from governance.scaffolding import SCAFFOLD

    findings = []
    directory = root / ".github" / "workflows"
    for name in WORKFLOWS:
        path = directory / name
        if not path.is_file():
            findings.append(_error("workflows", f".github/workflows/{name} is missing",
                                   f"governance init --new-repository /tmp/governance-scaffold"
                                   f" && cp /tmp/governance-scaffold/.github/workflows/{name} "
                                   ".github/workflows/"))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            unpinned = pinned_caller(text, name)
        except LookupError:
            unpinned = None
        else:  # a caller of model-governance's workflow
            if unpinned is not None:
                findings.append(_error(
                    "workflows", f".github/workflows/{name} {unpinned}",
                    "pin it: `uses: OWNER/REPO/.github/workflows/"
                    f"{name}@<40-hex commit> # vX.Y.Z` (or `governance init "
                    "--workflows-from OWNER/REPO@COMMIT` in a scratch directory and copy it)"))
            continue
        if path.read_bytes() != (SCAFFOLD / ".github" / "workflows" / name).read_bytes():
            findings.append(Finding(
                "workflows", ADVICE, f".github/workflows/{name} differs from the one this "
                "model-governance version scaffolds (a local change, or an older version)",
                f"review `diff` against a fresh `governance init` scaffold and copy {name} "
                "if the change is not yours"))
    return findings


def check_pins(root: Path) -> list[Finding]:
    from governance.pins import DISTRIBUTION, REQUIREMENTS, check_requirements, installed_version

    version = installed_version()
    own_fix = (f"governance pins write --artifact model_governance-{version}-py3-none-any.whl "
               "(the wheel of this release, checked with `gh attestation verify`)")
    deps_fix = ("install model-governance from a published release (its wheel ships the "
                f"dependency lock), then {own_fix}")
    findings = []
    for p in check_requirements(root, version):
        where = f"{REQUIREMENTS}:{p.line}" if p.line else REQUIREMENTS
        own = DISTRIBUTION in p.message and "dependencies" not in p.message
        findings.append(_error("pins", f"{where}: {p.message}", own_fix if own else deps_fix))
    return findings


def branch_protection_advice(config: GovernanceConfig) -> list[Finding]:
    """What only GitHub can enforce, and doctor cannot see offline."""
    branch = config.protected_branch
    ledger = str((config.ledger or {}).get("branch") or "governance/ledger")
    return [
        Finding("branch-protection", ADVICE,
                f"protect {branch} with a ruleset: pull request required, review from Code "
                "Owners, the governance/gate status check required, no bypass",
                "Settings > Rules > Rulesets (docs/workflows.md, Repository settings)"),
        Finding("branch-protection", ADVICE,
                f"protect {ledger} and governance/environments: block force pushes and "
                "deletion, require signed commits and linear history",
                "Settings > Rules > Rulesets (docs/workflows.md, Repository settings)"),
        Finding("branch-protection", ADVICE,
                "create the deployment environments (required reviewers, prevent "
                "self-review) and governance-ledger, holding the GOVERNANCE_SIGNING_KEY and "
                "GOVERNANCE_LOG_KEY secrets", "Settings > Environments (docs/workflows.md)"),
    ]


def diagnose(root: Path, config_get: Callable[[str], str | None] | None = None) -> Diagnosis:
    """Run every check against the governed repository at ``root``."""
    checked = ["config"]
    try:
        config = load_config(root)
    except GovernanceError as err:
        return Diagnosis(tuple(checked), (_error(
            "config", f"{CONFIG_FILE} cannot be used: {err.message}",
            "governance validate (it lists every problem with file:line)"),))
    findings: list[Finding] = []
    checked.append("signing")
    findings += check_signing(root, config, config_get)
    checked.append("ledger")
    ledger_findings, tip = check_ledger(root, config)
    findings += ledger_findings
    if tip is not None and not any(f.check == "signing" for f in findings):
        findings += check_ledger_knows_signer(root, tip, config_get)
    checked += ["origin", "log-key", "roles", "bot", "codeowners", "workflows", "pins",
                "branch-protection"]
    findings += check_origin_and_log_key(config, tip)
    findings += check_roles(config)
    findings += check_deploy_bot(config)
    findings += check_codeowners(root)
    findings += check_workflows(root)
    findings += check_pins(root)
    findings += branch_protection_advice(config)
    return Diagnosis(tuple(checked), tuple(findings))

