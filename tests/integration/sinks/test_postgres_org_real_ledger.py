"""End to end on a real governed repository: a git ledger with real SSH-signed commits and an
Ed25519 log key, exported with `governance audit export --sink postgres` into a real
PostgreSQL, answered with `--source` and verified with `verify-sink`."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from governance.cli.app import app
from tests.integration.ledger.conftest import Keys, Ledger, fill_honest, keys, make_repo
from tests.support.postgres import WRITER, PgServer

__all__ = ["keys"]  # the session fixture, shared with the ledger tests
pytestmark = pytest.mark.postgres
runner = CliRunner()


def test_real_ledger_export_answer_and_verify(tmp_path: Path, keys: Keys,  # noqa: F811
                                              pg_server: PgServer) -> None:
    root = make_repo(tmp_path / "repo", keys)
    led = Ledger(root, keys)
    fill_honest(led)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE real_ledger")
    trust = tmp_path / "org-trust.yaml"
    trust.write_text("apiVersion: governance/v1\nkind: OrgTrust\norigins:\n"
                     "  - origin: example.com/acme/models\n"
                     f"    log_keys: [\"{keys.pub('log')}\"]\n")
    env = {"GOVERNANCE_PG_ADMIN_DSN": pg_server.dsn("real_ledger"),
           "GOVERNANCE_PG_DSN": pg_server.dsn("real_ledger", WRITER),
           "GOVERNANCE_LEDGER_LOG_KEY": str(keys.path("log")),
           "GOVERNANCE_ORG_TRUST": str(trust)}

    def cli(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [*args], env=env, catch_exceptions=False)

    init = cli("audit", "sink-init", "--sink", "postgres", "--writer-role", WRITER,
               "--repo", str(root))
    assert init.exit_code == 0, init.output
    done = cli("audit", "export", "--sink", "postgres", "--repo", str(root), "--format", "json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["origin"] == "example.com/acme/models"
    assert (result["exported"], result["checkpoint_size"], result["pending"]) == (7, 7, 0)
    history = cli("history", "fraud-risk", "--source", "postgres", "--format", "json")
    assert history.exit_code == 0, history.output
    doc = json.loads(history.stdout)
    assert [e["event_type"] for e in doc["events"]] == [
        "model_registered", "release_registered", "gate_evaluated", "approval_granted",
        "deployment_promoted", "release_registered"]
    assert doc["stale_origins"] == [] and doc["verified_rows"] == 6
    live = cli("live", "fraud-risk", "--env", "staging", "--source", "postgres")
    assert live.exit_code == 0 and live.stdout.splitlines()[0] == "r1"
    verify = cli("audit", "verify-sink", "--sink", "postgres", "--repo", str(root))
    assert verify.exit_code == 0, verify.output
    assert "for 7 ledger event(s), 0 pending" in verify.stdout
    # one more event, exported incrementally
    led.append("approval_granted", model_name="fraud-risk", release_id="r2",
               actor_role="risk_owner", approval_state="approved",
               release_digest="sha256:" + "ab" * 32)
    more = cli("audit", "export", "--sink", "postgres", "--repo", str(root), "--format", "json")
    assert json.loads(more.stdout)["exported"] == 1
