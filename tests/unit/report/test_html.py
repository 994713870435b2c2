"""The HTML report, pure: summary first, decisions with their meaning, values formatted by
kind (no Python literals), identifiers shortened and copyable, self-contained and printable."""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree

from governance.report.html import decision_meaning, render_html
from governance.report.values import duration_text, ident, number_text, short_id, value
from tests.unit.report.stories import (
    MODEL,
    break_glass_story,
    build,
    demo_story,
    rollback_target_story,
)


def _text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", body))
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ([;:,.)])", r"\1", text)


def test_no_python_literals_in_any_story() -> None:
    for story in (demo_story(), rollback_target_story(), break_glass_story()):
        text = _text(render_html(story))
        for literal in (r"\bTrue\b", r"\bFalse\b", r"\bNone\b", r"\{'", r"\['", r"': "):
            assert not re.search(literal, text), (literal, re.search(literal, text))


def test_summary_comes_first_and_answers_the_auditor() -> None:
    html = render_html(demo_story())
    summary = html[html.index("<section id='summary'"):html.index("<section id='timeline'")]
    assert html.index("id='summary'") < html.index("<details")
    text = _text(summary)
    assert "is live in staging" in text and "state rolled back" in text
    assert "production: live for 8 s" in text and "rolled back to fraud-risk-2026-03-28-01" in text
    assert "alice approved sha256:" in text and "complete for production" in text
    assert "allow, with warnings" in text and "p95 latency 42 ms is above 40 ms" in text
    assert "remediation: profile the <new> features" in text  # escaped in the HTML
    assert "&lt;new&gt;" in summary
    assert "declared: roll back to fraud-risk-2026-03-28-01" in text
    assert "incident inc-4821" in text and "none open" in text


def test_a_rollbacks_denied_gates_are_a_warning_not_a_deny() -> None:
    word, kind, meaning = decision_meaning({"allow": False, "blocking": False})
    assert (word, kind) == ("warning", "warn") and "not blocked" in meaning
    text = _text(render_html(rollback_target_story()))
    assert "made live again by rollback in production: warning" in text
    assert "deny" not in text.split("Timeline")[0]


def test_decision_words() -> None:
    assert decision_meaning({"allow": True})[0] == "allow"
    assert decision_meaning({"allow": True, "warnings": [{"gate_id": "g", "msg": "m"}]})[0] \
        == "allow, with warnings"
    assert decision_meaning({"allow": False, "failures": [{"gate_id": "g", "msg": "m"}]})[:2] \
        == ("deny", "deny")
    assert decision_meaning({"allow": False, "undecided": "engine down"})[0] \
        == "could not decide"


def test_open_break_glass_review_is_in_the_summary() -> None:
    html = render_html(break_glass_story())
    text = _text(html[:html.index("<section id='timeline'")])
    assert "open break glass review for fraud-risk-2026-04-10-01 in production" in text
    assert "incident inc-9001" in text and "NOT complete" in text
    assert "via BREAK-GLASS" in text


def test_ids_are_short_on_screen_and_whole_in_text_and_title() -> None:
    digest = "sha256:" + "b2" * 32
    element = ElementTree.fromstring(ident(digest))
    assert element.text == digest and element.get("title") == digest
    assert element.get("style") == f"--w:{len(short_id(digest))}ch"
    assert short_id(digest) == "sha256:b2b2b2b2b2b2…"
    event = "01a247bd-7955-705d-a0b3-28b2d4a7e9bb"
    tail = ElementTree.fromstring(ident(event))
    assert "tail" in (tail.get("class") or "") and "".join(tail.itertext()) == event


def test_values_by_kind() -> None:
    assert value("allow", True) == "yes" and value("x", None).endswith("—</span>")
    assert "2026-12-05 19:45:29 UTC" in value("since", "2026-12-05T19:45:29.429201Z")
    assert "<dl" in value("window", {"start": "2025-10-01", "end": "2026-03-31"})
    assert value("v", "fraud-risk-2026-03-28-01") == \
        "<span class='tok'>fraud-risk-2026-03-28-01</span>"
    assert "/<wbr>" in value("uri", "s3://models/fraud-risk/2026-04-10/model.joblib")
    assert number_text(0.1 + 0.2) == "0.3" and number_text(42.0) == "42"
    assert [duration_text(s) for s in (6.4, 8, 312, 3 * 3600 + 300, 12 * 86400)] == \
        ["6.4 s", "8 s", "5 min 12 s", "3 h 5 min", "12 d"]


def test_self_contained_and_printable() -> None:
    html = render_html(demo_story())
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", html)
    style = html[html.index("<style>"):html.index("</style>")]
    assert "@media print" in style and "details::details-content" in style
    print_css = style[style.index("@media print"):]
    assert "box-shadow:none" in print_css and "break-inside:avoid" in print_css
    assert html.count("<details") >= 10


def test_metric_chart_shows_sign_magnitude_and_units() -> None:
    html = render_html(demo_story())
    chart = html[html.index("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"metrics\""):]
    chart = chart[:chart.index("</svg>") + 6]
    root = ElementTree.fromstring(chart)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("40 ms → 42 ms" in t for t in texts)
    assert any(t.startswith("+2 ms (+5%)") for t in texts)
    assert any(t.startswith("−0.005") for t in texts)  # a fall, with a minus sign
    bars = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert len(bars) >= 4


def test_a_release_with_no_ledger_events() -> None:
    html = render_html(build(f"{MODEL}-2026-04-10-01", None, []))
    text = _text(html)
    assert "is not live anywhere" in text and "Never promoted anywhere" in text
    assert "No promotions or rollbacks recorded" in text
    assert "No gate evaluation recorded" in text and "Nothing to compare" in text
    assert not re.search(r"\b(True|False|None)\b", text)
