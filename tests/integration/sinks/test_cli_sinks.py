"""`governance audit sink-init|export|verify-sink` against real PostgreSQL and moto's S3."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from governance import exporting, service
from governance.cli.app import app
from tests.support.histories import SyntheticLedger, generate_entries
from tests.support.org import make_origin, write_trust
from tests.support.postgres import WRITER

runner = CliRunner()
_n = itertools.count()

CONFIG = """apiVersion: governance/v1
kind: GovernanceConfig
people:
  - {id: dana, name: Dana, email: dana@example.com}
roles:
  ml_lead: {members: [dana]}
environments:
  production: {required_approvals: [ml_lead]}
sinks:
  postgres: {dsn_env: AUDIT_PG_DSN}
  s3: {bucket: BUCKET, prefix: ledger/, retention_days: 7}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SyntheticLedger:
    ledger = SyntheticLedger(list(generate_entries(models=3, releases_per_model=3, seed=4)))
    monkeypatch.setattr(service, "open_ledger", lambda root, **_: ledger)
    monkeypatch.chdir(tmp_path)
    return ledger


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.postgres
def test_postgres_sink_through_the_cli(repo: SyntheticLedger, pg_server, monkeypatch,
                                       tmp_path: Path) -> None:
    Path("governance.yaml").write_text(CONFIG.replace("BUCKET", "unused"))
    origin = make_origin("example.com/cli/models", 4)
    origin.ledger = repo
    monkeypatch.setattr(exporting, "read_checkpoint", lambda root: origin.checkpoint())
    trust = write_trust(tmp_path / "org-trust.yaml", [origin])
    monkeypatch.setenv("GOVERNANCE_ORG_TRUST", str(trust))
    db = f"cli_{next(_n)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    monkeypatch.setenv("GOVERNANCE_PG_ADMIN_DSN", pg_server.dsn(db))
    monkeypatch.setenv("AUDIT_PG_DSN", pg_server.dsn(db, WRITER))
    init = run("audit", "sink-init", "--sink", "postgres", "--writer-role", WRITER)
    assert init.exit_code == 0, init.output
    assert run("audit", "sink-init", "--sink", "postgres", "--writer-role", WRITER).exit_code == 0
    done = run("audit", "export", "--sink", "postgres", "--format", "json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["exported"] == len(repo.items) and result["origin"] == origin.origin
    assert "host=" not in done.stdout and "postgresql://127.0.0.1" in done.stdout
    ok = run("audit", "verify-sink", "--sink", "postgres")
    assert ok.exit_code == 0, ok.output
    assert f"for {len(repo.items)} ledger event(s), 0 pending" in ok.stdout
    with psycopg.connect(pg_server.dsn(db)) as conn:
        conn.execute("ALTER TABLE governance_org_events DISABLE TRIGGER USER")
        conn.execute("DELETE FROM governance_org_events WHERE seq = 3")
    bad = run("audit", "verify-sink", "--sink", "postgres", "--format", "json")
    assert bad.exit_code == 1
    problems = json.loads(bad.stdout)["reports"][0]["problems"]
    assert any(p.startswith(f"missing: origin {origin.origin} seq 3 ") for p in problems)


def test_s3_sink_through_the_cli(repo: SyntheticLedger, s3) -> None:  # type: ignore[no-untyped-def]
    bucket = f"cli-audit-{next(_n)}"
    Path("governance.yaml").write_text(CONFIG.replace("BUCKET", bucket))
    init = run("audit", "sink-init", "--sink", "s3", "--endpoint-url", s3.url)
    assert init.exit_code == 0, init.output
    done = run("audit", "export", "--sink", "s3", "--endpoint-url", s3.url, "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["destination"] == f"s3://{bucket}/ledger/"
    ok = run("audit", "verify-sink", "--sink", "s3", "--endpoint-url", s3.url)
    assert ok.exit_code == 0, ok.output
    manifest = Path(".governance/export/s3-manifest.jsonl").read_text().splitlines()
    assert len(manifest) == len(repo.items)
