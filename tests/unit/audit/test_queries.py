"""Query answers compared with answers computed independently from the raw events."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit import queries as q
from governance.audit.index import AuditIndex
from governance.errors import NotFound, UsageError
from governance.timeparse import parse_time
from tests.support import oracle
from tests.support.histories import START, SyntheticLedger, generate_entries, seal, ts


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    entries = list(generate_entries(models=12, releases_per_model=8, seed=11))
    index = AuditIndex(tmp_path_factory.mktemp("ix") / "i.sqlite")
    index.catch_up(SyntheticLedger(entries))
    yield entries, index.conn
    index.close()


def _times(entries: list, n: int = 40) -> list[datetime]:
    first = datetime.fromisoformat(entries[1].timestamp)
    last = datetime.fromisoformat(entries[-1].timestamp)
    step = (last - first) / n
    moments = [first + step * i for i in range(n + 2)]
    # exact event instants (ties) too
    moments += [datetime.fromisoformat(e.timestamp) for e in entries[:: max(1, len(entries) // 30)]]
    return moments


def _check_live(entries: list, conn, model: str, env: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    expected = oracle.live(entries, model, env, at)
    if expected is None:
        with pytest.raises(NotFound, match="was live"):
            q.live_release_at(conn, model, env, at)
        return
    got = q.live_release_at(conn, model, env, at)
    assert got.release_id == expected["release"]
    assert got.since == expected["since"]
    assert got.change.seq == expected["seq"]
    assert got.actor_id == expected["actor"]


@pytest.mark.slow
def test_live_matches_the_naive_fold(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    models = sorted({e.event.get("model_name") for e in entries if e.event.get("model_name")})
    for model in models[:6]:
        for env in ("staging", "production"):
            for at in _times(entries):
                _check_live(entries, conn, model, env, at)


def test_rollbacks_are_seen_by_live(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    rollbacks = [e for e in entries if e.event_type == "rollback_executed"]
    assert rollbacks, "generator should produce rollbacks"
    for rb in rollbacks:
        at = datetime.fromisoformat(rb.timestamp)
        got = q.live_release_at(conn, rb.event["model_name"], "production", at)
        assert got.release_id == (rb.event.get("to_release") or None)
        assert got.change.incident == rb.event["incident"]


def test_live_explains_decision_and_actor(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    promo = next(e for e in entries if e.event_type == "deployment_promoted")
    got = q.live_release_at(
        conn,
        promo.event["model_name"],
        promo.event["environment"],
        datetime.fromisoformat(promo.timestamp),
    )
    data = got.to_json()
    assert data["release_id"] == promo.event["release_id"]
    assert data["decision"] == promo.event["decision"]
    assert data["change_event"]["event_id"] == promo.event_id
    assert data["change_event"]["commit"] == promo.commit


def test_unknown_model_and_before_first_deployment(world) -> None:  # type: ignore[no-untyped-def]
    _entries, conn = world
    with pytest.raises(NotFound, match="unknown model 'no-such-model'"):
        q.live_release_at(conn, "no-such-model", "production", datetime.now(UTC))
    with pytest.raises(NotFound, match="its first deployment there is at"):
        q.live_release_at(conn, "fraud-risk", "production", START)
    with pytest.raises(NotFound, match="unknown model"):
        q.history(conn, "no-such-model")


def test_history_is_every_event_of_the_model_in_order(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    for model in ("fraud-risk", "model-0003"):
        got = q.history(conn, model)
        assert [e.seq for e in got] == oracle.history(entries, model)
        kinds = {e.event_type for e in got}
        assert {
            "model_registered",
            "release_registered",
            "gate_evaluated",
            "approval_granted",
            "deployment_promoted",
        } <= kinds
        assert all(q.summary(e) for e in got)


def test_an_indexed_row_is_the_event_its_constructor_builds(world) -> None:  # type: ignore[no-untyped-def]
    """``_indexed`` builds the named tuple in one step (no argument parsing): the same object,
    field for field, as ``IndexedEvent(...)``, and as immutable."""
    import json

    _, conn = world
    for row in conn.execute(f"SELECT {q._EVENT_COLUMNS} FROM events ORDER BY seq LIMIT 50"):
        event = json.loads(row[15])
        fast = q._indexed(row, event)
        slow = q.IndexedEvent(*row[:15], event=event)
        assert type(fast) is type(slow) and fast == slow and repr(fast) == repr(slow)
        assert fast._asdict() == slow._asdict() and fast.event is event
        assert fast.to_json() == slow.to_json()
        with pytest.raises(AttributeError):
            fast.seq = 1  # type: ignore[misc]


def test_every_approval_for_a_model_in_the_last_12_months(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    now = datetime.fromisoformat(entries[-1].timestamp)
    since = parse_time("12mo", now=now)
    got = q.audit_query(
        conn, q.AuditFilter(model="fraud-risk", event_types=("approval_granted",), since=since)
    )
    expected = oracle.query(entries, model="fraud-risk", types=("approval_granted",), since=since)
    assert [e.seq for e in got] == expected and expected


def test_every_rollback_tied_to_an_incident(world) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    incident = next(e.event["incident"] for e in entries if e.event_type == "rollback_executed")
    got = q.audit_query(conn, q.AuditFilter(event_types=("rollback_executed",), incident=incident))
    assert [e.seq for e in got] == oracle.query(
        entries, types=("rollback_executed",), incident=incident
    )
    assert got and all(e.incident == incident for e in got)


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["fraud-risk", "model-0001", "model-0007", "nope"]),
        "types": st.lists(
            st.sampled_from(
                [
                    "approval_granted",
                    "deployment_promoted",
                    "rollback_executed",
                    "config_changed",
                    "release_retired",
                    "break_glass",
                ]
            ),
            min_size=1,
            max_size=3,
            unique=True,
        ).map(tuple),
        "actor": st.sampled_from(["alice", "bob", "governance-ci", "oncall.olga"]),
        "role": st.sampled_from(["ml_lead", "platform_owner", "risk_owner"]),
        "env": st.sampled_from(["staging", "production"]),
        "incident": st.sampled_from(["inc-4001", "inc-4821", "inc-14021"]),
        "since": st.integers(0, 900).map(lambda d: START + timedelta(days=d)),
        "until": st.integers(0, 900).map(lambda d: START + timedelta(days=d)),
    },
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(FILTERS, st.data())
def test_audit_query_matches_naive_filtering(world, filters, data) -> None:  # type: ignore[no-untyped-def]
    entries, conn = world
    if "since" in filters and "until" in filters and filters["since"] > filters["until"]:
        filters["since"], filters["until"] = filters["until"], filters["since"]
    if data.draw(st.booleans()):
        releases = sorted({e.event["release_id"] for e in entries if e.event.get("release_id")})
        filters["release"] = data.draw(st.sampled_from(releases))
    flt = q.AuditFilter(
        model=filters.get("model"),
        event_types=filters.get("types", ()),
        actor=filters.get("actor"),
        role=filters.get("role"),
        environment=filters.get("env"),
        release=filters.get("release"),
        incident=filters.get("incident"),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    got = [e.seq for e in q.audit_query(conn, flt)]
    assert got == oracle.query(entries, **filters)


def test_filter_validation() -> None:
    with pytest.raises(UsageError, match="unknown event type 'approval'"):
        q.AuditFilter(event_types=("approval",))
    with pytest.raises(UsageError, match="after --until"):
        q.AuditFilter(
            since=datetime(2026, 2, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
        )


# Hand-built deployment stories: skewed clocks, re-promotions, switch-off, retirement.
STEP = st.tuples(
    st.sampled_from(["promote", "promote", "break_glass", "rollback", "rollback_off", "retire"]),
    st.integers(0, 3),  # release number
    st.sampled_from(["staging", "production"]),
    st.integers(-400, 3600),  # seconds after the previous event (negative: clock skew)
)


@settings(max_examples=80, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=25), st.lists(st.integers(-500, 60_000), max_size=8))
def test_live_property_on_arbitrary_deployment_stories(steps, probes) -> None:  # type: ignore[no-untyped-def]
    clock = START
    payloads = [
        {
            "event_type": "model_registered",
            "model_name": "m",
            "actor_id": "alice",
            "timestamp": ts(clock),
        }
    ]
    for kind, n, env, gap in steps:
        clock += timedelta(seconds=gap)
        rid = f"m-r{n}"
        base = {"model_name": "m", "environment": env, "actor_id": "bob", "timestamp": ts(clock)}
        if kind == "promote":
            payloads.append(
                {**base, "event_type": "deployment_promoted", "release_id": rid, "to_release": rid}
            )
        elif kind == "break_glass":
            payloads.append(
                {
                    **base,
                    "event_type": "break_glass",
                    "release_id": rid,
                    "incident": "inc-2",
                    "reason": "hotfix",
                }
            )
        elif kind == "rollback":
            payloads.append(
                {
                    **base,
                    "event_type": "rollback_executed",
                    "release_id": "m-r9",
                    "from_release": "m-r9",
                    "to_release": rid,
                    "incident": "inc-1",
                }
            )
        elif kind == "rollback_off":
            payloads.append({**base, "event_type": "rollback_executed", "to_release": None})
        else:
            payloads.append(
                {**base, "event_type": "release_retired", "release_id": rid, "environment": None}
            )
    entries = list(seal(payloads))
    with tempfile.TemporaryDirectory() as tmp, AuditIndex(Path(tmp) / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries))
        for offset in [*probes, 0]:
            for env in ("staging", "production"):
                _check_live(entries, index.conn, "m", env, START + timedelta(seconds=offset))
        for e in entries:
            at = datetime.fromisoformat(e.timestamp)
            _check_live(entries, index.conn, "m", "production", at)


def test_a_retired_live_release_stays_live_and_is_flagged(tmp_path: Path) -> None:
    base = {"model_name": "m", "actor_id": "bob"}
    payloads = [
        {**base, "event_type": "model_registered", "timestamp": "2026-01-01T00:00:00Z"},
        {
            **base,
            "event_type": "deployment_promoted",
            "environment": "production",
            "release_id": "m-1",
            "to_release": "m-1",
            "timestamp": "2026-01-02T00:00:00Z",
        },
        {
            **base,
            "event_type": "release_retired",
            "release_id": "m-1",
            "timestamp": "2026-01-03T00:00:00Z",
        },
    ]
    entries = list(seal(payloads))
    with AuditIndex(tmp_path / "i.sqlite") as index:
        index.catch_up(SyntheticLedger(entries))
        before = q.live_release_at(
            index.conn, "m", "production", parse_time("2026-01-02T12:00:00Z")
        )
        after = q.live_release_at(index.conn, "m", "production", parse_time("2026-01-04"))
    assert before.release_id == after.release_id == "m-1"
    assert before.retired_at is None
    assert after.retired_at == "2026-01-03T00:00:00Z"
    assert after.to_json()["retired_at"] == "2026-01-03T00:00:00Z"
