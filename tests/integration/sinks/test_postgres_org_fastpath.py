"""The cheaper row checks of the organisation answers refuse what the strict ones refused, and
"live at T" asked of PostgreSQL (only the rows that decide the answer) equals the full fold of
every event (real PostgreSQL; generated histories with promotions, break-glass, rollbacks and
retirements)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from governance.audit.org import (
    OrgSource,
    _event_object,
    _included,
    _same_instant,
    clear_verified_memo,
)
from governance.audit.queries import AuditFilter
from governance.errors import Tampered
from governance.ledger.merkle import inclusion_proof, root
from governance.sinks.postgres_org import EVENTS
from governance.timeparse import parse_instant
from tests.support import oracle
from tests.support.org import (
    SyntheticOrigin,
    edit_as_superuser,
    make_origin,
)

pytestmark = pytest.mark.postgres
ENVIRONMENTS = ("staging", "production")


# -- the fast paths, alone ---------------------------------------------------------------------


def test_same_instant_fast_path_accepts_exactly_the_strict_answers() -> None:
    t = datetime(2025, 7, 16, 10, 34, 4, tzinfo=UTC)
    assert _same_instant("2025-07-16T10:34:04Z", t)
    assert _same_instant("2025-07-16T12:34:04+02:00", t)  # the strict path
    assert _same_instant("2025-07-16T10:34:04Z", t.astimezone(UTC).astimezone())
    for column in (t + timedelta(microseconds=500_000), t + timedelta(hours=1),
                   t - timedelta(seconds=1), t.replace(tzinfo=None)):
        assert not _same_instant("2025-07-16T10:34:04Z", column), column
    assert not _same_instant("2025-07-16T10:34:04Z", "2025-07-16T10:34:04Z")
    # texts of (nearly) the ledger's shape: the answer is the strict parser's
    for text in ("2025-07-16T10:34:60Z", "2025-13-16T10:34:04Z", "2025-07-16T1a:34:04Z",
                 "+025-07-16T10:34:04Z", "2025-07-16T10:34:4 Z", "2025-07-16 10:34:04Z",
                 "2025-07-16t10:34:04z", "2025-07-16T10:34:04.0Z", "2025-07-16T10:34:04"):
        try:
            strict = parse_instant(text) == t
        except ValueError:
            strict = False
        assert _same_instant(text, t) is strict, text


def test_event_object_is_json_loads_for_objects_only() -> None:
    assert _event_object(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert _event_object(b' {"a": 1}\n') == {"a": 1}  # json.loads' own whitespace rule
    assert _event_object('{"a": "\u00e9"}'.encode()) == {"a": "\u00e9"}
    for stored in (b'{"a": 1} x', b'{"a": 1}{"b": 2}', b"[1, 2]", b'"a"', b"", b"{",
                   b"\xff\xfe", b'{"a": NaNx}'):
        assert _event_object(stored) is None, stored


def test_included_takes_the_proof_column_bytes() -> None:
    leaves = [bytes([i]) * 32 for i in range(13)]
    top = root(leaves)
    for i in range(13):
        column = b"".join(inclusion_proof(i, leaves))
        assert _included(i, 13, leaves[i], column, top, {})
        assert not _included(i, 13, leaves[i], column + b"\x00", top, {})  # not 32-byte hashes
        assert not _included(i, 13, leaves[i], column[:-32], top, {})
        assert not _included(i, 13, b"\xee" * 32, column, top, {})


def test_included_decomposed_walk_equals_the_reference_on_every_shape() -> None:
    """The decomposed walk (proof length checked before hashing, the walk stops at a proven
    node) accepts exactly the reference proofs and refuses every single-hash forgery, a proof
    a hash too long or too short, a wrong leaf and a neighbour's proof, for every index of
    trees of 1..70 leaves and a few larger ones, with and without remembered nodes."""
    import hashlib
    import random

    from governance.ledger.merkle import verify_inclusion

    rng = random.Random(11)
    for n in [*range(1, 71), 100, 257, 1000]:
        leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
        top = root(leaves)
        nodes: dict[tuple[int, int], bytes] = {}
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            proof = inclusion_proof(i, leaves)
            assert verify_inclusion(i, n, leaves[i], proof, top)
            assert _included(i, n, leaves[i], proof, top)
            assert not _included(i, n, leaves[i], [*proof, b"\0" * 32], top, nodes)
            assert not _included(i, n, b"\1" * 32, proof, top, nodes)
            if i + 1 < n:
                assert not _included(i + 1, n, leaves[i], proof, top)
            for j in range(len(proof)):
                forged = list(proof)
                forged[j] = b"\xfd" * 32
                assert not _included(i, n, leaves[i], forged, top), (n, i, j)
            if proof:
                assert not _included(i, n, leaves[i], proof[:-1], top, nodes)
            assert _included(i, n, leaves[i], b"".join(proof), top, nodes), (n, i)
        assert not _included(n, n, leaves[0], [], top, nodes)


# -- on PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def origins() -> list[SyntheticOrigin]:
    return [make_origin("example.com/fast-a/models", 1),
            make_origin("example.com/fast-b/models", 3)]


def _instants(o: SyntheticOrigin) -> list[datetime]:
    times = sorted({datetime.fromisoformat(e.timestamp) for e in o.ledger.items})
    return [times[0] - timedelta(days=1), *times[::7], times[-1]]


def test_live_everywhere_equals_the_full_fold(exported, origins) -> None:  # type: ignore[no-untyped-def]
    _admin, writer, trust = exported
    decided_by: set[str] = set()
    with OrgSource(writer, trust, trust.require([])) as src:
        for env in ENVIRONMENTS:
            for at in sorted({t for o in origins for t in _instants(o)}):
                answer = src.live_everywhere(env, at)
                got = {(e.origin, e.event.model): e.live_release for e in answer}
                expected = {}
                for o in origins:
                    for model in {str(e.event["model_name"]) for e in o.ledger.items
                                  if e.event.get("model_name")}:
                        state = oracle.live(o.ledger.items, model, env, at)
                        if state is not None:
                            expected[(o.origin, model)] = state["release"]
                assert got == expected, (env, at)
                decided_by.update(e.event.event_type for e in answer)
    # the instants cover answers decided by each kind of deployment change
    assert {"deployment_promoted", "break_glass", "rollback_executed"} <= decided_by


def test_live_per_model_equals_the_full_fold(exported, origins) -> None:  # type: ignore[no-untyped-def]
    """`audit live MODEL --env E --at T --source ...`: release, since and retirement per origin,
    against the fold of every event (oracle) and the first retirement at or before T. (The
    generated histories retire releases after they stopped being live: the answers asked after
    a retirement must not report it on the live release.)"""
    _admin, writer, trust = exported
    checked = 0
    after_retirement = 0
    with OrgSource(writer, trust, trust.require([])) as src:
        for o in origins:
            events = [json.loads(e.stored) for e in o.ledger.items]
            models = sorted({str(e["model_name"]) for e in events if e.get("model_name")})
            for env, model, at in itertools.product(ENVIRONMENTS, models, _instants(o)[1::3]):
                state = oracle.live(o.ledger.items, model, env, at)
                if state is None:
                    continue
                answers = dict(src.live_release_at(model, env, at))
                live = answers[o.origin]
                assert (live.release_id, live.since) == (state["release"], state["since"])
                retired = next((e["timestamp"] for e in events
                                if e["event_type"] == "release_retired"
                                and e.get("release_id") == state["release"]
                                and datetime.fromisoformat(e["timestamp"]) <= at), None)
                assert live.retired_at == retired, (model, env, at)
                after_retirement += any(
                    e["event_type"] == "release_retired" and e.get("model_name") == model
                    and datetime.fromisoformat(e["timestamp"]) <= at for e in events)
                checked += 1
    assert checked > 20 and after_retirement > 5


@pytest.mark.parametrize(("edit", "reason"), [
    # the ledger's own timestamp form goes through the fast path: half a second off is refused
    ("UPDATE {t} SET event_time = event_time + interval '0.5 second' "
     "WHERE origin = %s AND seq = %s", "column event_time"),
    ("UPDATE {t} SET event_time = event_time - interval '1 hour' "
     "WHERE origin = %s AND seq = %s", "column event_time"),
    ("UPDATE {t} SET proof = substring(proof from 33) WHERE origin = %s AND seq = %s",
     "inclusion proof"),
    ("UPDATE {t} SET model = model || 'x' WHERE origin = %s AND seq = %s", "column model_name"),
    ("UPDATE {t} SET stored = stored || ' '::bytea WHERE origin = %s AND seq = %s",
     "hashes to leaf"),
])
def test_a_tampered_row_is_refused_cold(exported, origins, edit, reason) -> None:  # type: ignore[no-untyped-def]
    admin, writer, trust = exported
    target = origins[1]
    seq = next(e.seq for e in target.ledger.items if e.event_type == "approval_granted")
    edit_as_superuser(admin, edit.format(t=EVENTS), target.origin, seq)
    with OrgSource(writer, trust, trust.require([])) as src, \
            pytest.raises(Tampered, match=f"origin {target.origin} seq {seq}: .*{reason}"):
        src.audit_query(AuditFilter(event_types=("approval_granted",)))


def test_live_refuses_a_tampered_row_inside_the_stretch(exported, origins) -> None:  # type: ignore[no-untyped-def]
    """The stretch of a live release rests on every change in it and the change before it: a
    row in the middle whose release was edited is refused, not skipped over."""
    admin, writer, trust = exported
    o = origins[0]
    for env, model in itertools.product(ENVIRONMENTS, sorted(
            {str(e.event["model_name"]) for e in o.ledger.items if e.event.get("model_name")})):
        deploys = [e for e in o.ledger.items if e.event.get("model_name") == model
                   and e.event.get("environment") == env
                   and e.event_type in ("deployment_promoted", "break_glass",
                                        "rollback_executed")]
        if len(deploys) >= 3:
            break
    else:
        pytest.fail("no model with three deployment changes in the generated history")
    at = datetime.fromisoformat(deploys[-1].timestamp)
    middle = deploys[-2].seq
    with OrgSource(writer, trust, trust.require([o.origin])) as src:
        src.live_release_at(model, env, at)  # verified before the edit
    clear_verified_memo()
    edit_as_superuser(
        admin, f"UPDATE {EVENTS} SET live_release = 'forged' WHERE origin = %s AND seq = %s",
        o.origin, middle)
    with OrgSource(writer, trust, trust.require([o.origin])) as src, \
            pytest.raises(Tampered, match=f"origin {o.origin} seq {middle}"):
        src.live_release_at(model, env, at)



def test_a_proof_of_the_wrong_length_is_refused_after_a_proven_node() -> None:
    """A walk that meets a node an earlier row proved does not hash the rest of the path, but a
    proof with a hash too many or too few is still refused; a forged hash below the proven node
    is refused as before."""
    import random

    rng = random.Random(7)
    for n in (2, 3, 5, 13, 16, 37, 100, 257):
        leaves = [bytes([i % 256, i // 256]) * 16 for i in range(n)]
        top = root(leaves)
        nodes: dict[tuple[int, int], bytes] = {}
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            proof = inclusion_proof(i, leaves)
            assert not _included(i, n, leaves[i], [*proof, b"\xfd" * 32], top, nodes), (n, i)
            if proof:
                assert not _included(i, n, leaves[i], proof[:-1], top, nodes), (n, i)
                forged = [b"\xfd" * 32, *proof[1:]]
                assert not _included(i, n, leaves[i], forged, top, nodes), (n, i)
            assert _included(i, n, leaves[i], b"".join(proof), top, nodes), (n, i)


def test_the_collector_pause_ends_with_the_answer(exported, origins, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A large answer verifies with the cyclic collector paused; it runs again afterwards,
    whether the answer was given or refused."""
    import gc

    from governance.audit import org

    admin, writer, trust = exported
    monkeypatch.setattr(org, "_GC_PAUSE_ROWS", 0)
    seen: list[bool] = []
    together = OrgSource._verified_together  # the checks of every row at once, then each

    def spy(self, rows, remember):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return together(self, rows, remember)

    monkeypatch.setattr(OrgSource, "_verified_together", spy)
    assert gc.isenabled()
    with OrgSource(writer, trust, trust.require([])) as src:
        assert src.audit_query(AuditFilter(event_types=("approval_granted",)))
    assert seen and not any(seen) and gc.isenabled()
    target = origins[0]
    seq = next(e.seq for e in target.ledger.items if e.event_type == "approval_granted")
    edit_as_superuser(
        admin, f"UPDATE {EVENTS} SET actor_id = 'mallory' WHERE origin = %s AND seq = %s",
        target.origin, seq)
    clear_verified_memo()
    with OrgSource(writer, trust, trust.require([])) as src, pytest.raises(Tampered):
        src.audit_query(AuditFilter(event_types=("approval_granted",)))
    assert gc.isenabled()


