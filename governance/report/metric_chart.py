"""A small inline SVG of metric deltas against the previous release: a bar per metric.

Metrics have different units (AUC is a ratio, latency is in milliseconds), so the bars share
one scale of *relative* change (percent of the value before); each row prints the values before
and after and the absolute change with its unit. Bars are coloured by sign only: whether up is
better depends on the metric, and the chart does not guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from governance.audit.diff import MetricDelta
from governance.report.values import number_text, unit_of, with_unit

WIDTH = 900
ROW = 22
NAME_W = 230.0
VALUES_X = 240.0
BAR_LO, BAR_HI = 470.0, 700.0
DELTA_X = 712.0
FONT = 12.0
CHAR_W = 0.62
UP, DOWN = "#4c78a8", "#e45756"


def _fit(text: str, width: float, size: float = FONT) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` by the conservative glyph estimate."""
    if len(text) * size * CHAR_W <= width:
        return text
    keep = max(1, int(width / (size * CHAR_W)) - 1)
    return text[:keep] + "…"


@dataclass(frozen=True)
class DeltaRow:
    name: str
    unit: str
    before: float | None
    after: float | None
    delta: float | None
    percent: float | None  # relative change; None when there is no value before (or it is 0)


def delta_rows(metrics: tuple[MetricDelta, ...]) -> list[DeltaRow]:
    rows = []
    for m in metrics:
        name = m.metric if m.subgroup is None else f"{m.subgroup} · {m.metric}"
        pct = (None if m.delta is None or not m.before else m.delta / abs(m.before) * 100)
        rows.append(DeltaRow(name, unit_of(m.metric), m.before, m.after, m.delta, pct))
    return rows


def render_metric_chart(metrics: tuple[MetricDelta, ...], before: str, after: str) -> str:
    rows = delta_rows(metrics)
    if not rows:
        return "<p>Neither release states metrics.</p>"
    scale = max([abs(r.percent) for r in rows if r.percent is not None] + [1.0])
    centre = (BAR_LO + BAR_HI) / 2
    half = (BAR_HI - BAR_LO) / 2
    height = 30 + ROW * len(rows) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="metrics" viewBox="0 0 {WIDTH} '
           f'{height}" width="{WIDTH}" height="{height}" font-family="sans-serif" '
           f'font-size="{FONT:.0f}" role="img" aria-label="metric changes from '
           f'{escape(before)} to {escape(after)}">',
           '<text x="0" y="14" font-weight="bold">metric</text>',
           f'<text x="{VALUES_X:.0f}" y="14" font-weight="bold">before → after</text>',
           f'<text x="{centre:.0f}" y="14" font-weight="bold" text-anchor="middle">'
           f'relative change (±{number_text(round(scale, 2))}% at the ends)</text>',
           f'<line x1="{centre:.1f}" y1="20" x2="{centre:.1f}" y2="{height - 4}" '
           f'stroke="#888"/>']
    for i, r in enumerate(rows):
        y = 30 + i * ROW
        unit = f" ({r.unit})" if r.unit else ""
        out.append(f'<text class="metric" x="0" y="{y + 12}"><title>{escape(r.name + unit)}'
                   f'</title>{escape(_fit(r.name + unit, NAME_W))}</text>')
        was = "—" if r.before is None else with_unit(r.before, r.unit)
        now = "—" if r.after is None else with_unit(r.after, r.unit)
        out.append(f'<text x="{VALUES_X:.0f}" y="{y + 12}">'
                   f'{escape(_fit(f"{was} → {now}", BAR_LO - VALUES_X - 12))}</text>')
        if r.delta is None:
            what = "new" if r.before is None else "removed"
            out.append(f'<text x="{DELTA_X:.0f}" y="{y + 12}" fill="#555">{what}</text>')
            continue
        if r.percent is not None and r.delta:
            length = max(2.0, abs(r.percent) / scale * half)
            x = centre if r.delta > 0 else centre - length
            colour = UP if r.delta > 0 else DOWN
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}"'
                       f' fill="{colour}"><title>{escape(r.name)}: '
                       f'{escape(with_unit(r.delta, r.unit, signed=True))} '
                       f'({escape(with_unit(round(r.percent, 2), "%", signed=True))})</title>'
                       f'</rect>')
        change = with_unit(r.delta, r.unit, signed=True) if r.delta else "no change"
        if r.percent is not None and r.delta:
            change += f" ({with_unit(round(r.percent, 2), '%', signed=True)})"
        out.append(f'<text class="delta" x="{DELTA_X:.0f}" y="{y + 12}">'
                   f'{escape(_fit(change, WIDTH - DELTA_X))}</text>')
    out.append("</svg>")
    return "\n".join(out)
