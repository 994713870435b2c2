"""A governed repository with real people, for the lifecycle's end-to-end tests.

The setup follows ``governance demo``: real ``ssh-keygen`` Ed25519 keys for a trainer (dana),
three approvers (alice ml_lead, bob platform_owner, jane.smith risk_owner), an on-call person
(platform-oncall, who may roll back) and the CI bot (governance-ci), a checkpoint log key, a
bare ``origin`` with clones, and the embedded Rego engine. Every step is the real CLI in a
subprocess, signed with the key of the person who would run it.

``build(path)`` leaves on disk: ``origin.git`` (main and governance/ledger), ``ci`` (a clone on
main: the one the promote workflow would check out) holding release r1 of fraud-risk, approved
by all three roles and live in staging and production. Tests copy that directory
(``World.copy``) instead of rebuilding it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from governance.demo import CARD_FACTS, fill_card

if TYPE_CHECKING:
    from tests.support.fake_github import FakeGitHub

PEOPLE = {
    "dana": "Dana Kowalski",
    "alice": "Alice Moreau",
    "bob": "Bob Okafor",
    "jane.smith": "Jane Smith",
    "platform-oncall": "Platform On-call",
}
ROLES = {"ml_lead": "alice", "platform_owner": "bob", "risk_owner": "jane.smith",
         "on_call": "platform-oncall"}
APPROVERS = (("alice", "ml_lead"), ("bob", "platform_owner"), ("jane.smith", "risk_owner"))
BOT = "governance-ci"
MODEL = "fraud-risk"
CODEOWNERS = """\
# who must review what (read at the pull request's base commit)
* @bob
/releases/ @alice @bob @jane.smith
/policies/ @bob @jane.smith
/governance.yaml @bob @jane.smith
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=False, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True, capture_output=True)
    return Path(f"{path}.pub").read_text().strip()


def config(keys: Mapping[str, str], log_pub: str, production: str = "production"
           ) -> dict[str, Any]:
    return {
        "apiVersion": "governance/v1", "kind": "GovernanceConfig",
        "organization": "acme", "protected_branch": "main",
        "people": [{"id": who, "name": name, "email": f"{who}@acme.example",
                    "signing_keys": [keys[who]]} for who, name in PEOPLE.items()],
        "bots": [{"id": BOT, "name": "Governance CI", "email": f"{BOT}@acme.example",
                  "signing_keys": [keys[BOT]],
                  "may_emit": ["release_registered", "gate_evaluated", "deployment_promoted",
                               "config_changed", "policy_violation"]}],
        "roles": {role: {"members": [who]} for role, who in ROLES.items()},
        "environments": {
            "staging": {"required_approvals": ["ml_lead"]},
            production: {"after": "staging",
                         "required_approvals": ["ml_lead", "platform_owner", "risk_owner"]},
        },
        "risk_tiers": {"low": {"approvals_per_role": 1}, "medium": {"approvals_per_role": 1},
                       "high": {"approvals_per_role": 1}},
        "gates": {"latency_p95_ms_max": 50, "metric_minimums": {"auc": 0.9},
                  "subgroup_regression_tolerance": 0.02, "evaluation_max_age_days": 30},
        "waivers": [],
        "ledger": {"branch": "governance/ledger", "origin": "test.acme.example/models",
                   "checkpoint_every": 100, "rotators": ["bob"], "log_public_key": log_pub},
        "sinks": {"jsonl": {"dir": "audit-export"}},
    }


