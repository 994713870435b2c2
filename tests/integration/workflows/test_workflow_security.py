"""Security properties of the governance workflows, asserted on the parsed YAML.

The rules come from GitHub's hardening guide
(https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions):
least-privilege GITHUB_TOKEN, actions pinned by full commit SHA, untrusted input only through
environment variables, no credentials left in a checkout. zizmor checks the same families of
problems; these tests pin the exact choices so a change to them is deliberate.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from tests.integration.workflows.workflow_files import (
    REPO_ROOT,
    SCAFFOLD_DIR,
    WORKFLOWS,
    jobs,
    load,
    steps,
    walk,
)

PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+v\d+\.\d+\.\d+\s*$"
)

# The exact token permissions of every job: widening one must be a deliberate edit here.
JOB_PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("governance-gate.yml", "gate"): {"contents": "read", "pull-requests": "read"},
    ("governance-gate.yml", "status"): {"statuses": "write"},
    ("governance-promote.yml", "plan"): {"contents": "read", "pull-requests": "read"},
    ("governance-promote.yml", "verify"): {"contents": "write", "pull-requests": "read"},
    ("governance-promote.yml", "promote"): {
        "contents": "write",
        "pull-requests": "read",
        "actions": "read",
    },
    ("governance-promote-next.yml", "plan"): {"contents": "read", "pull-requests": "read"},
    ("governance-promote-next.yml", "promote"): {
        "contents": "write",
        "pull-requests": "read",
        "actions": "read",
    },
    ("governance-rollback.yml", "rollback"): {"contents": "write"},
    ("governance-pointers.yml", "reconcile"): {"contents": "write"},
}

# Contexts an attacker can influence (https://securitylab.github.com/resources/github-actions-untrusted-input/).
UNTRUSTED = re.compile(r"github\.event\.|github\.head_ref|inputs\.|needs\.[\w-]+\.outputs")
# Where an expression may appear: values handed to the runner or an action, never to a shell.
# `environment` names the job's deployment environment (a name GitHub looks up, not a shell).
EXPRESSION_KEYS = {"env", "with", "if", "outputs", "concurrency", "environment"}
SECTION_8_COMMANDS = {
    "init",
    "validate",
    "model",
    "release",
    "check",
    "approve",
    "promote",
    "rollback",
    "retire",
    "status",
    "live",
    "history",
    "diff",
    "explain",
    "audit",
    "ledger",
    "codeowners",
    "report",
    "demo",
    # beyond DESIGN section 8 (docs/workflows.md): environment order, pointer branch, config
    "env",
    "config",
}
OPTIONS = {
    "validate": set(),
    "codeowners": {"--format"},
    "check": {"--env", "--pr", "--approvals", "--format"},
    "promote": {"--env"},
    "rollback": {"--env", "--to", "--reason", "--incident"},
    "ledger": {"--type", "--event"},  # ledger append (DESIGN 8 names the group)
    "env": {"--format", "--remote", "--record"},  # env first|next|publish|verify
    "config": {"--before", "--pr"},  # config record
    "release": {"--pr"},  # release register (issue 15 item 4: registered at merge)
    "--help": set(),
}


@pytest.fixture(params=WORKFLOWS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_top_level_permissions_are_empty(name: str) -> None:
    assert load(name)["permissions"] == {}


def test_every_job_has_exactly_its_listed_permissions(name: str) -> None:
    found = {(name, job_id): job.get("permissions") for job_id, job in jobs(load(name))}
    expected = {key: value for key, value in JOB_PERMISSIONS.items() if key[0] == name}
    assert found == expected


def test_every_uses_is_pinned_by_full_sha_with_a_version_comment(name: str) -> None:
    text = (SCAFFOLD_DIR / name).read_text()
    lines = [ln for ln in text.splitlines() if re.match(r"\s*(?:-\s+)?uses:", ln)]
    # Every parsed `uses:` has its line here (no flow-style step hides one from the scan).
    assert len(lines) == sum("uses" in step for _, step in steps(load(name))) > 0
    for line in lines:
        assert PINNED_USES.match(line), f"{name}: not pinned by SHA with '# vX.Y.Z': {line!r}"


def test_each_action_is_pinned_to_one_sha_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for name in WORKFLOWS:
        for line in (SCAFFOLD_DIR / name).read_text().splitlines():
            if match := PINNED_USES.match(line):
                pins.setdefault(match["action"], set()).add(line.split("@", 1)[1].strip())
    assert set(pins) == {"actions/checkout", "actions/setup-python", "open-policy-agent/setup-opa"}
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_where_each_pin_came_from_is_documented() -> None:
    doc = (REPO_ROOT / "docs" / "workflows.md").read_text()
    for name in WORKFLOWS:
        for line in (SCAFFOLD_DIR / name).read_text().splitlines():
            if match := PINNED_USES.match(line):
                assert match["sha"] in doc, f"{match['action']}@{match['sha']} not in docs"


def test_no_expression_inside_any_run_script(name: str) -> None:
    for job_id, step in steps(load(name)):
        assert "${{" not in step.get("run", ""), f"{name} {job_id}: {step.get('name')}"


def test_expressions_appear_only_where_no_shell_reads_them(name: str) -> None:
    for path, value in walk(load(name)):
        if isinstance(value, str) and "${{" in value:
            assert EXPRESSION_KEYS & set(path), f"{name}: expression at {path}: {value!r}"


def test_untrusted_contexts_reach_steps_only_through_env_or_action_inputs(name: str) -> None:
    for path, value in walk(load(name)):
        if isinstance(value, str) and UNTRUSTED.search(value):
            allowed = {"env", "with", "outputs", "if", "concurrency", "environment"}
            assert allowed & set(path), (name, path, value)


def test_checkouts_drop_credentials(name: str) -> None:
    checkouts = [
        s for _, s in steps(load(name)) if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_ledger_keys_only_in_jobs_behind_a_deployment_environment(name: str) -> None:
    for job_id, job in jobs(load(name)):
        for path, value in walk(job):
            if not isinstance(value, str):
                continue
            for secret in re.findall(r"secrets\.(\w+)", value):
                assert "env" in path, f"{name} {job_id}: secret outside env: {path}"
                if secret != "GITHUB_TOKEN":
                    assert job.get("environment"), f"{name} {job_id}: {secret} without environment"


def test_gate_runs_on_every_pull_request_event_without_filters() -> None:
    on = load("governance-gate.yml")["on"]
    assert set(on) == {"pull_request", "pull_request_review", "merge_group", "workflow_call"}
    for trigger in on.values():
        assert not {"paths", "paths-ignore", "branches", "branches-ignore"} & set(trigger or {})


def test_gate_checks_out_the_base_for_policy_and_the_head_only_as_data() -> None:
    gate = dict(jobs(load("governance-gate.yml")))["gate"]
    checkouts = [s for s in gate["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    refs = {s["with"]["path"]: s["with"]["ref"] for s in checkouts}
    assert "base.sha" in refs["base"] and "head.sha" in refs["pr"]
    # Governance runs in the base checkout; only validation reads the head directly.
    for step in gate["steps"]:
        if "governance check" in step.get("run", ""):
            assert step["working-directory"] == "base"


def test_gate_posts_one_commit_status() -> None:
    scripts = [s.get("run", "") for _, s in steps(load("governance-gate.yml"))]
    posts = [s for s in scripts if "/statuses/" in s]
    assert len(posts) == 1 and 'context="governance/gate"' in posts[0]


def test_promote_runs_on_the_protected_branch_in_the_first_environment() -> None:
    doc = load("governance-promote.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}, "workflow_call": None}
    assert "TARGET_ENV" not in doc["env"]  # no hard-coded environment
    by_id = dict(jobs(doc))
    # the deployment environment is the one governance.yaml orders first, named by the CLI
    assert by_id["verify"]["outputs"]["env"] == "${{ steps.target.outputs.env }}"
    target = next(s for s in by_id["verify"]["steps"] if s.get("id") == "target")
    assert "first=$(governance env first)" in target["run"]
    assert by_id["promote"]["environment"] == "${{ needs.verify.outputs.env }}"
    assert by_id["promote"]["env"]["TARGET_ENV"] == "${{ needs.verify.outputs.env }}"
    assert by_id["promote"]["needs"] == ["plan", "verify"]


def test_no_workflow_names_an_environment_of_governance_yaml() -> None:
    for name in WORKFLOWS:
        text = (SCAFFOLD_DIR / name).read_text()
        for env in ("production", "staging"):
            for line in text.splitlines():
                if env in line and not line.lstrip().startswith("#"):
                    assert "-f env=" in line or "e.g." in line, (name, line)


def test_promote_next_goes_only_to_the_next_environment_in_a_reviewed_environment() -> None:
    doc = load("governance-promote-next.yml")
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"release", "env"} and inputs["release"]["required"] is True
    by_id = dict(jobs(doc))
    assert by_id["plan"]["if"] == "github.ref == 'refs/heads/main'"
    assert by_id["promote"]["needs"] == "plan"
    assert by_id["promote"]["environment"] == "${{ needs.plan.outputs.env }}"
    assert "environment" not in by_id["plan"]  # no secrets while deciding
    seen = set()
    for path, value in walk(doc["jobs"]):
        if isinstance(value, str) and "inputs." in value:
            assert path[-2] == "env", f"input used outside env: {path}"
            seen.update(re.findall(r"inputs\.(\w+)", value))
    assert seen == set(inputs)


def test_rollback_inputs_are_the_contract_and_pass_only_through_env() -> None:
    doc = load("governance-rollback.yml")
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"model", "env", "to", "reason", "incident"}
    seen = set()
    for path, value in walk(doc["jobs"]):
        if isinstance(value, str) and "inputs." in value:
            assert path[-2] == "env", f"input used outside env: {path}"
            seen.update(re.findall(r"inputs\.(\w+)", value))
    assert seen == set(inputs)


def test_governed_repositories_install_only_hash_checked_wheels(name: str) -> None:
    """Outside this repository the workflows install exactly the requirements file `governance
    init` wrote (issue 15, item 9): every file hash-checked, wheels only, no version by name."""
    installs = [step for _, step in steps(load(name))
                if step.get("name") == "Install model-governance"]
    assert installs
    for step in installs:
        script = step["run"].replace("\\\n", " ")
        pip = [line.strip() for line in script.splitlines() if "pip install" in line]
        assert len(pip) == 2, pip  # the source checkout (dogfooding) or the pinned release
        assert pip[0].endswith('"./$SOURCE_DIR"')
        assert re.search(r"--require-hashes\s+--only-binary :all: -r "
                         r'"\$SOURCE_DIR/\.github/governance-requirements\.txt"$', pip[1]), pip[1]
        assert "model-governance==" not in script
    assert "GOVERNANCE_VERSION" not in (SCAFFOLD_DIR / name).read_text()


def test_package_version_is_the_distribution_version() -> None:
    """`governance init` pins the installed version; the source tree must say the same."""
    from governance import __version__

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]


def _governance_calls(script: str) -> list[tuple[str, set[str]]]:
    logical = script.replace("\\\n", " ")
    calls = []
    for line in logical.splitlines():
        for match in re.finditer(r"(?:^|[;&|(]\s*|\s)governance\s+([\w-]+)(.*)", line):
            options = set(re.findall(r"(?<![\w-])(--[a-z-]+)", match[2].split(" -- ")[0]))
            calls.append((match[1], options))
        if match := re.match(r"\s*(config_)?args\+?=\(", line):  # arguments built as an array
            command = "config" if match[1] else "rollback"
            calls.append((command, set(re.findall(r"(--[a-z-]+)", line))))
    return calls


def test_workflows_call_only_the_cli_contract(name: str) -> None:
    calls: list[tuple[str, set[str]]] = []
    for _, step in steps(load(name)):
        calls += _governance_calls(step.get("run", ""))
    assert calls
    for command, options in calls:
        assert command in SECTION_8_COMMANDS | {"--help"}, command
        assert options <= OPTIONS[command], (command, options - OPTIONS[command])


def test_contract_scan_sees_a_wrong_option() -> None:
    calls = _governance_calls('governance check --env x --force -- "$r"\n')
    assert calls == [("check", {"--env", "--force"})]


def _secret_paths(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [p for p, v in walk(doc) if isinstance(v, str) and "secrets." in v]


def test_ledger_keys_are_used_where_the_ledger_is_written() -> None:
    for name in ("governance-promote.yml", "governance-rollback.yml"):
        keys = {p[1] for p in _secret_paths(load(name)) if "GOVERNANCE_" in p[-1]}
        assert keys, name
    assert not [p for p in _secret_paths(load("governance-gate.yml")) if "GOVERNANCE_" in p[-1]]


# Jobs that write pointer files (promote, rollback) publish them after the ledger push.
POINTER_WRITERS = {
    ("governance-promote.yml", "promote"),
    ("governance-promote-next.yml", "promote"),
    ("governance-rollback.yml", "rollback"),
}


# Jobs whose only ledger write is the CLI's own (`env publish --remote origin` records a
# hand-edited pointer and pushes it with compare-and-swap retries): no separate push step.
CLI_PUSHES = {("governance-pointers.yml", "reconcile")}


def test_a_job_that_lets_the_cli_push_writes_only_through_it() -> None:
    for name, job_id in CLI_PUSHES:
        job = dict(jobs(load(name)))[job_id]
        scripts = "\n".join(s.get("run", "") for s in job["steps"])
        assert "governance env publish --remote origin" in scripts
        assert not re.search(r"\bgit\b[^\n]*\bpush\b", scripts)  # no push of its own
        for line in scripts.splitlines():  # every ledger-writing command names the remote
            if re.match(r"\s*governance (promote|rollback|retire|approve|ledger append|env "
                        r"publish|config record)\b", line):
                assert "--remote origin" in line, line


def test_ledger_pushes_are_fast_forward_only_and_survive_a_failed_step(name: str) -> None:
    for job_id, job in jobs(load(name)):
        if (name, job_id) in CLI_PUSHES:
            continue
        pushes = [
            s for s in job.get("steps", []) if re.search(r"\bpush\s+origin\b", s.get("run", ""))
        ]
        uses_keys = "GOVERNANCE_SIGNING_KEY" in str(job)
        assert bool(pushes) == uses_keys, f"{name} {job_id}: ledger writes without a push"
        for step in pushes:
            script = step["run"].rstrip()
            publishes = (name, job_id) in POINTER_WRITERS
            tail = "\ngovernance env publish --remote origin" if publishes else ""
            assert re.search(r"push origin governance/ledger:governance/ledger" + re.escape(tail)
                             + r"$", script), (name, job_id)
            assert not re.search(r"--force|\s-f\s|\+governance/", step["run"])
            assert step["if"] == "${{ !cancelled() }}"  # violations are kept when a step fails
            assert step is job["steps"][-1]
