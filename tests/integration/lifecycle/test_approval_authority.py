"""Issue 20 item 1: one authority for approval counting, seen through every consumer.

The required-approvals gate (policies/gates/approvals.rego) decides; `check --env`, `approve`
(its ``release_approved``/``remaining``), `explain`, `status`, `report` and `diff` read its
verdict and must say the same thing, word for word. Real CLI, real signatures, real ledger.

Scenarios (the gate's own Rego tests cover each rule once: policies/gates/approvals_test.rego;
the pull-request facts, CODEOWNERS and non-members: tests/unit/approvals/test_pull_request.py):
- stale digest: alice approves, the release content then changes; her approval binds the old
  digest and no longer counts;
- separation of duties: the trainer's own approval never counts.
"""

from __future__ import annotations

from typing import Any

from governance.ledger import append_event
from tests.integration.lifecycle.world import (
    MODEL,
    R1,
    World,
    commit_all,
    register,
    write_release,
)


def _gate(world: World, rid: str) -> tuple[set[str], set[str]]:
    [result] = world.json(None, "check", rid, "--env", "production", expect=1)["results"]
    denied = {f["msg"] for f in result["failures"]
              if f["metadata"]["gate_id"] == "required_approvals"}
    warned = {w["msg"] for w in result["warnings"]
              if w["metadata"]["gate_id"] == "required_approvals"}
    return denied, warned


def _consumers_agree(world: World, rid: str, approve_out: dict[str, Any], *,
                     pending_role: str, counted: dict[str, list[str]]) -> set[str]:
    denied, _ = _gate(world, rid)
    assert denied, "the scenario must leave the gate denying"
    # approve: release_approved is the gate's allow, remaining its failures verbatim
    assert approve_out["release_approved"] is False
    assert {r for r in approve_out["remaining"] if " may approve: " not in r} == denied
    # explain: the standing is the gate's
    standing = world.json(None, "explain", rid)["answers"]["approvals"]["standing"]
    assert standing["allow"] is False and set(standing["failures"]) == denied
    # status: the role the gate says is missing is pending, the others are counted
    status = world.json(None, "status", MODEL)["models"][0]
    [release] = [r for r in status["releases"] if r["release_id"] == rid]
    roles = {r["role"]: r for r in release["approvals"]["roles"]}
    assert roles[pending_role]["counted"] == []
    assert {r: roles[r]["counted"] for r in counted} == counted
    # report: the gate's failure, verbatim
    md = world.run(None, "report", rid, "--format", "markdown").stdout
    for msg in denied:
        assert f"- gate: {msg}" in md
    # diff: the approvers are the ones the gate counts
    diff = world.json(None, "diff", R1, rid)
    [approvers] = [c for c in diff["changes"] if c["field"] == "approvers"]
    assert approvers["after"] == sorted(f"{r}:{p}" for r, ps in counted.items() for p in ps)
    return denied


def _release(world: World) -> str:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-04-10")
    return rid


def test_stale_digest_consumers_agree(world: World) -> None:
    ci = world.ci
    rid = _release(world)
    old = world.run(None, "digest", f"releases/{MODEL}/{rid}").stdout.strip()
    world.run("alice", "approve", rid, "--role", "ml_lead")
    card = ci / "releases" / MODEL / rid / "model-card.yaml"
    card.write_text(card.read_text() + "# a late edit: the content alice approved changed\n")
    commit_all(ci, "late edit")
    new = world.run(None, "digest", f"releases/{MODEL}/{rid}").stdout.strip()
    assert new != old
    world.run("bob", "approve", rid, "--role", "platform_owner")
    out = world.json("jane.smith", "approve", rid, "--role", "risk_owner")
    denied = _consumers_agree(world, rid, out, pending_role="ml_lead",
                              counted={"platform_owner": ["bob"], "risk_owner": ["jane.smith"]})
    assert denied == {f"production needs 1 approval(s) from role ml_lead for digest {new}, "
                      "got 0"}
    explained = world.json(None, "explain", rid)["answers"]["approvals"]["approvals"]
    [alice] = [a for a in explained if a["actor_id"] == "alice"]
    assert alice["counted"] is False
    assert f"it is bound to {old}, the release is now {new}" in alice["not_counted_because"]
    # alice approves the new digest: the gate allows, approve records the gate's verdict with
    # the signed approvals it counted, and the ledger replay accepts it on verification
    done = world.json("alice", "approve", rid, "--role", "ml_lead")
    assert done["release_approved"] is True and done["remaining"] == []
    events = world.events()
    [approved] = [e for e in events if e.get("event_type") == "release_approved"
                  and e.get("release_id") == rid]
    verdict = approved["details"]["verdict"]
    assert verdict["allow"] is True and verdict["environment"] == "production"
    assert verdict["policy_digest"].startswith("git-tree:") and verdict["decision_id"]
    grants = {(e["actor_role"], e["actor_id"]): e["event_id"] for e in events
              if e.get("event_type") == "approval_granted" and e.get("release_id") == rid
              and e.get("release_digest") == new}
    assert {(c["role"], c["actor_id"]): c["event_id"] for c in verdict["counted"]} == grants
    assert len(grants) == 3
    world.run(None, "ledger", "verify")


def test_trainer_approval_consumers_agree(world: World) -> None:
    """Separation of duties: alice trains the release and is the only ml_lead; `approve`
    refuses her, so she signs an approval onto the ledger with her own key through the library
    (as a hostile trainer could). The gate never counts it, and no consumer does either."""
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    record = ci / "releases" / MODEL / rid / "release.yaml"
    record.write_text(record.read_text().replace("trained_by: dana", "trained_by: alice"))
    commit_all(ci, f"Release {rid}, trained by alice")
    register(world, ci, rid, "2026-04-10")
    digest = world.run(None, "digest", f"releases/{MODEL}/{rid}").stdout.strip()
    assert "alice trained" in world.run("alice", "approve", rid, "--role", "ml_lead",
                                        expect=1).stderr
    append_event(ci, {"event_type": "approval_granted", "release_id": rid, "model_name": MODEL,
                      "model_version": "2026-04-10", "actor_role": "ml_lead",
                      "approval_state": "approved", "release_digest": digest},
                 signing_key=world.keys / "alice", log_key=world.keys / "log")
    world.run("bob", "approve", rid, "--role", "platform_owner")
    out = world.json("jane.smith", "approve", rid, "--role", "risk_owner")
    denied = _consumers_agree(world, rid, out, pending_role="ml_lead",
                              counted={"platform_owner": ["bob"], "risk_owner": ["jane.smith"]})
    assert denied == {f"production needs 1 approval(s) from role ml_lead for digest {digest}, "
                      "got 0"}
    _, warned = _gate(world, rid)
    assert ("approval by alice as ml_lead does not count: the trainer cannot approve their own "
            "release") in warned
    assert not any(e.get("event_type") == "release_approved" and e.get("release_id") == rid
                   for e in world.events())
