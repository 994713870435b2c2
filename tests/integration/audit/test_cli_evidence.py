"""``diff``, ``explain`` and ``report`` on a real signed ledger.

The fixture is a governed repo with three reference fraud-risk releases and one support-assistant
release copied from this repository, and a ledger written by ``append_event`` with real
ssh-keygen keys (jane.smith: risk_owner, bob: platform_owner, the CI bot). Commit dates follow
the event timestamps (GIT_COMMITTER_DATE), so the ledger also verifies (its lifecycle too).
Every assertion below is checked against the events appended here, not against the code's
own reading of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from governance.cli.app import app
from governance.digest import release_digest
from governance.ledger import events as ledger_events
from governance.report.timeline import PALETTE
from tests.integration.ledger.conftest import (  # noqa: F401 (fixtures)
    Keys,
    Ledger,
    _no_ledger_env,
    keys,
)

runner = CliRunner()
SOURCE = Path(__file__).resolve().parents[3]
MODEL = "fraud-risk"
R0 = "fraud-risk-2026-02-14-01"  # on disk, never on the ledger
R1 = "fraud-risk-2026-03-28-01"
R2 = "fraud-risk-2026-04-10-01"
OTHER = "support-assistant-2026-03-02-01"
POLICY_R1 = "sha256:" + "11" * 32
POLICY_R2_DENY = "sha256:" + "22" * 32
POLICY_R2 = "sha256:" + "33" * 32
STALE = "sha256:" + "00" * 32
PROMOTED_R2 = "2026-04-12T09:00:00Z"
ROLLED_BACK = "2026-04-12T15:00:00Z"
INCIDENT = "inc-4821"


def config(signers: Keys) -> str:
    return f"""apiVersion: governance/v1
kind: GovernanceConfig
organization: acme
protected_branch: main
people:
  - id: jane.smith
    name: Jane Smith
    email: jane.smith@example.com
    signing_keys: ["{signers.pub('jane')}"]
  - id: bob
    name: Bob Builder
    email: bob@example.com
    signing_keys: ["{signers.pub('bob')}"]
bots:
  - id: governance-ci
    name: Governance CI
    email: governance-ci@users.noreply.example.com
    signing_keys: ["{signers.pub('ci')}"]
    may_emit: [release_registered, gate_evaluated, deployment_promoted, approval_granted,
               release_approved, rollback_executed]
roles:
  risk_owner: {{members: [jane.smith]}}
  platform_owner: {{members: [bob]}}
environments:
  staging: {{required_approvals: [risk_owner]}}
  production: {{after: staging, required_approvals: [risk_owner, platform_owner]}}
ledger:
  branch: governance/ledger
  origin: example.com/acme/models
  checkpoint_every: 100
  log_public_key: "{signers.pub('log')}"
  rotators: [jane.smith]
  clock_skew_seconds: 300
