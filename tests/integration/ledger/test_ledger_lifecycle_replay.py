"""`ledger verify` replays the lifecycle (issue 13 item 5): correctly signed events that no
lifecycle allowed are located violations; `ledger append` and bulk import refuse the event types
only lifecycle commands write.

Real git and real ssh-keygen keys (the ledger suite's fixtures). Each event below is signed by a
key whose principal may emit its type, so only the lifecycle replay can catch it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from governance.domain.events import LedgerEntry
from governance.errors import Denied
from governance.ledger import verify_repo
from governance.ledger.append import _commit, open_store, prepare
from governance.ledger.bulk import bulk_import
from governance.ledger.events import build_event
from governance.ledger.merkle import CompactRange
from governance.ledger.replay import LIFECYCLE_COMMANDS
from governance.ledger.settings import load_settings
from governance.ledger.signing import commit_signer, log_private_key
from governance.ledger.trust import Trust, genesis_details
from tests.integration.ledger.conftest import Keys, Ledger, governance_yaml
from tests.integration.ledger.test_ledger_cli import cli

M = "fraud-risk"
D1 = "sha256:" + "a1" * 32
D2 = "sha256:" + "b2" * 32
ENVIRONMENTS = """environments:
  staging: {required_approvals: [risk_owner]}
  production: {after: staging, required_approvals: [risk_owner, platform_owner]}
