"""The HTML evidence report renders in a real headless Chromium and shows the timeline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from governance.report.html import render_html
from governance.report.timeline import PALETTE
from tests.unit.test_report import _report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def screenshot(page: Path, work: Path, size: tuple[int, int] = (1100, 900)) -> Any:
    """Render ``page`` in headless Chromium; the screenshot as an RGB PIL image."""
    from PIL import Image

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    shot = work / f"{page.stem}.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={work / 'profile'}",
            "--hide-scrollbars",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == size
    return image


def missing_colours(image: Any, hex_colours: tuple[str, ...], rows: int = 400) -> list[str]:
    """The colours (``#rrggbb``) not found, within a small tolerance, in the top ``rows``."""
    width = image.size[0]
    seen = {image.getpixel((x, y)) for x in range(0, width, 3) for y in range(0, rows, 3)}
    missing = []
    for hex_colour in hex_colours:
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        if not any(all(abs(c - r) <= 8 for c, r in zip(px, rgb, strict=True)) for px in seen):
            missing.append(hex_colour)
    return missing


@needs_chromium
def test_html_report_screenshot_shows_the_timeline(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(_report()), encoding="utf-8")
    image = screenshot(page, tmp_path, (1280, 1200))
    # The first two live spans are drawn in the first two palette colours, the rollback in red.
    assert missing_colours(image, (*PALETTE[:2], "#d62728"), rows=1200) == []