@dataclass
class World:
    """The directory built by ``build``: keys, origin, and clones made on demand."""

    path: Path

    @property
    def keys(self) -> Path:
        return self.path / "keys"

    @property
    def origin(self) -> Path:
        return self.path / "origin.git"

    @property
    def ci(self) -> Path:
        return self.path / "ci"

    def env(self, who: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GOVERNANCE_", "GITHUB_"))}
        env["GOVERNANCE_LEDGER_LOG_KEY"] = str(self.keys / "log")
        if who is not None:
            env["GOVERNANCE_LEDGER_SIGNING_KEY"] = str(self.keys / who)
        env.update(extra or {})
        return env

    def run(self, who: str | None, *args: str, cwd: Path | None = None,
            expect: int | None = 0, extra: Mapping[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """`governance ARGS` in ``cwd`` (default: the CI clone), signed as ``who``."""
        done = subprocess.run([sys.executable, "-m", "governance", *args], cwd=cwd or self.ci,
                              env=self.env(who, extra), capture_output=True, text=True,
                              timeout=120, check=False)
        if expect is not None:
            assert done.returncode == expect, (
                f"governance {' '.join(args)} as {who}: exit {done.returncode}, expected "
                f"{expect}\nstdout: {done.stdout}\nstderr: {done.stderr}")
        return done

    def json(self, who: str | None, *args: str, cwd: Path | None = None,
             expect: int = 0) -> Any:
        return json.loads(self.run(who, *args, "--format", "json", cwd=cwd,
                                   expect=expect).stdout)

    def clone(self, name: str, branch: str = "main") -> Path:
        """A person's clone of origin, with the ledger branch tracked locally."""
        dest = self.path / name
        if not dest.exists():
            git(self.path, "clone", "-q", "-b", branch, str(self.origin), name)
        else:
            git(dest, "fetch", "-q", "origin")
        git(dest, "branch", "--force", "governance/ledger", "origin/governance/ledger")
        return dest

    def sync_ledger(self, clone: Path) -> None:
        """Take origin's ledger into ``clone`` (as the workflows do after checkout)."""
        git(clone, "fetch", "-q", "origin")
        git(clone, "branch", "--force", "governance/ledger", "origin/governance/ledger")

    def events(self, clone: Path | None = None) -> list[dict[str, Any]]:
        out = self.run(None, "ledger", "log", "--format", "json", cwd=clone or self.ci).stdout
        doc = json.loads(out)
        rows = doc["events"] if isinstance(doc, dict) else doc
        return [r.get("event", r) for r in rows]

    def full_fold_status(self, clone: Path | None = None) -> dict[str, Any]:
        """The status of MODEL from a fold of the WHOLE ledger, in process (what `status`
        computed before it folded per model from the index): the two must agree."""
        from governance.ledger import entries
        from governance.lifecycle import fold_lifecycle
        from governance.repo import GovernedRepo
        from governance.status import model_status

        root = clone or self.ci
        repo = GovernedRepo.open(root)
        state = fold_lifecycle(entries(root), production_env=repo.config.production_environment)
        return model_status(repo, state, MODEL).to_json()

    def copy(self, dest: Path) -> World:
        """An independent copy (the clones' ``origin`` remote repointed at the copy's)."""
        shutil.copytree(self.path, dest, symlinks=True)
        world = World(dest)
        for child in dest.iterdir():
            if (child / ".git").is_dir():
                git(child, "remote", "set-url", "origin", str(world.origin))
        return world


def write_release(world: World, cwd: Path, version: str, *, auc: float = 0.93,
                  intl: float = 0.865, latency: int = 40, rollback_to: str | None = None
                  ) -> str:
    """`governance release new` as the trainer (dana), with the card the pipeline fills in.
    Leaves the files uncommitted; returns the release id."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    evaluation = {"metrics": {"auc": auc, "latency_p95_ms": latency},
                  "subgroups": {"first_time_international_merchants": {"auc": intl}},
                  "test_conditions": {"holdout": "out-of-time, 4 weeks"}, "evaluated_at": now}
    ev = world.path / f"eval-{version}.json"
    ev.write_text(json.dumps(evaluation) + "\n")

    def digest(*parts: str) -> str:
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    world.run("dana", "release", "new", "--model", MODEL, "--version", version,
              "--from-eval", str(ev),
              "--artifact", f"s3://model-registry/{MODEL}/{version}/model.joblib",
              "--sha256", digest("artifact", version),
              "--dataset", f"s3://ml-datasets/fraud/{version}", "--dataset-sha256",
              digest("dataset", version), "--feature-schema", "fraud-features-v3",
              "--config-version", "risk-thresholds-v4", "--trained-by", "dana", cwd=cwd)
    rid = f"{MODEL}-{version}-01"
    fill_card(cwd / "releases" / MODEL / rid / "model-card.yaml", {
        **CARD_FACTS, "known_limitations": ["weaker on first-time international merchants"]})
    if rollback_to is not None:
        release_file = cwd / "releases" / MODEL / rid / "release.yaml"
        doc = yaml.safe_load(release_file.read_text())
        assert doc["rollback_target"] == {"release_id": rollback_to}, doc["rollback_target"]
    return rid


def register(world: World, cwd: Path, rid: str, version: str) -> None:
    digest = world.run(None, "digest", f"releases/{MODEL}/{rid}", cwd=cwd).stdout.strip()
    world.run("dana", "ledger", "append", "--type", "release_registered",
              "--field", f"release_id={rid}", "--field", f"model_name={MODEL}",
              "--field", f"model_version={version}", "--field", f"release_digest={digest}",
              cwd=cwd)


def approve_all(world: World, cwd: Path, rid: str,
                who: Sequence[tuple[str, str]] = APPROVERS) -> None:
    for person, role in who:
        world.run(person, "approve", rid, "--role", role, cwd=cwd)


def commit_all(cwd: Path, message: str) -> str:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-qm", message)
    return git(cwd, "rev-parse", "HEAD")


def build(path: Path, production: str = "production") -> World:
    """Create the world described in the module docstring under ``path`` (``production``: the
    name of governance.yaml's last environment)."""
    path.mkdir(parents=True)
    world = World(path)
    world.keys.mkdir()
    pubs = {who: _keygen(world.keys / who, who) for who in [*PEOPLE, BOT]}
    log_pub = _keygen(world.keys / "log", "checkpoint log key")
    git(path, "init", "-q", "--bare", "-b", "main", str(world.origin))
    ci = world.ci
    world.run(None, "init", str(ci), cwd=path)
    (ci / "governance.yaml").write_text("# Test configuration: real keys for five people.\n"
                                        + yaml.safe_dump(config(pubs, log_pub, production),
                                                         sort_keys=False))
    (ci / ".github" / "CODEOWNERS").write_text(CODEOWNERS)
    git(ci, "init", "-q", "-b", "main")
    git(ci, "remote", "add", "origin", str(world.origin))
    commit_all(ci, "Governed repository")
    world.run("bob", "ledger", "init", cwd=ci)
    world.run("bob", "model", "new", MODEL, "--owner", "risk-platform", "--risk-tier", "high",
              "--title", "Fraud risk scoring", cwd=ci)
    model_file = ci / "releases" / MODEL / "model.yaml"
    model_doc = yaml.safe_load(model_file.read_text())
    model_doc.update({"description": "Scores card transactions for review",
                      "intended_use": ["transaction review prioritization"],
                      "not_for_use": ["automatic account closure", "credit decisions"]})
    model_file.write_text(model_file.read_text().splitlines()[0] + "\n"
                          + yaml.safe_dump(model_doc, sort_keys=False))
    commit_all(ci, "Register fraud-risk")
    world.run("dana", "ledger", "append", "--type", "model_registered",
              "--field", f"model_name={MODEL}", cwd=ci)
    rid = write_release(world, ci, "2026-03-28")
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-03-28")
    approve_all(world, ci, rid)
    world.run(BOT, "promote", rid, "--env", "staging", cwd=ci)
    world.run(BOT, "promote", rid, "--env", production, cwd=ci)
    commit_all(ci, f"{rid} live in staging and production")
    git(ci, "push", "-q", "origin", "main", "governance/ledger")
    git(ci, "branch", "-q", "--set-upstream-to", "origin/main")
    return world


R1 = f"{MODEL}-2026-03-28-01"


R2 = f"{MODEL}-2026-04-10-01"


def add_approved_release(world: World) -> str:
    """r2 of fraud-risk on main (rollback target r1), approved by all three roles, not live."""
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    assert rid == R2
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-04-10")
    approve_all(world, ci, rid)
    git(ci, "push", "-q", "origin", "main", "governance/ledger")
    return rid


def run_step(world: World, workflow: str, job: str, step: str, cwd: Path,
             **given: str) -> subprocess.CompletedProcess[str]:
    """One workflow step's `run:` script as the runner would run it (bash -eo pipefail), with
    the REAL governance CLI on PATH, signed as the CI bot, in ``cwd``."""
    from tests.integration.workflows.workflow_files import run_script

    script, literal, expressions = run_script(workflow, job, step)
    bin_dir = world.path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        (bin_dir / "governance").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m governance "$@"\n')
        (bin_dir / "governance").chmod(0o755)
    temp = world.path / "runner-temp"
    temp.mkdir(exist_ok=True)
    (world.path / "step.sh").write_text(script)
    env = {**world.env(None), **literal,
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(temp / "output"),
           "GITHUB_STEP_SUMMARY": str(temp / "summary"), "GITHUB_REPOSITORY": "acme/models",
           "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "4242",
           "GITHUB_ACTOR": "merger", "GITHUB_REF_NAME": "main",
           "GOVERNANCE_LEDGER_SIGNING_KEY": (world.keys / BOT).read_text(),
           "GOVERNANCE_LEDGER_LOG_KEY": (world.keys / "log").read_text(), **given}
    missing = expressions - set(env)
    assert not missing, f"supply the expression-valued env {missing}"
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                           str(world.path / "step.sh")], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def outputs(world: World) -> dict[str, str]:
    """What the last steps wrote to $GITHUB_OUTPUT (and clears it)."""
    path = world.path / "runner-temp" / "output"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return dict(line.split("=", 1) for line in lines)


def github_env(fake: FakeGitHub, **extra: str) -> dict[str, str]:
    """The environment a workflow step has when it talks to ``fake`` as GitHub."""
    return {"GITHUB_API_URL": fake.base, "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_TOKEN": "test-token", **extra}


def open_reviewed_pr(world: World, fake: FakeGitHub, pr: int) -> tuple[str, str]:
    """dana proposes r2 (2026-04-10, falling back to r1) on branch release/r2 as pull request
    ``pr`` on the fake GitHub, registered on the ledger, approved at its head by every role
    (APPROVERS). Returns (release id, head sha); nothing is merged yet."""
    dana = world.clone("dana")
    git(dana, "checkout", "-qb", "release/r2")
    r2 = write_release(world, dana, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    head = commit_all(dana, f"Release {r2}")
    git(dana, "push", "-q", "origin", "release/r2")
    register(world, dana, r2, "2026-04-10")
    git(dana, "push", "-q", "origin", "governance/ledger")
    fake.add_pull(pr, head, git(dana, "rev-parse", "origin/main"), "dana")
    fake.add_commit(pr, head, "dana")
    fake.permissions.update(dict.fromkeys(("alice", "bob", "jane.smith", "dana"), "write"))
    for i, (who, _) in enumerate(APPROVERS):
        fake.add_review(pr, who, "APPROVED", head, f"2026-11-26T12:0{i}:00Z")
    return r2, head
