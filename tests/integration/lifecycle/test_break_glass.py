"""Break-glass: a loud override with a reason and an incident, and an obligation that status and
every later check report until a post-hoc approval closes it (DESIGN section 4)."""

from __future__ import annotations

from typing import Any

from tests.integration.lifecycle.world import (
    BOT,
    MODEL,
    R1,
    R2,
    World,
    approve_all,
    commit_all,
    register,
    write_release,
)


def obligations(world: World) -> list[dict[str, Any]]:
    return list(world.json(None, "status", MODEL)["models"][0]["obligations"])


def test_break_glass_on_an_unapproved_release_until_it_is_approved(world: World) -> None:
    ci = world.ci
    rid = write_release(world, ci, "2026-04-10", auc=0.94, intl=0.86)
    commit_all(ci, f"Release {rid}")
    register(world, ci, rid, "2026-04-10")
    world.run("platform-oncall", "promote", rid, "--env", "staging", expect=1)  # denied

    usage = world.run("platform-oncall", "promote", rid, "--env", "staging", "--break-glass",
                      "--reason", "fraud wave", expect=2)
    assert "--break-glass needs --reason and --incident" in usage.stderr
    done = world.run("platform-oncall", "promote", rid, "--env", "staging", "--break-glass",
                     "--reason", "fraud wave, the old model misses it", "--incident", "INC-77")
    assert done.stdout.startswith(f"BREAK-GLASS promoted {rid} to staging")
    event = world.events()[-1]
    assert event["event_type"] == "break_glass"
    assert (event["reason"], event["incident"], event["actor_id"], event["from_release"]) == (
        "fraud wave, the old model misses it", "INC-77", "platform-oncall", R1)
    assert world.events()[-2]["decision"]["allow"] is False  # the denial it overrode

    [ob] = obligations(world)
    assert (ob["kind"], ob["event_id"], ob["release_id"], ob["incident"]) == (
        "break_glass_review", event["event_id"], rid, "INC-77")
    assert world.json(None, "status", MODEL)["models"][0] == world.full_fold_status()
    text = world.run(None, "status", MODEL).stdout
    assert (f"OPEN break_glass_review: {rid} in staging (incident INC-77" in text)
    # every later check of the model reports it, this release or another
    for release in (rid, R1):
        check = world.run(None, "check", release, "--env", "staging", expect=None).stdout
        assert "open obligation" in check and "INC-77" in check, check

    approve_all(world, ci, rid)  # the post-hoc review: release_approved closes it
    assert obligations(world) == []
    assert "open obligation" not in world.run(None, "check", R1, "--env", "staging").stdout


def test_post_hoc_approval_names_the_break_glass_it_closes(approved: World) -> None:
    """r2 was approved before the override (no new release_approved will come): the review is
    an approval with --closes naming the break_glass event, by a member of a role production
    requires who neither broke glass nor trained the release."""
    approved.run(BOT, "promote", R2, "--env", "staging")
    # alice approved r2, so as deployer the separation-of-duties gate denies her; she overrides
    approved.run("alice", "promote", R2, "--env", "production", expect=1)
    approved.run("alice", "promote", R2, "--env", "production", "--break-glass", "--reason",
                 "nobody else on call", "--incident", "INC-78")
    [ob] = obligations(approved)
    before = len(approved.events())
    # the breaker never reviews her own override, under any role
    own = approved.run("alice", "approve", R2, "--role", "ml_lead", "--closes", ob["event_id"],
                       expect=1)
    assert f"alice broke glass ({ob['event_id']}) and cannot review it" in own.stderr
    # a role production does not require does not close it (on_call may roll back, not review)
    oncall = approved.run("platform-oncall", "approve", R2, "--role", "on_call", "--closes",
                          ob["event_id"], expect=1)
    assert ("a break-glass review of production is closed only under a role that environment "
            "requires (ml_lead, platform_owner, risk_owner), not 'on_call'") in oncall.stderr
    assert len(approved.events()) == before  # refused before anything is signed

    again = approved.json("jane.smith", "approve", R2, "--role", "risk_owner")
    assert again["release_approved"] is True  # already approved: no new release_approved
    assert [ob["event_id"] for ob in obligations(approved)] == [ob["event_id"]]

    wrong = approved.run("jane.smith", "approve", R1, "--role", "risk_owner", "--closes",
                         ob["event_id"], expect=1)
    assert f"{ob['event_id']} is not an open break-glass review of {R1}" in wrong.stderr
    approved.run("jane.smith", "approve", R2, "--role", "risk_owner", "--deny", "--reason", "x",
                 "--closes", ob["event_id"], expect=2)

    done = approved.run("jane.smith", "approve", R2, "--role", "risk_owner", "--closes",
                        ob["event_id"])
    assert f"closes the break-glass review {ob['event_id']}" in done.stdout
    review = approved.events()[-1]
    assert review["event_type"] == "approval_granted"
    assert review["details"] == {"closes": ob["event_id"], "post_hoc": True}
    assert obligations(approved) == []
    approved.run(None, "ledger", "verify")
