"""The workflows' shell steps, run for real with bash and git outside GitHub Actions.

Each test takes a step's `run:` text straight from the workflow file and runs it the way the
runner does (`bash --noprofile --norc -eo pipefail`, the workflows set `shell: bash`), in real
git repositories. Two stand-ins sit at the edge: `gh` serves canned GitHub REST answers from
files (its `--jq` goes through the real jq), and `governance` records its argv, because the
lifecycle commands land from other work; the CLI itself is tested elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.integration.workflows.workflow_files import WORKFLOWS, load, run_script, steps

BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]

GH_STUB = r"""#!/usr/bin/env bash
# Stand-in for the GitHub CLI: canned REST answers from $STUB_DIR, --jq applied by jq.
set -euo pipefail
[ "$1" = api ] || exit 64
shift
path="" expr=""
while [ $# -gt 0 ]; do
  case "$1" in
    --jq) expr=$2; shift 2 ;;
    --paginate|--silent) shift ;;
    --method|-f|-F|-H) printf '%s %s\n' "$1" "$2" >> "$STUB_DIR/gh-calls"; shift 2 ;;
    *) path=$1; shift ;;
  esac
done
printf '%s\n' "$path" >> "$STUB_DIR/gh-calls"
file="$STUB_DIR/api/$path.json"
[ -f "$file" ] || { echo "gh: HTTP 404: $path" >&2; exit 1; }
if [ -n "$expr" ]; then jq -r "$expr" "$file"; else cat "$file"; fi
"""

GOVERNANCE_STUB = r"""#!/usr/bin/env bash
# Stand-in for the governance CLI: records argv (NUL-separated) and the deployer it was given.
{ printf '%s\0' "$@"; printf '\n'; } >> "$STUB_DIR/governance-argv"
printf '%s\n' "${GOVERNANCE_DEPLOYER-}" >> "$STUB_DIR/governance-deployer"
case "$1" in
  check) case " $* " in
           *" --pr "*) exit "${STUB_CHECK_RC_PR:-${STUB_CHECK_RC:-0}}" ;;
           *) exit "${STUB_CHECK_RC:-0}" ;;
         esac ;;
  ledger) case "$2" in
            append) n=$(find "$STUB_DIR" -maxdepth 1 -name 'event-*' | wc -l)
                    # governance ledger append --type TYPE --event FILE
                    cp "$6" "$STUB_DIR/event-$n.json" ;;
            verify) exit "${STUB_LEDGER_VERIFY_RC:-0}" ;;
          esac ;;
  config) exit "${STUB_CONFIG_RC:-0}" ;;
  env) case "$2" in
         first) printf '%s\n' "${STUB_FIRST_ENV-staging}" ;;
         next) printf '%s\n' "${STUB_NEXT_JSON-}" ;;
         verify) exit "${STUB_POINTER_RC:-0}" ;;
         publish) printf '%s\n' "${STUB_PUBLISH_JSON-}" ;;
       esac ;;
