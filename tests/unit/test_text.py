"""Value-kind formatters (governance/text.py) and what a decision summary means in words."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from governance import text
from governance.audit.queries import decision_word

REPR = re.compile(r"\{'|\['|\bNone\b|\bTrue\b|\bFalse\b")


def test_each_kind_reads_as_words() -> None:
    assert text.window({"start": "2025-10-01", "end": "2026-03-31"}) == "2025-10-01 to 2026-03-31"
    assert text.window({"start": "2025-10-01"}) == "from 2025-10-01"
    assert text.window({"end": "2026-03-31"}) == "until 2026-03-31"
    assert text.window(None) == "not stated"
    assert text.metrics({"auc": 0.94, "latency_p95_ms": 42}) == "auc 0.94, latency_p95_ms 42"
    assert text.metrics({}) == "none recorded"
    assert text.release_ref({"release_id": "r-1"}) == "r-1"
    assert text.release_ref({"disable": True, "reason": "first release"}) == \
        "switch the model off (first release)"
    assert text.release_ref(None) == "none declared"
    assert text.yes_no(True) == "yes" and text.yes_no(False) == "no"
    assert text.yes_no(None) == "none"
    assert text.items(["a", "b"]) == "a, b" and text.items([]) == "none"
    assert text.per_key({"production": None, "staging": "r1"}, missing="nothing") == \
        "production: nothing, staging: r1"
    assert text.when(datetime(2026, 4, 10, 9, 12, tzinfo=UTC)) == "2026-04-10T09:12:00Z"
    assert text.when(datetime(2026, 4, 10, 11, 12, tzinfo=timezone(timedelta(hours=2)))) == \
        "2026-04-10T09:12:00Z"
    assert text.when(None) == "unknown"
    assert text.number(42.0) == "42" and text.number(0.1 + 0.2) == "0.30000000000000004"
    assert text.number(math.inf) == "infinity" and text.number(math.nan) == "not a number"
    assert text.count(1, "event") == "1 event" and text.count(2, "event") == "2 events"


_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).filter(
    lambda s: not REPR.search(s))
_VALUE = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["start", "end", "auc", "release_id", "disable"]), inner, max_size=3),
    max_leaves=12)


@given(_VALUE)
def test_no_value_renders_as_a_python_literal(v: Any) -> None:
    assert not REPR.search(text.value(v))


def test_decision_words() -> None:
    assert decision_word({"decision_id": "d", "allow": True}) == "allow"
    assert decision_word({"allow": False}) == "deny"
    assert decision_word({"allow": True, "warnings": [{"msg": "w"}]}) == "allow with 1 warning"
    # a rollback records its target's gate result as advisory: a warning, never "deny"
    word = decision_word({"allow": False, "blocking": False})
    assert word.startswith("warning") and "deny" not in word
    assert decision_word({"allow": True, "blocking": False}) == "allow"
    assert decision_word(None) == "unknown" and decision_word({"result": None}) == "unknown"
    assert decision_word({"result": "allow"}) == "allow"


def test_diff_shows_changed_values_in_words() -> None:
    from governance.audit.diff import _show

    assert _show({"start": "2025-10-01", "end": "2026-03-31"}) == "2025-10-01 to 2026-03-31"
    assert _show({"holdout": "4 weeks", "stratified": True}) == "holdout: 4 weeks; stratified: yes"
    assert _show(["a", "b"]) == "(a, b)" and _show([]) == "(empty)"
    assert _show(None) == "-" and _show(False) == "no"
    assert _show({"uri": "s3://b/m", "sha256": "ab" * 32}) == "s3://b/m (sha256 abababababab)"
