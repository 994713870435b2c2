"""Identities compare in one normal form everywhere (issue 14): GitHub logins are
case-insensitive, so a trainer written `Alice` in release.yaml is the approver `alice`.

`approve` compared ids exactly (it accepted `alice` approving Alice's release, and refused
`alice` listed as `Alice` in a role); the approvals gate compared the input's ids with `==` (it
counted that approval, and counted `Bob` and `bob` as two people). A real governed repository,
the real `approve` core with an in-memory ledger port, and the real regopy engine over the
input the builder makes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from governance.approving import approve
from governance.cli.app import app
from governance.domain.events import LedgerEntry
from governance.errors import Denied
from governance.lifecycle import fold_lifecycle
from governance.policy.bundle import load_bundle
from governance.policy.engines.regopy_engine import RegopyEngine
from governance.policy.gates import GateDecision, GateRun
from governance.policy.input import ApprovalFact, GateRequest
from governance.repo import GovernedRepo

NOW = datetime(2026, 4, 10, 12, tzinfo=UTC)


def run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def governed(root: Path, roles: Mapping[str, list[str]], trained_by: str,
             monkeypatch: pytest.MonkeyPatch) -> GovernedRepo:
    """`init`, people alice, bob, carol and dana, the given role members, and one release of
    fraud-risk trained by ``trained_by`` (spelled as given)."""
    run("init", str(root))
    path = root / "governance.yaml"
    config = yaml.safe_load(path.read_text("utf-8"))
    config["people"] = [{"id": who, "name": who.title(), "email": f"{who}@acme.example"}
                        for who in ("alice", "bob", "carol", "dana")]
    for role, members in roles.items():
        config["roles"][role]["members"] = members
    path.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    monkeypatch.chdir(root)
    run("model", "new", "fraud-risk", "--owner", "risk-platform")
    run("release", "new", "--model", "fraud-risk", "--version", "1.0.0", "--trained-by",
        trained_by)
    # committed on the protected branch, as approve and promote read it
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-q", "-m", "release"], cwd=root, check=True,
                   capture_output=True)
    return GovernedRepo.open(root)


class Ledger:
    """The ledger port ``approve`` takes (entries, append), in memory."""

    def __init__(self) -> None:
        self.events: list[LedgerEntry] = []

    def entries(self) -> list[LedgerEntry]:
        return list(self.events)

    def append(self, event: Mapping[str, Any]) -> LedgerEntry:
        seq = len(self.events) + 1
        entry = LedgerEntry(seq=seq, event_id=f"e{seq}", event_type=str(event["event_type"]),
                            timestamp="2026-04-10T12:00:00Z", event=dict(event), stored=b"",
                            leaf_hash="", commit="")
        self.events.append(entry)
        return entry


def gate(repo: GovernedRepo, env: str, approvals: list[tuple[str, str]]) -> GateDecision:
    """The decision for the repository's one release with these (person, role) approvals."""
    loaded = repo.load_release("fraud-risk-1.0.0-01")
    facts = tuple(ApprovalFact(role=role, actor_id=who, source="git",
                               digest=loaded.digest.value, commit_id=None,
                               submitted_at="2026-04-10T11:00:00Z")
                  for who, role in approvals)
    request = GateRequest(environment=env, now=NOW, approval_source="git", approvals=facts)
    engine = RegopyEngine(timeout_s=60)
    run_ = GateRun(repo, load_bundle(repo.root / "policies"), engine, request,
                   fold_lifecycle([], production_env="production"))
    try:
        return run_.evaluate(loaded)
    finally:
        run_.close()


@pytest.fixture
def alice_trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GovernedRepo]:
    yield governed(tmp_path / "g", {"ml_lead": ["alice"]}, "Alice", monkeypatch)


def test_approve_refuses_the_trainer_in_another_case(alice_trained: GovernedRepo) -> None:
    ledger = Ledger()
    with pytest.raises(Denied, match="alice trained fraud-risk-1.0.0-01 and cannot approve it"):
        approve(alice_trained, "fraud-risk-1.0.0-01", "ml_lead", actor="alice",
                entries=ledger.entries, append=ledger.append)
    assert ledger.events == []  # nothing signed, nothing recorded


def test_the_gate_does_not_count_the_trainer_in_another_case(
        alice_trained: GovernedRepo) -> None:
    decision = gate(alice_trained, "staging", [("alice", "ml_lead")])
    assert decision.undecided is None
    assert any(v.gate_id == "required_approvals" for v in decision.failures), decision.failures
    assert any("approval by alice as ml_lead does not count: the trainer cannot approve"
               in v.msg for v in decision.warnings), decision.warnings


def test_approve_finds_a_member_listed_in_another_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = governed(tmp_path / "g", {"ml_lead": ["Alice"]}, "dana", monkeypatch)
    ledger = Ledger()
    result = approve(repo, "fraud-risk-1.0.0-01", "ml_lead", actor="alice",
                     entries=ledger.entries, append=ledger.append)
    assert result.granted
    assert [e.event_type for e in ledger.events][0] == "approval_granted"
    assert ledger.events[0].event["actor_id"] == "alice"


def test_one_person_in_two_spellings_counts_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production needs ml_lead, platform_owner and risk_owner from three different people;
    Bob as ml_lead and bob as risk_owner are one person, so only two people approved."""
    repo = governed(tmp_path / "g", {"ml_lead": ["Bob"], "platform_owner": ["carol"],
                                     "risk_owner": ["bob"]}, "dana", monkeypatch)
    decision = gate(repo, "production",
                    [("Bob", "ml_lead"), ("carol", "platform_owner"), ("bob", "risk_owner")])
    assert decision.undecided is None
    messages = [v.msg for v in decision.failures if v.gate_id == "required_approvals"]
    assert any("need 2 different people, but only 1 approved (bob)" in m
               or "need 3 different people, but only 2 approved (bob, carol)" in m
               for m in messages), messages
    # and three different people do fill the roles, whatever the case they are written in
    repo = governed(tmp_path / "h", {"ml_lead": ["ALICE"], "platform_owner": ["carol"],
                                     "risk_owner": ["bob"]}, "dana", monkeypatch)
    decision = gate(repo, "production",
                    [("alice", "ml_lead"), ("Carol", "platform_owner"), ("BOB", "risk_owner")])
    assert not [v.msg for v in decision.failures if v.gate_id == "required_approvals"]


def test_validate_refuses_one_login_listed_twice_in_two_spellings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "g"
    run("init", str(root))
    path = root / "governance.yaml"
    config = yaml.safe_load(path.read_text("utf-8"))
    config["people"] = [{"id": who, "name": who, "email": f"{n}@acme.example"}
                        for n, who in enumerate(("alice", "bob", "Alice"))]
    path.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "id: Alice" in t)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["validate"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert (f"governance.yaml:{line} $.people[2].id: 'Alice' is the same login as "
            "$.people[0].id (GitHub logins are case-insensitive)") in result.output