esac
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit(repo: Path, files: Mapping[str, str | None], message: str) -> str:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            git(repo, "rm", "-rq", "--", rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", "--", rel)
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


class Runner:
    """Runs one workflow step in a scratch runner: RUNNER_TEMP, stubs on PATH, GitHub env."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.temp = tmp / "runner-temp"
        self.stubs = tmp / "stubs"
        for d in (self.temp, self.stubs / "bin", self.stubs / "api"):
            d.mkdir(parents=True)
        for name, text in (("gh", GH_STUB), ("governance", GOVERNANCE_STUB)):
            (self.stubs / "bin" / name).write_text(text)
            (self.stubs / "bin" / name).chmod(0o755)
        self.output = tmp / "github-output"
        self.summary = tmp / "step-summary"

    def api(self, path: str, body: Any) -> None:
        file = self.stubs / "api" / f"{path}.json"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(body))

    def run(
        self, workflow: str, job: str, step: str, cwd: Path, **given: str
    ) -> subprocess.CompletedProcess[str]:
        script, literal, expressions = run_script(workflow, job, step)
        missing = expressions - set(given)
        assert not missing, f"the test must supply the expression-valued env {missing}"
        env = {
            **os.environ,
            "PATH": f"{self.stubs / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "STUB_DIR": str(self.stubs),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "merger",
            "GITHUB_REF_NAME": "main",
            **literal,
            **given,
        }
        script_file = self.tmp / "step.sh"
        script_file.write_text(script)
        return subprocess.run(
            [*BASH, str(script_file)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
        )

    def governance_calls(self) -> list[list[str]]:
        path = self.stubs / "governance-argv"
        if not path.exists():
            return []
        return [line.split("\0") for line in path.read_text().split("\0\n") if line]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.stubs.glob("event-*.json"))]


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's ubuntu runners ship it)")
    return Runner(tmp_path)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_run_script_is_valid_bash(name: str, tmp_path: Path) -> None:
    doc = load(name)
    assert doc["defaults"] == {"run": {"shell": "bash"}}
    for job_id, step in steps(doc):
        if "run" in step:
            (tmp_path / "s.sh").write_text(step["run"])
            done = subprocess.run(["bash", "-n", str(tmp_path / "s.sh")], capture_output=True)
            assert done.returncode == 0, f"{name} {job_id} {step.get('name')}: {done.stderr!r}"


# --- gate: which releases are under review, and what the base tree looks like afterwards ---

BASE_FILES = {
    "governance.yaml": "protected_branch: main\n",
    "policies/gates.rego": "package gates  # base\n",
    "releases/fraud-risk/model.yaml": "risk_tier: high\n",
    "releases/fraud-risk/r1/release.yaml": "release_id: r1\n",
}


def governed_repo(path: Path) -> str:
    """A repository on `main` holding BASE_FILES; returns that commit."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return commit(path, BASE_FILES, "base")


@pytest.fixture
def gate_repos(tmp_path: Path) -> dict[str, Any]:
    origin = tmp_path / "origin"
    base_sha = governed_repo(origin)
    git(origin, "branch", "governance/ledger")
    git(origin, "checkout", "-qb", "feature")
    return {"origin": origin, "base_sha": base_sha}


def checkouts(tmp_path: Path, origin: Path, base_sha: str, head_sha: str) -> tuple[Path, Path]:
    """What the two actions/checkout steps leave behind: base/ and pr/, detached."""
    for name, sha in (("base", base_sha), ("pr", head_sha)):
        git(tmp_path, "clone", "-q", str(origin), name)
        git(tmp_path / name, "checkout", "-q", "--detach", sha)
    return tmp_path / "base", tmp_path / "pr"


GATE = ("governance-gate.yml", "gate", "Collect the release directories under review")


def _gate(
    runner: Runner, base: Path, base_sha: str, head_sha: str, pr: str = "7", ref: str = ""
) -> subprocess.CompletedProcess[str]:
    return runner.run(
        *GATE, cwd=base, BASE_SHA=base_sha, HEAD_SHA=head_sha, PR_NUMBER=pr, MERGE_GROUP_REF=ref
    )


def test_gate_reviews_head_releases_against_base_policy(
    runner: Runner, gate_repos: dict[str, Any], tmp_path: Path
) -> None:
    origin, base_sha = gate_repos["origin"], gate_repos["base_sha"]
    head_sha = commit(
        origin,
        {
            "releases/fraud-risk/model.yaml": "risk_tier: low\n",  # a PR lowering the tier
            "releases/fraud-risk/r2/release.yaml": "release_id: r2\n",
            "releases/fraud-risk/r2/evidence/eval.json": "{}\n",
            "policies/gates.rego": "package gates  # weakened by the PR\n",
            "releases/new-model/model.yaml": "risk_tier: medium\n",
            "releases/new-model/a1/release.yaml": "release_id: a1\n",
        },
        "propose",
    )
    base, _ = checkouts(tmp_path, origin, base_sha, head_sha)
    done = _gate(runner, base, base_sha, head_sha)
    assert done.returncode == 0, done.stderr
    assert (runner.temp / "releases").read_text() == "fraud-risk/r2\nnew-model/a1\n"
    assert (runner.temp / "pr-number").read_text() == "7\n"
    # Release content comes from the head ...
    assert (base / "releases/fraud-risk/r2/release.yaml").read_text() == "release_id: r2\n"
    assert (base / "releases/fraud-risk/r2/evidence/eval.json").exists()
    assert (base / "releases/new-model/model.yaml").read_text() == "risk_tier: medium\n"
    # ... policies and an existing model's identity stay the base's.
    assert (base / "policies/gates.rego").read_text() == "package gates  # base\n"
    assert (base / "releases/fraud-risk/model.yaml").read_text() == "risk_tier: high\n"
    assert git(base, "rev-parse", "governance/ledger") == base_sha
    assert git(base, "rev-parse", "HEAD") == base_sha


def test_gate_removes_a_release_the_pull_request_deletes(
    runner: Runner, gate_repos: dict[str, Any], tmp_path: Path
) -> None:
    origin, base_sha = gate_repos["origin"], gate_repos["base_sha"]
    head_sha = commit(origin, {"releases/fraud-risk/r1/release.yaml": None}, "delete r1")
    base, _ = checkouts(tmp_path, origin, base_sha, head_sha)
    done = _gate(runner, base, base_sha, head_sha)
    assert done.returncode == 0, done.stderr
    assert (runner.temp / "releases").read_text() == "fraud-risk/r1\n"
    assert not (base / "releases/fraud-risk/r1").exists()  # `check` then answers no


def test_gate_refuses_hostile_release_paths_without_echoing_commands(
    runner: Runner, gate_repos: dict[str, Any], tmp_path: Path
) -> None:
    origin, base_sha = gate_repos["origin"], gate_repos["base_sha"]
    hostile = "releases/fraud-risk/x\n::set-output name=releases::evil/r1\n/f.yaml"
    head_sha = commit(origin, {hostile: "x\n", "releases/Fraud/r9/release.yaml": "x\n"}, "evil")
    base, _ = checkouts(tmp_path, origin, base_sha, head_sha)
    done = _gate(runner, base, base_sha, head_sha)
    assert done.returncode == 1
    errors = [ln for ln in done.stdout.splitlines() if ln.startswith("::error::")]
    assert len(errors) == 2 and "releases/Fraud/r9/release.yaml" in done.stdout
    assert not any(ln.startswith("::set-output") for ln in done.stdout.splitlines())
    assert (runner.temp / "releases").read_text() == ""


def test_gate_names_the_pull_request_of_a_merge_group(
    runner: Runner, gate_repos: dict[str, Any], tmp_path: Path
) -> None:
    origin, base_sha = gate_repos["origin"], gate_repos["base_sha"]
    head_sha = commit(origin, {"releases/fraud-risk/r2/release.yaml": "r2\n"}, "queued")
    base, _ = checkouts(tmp_path, origin, base_sha, head_sha)
    ref = f"refs/heads/gh-readonly-queue/main/pr-42-{head_sha}"
    done = _gate(runner, base, base_sha, head_sha, pr="", ref=ref)
    assert done.returncode == 0, done.stderr
    assert (runner.temp / "pr-number").read_text() == "42\n"
    done = _gate(runner, base, base_sha, head_sha, pr="", ref="refs/heads/gh-readonly-queue/main/x")
    assert done.returncode == 1 and "cannot tell the pull request" in done.stdout


def test_gate_refuses_a_head_it_was_not_given(
    runner: Runner, gate_repos: dict[str, Any], tmp_path: Path
) -> None:
    origin, base_sha = gate_repos["origin"], gate_repos["base_sha"]
    head_sha = commit(origin, {"releases/fraud-risk/r2/release.yaml": "r2\n"}, "propose")
    base, _ = checkouts(tmp_path, origin, base_sha, head_sha)
    done = _gate(runner, base, base_sha, base_sha)
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("result", "state"),
    [("success", "success"), ("failure", "failure"), ("skipped", "error")],
)
def test_gate_posts_one_status_for_the_head(
    runner: Runner, tmp_path: Path, result: str, state: str
) -> None:
    runner.api("repos/acme/models/statuses/" + "a" * 40, {"state": state})
    done = runner.run(
        "governance-gate.yml",
        "status",
        "Post the commit status",
        cwd=tmp_path,
        GH_TOKEN="t",
        GATE_RESULT=result,
        HEAD_SHA="a" * 40,
    )
    assert done.returncode == 0, done.stderr
    calls = (runner.stubs / "gh-calls").read_text().splitlines()
    assert "--method POST" in calls and f"-f state={state}" in calls
    assert "-f context=governance/gate" in calls


