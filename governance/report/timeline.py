"""An SVG timeline of a model's promotions and rollbacks, one lane per environment.

Pure and dependency-free: the SVG is written by hand with every text value XML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from governance.lifecycle import LiveSpan

WIDTH = 900
LANE = 46
LEFT = 110
PALETTE = ("#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#9d755d", "#bab0ac")


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def render_timeline(model: str, lanes: Mapping[str, Sequence[LiveSpan]], *,
                    now: str | None = None, highlight: str | None = None) -> str:
    """``lanes``: environment -> live spans in order. ``highlight``: a release id to outline."""
    spans = [s for env_spans in lanes.values() for s in env_spans]
    height = 60 + LANE * max(1, len(lanes)) + 30
    if not spans:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                f'role="img" aria-label="no promotions for {escape(model)}">'
                f'<text x="10" y="30">No promotions or rollbacks recorded for '
                f'{escape(model)}.</text></svg>')
    start = min(_ts(s.since) for s in spans)
    end = max([_ts(s.until) for s in spans if s.until] + [_ts(s.since) for s in spans]
              + ([_ts(now)] if now else []))
    end = end if end > start else start + 86400
    if not now:
        # Open spans run to the right edge: leave them room after the last change.
        end += max((end - start) * 0.08, 3600.0)
    scale = (WIDTH - LEFT - 20) / (end - start)

    def x(value: str) -> float:
        return LEFT + (_ts(value) - start) * scale

    colours: dict[str, str] = {}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'role="img" aria-label="timeline of {escape(model)}" font-family="sans-serif" '
           f'font-size="11">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(model)}: '
           f'what was live where</text>']
    for lane, (env, env_spans) in enumerate(lanes.items()):
        y = 40 + lane * LANE
        out.append(f'<text x="10" y="{y + 20}">{escape(env)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y + 30}" x2="{WIDTH - 20}" y2="{y + 30}" '
                   f'stroke="#ccc"/>')
        for span in env_spans:
            x0 = x(span.since)
            x1 = x(span.until) if span.until else x(now) if now else WIDTH - 20
            if span.disabled:
                out.append(f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(2.0, x1 - x0):.1f}" '
                           f'height="22" fill="#eee" stroke="#999" stroke-dasharray="3,2">'
                           f'<title>model switched off (seq {span.seq})</title></rect>')
            else:
                colour = colours.setdefault(span.release_id, PALETTE[len(colours) % len(PALETTE)])
                stroke = ' stroke="#000" stroke-width="2"' if span.release_id == highlight else ""
                label = span.release_id.removeprefix(f"{model}-")
                out.append(f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(2.0, x1 - x0):.1f}" '
                           f'height="22" fill="{colour}"{stroke}><title>{escape(span.release_id)}'
                           f' live from {escape(span.since)} ({escape(span.event_type)} by '
                           f'{escape(span.actor_id or "-")}, seq {span.seq})</title></rect>')
                out.append(f'<text x="{x0 + 3:.1f}" y="{y + 23}" fill="#fff">'
                           f'{escape(label)}</text>')
            if span.event_type == "rollback_executed":
                out.append(f'<path d="M{x0:.1f},{y + 4} l-6,-9 h12 z" fill="#d62728">'
                           f'<title>rollback at {escape(span.since)}</title></path>')
                out.append(f'<text x="{x0 + 8:.1f}" y="{y + 2}" fill="#d62728">rollback</text>')
            if span.event_type == "break_glass":
                out.append(f'<text x="{x0:.1f}" y="{y + 2}" fill="#d62728">BREAK-GLASS</text>')
    axis_y = 40 + len(lanes) * LANE + 10
    for value in sorted({s.since for s in spans}):
        out.append(f'<text x="{x(value):.1f}" y="{axis_y + 10}" font-size="9" '
                   f'transform="rotate(20 {x(value):.1f},{axis_y + 10})">'
                   f'{escape(value[:10])}</text>')
    out.append("</svg>")
    return "\n".join(out)
