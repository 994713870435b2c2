"""An SVG timeline of a model's promotions and rollbacks, one band per environment, legible at
any time scale.

Pure and dependency-free: ``layout_timeline`` computes the geometry (what is drawn where, in
SVG user units) and ``render_timeline`` writes it by hand with every text value XML-escaped.
The layout keeps three promises, each tested:

- **Short stints stay visible.** The time axis is linear except that consecutive change
  instants are kept at least ``MIN_GAP`` apart (a monotone warp): an 8-second stint in a
  month-long history is a visible bar, and its label and tooltip give its true duration.
- **Labels never overlap.** Release labels and tick labels are measured (conservatively, no
  font metrics needed) and stacked into rows, first fit, like interval scheduling.
- **The axis speaks the viewer's scale.** The tick step is chosen from the span: seconds,
  minutes, hours, days, weeks, months or years, aligned to the calendar in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from governance.domain.event_types import BREAK_GLASS, ROLLBACK_EXECUTED
from governance.lifecycle import LiveSpan
from governance.report.values import duration_text
from governance.timeparse import format_tick, from_seconds, parse_instant, to_seconds

WIDTH = 1100
LEFT = 100  # environment names
RIGHT = 16
MIN_GAP = 8.0  # least width between two change instants (a stint is never thinner)
FONT = 11.0
CHAR_W = 0.62  # em per character: above the average advance of sans-serif glyphs at 11 px
ROW = 15.0  # height of a label row
BAR = 16.0
PALETTE = ("#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#9d755d", "#bab0ac")
ROLLBACK = "#d62728"

_MONTH = 30 * 86400  # nominal, only to compare spans with month steps
_STEPS: tuple[tuple[str, int], ...] = (
    ("s", 1), ("s", 2), ("s", 5), ("s", 10), ("s", 15), ("s", 30),
    ("min", 1), ("min", 2), ("min", 5), ("min", 10), ("min", 15), ("min", 30),
    ("h", 1), ("h", 2), ("h", 3), ("h", 6), ("h", 12),
    ("d", 1), ("d", 2), ("w", 1), ("w", 2),
    ("mo", 1), ("mo", 2), ("mo", 3), ("mo", 6),
    ("y", 1), ("y", 2), ("y", 5), ("y", 10), ("y", 20), ("y", 50), ("y", 100),
)
_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": _MONTH,
            "y": 365 * 86400}


def text_width(text: str, size: float = FONT) -> float:
    """An upper estimate of the rendered width of ``text`` in a sans-serif font."""
    return len(text) * size * CHAR_W


def _ts(value: str) -> float:
    return to_seconds(parse_instant(value))


# --- ticks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    at: float  # POSIX seconds
    x: float
    label: str


def choose_step(span_seconds: float, max_ticks: int) -> tuple[str, int]:
    """The smallest calendar step giving at most ``max_ticks`` ticks over the span."""
    for unit, n in _STEPS:
        if span_seconds / (n * _SECONDS[unit]) <= max_ticks:
            return unit, n
    return _STEPS[-1]


def tick_instants(start: float, end: float, unit: str, n: int) -> list[float]:
    """Instants in [start, end] on the step's calendar grid (UTC)."""
    if unit in ("mo", "y"):
        months = n * (12 if unit == "y" else 1)
        first = datetime.fromtimestamp(start, UTC)
        index = first.year * 12 + first.month - 1
        index -= index % months
        out: list[float] = []
        while True:
            moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()
            if moment > end:
                return out
            if moment >= start:
                out.append(moment)
            index += months
    step = n * _SECONDS[unit]
    # Weeks start on Monday (1970-01-01 was a Thursday); other steps align to the epoch, which
    # is midnight UTC, so hours and days land on the clock's round values.
    offset = 4 * 86400 if unit == "w" else 0
    first_tick = ((start - offset) // step + 1) * step + offset
    if first_tick - step >= start:
        first_tick -= step
    ticks: list[float] = []
    moment = first_tick
    while moment <= end:
        ticks.append(moment)
        moment += step
    return ticks


def tick_label(moment: float, unit: str, span_seconds: float) -> str:
    """A tick's text at the step's precision; the date joins the time when the span crosses
    days."""
    return format_tick(from_seconds(moment), unit, span_seconds)


def axis_caption(start: float, end: float) -> str:
    a, b = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    if a.date() == b.date():
        return f"UTC, {a:%Y-%m-%d}"
    return f"UTC, {a:%Y-%m-%d} to {b:%Y-%m-%d}"


# --- the warp that keeps short stints visible -------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Time -> x: linear between anchors (the change instants), each anchor at least
    ``gap`` after the previous one."""

    anchors: tuple[tuple[float, float], ...]  # (time, x), both increasing

    def x(self, t: float) -> float:
        a = self.anchors
        if t <= a[0][0]:
            return a[0][1]
        for (t0, x0), (t1, x1) in zip(a, a[1:], strict=False):
            if t <= t1:
                return x0 + (x1 - x0) * (t - t0) / (t1 - t0)
        return a[-1][1]


def make_scale(instants: Sequence[float], start: float, end: float, x0: float, x1: float,
               gap: float = MIN_GAP) -> Scale:
    """The warped scale over [start, end] -> [x0, x1]. With many instants the gap shrinks so
    that at most half of the width goes to it."""
    points = sorted({start, end, *(t for t in instants if start <= t <= end)})
    steps = len(points) - 1
    width = x1 - x0
    gap = min(gap, width * 0.5 / steps) if steps else 0.0
    linear = (width - gap * steps) / (end - start)
    anchors = [(points[0], x0)]
    for t in points[1:]:
        prev_t, prev_x = anchors[-1]
        anchors.append((t, max(x0 + (t - start) * linear, prev_x + gap)))
    # Rounding can leave the last anchor a hair past the edge.
    anchors[-1] = (anchors[-1][0], min(anchors[-1][1], x1))
    return Scale(tuple(anchors))


# --- label rows -------------------------------------------------------------------------------


def stack_rows(intervals: Sequence[tuple[float, float]], pad: float = 6.0) -> list[int]:
    """First-fit rows for ``(left, right)`` intervals in the given order: no two intervals in
    one row overlap (with ``pad`` between them)."""
    ends: list[float] = []
    rows = []
    for left, right in intervals:
        for row, end in enumerate(ends):
            if left >= end + pad:
                ends[row] = right
                rows.append(row)
                break
        else:
            ends.append(right)
            rows.append(len(ends) - 1)
    return rows


def thin_ticks(ticks: Sequence[Tick], size: float, lo: float, hi: float,
               pad: float = 10.0) -> list[Tick]:
    """Drop tick labels that would overlap the one kept before them (centred labels) or
    reach past [lo, hi]."""
    kept: list[Tick] = []
    for tick in ticks:
        half = text_width(tick.label, size) / 2
        if tick.x - half < lo or tick.x + half > hi:
            continue
        if kept and tick.x - half < kept[-1].x + text_width(kept[-1].label, size) / 2 + pad:
            continue
        kept.append(tick)
    return kept


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    environment: str
    release_id: str
    x0: float
    x1: float
    y: float
    seconds: float | None  # true duration (None: still live)
    colour: str
    disabled: bool
    highlight: bool
    title: str
    marker: str | None  # rollback | break_glass


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float  # baseline
    width: float
    colour: str


@dataclass(frozen=True)
class Band:
    environment: str
    top: float
    bar_y: float


@dataclass(frozen=True)
class TimelineLayout:
    model: str
    width: float
    height: float
    bands: tuple[Band, ...]
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    ticks: tuple[Tick, ...]
    axis_y: float
    caption: str


def _span_label(span: LiveSpan, model: str, seconds: float | None) -> str:
    if span.disabled:
        what = "switched off"
    else:
        what = span.release_id.removeprefix(f"{model}-")
    if span.event_type == ROLLBACK_EXECUTED:
        what = f"rollback → {what}"
    elif span.event_type == BREAK_GLASS:
        what = f"BREAK-GLASS {what}"
    return f"{what} · {duration_text(seconds)}" if seconds is not None else f"{what} · live now"


def layout_timeline(model: str, lanes: Mapping[str, Sequence[LiveSpan]], *,
                    highlight: str | None = None, width: float = WIDTH) -> TimelineLayout:
    spans = [s for env_spans in lanes.values() for s in env_spans]
    instants = sorted({_ts(s.since) for s in spans} | {_ts(s.until) for s in spans if s.until})
    first, last = (instants[0], instants[-1]) if instants else (0.0, 0.0)
    span = last - first
    # Room before the first change (nothing was live then) and after the last one (the still
    # live stints run on to the right edge).
    pad = max(span * 0.04, 1.0) if span else 30.0
    start, end = first - pad, last + max(pad, span * 0.08)
    plot0, plot1 = float(LEFT), width - RIGHT
    scale = make_scale(instants, start, end, plot0, plot1)

    colours: dict[str, str] = {}
    bars: list[Bar] = []
    labels: list[Label] = []
    bands: list[Band] = []
    top = 30.0
    for env, env_spans in lanes.items():
        items = []
        for s in env_spans:
            t0 = _ts(s.since)
            seconds = _ts(s.until) - t0 if s.until else None
            x0 = scale.x(t0)
            x1 = scale.x(_ts(s.until)) if s.until else plot1
            colour = "#e6e6e6" if s.disabled else colours.setdefault(
                s.release_id, PALETTE[len(colours) % len(PALETTE)])
            text = _span_label(s, model, seconds)
            w = text_width(text) + 14  # the colour swatch before the text
            lx = min(x0, plot1 - w)
            title = (f"{'model switched off' if s.disabled else s.release_id} in {env}: "
                     f"from {s.since} " + (f"to {s.until} ({duration_text(seconds)})"
                                           if s.until and seconds is not None else
                                           "(still live)")
                     + f"; {s.event_type} by {s.actor_id or '-'}, seq {s.seq}")
            marker = ("rollback" if s.event_type == ROLLBACK_EXECUTED else
                      "break_glass" if s.event_type == BREAK_GLASS else None)
            items.append((s, x0, x1, colour, text, lx, w, title, marker))
        rows = stack_rows([(lx, lx + w) for *_, lx, w, _t, _m in items])
        nrows = max(rows, default=-1) + 1
        bar_y = top + nrows * ROW + 4
        bands.append(Band(env, top, bar_y))
        for (s, x0, x1, colour, text, lx, w, title, marker), row in zip(items, rows,
                                                                       strict=True):
            # Row 0 sits just above the bar, later rows above it.
            labels.append(Label(text, lx, bar_y - 5 - row * ROW, w, colour))
            bars.append(Bar(env, s.release_id, x0, max(x1, x0 + 1.0), bar_y,
                            None if s.until is None else _ts(s.until) - _ts(s.since),
                            colour, s.disabled, s.release_id == highlight and not s.disabled,
                            title, marker))
        top = bar_y + BAR + 14
    axis_y = top + 2
    unit, n = choose_step(end - start, max(2, int((plot1 - plot0) // 95)))
    ticks = [Tick(t, scale.x(t), tick_label(t, unit, end - start))
             for t in tick_instants(start, end, unit, n)]
    return TimelineLayout(model=model, width=width, height=axis_y + 44, bands=tuple(bands),
                          bars=tuple(bars), labels=tuple(labels),
                          ticks=tuple(thin_ticks(ticks, FONT - 1, LEFT - 40, width - 2)),
                          axis_y=axis_y,
                          caption=axis_caption(start, end) if instants else "")


def render_timeline(model: str, lanes: Mapping[str, Sequence[LiveSpan]], *,
                    now: str | None = None, highlight: str | None = None) -> str:
    """``lanes``: environment -> live spans in order. ``highlight``: a release id to outline.
    ``now`` is accepted for callers that pass it; the axis ends just after the last change
    either way, and stints still live run on to the right edge."""
    del now
    lay = layout_timeline(model, lanes, highlight=highlight)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" '
            f'viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" width="{lay.width:.0f}" '
            f'height="{lay.height:.0f}" role="img" font-family="sans-serif" '
            f'font-size="{FONT:.0f}" aria-label="timeline of {escape(model)}: what was live '
            f'where">')
    if not lay.bars:
        return (f'{head}<text x="10" y="20">No promotions or rollbacks recorded for '
                f'{escape(model)}.</text></svg>')
    out = [head]
    plot1 = lay.width - RIGHT
    for band in lay.bands:
        shown = name = band.environment
        if text_width(name) > LEFT - 14:
            while len(name) > 2 and text_width(name + "…") > LEFT - 14:
                name = name[:-1]
            shown = name + "…"
        out.append(f'<text class="env" x="8" y="{band.bar_y + 12:.1f}" font-weight="bold">'
                   f'<title>{escape(band.environment)}</title>{escape(shown)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{band.bar_y + BAR / 2:.1f}" x2="{plot1:.1f}" '
                   f'y2="{band.bar_y + BAR / 2:.1f}" stroke="#bbb" stroke-dasharray="2,3">'
                   f'<title>nothing of {escape(model)} live in {escape(band.environment)}'
                   f'</title></line>')
    for bar in lay.bars:
        w = bar.x1 - bar.x0
        style = (' stroke="#777" stroke-dasharray="3,2"' if bar.disabled else
                 ' stroke="#111" stroke-width="2"' if bar.highlight else ' stroke="#fff"'
                 ' stroke-width="0.5"')
        out.append(f'<rect class="stint" x="{bar.x0:.1f}" y="{bar.y:.1f}" width="{w:.1f}" '
                   f'height="{BAR:.0f}" fill="{bar.colour}"{style}>'
                   f'<title>{escape(bar.title)}</title></rect>')
        if bar.seconds is None and not bar.disabled:
            out.append(f'<path d="M{bar.x1 - 1:.1f},{bar.y - 3:.1f} l7,{BAR / 2 + 3:.1f} '
                       f'l-7,{BAR / 2 + 3:.1f} z" fill="{bar.colour}"><title>still live'
                       f'</title></path>')
        if bar.marker:
            out.append(f'<path d="M{bar.x0:.1f},{bar.y + BAR + 1:.1f} l-5,7 h10 z" '
                       f'fill="{ROLLBACK}"><title>{escape(bar.marker.replace("_", "-"))} at '
                       f'{escape(bar.title)}</title></path>')
    for lab in lay.labels:
        out.append(f'<rect x="{lab.x:.1f}" y="{lab.y - 9:.1f}" width="9" height="9" '
                   f'fill="{lab.colour}" stroke="#555" stroke-width="0.5"/>')
        colour = ROLLBACK if ("rollback" in lab.text or "BREAK-GLASS" in lab.text) else "#222"
        out.append(f'<text class="label" x="{lab.x + 13:.1f}" y="{lab.y:.1f}" '
                   f'fill="{colour}">{escape(lab.text)}</text>')
    y = lay.axis_y
    out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{plot1:.1f}" y2="{y:.1f}" stroke="#666"/>')
    for tick in lay.ticks:
        out.append(f'<line x1="{tick.x:.1f}" y1="{y:.1f}" x2="{tick.x:.1f}" y2="{y + 5:.1f}" '
                   f'stroke="#666"/><text class="tick" x="{tick.x:.1f}" y="{y + 17:.1f}" '
                   f'font-size="{FONT - 1:.0f}" text-anchor="middle">{escape(tick.label)}'
                   f'</text>')
    out.append(f'<text class="caption" x="{LEFT}" y="{y + 34:.1f}" font-size="{FONT - 1:.0f}" '
               f'fill="#555">{escape(lay.caption)}; short stints are drawn at least '
               f'{MIN_GAP:.0f} px wide, their true duration in the label</text>')
    out.append("</svg>")
    return "\n".join(out)