# --- promote: plan, verify, deployer, promote ---


@pytest.fixture
def main_repo(tmp_path: Path) -> dict[str, Any]:
    repo = tmp_path / "main"
    before = governed_repo(repo)
    after = commit(
        repo,
        {
            "releases/fraud-risk/r2/release.yaml": "r2\n",
            "governance.yaml": "changed: 1\n",
            "environments/staging.yaml": "models: {}\n",
        },
        "Merge pull request #12",
    )
    return {"repo": repo, "before": before, "after": after}


PLAN = ("governance-promote.yml", "plan", "Name the pull request and the changed releases")


def _outputs(runner: Runner) -> dict[str, str]:
    lines = runner.output.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_plan_finds_the_pull_request_merged_as_this_commit(
    runner: Runner, main_repo: dict[str, Any]
) -> None:
    after = main_repo["after"]
    runner.api(
        f"repos/acme/models/commits/{after}/pulls",
        [
            {
                "number": 12,
                "merged_at": "2026-11-26T10:00:00Z",
                "merge_commit_sha": after,
                "base": {"ref": "main"},
            },
            {"number": 9, "merged_at": None, "merge_commit_sha": after, "base": {"ref": "main"}},
            {
                "number": 3,
                "merged_at": "2026-11-20T10:00:00Z",
                "merge_commit_sha": "b" * 40,
                "base": {"ref": "main"},
            },
        ],
    )
    done = runner.run(
        *PLAN, cwd=main_repo["repo"], GH_TOKEN="t", BEFORE=main_repo["before"], GITHUB_SHA=after
    )
    assert done.returncode == 0, done.stderr
    assert _outputs(runner) == {
        "pr": "12",
        "releases": "fraud-risk/r2",
        "config": "1",
        "pointers": "1",
    }


@pytest.mark.parametrize("merged", [[], [12, 13]], ids=["direct-push", "ambiguous"])
def test_plan_without_exactly_one_merged_pull_request_names_none(
    runner: Runner, main_repo: dict[str, Any], merged: list[int]
) -> None:
    after = main_repo["after"]
    runner.api(
        f"repos/acme/models/commits/{after}/pulls",
        [
            {
                "number": n,
                "merged_at": "2026-11-26T10:00:00Z",
                "merge_commit_sha": after,
                "base": {"ref": "main"},
            }
            for n in merged
        ],
    )
    done = runner.run(
        *PLAN, cwd=main_repo["repo"], GH_TOKEN="t", BEFORE=main_repo["before"], GITHUB_SHA=after
    )
    assert done.returncode == 0, done.stderr
    assert _outputs(runner)["pr"] == ""


def test_plan_fails_when_github_does_not_answer(runner: Runner, main_repo: dict[str, Any]) -> None:
    done = runner.run(
        *PLAN,
        cwd=main_repo["repo"],
        GH_TOKEN="t",
        BEFORE=main_repo["before"],
        GITHUB_SHA=main_repo["after"],
    )
    assert done.returncode != 0  # an API failure is not "no pull request"
    assert not runner.output.exists() or "pr=" not in runner.output.read_text()


