"""What people read: every text-producing command on a populated repository prints no Python
literal, says what is true, and every denial carries its remediation (issue 17, items 2, 3, 5).

The world: r1 live in staging and production, r2 approved and promoted to both, then the
metric floor is raised on main (so r1 would no longer pass) and production is rolled back to
r1: the rollback's gate result for r1 is advisory. r3, a draft with a subgroup regression,
is refused in staging.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.integration.lifecycle.world import (
    BOT,
    MODEL,
    R1,
    R2,
    World,
    commit_all,
    git,
    register,
    write_release,
)

R3 = f"{MODEL}-2026-05-06-01"
# A Python literal leaking into text: a dict or list repr, or None/True/False as words.
REPR = re.compile(r"\{'|\['|\bNone\b|\bTrue\b|\bFalse\b")


@pytest.fixture(scope="module")
def populated(approved_template: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    world = approved_template.copy(tmp_path_factory.mktemp("text-output") / "world")
    ci = world.ci
    world.run(BOT, "promote", R2, "--env", "staging")
    world.run(BOT, "promote", R2, "--env", "production")
    commit_all(ci, f"{R2} live")
    config = ci / "governance.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["gates"]["metric_minimums"]["auc"] = 0.935  # r1 (0.93) would no longer pass
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    commit_all(ci, "Raise the auc floor")
    rolled = world.run("platform-oncall", "rollback", MODEL, "--env", "production",
                       "--reason", "latency regression", "--incident", "inc-4821")
    world.rollback_stderr = rolled.stderr  # type: ignore[attr-defined]
    commit_all(ci, "rolled back")
    write_release(world, ci, "2026-05-06", auc=0.95, intl=0.81, rollback_to=R2)
    commit_all(ci, f"Release {R3}")
    register(world, ci, R3, "2026-05-06")
    git(ci, "push", "-q", "origin", "main", "governance/ledger")
    return world


def _commands(world: World) -> list[tuple[str, ...]]:
    events = world.events()
    between = events[-3]["timestamp"]  # while r2 was live in production
    return [
        ("validate",), ("digest", R1), ("digest", f"releases/{MODEL}/{R2}"),
        ("status",), ("status", MODEL, "--all"),
        ("live", MODEL, "--env", "production"),
        ("live", MODEL, "--env", "production", "--at", between),
        ("live", MODEL, "--env", "staging"),
        ("history", MODEL), ("audit", "query", "--model", MODEL),
        ("diff", R1, R2), ("diff", R2, R3),
        ("explain", R1), ("explain", R2), ("explain", R3),
        ("explain", MODEL, "--env", "production", "--at", between),
        ("check", "--all"), ("check", R3, "--env", "production"),
        ("check", R1, "--env", "production"),
        ("report", R2, "--format", "markdown"),
        ("ledger", "log"), ("ledger", "verify"),
        ("policy", "test"), ("policy", "lint"),
        ("env", "list"), ("env", "first"), ("env", "next", R3), ("env", "next", R2),
        ("codeowners", "check"),
    ]


def test_no_python_literal_in_any_text_output(populated: World) -> None:
    seen = []
    for args in _commands(populated):
        done = populated.run(None, *args, expect=None)
        assert done.returncode in (0, 1), (args, done.returncode, done.stderr)
        for stream, text in (("stdout", done.stdout), ("stderr", done.stderr)):
            for line in text.splitlines():
                assert not REPR.search(line), f"governance {' '.join(args)} {stream}: {line}"
        seen.append(done.stdout)
    text = "\n".join(seen)
    # the values that used to leak are there, in words
    assert "window 2025-10-01 to 2026-03-31" in text
    assert "metrics auc 0.94, latency_p95_ms 42" in text or "metrics auc 0.94" in text
    assert f"rollback target: {R1}" in text
    assert "rollback target: switch the model off (" in text
    assert "fallback now (where a rollback would go): production: " in text


def test_denials_carry_remediation(populated: World) -> None:
    done = populated.run(BOT, "promote", R3, "--env", "staging", expect=1)
    err = done.stderr
    findings = [ln for ln in err.splitlines() if ln.startswith("  - ")]
    assert findings, err
    # every finding is followed by its remediation, as `check` prints them
    lines = err.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  - "):
            assert lines[i + 1].startswith("    remediation: "), err
    assert "subgroup_regression: subgroup first_time_international_merchants" in err
    assert f"remediation: fix each finding above, then run `governance check {R3} --env " \
           "staging`" in err
    # a lifecycle refusal (not a gate) carries one too
    done = populated.run(BOT, "promote", R3, "--env", "production", expect=1)
    assert "must be live in 'staging' before 'production'" in done.stderr
    assert f"remediation: promote to staging first: governance promote {R3} --env staging" \
        in done.stderr
    done = populated.run("platform-oncall", "rollback", MODEL, "--env", "production",
                         "--to", R1, "--reason", "again", expect=1)
    assert "is what is live in production now" in done.stderr
    assert "remediation: name another release with --to" in done.stderr
    # approve: not a member of the role
    done = populated.run("alice", "approve", R3, "--role", "risk_owner", expect=1)
    assert "alice is not a member of role 'risk_owner'" in done.stderr
    assert f"remediation: ask a member of risk_owner to approve: governance approve {R3} " \
           "--role risk_owner" in done.stderr


def test_rollback_gate_result_reads_as_a_warning(populated: World) -> None:
    stderr = populated.rollback_stderr  # type: ignore[attr-defined]
    assert "warning: (not blocking a rollback) metric_thresholds: auc is 0.93" in stderr
    rollback = [e for e in populated.events() if e["event_type"] == "rollback_executed"][-1]
    assert rollback["decision"]["allow"] is False and rollback["decision"]["blocking"] is False
    out = populated.run(None, "live", MODEL, "--env", "production").stdout
    assert out.splitlines()[0] == R1
    decision = next(ln for ln in out.splitlines() if ln.startswith("decision: "))
    assert decision.endswith("warning (not blocking a rollback: its gates would not pass it now)")
    assert not re.search(r"\bdeny\b", decision)


def test_check_wording_and_totals(populated: World) -> None:
    out = populated.run(None, "check", "--all", expect=1).stdout
    lines = out.splitlines()
    # r2 is approved by every role: its readiness lines say satisfied, not pending (r1 fails
    # the raised auc floor, r3 its subgroup regression)
    block = lines[lines.index(f"PASS {R2} (readiness)") + 1:]
    assert "  satisfied required_approvals: production: 1 of 1 approval(s) from ml_lead" \
        in block
    assert not any(ln.startswith("  pending required_approvals: production: 1 of 1")
                   for ln in lines)
    assert "  pending required_approvals: production: 0 of 1 approval(s) from ml_lead" in lines
    assert lines[-1] == "3 releases checked: 1 passed, 2 denied, 0 could not be decided; " \
                        "0 warnings"


def test_approval_says_who_may_still_approve(populated: World, tmp_path: Path) -> None:
    world = populated.copy(tmp_path / "world")
    out = world.run("alice", "approve", R3, "--role", "ml_lead").stdout
    # the gate's failures, then who may still approve each unfilled role (issue 20: the gate
    # decides, including who could still count)
    assert "pending: production needs 1 approval(s) from role platform_owner for digest" in out
    assert "pending: platform_owner may approve: bob" in out
    assert "pending: risk_owner may approve: jane.smith" in out
    assert "eligible approvers" not in out
    # a recorded denial says what lifts it
    out = world.run("jane.smith", "approve", R3, "--role", "risk_owner", "--deny", "--reason",
                    "subgroup regression").stdout
    assert f"remediation: {R3} stays rejected until jane.smith approves it again " \
           f"(governance approve {R3} --role risk_owner)" in out


def test_live_before_any_deployment_has_no_environment_hint(populated: World) -> None:
    done = populated.run(None, "live", MODEL, "--env", "production", "--at",
                         "2020-01-01T00:00:00Z", expect=1)
    assert "its first deployment there is at" in done.stderr
    assert "hint" not in done.stderr and "environments are named" not in done.stderr
    # an environment nobody defines is named as unknown, with the defined ones (issue 16)
    done = populated.run(None, "live", MODEL, "--env", "prod", "--at", "1h", expect=1)
    assert "unknown environment 'prod'" in done.stderr
    assert "hint: governance.yaml defines: staging, production" in done.stderr


def test_digest_takes_a_release_id(populated: World) -> None:
    by_id = populated.run(None, "digest", R2).stdout
    by_path = populated.run(None, "digest", f"releases/{MODEL}/{R2}").stdout
    assert by_id == by_path and by_id.startswith("sha256:")
    done = populated.run(None, "digest", "no-such-release", expect=1)
    assert "unknown release 'no-such-release'" in done.stderr
    done = populated.run(None, "digest", "releases/nope", expect=1)
    assert "releases/nope is not a directory" in done.stderr


def test_check_sarif_on_the_cli(populated: World, tmp_path: Path) -> None:
    from tests.unit.policy.test_sarif import _valid

    done = populated.run(None, "check", R3, "--env", "production", "--format", "sarif",
                         expect=1)
    log = json.loads(done.stdout)
    _valid(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"subgroup_regression", "required_approvals"}
    for r in results:
        assert r["level"] == "error"
        where = r["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"].startswith(f"releases/{MODEL}/{R3}/")
        assert where["region"]["startLine"] >= 1
    # an invalid release: the log is still well-formed, with each problem located
    world = populated.copy(tmp_path / "world")
    release = world.ci / "releases" / MODEL / R3 / "release.yaml"
    release.write_text(re.sub(r"(?m)^  sha256: .*$", "  sha256: ABC", release.read_text()))
    done = world.run(None, "check", R3, "--format", "sarif", expect=1)
    log = json.loads(done.stdout)
    _valid(log)
    results = log["runs"][0]["results"]
    assert results and all(r["ruleId"] == "governance/invalid-record" for r in results)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
               for r in results)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert "is not a sha256 digest" in done.stderr