"""


def _repo(path: Path, keys: Keys) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    text = governance_yaml(keys).replace(
        "environments:\n  staging: {required_approvals: [risk_owner]}\n", ENVIRONMENTS)
    assert "production:" in text
    (path / "governance.yaml").write_text(text)
    subprocess.run(["git", "add", "governance.yaml"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "governance"], cwd=path, check=True)
    return path


@pytest.fixture(scope="session")
def registered(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    """Genesis (lifecycle pinned), model, releases r1 (D1) and r2 (D2)."""
    root = _repo(tmp_path_factory.mktemp("replay") / "repo", keys)
    led = Ledger(root, keys)
    led.init()
    led.append("model_registered", model_name=M)
    for rid, digest in (("r1", D1), ("r2", D2)):
        led.append("release_registered", model_name=M, release_id=rid, model_version=rid,
                   release_digest=digest)
    return root


@pytest.fixture
def led(registered: Path, tmp_path: Path, keys: Keys) -> Ledger:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(registered, root, symlinks=True)
    return Ledger(root, keys)


def gate(led: Ledger, rid: str, env: str, digest: str, allow: bool = True,
         decision_id: str = "d") -> LedgerEntry:
    decision: dict[str, Any] = {"decision_id": decision_id, "allow": allow}
    if not allow:
        decision["failures"] = [{"msg": "auc below threshold"}]
    return led.append("gate_evaluated", as_="governance-ci", actor_id="governance-ci",
                      model_name=M, release_id=rid, environment=env, release_digest=digest,
                      decision=decision)


def promote(led: Ledger, rid: str, env: str, digest: str, **extra: Any) -> LedgerEntry:
    return led.append("deployment_promoted", as_="governance-ci", actor_id="governance-ci",
                      model_name=M, release_id=rid, environment=env, release_digest=digest,
                      **extra)


def approve(led: Ledger, who: str, role: str, rid: str, digest: str,
            **extra: Any) -> LedgerEntry:
    return led.append("approval_granted", as_=who, model_name=M, release_id=rid,
                      actor_role=role, approval_state="approved", release_digest=digest,
                      **extra)


def gated_promotion(led: Ledger, rid: str, env: str, digest: str) -> LedgerEntry:
    gate(led, rid, env, digest, decision_id=f"{rid}-{env}")
    return promote(led, rid, env, digest, decision={"decision_id": f"{rid}-{env}",
                                                    "allow": True})


def approve_fully(led: Ledger, rid: str, digest: str) -> LedgerEntry:
    approve(led, "jane.smith", "risk_owner", rid, digest)
    approve(led, "bob", "platform_owner", rid, digest)
    return led.append("release_approved", as_="bob", model_name=M, release_id=rid,
                      actor_role="platform_owner", approval_state="approved",
                      release_digest=digest,
                      details={"approvers": ["risk_owner:jane.smith", "platform_owner:bob"]})


def assert_tampered(led: Ledger, seq: int, *needles: str) -> None:
    """`governance ledger verify` exits 1 and names the seq and the lifecycle reason."""
    r = cli("ledger", "verify", "--repo", str(led.root))
    assert r.returncode == 1, (r.stdout, r.stderr)
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"tampered: seq {seq}: lifecycle: "), first
    for needle in needles:
        assert needle in first, first


def assert_ok(led: Ledger) -> None:
    r = cli("ledger", "verify", "--repo", str(led.root))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("ok: ")


# --- the honest lifecycle --------------------------------------------------------------------


def test_honest_lifecycle_verifies(led: Ledger) -> None:
    """Gated promotions in order, approvals by members, a supported release_approved, a
    break-glass closed by someone else, a rollback to an approved release live there before."""
    gated_promotion(led, "r1", "staging", D1)
    approve_fully(led, "r1", D1)
    gated_promotion(led, "r1", "production", D1)
    gated_promotion(led, "r2", "staging", D2)
    gate(led, "r2", "production", D2, allow=False)
    bg = led.append("break_glass", as_="bob", model_name=M, release_id="r2",
                    environment="production", release_digest=D2, reason="outage",
                    incident="INC-7")
    approve(led, "jane.smith", "risk_owner", "r2", D2,
            details={"closes": bg.event_id, "post_hoc": True})
    led.append("rollback_executed", as_="bob", model_name=M, environment="production",
               release_id="r1", from_release="r2", to_release="r1", release_digest=D1,
               reason="latency regression", incident="INC-8")
    led.append("release_retired", as_="jane.smith", model_name=M, release_id="r2",
               reason="superseded")
    assert_ok(led)


# --- each violation, located ------------------------------------------------------------------


def test_promotion_without_gate_decision(led: Ledger) -> None:
    e = promote(led, "r1", "staging", D1, decision={"allow": True})
    assert_tampered(led, e.seq, "deployment_promoted of r1 to staging",
                    "no gate_evaluated for r1, staging")


def test_promotion_after_a_denying_gate(led: Ledger) -> None:
    """The issue's `ledger append --type deployment_promoted --field decision={"allow":true}`
    for a gate-denied release."""
    g = gate(led, "r1", "staging", D1, allow=False)
    e = promote(led, "r1", "staging", D1, decision={"allow": True})
    assert_tampered(led, e.seq, f"the gate decision for it (seq {g.seq}) denied")


def test_promotion_with_gate_for_another_digest(led: Ledger) -> None:
    gate(led, "r1", "staging", D2)
    e = promote(led, "r1", "staging", D1)
    assert_tampered(led, e.seq, "no gate_evaluated for r1, staging")


def test_gate_decision_used_twice(led: Ledger) -> None:
    first = gated_promotion(led, "r1", "staging", D1)
    gated_promotion(led, "r2", "staging", D2)
    e = promote(led, "r1", "staging", D1)
    assert_tampered(led, e.seq, f"already used by the promotion at seq {first.seq}")


def test_promotion_skipping_environment_order(led: Ledger) -> None:
    gate(led, "r1", "production", D1)
    e = promote(led, "r1", "production", D1)
    assert_tampered(led, e.seq, "skips the environment order",
                    "never live in 'staging'")


def test_promotion_of_retired_release(led: Ledger) -> None:
    r = led.append("release_retired", as_="jane.smith", model_name=M, release_id="r1",
                   reason="superseded")
    gate(led, "r1", "staging", D1)
    e = promote(led, "r1", "staging", D1)
    assert_tampered(led, e.seq, f"release r1 was retired at seq {r.seq}")


def test_promotion_to_unknown_environment(led: Ledger) -> None:
    gate(led, "r1", "canary", D1)
    e = promote(led, "r1", "canary", D1)
    assert_tampered(led, e.seq, "'canary' is not an environment the ledger pins")


def test_approval_by_non_member(led: Ledger) -> None:
    """bob may emit approvals (he holds platform_owner) but is not a risk_owner."""
    e = approve(led, "bob", "risk_owner", "r1", D1)
    assert_tampered(led, e.seq, "bob is not a member of role 'risk_owner'")


def test_bot_recording_review_of_non_member(led: Ledger) -> None:
    """CI records a GitHub review on behalf of dana: held to the same roster."""
    e = led.append("approval_granted", as_="governance-ci", actor_id="dana", model_name=M,
                   release_id="r1", actor_role="risk_owner", approval_state="approved",
                   release_digest=D1, source={"kind": "github", "pr": 4, "review_id": 9})
    assert_tampered(led, e.seq, "dana (recorded by governance-ci) is not a member of role "
                                "'risk_owner'")


def test_release_approved_by_one_person(led: Ledger) -> None:
    """The issue's `ledger append --type release_approved` by one person."""
    approve(led, "jane.smith", "risk_owner", "r1", D1)
    e = led.append("release_approved", as_="jane.smith", model_name=M, release_id="r1",
                   actor_role="risk_owner", approval_state="approved", release_digest=D1)
    assert_tampered(led, e.seq, "release_approved of r1", "not supported by the counted "
                    "approvals for 'production'", "role platform_owner")