def test_plan_refuses_a_push_without_a_previous_commit(
    runner: Runner, main_repo: dict[str, Any]
) -> None:
    after = main_repo["after"]
    runner.api(f"repos/acme/models/commits/{after}/pulls", [])
    done = runner.run(*PLAN, cwd=main_repo["repo"], GH_TOKEN="t", BEFORE="0" * 40, GITHUB_SHA=after)
    assert done.returncode == 1 and "no previous commit" in done.stdout


VERIFY = (
    "governance-promote.yml",
    "verify",
    "Re-verify each release at the pull request's final head",
)
SECRETS = {"GITHUB_TOKEN": "t", "GOVERNANCE_LEDGER_SIGNING_KEY": "k",
           "GOVERNANCE_LEDGER_LOG_KEY": "l"}


def _verify(
    runner: Runner,
    cwd: Path,
    pr: str,
    check_rc: int,
    config: str = "0",
    pointers: str = "0",
    releases: str = "fraud-risk/r2",
    **stub: str,
) -> Any:
    return runner.run(
        *VERIFY,
        cwd=cwd,
        PR=pr,
        RELEASES=releases,
        CONFIG=config,
        POINTERS=pointers,
        BEFORE="b" * 40,
        GITHUB_SHA="c" * 40,
        TARGET_ENV="staging",
        STUB_CHECK_RC=str(check_rc),
        **stub,
        **SECRETS,
    )


def test_verify_accepts_a_pull_request_whose_approvals_hold(runner: Runner, tmp_path: Path) -> None:
    done = _verify(runner, tmp_path, pr="12", check_rc=0)
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        [
            "check",
            "--env",
            "staging",
            "--pr",
            "12",
            "--approvals",
            "github",
            "--format",
            "github",
            "--",
            "r2",
        ],
    ]
    assert runner.events() == []


def test_verify_records_a_direct_push_as_a_violation(runner: Runner, tmp_path: Path) -> None:
    done = _verify(runner, tmp_path, pr="", check_rc=0)
    assert done.returncode == 1
    [event] = runner.events()
    assert event["event_type"] == "policy_violation"
    assert (event["release_id"], event["model_name"], event["environment"]) == (
        "r2",
        "fraud-risk",
        "staging",
    )
    assert "pr" not in event["source"] and event["source"]["merge_sha"] == "c" * 40
    assert event["source"]["pusher"] == "merger"
    assert "without a merged pull request" in event["reason"]
    assert [c[0] for c in runner.governance_calls()] == ["ledger"]  # no check, no promote


def test_verify_records_a_merge_without_valid_approvals(runner: Runner, tmp_path: Path) -> None:
    done = _verify(runner, tmp_path, pr="12", check_rc=1)
    assert done.returncode == 1
    [event] = runner.events()
    assert event["event_type"] == "policy_violation" and event["source"]["pr"] == 12


def test_verify_does_not_call_an_undecided_gate_a_violation(runner: Runner, tmp_path: Path) -> None:
    done = _verify(runner, tmp_path, pr="12", check_rc=3)
    assert done.returncode == 1 and "could not decide" in done.stdout
    assert runner.events() == []


def test_verify_hands_configuration_changes_to_config_record(
    runner: Runner, tmp_path: Path
) -> None:
    """config_changed carries the PR's re-verified approvals: the CLI records it (tested in
    tests/integration/lifecycle/test_config_change.py); the step passes the push and the PR."""
    done = _verify(runner, tmp_path, pr="12", check_rc=0, config="2", releases="")
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        ["config", "record", "--before", "b" * 40, "--pr", "12"],
    ]
    assert runner.events() == []  # the step itself builds no config_changed event


@pytest.mark.parametrize(
    ("pr", "rc", "job_rc"),
    [("", 1, 1), ("12", 1, 1), ("12", 3, 1)],
    ids=["direct-push", "violation", "undecided"],
)
def test_verify_fails_when_the_configuration_change_is_not_approved(
    runner: Runner, tmp_path: Path, pr: str, rc: int, job_rc: int
) -> None:
    done = _verify(runner, tmp_path, pr=pr, check_rc=0, config="1", releases="",
                   STUB_CONFIG_RC=str(rc))
    assert done.returncode == job_rc
    expected = ["config", "record", "--before", "b" * 40] + (["--pr", pr] if pr else [])
    assert runner.governance_calls() == [expected]
    if rc == 3:
        assert "could not be decided" in done.stdout


@pytest.mark.parametrize(("rc", "job_rc"), [(0, 0), (1, 1)], ids=["matches", "hand-edited"])
def test_verify_checks_pointer_edits_against_the_ledger(
    runner: Runner, tmp_path: Path, rc: int, job_rc: int
) -> None:
    done = _verify(runner, tmp_path, pr="12", check_rc=0, pointers="1", releases="",
                   STUB_POINTER_RC=str(rc))
    assert done.returncode == job_rc, done.stderr
    assert runner.governance_calls() == [["env", "verify", "--record"]]
    if rc:
        assert "environments/ was edited by hand" in done.stdout


TARGET = ("governance-promote.yml", "verify", "Name the first environment")


