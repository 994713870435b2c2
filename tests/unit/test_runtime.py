"""Runtime traceability: live release from environment state, log tagging, config events."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from governance.errors import InvalidInput, NotFound, UsageError
from governance.runtime import (
    ReleaseTagFilter,
    config_changed_event,
    live_release,
    traffic_headers,
)

DIGEST = "sha256:" + "ab" * 32
STATE = f"""apiVersion: governance/v1
kind: EnvironmentState
environment: production
models:
  fraud-risk:
    release_id: fraud-risk-2026-04-10-01
    model_version: "2026-04-10"
    release_digest: {DIGEST}
    promoted_at: 2026-04-10T09:14:11Z
    ledger_seq: 42
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "production.yaml").write_text(STATE)
    return tmp_path


def test_live_release_from_environment_state(repo: Path) -> None:
    rel = live_release("fraud-risk", "production", root=repo, verify=False)
    assert rel.release_id == "fraud-risk-2026-04-10-01"
    assert rel.model_version == "2026-04-10" and rel.ledger_seq == 42
    assert rel.promoted_at == "2026-04-10T09:14:11Z"
    assert traffic_headers(rel)["X-Model-Release"] == rel.release_id


def test_repo_from_environment_variable(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVERNANCE_REPO", str(repo))
    rel = live_release("fraud-risk", "production", verify=False)
    assert rel.release_id == "fraud-risk-2026-04-10-01"


def test_unknown_model_environment_and_bad_names(repo: Path) -> None:
    with pytest.raises(NotFound, match="'other' has no live release"):
        live_release("other", "production", root=repo, verify=False)
    with pytest.raises(NotFound, match="no state for environment 'staging'"):
        live_release("fraud-risk", "staging", root=repo, verify=False)
    with pytest.raises(UsageError):
        live_release("../etc", "production", root=repo, verify=False)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (DIGEST, "sha256:" + "AB" * 32, "$.models.fraud-risk.release_digest"),
        ("ledger_seq: 42", "ledger_seq: -1", "$.models.fraud-risk.ledger_seq"),
        ("kind: EnvironmentState", "kind: Other", "$.kind"),
        ("environment: production", "environment: staging", "$.environment"),
    ],
)
def test_malformed_state_is_refused_with_its_path(
    repo: Path, old: str, new: str, path: str
) -> None:
    (repo / "environments" / "production.yaml").write_text(STATE.replace(old, new))
    with pytest.raises(InvalidInput) as info:
        live_release("fraud-risk", "production", root=repo, verify=False)
    assert [p.path for p in info.value.problems] == [path]


def test_log_records_are_tagged(repo: Path) -> None:
    rel = live_release("fraud-risk", "production", root=repo, verify=False)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(ReleaseTagFilter(rel))
    handler.setFormatter(logging.Formatter("%(release_id)s %(model_version)s %(message)s"))
    log = logging.getLogger("serving-test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("scored")
        log.info("other", extra={"release_id": "kept-as-given"})
    finally:
        log.removeHandler(handler)
    assert handler.format(records[0]) == "fraud-risk-2026-04-10-01 2026-04-10 scored"
    assert records[1].release_id == "kept-as-given"  # type: ignore[attr-defined]


def test_config_changed_event_payload() -> None:
    event = config_changed_event(
        model="fraud-risk",
        environment="production",
        actor_id="deploy-bot",
        changes={"serving.replicas": (2, 4), "threshold": (0.7, 0.72)},
        reason="traffic peak",
        release_id="fraud-risk-2026-04-10-01",
        source={"ci_run": 99},
    )
    assert event["event_type"] == "config_changed"
    assert event["details"]["changes"][0] == {"key": "serving.replicas", "old": 2, "new": 4}
    assert event["timestamp"].endswith("Z")
    with pytest.raises(UsageError):
        config_changed_event(model="m", environment="e", actor_id="a", changes={}, reason="x")
    with pytest.raises(UsageError):
        config_changed_event(
            model="m", environment="e", actor_id="a", changes={"k": (1, 2)}, reason=" "
        )


def test_a_switched_off_model_is_not_served(repo: Path) -> None:
    (repo / "environments" / "production.yaml").write_text(
        STATE.replace("    ledger_seq: 42\n", "    ledger_seq: 42\n    disabled: true\n")
    )
    with pytest.raises(NotFound, match="switched off"):
        live_release("fraud-risk", "production", root=repo, verify=False)


def test_a_pointer_with_no_ledger_to_check_it_against_is_undecided(repo: Path) -> None:
    """By default the pointer is checked against the verified ledger; a directory with no
    repository cannot be checked, so a serving process refuses to start on it (exit 3)."""
    from governance.errors import Undecided

    with pytest.raises(Undecided, match="cannot be checked against the ledger"):
        live_release("fraud-risk", "production", root=repo)
