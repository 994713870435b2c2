"""Output channels stay safe with hostile text (issue 16, item 5): terminal, JSON, markdown,
JUnit XML and GitHub workflow commands, each checked with its own parser where one exists."""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.errors import InvalidInput, NotFound, Problem, Undecided
from governance.policy.gates import GateDecision, Violation
from governance.policy.report import (
    STOPPED_RENDERERS,
    render_github,
    render_json,
    render_junit,
    render_markdown,
    render_text,
)
from governance.safe_text import (
    escape_json,
    join_lines,
    keep_lines,
    md_code,
    md_fence,
    md_link,
    md_text,
    one_line,
    xml_safe,
)

FORGED = "bad\n      17  2026-01-01T00:00:00Z  approval_granted   forged\x1b[2J\x1b]0;t\x07"
HOSTILE = ("<script>alert(1)</script> [click](javascript:alert(1)) ![i](data:text/html,x) "
           "<javascript:alert(1)> a|b **x** ```\n# heading\n``` \u202egnp.exe \x9b31m \u2028"
           " \x00 \r\n%0A::error::x")
_UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _unsafe(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in _UNSAFE]


# --- terminal ---------------------------------------------------------------------------------


def test_one_line_escapes_newlines_ansi_and_bidi() -> None:
    shown = one_line(FORGED + "\u202e\u200b\x85\x7f\t")
    assert "\n" not in shown and _unsafe(shown) == []
    assert shown == ("bad\\n      17  2026-01-01T00:00:00Z  approval_granted   forged\\x1b[2J"
                     "\\x1b]0;t\\x07\\u202e\\u200b\\x85\\x7f\\t")


def test_printable_text_is_unchanged() -> None:
    for text in ("fraud-risk-2026-04-10-01", "Zoë — 100 % «ok» 日本", "C:\\path\\n (literal)"):
        assert one_line(text) == text


def test_join_lines_keeps_one_record_per_line() -> None:
    text = join_lines(["first", FORGED, "third"])
    assert text.split("\n")[0] == "first" and text.split("\n")[2] == "third"
    assert len(text.split("\n")) == 3 and _unsafe(text.replace("\n", "")) == []
    assert keep_lines(text) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_every_record_is_one_safe_line(records: list[str]) -> None:
    text = join_lines(records)
    lines = text.split("\n")
    assert len(lines) == max(1, len(records))
    assert all(_unsafe(line) == [] for line in lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), st.text(alphabet=st.characters(
    min_codepoint=0x20, max_codepoint=0x7E)), st.integers()), max_size=8))
def test_the_joined_text_is_each_record_escaped(records: list[object]) -> None:
    """``join_lines`` checks the joined text in one pass when nothing needs escaping: the
    same text as escaping each record on its own."""
    assert join_lines(records) == "\n".join(one_line(str(r)) for r in records)
    assert join_lines(iter(records)) == join_lines(records)