@pytest.mark.parametrize("first", ["staging", "canary"])
def test_the_merge_promotes_into_the_first_environment_of_governance_yaml(
    runner: Runner, tmp_path: Path, first: str
) -> None:
    done = runner.run(*TARGET, cwd=tmp_path, STUB_FIRST_ENV=first)
    assert done.returncode == 0, done.stderr
    assert _outputs(runner) == {"env": first}


@pytest.mark.parametrize(
    "answer", ["", "governance-ledger", "staging\nenv=production", "Prod"], ids=repr
)
def test_a_first_environment_that_is_not_a_name_is_refused(
    runner: Runner, tmp_path: Path, answer: str
) -> None:
    done = runner.run(*TARGET, cwd=tmp_path, STUB_FIRST_ENV=answer)
    assert done.returncode == 1 and "not an environment name" in done.stdout
    assert not runner.output.exists()


def test_gate_checks_against_the_first_environment(runner: Runner, tmp_path: Path) -> None:
    (runner.temp / "pr-number").write_text("7\n")
    (runner.temp / "releases").write_text("fraud-risk/r2\n")
    done = runner.run(
        "governance-gate.yml",
        "gate",
        "Check every release under review",
        cwd=tmp_path,
        GITHUB_TOKEN="t",
        STUB_FIRST_ENV="canary",
        BASE_SHA="a" * 40,
        HEAD_SHA="b" * 40,
        PR_NUMBER="7",
        MERGE_GROUP_REF="",
    )
    assert done.returncode == 0, done.stderr
    calls = runner.governance_calls()
    assert calls[0] == ["env", "first"]
    assert [c[:3] for c in calls[1:]] == [["check", "--env", "canary"]] * 2
    assert "Checked for promotion to **canary**" in runner.summary.read_text()


DEPLOYER = (
    "governance-promote.yml",
    "promote",
    "Check the deployer against the pull request's people",
)


def _people(runner: Runner, reviewers: list[tuple[str, str]], approvals: list[Any]) -> None:
    runner.api("repos/acme/models/actions/runs/4242/approvals", approvals)
    runner.api("repos/acme/models/pulls/12", {"user": {"login": "alice"}})
    runner.api(
        "repos/acme/models/pulls/12/reviews",
        [{"state": state, "user": {"login": login}} for login, state in reviewers],
    )
    runner.api(
        "repos/acme/models/pulls/12/commits",
        [
            {"author": {"login": "alice"}, "committer": {"login": "web-flow"}},
            {"author": None, "committer": {"login": "carol"}},
        ],
    )


def _approved(*logins: str, env: str = "production") -> list[Any]:
    return [
        {"state": "approved", "environments": [{"name": env}], "user": {"login": login}}
        for login in logins
    ]


def test_deployer_who_took_no_part_in_the_pull_request_may_deploy(
    runner: Runner, tmp_path: Path
) -> None:
    _people(runner, [("bob", "APPROVED"), ("dora", "COMMENTED")], _approved("dora"))
    done = runner.run(*DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="12", TARGET_ENV="production")
    assert done.returncode == 0, done.stderr
    assert (runner.temp / "deployer").read_text() == "dora\n"


@pytest.mark.parametrize(
    "deployer", ["bob", "alice", "carol"], ids=["approver", "author", "committer"]
)
def test_deployer_who_approved_authored_or_committed_is_refused(
    runner: Runner, tmp_path: Path, deployer: str
) -> None:
    _people(runner, [("bob", "APPROVED")], _approved(deployer))
    done = runner.run(*DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="12", TARGET_ENV="production")
    assert done.returncode == 1
    assert f"separation of duties: {deployer} approved the deployment" in done.stdout


@pytest.mark.parametrize(
    "approvals",
    [[], _approved("dora", env="staging"), [{**_approved("dora")[0], "state": "rejected"}]],
    ids=["none", "other-environment", "rejected"],
)
def test_a_deployment_nobody_approved_is_refused(
    runner: Runner, tmp_path: Path, approvals: list[Any]
) -> None:
    _people(runner, [], approvals)
    done = runner.run(*DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="12", TARGET_ENV="production")
    assert done.returncode == 1 and "nobody approved this deployment" in done.stdout


def test_deployer_check_fails_closed_when_a_listing_fails(runner: Runner, tmp_path: Path) -> None:
    _people(runner, [("bob", "APPROVED")], _approved("bob"))
    (runner.stubs / "api/repos/acme/models/pulls/12/reviews.json").unlink()
    done = runner.run(*DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="12", TARGET_ENV="production")
    assert done.returncode != 0 and not (runner.temp / "deployer").exists()


def test_promote_passes_release_ids_and_the_deployer(runner: Runner, tmp_path: Path) -> None:
    (runner.temp / "deployer").write_text("dora\n")
    done = runner.run(
        "governance-promote.yml",
        "promote",
        "Promote",
        cwd=tmp_path,
        GOVERNANCE_PR="12",
        RELEASES="fraud-risk/r2 new-model/a1",
        TARGET_ENV="staging",
        **SECRETS,
    )
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        ["promote", "--env", "staging", "--", "r2"],
        ["promote", "--env", "staging", "--", "a1"],
    ]
    assert (runner.stubs / "governance-deployer").read_text() == "dora\ndora\n"


