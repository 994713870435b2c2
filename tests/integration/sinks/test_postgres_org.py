"""The organisation sink on a real PostgreSQL: many origins in one database, inclusion proofs to
signed checkpoints, verified cross-repository answers, concurrent exports and kill -9."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from governance.audit.org import OrgSource, load_org_trust
from governance.audit.queries import AuditFilter
from governance.cli.app import app
from governance.errors import ConfigurationError, Tampered
from governance.ledger.merkle import inclusion_proof, verify_inclusion
from governance.sinks.postgres import install_schema
from governance.sinks.postgres_org import (
    EVENTS,
    MerkleLevels,
    export_origin,
    install_org_schema,
)
from tests.support.org import SyntheticOrigin, make_origin, write_trust
from tests.support.postgres import WRITER

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
_n = itertools.count()


def test_audit_paths_match_rfc6962() -> None:
    for n in range(1, 70):
        leaves = [bytes([i % 256]) * 32 for i in range(n)]
        tree = MerkleLevels(leaves)
        for i in range(n):
            assert tree.path(i) == inclusion_proof(i, leaves), (n, i)
            assert verify_inclusion(i, n, leaves[i], tree.path(i), tree.root)
        for start in range(n):
            for stop in (start + 1, min(n, start + 7), n):
                assert tree.paths(start, stop) == [b"".join(tree.path(i))
                                                   for i in range(start, stop)], (n, start)


def test_cached_inclusion_check_accepts_exactly_the_valid_paths() -> None:
    """The answer-time check remembers interior nodes proven to reach the root: a later path
    that meets one must have the remembered hash there (a forged leaf, sibling or index fails
    whether or not it meets a remembered node)."""
    import random

    from governance.audit.org import _included
    from governance.ledger.merkle import root

    rng = random.Random(1)
    for n in [*range(1, 40), 100, 257]:
        leaves = [bytes([i % 256, i // 256]) * 16 for i in range(n)]
        top = root(leaves)
        nodes: dict[tuple[int, int], bytes] = {}
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            proof = inclusion_proof(i, leaves)
            assert _included(i, n, leaves[i], proof, top, nodes), (n, i)
            assert not _included(i, n, b"\xff" * 32, proof, top, nodes), (n, i)
            if proof:
                forged = [b"\xfe" * 32, *proof[1:]]
                assert not _included(i, n, leaves[i], forged, top, nodes), (n, i)
            if n > 1:
                assert not _included((i + 1) % n, n, leaves[i], proof, top, nodes), (n, i)


@pytest.fixture(scope="module")
def origins() -> list[SyntheticOrigin]:
    return [make_origin("example.com/team-a/models", 1),
            make_origin("example.com/team-b/models", 2),
            make_origin("example.com/team-c/models", 3)]


def _export_all(writer: str, origins: list[SyntheticOrigin]) -> None:
    for o in origins:
        result = export_origin(writer, o.ledger, o.checkpoint(), batch=50)
        assert result.exported == len(o.ledger.items)


def test_rows_keyed_by_origin_with_proofs(org_db, origins, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    _export_all(writer, origins)
    with psycopg.connect(admin) as conn:
        rows = conn.execute(f"SELECT origin, count(*), min(seq), max(seq) FROM {EVENTS} "
                            "GROUP BY origin ORDER BY origin").fetchall()
    assert rows == [(o.origin, len(o.ledger.items), 0, len(o.ledger.items) - 1)
                    for o in origins]
    trust = load_org_trust(write_trust(tmp_path / "trust.yaml", origins))
    with OrgSource(writer, trust, trust.require([])) as src:
        for o in origins:
            report = src.verify_origin(o.origin)
            assert report.ok, report.to_json()
            assert report.rows == len(o.ledger.items)
        approvals = src.audit_query(AuditFilter(event_types=("approval_granted",)))
        assert {e.origin for e in approvals} == {o.origin for o in origins}
        expected = sum(1 for o in origins for e in o.ledger.items
                       if e.event_type == "approval_granted")
        assert len(approvals) == expected and src.verified_rows >= expected
        times = [e.event.timestamp for e in approvals]
        assert times == sorted(times)


def test_export_resumes_and_proves_against_each_checkpoint(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    o = origins[0]
    half = len(o.ledger.items) // 2
    first = export_origin(writer, o.ledger, o.checkpoint(half), batch=40)
    assert (first.exported, first.pending) == (half, len(o.ledger.items) - half)
    again = export_origin(writer, o.ledger, o.checkpoint(half))
    assert again.exported == 0
    rest = export_origin(writer, o.ledger, o.checkpoint(), batch=40)
    assert (rest.exported, rest.first_seq, rest.pending) == (len(o.ledger.items) - half, half, 0)
    with psycopg.connect(admin) as conn:
        sizes = conn.execute(f"SELECT DISTINCT checkpoint_size FROM {EVENTS} ORDER BY 1"
                             ).fetchall()
    assert [s for (s,) in sizes] == [half, len(o.ledger.items)]
    trust = load_org_trust(write_trust(tmp_path / "t.yaml", [o]))
    with OrgSource(writer, trust, [o.origin]) as src:
        assert src.verify_origin(o.origin).ok
        assert len(src.history("fraud-risk")) > 0


def test_forked_checkpoint_and_rewritten_ledger_are_refused(org_db, origins) -> None:  # type: ignore[no-untyped-def]
    _admin, writer = org_db
    o = origins[0]
    export_origin(writer, o.ledger, o.checkpoint(30))
    other = make_origin(o.origin, 9)  # another history claiming the same origin and key
    with pytest.raises(Tampered, match="not a prefix of this ledger"):
        export_origin(writer, other.ledger, other.checkpoint())
    with pytest.raises(Tampered, match="does not match the ledger"):
        export_origin(writer, o.ledger, other.checkpoint(40).replace(
            other.origin, o.origin, 1))


@pytest.mark.parametrize("statement", [
    f"UPDATE {EVENTS} SET model = 'x' WHERE seq = 1",
    f"DELETE FROM {EVENTS} WHERE seq = 1",
    f"TRUNCATE {EVENTS} CASCADE",
    "DELETE FROM governance_org_checkpoints",
    "INSERT INTO governance_org_exports (origin, checkpoint_size, ledger_size, at) "
    "SELECT origin, size, size, now() + interval '1 year' FROM governance_org_checkpoints",
])
def test_writer_may_insert_only(org_db, origins, statement: str) -> None:  # type: ignore[no-untyped-def]
    _admin, writer = org_db
    export_origin(writer, origins[0].ledger, origins[0].checkpoint(20))
    with psycopg.connect(writer) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def _cli(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("edit, reason", [
    ("UPDATE {t} SET actor_id = 'mallory' WHERE origin = %s AND seq = %s",
     "column actor_id is 'mallory'"),
    ("UPDATE {t} SET stored = convert_to(replace(convert_from(stored, 'UTF8'), 'approval', "
     "'approval '), 'UTF8') WHERE origin = %s AND seq = %s", "hashes to leaf"),
    ("UPDATE {t} SET proof = substring(proof from 33) || substring(proof for 32) "
     "WHERE origin = %s AND seq = %s", "inclusion proof"),
])
def test_tampered_row_makes_the_answer_refuse(org_db, origins, tmp_path, edit, reason) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    _export_all(writer, origins)
    target = origins[1]
    seq = next(e.seq for e in target.ledger.items if e.event_type == "approval_granted")
    with psycopg.connect(admin) as conn:
        conn.execute(f"ALTER TABLE {EVENTS} DISABLE TRIGGER USER")
        conn.execute(edit.format(t=EVENTS).encode(), (target.origin, seq))
    trust = write_trust(tmp_path / "trust.yaml", origins)
    env = {"ORG_DSN": writer}
    result = _cli("audit", "query", "--type", "approval_granted", "--source", "env:ORG_DSN",
                  "--trust", str(trust), "--format", "json", env=env)
    assert result.exit_code == 1, result.output
    assert "tampered" in result.output and f"origin {target.origin} seq {seq}" in result.output
    assert reason in result.output
    narrowed = _cli("audit", "query", "--type", "approval_granted", "--source", "env:ORG_DSN",
                    "--origin", origins[0].origin, "--trust", str(trust), "--format", "json",
                    env=env)
    assert narrowed.exit_code == 0, narrowed.output
    verify = _cli("audit", "verify-sink", "--sink", "postgres", "--all-origins", "--trust",
                  str(trust), "--dsn-env", "ORG_DSN", "--format", "json", env=env)
    assert verify.exit_code == 1
    reports = {r["origin"]: r for r in json.loads(verify.stdout)["reports"]}
    assert not reports[target.origin]["ok"] and reports[origins[0].origin]["ok"]


def test_deleted_row_is_caught_by_verify_sink(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    _export_all(writer, origins[:1])
    with psycopg.connect(admin) as conn:
        conn.execute(f"ALTER TABLE {EVENTS} DISABLE TRIGGER USER")
        conn.execute(f"DELETE FROM {EVENTS} WHERE seq = 7")
    trust = load_org_trust(write_trust(tmp_path / "t.yaml", origins[:1]))
    with OrgSource(writer, trust, [origins[0].origin]) as src:
        report = src.verify_origin(origins[0].origin)
    assert not report.ok
    assert any("seq 7..7 missing" in p for p in report.problems)
    n = len(origins[0].ledger.items)
    assert any(f"checkpoint of size {n} but only {n - 1} rows" in p for p in report.problems)


def test_checkpoint_by_an_unpinned_key_is_refused(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _admin, writer = org_db
    _export_all(writer, origins[:1])
    impostor = make_origin("someone-else", 1)
    trust_text = write_trust(tmp_path / "t.yaml", [impostor]).read_text().replace(
        "someone-else", origins[0].origin)
    (tmp_path / "t.yaml").write_text(trust_text)
    result = _cli("history", "fraud-risk", "--source", "env:ORG_DSN", "--trust",
                  str(tmp_path / "t.yaml"), env={"ORG_DSN": writer})
    assert result.exit_code == 1
    assert "unknown log key" in result.output and origins[0].origin in result.output


def test_cli_answers_live_history_and_stale(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    _export_all(writer, origins[:2])
    trust = write_trust(tmp_path / "trust.yaml", origins, stale_after="1h")
    env = {"GOVERNANCE_PG_DSN": writer, "GOVERNANCE_ORG_TRUST": str(trust)}
    hist = _cli("history", "fraud-risk", "--source", "postgres", "--format", "json", env=env)
    assert hist.exit_code == 0, hist.output
    doc = json.loads(hist.stdout)
    # origin c never exported: stale (and its rows are simply absent)
    assert doc["stale_origins"] == [origins[2].origin]
    assert {e["origin"] for e in doc["events"]} == {origins[0].origin, origins[1].origin}
    assert doc["verified_rows"] == len(doc["events"])
    text = _cli("history", "fraud-risk", "--source", "postgres", env=env)
    assert f"STALE: origin {origins[2].origin}: last export never" in text.stdout
    csv_out = _cli("audit", "query", "--model", "fraud-risk", "--source", "postgres",
                   "--format", "csv", "--origin", origins[0].origin, env=env)
    assert csv_out.stdout.splitlines()[0].startswith("origin,seq,timestamp,event_type")
    # live: per origin, the same fold as the local command
    from tests.support import oracle

    o = origins[0]
    promoted = [e for e in o.ledger.items if e.event_type == "deployment_promoted"
                and e.event.get("model_name") == "fraud-risk"]
    at = promoted[-1].timestamp
    live = _cli("live", "fraud-risk", "--env", promoted[-1].event["environment"], "--at", at,
                "--source", "postgres", "--origin", o.origin, "--format", "json", env=env)
    assert live.exit_code == 0, live.output
    answer = json.loads(live.stdout)["answers"][0]
    from datetime import datetime

    want = oracle.live(o.ledger.items, "fraud-risk", promoted[-1].event["environment"],
                       datetime.fromisoformat(at))
    assert want is not None
    assert answer["origin"] == o.origin and answer["release_id"] == want["release"]
    assert (answer["since"], answer["since_seq"]) == (want["since"], want["seq"])
    # stale after a while: an old export
    with psycopg.connect(admin) as conn:
        conn.execute("ALTER TABLE governance_org_exports DISABLE TRIGGER USER")
        conn.execute("UPDATE governance_org_exports SET at = now() - interval '2 hours' "
                     "WHERE origin = %s", (origins[1].origin,))
    again = json.loads(_cli("history", "fraud-risk", "--source", "postgres", "--format", "json",
                            env=env).stdout)
    assert again["stale_origins"] == [origins[1].origin, origins[2].origin]


def test_connection_string_is_never_printed(tmp_path, origins) -> None:  # type: ignore[no-untyped-def]
    trust = write_trust(tmp_path / "trust.yaml", origins)
    secret = "s3cret-Pa55word"
    dead = f"host=127.0.0.1 port=1 dbname=x user=u password={secret}"
    result = _cli("audit", "query", "--source", "env:ORG_DSN", "--trust", str(trust),
                  env={"ORG_DSN": dead})
    assert result.exit_code == 3 and secret not in result.output
    assert "postgresql://127.0.0.1:1/x" in result.output
    url = _cli("audit", "query", "--source", f"postgresql://u:{secret}@127.0.0.1:1/x",
               "--trust", str(trust))
    assert url.exit_code == 2 and secret not in url.output
    bad = _cli("audit", "query", "--source", "env:ORG_DSN", "--trust", str(trust),
               env={"ORG_DSN": f"host=127.0.0.1 port=1 password={secret} bogus"})
    assert bad.exit_code == 3 and secret not in bad.output


def test_trust_file_errors_are_located(tmp_path, origins) -> None:  # type: ignore[no-untyped-def]
    path = write_trust(tmp_path / "trust.yaml", origins[:2])
    text = path.read_text().replace("ssh-ed25519 AAAA", "ssh-rsa AAAA", 1)
    path.write_text(text + "  - origin: example.com/team-a/models\n    log_keys: []\n")
    with pytest.raises(ConfigurationError) as err:
        load_org_trust(path)
    message = err.value.message
    assert "trust.yaml:7 $.origins[0].log_keys[0]" in message
    assert "$.origins[2].log_keys" in message
    result = _cli("audit", "query", "--source", "env:NONE", "--trust", str(path),
                  env={"NONE": "host=127.0.0.1"})
    assert result.exit_code == 3 and "trust.yaml:7" in result.output


def test_legacy_single_repo_table_is_refused_clearly(pg_server, origins) -> None:  # type: ignore[no-untyped-def]
    name = f"legacy_{next(_n)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg_server.dsn(name)) as conn:
        install_schema(conn, WRITER)
    writer = pg_server.dsn(name, WRITER)
    with pytest.raises(ConfigurationError) as err:
        export_origin(writer, origins[0].ledger, origins[0].checkpoint())
    assert "single-repository table governance_audit_events" in err.value.message
    assert "sink-init" in err.value.hint
    with psycopg.connect(pg_server.dsn(name)) as conn:
        notes = install_org_schema(conn, WRITER)
    assert notes and "left untouched" in notes[0]
    assert export_origin(writer, origins[0].ledger, origins[0].checkpoint()).exported > 0


def _spawn(origin: str, seed: int, dsn: str, batch: int, pause: str | None,
           marker: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ORG_DSN": dsn, "PYTHONPATH": str(ROOT)}
    if pause:
        env["GOVERNANCE_TEST_PAUSE"] = pause
        env["GOVERNANCE_TEST_PAUSE_FILE"] = str(marker)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.org", origin, str(seed), "6", "ORG_DSN",
         str(batch)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(marker: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        assert time.monotonic() < deadline, "the export never reached its pause"
        time.sleep(0.05)


def _counts(admin: str) -> dict[str, tuple[int, int, int]]:
    with psycopg.connect(admin) as conn:
        rows = conn.execute(f"SELECT origin, count(*), count(DISTINCT seq), max(seq) "
                            f"FROM {EVENTS} GROUP BY origin").fetchall()
    return {o: (int(c), int(d), int(m)) for o, c, d, m in rows}


def test_concurrent_exports_do_not_block_and_kill9_resumes(org_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    a = make_origin("example.com/a", 11, models=6)
    b = make_origin("example.com/b", 12, models=6)
    # A stops inside its second batch's transaction (rows inserted, not committed) ...
    marker = tmp_path / "paused"
    proc_a = _spawn(a.origin, 11, writer, 40, "org_export_in_batch", marker)
    try:
        _wait_for(marker, proc_a)
        # ... while B exports its whole ledger in a real process: it must not wait for A
        started = time.monotonic()
        proc_b = _spawn(b.origin, 12, writer, 40, None, tmp_path / "unused")
        out, err = proc_b.communicate(timeout=60)
        assert proc_b.returncode == 0, err.decode()
        assert time.monotonic() - started < 30
        assert int(out.decode().strip()) == len(b.ledger.items)
        # kill -9 A mid-transaction: its open batch is rolled back
        os.kill(proc_a.pid, signal.SIGKILL)
        proc_a.communicate(timeout=30)
    finally:
        if proc_a.poll() is None:
            proc_a.kill()
            proc_a.communicate(timeout=30)
    assert proc_a.returncode == -signal.SIGKILL
    counts = _counts(admin)
    assert a.origin not in counts  # the first batch was not committed
    # second crash point: between two committed batches
    marker2 = tmp_path / "paused2"
    proc_a = _spawn(a.origin, 11, writer, 40, "org_export_batch", marker2)
    _wait_for(marker2, proc_a)
    os.kill(proc_a.pid, signal.SIGKILL)
    proc_a.communicate(timeout=30)
    assert proc_a.returncode == -signal.SIGKILL
    assert _counts(admin)[a.origin] == (40, 40, 39)
    # resume: no gap, no duplicate
    resumed = _spawn(a.origin, 11, writer, 40, None, tmp_path / "unused")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    assert int(out.decode().strip()) == len(a.ledger.items) - 40
    n = len(a.ledger.items)
    assert _counts(admin)[a.origin] == (n, n, n - 1)
    trust = load_org_trust(write_trust(tmp_path / "t.yaml", [a, b]))
    with OrgSource(writer, trust, trust.require([])) as src:
        assert all(src.verify_origin(o).ok for o in (a.origin, b.origin))


def test_two_simultaneous_exports_both_complete(org_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, writer = org_db
    a = make_origin("example.com/x", 21, models=6)
    b = make_origin("example.com/y", 22, models=6)
    procs = [_spawn(o.origin, seed, writer, 25, None, tmp_path / "u")
             for o, seed in ((a, 21), (b, 22))]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    counts = _counts(admin)
    for o in (a, b):
        n = len(o.ledger.items)
        assert counts[o.origin] == (n, n, n - 1)


def test_explain_release_across_repositories(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _admin, writer = org_db
    _export_all(writer, origins)
    trust = write_trust(tmp_path / "trust.yaml", origins)
    env = {"GOVERNANCE_PG_DSN": writer, "GOVERNANCE_ORG_TRUST": str(trust)}
    o = origins[2]
    promoted = next(e for e in o.ledger.items if e.event_type == "deployment_promoted")
    release = promoted.event["release_id"]
    result = _cli("explain", release, "--source", "postgres", "--origin", o.origin,
                  "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)["answers"][0]
    naming = [e for e in o.ledger.items if release in (e.event.get("release_id"),
              e.event.get("from_release"), e.event.get("to_release"))]
    assert [r["seq"] for r in answer["audit_trail"]] == [e.seq for e in naming]
    assert promoted.seq in [r["seq"] for r in answer["deployments"]]
    assert answer["approvals"] and all(r["actor_id"] for r in answer["approvals"])
    text = _cli("explain", release, "--source", "postgres", "--origin", o.origin, env=env)
    assert text.exit_code == 0 and text.stdout.startswith(f"{release}  (origin {o.origin}")
    unknown = _cli("explain", release, "--source", "postgres", "--origin", "nobody", env=env)
    assert unknown.exit_code == 3 and "not pinned" in unknown.output


def test_a_batch_over_existing_rows_is_idempotent_or_refused(org_db, origins) -> None:  # type: ignore[no-untyped-def]
    """The fast path (COPY into the table) meets rows already there: the batch is retried with
    ON CONFLICT DO NOTHING; equal rows are skipped, a different row at a seq is Tampered."""
    from governance.sinks.postgres_org import _write_batch

    _admin, writer = org_db
    o = origins[0]
    export_origin(writer, o.ledger, o.checkpoint())
    items = o.ledger.items
    tree = MerkleLevels([bytes.fromhex(e.leaf_hash) for e in items])
    with psycopg.connect(writer) as conn:
        assert _write_batch(conn, "db", o.origin, len(items), items[:10], tree) == 0
        other = make_origin(o.origin, 8).ledger.items
        with pytest.raises(Tampered, match="already holds a different row at seq 0"):
            _write_batch(conn, "db", o.origin, len(items), other[:10], tree)


def test_live_for_every_model_of_every_origin(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from tests.support import oracle

    _admin, writer = org_db
    _export_all(writer, origins)
    trust = load_org_trust(write_trust(tmp_path / "t.yaml", origins))
    at = datetime.fromisoformat(origins[0].ledger.items[len(origins[0].ledger.items) // 2]
                                .timestamp)
    with OrgSource(writer, trust, trust.require([])) as src:
        answers = {(e.origin, e.event.model): e.live_release
                   for e in src.live_everywhere("production", at)}
    expected = {}
    for o in origins:
        for model in {str(e.event.get("model_name")) for e in o.ledger.items
                      if e.event.get("model_name")}:
            state = oracle.live(o.ledger.items, model, "production", at)
            if state is not None:
                expected[(o.origin, model)] = state["release"]
    assert answers == expected and expected


def test_org_report_html_in_chromium(org_db, origins, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from governance.lifecycle import fold_lifecycle
    from tests.integration.test_report_chromium import missing_colours, screenshot

    _admin, writer = org_db
    odd = make_origin("example.com/<b>team-d</b>", 5)
    _export_all(writer, [origins[0], odd])  # origins[1] and [2] never exported: stale
    trust = write_trust(tmp_path / "trust.yaml", [*origins, odd])
    env = {"GOVERNANCE_PG_DSN": writer, "GOVERNANCE_ORG_TRUST": str(trust)}
    page = tmp_path / "org.html"
    result = _cli("report", "--org", "--source", "postgres", "--since", "2000-01-01T00:00:00Z",
                  "--format", "html", "--out", str(page), env=env)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "<b>team-d" not in html and "&lt;b&gt;team-d&lt;/b&gt;" in html
    assert html.count('class="badge stale"') == 2 and html.count('class="badge fresh"') == 2
    state = fold_lifecycle(origins[0].ledger.items, production_env="production")
    assert state.open_obligations() and any(state.current(*k) for k in state.live)
    for ob in state.open_obligations():
        assert f"<td>{ob.opened_at}</td>" in html
    for (model, env_name) in state.live:
        span = state.current(model, env_name)
        if span is not None:
            assert f"<td>{model}</td><td>{env_name}</td><td>{span.release_id}</td>" in html
    approvals = sum(1 for e in origins[0].ledger.items if e.event_type in
                    ("approval_granted", "approval_denied", "release_approved"))
    assert html.split("<h2>example.com/team-a/models</h2>")[1].split("<h2>")[0].count(
        "<h3>Approvals in the period</h3>") == 1
    assert f"<td>{approvals}</td>" in html
    image = screenshot(page, tmp_path)
    assert missing_colours(image, ("#1a7f37", "#cf222e")) == []
    usage = _cli("report", "--org", "rel-1", "--source", "postgres", env=env)
    assert usage.exit_code == 2


def test_an_older_checkpoint_after_a_newer_export_is_not_a_fork(org_db, origins) -> None:  # type: ignore[no-untyped-def]
    """Exported once with a fresh checkpoint at the tip (log key available), then without the
    key (only an older stored checkpoint): nothing to send, no false alarm."""
    _admin, writer = org_db
    o = origins[0]
    export_origin(writer, o.ledger, o.checkpoint())
    again = export_origin(writer, o.ledger, o.checkpoint(50))
    assert (again.exported, again.checkpoint_size, again.pending) == (0, 50, 0)
    shorter = make_origin(o.origin, 1)
    shorter.ledger = type(o.ledger)(o.ledger.items[:60])
    with pytest.raises(Tampered, match="beyond this ledger's 60 entries"):
        export_origin(writer, shorter.ledger, shorter.checkpoint())


def test_org_only_flags_are_refused_without_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    alone = _cli("history", "fraud-risk", "--origin", "example.com/a")
    assert alone.exit_code == 2 and "--origin and --trust need --source" in alone.output
    mixed = _cli("audit", "query", "--source", "postgres", "--verified-prefix")
    assert mixed.exit_code == 2 and "--verified-prefix" in mixed.output


def test_governance_validate_checks_a_trust_file(tmp_path, origins, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    path = write_trust(tmp_path / "trust.yaml", origins)
    ok = _cli("validate", "trust.yaml")
    assert ok.exit_code == 0, ok.output
    path.write_text(path.read_text().replace("stale_after: 7d", "stale_after: 7x"))
    bad = _cli("validate", "trust.yaml")
    assert bad.exit_code == 1
    assert "trust.yaml:3 $.stale_after: '7x' is not a duration" in bad.output