# --- JSON ---------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(), inner, max_size=3), max_leaves=10))
def test_json_stays_exact_and_shows_no_raw_control(value: object) -> None:
    text = escape_json(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(text) == value
    assert _unsafe(text.replace("\n", "")) == []


def test_json_escapes_c1_bidi_and_astral_private_use() -> None:
    value = {"r": "a\x9bb\u202ec\u2028d\U000f0000"}
    text = escape_json(json.dumps(value, ensure_ascii=False))
    assert "\\u009b" in text and "\\u202e" in text and "\\udb80\\udc00" in text
    assert json.loads(text) == value


def test_json_fast_path_rests_on_printable_implying_safe() -> None:
    """escape_json returns an indented document unchanged when it is printable once its line
    breaks are taken out: that holds only if no printable character is one it escapes (checked
    for every code point of this Python's Unicode database), and an escape still shows inside
    an indented document."""
    from governance.safe_text import _unsafe as unsafe

    assert not [c for c in range(0x110000) if chr(c).isprintable() and unsafe(chr(c))]
    plain = json.dumps({"a": ["x y", 1], "b": "\u00e9t\u00e9"}, indent=2, ensure_ascii=False)
    assert "\n" in plain and escape_json(plain) is plain
    nbsp = json.dumps({"a": "x\u00a0y"}, indent=2, ensure_ascii=False)  # not printable, safe
    assert escape_json(nbsp) is nbsp
    bidi = json.dumps({"a": ["x\u202ey"]}, indent=2, ensure_ascii=False)
    assert escape_json(bidi) == bidi.replace("\u202e", "\\u202e")


# --- markdown -----------------------------------------------------------------------------------


def _html(markdown: str) -> str:
    """``markdown`` rendered by a real CommonMark renderer (markdown-it-py, which typer's rich
    already brings) with raw HTML passed through and GFM tables on, as GitHub would take it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(
        markdown)


def _no_active_html(html: str) -> None:
    """Only the tags markdown itself makes; no link, image or script from the text."""
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"p", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "h1",
                    "h2", "h3", "ul", "ol", "li", "strong", "em", "sub"}, tags
    assert "href=" not in html and "src=" not in html, html


def _no_active_markdown(text: str) -> None:
    assert "\n" not in text and not re.search(r"(?<!\\)\|", text)  # one table cell
    _no_active_html(_html(f"| a |\n|---|\n| {text} |\n\nparagraph {text} end"))


def test_md_text_neutralises_html_links_and_cells() -> None:
    shown = md_text(HOSTILE)
    _no_active_markdown(shown)
    assert "&lt;script&gt;" in shown


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_md_text_never_active(text: str) -> None:
    _no_active_markdown(md_text(text))


def test_md_code_and_fence_are_longer_than_any_backtick_run() -> None:
    assert md_code("a``b") == "```a``b```"
    assert md_code("`x`") == "`` `x` ``"
    lines = md_fence("x\n```\n````\ndone")
    fence = lines[0]
    assert fence == "`````" and lines[-1] == fence
    assert all(not line.startswith(fence) for line in lines[1:-1])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("`~\n ax<")))
def test_md_fence_cannot_be_closed_from_inside(text: str) -> None:
    lines = md_fence(text)
    fence = lines[0]
    assert fence.strip("`") == "" and len(fence) >= 3 and lines[-1] == fence
    # CommonMark 4.5: a closing fence is a run of at least as many backticks
    for line in lines[1:-1]:
        run = re.match(r" {0,3}(`+)", line)
        assert run is None or len(run.group(1)) < len(fence)


def test_md_fence_renders_as_one_code_block() -> None:
    text = "reason: x\n```\n<script>alert(1)</script>\n[a](javascript:b)\n````"
    html = _html("\n".join(["before", *md_fence(text), "after"]))
    assert html.count("<pre>") == 1 and html.index("after") > html.index("</pre>")
    assert "&lt;script&gt;" in html
    _no_active_html(html)


def test_md_link_only_links_http() -> None:
    for target in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>",
                   "vbscript:x", "//evil.example", "https://ok.example/a b", "https://x\n"):
        assert "](" not in md_link("label", target), target
    assert md_link("evaluation", "https://ci.example/run/1") == \
        "[evaluation](<https://ci.example/run/1>)"


# --- XML ----------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_xml_safe_text_always_parses(text: str) -> None:
    from xml.sax.saxutils import escape, quoteattr

    doc = f"<a b={quoteattr(xml_safe(text))}>{escape(xml_safe(text))}</a>"
    ET.fromstring(doc.encode("utf-8", "surrogatepass"))


# --- gate renderers with hostile messages -------------------------------------------------------


def _hostile_decision() -> GateDecision:
    v = Violation(gate_id="metric_thresholds", msg=HOSTILE, severity="high",
                  remediation=FORGED, level="deny", document="release", field="$.x")
    w = Violation(gate_id="evaluation_fresh", msg=FORGED, severity="low", remediation="-",
                  level="warn")
    return GateDecision(release_id="fraud-risk-2026-04-10-01", model_name="fraud-risk",
                        environment=None, mode="readiness", allow=False, failures=(v,),
                        warnings=(w,), pending=({"gate_id": "required_approvals",
                                                 "msg": HOSTILE},),
                        files={"release": "releases/x/release.yaml"},
                        record={"decision_id": "d-1", "policy_digest": HOSTILE})


def test_gate_text_one_record_per_line() -> None:
    text = render_text([_hostile_decision()], {})
    assert _unsafe(text.replace("\n", "")) == []
    assert not any(line.lstrip().startswith("17  2026") for line in text.split("\n"))


def test_gate_junit_is_well_formed_with_hostile_text() -> None:
    root = ET.fromstring(render_junit([_hostile_decision()], {}).encode())
    failure = root.find(".//failure")
    assert failure is not None and "<script>" in (failure.get("message") or "")


def test_gate_github_commands_cannot_be_injected() -> None:
    out = render_github([_hostile_decision()], {})
    for line in out.split("\n"):
        assert re.match(r"::(error|warning|notice)( [^:]*)?::", line), line
        assert _unsafe(line) == []
    assert "%0D%0A%250A::error::x" in out  # CR, LF and a literal %0A of the text all escaped
    assert len(out.split("\n")) == 3  # one command per finding, nothing injected


def test_gate_markdown_neutralises_html_and_links() -> None:
    out = render_markdown([_hostile_decision()], {})
    _no_active_html(_html(out))
    assert "<script" not in _html(out) and "&lt;script&gt;" in _html(out)
    assert _unsafe(out.replace("\n", "")) == []


def test_gate_json_exact() -> None:
    doc = json.loads(render_json([_hostile_decision()], {}))
    assert doc["results"][0]["failures"][0]["msg"] == HOSTILE


# --- a check that stopped before deciding ---------------------------------------------------------

_INVALID = InvalidInput([
    Problem("releases/m/r/release.yaml", 7, "$.artifact_uri", "unknown field <x>\x1b[31m",
            "did you mean 'artifact'?"),
    Problem("releases/m/r/model-card.yaml", None, "$", "not a mapping")],
    message="release r is invalid")


def test_stopped_junit_has_a_located_failing_testcase() -> None:
    root = ET.fromstring(STOPPED_RENDERERS["junit"](_INVALID, ("r",)).encode())
    cases = root.findall(".//testcase")
    assert len(cases) == 2 and root.get("failures") == "2" and root.get("tests") == "2"
    first = cases[0]
    assert first.get("file") == "releases/m/r/release.yaml" and first.get("line") == "7"
    failure = first.find("failure")
    assert failure is not None and "unknown field <x>\\x1b[31m" in (failure.get("message") or "")
    undecided = ET.fromstring(STOPPED_RENDERERS["junit"](Undecided("engine gone"), ()).encode())
    assert undecided.find(".//error") is not None and undecided.get("errors") == "1"


def test_stopped_github_annotation_located_and_escaped() -> None:
    out = STOPPED_RENDERERS["github"](_INVALID, ("r",)).split("\n")
    assert out[0].startswith("::error file=releases/m/r/release.yaml,line=7,title=governance%3A "
                             "$.artifact_uri::unknown field <x>\\x1b[31m%0Ahint: ")
    assert out[1].startswith("::error file=releases/m/r/model-card.yaml,title=")
    bare = STOPPED_RENDERERS["github"](NotFound("unknown release 'x,y:z'"), ("x",))
    assert bare.startswith("::error title=governance%3A $::unknown release 'x,y:z'")


def test_stopped_json_and_markdown() -> None:
    doc = json.loads(STOPPED_RENDERERS["json"](_INVALID, ("r",)))
    assert doc["error"]["problems"][0]["line"] == 7 and doc["results"] == []
    md = STOPPED_RENDERERS["markdown"](_INVALID, ("r",))
    assert "&lt;x&gt;" in md and "<x>" not in md and "| 7 |" in md
    _no_active_html(_html(md))


def test_keep_lines_fast_path_answers_as_the_line_by_line_escape() -> None:
    """Printable ASCII with line breaks is returned as it is without the per-line pass; any
    other character (every ASCII control, DEL, a non-ASCII printable or format character)
    gives what escaping each line gives."""
    from governance.safe_text import one_line

    def slow(text: str) -> str:
        return "\n".join(one_line(line) for line in text.split("\n"))

    samples = ["", "\n", "a\nb", "plain line\nanother (ml_lead) ~!@#$%^&*()_+{}|:<>?"]
    samples += [f"before{chr(c)}after\nnext" for c in [*range(0x20), 0x7F]]
    samples += ["caf\u00e9\nok", "bidi \u202e trick\nok", "zero\u200bwidth", "\u2028sep", "\x85nel"]
    for text in samples:
        assert keep_lines(text) == slow(text), repr(text)
    assert keep_lines("a\x1b[31mred\nb") == "a\\x1b[31mred\nb"