# --- rollback: dispatch inputs are data, never code ---

ROLLBACK = ("governance-rollback.yml", "rollback", "Roll back")
HOSTILE = {
    "MODEL": "--help",
    "TARGET_ENV": "production; touch pwned-env",
    "REASON": '$(touch pwned-subst) `touch pwned-tick` "; touch pwned-quote\n::warning::x',
    "INCIDENT": "INC-1'; touch 'pwned-single",
}


@pytest.mark.parametrize("to", ["", "r1"], ids=["fallback", "explicit"])
def test_rollback_passes_inputs_as_plain_arguments(runner: Runner, tmp_path: Path, to: str) -> None:
    done = runner.run(*ROLLBACK, cwd=tmp_path, TO=to, **HOSTILE, **SECRETS)
    assert done.returncode == 0, done.stderr
    expected = ["rollback", "--env", HOSTILE["TARGET_ENV"], "--reason", HOSTILE["REASON"]]
    expected += ["--to", to] if to else []
    expected += ["--incident", HOSTILE["INCIDENT"], "--", "--help"]
    assert runner.governance_calls() == [expected]
    assert not list(tmp_path.glob("pwned*"))


# --- the ledger push: fast-forward only; then the pointers ---

PUBLISHERS = {("governance-promote.yml", "promote"), ("governance-promote-next.yml", "promote"),
              ("governance-rollback.yml", "rollback")}


def _push_step(name: str, job: str) -> str:
    if (name, job) in PUBLISHERS:
        return "Push the ledger, then publish the pointers"
    return "Push the ledger"


@pytest.mark.parametrize(
    ("name", "job"),
    [
        ("governance-promote.yml", "verify"),
        ("governance-promote.yml", "promote"),
        ("governance-promote-next.yml", "promote"),
        ("governance-rollback.yml", "rollback"),
    ],
)
def test_ledger_push_fast_forwards_and_refuses_a_rewrite(
    runner: Runner, tmp_path: Path, name: str, job: str
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "clone", "-q", str(origin), "work")
    work = tmp_path / "work"
    first = commit(work, {"events/0.json": "{}\n"}, "genesis")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/governance/ledger")
    git(work, "fetch", "-q", "origin")
    git(work, "branch", "--force", "governance/ledger", "origin/governance/ledger")
    git(work, "checkout", "-q", "governance/ledger")
    appended = commit(work, {"events/1.json": "{}\n"}, "append")
    done = runner.run(
        name, job, _push_step(name, job), cwd=work, GH_TOKEN="t", TARGET_ENV="x", **SECRETS
    )
    assert done.returncode == 0, done.stderr
    assert git(origin, "rev-parse", "governance/ledger") == appended
    # ledger first: the pointers are published only after the ledger push succeeded
    publish = [["env", "publish", "--remote", "origin"]] if (name, job) in PUBLISHERS else []
    assert runner.governance_calls() == publish
    git(work, "reset", "-q", "--hard", first)  # a rewritten history must not replace the ledger
    commit(work, {"events/1.json": '{"rewritten": true}\n'}, "rewrite")
    done = runner.run(
        name, job, _push_step(name, job), cwd=work, GH_TOKEN="t", TARGET_ENV="x", **SECRETS
    )
    assert done.returncode != 0
    assert git(origin, "rev-parse", "governance/ledger") == appended
    assert runner.governance_calls() == publish  # no publication after a refused push


# --- promote-next: the next environment of governance.yaml, by dispatch ---

NEXT_PLAN = (
    "governance-promote-next.yml",
    "plan",
    "Name the target environment and re-verify the approvals",
)


