"""Issue 14 item 3, end to end on a real signed ledger: the report, explain and status show
the approval status the required-approvals gate decides, never their own count.

r2 is trained by alice, who is also the only ml_lead. `approve` refuses her, and `ledger
append` refuses approvals altogether, so she signs an ``approval_granted`` for ml_lead straight
onto the ledger with her own key through the library (as a hostile trainer with her key would;
the ledger cannot refuse it: the trainer is not on the ledger); bob and jane.smith then approve
their own roles with `approve`. The gate (`check --env production`) says the ml_lead approval
does not count and why; every other command must say the same, word for word. (A non-member's
approval is refused by the ledger's own verification: tests/integration/ledger; its reason in
these outputs is covered by tests/unit/test_approval_standing.py.)
"""

from __future__ import annotations

from governance.ledger import append_event
from tests.integration.lifecycle.world import (
    MODEL,
    R1,
    World,
    commit_all,
    register,
    write_release,
)

TRAINER = ("approval by alice as ml_lead does not count: the trainer cannot approve their own "
           "release")


def _release_trained_by_alice(world: World) -> tuple[str, str]:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86, rollback_to=R1)
    record = ci / "releases" / MODEL / rid / "release.yaml"
    record.write_text(record.read_text().replace("trained_by: dana", "trained_by: alice"))
    commit_all(ci, f"Release {rid}, trained by alice")
    register(world, ci, rid, "2026-04-10")
    digest = world.run(None, "digest", f"releases/{MODEL}/{rid}").stdout.strip()
    refused = world.run("alice", "approve", rid, "--role", "ml_lead", expect=1)
    assert "alice trained" in refused.stderr
    refused = world.run("alice", "ledger", "append", "--type", "approval_granted",
                        "--field", f"release_id={rid}", "--field", f"model_name={MODEL}",
                        "--field", "actor_role=ml_lead", "--field", "approval_state=approved",
                        "--field", f"release_digest={digest}", expect=1)
    assert "use governance approve" in refused.stderr
    append_event(ci, {"event_type": "approval_granted", "release_id": rid, "model_name": MODEL,
                      "model_version": "2026-04-10", "actor_role": "ml_lead",
                      "approval_state": "approved", "release_digest": digest},
                 signing_key=world.keys / "alice", log_key=world.keys / "log")
    world.run("bob", "approve", rid, "--role", "platform_owner")
    world.run("jane.smith", "approve", rid, "--role", "risk_owner")
    return rid, digest


def test_report_explain_and_status_say_what_the_gate_counted(world: World) -> None:
    rid, digest = _release_trained_by_alice(world)

    gate = world.json(None, "check", rid, "--env", "production", expect=1)
    [result] = gate["results"]
    warned = {w["msg"] for w in result["warnings"]
              if w["metadata"]["gate_id"] == "required_approvals"}
    denied = {f["msg"] for f in result["failures"]
              if f["metadata"]["gate_id"] == "required_approvals"}
    assert warned == {TRAINER}
    assert denied == {f"production needs 1 approval(s) from role ml_lead for digest {digest}, "
                      "got 0"}

    md = world.run(None, "report", rid, "--format", "markdown").stdout
    status_section = md.split("## Approvers")[0]
    assert "| ml_lead | approved" not in status_section
    assert f"| ml_lead | pending | - | - | {TRAINER} |" in status_section
    assert "| platform_owner | approved | bob |" in status_section
    assert "| risk_owner | approved | jane.smith |" in status_section
    assert f"- gate: {next(iter(denied))}" in status_section

    explained = world.json(None, "explain", rid)["answers"]["approvals"]
    why = {(a["actor_id"], a["actor_role"]): (a["counted"], a["not_counted_because"])
           for a in explained["approvals"]}
    assert why == {("alice", "ml_lead"): (False, TRAINER),
                   ("bob", "platform_owner"): (True, None),
                   ("jane.smith", "risk_owner"): (True, None)}
    standing = explained["standing"]
    assert standing["allow"] is False and set(standing["failures"]) == denied
    text = world.run(None, "explain", rid).stdout
    assert f"NOT counted: {TRAINER}" in text

    status = world.json(None, "status", MODEL)["models"][0]
    [release] = [r for r in status["releases"] if r["release_id"] == rid]
    roles = {r["role"]: r for r in release["approvals"]["roles"]}
    assert roles["ml_lead"]["status"] == "pending" and roles["ml_lead"]["counted"] == []
    assert [v["reason"] for v in roles["ml_lead"]["not_counted"]] == [TRAINER]
    assert (roles["platform_owner"]["counted"], roles["risk_owner"]["counted"]) == (
        ["bob"], ["jane.smith"])
    line = next(x for x in world.run(None, "status", MODEL).stdout.splitlines()
                if x.startswith(f"  {rid}: "))
    assert f"ml_lead pending; not counted: {TRAINER}" in line
    assert "approvals for production: NOT complete" in line
