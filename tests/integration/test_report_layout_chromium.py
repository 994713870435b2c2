"""Layout facts of the HTML report, measured in a real headless Chromium at 1280x800.

A probe script is appended to a copy of the report (the report itself has none); it measures
the page after layout and writes the facts into the DOM as JSON, which ``--dump-dom`` returns.
"""

from __future__ import annotations

import json
import re
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from governance.report.html import render_html
from tests.integration.test_report_chromium import CHROMIUM, needs_chromium
from tests.unit.report.stories import break_glass_story, demo_story, rollback_target_story

PROBE = r"""
<script>
(function () {
  function boxes(svg) {
    return Array.from(svg.querySelectorAll('text')).map(function (t) {
      var r = t.getBoundingClientRect();
      return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom};
    });
  }
  function overlaps(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) for (var j = i + 1; j < list.length; j++) {
      var a = list[i], b = list[j];
      if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5)
        out.push([a.text, b.text]);
    }
    return out;
  }
  var facts = {innerWidth: window.innerWidth, innerHeight: window.innerHeight,
               scrollWidth: document.documentElement.scrollWidth,
               summaryBottom: document.getElementById('summary').getBoundingClientRect().bottom,
               overlaps: {}, stints: [], broken: [], overflowing: []};
  document.querySelectorAll('svg').forEach(function (svg, i) {
    facts.overlaps[svg.getAttribute('class') || ('svg' + i)] = overlaps(boxes(svg));
  });
  document.querySelectorAll('svg.timeline rect.stint').forEach(function (r) {
    facts.stints.push({title: r.querySelector('title').textContent,
                       width: r.getBoundingClientRect().width});
  });
  // Every element of the page as laid out: a token broken over two lines, or content wider
  // than its box.
  document.querySelectorAll('.tok, .rid, time').forEach(function (el) {
    if (el.getClientRects().length > 1) facts.broken.push(el.textContent);
  });
  document.querySelectorAll('td, dd, .card').forEach(function (el) {
    if (el.scrollWidth > el.clientWidth + 1) facts.overflowing.push(el.textContent.slice(0, 80));
  });
  // The print stylesheet applied as if printing: the closed sections' content shows.
  var printed = [];
  Array.from(document.styleSheets).forEach(function (sheet) {
    Array.from(sheet.cssRules).forEach(function (rule) {
      if (rule.media && rule.media.mediaText === 'print')
        Array.from(rule.cssRules).forEach(function (r) { printed.push(r.cssText); });
    });
  });
  var closed = document.querySelector('details:not([open]) dl, details:not([open]) table');
  facts.closedVisible = closed ? closed.checkVisibility() : null;
  var style = document.createElement('style');
  style.textContent = printed.join('\n');
  document.head.appendChild(style);
  facts.printedVisible = closed ? closed.checkVisibility() : null;
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(facts);
  document.body.appendChild(out);
})();
</script>
"""


def measure(html: str, work: Path, size: tuple[int, int] = (1280, 800)) -> dict[str, Any]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    page = work / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={work / 'profile'}", "--hide-scrollbars",
         f"--window-size={size[0]},{size[1]}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stdout[-2000:]
    facts: dict[str, Any] = json.loads(unescape(found.group(1)))
    # The width asked for (headless Chromium keeps some of the window's height for itself).
    assert facts["innerWidth"] == size[0]
    return facts


STORIES = {"demo": demo_story, "rollback target": rollback_target_story,
           "break-glass": break_glass_story}


@needs_chromium
@pytest.mark.parametrize("name", list(STORIES))
def test_layout_facts_at_1280(name: str, tmp_path: Path) -> None:
    facts = measure(render_html(STORIES[name]()), tmp_path)
    assert facts["scrollWidth"] <= 1280  # no horizontal scroll
    assert facts["summaryBottom"] <= 800  # the summary is above the fold
    assert "timeline" in facts["overlaps"]  # and "metrics" when there is a diff
    assert all(pairs == [] for pairs in facts["overlaps"].values()), facts["overlaps"]
    assert facts["broken"] == []  # no token wrapped in its middle
    assert facts["overflowing"] == []
    # Collapsed on screen, expanded when printed.
    assert facts["closedVisible"] is False and facts["printedVisible"] is True


@needs_chromium
@pytest.mark.parametrize("name", list(STORIES))
def test_every_section_expanded_fits_1280(name: str, tmp_path: Path) -> None:
    """The evidence sections opened: tables, lists and identifiers still fit, nothing breaks a
    token, nothing overflows its cell."""
    html = render_html(STORIES[name]()).replace("<details ", "<details open ")
    facts = measure(html, tmp_path)
    assert facts["scrollWidth"] <= 1280
    assert facts["broken"] == [] and facts["overflowing"] == []


@needs_chromium
def test_the_eight_second_stint_is_visible(tmp_path: Path) -> None:
    facts = measure(render_html(demo_story()), tmp_path)
    short = [s for s in facts["stints"] if "(8 s)" in s["title"]]
    assert len(short) == 1 and short[0]["width"] >= 6, facts["stints"]


@needs_chromium
def test_crowded_history_keeps_labels_apart_in_the_page(tmp_path: Path) -> None:
    from governance.lifecycle import LiveSpan
    from governance.report.timeline import render_timeline

    story = demo_story()
    stamps = [f"2026-12-05T19:45:{s:02d}Z" for s in range(10, 40, 2)]
    spans = tuple(LiveSpan(release_id=f"fraud-risk-2026-{i % 12 + 1:02d}-{i:02d}-01",
                           since=t, seq=i, event_id=f"e{i}", event_type="deployment_promoted",
                           actor_id="ci", digest=None,
                           until=stamps[i + 1] if i + 1 < len(stamps) else None)
                  for i, t in enumerate(stamps))
    svg = render_timeline("fraud-risk", {"production": spans, "a-very-long-environment-name":
                                         spans[::3]})
    html = render_html(story).replace(story.timeline_svg, svg)
    facts = measure(html, tmp_path)
    assert facts["overlaps"]["timeline"] == []
    assert facts["scrollWidth"] <= 1280
    assert len(facts["stints"]) == len(spans) + len(spans[::3])
    assert min(s["width"] for s in facts["stints"]) >= 4