@pytest.fixture
def pr_origin(tmp_path: Path) -> dict[str, Any]:
    """A clone whose origin keeps refs/pull/12/head (as GitHub does), not fetched yet."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    commit(clone, {"README": "x\n"}, "base")
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/main")
    git(clone, "checkout", "-qb", "feature")
    head = commit(clone, {"f": "reviewed\n"}, "reviewed head")
    git(clone, "push", "-q", "origin", "HEAD:refs/pull/12/head")
    git(clone, "checkout", "-q", "main")
    git(clone, "branch", "-qD", "feature")
    git(clone, "update-ref", "-d", "refs/remotes/origin/feature")
    subprocess.run(["git", "-C", str(clone), "reflog", "expire", "--expire=now", "--all"])
    subprocess.run(["git", "-C", str(clone), "gc", "-q", "--prune=now"])
    return {"clone": clone, "head": head}


def test_the_reviewed_head_is_fetched_from_refs_pull(
    runner: Runner, pr_origin: dict[str, Any]
) -> None:
    clone, head = pr_origin["clone"], pr_origin["head"]
    assert subprocess.run(["git", "-C", str(clone), "cat-file", "-e", head]).returncode != 0
    for workflow, job in (("governance-promote.yml", "verify"),
                          ("governance-promote.yml", "promote"),
                          ("governance-promote-next.yml", "promote")):
        done = runner.run(workflow, job, "Fetch the pull request's head", cwd=clone,
                          GH_TOKEN="t", PR="12", TARGET_ENV="staging")
        assert done.returncode == 0, done.stderr
        assert git(clone, "rev-parse", "refs/remotes/origin/pull/12/head") == head
    done = runner.run("governance-promote.yml", "verify", "Fetch the pull request's head",
                      cwd=clone, GH_TOKEN="t", PR="12; id")
    assert done.returncode == 1 and "not a pull request number" in done.stdout
    done = runner.run("governance-promote.yml", "verify", "Fetch the pull request's head",
                      cwd=clone, GH_TOKEN="t", PR="")
    assert done.returncode == 0  # a direct push: nothing to fetch


def _next(runner: Runner, cwd: Path, *, release: str = "fraud-risk-2026-04-10-01",
          requested: str = "", answer: dict[str, Any] | None = None, **rc: str) -> Any:
    body = {"environment": "production", "pull_request": 12} if answer is None else answer
    return runner.run(*NEXT_PLAN, cwd=cwd, GITHUB_TOKEN="t", RELEASE=release,
                      REQUESTED_ENV=requested, STUB_NEXT_JSON=json.dumps(body), **rc)


def test_next_uses_the_ledgers_signed_approvals_first(runner: Runner, tmp_path: Path) -> None:
    done = _next(runner, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _outputs(runner) == {
        "env": "production",
        "pr": "",
        "release": "fraud-risk-2026-04-10-01",
    }
    assert runner.governance_calls() == [
        ["env", "next", "--format", "json", "--", "fraud-risk-2026-04-10-01"],
        ["check", "--env", "production", "--format", "github", "--", "fraud-risk-2026-04-10-01"],
    ]


def test_next_falls_back_to_the_pull_requests_reviews(
    runner: Runner, pr_origin: dict[str, Any]
) -> None:
    clone = pr_origin["clone"]
    done = _next(runner, clone, STUB_CHECK_RC="1", STUB_CHECK_RC_PR="0")
    assert done.returncode == 0, done.stderr
    # the reviewed head was fetched before its reviews were counted
    assert git(clone, "rev-parse", "refs/remotes/origin/pull/12/head") == pr_origin["head"]
    assert _outputs(runner)["pr"] == "12"
    assert runner.governance_calls()[-1] == [
        "check", "--env", "production", "--pr", "12", "--approvals", "github", "--format",
        "github", "--", "fraud-risk-2026-04-10-01",
    ]
    assert "approvals: reviews of pull request #12" in runner.summary.read_text()


@pytest.mark.parametrize(
    ("answer", "rc"),
    [({"environment": "production", "pull_request": None}, {"STUB_CHECK_RC": "1"}),
     ({"environment": "production", "pull_request": 12},
      {"STUB_CHECK_RC": "1", "STUB_CHECK_RC_PR": "1"}),
     ({"environment": "production", "pull_request": 12},
      {"STUB_CHECK_RC": "3", "STUB_CHECK_RC_PR": "3"})],
    ids=["no-approvals-no-pr", "pr-denied", "undecided"],
)
def test_next_without_approvals_for_the_digest_promotes_nothing(
    runner: Runner, tmp_path: Path, answer: dict[str, Any], rc: dict[str, str]
) -> None:
    done = _next(runner, tmp_path, answer=answer, **rc)
    assert done.returncode == 1
    assert "do not hold for the digest" in done.stdout
    assert not runner.output.exists()


@pytest.mark.parametrize(
    ("kw", "why"),
    [({"requested": "staging"}, "the next environment of fraud-risk-2026-04-10-01 is production"),
     ({"requested": "governance-ledger"}, "not $'governance-ledger'"),
     ({"release": "r1\necho ::set-output name=env::x"}, "is not a release id"),
     ({"answer": {"environment": "governance-ledger"}}, "not an environment name"),
     ({"answer": {"environment": "prod\nenv=x"}}, "not an environment name"),
     ({"answer": {"environment": "production", "pull_request": "12; id"}},
      "the ledger names pull request")],
    ids=["other-env", "ledger-env", "hostile-release", "ledger-env-answer", "newline",
         "hostile-pr"],
)
def test_next_refuses_what_governance_yaml_and_the_ledger_do_not_name(
    runner: Runner, tmp_path: Path, kw: dict[str, Any], why: str
) -> None:
    done = _next(runner, tmp_path, **kw)
    assert done.returncode == 1
    assert why.replace("$'governance-ledger'", "governance-ledger") in done.stdout
    assert not runner.output.exists()
    assert not [c for c in runner.governance_calls() if c[0] == "check"]


NEXT_DEPLOYER = ("governance-promote-next.yml", "promote",
                 "Check the deployers against the release's people")


def test_next_deployers_without_a_pull_request(runner: Runner, tmp_path: Path) -> None:
    """Git-native approvals: the CLI's gate checks every deployer against the signers; the
    step needs only the deployment's reviewers and passes them all on."""
    runner.api("repos/acme/models/actions/runs/4242/approvals", _approved("dora", "erin"))
    done = runner.run(*NEXT_DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="", TARGET_ENV="production")
    assert done.returncode == 0, done.stderr
    assert (runner.temp / "deployer").read_text() == "dora,erin\n"
    calls = (runner.stubs / "gh-calls").read_text().splitlines()
    assert calls == ["repos/acme/models/actions/runs/4242/approvals"]


