"""One normal form for identities (issue 14): GitHub logins are case-insensitive, so every rule
that compares people (trainer exclusion, role membership, distinct people, separation of
duties, the gate input) treats `Alice` and `alice` as one person."""

from __future__ import annotations

from governance.approvals.duties import holders_from, separation_of_duties
from governance.approvals.facts import ApprovalPolicy, RoleDefinition, required_roles
from governance.domain.config import Waiver
from governance.domain.identity import identity_key, identity_keys, same_identity
from governance.policy.input import waivers_data


def test_the_normal_form() -> None:
    assert identity_key("Alice") == identity_key("alice") == "alice"
    assert identity_key("Acme/Model-Risk") == "acme/model-risk"
    assert same_identity("Jane.Smith", "jane.smith")
    assert not same_identity("alice", "alicia")
    assert not same_identity(None, "alice") and not same_identity("", "")
    assert identity_keys(["Bob", "bob", "BOB"]) == frozenset({"bob"})


def test_the_gate_excludes_the_trainer_in_any_case() -> None:
    from tests.unit.approvals.test_one_authority import pr_standing
    from tests.unit.approvals.test_pull_request import facts, review

    policy = ApprovalPolicy(required=required_roles(["ml_lead"], 1),
                            roles={"ml_lead": RoleDefinition(members=frozenset({"alice"}))},
                            trainers=frozenset({"Alice"}))
    standing = pr_standing(policy, facts(review(0, "alice")))
    assert standing.outcome == "denied"
    assert any(n.startswith("approval by alice ") for n in standing.not_counted())


def test_the_gate_counts_one_person_once_whatever_the_case() -> None:
    from tests.unit.approvals.test_one_authority import pr_standing
    from tests.unit.approvals.test_pull_request import facts, review

    roles = {"ml_lead": RoleDefinition(members=frozenset({"Bob"})),
             "risk_owner": RoleDefinition(members=frozenset({"bob", "jane.smith"}))}
    policy = ApprovalPolicy(required=required_roles(["ml_lead", "risk_owner"], 1), roles=roles)
    one = pr_standing(policy, facts(review(0, "Bob")))
    assert one.outcome == "denied"
    assert any("need 2 different people, but only 1 approved (bob)" in f for f in one.failures)
    two = pr_standing(policy, facts(review(0, "Bob"), review(1, "Jane.Smith")))
    assert two.outcome == "approved", two.failures


def test_duties_overlap_across_case() -> None:
    overlaps = separation_of_duties(holders_from(trainers=["Alice"], approvers=["alice"]))
    assert [o.rule for o in overlaps] == ["sod-trainer-approver"]


def test_waiver_approvers_reach_the_gates_in_the_normal_form() -> None:
    waiver = Waiver(gate_id="latency", model="fraud-risk", approver="Jane.Smith",
                    reason="r", expires="2099-01-01")
    assert waivers_data([waiver])["waivers"][0]["approver"] == "jane.smith"


def test_genesis_grants_role_and_rotator_defaults_across_case() -> None:
    """A role member or rotator written `Alice` is the person `alice`: the ledger genesis gives
    her the approval and rotation event types by default (she could not approve otherwise)."""
    from governance.ledger.settings import Identity, LedgerSettings
    from governance.ledger.trust import ROLE_HOLDER_EXTRA, ROTATOR_EXTRA, genesis_details

    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOyWr4lP0gJ9pQm2k0mN1cV7bE2qk3w6x5VbY8n0dL1a"
    settings = LedgerSettings(
        branch="governance/ledger", origin="acme.example/models", checkpoint_every=100,
        log_public_key=None, rotators=("ALICE",), clock_skew_seconds=300,
        identities=(Identity("alice", "person", "Alice", "alice@acme.example", (key,), None),),
        role_members={"ml_lead": ("Alice",)}, config_digest="sha256:" + "0" * 64)
    may_emit = genesis_details(settings, "")["signers"][0]["may_emit"]
    assert set(ROLE_HOLDER_EXTRA) <= set(may_emit) and set(ROTATOR_EXTRA) <= set(may_emit)
