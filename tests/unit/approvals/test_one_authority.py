"""One authority for approvals (issue 20 item 1): every consumer agrees with the gate.

The same facts go to the gate path (`check --env production --pr 7 --approvals github`, the
full gate run of ``tests/unit/approvals/test_pull_request.py``), to the pull request
evaluation (``governance.approvals.evaluate``: the required-approvals rule asked directly), to
``config record``'s decision (``config_review`` then ``decide_config_change``), and, for the
ledger, to the replay of a ``release_approved`` carrying the verdict ``approve`` records. Each
row is one case of the issue: enough approvals, a missing role, the author's self-approval, a
stale approval, a bot, a non-member.
"""

from __future__ import annotations

import atexit
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from governance.approvals import pull_request
from governance.approvals.codeowners import parse
from governance.approvals.evaluate import PullRequestEvaluation, config_review
from governance.approvals.facts import ApprovalFacts, ApprovalPolicy, RoleDefinition
from governance.approvals.policy import governance_policy
from governance.config_change import decide_config_change
from governance.ledger.replay import LifecycleReplay
from governance.policy.approval_standing import ApprovalStanding, pull_request_standing
from governance.policy.bundle import load_bundle
from governance.policy.engines.port import PolicyEngine
from governance.policy.engines.select import select_engine
from tests.unit.approvals.test_pull_request import (
    APPROVED,
    OLD,
    POLICY,
    _head_not_in_git,  # noqa: F401  (autouse: the made-up head is not read from git)
    approval_messages,
    check_with,
    facts,
    review,
)

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = load_bundle(ROOT / "governance" / "scaffold" / "policies")


@cache
def _engine() -> PolicyEngine:
    """One engine loaded with the default policies for every evaluation of this session, closed
    when the process exits; loading is the expensive part."""
    engine = select_engine("regopy")
    engine.load(BUNDLE, {})
    atexit.register(engine.close)
    return engine


def pr_standing(policy: ApprovalPolicy, got: ApprovalFacts,
                environment: str | None = "production") -> ApprovalStanding:
    """What ``evaluate_pull_request`` asks the gate, on these facts."""
    normalised = pull_request.gate_facts(policy, got, 7)
    assert normalised.head_sha is not None
    return pull_request_standing(
        BUNDLE, policy, normalised.approvals, number=7, head_sha=normalised.head_sha,
        excluded_actors=normalised.excluded_actors, codeowners=normalised.codeowners,
        environment=environment, risk_tier="high", engine=_engine())


def _short(messages: Any) -> set[str]:
    """The gate's failure without the digest it names (the gate path's is the release's, the
    pull request evaluation's is the head commit's)."""
    return {m.split(" for digest")[0] for m in messages}


# (case, reviews, roles missing from the gate's verdict)
CASES = [
    ("enough approvals", APPROVED, set()),
    ("missing role", APPROVED[:2], {"risk_owner"}),
    ("author self-approval", (APPROVED[0], review(1, "erin"), APPROVED[2]), {"platform_owner"}),
    ("stale approval", (APPROVED[0], review(1, "bob", commit=OLD), APPROVED[2]),
     {"platform_owner"}),
    ("bot", (APPROVED[0], review(1, "renovate[bot]", kind="Bot"), APPROVED[2]),
     {"platform_owner"}),
    ("non-member", (APPROVED[0], review(1, "mallory"), APPROVED[2]), {"platform_owner"}),
]


@pytest.mark.parametrize("case, reviews, missing", CASES, ids=[c[0] for c in CASES])
def test_pull_request_evaluation_agrees_with_the_gate(
    monkeypatch: pytest.MonkeyPatch, case: str, reviews: Any, missing: set[str]
) -> None:
    got = facts(*reviews)
    gate = check_with(monkeypatch, got)
    gate_failures, _ = approval_messages(gate)
    policy = replace(POLICY, trainers=frozenset({"dana"}))
    standing = pr_standing(policy, got)
    assert standing.outcome == ("approved" if not missing else "denied")
    assert ("required_approvals" not in {v.gate_id for v in gate.failures}) == (not missing)
    assert _short(standing.failures) == _short(gate_failures)
    assert {r.role for r in standing.roles if not r.filled} == missing
    assert standing.policy_digest == BUNDLE.digest and standing.decision_id


OWNERS = parse("governance.yaml @alice @bob @jane.smith\n")
CONFIG_POLICY = ApprovalPolicy(
    required=(), roles={"ml_lead": RoleDefinition(frozenset({"alice"}))}, bots=frozenset())


