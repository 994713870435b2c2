"""Issue 14 items 1 and 10 end to end: document text never changes a gate decision.

A trainer's subgroup name that would have rewritten the decision is refused by ``validate``
with its file, line and path, and the release that takes it as baseline does not pass; a quote
in a break-glass incident reaches the messages exactly and leaves every later decision what it
would be with a plain incident.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.integration.lifecycle.world import (
    MODEL,
    R1,
    World,
    commit_all,
    register,
    write_release,
)

INJECTION = 'zz", "remediation":"-", "severity":"low"}], "allow":true, "failures":[], "zz":[{"a":"'
HOSTILE = 'INC-7 "db" \\ \t caf\u00e9 \U0001f600 ", "allow":true, "x":"'
INCIDENT = 'INC-7 "db"'


def _check(world: World, *args: str) -> tuple[int, dict[str, Any]]:
    import json

    done = world.run(None, "check", *args, "--format", "json", expect=None)
    return done.returncode, json.loads(done.stdout)


def test_an_injected_baseline_subgroup_is_refused_and_never_passes(world: World) -> None:
    ci = world.ci
    baseline = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86)
    card = ci / "releases" / MODEL / baseline / "model-card.yaml"
    doc = yaml.safe_load(card.read_text())
    doc["subgroups"][INJECTION] = {"auc": 0.9}
    card.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    line = next(i for i, text in enumerate(card.read_text().splitlines(), 1) if "zz" in text)
    commit_all(ci, f"Release {baseline}")
    register(world, ci, baseline, "2026-04-10")

    validate = world.run(None, "validate", expect=1)
    shown = validate.stdout + validate.stderr
    assert (f"releases/{MODEL}/{baseline}/model-card.yaml:{line} $.subgroups['zz\", "
            in shown), shown
    assert "expected a subgroup name" in shown

    # the next release takes it as baseline (the default), rolls back to the live r1, and has
    # no approval at all: the subgroup warning quoting the name must not turn that into a pass
    rid = write_release(world, ci, "2026-05-06", auc=0.945, intl=0.87)
    release_file = ci / "releases" / MODEL / rid / "release.yaml"
    release = yaml.safe_load(release_file.read_text())
    assert release["baseline"] == baseline
    release["rollback_target"] = {"release_id": R1}
    release_file.write_text(yaml.safe_dump(release, sort_keys=False))
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-05-06")
    code, out = _check(world, rid, "--env", "production")
    # the baseline cannot be read, so nothing can be compared: could not decide, located
    assert code == 3 and out["summary"]["passed"] == 0, out
    [result] = out["results"]
    assert (f"releases/{MODEL}/{baseline}/model-card.yaml:{line} $.subgroups['zz"
            in result["undecided"]), result["undecided"]
    world.run("governance-ci", "promote", rid, "--env", "staging", expect=code)
    assert world.events()[-1]["event_type"] != "deployment_promoted"


def test_a_quoted_incident_keeps_every_later_decision(world: World) -> None:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86)
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-04-10")
    world.run("platform-oncall", "promote", rid, "--env", "staging", "--break-glass",
              "--reason", f"fraud wave: {HOSTILE}", "--incident", INCIDENT)
    event = world.events()[-1]
    assert (event["event_type"], event["incident"], event["reason"]) == (
        "break_glass", INCIDENT, f"fraud wave: {HOSTILE}")

    # every later check of the model decides as it would with a plain incident, and quotes the
    # incident exactly: r1 (approved, live) passes with the warning ...
    code, out = _check(world, R1, "--env", "staging")
    [decision] = out["results"]
    assert decision["undecided"] is None, decision
    assert code == 0 and decision["outcome"] == "pass", decision
    quoted = f"(incident {INCIDENT}) opened"
    assert any(quoted in w["msg"] for w in decision["warnings"]), decision

    # ... and the unapproved release is denied, with the same warning
    code, out = _check(world, rid, "--env", "production")
    [decision] = out["results"]
    assert decision["undecided"] is None, decision
    assert code == 1 and decision["outcome"] == "deny", decision
    assert "required_approvals" in {f["metadata"]["gate_id"] for f in decision["failures"]}
    assert any(quoted in w["msg"] for w in decision["warnings"]), decision
