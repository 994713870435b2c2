"""``governance.ledger.rotation.trust_changes``: the key_rotated ops from the ledger's trust to
a configuration. Applying them (``Trust.apply_rotation``, what verify folds) must reach a trust
with nothing left to change, whatever was edited; retired keys keep their past validity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger.rotation import describe, trust_changes
from governance.ledger.settings import Identity, LedgerSettings
from governance.ledger.sshsig import parse_public_key, public_key_of
from governance.ledger.trust import ROLE_HOLDER_EXTRA, Trust, TrustError, genesis_details

ENVS = (("staging", None, ("ml_lead",)), ("production", "staging", ("ml_lead", "risk_owner")))


def key() -> str:
    return public_key_of(Ed25519PrivateKey.generate()).line


def person(ident: str, *keys: str) -> Identity:
    return Identity(ident, "person", ident.title(), f"{ident}@example.com", keys, None)


def settings(*people: Identity, roles: dict[str, tuple[str, ...]] | None = None,
             rotators: tuple[str, ...] = ("alice",),
             envs: tuple[tuple[str, str | None, tuple[str, ...]], ...] = ENVS) -> LedgerSettings:
    return LedgerSettings(branch="governance/ledger", origin="example.com/acme/models",
                          checkpoint_every=100, log_public_key=None, rotators=rotators,
                          clock_skew_seconds=300, identities=people,
                          role_members=roles if roles is not None else {
                              "ml_lead": ("alice",), "risk_owner": ("bob",)},
                          config_digest="sha256:" + "0" * 64, environments=envs)


ALICE, BOB = person("alice", key()), person("bob", key())
BASE = settings(ALICE, BOB)


def genesis(s: LedgerSettings = BASE) -> Trust:
    return Trust.from_genesis(genesis_details(s, ""))


def converge(trust: Trust, target: LedgerSettings, seq: int = 5) -> list[dict[str, Any]]:
    changes = trust_changes(trust, target)
    if changes:
        trust.apply_rotation({"changes": changes}, seq)
    return changes


def test_no_change_means_no_ops() -> None:
    assert trust_changes(genesis(), BASE) == []


CAROL = person("carol", key())
EDITS = {
    "add a person with a role": settings(ALICE, BOB, CAROL, roles={
        "ml_lead": ("alice",), "risk_owner": ("bob", "carol")}),
    "remove a person": settings(ALICE, roles={"ml_lead": ("alice",), "risk_owner": ()}),
    "add a key": settings(ALICE, replace(BOB, signing_keys=(*BOB.signing_keys, key()))),
    "replace a key": settings(ALICE, replace(BOB, signing_keys=(key(),))),
    "rename": settings(ALICE, replace(BOB, name="Robert", email="robert@example.com")),
    "new rotator": settings(ALICE, BOB, rotators=("alice", "bob")),
    "environment order": settings(ALICE, BOB, envs=(("staging", None, ("ml_lead",)),)),
}


@pytest.mark.parametrize("target", EDITS.values(), ids=EDITS.keys())
def test_applying_the_changes_converges(target: LedgerSettings) -> None:
    trust = genesis()
    changes = converge(trust, target)
    assert changes and all(describe(c) for c in changes)
    assert trust_changes(trust, target) == []


def test_joining_a_role_grants_its_event_types() -> None:
    trust = genesis()
    target = settings(ALICE, BOB, roles={"ml_lead": ("alice", "bob"), "risk_owner": ("bob",)})
    converge(trust, target)
    assert trust.signers["bob"].may_emit >= set(ROLE_HOLDER_EXTRA)


def test_a_replaced_key_stays_valid_before_the_rotation_only() -> None:
    trust = genesis()
    old = parse_public_key(BOB.signing_keys[0])
    new_key = key()
    changes = converge(trust, settings(ALICE, replace(BOB, signing_keys=(new_key,))), seq=7)
    assert [c["op"] for c in changes] == ["retire_key", "add_key"]
    assert trust.principal_for(old.blob, 7).principal == "bob"  # events up to the rotation
    with pytest.raises(TrustError, match="retired at seq 8"):
        trust.principal_for(old.blob, 8)
    assert trust.principal_for(parse_public_key(new_key).blob, 8).principal == "bob"


def test_a_removed_persons_keys_are_refused_afterwards() -> None:
    trust = genesis()
    changes = converge(trust, settings(ALICE, roles={"ml_lead": ("alice",), "risk_owner": ()}))
    assert {"op": "remove_signer", "principal": "bob"} in changes
    assert {"op": "set_role_members", "role": "risk_owner", "members": []} in changes
    with pytest.raises(TrustError):
        trust.principal_for(parse_public_key(BOB.signing_keys[0]).blob, 6)
