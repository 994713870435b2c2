"""Trust folding: validity windows by seq, rotation semantics, defaults, serialisation."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.ledger.sshsig import public_key_of
from governance.ledger.trust import (
    PERSON_DEFAULT,
    ROLE_HOLDER_EXTRA,
    Trust,
    TrustError,
    default_may_emit,
    trust_from_json,
    trust_to_json,
)


def _line() -> str:
    return public_key_of(Ed25519PrivateKey.generate()).line


def _blob(line: str) -> bytes:
    return base64.b64decode(line.split()[1])


def _genesis(k1: str) -> Trust:
    return Trust.from_genesis({
        "origin": "o", "checkpoint_every": 10, "clock_skew_seconds": 60, "rotators": ["jane"],
        "log_keys": [_line()],
        "signers": [{"principal": "jane", "kind": "person", "name": "Jane", "email": "j@x",
                     "keys": [k1], "may_emit": ["model_registered"]}]})


def test_retired_key_is_valid_before_and_refused_after() -> None:
    k1, k2 = _line(), _line()
    trust = _genesis(k1)
    trust.apply_rotation({"changes": [{"op": "add_key", "principal": "jane", "key": k2},
                                      {"op": "retire_key", "principal": "jane", "key": k1}]}, 5)
    assert trust.principal_for(_blob(k1), 5).principal == "jane"  # the rotation itself
    with pytest.raises(TrustError, match="retired at seq 6"):
        trust.principal_for(_blob(k1), 6)
    with pytest.raises(TrustError, match="valid only from seq 6"):
        trust.principal_for(_blob(k2), 5)
    assert trust.principal_for(_blob(k2), 6).principal == "jane"
    with pytest.raises(TrustError, match="unknown signing key SHA256:"):
        trust.principal_for(_blob(_line()), 6)


def test_rotation_errors_and_rotator_rule() -> None:
    trust = _genesis(_line())
    with pytest.raises(TrustError, match="unknown principal"):
        trust.apply_rotation({"changes": [{"op": "add_key", "principal": "eve",
                                           "key": _line()}]}, 1)
    with pytest.raises(TrustError, match="not a live key"):
        trust.apply_rotation({"changes": [{"op": "retire_key", "principal": "jane",
                                           "key": _line()}]}, 1)
    jane = trust.signers["jane"]
    assert trust.may_emit(jane, "key_rotated")  # rotators rotate
    assert not trust.may_emit(jane, "approval_granted")
    trust.apply_rotation({"changes": [{"op": "set_rotators", "rotators": []}]}, 2)
    assert not trust.may_emit(jane, "key_rotated")


def test_state_round_trips_through_json() -> None:
    k1 = _line()
    trust = _genesis(k1)
    trust.apply_rotation({"changes": [{"op": "retire_key", "principal": "jane", "key": k1}]}, 3)
    again = trust_from_json(trust_to_json(trust))
    assert trust_to_json(again) == trust_to_json(trust)
    assert again.allowed_signers() == trust.allowed_signers()
    assert "# jane: retired from seq 4" in trust.allowed_signers()


def test_default_authority() -> None:
    assert default_may_emit("p", "person", None, False, False) == list(PERSON_DEFAULT)
    in_role = default_may_emit("p", "person", None, True, False)
    assert set(ROLE_HOLDER_EXTRA) <= set(in_role)
    # a person who may promote also records the gate decision `promote` appends first
    assert {"gate_evaluated", "deployment_promoted", "break_glass"} <= set(in_role)
    assert default_may_emit("ci", "bot", None, False, False) == []
    assert default_may_emit("ci", "bot", ["gate_evaluated"], False, False) == ["gate_evaluated"]
    assert "key_rotated" in default_may_emit("p", "person", None, False, True)