"""


@dataclass
class Story:
    root: Path
    digests: dict[str, str]
    appended: dict[str, Any]  # name -> LedgerEntry of the events the assertions refer to


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[Story]:  # noqa: F811
    root = tmp_path_factory.mktemp("evidence") / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "governance.yaml").write_text(config(keys))
    for model, releases in ((MODEL, (R0, R1, R2)), ("support-assistant", (OTHER,))):
        (root / "releases" / model).mkdir(parents=True)
        shutil.copy(SOURCE / "releases" / model / "model.yaml", root / "releases" / model)
        for rid in releases:
            shutil.copytree(SOURCE / "releases" / model / rid, root / "releases" / model / rid)
    # the shipped gates: the report's approval status is the required-approvals gate's count
    shutil.copytree(SOURCE / "policies", root / "policies")
    (root / ".gitignore").write_text(".governance/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "governed repo")
    digests = {rid: release_digest(root / "releases" / MODEL / rid).value for rid in (R1, R2)}
    led = Ledger(root, keys)
    appended: dict[str, Any] = {}
    mp = pytest.MonkeyPatch()

    def at(moment: str) -> None:
        mp.setenv("GIT_COMMITTER_DATE", moment)
        mp.setenv("GIT_AUTHOR_DATE", moment)

    def add(name: str | None, when: str, kind: str, as_: str = "jane.smith", **f: Any) -> None:
        at(when)
        entry = led.append(kind, as_=as_, timestamp=when, model_name=MODEL, **f)
        if name:
            appended[name] = entry

    ci = "governance-ci"
    try:
        at("2026-03-27T09:00:00Z")
        # The genesis takes the ledger's clock; date it like the story so the ledger verifies.
        mp.setattr(ledger_events, "utc_timestamp", lambda moment=None: "2026-03-27T09:00:00Z")
        led.init()
        mp.undo()
        add(None, "2026-03-27T09:05:00Z", "model_registered")
        d1, d2 = digests[R1], digests[R2]
        add(None, "2026-03-28T08:00:00Z", "release_registered", release_id=R1,
            model_version="2026-03-28", release_digest=d1)
        # every promotion rests on an allowing gate decision for its environment (the ledger's
        # lifecycle replay checks it)
        add(None, "2026-03-28T08:30:00Z", "gate_evaluated", as_=ci, actor_id=ci,
            release_id=R1, environment="staging", policy_digest=POLICY_R1,
            release_digest=d1, decision={"decision_id": "dec-r1-s", "allow": True})
        add("gate_r1", "2026-03-28T09:00:00Z", "gate_evaluated", as_=ci, actor_id=ci,
            release_id=R1, environment="production", policy_digest=POLICY_R1,
            release_digest=d1, decision={"decision_id": "dec-r1", "allow": True})
        add("r1_jane", "2026-03-28T10:00:00Z", "approval_granted", release_id=R1,
            actor_role="risk_owner", approval_state="approved", release_digest=d1,
            source={"pr": 41})
        add("r1_bob", "2026-03-28T11:00:00Z", "approval_granted", as_="bob", actor_id="bob",
            release_id=R1, actor_role="platform_owner", approval_state="approved",
            release_digest=d1, source={"pr": 41})
        add(None, "2026-03-28T12:00:00Z", "release_approved", as_=ci, actor_id=ci,
            release_id=R1, release_digest=d1, approval_state="approved",
            details={"approvers": ["risk_owner:jane.smith", "platform_owner:bob"]})
        add(None, "2026-03-29T10:00:00Z", "deployment_promoted", as_=ci, actor_id=ci,
            release_id=R1, environment="staging", release_digest=d1)
        add("promote_r1", "2026-03-30T10:00:00Z", "deployment_promoted", as_=ci, actor_id=ci,
            release_id=R1, environment="production", release_digest=d1,
            policy_digest=POLICY_R1, decision={"decision_id": "dec-r1", "allow": True})
        add(None, "2026-04-10T08:00:00Z", "release_registered", release_id=R2,
            model_version="2026-04-10", release_digest=d2)
        add(None, "2026-04-10T08:30:00Z", "gate_evaluated", as_=ci, actor_id=ci,
            release_id=R2, environment="staging", policy_digest=POLICY_R2,
            release_digest=d2, decision={"decision_id": "dec-r2-s", "allow": True})
        add("gate_r2_deny", "2026-04-10T09:00:00Z", "gate_evaluated", as_=ci, actor_id=ci,
            release_id=R2, environment="production", policy_digest=POLICY_R2_DENY,
            release_digest=d2, decision={"decision_id": "dec-r2-a", "allow": False, "deny": [
                {"gate_id": "subgroup_regression", "msg": "first_time_international fell"}]})
        add("r2_bob_stale", "2026-04-10T10:00:00Z", "approval_granted", as_="bob",
            actor_id="bob", release_id=R2, actor_role="platform_owner",
            approval_state="approved", release_digest=STALE, source={"pr": 57})
        add("gate_r2", "2026-04-10T11:00:00Z", "gate_evaluated", as_=ci, actor_id=ci,
            release_id=R2, environment="production", policy_digest=POLICY_R2,
            release_digest=d2, decision={"decision_id": "dec-r2-b", "allow": True})
        add("r2_jane", "2026-04-11T09:00:00Z", "approval_granted", release_id=R2,
            actor_role="risk_owner", approval_state="approved", release_digest=d2,
            source={"pr": 57})
        # no release_approved for R2: bob's approval binds stale content, so the counted
        # approvals do not support one (the lifecycle replay would refuse it)
        add(None, "2026-04-11T12:00:00Z", "deployment_promoted", as_=ci, actor_id=ci,
            release_id=R2, environment="staging", release_digest=d2)
        add("promote_r2", PROMOTED_R2, "deployment_promoted", as_=ci, actor_id=ci,
            release_id=R2, environment="production", release_digest=d2, from_release=R1,
            policy_digest=POLICY_R2, decision={"decision_id": "dec-r2-b", "allow": True})
        add("rollback", ROLLED_BACK, "rollback_executed", as_="bob", actor_id="bob",
            actor_role="platform_owner", environment="production", from_release=R2,
            to_release=R1, release_id=R1, incident=INCIDENT,
            reason="latency regression and elevated false positive rate")
    finally:
        mp.undo()
    yield Story(root, digests, appended)


def run(story: Story, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--repo", str(story.root)], catch_exceptions=False)


def test_the_fixture_ledger_verifies(story: Story) -> None:
    result = run(story, "ledger", "verify")
    assert result.exit_code == 0, result.output


def test_diff_reads_policy_and_approvers_from_the_ledger(story: Story) -> None:
    result = run(story, "diff", R1, R2, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    changes = {c["field"]: (c["before"], c["after"]) for c in data["changes"]}
    # R2's latest gate decision is the second one (dec-r2-b), not the denied first.
    assert changes["policy_bundle"] == (POLICY_R1, POLICY_R2)
    # bob's R2 approval names other content (STALE): not an approver of R2.
    assert changes["approvers"] == (
        ["platform_owner:bob", "risk_owner:jane.smith"],
        ["risk_owner:jane.smith"],
    )
    assert (data["digest_a"], data["digest_b"]) == (story.digests[R1], story.digests[R2])
    assert data["notes"] == []
    text = run(story, "diff", R1, R2)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == f"{R1} -> {R2}"
    assert f"policy_bundle: {POLICY_R1} -> {POLICY_R2}" in text.stdout


def test_diff_refuses_other_models_and_unknown_ids(story: Story) -> None:
    other = run(story, "diff", R1, OTHER)
    assert other.exit_code == 1
    assert "different models" in other.stderr and "support-assistant" in other.stderr
    unknown = run(story, "diff", R1, "fraud-risk-2099-01-01-01")
    assert unknown.exit_code == 1 and "unknown release" in unknown.stderr


def test_explain_model_between_promotion_and_rollback(story: Story) -> None:
    result = run(story, "explain", MODEL, "--env", "production", "--at", "2026-04-12T12:00:00Z",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["release_id"] == R2 and data["live"]["release_id"] == R2
    assert data["live"]["since"] == PROMOTED_R2
    assert data["live"]["change_event"]["event_id"] == story.appended["promote_r2"].event_id
    a = data["answers"]
    assert a["deployed"]["release_digest"] == story.digests[R2]
    assert a["deployed"]["promotions"][-1]["digest_matches"] is True
    # Restricted to events up to --at: the rollback three hours later is not yet known.
    assert a["rollback"]["rollbacks"] == []
    assert a["deployed"]["live"][-1]["until"] is None
    assert [g["decision_id"] for g in a["evaluation"]["gate_decisions"]] == [
        "dec-r2-s", "dec-r2-a", "dec-r2-b"]
    bound = {(x["actor_id"], x["bound_to_current_content"]) for x in a["approvals"]["approvals"]}
    assert bound == {("bob", False), ("jane.smith", True)}
    seqs = [e["seq"] for e in a["audit_trail"]["events"]]
    assert max(seqs) == story.appended["promote_r2"].seq
    text = run(story, "explain", MODEL, "--env", "production", "--at", "2026-04-12T12:00:00Z")
    assert text.stdout.split()[0] == R2  # the answer first
    assert "NOT bound to the current content" in text.stdout


def test_explain_model_after_the_rollback_names_the_restored_release(story: Story) -> None:
    result = run(story, "explain", MODEL, "--env", "production", "--at", "2026-04-12T16:00:00Z",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["release_id"] == R1
    assert data["live"]["change_event"]["event_type"] == "rollback_executed"
    assert data["live"]["incident"] == INCIDENT
    rollbacks = data["answers"]["rollback"]["rollbacks"]
    assert [(r["from_release"], r["to_release"], r["incident"]) for r in rollbacks] == [
        (R2, R1, INCIDENT)]


def test_explain_release_shows_the_rollback_with_its_incident(story: Story) -> None:
    result = run(story, "explain", R2)
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[0] == R2
    assert f"rollback {R2} -> {R1} in production by bob at {ROLLED_BACK}" in result.stdout
    assert f"(incident {INCIDENT})" in result.stdout
    assert "gate decision dec-r2-b allow" in result.stdout
    assert "gate decision dec-r2-a deny" in result.stdout
    data = json.loads(run(story, "explain", R2, "--format", "json").stdout)
    trail = data["answers"]["audit_trail"]["events"]
    assert story.appended["rollback"].event_id in {e["event_id"] for e in trail}
    assert all(e["commit"] and e["leaf_hash"] for e in trail)
    # --at on a release: the answers as they stood then (before R2's approvals).
    early = json.loads(run(story, "explain", R2, "--at", "2026-04-10T10:30:00Z",
                           "--format", "json").stdout)
    assert [x["actor_id"] for x in early["answers"]["approvals"]["approvals"]] == ["bob"]


def test_explain_model_without_at_means_now(story: Story) -> None:
    result = run(story, "explain", MODEL, "--env", "production", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["release_id"] == R1  # restored by the rollback
    staging = run(story, "explain", MODEL, "--env", "staging")
    assert staging.stdout.split()[0] == R2  # the rollback was in production only


def test_explain_exit_codes(story: Story) -> None:
    assert run(story, "explain", "nope", "--env", "production").exit_code == 1
    assert run(story, "explain", "fraud-risk-2099-01-01-01").exit_code == 1
    malformed = run(story, "explain", MODEL, "--env", "production", "--at", "yesterday")
    assert malformed.exit_code == 2 and "--at" in malformed.stderr
    bare_model = run(story, "explain", MODEL)
    assert bare_model.exit_code == 2 and "--env" in bare_model.stderr
    before = run(story, "explain", MODEL, "--env", "production", "--at", "2026-01-01T00:00:00Z")
    assert before.exit_code == 1 and "no release" in before.stderr


def test_report_markdown(story: Story) -> None:
    result = run(story, "report", R2, "--format", "markdown")
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith(f"# Evidence report: {R2}")
    # Required roles of production (the strictest environment), from the ledger.
    assert "### Approval status for production" in md
    assert f"| risk_owner | approved | jane.smith | {story.appended['r2_jane'].event_id} |" in md
    # bob's only approval binds other content: nobody counted, with the gate's reason
    assert (f"| platform_owner | stale | - | - | approval by bob as platform_owner does not "
            f"count: it is bound to {STALE}, the release is now {story.digests[R2]} |") in md
    assert f"| platform_owner | bob | approved | 2026-04-10T10:00:00Z | NO: {STALE} |" in md
    assert "Decision `dec-r2-b`: **allow**" in md and POLICY_R2 in md
    assert "## What changed since the previous production release" in md
    assert f"Compared with `{R1}`." in md
    assert f"policy_bundle: {POLICY_R1} -> {POLICY_R2}" in md
    assert f"- rollback in production at {ROLLED_BACK}: {R2} -> {R1} (incident {INCIDENT}" in md


def test_report_of_the_first_production_release_says_there_is_no_diff(story: Story) -> None:
    result = run(story, "report", R1, "--format", "markdown", "--env", "staging")
    assert result.exit_code == 0, result.output
    assert "No diff: no release of fraud-risk was live in staging before " + R1 in result.stdout
    assert "### Approval status for staging" in result.stdout
    assert "| platform_owner |" not in result.stdout.split("## Approvers")[0]
    unknown_env = run(story, "report", R1, "--env", "qa")
    assert unknown_env.exit_code == 1 and "unknown environment" in unknown_env.stderr


def test_report_html_to_file(story: Story, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run(story, "report", R2, "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "wrote" in result.stderr
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "<script" not in html
    assert f"<span class='rid'>{R1}</span>" in html and "rollback" in html


def test_end_to_end_process_reads_the_git_ledger(story: Story) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "governance", "explain", MODEL, "--env", "production", "--at",
         "2026-04-12T12:00:00Z"],
        cwd=story.root, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(SOURCE)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == R2


def test_every_evidence_command_and_option_has_help() -> None:
    from typer.main import get_command

    root = get_command(app)
    for name in ("diff", "explain", "report"):
        cmd = root.commands[name]  # type: ignore[attr-defined]
        assert cmd.help, f"{name} has no help"
        for param in cmd.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help"


def test_cli_html_report_renders_the_timeline_in_chromium(story: Story, tmp_path: Path) -> None:
    from tests.integration.test_report_chromium import missing_colours, screenshot

    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    page = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "governance", "report", R2, "--format", "html", "--out",
         str(page)],
        cwd=story.root, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(SOURCE)},
    )
    assert proc.returncode == 0, proc.stderr
    image = screenshot(page, tmp_path, (1280, 1200))
    # R1 and R2 in the first two palette colours (staging and production lanes), the rollback
    # marker in red: the timeline is drawn, below the summary.
    assert missing_colours(image, (*PALETTE[:2], "#d62728"), rows=1200) == []
    from tests.integration.test_report_layout_chromium import measure

    facts = measure(page.read_text(encoding="utf-8"), tmp_path)
    assert facts["scrollWidth"] <= 1280 and facts["summaryBottom"] <= 800
    assert all(pairs == [] for pairs in facts["overlaps"].values()), facts["overlaps"]


def test_explain_refuses_when_the_live_release_is_not_on_disk(story: Story,
                                                              tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(story.root, copy, symlinks=True)
    shutil.rmtree(copy / "releases" / MODEL / R1)
    result = runner.invoke(app, ["explain", MODEL, "--env", "production", "--at",
                                 "2026-04-12T16:00:00Z", "--repo", str(copy)])
    assert result.exit_code == 1
    assert f"the ledger says {R1!r} was live" in result.stderr
    assert "not in this repository" in result.stderr