def test_next_deployer_who_approved_the_pull_request_is_refused(
    runner: Runner, tmp_path: Path
) -> None:
    _people(runner, [("bob", "APPROVED")], _approved("dora", "bob"))
    done = runner.run(*NEXT_DEPLOYER, cwd=tmp_path, GH_TOKEN="t", PR="12",
                      TARGET_ENV="production")
    assert done.returncode == 1
    assert "separation of duties: bob approved the deployment" in done.stdout


def test_next_promotes_the_planned_release_with_every_deployer(
    runner: Runner, tmp_path: Path
) -> None:
    (runner.temp / "deployer").write_text("dora,erin\n")
    done = runner.run("governance-promote-next.yml", "promote", "Promote", cwd=tmp_path,
                      GOVERNANCE_PR="", RELEASE="fraud-risk-2026-04-10-01",
                      TARGET_ENV="production", **SECRETS)
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        ["promote", "--env", "production", "--", "fraud-risk-2026-04-10-01"]]
    assert (runner.stubs / "governance-deployer").read_text() == "dora,erin\n"


# --- pointers: the scheduled reconciliation of governance/environments ---

POINTERS = ("governance-pointers.yml", "reconcile",
            "Verify the ledger, then reconcile the pointer branch")
POINTER_SECRETS = {"GH_TOKEN": "t", "GOVERNANCE_LEDGER_SIGNING_KEY": "k",
                   "GOVERNANCE_LEDGER_LOG_KEY": "l"}


def test_pointers_runs_on_a_schedule_and_on_demand_only() -> None:
    on = load("governance-pointers.yml")["on"]
    assert set(on) == {"schedule", "workflow_dispatch", "workflow_call"}
    # no inputs: nothing untrusted reaches the job
    assert on["workflow_dispatch"] is None and on["workflow_call"] is None


def test_pointers_verifies_the_ledger_before_publishing(runner: Runner, tmp_path: Path) -> None:
    runner_json = json.dumps({"changed": False, "ledger_seq": 41})
    done = runner.run(*POINTERS, cwd=tmp_path, STUB_PUBLISH_JSON=runner_json, **POINTER_SECRETS)
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        ["ledger", "verify"], ["env", "publish", "--remote", "origin", "--format", "json"]]
    assert "::warning::" not in done.stdout
    assert "matches the ledger at seq 41" in runner.summary.read_text()


def test_pointers_warns_when_it_had_to_republish(runner: Runner, tmp_path: Path) -> None:
    runner_json = json.dumps({"changed": True, "ledger_seq": 42})
    done = runner.run(*POINTERS, cwd=tmp_path, STUB_PUBLISH_JSON=runner_json, **POINTER_SECRETS)
    assert done.returncode == 0, done.stderr
    assert "::warning::governance/environments did not match the ledger (seq 42)" in done.stdout
    assert "republished from the ledger at seq 42" in runner.summary.read_text()


def test_pointers_publishes_nothing_from_a_ledger_that_does_not_verify(
        runner: Runner, tmp_path: Path) -> None:
    done = runner.run(*POINTERS, cwd=tmp_path, STUB_LEDGER_VERIFY_RC="1",
                      STUB_PUBLISH_JSON='{"changed": true, "ledger_seq": 1}', **POINTER_SECRETS)
    assert done.returncode == 1
    assert runner.governance_calls() == [["ledger", "verify"]]


def test_pointers_refuses_an_answer_it_cannot_read(runner: Runner, tmp_path: Path) -> None:
    """Only a number and a boolean from the CLI reach a workflow command line."""
    forged = json.dumps({"changed": True, "ledger_seq": "1\n::error::forged"})
    done = runner.run(*POINTERS, cwd=tmp_path, STUB_PUBLISH_JSON=forged, **POINTER_SECRETS)
    assert done.returncode == 1
    assert "::error::governance env publish gave an unexpected answer" in done.stdout
    assert "::error::forged" not in done.stdout


REGISTER = ("governance-promote.yml", "verify", "Register the merged releases on the ledger")


def test_merge_registers_every_merged_release(runner: Runner, tmp_path: Path) -> None:
    """The merge workflow, not a person, records release_registered (issue 15 item 4)."""
    done = runner.run(*REGISTER, cwd=tmp_path, PR="12", RELEASES="fraud-risk/r2 other/r9",
                      **SECRETS)
    assert done.returncode == 0, done.stderr
    assert runner.governance_calls() == [
        ["release", "register", "--pr", "12", "--", "r2"],
        ["release", "register", "--pr", "12", "--", "r9"],
    ]


def test_register_without_a_pull_request_and_its_failure_fails_the_job(
    runner: Runner, tmp_path: Path
) -> None:
    stub = runner.stubs / "bin" / "governance"
    stub.write_text(stub.read_text().replace(
        'case "$1" in\n', 'case "$1" in\n  release) exit "${STUB_REGISTER_RC:-0}" ;;\n', 1))
    done = runner.run(*REGISTER, cwd=tmp_path, PR="", RELEASES="fraud-risk/r2 other/r9",
                      STUB_REGISTER_RC="1", **SECRETS)
    assert done.returncode == 1
    # every release is tried even when one fails, and no --pr is invented
    assert runner.governance_calls() == [["release", "register", "--", "r2"],
                                         ["release", "register", "--", "r9"]]