def test_verified_rows_are_the_objects_the_constructors_build(exported) -> None:  # type: ignore[no-untyped-def]
    """The verified rows are built without the constructors' argument handling: they are
    equal, field for field, to the ones IndexedEvent(...) and OrgEvent(...) build, and each
    field holds what the verified event says (the row's values are placed by position)."""
    import hashlib

    from governance.audit.org import OrgEvent
    from governance.audit.queries import IndexedEvent
    from governance.ledger.canonical import canonical_bytes
    from governance.ledger.columns import text_columns

    _admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        answer = [*src.audit_query(AuditFilter()), *src.live_everywhere("production",
                                                                         datetime.now(UTC))]
    assert answer
    for e in answer:
        built = OrgEvent(e.origin, IndexedEvent(**e.event._asdict()), e.checkpoint_size,
                         e.live_release)
        assert type(e.event) is IndexedEvent and e == built and vars(e) == vars(built)
        assert e.event._asdict() == built.event._asdict()
        assert repr(e) == repr(built)
        ev = e.event
        said = ev.event
        assert (ev.seq, ev.event_id, ev.event_type, ev.timestamp) == (
            said["seq"], said["event_id"], said["event_type"], said["timestamp"])
        assert (ev.model, ev.release_id, ev.environment, ev.actor_id, ev.actor_role,
                ev.incident, ev.from_release, ev.to_release) == text_columns(said)
        assert ev.leaf_hash == hashlib.sha256(b"\x00" + canonical_bytes(said)).hexdigest()
        assert len(ev.commit) == 40 and ev.checkpoint is None


