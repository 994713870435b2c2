"""The compiled schema pre-check never calls valid what jsonschema calls invalid."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.domain.events import EVENT_FIELDS, EVENT_TYPES
from governance.ledger.events import _fast, _validator, build_event
from tests.unit.ledger.test_ledger_crypto import MINIMAL

scalars = (st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
           | st.sampled_from(["", "m", "Not A Slug", "sha256:" + "0" * 64, "0" * 64,
                              "approved", "denied", "2026-01-01T00:00:00Z", "ssh-ed25519 AAAA"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["op", "principal", "key", "uri",
                                                         "result", "pr"]), inner, max_size=3),
                      max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(EVENT_TYPES),
       edits=st.lists(st.tuples(st.sampled_from([*EVENT_FIELDS, "extra"]), values), max_size=3),
       drop=st.lists(st.sampled_from(EVENT_FIELDS), max_size=2))
def test_fast_check_agrees_with_jsonschema(kind: str, edits: list[tuple[str, Any]],
                                           drop: list[str]) -> None:
    event: dict[str, Any] = build_event(kind, MINIMAL[kind])
    event.update({"seq": 0 if kind == "ledger_genesis" else 1, "prev": "", "actor_id": "jane"})
    for key, value in edits:
        event[key] = value
    for key in drop:
        event.pop(key, None)
    fast = _fast(kind)
    assert fast is not None
    verdict = fast(event)
    errors = list(_validator(kind).iter_errors(event))
    if verdict is True:
        assert errors == [], errors
    if verdict is False:
        assert errors != []


def test_event_text_and_seq_are_bounded() -> None:
    """Issue 16: a recorded reason, incident or role has a size, and seq fits SQLite's integer;
    both the compiled check and jsonschema refuse past the bound."""
    from governance.ledger.events import schema_errors

    base: dict[str, Any] = build_event("policy_violation", MINIMAL["policy_violation"])
    base.update({"seq": 1, "prev": "", "actor_id": "jane"})
    assert schema_errors(base) == []
    for key, value in (("reason", "x" * 16_385), ("incident", "i" * 1_025),
                       ("actor_role", "r" * 129), ("seq", 2 ** 63)):
        event = {**base, key: value}
        assert schema_errors(event), key
        fast = _fast("policy_violation")
        assert fast is not None and fast(event) is not True, key
    assert schema_errors({**base, "reason": "x" * 16_384}) == []
