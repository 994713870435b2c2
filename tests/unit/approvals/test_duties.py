"""Separation of duties: every rule fires on its overlap, names the people, and only then."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.approvals.duties import (
    DUTIES,
    RULES,
    DutyHolders,
    duties_input,
    holders_from,
    separation_of_duties,
)


def test_distinct_identities_have_no_overlap() -> None:
    holders = holders_from(
        trainers=["tina"],
        pr_author="paul",
        committers=["paul", "chris"],
        approvers=["alice", "bob"],
        deployer="dora",
        audit_config_alterers=["audrey"],
    )
    assert separation_of_duties(holders) == ()
    data = duties_input(holders)
    assert data["overlaps"] == []
    assert data["duties"]["committer"] == ["chris", "paul"]


@pytest.mark.parametrize(("rule", "a", "b", "why"), RULES)
def test_each_rule_fires_on_its_pair(rule: str, a: str, b: str, why: str) -> None:
    holders = DutyHolders(**{a: frozenset({"Sam"}), b: frozenset({"sam"})})  # type: ignore[arg-type]
    overlaps = separation_of_duties(holders)
    assert [o.rule for o in overlaps] == [rule]
    assert overlaps[0].people == ("sam",)
    assert f"sam held both {a} and {b}" in overlaps[0].message
    assert rule in overlaps[0].message


def test_emails_map_to_people() -> None:
    holders = holders_from(
        approvers=["jane.smith"],
        deployer="Jane.Smith@example.com",
        people_emails={"jane.smith@example.com": "jane.smith"},
    )
    assert [o.rule for o in separation_of_duties(holders)] == ["sod-approver-deployer"]


def test_trainer_may_author_the_pr() -> None:
    # opening the release PR is the trainer's normal job; only approving/deploying is barred
    assert separation_of_duties(holders_from(trainers=["tina"], pr_author="tina")) == ()


people = st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=3)


@given(st.fixed_dictionaries(dict.fromkeys(DUTIES, people)))
def test_property_overlap_iff_shared_identity(sets: dict[str, frozenset[str]]) -> None:
    holders = DutyHolders(**sets)  # type: ignore[arg-type]
    fired = {o.rule for o in separation_of_duties(holders)}
    for rule, a, b, _ in RULES:
        assert (rule in fired) == bool(sets[a] & sets[b])
