from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.ledger.canonical import NonCanonical, canonical_bytes, parse_canonical
from governance.ledger.merkle import (
    CompactRange,
    compact_from,
    compact_stack,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10)


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_canonical_round_trip(value: dict[str, object]) -> None:
    data = canonical_bytes(value)
    assert parse_canonical(data) == value
    assert canonical_bytes(parse_canonical(data)) == data


def test_canonical_form_is_sorted_compact_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": "é", "c": [1, 2.5]}) == (
        '{"a":"é","b":1,"c":[1,2.5]}'.encode())


@pytest.mark.parametrize("data,reason", [
    (b'{"a":1,"a":1}', "duplicate key 'a'"),
    (b'{"b":1,"a":2}', "differ from the canonical form at offset 2"),
    (b'{"a": 1}', "differ from the canonical form"),
    (b'{"a":"\\u00e9"}', "differ from the canonical form"),
    (b'[1]', "not a JSON object"),
    (b'{"a":NaN}', "non-finite"),
    (b'\xff', "not UTF-8"),
    (b'{"a":', "not JSON"),
    # issue 16: a forged event 100,000 levels deep was a RecursionError, an internal error
    (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    (b'{"a":' + b"9" * 5000 + b"}", "not JSON: Exceeds the limit"),
])
def test_non_canonical_rejected_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(NonCanonical, match=None) as caught:
        parse_canonical(data)
    assert reason in caught.value.reason


def test_non_finite_numbers_cannot_be_stored() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        canonical_bytes({"x": [float("inf")]})


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1 written the slow, obvious way."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_rfc6962_hash_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


def test_compact_range_and_proofs_for_every_size_up_to_40() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(40)]
    cr = CompactRange()
    for n in range(1, 41):
        cr.append(leaves[n - 1])
        tree = leaves[:n]
        assert cr.root() == root(tree) == _reference_root(tree)
        restored = compact_from(n, compact_stack(cr))
        assert restored.root() == cr.root()
        for i in range(n):
            proof = inclusion_proof(i, tree)
            assert verify_inclusion(i, n, tree[i], proof, root(tree))
            assert not verify_inclusion(i, n, leaf_hash(b"other"), proof, root(tree))
        for m in range(1, n + 1):
            proof = consistency_proof(m, tree)
            assert verify_consistency(m, n, root(leaves[:m]), root(tree), proof)
            if m < n:
                assert not verify_consistency(m, n, leaf_hash(b"x"), root(tree), proof)
                assert not verify_consistency(m, n, root(leaves[:m]), leaf_hash(b"x"), proof)
