"""``timeline`` (what ``history`` answers with: tuples) is ``history`` (dataclasses) field by
field, with the same JSON and the same one-line summary, for every model of a generated
history (rollbacks, break-glass, denials, retirements included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from governance.audit import queries as q
from governance.audit.index import AuditIndex
from governance.errors import NotFound
from tests.support.histories import SyntheticLedger, generate_entries


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    entries = list(generate_entries(models=6, releases_per_model=8, seed=29))
    index = AuditIndex(tmp_path_factory.mktemp("ix") / "i.sqlite")
    index.catch_up(SyntheticLedger(entries))
    yield index.conn
    index.close()


def test_the_timeline_is_the_history_field_by_field(conn: Any) -> None:
    models = [m for (m,) in conn.execute("SELECT DISTINCT model FROM events "
                                         "WHERE model IS NOT NULL ORDER BY model")]
    assert len(models) == 6
    kinds: set[str] = set()
    for model in models:
        slow, fast = q.history(conn, model), q.timeline(conn, model)
        assert len(fast) == len(slow) > 0
        for a, b in zip(slow, fast, strict=True):
            assert isinstance(b, q.IndexedRow)
            assert q.IndexedRow._fields == tuple(f for f in a.__dataclass_fields__)
            assert tuple(getattr(a, f) for f in q.IndexedRow._fields) == tuple(b)
            assert a.to_json() == b.to_json()
            assert q.summary(a) == q.summary(b)
            kinds.add(b.event_type)
    assert {"deployment_promoted", "rollback_executed", "gate_evaluated"} <= kinds


def test_an_unknown_model_has_no_timeline(conn: Any) -> None:
    with pytest.raises(NotFound, match="unknown model 'no-such-model'"):
        q.timeline(conn, "no-such-model")