@pytest.mark.parametrize("case, reviews, missing", CASES, ids=[c[0] for c in CASES])
def test_config_record_agrees_with_the_gate(case: str, reviews: Any,
                                            missing: set[str]) -> None:
    """A governance change needs no role, only a counted review from an owner of every changed
    path: the reviews the gate counts as a person's are the approvals recorded."""
    # only the case's odd review: does it alone make the change approved?
    odd = [r for r in reviews if r not in APPROVED] or list(reviews)
    got = facts(*odd, codeowners=OWNERS, changed_files=("governance.yaml",))
    standing = pr_standing(CONFIG_POLICY, got, environment=None)
    review_facts = config_review(PullRequestEvaluation(CONFIG_POLICY, got, standing), 7,
                                 ("governance.yaml",))
    decision = decide_config_change(("governance.yaml",), review_facts, (), {})
    counted = {a["actor_id"] for a in review_facts.approvals}
    assert counted == set(standing.reviewers)
    owners_counted = counted & {"alice", "bob", "jane.smith"}
    assert decision.approved == bool(owners_counted) == (standing.outcome == "approved")
    expected = {"enough approvals": True, "missing role": True, "author self-approval": False,
                "stale approval": False, "bot": False, "non-member": False}[case]
    assert decision.approved is expected, (case, review_facts.reasons)
    if not expected:
        assert decision.event_type == "policy_violation"
        assert any(" counted approval from a code owner" in p or "no counted approval" in p
                   for p in decision.event["details"]["problems"])  # type: ignore[index]


def test_governance_policy_reads_the_config_roles() -> None:
    """``governance_policy`` (what config record judges with) requires no role."""
    from governance.approvals.policy import config_at
    config = config_at((ROOT / "governance.yaml").read_bytes(), "governance.yaml")
    assert governance_policy(config).required == ()


# --- the ledger: approve's recorded verdict, replayed --------------------------------------

D1 = "sha256:" + "a1" * 32
D0 = "sha256:" + "b2" * 32
LIFECYCLE = {"roles": {"risk_owner": ["jane.smith"], "platform_owner": ["bob"]},
             "environments": [{"name": "staging", "required_approvals": ["risk_owner"]},
                              {"name": "production", "after": "staging",
                               "required_approvals": ["risk_owner", "platform_owner"]}]}


def _replay(approvals: list[tuple[str, str, str, bool]],
            verdict: dict[str, Any] | None, *, lifecycle: dict[str, Any] | None = None,
            approvers: list[str] | None = None) -> str | None:
    """Fold the genesis, the approvals (actor, role, digest, granted) and a release_approved of
    D1 carrying ``verdict``; the replay's reason for refusing it, or None."""
    replay = LifecycleReplay()
    events: list[dict[str, Any]] = [{"event_type": "ledger_genesis",
                                     "details": {"lifecycle": lifecycle or LIFECYCLE}}]
    for actor, role, digest, granted in approvals:
        events.append({"event_type": "approval_granted" if granted else "approval_denied",
                       "release_id": "r1", "actor_id": actor, "actor_role": role,
                       "release_digest": digest})
    details = ({"environment": "production"} | ({"verdict": verdict} if verdict else {})
               | ({"approvers": approvers} if approvers is not None else {}))
    events.append({"event_type": "release_approved", "release_id": "r1", "actor_id": "bob",
                   "release_digest": D1, "details": details})
    for seq, event in enumerate(events):
        event.update(seq=seq, event_id=f"e{seq}", timestamp=f"2026-01-01T00:00:{seq:02d}Z")
        reason = replay.check(seq, event)
        if reason is not None:
            return reason
    return None


def _verdict(*counted: tuple[str, str, str], **extra: Any) -> dict[str, Any]:
    return {"policy_digest": "git-tree:" + "1" * 40, "input_digest": "sha256:" + "2" * 64,
            "decision_id": "0190b7d6-0000-7000-8000-000000000000", "engine": "regopy",
            "environment": "production", "allow": True,
            "counted": [{"role": r, "actor_id": a, "event_id": e} for r, a, e in counted],
            **extra}


ENOUGH = [("jane.smith", "risk_owner", D1, True), ("bob", "platform_owner", D1, True)]
BOTH = (("risk_owner", "jane.smith", "e1"), ("platform_owner", "bob", "e2"))

