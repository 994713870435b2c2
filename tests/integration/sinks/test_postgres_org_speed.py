"""What makes the organisation answers fast must not make them less verified: the indexes the
export creates serve the questions, checkpoints are fetched once per answer, and the process
memo of verified rows is used only for rows that are byte-for-byte and column-for-column the
ones verified (real PostgreSQL)."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

from governance.audit.org import OrgSource, OrgTrust, clear_verified_memo, load_org_trust
from governance.audit.queries import AuditFilter
from governance.errors import Tampered
from governance.sinks.postgres_org import CHECKPOINTS, EVENTS, export_origin, install_org_schema
from tests.support.org import SyntheticOrigin, edit_as_superuser, make_origin, write_trust
from tests.support.postgres import WRITER, PgServer

pytestmark = pytest.mark.postgres
_n = itertools.count()


@pytest.fixture(scope="module")
def origins() -> list[SyntheticOrigin]:
    return [make_origin("example.com/speed-a/models", 11),
            make_origin("example.com/speed-b/models", 12)]


@pytest.fixture
def exported(org_db: tuple[str, str], origins: list[SyntheticOrigin],
             tmp_path: Path) -> tuple[str, str, OrgTrust]:
    admin, writer = org_db
    for o in origins:
        assert export_origin(writer, o.ledger, o.checkpoint(), batch=60).exported \
            == len(o.ledger.items)
    clear_verified_memo()
    return admin, writer, load_org_trust(write_trust(tmp_path / "trust.yaml", origins))


def _approvals(src: OrgSource) -> list[str]:
    src._checkpoints.clear()  # a new answer: its checkpoints are read and checked again
    return [f"{e.origin}:{e.event.seq}:{e.event.actor_id}:{e.event.commit}"
            for e in src.audit_query(AuditFilter(event_types=("approval_granted",)))]


def test_a_repeated_answer_reuses_verified_rows(exported) -> None:  # type: ignore[no-untyped-def]
    _admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        first = _approvals(src)
        assert first and src.remembered_rows == 0 and src.verified_rows == len(first)
        assert _approvals(src) == first
        assert src.remembered_rows == len(first)  # every row matched a remembered one
        assert src.verified_rows == 2 * len(first)
    clear_verified_memo()
    with OrgSource(writer, trust, trust.require([])) as src:
        assert _approvals(src) == first and src.remembered_rows == 0


@pytest.mark.parametrize("edit, reason", [
    ("UPDATE {t} SET actor_id = 'mallory' WHERE origin = %s AND seq = %s",
     "column actor_id is 'mallory'"),
    ("UPDATE {t} SET stored = convert_to(replace(convert_from(stored, 'UTF8'), 'approval', "
     "'approval '), 'UTF8') WHERE origin = %s AND seq = %s", "hashes to leaf"),
    ("UPDATE {t} SET proof = substring(proof from 33) || substring(proof for 32) "
     "WHERE origin = %s AND seq = %s", "inclusion proof"),
    ("UPDATE {t} SET event_time = event_time + interval '1 second' "
     "WHERE origin = %s AND seq = %s", "column event_time"),
])
def test_a_row_edited_after_it_was_verified_is_refused(exported, origins, edit, reason) -> None:  # type: ignore[no-untyped-def]
    admin, writer, trust = exported
    target = origins[1]
    seq = next(e.seq for e in target.ledger.items if e.event_type == "approval_granted")
    with OrgSource(writer, trust, trust.require([])) as src:
        _approvals(src)  # every row verified and remembered
        edit_as_superuser(admin, edit.format(t=EVENTS), target.origin, seq)
        with pytest.raises(Tampered) as caught:
            _approvals(src)
    assert f"origin {target.origin} seq {seq}" in caught.value.message
    assert reason in caught.value.message


def test_an_unverified_column_edit_shows_in_the_next_answer(exported, origins) -> None:  # type: ignore[no-untyped-def]
    """The ledger commit column is shown, not derived from the event: a remembered row with
    another commit is not reused (the answer shows what the table holds now)."""
    admin, writer, trust = exported
    target = origins[0]
    seq = next(e.seq for e in target.ledger.items if e.event_type == "approval_granted")
    with OrgSource(writer, trust, trust.require([])) as src:
        _approvals(src)
        edit_as_superuser(admin, f"UPDATE {EVENTS} SET ledger_commit = 'c0ffee' WHERE origin = %s "
              "AND seq = %s", target.origin, seq)
        again = _approvals(src)
    assert f"{target.origin}:{seq}:" in "\n".join(again)
    assert any(a.startswith(f"{target.origin}:{seq}:") and a.endswith(":c0ffee") for a in again)
    assert src.remembered_rows == len(again) - 1


def test_a_remembered_checkpoint_does_not_vouch_under_other_keys(exported, origins,
                                                                 tmp_path) -> None:  # type: ignore[no-untyped-def]
    _admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        assert _approvals(src)
    impostor = make_origin("someone-else", 1)
    text = write_trust(tmp_path / "other.yaml", [impostor]).read_text().replace(
        "someone-else", origins[0].origin)
    (tmp_path / "other.yaml").write_text(text)
    other = load_org_trust(tmp_path / "other.yaml")
    with OrgSource(writer, other, other.require([])) as src:
        with pytest.raises(Tampered, match="unknown log key"):
            _approvals(src)


def test_a_missing_checkpoint_row_is_refused(exported, origins) -> None:  # type: ignore[no-untyped-def]
    admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        _approvals(src)
        edit_as_superuser(admin, f"DELETE FROM {CHECKPOINTS} WHERE origin = %s", origins[0].origin)
        with pytest.raises(Tampered, match=f"origin {origins[0].origin}: checkpoint of size "
                                           f"{len(origins[0].ledger.items)} is missing"):
            _approvals(src)


def test_verify_sink_checks_every_row_from_scratch(exported, origins) -> None:  # type: ignore[no-untyped-def]
    _admin, writer, trust = exported
    with OrgSource(writer, trust, trust.require([])) as src:
        _approvals(src)
        _approvals(src)
        remembered = src.remembered_rows
        report = src.verify_origin(origins[0].origin)
        assert report.ok and report.rows == len(origins[0].ledger.items)
        assert src.remembered_rows == remembered  # no row taken from the memo


def _plan(conn: psycopg.Connection[tuple[object, ...]], query: str) -> str:
    return "\n".join(str(r[0]) for r in conn.execute(("EXPLAIN " + query).encode()).fetchall())


def test_the_export_indexes_serve_the_questions(exported, origins) -> None:  # type: ignore[no-untyped-def]
    """Each question as the reader asks it (always naming its origins: ``origin = ANY(...)``) is
    served by an index the export creates, every condition inside the index."""
    admin, _writer, _trust = exported
    names = ", ".join(f"'{o.origin}'" for o in origins)
    mine = f"origin = ANY(ARRAY[{names}])"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ANALYZE")
        conn.execute("SET enable_seqscan = off")  # a small table: ask whether an index serves
        model = _plan(conn, f"SELECT seq FROM {EVENTS} WHERE {mine} AND model = 'fraud-risk' "
                      "AND event_type = ANY(ARRAY['approval_granted']) AND "
                      "event_time >= '2020-01-01' AND event_time <= '2030-01-01'")
        assert f"{EVENTS}_o_model_type_time" in model and "Filter" not in model, model
        kind = _plan(conn, f"SELECT seq FROM {EVENTS} WHERE {mine} AND "
                     "event_type = ANY(ARRAY['rollback_executed']) AND "
                     "event_time >= '2020-01-01'")
        assert f"{EVENTS}_o_type_time" in kind and "Filter" not in kind, kind
        actor = _plan(conn, f"SELECT seq FROM {EVENTS} WHERE {mine} AND actor_id = 'a' AND "
                      "event_time >= '2020-01-01'")
        assert f"{EVENTS}_o_actor" in actor and "Filter" not in actor, actor
        release = _plan(conn, f"SELECT seq FROM {EVENTS} WHERE {mine} AND (release_id = 'r' "
                        "OR from_release = 'r' OR to_release = 'r')")
        for index in ("_o_release", "_from_release", "_to_release"):
            assert f"{EVENTS}{index} " in release + " ", release
        live = _plan(conn, f"SELECT DISTINCT ON (origin, model) origin, seq FROM {EVENTS} "
                     f"WHERE environment = 'production' AND {mine} AND deployment AND "
                     "event_time <= '2030-01-01' ORDER BY origin, model, seq DESC")
        assert f"on {EVENTS}_live" in live, live


_OLD_INDEXES = {"model": "(model, origin, seq)", "type_time": "(event_type, event_time)",
                "model_type_time": "(model, event_type, event_time)",
                "actor": "(actor_id, event_time)", "release": "(release_id)"}


def test_sink_init_replaces_the_old_query_indexes(pg_server: PgServer) -> None:
    """A database made by an earlier sink-init (query indexes not led by origin) is upgraded:
    the old indexes dropped, the origin-led ones built in their place."""
    name = f"org_speed_{next(_n)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg_server.dsn(name)) as conn:
        install_org_schema(conn, WRITER)
        for index, columns in _OLD_INDEXES.items():
            conn.execute(f"CREATE INDEX {EVENTS}_{index} ON {EVENTS} {columns}")
        conn.commit()
        install_org_schema(conn, WRITER)  # an existing database upgraded by sink-init
        conn.commit()
        names = {str(r[0]) for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", (EVENTS,)).fetchall()}
    assert not names & {f"{EVENTS}_{index}" for index in _OLD_INDEXES}, names
    assert {f"{EVENTS}_o_{index}" for index in ("type_time", "model_type_time", "actor",
                                                "release")} <= names, names


def test_a_proven_path_remembers_its_siblings_and_what_it_computed() -> None:
    """After leaf 0 of 16 is proven, its audit path's nodes are known, so leaf 2 meets a known
    node after one hash and leaf 5 after two; a forged sibling still fails there."""
    import hashlib

    from governance.audit.org import _included
    from governance.ledger.merkle import inclusion_proof, root

    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(16)]
    top = root(leaves)
    nodes: dict[tuple[int, int], bytes] = {}
    assert _included(0, 16, leaves[0], inclusion_proof(0, leaves), top, nodes)
    assert {(0, 1), (1, 1), (2, 1), (3, 1), (1, 0), (2, 0), (3, 0)} <= set(nodes)
    assert _included(2, 16, leaves[2], inclusion_proof(2, leaves), top, nodes)
    assert (0, 3) in nodes  # leaf 2's sibling, remembered although the path stopped at (1, 1)
    forged = [b"\xfe" * 32, *inclusion_proof(5, leaves)[1:]]
    assert not _included(5, 16, leaves[5], forged, top, nodes)
    assert _included(5, 16, leaves[5], inclusion_proof(5, leaves), top, nodes)
    assert not _included(6, 16, leaves[5], inclusion_proof(5, leaves), top, nodes)