def test_release_approved_on_stale_digest(led: Ledger) -> None:
    approve(led, "jane.smith", "risk_owner", "r1", D2)
    approve(led, "bob", "platform_owner", "r1", D1)
    e = led.append("release_approved", as_="bob", model_name=M, release_id="r1",
                   actor_role="platform_owner", approval_state="approved", release_digest=D1)
    assert_tampered(led, e.seq, "role risk_owner")


def test_release_approved_after_a_denial(led: Ledger) -> None:
    approve(led, "jane.smith", "risk_owner", "r1", D1)
    approve(led, "bob", "platform_owner", "r1", D1)
    led.append("approval_denied", as_="jane.smith", model_name=M, release_id="r1",
               actor_role="risk_owner", approval_state="denied", release_digest=D1,
               reason="subgroup regression")
    e = led.append("release_approved", as_="bob", model_name=M, release_id="r1",
                   actor_role="platform_owner", approval_state="approved", release_digest=D1)
    assert_tampered(led, e.seq, "jane.smith denied as risk_owner")


def test_break_glass_closed_by_the_breaker(led: Ledger) -> None:
    bg = led.append("break_glass", as_="bob", model_name=M, release_id="r1",
                    environment="staging", release_digest=D1, reason="outage",
                    incident="INC-1")
    e = approve(led, "bob", "platform_owner", "r1", D1,
                details={"closes": bg.event_id, "post_hoc": True})
    assert_tampered(led, e.seq, f"bob broke the glass (seq {bg.seq}) and cannot close")


def test_break_glass_closing_names_no_open_review(led: Ledger) -> None:
    e = approve(led, "jane.smith", "risk_owner", "r1", D1,
                details={"closes": "0190aaaa-0000-7000-8000-000000000000", "post_hoc": True})
    assert_tampered(led, e.seq, "not an open break-glass review of r1")


def test_rollback_to_unapproved_release(led: Ledger) -> None:
    gated_promotion(led, "r1", "staging", D1)
    gated_promotion(led, "r2", "staging", D2)
    e = led.append("rollback_executed", as_="bob", model_name=M, environment="staging",
                   release_id="r1", from_release="r2", to_release="r1", reason="bad")
    assert_tampered(led, e.seq, "r1 is not approved")


def test_rollback_to_release_never_live_there(led: Ledger) -> None:
    approve_fully(led, "r1", D1)
    gated_promotion(led, "r2", "staging", D2)
    e = led.append("rollback_executed", as_="bob", model_name=M, environment="staging",
                   release_id="r1", from_release="r2", to_release="r1", reason="bad")
    assert_tampered(led, e.seq, "r1 was never live in staging")


# --- the pinned configuration and its changes --------------------------------------------------


def test_membership_changes_only_through_key_rotated(led: Ledger) -> None:
    """jane (rotator) removes bob from platform_owner: his later approval is a violation; the
    change is itself schema-checked and folded like any rotation."""
    approve(led, "bob", "platform_owner", "r1", D1)
    led.append("key_rotated", as_="jane.smith", reason="bob moved teams",
               details={"changes": [{"op": "set_role_members", "role": "platform_owner",
                                     "members": ["jane.smith"]}]})
    assert_ok(led)
    e = approve(led, "bob", "platform_owner", "r2", D2)
    assert_tampered(led, e.seq, "bob is not a member of role 'platform_owner'",
                    "members pinned in the ledger: jane.smith")


def test_environment_order_changes_through_key_rotated(led: Ledger) -> None:
    led.append("key_rotated", as_="jane.smith", reason="canary before production",
               details={"changes": [{"op": "set_environments", "environments": [
                   {"name": "staging", "required_approvals": ["risk_owner"]},
                   {"name": "canary", "after": "staging", "required_approvals": []},
                   {"name": "production", "after": "canary",
                    "required_approvals": ["risk_owner", "platform_owner"]}]}]})
    gated_promotion(led, "r1", "staging", D1)
    gated_promotion(led, "r1", "canary", D1)
    gated_promotion(led, "r1", "production", D1)
    assert_ok(led)
    gated_promotion(led, "r2", "staging", D2)
    gate(led, "r2", "production", D2)
    e = promote(led, "r2", "production", D2)
    assert_tampered(led, e.seq, "never live in 'canary'")


def test_invalid_environment_order_refused_at_append(led: Ledger) -> None:
    from governance.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        led.append("key_rotated", as_="jane.smith", reason="typo",
                   details={"changes": [{"op": "set_environments", "environments": [
                       {"name": "production", "after": "staging",
                        "required_approvals": []}]}]})
    assert "comes after 'staging', which is not listed before it" in str(err.value.diagnostics())


