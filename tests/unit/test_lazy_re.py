"""``governance.domain.lazy_re``: a pattern compiled on first use answers as the compiled one
(issue 18: no regex compiled at import on the read queries' path)."""

from __future__ import annotations

import re

import pytest

from governance.domain.lazy_re import lazy
from governance.ledger import refs

SAMPLES = ["", "abc", "a_b", "`x`", "0" * 40, "2026-04-10T09:14:11Z", "line\nnext", "é_ü"]


@pytest.mark.parametrize("source", [r"^[0-9a-f]{40}\Z", r"([\\`*\[\]|~]|_(?![^\W_])|(?<![^\W_])_)",
                                    r"`+", r"^created_at:\s*(\S+)"])
def test_a_lazy_pattern_answers_as_the_compiled_one(source: str) -> None:
    pattern, compiled = lazy(source, re.MULTILINE), re.compile(source, re.MULTILINE)
    assert "compiled" not in vars(pattern)  # nothing compiled yet
    for text in SAMPLES:
        assert bool(pattern.match(text)) == bool(compiled.match(text))
        assert bool(pattern.fullmatch(text)) == bool(compiled.fullmatch(text))
        assert pattern.findall(text) == compiled.findall(text)
        assert pattern.sub("-", text) == compiled.sub("-", text)
    assert vars(pattern)["compiled"] is compiled  # compiled once, re's cache: the same object
    assert pattern.pattern == source and pattern.flags == compiled.flags


def test_a_bad_pattern_fails_when_used() -> None:
    pattern = lazy("(unclosed")
    with pytest.raises(re.error):
        pattern.match("x")


def test_bytes_patterns() -> None:
    pattern = lazy(rb"\nLedger-Event-Id: ([0-9a-f-]{1,64})\n")
    found = pattern.search(b"x\nLedger-Event-Id: 12-ab\ny")
    assert found is not None and found.group(1) == b"12-ab"


_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")


@pytest.mark.parametrize("text", ["a" * 40, "a" * 64, "a" * 41, "a" * 39, "a" * 63, "A" * 40,
                                  "g" + "a" * 39, "a" * 40 + "\n", " " + "a" * 39,
                                  "a" * 20 + "-" + "a" * 19, "", "٠" * 40, "a" * 52 + "x" * 12])
def test_an_object_id_is_what_the_former_regex_matched(text: str) -> None:
    assert refs._is_oid(text) == bool(_OID.match(text))
