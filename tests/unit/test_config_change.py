"""Which event a merged governance change records (pure decision; the CLI test covers I/O)."""

from __future__ import annotations

from governance.config_change import ReviewFacts, decide_config_change, governance_paths

HEAD = "a" * 40
SOURCE = {"merge_sha": "b" * 40}


def review(**kw: object) -> ReviewFacts:
    from dataclasses import replace

    base = ReviewFacts(number=7, head_sha=HEAD, outcome="approved", reasons=(),
                       approvals=({"actor_id": "bob", "review_id": 1, "head_sha": HEAD},),
                       unowned=(), pr_files=("governance.yaml",))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_governance_paths() -> None:
    assert governance_paths(["governance.yaml", "policies/a.rego", ".github/CODEOWNERS",
                             "releases/m/r/release.yaml", "environments/x.yaml",
                             "governance.yaml.bak"]) == (
        ".github/CODEOWNERS", "governance.yaml", "policies/a.rego")


def test_approved_change_carries_who_review_head_and_pr() -> None:
    d = decide_config_change(["governance.yaml"], review(), [], SOURCE)
    assert d.approved and d.event_type == "config_changed"
    assert d.event is not None
    assert d.event["source"] == {"merge_sha": "b" * 40, "pr": 7, "head_sha": HEAD}
    assert d.event["details"]["approvals"] == [{"actor_id": "bob", "review_id": 1,
                                                "head_sha": HEAD}]
    assert "approved at aaaaaaaaaaaa by bob" in d.event["reason"]


def test_nothing_changed_records_nothing() -> None:
    assert decide_config_change([], None, [], SOURCE).event is None


def test_every_failure_is_a_violation_with_its_reason() -> None:
    cases = [
        (None, [], "without a merged pull request"),
        (review(outcome="denied", reasons=("no counted approval from a code owner",)), [],
         "no counted approval from a code owner"),
        (review(approvals=()), [], "has no counted approval at its head"),
        (review(unowned=("policies/x.rego",)), [], "no CODEOWNERS rule names an owner"),
        (review(), ["governance.yaml"], "changed by the merge"),
    ]
    for facts, differs, why in cases:
        d = decide_config_change(["governance.yaml"], facts, differs, SOURCE)
        assert not d.approved and d.event_type == "policy_violation", why
        assert d.event is not None and why in d.event["reason"]


def test_the_use_case_gathers_the_facts_through_its_ports_and_appends_the_decision() -> None:
    from collections.abc import Mapping
    from typing import Any

    from governance.config_change import ConfigChangePorts, record_config_change
    from governance.domain.events import LedgerEntry
    from tests.unit.test_lifecycle import ev

    calls: list[tuple[Any, ...]] = []
    appended: list[Mapping[str, Any]] = []

    def append(fields: Mapping[str, Any]) -> LedgerEntry:
        appended.append(fields)
        return ev(5, str(fields["event_type"]))

    def ports(objects: dict[tuple[str, str], str]) -> ConfigChangePorts:
        return ConfigChangePorts(
            changed=lambda before, after: ("README.md", "governance.yaml"),
            review=lambda pr, paths: calls.append((pr, paths)) or review(number=pr),
            object_at=lambda commit, path: objects.get((commit, path)),
            append=append)

    after = "b" * 40
    same = {(after, "governance.yaml"): "o1", (HEAD, "governance.yaml"): "o1"}
    done = record_config_change("c" * 40, after, 7, {"pusher": "jane"}, ports(same))
    assert calls == [(7, ("governance.yaml",))]
    assert done.paths == ("governance.yaml",) and done.decision.approved
    assert done.to_json() == {"paths": ["governance.yaml"], "event_type": "config_changed",
                              "seq": 5, "reason": appended[0]["reason"]}
    assert appended[0]["source"] == {"pusher": "jane", "merge_sha": after,
                                     "before_sha": "c" * 40, "pr": 7, "head_sha": HEAD}
    # the merge changed what was reviewed: a violation
    merged = {**same, (after, "governance.yaml"): "o2"}
    assert record_config_change("c" * 40, after, 7, {}, ports(merged)).decision.event_type \
        == "policy_violation"
    # a direct push: no review asked for, a violation
    calls.clear()
    direct = record_config_change("c" * 40, after, None, {}, ports(same))
    assert calls == [] and not direct.decision.approved
