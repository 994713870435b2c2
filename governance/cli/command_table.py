"""The table of the ``governance`` commands: name, the modules that define it, its short help.

The top-level application (``governance.cli.app``) lists its commands from this table and imports
a command's modules only when that command runs (or its own ``--help`` is asked for), so
``governance --help``, ``governance live`` or ``governance status`` do not pay for the ledger
writer, the Rego engine, PyGithub or the sinks (issue 18). Each module named here has a
``register(app)`` that adds its commands and groups to a typer application.

``help`` is the first paragraph of the command's own help text, exactly as ``governance --help``
shows it; ``tests/unit/test_command_table.py`` checks every entry against the command the modules
really define, in the same order, so the table cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandEntry:
    """One top-level command or group of ``governance``."""

    name: str
    modules: tuple[str, ...]  # governance.cli modules whose register() defines it
    help: str


# The root application's own texts (governance.cli.app builds it with them; governance.cli.entry
# renders ``governance --help`` from them and the table without importing typer).
ROOT_HELP = (
    "Git-native, policy-as-code governance for ML model releases: release records and model "
    "cards in Git, Rego gates through OPA, named approvals, a signed-commit ledger, audited "
    "promotion and rollback."
)
TRACEBACK_HELP = "Show the Python stack when a command fails."
VERSION_HELP = "Print the version of governance and exit."

_RECORDS = ("commands_records",)
_AUDIT = ("commands_audit",)
_EVIDENCE = ("commands_evidence",)
_POLICY = ("commands_policy",)
_LIFECYCLE = ("commands_lifecycle",)
_DOCTOR = ("commands_doctor",)
_PEOPLE = ("commands_people",)

# In the order ``governance --help`` lists them: commands first, then groups (typer's order).
COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("init", _RECORDS,
                 "Scaffold a governed repository where `governance validate` and `governance "
                 "ledger\ninit` work at once."),
    CommandEntry("validate", _RECORDS,
                 "Check schemas, cross-references and evidence digests; report every problem."),
    CommandEntry("digest", _RECORDS,
                 "Print the canonical release digest (see governance/digest.py for the "
                 "definition)."),
    CommandEntry("live", _AUDIT,
                 "Which release was live for MODEL in an environment at a time (first line: its "
                 "id)."),
    CommandEntry("history", _AUDIT,
                 "The timeline of MODEL: registration, gates, approvals, promotions, rollbacks, "
                 "..."),
    CommandEntry("diff", _EVIDENCE,
                 "What changed from RELEASE_A to RELEASE_B: data, code, features, config, "
                 "artifact,\nmetrics and subgroups with deltas, model card, policy bundle and "
                 "approvers."),
    CommandEntry("explain", _EVIDENCE,
                 "The six answers (artifact, data/code/config, evaluation, approvals, audit "
                 "trail,\nrollback) with their evidence, for RELEASE_ID or for what MODEL had "
                 "live in --env at --at.\nWith --source: the ledger's part of them for "
                 "RELEASE_ID across repositories."),
    CommandEntry("report", _EVIDENCE,
                 "The evidence bundle an auditor keeps: the six answers, the model card with "
                 "approval\nstatus derived from the ledger, the gate decision, approvers, the "
                 "diff against the previous\nproduction release and an SVG timeline of "
                 "promotions and rollbacks. With --org --source:\nthe organisation report "
                 "across repositories."),
    CommandEntry("check", _POLICY,
                 "Evaluate the release gates (exit 0 pass, 1 denied, 3 could not decide)."),
    CommandEntry("promote", _LIFECYCLE,
                 "Promote a release to an environment: every gate and approval must hold for "
                 "its digest."),
    CommandEntry("rollback", _LIFECYCLE,
                 "Return a model in an environment to a prior approved release that was live "
                 "there."),
    CommandEntry("retire", _LIFECYCLE, "Retire a release: it can never be promoted again."),
    CommandEntry("status", _LIFECYCLE,
                 "Live release per environment, fallback, pointer drift, open obligations, and "
                 "the\nreleases newest first with their state now (the newest --limit; --all "
                 "for every one)."),
    CommandEntry("approve", _LIFECYCLE,
                 "Sign a git-native approval (or denial) bound to the release digest."),
    CommandEntry("demo", ("commands_demo",),
                 "Run register -> gates -> approvals -> promote -> deny -> rollback -> verify "
                 "-> export."),
    CommandEntry("doctor", _DOCTOR,
                 "Check that this repository and you are ready to govern; each finding names "
                 "its fix.\nExit 0 when ready, 1 otherwise (advice never fails)."),
    CommandEntry("model", _RECORDS, "Register models (releases/<model>/model.yaml)."),
    # ``release propose`` comes from the approvals commands
    CommandEntry("release", (*_RECORDS, "commands_approvals"), "Create governed releases."),
    CommandEntry("schema", _RECORDS, "JSON Schemas of the governed documents."),
    CommandEntry("ledger", ("commands_ledger",),
                 "The signed-commit ledger: init, append, log, checkpoint, verify."),
    CommandEntry("audit", _AUDIT,
                 "Audit trail: query the evidence, export it to durable sinks, verify them."),
    CommandEntry("policy", _POLICY, "Test and lint the Rego policies that decide the gates."),
    CommandEntry("codeowners", ("commands_approvals",),
                 "Generate and check CODEOWNERS from governance.yaml."),
    CommandEntry("env", ("commands_env",),
                 "Environment order (governance.yaml) and the pointer branch."),
    CommandEntry("config", ("commands_config",),
                 "Governance configuration changes merged to the protected branch."),
    CommandEntry("pins", _DOCTOR,
                 "The workflows' pinned, hash-checked install of model-governance."),
    CommandEntry("people", _PEOPLE,
                 "People and bots of governance.yaml, kept in step with the ledger's trust."),
    CommandEntry("keys", _PEOPLE,
                 "Signing keys of people and bots (governance.yaml and the ledger's trust)."),
)

BY_NAME: dict[str, CommandEntry] = {entry.name: entry for entry in COMMANDS}