def _init_unpinned(root: Path, keys: Keys) -> None:
    """A genesis as `ledger init` wrote it before the lifecycle was pinned."""
    settings = load_settings(root)
    store = open_store(root, settings.branch)
    details = genesis_details(settings, store.head_commit())
    del details["lifecycle"]
    fields = build_event("ledger_genesis", {"details": details, "reason": "ledger genesis"})
    with commit_signer(store.config_get, keys.path("jane")) as signer, store.locked():
        prep = prepare(fields, 0, "", Trust.from_genesis(details), CompactRange(),
                       signer.public_key.blob, log_private_key(keys.path("log")))
        assert store.compare_and_swap(_commit(store, prep, None, None, signer), None)


def test_genesis_without_lifecycle_fails_closed(tmp_path: Path, keys: Keys) -> None:
    led = Ledger(_repo(tmp_path / "repo", keys), keys)
    _init_unpinned(led.root, keys)
    led.append("release_registered", model_name=M, release_id="r1", model_version="1",
               release_digest=D1)
    gate(led, "r1", "staging", D1)
    assert_ok(led)  # nothing that needs the pinned configuration yet
    e = promote(led, "r1", "staging", D1)
    assert_tampered(led, e.seq, "cannot check deployment_promoted of r1 to staging",
                    "pins no environment order")


def test_unpinned_ledger_pinned_later_by_key_rotated(tmp_path: Path, keys: Keys) -> None:
    led = Ledger(_repo(tmp_path / "repo", keys), keys)
    _init_unpinned(led.root, keys)
    led.append("key_rotated", as_="jane.smith", reason="pin the lifecycle",
               details={"changes": [
                   {"op": "set_role_members", "role": "risk_owner", "members": ["jane.smith"]},
                   {"op": "set_environments", "environments": [
                       {"name": "staging", "required_approvals": ["risk_owner"]}]}]})
    gated_promotion(led, "r1", "staging", D1)
    approve(led, "jane.smith", "risk_owner", "r1", D1)
    assert_ok(led)


# --- refusals at the write paths ---------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(LIFECYCLE_COMMANDS))
def test_ledger_append_refuses_lifecycle_types(led: Ledger, event_type: str) -> None:
    before = verify_repo(led.root).events
    r = cli("ledger", "append", "--repo", str(led.root), "--type", event_type,
            "--field", "release_id=r1", "--field", "model_name=fraud-risk",
            "--field", "environment=staging", "--field", f"release_digest={D1}",
            "--field", 'decision={"allow":true}',
            env={"GOVERNANCE_LEDGER_SIGNING_KEY": str(led.keys.path("jane"))})
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"does not write {event_type} events" in r.stderr
    assert LIFECYCLE_COMMANDS[event_type].split(" (")[0] in r.stderr
    report = verify_repo(led.root)
    assert report.ok and report.events == before and event_type not in report.by_type


def test_bulk_import_refuses_promotion_without_gate(led: Ledger) -> None:
    size = verify_repo(led.root).events
    items = [({"event_type": "evaluation_completed", "model_name": M, "release_id": "r1",
               "evidence_refs": ["s3://eval/r1.json"], "actor_id": "governance-ci"},
              led.keys.path("ci")),
             ({"event_type": "deployment_promoted", "model_name": M, "release_id": "r1",
               "environment": "staging", "release_digest": D1, "actor_id": "governance-ci",
               "decision": {"allow": True}}, led.keys.path("ci"))]
    with pytest.raises(Denied) as err:
        bulk_import(led.root, items)
    text = str(err.value)
    assert f"bulk import item 1 (seq {size + 1}, deployment_promoted)" in text
    assert "no gate_evaluated for r1, staging" in text and "nothing was appended" in text
    assert verify_repo(led.root).events == size


def test_bulk_import_takes_promotion_with_its_gate_decision(led: Ledger) -> None:
    size = verify_repo(led.root).events
    items = [({"event_type": "gate_evaluated", "model_name": M, "release_id": "r1",
               "environment": "staging", "release_digest": D1, "actor_id": "governance-ci",
               "decision": {"decision_id": "g1", "allow": True}}, led.keys.path("ci")),
             ({"event_type": "deployment_promoted", "model_name": M, "release_id": "r1",
               "environment": "staging", "release_digest": D1, "actor_id": "governance-ci",
               "decision": {"decision_id": "g1", "allow": True}}, led.keys.path("ci"))]
    assert bulk_import(led.root, items, log_key=led.keys.path("log")) == 2
    report = verify_repo(led.root)
    assert report.ok and report.events == size + 2
