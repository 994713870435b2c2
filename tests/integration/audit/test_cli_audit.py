"""The evidence commands through the CLI, fed a synthetic ledger through the composition root's
ledger port (``governance.service.open_ledger``)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from governance import service
from governance.cli.app import app
from governance.timeparse import parse_time
from tests.support import oracle
from tests.support.histories import SyntheticLedger, generate_entries, rewrite

runner = CliRunner()

CONFIG = """apiVersion: governance/v1
kind: GovernanceConfig
people:
  - {id: dana, name: Dana, email: dana@example.com}
roles:
  ml_lead: {members: [dana]}
environments:
  staging: {required_approvals: [ml_lead]}
  production: {after: staging, required_approvals: [ml_lead]}
sinks:
  jsonl: {dir: audit-export}
"""


@pytest.fixture(scope="module")
def entries() -> list:
    return list(generate_entries(models=6, releases_per_model=6, seed=21))


@pytest.fixture
def repo(tmp_path: Path, entries: list, monkeypatch: pytest.MonkeyPatch) -> SyntheticLedger:
    (tmp_path / "governance.yaml").write_text(CONFIG)
    ledger = SyntheticLedger(list(entries))
    monkeypatch.setattr(service, "open_ledger", lambda root, **_: ledger)
    monkeypatch.chdir(tmp_path)
    return ledger


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_live_first_line_is_the_release_id(repo: SyntheticLedger, entries: list) -> None:
    promo = [
        e
        for e in entries
        if e.event_type == "deployment_promoted" and e.event["environment"] == "production"
    ][3]
    at = promo.timestamp
    result = run("live", promo.event["model_name"], "--env", "production", "--at", at)
    assert result.exit_code == 0, result.output
    expected = oracle.live(
        entries, promo.event["model_name"], "production", datetime.fromisoformat(at)
    )
    assert expected is not None
    assert result.stdout.splitlines()[0] == expected["release"]
    assert "by: " in result.stdout and "decision: " in result.stdout
    as_json = run(
        "live", promo.event["model_name"], "--env", "production", "--at", at, "--format", "json"
    )
    data = json.loads(as_json.stdout)
    assert data["release_id"] == expected["release"] and data["since"] == expected["since"]
    assert (tmp := Path(".governance/index.sqlite")).exists() and tmp.stat().st_size > 0


def test_live_exit_codes(repo: SyntheticLedger, entries: list) -> None:
    assert run("live", "fraud-risk", "--env", "production", "--at", "yesterday").exit_code == 2
    assert run("live", "fraud-risk", "--env", "production", "--at", "6m").exit_code == 2
    unknown = run("live", "no-such-model", "--env", "production")
    assert unknown.exit_code == 1 and "unknown model 'no-such-model'" in unknown.stderr
    early = run("live", "fraud-risk", "--env", "production", "--at", "2020-01-01")
    assert early.exit_code == 1 and "was live" in early.stderr


def test_switched_off_by_rollback_is_an_answer_and_exit_1(repo: SyntheticLedger) -> None:
    repo.append(
        [
            {
                "event_type": "rollback_executed",
                "model_name": "fraud-risk",
                "environment": "production",
                "actor_id": "oncall.olga",
                "to_release": None,
                "incident": "inc-4821",
                "reason": "disable",
                "timestamp": "2030-01-01T00:00:00Z",
            }
        ]
    )
    result = run(
        "live",
        "fraud-risk",
        "--env",
        "production",
        "--at",
        "2030-01-02T00:00:00Z",
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["release_id"] is None
    assert "switched off" in result.stderr and "inc-4821" in result.stderr


def test_history_formats(repo: SyntheticLedger, entries: list) -> None:
    text = run("history", "fraud-risk")
    assert text.exit_code == 0
    expected = oracle.history(entries, "fraud-risk")
    assert len(text.stdout.splitlines()) == len(expected)
    as_json = json.loads(run("history", "fraud-risk", "--format", "json").stdout)
    assert [e["seq"] for e in as_json] == expected
    rows = list(csv.DictReader(io.StringIO(run("history", "fraud-risk", "--format", "csv").stdout)))
    assert [int(r["seq"]) for r in rows] == expected and rows[0]["event_type"] == "model_registered"
    assert run("history", "nope").exit_code == 1


def test_audit_query_approvals_last_12_months(repo: SyntheticLedger, entries: list) -> None:
    result = run(
        "audit",
        "query",
        "--model",
        "fraud-risk",
        "--type",
        "approval_granted",
        "--since",
        "12mo",
        "--format",
        "json",
    )
    assert result.exit_code == 0
    since = parse_time("12mo", now=datetime.now(UTC))
    assert [e["seq"] for e in json.loads(result.stdout)] == oracle.query(
        entries, model="fraud-risk", types=("approval_granted",), since=since
    )
    everything = run(
        "audit",
        "query",
        "--model",
        "fraud-risk",
        "--type",
        "approval_granted",
        "--since",
        "2000-01-01",
        "--format",
        "json",
    )
    assert [e["seq"] for e in json.loads(everything.stdout)] == oracle.query(
        entries, model="fraud-risk", types=("approval_granted",)
    )


def test_audit_query_rollbacks_for_an_incident(repo: SyntheticLedger, entries: list) -> None:
    rb = next(e for e in entries if e.event_type == "rollback_executed")
    result = run(
        "audit",
        "query",
        "--type",
        "rollback_executed",
        "--incident",
        rb.event["incident"],
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["seq"]) for r in rows] == oracle.query(
        entries, types=("rollback_executed",), incident=rb.event["incident"]
    )


def test_audit_query_usage_errors(repo: SyntheticLedger) -> None:
    assert run("audit", "query", "--type", "approval").exit_code == 2
    assert run("audit", "query", "--since", "soon").exit_code == 2
    assert run("audit", "query", "--since", "1d", "--until", "30d").exit_code == 2


def test_bad_option_value_is_a_usage_error(repo: SyntheticLedger) -> None:
    assert run("audit", "query", "--format", "xml").exit_code == 2


def test_rewritten_ledger_is_refused(repo: SyntheticLedger, entries: list) -> None:
    assert run("history", "fraud-risk").exit_code == 0
    repo.items = rewrite(entries, 30, {"actor_id": "mallory"})
    result = run("history", "fraud-risk")
    assert result.exit_code == 1
    assert "first divergence at seq 30" in result.stderr


def test_export_and_verify_jsonl(repo: SyntheticLedger, entries: list) -> None:
    result = run("audit", "export", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["exported"] == len(entries)
    assert run("audit", "export", "--format", "json").exit_code == 0
    ok = run("audit", "verify-sink", "--sink", "jsonl")
    assert ok.exit_code == 0 and ok.stdout.startswith("ok:")
    day = sorted(Path("audit-export").glob("*.jsonl"))[2]
    day.write_text(day.read_text().replace('\\"actor_id\\":\\"', '\\"actor_id\\":\\"z', 1))
    bad = run("audit", "verify-sink", "--sink", "jsonl", "--format", "json")
    assert bad.exit_code == 1
    assert len(json.loads(bad.stdout)["modified"]) == 1


def test_postgres_without_dsn_is_undecided(repo: SyntheticLedger, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GOVERNANCE_PG_DSN", raising=False)
    result = run("audit", "export", "--sink", "postgres")
    assert result.exit_code == 3 and "GOVERNANCE_PG_DSN" in result.stderr


def test_outside_a_governed_repo_is_undecided(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run("history", "fraud-risk")
    assert result.exit_code == 3 and "governance.yaml" in result.stderr


def test_every_command_and_option_has_help() -> None:
    from typer.main import get_command

    root = get_command(app)
    assert isinstance(root, click.Group) or hasattr(root, "commands")
    groups = [("live", root.commands["live"]), ("history", root.commands["history"])]  # type: ignore[attr-defined]
    audit = root.commands["audit"]  # type: ignore[attr-defined]
    groups += [(f"audit {n}", c) for n, c in audit.commands.items()]
    assert {"query", "export", "verify-sink", "sink-init"} <= set(audit.commands)
    for name, cmd in groups:
        assert cmd.help, f"{name} has no help"
        for param in cmd.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"{name} {param.name} has no help"


_WIRED = """
import sys
from governance import service
from tests.support.histories import SyntheticLedger, generate_entries
ledger = SyntheticLedger(list(generate_entries(models=3, releases_per_model=4, seed=1)))
service.open_ledger = lambda root, **_: ledger
from governance.cli.app import main
main(sys.argv[1:])
"""


def test_end_to_end_process_with_a_synthetic_ledger(tmp_path: Path, repo_root: Path) -> None:
    (tmp_path / "governance.yaml").write_text(CONFIG)
    entries = list(generate_entries(models=3, releases_per_model=4, seed=1))
    promo = [e for e in entries if e.event_type == "deployment_promoted"][-1]
    model, env = promo.event["model_name"], promo.event["environment"]
    env_vars = {**__import__("os").environ, "PYTHONPATH": str(repo_root)}

    def gov(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _WIRED, *argv],
            cwd=tmp_path,
            env=env_vars,
            capture_output=True,
            text=True,
            timeout=120,
        )

    live_now = gov("live", model, "--env", env)
    expected = oracle.live(entries, model, env, datetime.now(UTC))
    assert expected is not None
    assert live_now.returncode == 0, live_now.stderr
    assert live_now.stdout.splitlines()[0] == (expected["release"] or "")
    assert (tmp_path / ".governance" / "index.sqlite").is_file()
    exported = gov("audit", "export", "--sink", "jsonl", "--format", "json")
    assert exported.returncode == 0 and json.loads(exported.stdout)["exported"] == len(entries)
    assert gov("audit", "verify-sink").returncode == 0
    assert gov("history", "nope").returncode == 1
    assert gov("audit", "query", "--until", "tomorrow").returncode == 2
