"""Property: any single-byte change to a stored event is detected, at that event's seq,
even when the attacker re-signs the commit and all later ones with valid keys."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.ledger import layout, verify_repo
from tests.integration.ledger import forge
from tests.integration.ledger.conftest import Ledger


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_change_is_detected(ledger: Ledger, data: st.DataObject) -> None:
    root: Path = ledger.root
    shas = forge.chain(root)
    seq = data.draw(st.integers(min_value=1, max_value=len(shas) - 1), label="seq")
    stored = forge.event_bytes(root, seq)
    pos = data.draw(st.integers(min_value=0, max_value=len(stored) - 1), label="offset")
    new = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != stored[pos]),
                    label="byte")
    changed = stored[:pos] + bytes([new]) + stored[pos + 1 :]
    keys = ledger.signing_keys()
    path = layout.event_path(seq)

    spec = forge.spec_of(root, shas[seq])
    spec.tree = forge.edit_tree(root, spec.tree, {path: changed})
    head = forge.write_commit(root, spec, keys[spec.email])  # validly re-signed
    tip = forge.replay(root, shas[seq + 1 :], head, keys,
                       lambda _sha, tree: forge.edit_tree(root, tree, {path: changed}))
    forge.set_tip(root, tip)
    try:
        report = verify_repo(root)
        assert report.failure is not None, f"byte {pos} of seq {seq} changed undetected"
        assert report.failure.seq == seq, report.failure
    finally:
        forge.set_tip(root, shas[-1])
