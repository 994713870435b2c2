"""Evidence reports built from real release directories and hand-written ledger stories, for
the HTML renderer's tests (pure) and its headless Chromium layout tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.audit.diff import diff_releases
from governance.audit.explain import explain_release
from governance.domain.events import LedgerEntry
from governance.lifecycle import fold_lifecycle
from governance.policy.approval_standing import approval_standing
from governance.repo import GovernedRepo
from governance.report.evidence import EvidenceReport, latest_gate_decision, role_statuses
from governance.report.timeline import render_timeline
from tests.unit.test_lifecycle import ev

ROOT = Path(__file__).resolve().parents[3]
MODEL = "fraud-risk"
T0 = datetime(2026, 12, 5, 19, 45, 11, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def build(release: str, previous: str | None, events: list[LedgerEntry],
          env: str = "production") -> EvidenceReport:
    repo = GovernedRepo(ROOT)
    b = repo.load_release(release)
    state = fold_lifecycle(events, production_env="production")
    standing = approval_standing(repo, b, state, env)
    exp = explain_release(b, events, environment=env, state=state, standing=standing)
    order = ["staging", "production"]
    lanes = {e: tuple(state.live[(MODEL, e)]) for e in order if (MODEL, e) in state.live}
    return EvidenceReport(
        explanation=exp, card=b.card, roles=role_statuses(standing, exp),
        gate_decision=latest_gate_decision(exp),
        diff=diff_releases(repo.load_release(previous), b) if previous else None,
        timeline_svg=render_timeline(MODEL, lanes, highlight=release),
        generated_at=at(3600), environment=env, previous_release=previous,
        diff_note=None if previous else f"no release of {MODEL} was live in {env} before",
        standing=standing, lanes=lanes)


def demo_events() -> list[LedgerEntry]:
    """The demo's shape: release 1 live in staging and production, release 2 promoted through
    both and rolled back from production after 8 seconds (incident inc-4821)."""
    repo = GovernedRepo(ROOT)
    a, b = (repo.load_release(f"{MODEL}-2026-03-28-01"),
            repo.load_release(f"{MODEL}-2026-04-10-01"))
    ra, rb = a.release.release_id, b.release.release_id
    allow: dict[str, Any] = {"decision_id": "6c411155-c040-4db6-a269-9829f0cd7069",
                             "allow": True, "failures": [], "warnings": []}

    def approvals(seq: int, rid: str, digest: str, t: float) -> list[LedgerEntry]:
        return [ev(seq + i, "approval_granted", release_id=rid, actor_id=who, actor_role=role,
                   release_digest=digest, approval_state="approved", timestamp=at(t + i))
                for i, (who, role) in enumerate((("alice", "ml_lead"),
                                                 ("bob", "platform_owner"),
                                                 ("jane.smith", "risk_owner")))]

    events = [
        *approvals(1, ra, a.digest.value, 2),
        ev(4, "release_approved", release_id=ra, release_digest=a.digest.value,
           timestamp=at(5)),
        ev(5, "gate_evaluated", release_id=ra, environment="staging", decision=allow,
           policy_digest="git-tree:bb42614943065f5f735bee441eef3e6041305cbf",
           timestamp=at(6)),
        ev(6, "deployment_promoted", release_id=ra, environment="staging",
           actor_id="governance-ci", release_digest=a.digest.value, timestamp=at(7)),
        ev(7, "deployment_promoted", release_id=ra, environment="production",
           actor_id="governance-ci", release_digest=a.digest.value, timestamp=at(8)),
        *approvals(8, rb, b.digest.value, 11),
        ev(11, "release_approved", release_id=rb, release_digest=b.digest.value,
           timestamp=at(14)),
        ev(12, "gate_evaluated", release_id=rb, environment="staging", decision=allow,
           policy_digest="git-tree:bb42614943065f5f735bee441eef3e6041305cbf",
           timestamp=at(16)),
        ev(13, "deployment_promoted", release_id=rb, environment="staging",
           actor_id="governance-ci", release_digest=b.digest.value, timestamp=at(16.5)),
        ev(14, "gate_evaluated", release_id=rb, environment="production",
           decision={**allow, "warnings": [{"gate_id": "latency_budget",
                                            "msg": "p95 latency 42 ms is above 40 ms",
                                            "remediation": "profile the <new> features"}]},
           policy_digest="git-tree:bb42614943065f5f735bee441eef3e6041305cbf",
           timestamp=at(18)),
        ev(15, "deployment_promoted", release_id=rb, environment="production",
           actor_id="governance-ci", release_digest=b.digest.value, timestamp=at(18.5)),
        ev(16, "rollback_executed", environment="production", from_release=rb, to_release=ra,
           actor_id="platform-oncall", incident="inc-4821", release_id=ra,
           reason="latency regression and elevated false positive rate",
           decision={"decision_id": "7d0f61a2-0000-4000-8000-000000000001", "allow": False,
                     "blocking": False}, timestamp=at(26.5)),
    ]
    return events


def demo_story() -> EvidenceReport:
    return build(f"{MODEL}-2026-04-10-01", f"{MODEL}-2026-03-28-01", demo_events())


def rollback_target_story() -> EvidenceReport:
    """The demo from the rollback target's side: made live again by a rollback whose gates
    would deny (a warning, never a deny)."""
    return build(f"{MODEL}-2026-03-28-01", None, demo_events())


def break_glass_story() -> EvidenceReport:
    """A release pushed to production past the gates: its review is an open obligation."""
    events = demo_events()[:7]
    repo = GovernedRepo(ROOT)
    b = repo.load_release(f"{MODEL}-2026-04-10-01")
    events.append(ev(8, "break_glass", release_id=b.release.release_id,
                     environment="production", actor_id="platform-oncall",
                     release_digest=b.digest.value, incident="inc-9001", reason="outage",
                     timestamp=at(40)))
    return build(b.release.release_id, f"{MODEL}-2026-03-28-01", events)