# (case, approvals on the ledger, the verdict recorded, a needle of the refusal or None)
LEDGER_CASES = [
    ("enough approvals", ENOUGH, _verdict(*BOTH), None),
    ("an event naming no count", ENOUGH, None, "names no counted approvals"),
    ("missing role", ENOUGH[:1], _verdict(BOTH[0]), "role platform_owner has no signed"),
    ("stale digest", [ENOUGH[0], ("bob", "platform_owner", D0, True)], _verdict(*BOTH),
     "counts bob as platform_owner, who signed no approval of this digest in that role"),
    ("approved again after a change of content back to the same digest",
     [*ENOUGH, ("bob", "platform_owner", D0, True)], _verdict(*BOTH), None),
    ("a standing denial", [*ENOUGH, ("jane.smith", "risk_owner", D1, False)],
     _verdict(*BOTH), "jane.smith denied as risk_owner"),
    ("the verdict names an approval that is not on the ledger", ENOUGH,
     _verdict(BOTH[0], ("platform_owner", "bob", "e9")),
     "approval e9 as platform_owner, which is not their signed approval of this digest (e2)"),
    ("the verdict did not allow", ENOUGH, _verdict(*BOTH, allow=False), "did not allow"),
    ("the verdict is for another environment", ENOUGH, _verdict(*BOTH, environment="staging"),
     "is for 'staging'"),
    ("the verdict has no policy digest", ENOUGH, _verdict(*BOTH, policy_digest=None),
     "details.verdict.policy_digest is missing"),
    ("the verdict counts nobody for a role", ENOUGH, _verdict(BOTH[0]),
     "counts nobody for role platform_owner"),
]


@pytest.mark.parametrize("case, approvals, verdict, needle", LEDGER_CASES,
                         ids=[c[0] for c in LEDGER_CASES])
def test_replay_checks_the_recorded_verdict_against_the_signed_facts(
    case: str, approvals: list[tuple[str, str, str, bool]], verdict: dict[str, Any] | None,
    needle: str | None,
) -> None:
    reason = _replay(approvals, verdict)
    if needle is None:
        assert reason is None
    else:
        assert reason is not None and needle in reason, reason
        assert "is not supported by the counted approvals for 'production'" in reason


def test_replay_refuses_a_non_member_before_any_verdict() -> None:
    """A non-member's approval is refused when it is appended (the ledger pins membership), so
    no verdict can count it."""
    reason = _replay([("mallory", "platform_owner", D1, True)], None)
    assert reason is not None and "mallory is not a member of role 'platform_owner'" in reason


# bob holds both roles: the gate fills every role slot with a different person
BOB_BOTH = {**LIFECYCLE, "roles": {"risk_owner": ["jane.smith", "bob"], "platform_owner": ["bob"]}}
BOB_TWICE = [("bob", "risk_owner", D1, True), ("bob", "platform_owner", D1, True)]


def test_replay_refuses_a_verdict_that_fills_two_slots_with_one_person() -> None:
    """An approver holding two roles who signs both grants and writes a release_approved whose
    verdict counts them twice is refused: the record is not a count the gate makes."""
    verdict = _verdict(("risk_owner", "bob", "e1"), ("platform_owner", "bob", "e2"))
    reason = _replay(BOB_TWICE, verdict, lifecycle=BOB_BOTH)
    assert reason is not None
    assert "fills 2 slots (risk_owner, platform_owner) with one person, bob" in reason
    honest = [*BOB_TWICE, ("jane.smith", "risk_owner", D1, True)]
    fair = _verdict(("risk_owner", "jane.smith", "e3"), ("platform_owner", "bob", "e2"))
    assert _replay(honest, fair, lifecycle=BOB_BOTH) is None


@pytest.mark.parametrize("approvers, needle", [
    (["risk_owner:bob", "platform_owner:bob"], "fills 2 slots"),
    (["risk_owner:jane.smith", "platform_owner:bob"], "who signed no approval of this digest"),
    ("bob", "details.approvers is not a list"),
    ([], "details.approvers names nobody for role risk_owner"),
    (["platform_owner:bob"], "details.approvers names nobody for role risk_owner"),
])
def test_replay_checks_the_approvers_of_an_event_without_a_verdict(approvers: Any,
                                                                   needle: str) -> None:
    """Without a verdict (written before approve recorded one) the named approvers are held to
    the same shape: each a signed approval of the digest, one slot each."""
    reason = _replay(BOB_TWICE, None, lifecycle=BOB_BOTH, approvers=approvers)
    assert reason is not None and needle in reason, reason
    assert _replay(ENOUGH, None, approvers=["risk_owner:jane.smith",
                                             "platform_owner:bob"]) is None
