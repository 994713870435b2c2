"""The HTML evidence report renders in a real headless Chromium and shows the timeline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from governance.report.html import render_html
from governance.report.timeline import PALETTE
from tests.unit.test_report import _report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run "
                                             "installs it)")
def test_html_report_screenshot_shows_the_timeline(tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "report.html"
    page.write_text(render_html(_report()), encoding="utf-8")
    shot = tmp_path / "report.png"
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
         "--window-size=1100,900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1100, 900)
    colours = {image.getpixel((x, y)) for x in range(0, 1100, 3) for y in range(0, 400, 3)}
    # The first two live spans are drawn in the first two palette colours, the rollback in red.
    for hex_colour in (*PALETTE[:2], "#d62728"):
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert any(all(abs(c - r) <= 8 for c, r in zip(px, rgb, strict=True))
                   for px in colours), f"{hex_colour} not found in the screenshot"