def test_answers_ordered_here_are_in_the_servers_order(exported) -> None:  # type: ignore[no-untyped-def]
    """Without a limit the rows are ordered by the reader, not the server (no sort of wide rows
    there); with one the server orders them. Both orders are the same."""
    _admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        for flt in (AuditFilter(), AuditFilter(event_types=("approval_granted",)),
                    AuditFilter(model="fraud-risk")):
            here = [(e.origin, e.event.seq) for e in src.audit_query(flt)]
            limited = AuditFilter(**{**vars(flt), "limit": 10**6})
            there = [(e.origin, e.event.seq) for e in src.audit_query(limited)]
            assert here == there and len(here) > 10, flt
            times = [(parse_instant(e.event.timestamp), e.origin, e.event.seq)
                     for e in src.audit_query(flt)]
            assert times == sorted(times)
        history = [(e.origin, e.event.seq) for e in src.history("fraud-risk")]
        assert history == sorted(history)


def test_live_everywhere_refuses_a_deployment_row_without_its_model(exported, origins) -> None:  # type: ignore[no-untyped-def]
    """The rows are ordered by (origin, model) before they are verified: a forged NULL model is
    refused as tampered, not a crash of the sort."""
    admin, writer, trust = exported
    o = origins[0]
    seq = next(e.seq for e in o.ledger.items if e.event_type == "deployment_promoted"
               and e.event.get("environment") == "production")
    edit_as_superuser(admin, f"UPDATE {EVENTS} SET model = NULL WHERE origin = %s AND seq = %s",
          o.origin, seq)
    at = datetime.fromisoformat(o.ledger.items[seq].timestamp)
    with OrgSource(writer, trust, trust.require([])) as src, \
            pytest.raises(Tampered, match=f"origin {o.origin} seq {seq}: column model_name"):
        src.live_everywhere("production", at)
