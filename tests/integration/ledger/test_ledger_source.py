"""The query index and sinks read the real git ledger through the verified reader."""

from __future__ import annotations

from governance.audit.index import open_index
from governance.audit.queries import live_release_at
from governance.ledger import entries
from governance.ledger.verified import VerifiedLedger
from governance.service import open_ledger as read_ledger
from governance.timeparse import parse_time
from tests.integration.ledger.conftest import Ledger


def test_head_and_incremental_entries(ledger: Ledger) -> None:
    source = read_ledger(ledger.root)
    assert isinstance(source, VerifiedLedger)
    every = list(entries(ledger.root))
    head = source.head()
    assert head is not None and (head.seq, head.commit) == (every[-1].seq, every[-1].commit)
    assert [e.seq for e in source.entries(0)] == [e.seq for e in every]
    assert [e.seq for e in source.entries(4)] == [e.seq for e in every if e.seq >= 4]
    assert list(source.entries(head.seq + 1)) == []


def test_index_catches_up_from_the_git_ledger(ledger: Ledger) -> None:
    source = read_ledger(ledger.root)
    with open_index(ledger.root, source) as index:
        live = live_release_at(index.conn, "fraud-risk", "staging",
                               parse_time("2100-01-01T00:00:00Z"))
        assert live.release_id == "r1"
    ledger.append("release_retired", as_="jane.smith", model_name="fraud-risk", release_id="r2",
                  reason="superseded")
    with open_index(ledger.root, source) as index:
        state = index.state()
        head = source.head()
        assert state is not None and head is not None and state.seq == head.seq


def test_an_event_id_reused_after_the_verified_prefix_is_refused(ledger: Ledger) -> None:
    # catching up checks event ids against the verified chain: an id first used at or before
    # the verified head fails, with where it was used
    import json

    import pytest

    from governance.ledger.verified import LedgerTampered
    from tests.integration.ledger import forge

    with VerifiedLedger(ledger.root) as verified:
        head = verified.catch_up()
    assert head is not None
    first = json.loads(forge.event_bytes(ledger.root, 1))["event_id"]
    ledger.append("model_registered", model_name="fresh-one")
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), {"event_id": first})
    with VerifiedLedger(ledger.root) as verified, pytest.raises(LedgerTampered) as caught:
        verified.catch_up()
    assert caught.value.failure.seq == head.seq + 2
    assert f"duplicate event_id {first} (first used at seq 1)" in caught.value.failure.reason
    # the verified prefix of that run (up to "fresh-one") is kept: reusing its id fails too
    forge.set_tip(ledger.root, forge.chain(ledger.root)[-2])
    again = json.loads(forge.event_bytes(ledger.root, head.seq + 1))["event_id"]
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), {"event_id": again})
    with VerifiedLedger(ledger.root) as verified, pytest.raises(LedgerTampered) as caught:
        verified.catch_up()
    assert f"duplicate event_id {again} (first used at seq {head.seq + 1})" in \
        caught.value.failure.reason


def test_an_event_id_reused_under_a_trailer_naming_another_is_refused(ledger: Ledger) -> None:
    # catching up looks the new commits' event ids up in one query, by the ids their
    # Ledger-Event-Id trailers name: an event whose own id differs from its trailer's is looked
    # up on its own, and a reused id is still refused as a duplicate
    import json

    import pytest

    from governance.ledger.canonical import canonical_bytes
    from governance.ledger.events import utc_timestamp, uuid7
    from governance.ledger.verified import LedgerTampered
    from tests.integration.ledger import forge

    with VerifiedLedger(ledger.root) as verified:
        head = verified.catch_up()
    assert head is not None
    first = json.loads(forge.event_bytes(ledger.root, 1))["event_id"]
    prev = forge.sha256_hex(forge.event_bytes(ledger.root, head.seq))
    reused = canonical_bytes({"event_type": "model_registered", "model_name": "fraud-risk",
                              "actor_id": "jane.smith", "event_id": first,
                              "timestamp": utc_timestamp(), "seq": head.seq + 1, "prev": prev})
    forge.append_raw(ledger.root, ledger.signer("jane.smith"), {"event_id": uuid7()},
                     stored=reused)
    with VerifiedLedger(ledger.root) as verified, pytest.raises(LedgerTampered) as caught:
        verified.catch_up()
    assert caught.value.failure.seq == head.seq + 1
    assert f"duplicate event_id {first} (first used at seq 1)" in caught.value.failure.reason
