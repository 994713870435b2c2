"""The timeline's layout, pure: label rows never overlap, short stints keep a visible width,
the axis step follows the span, over close events and very long and very short histories."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.lifecycle import LiveSpan
from governance.report.timeline import (
    LEFT,
    MIN_GAP,
    RIGHT,
    WIDTH,
    choose_step,
    layout_timeline,
    make_scale,
    stack_rows,
    text_width,
    tick_instants,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def lane(*changes: tuple[float, str], model: str = "m") -> tuple[LiveSpan, ...]:
    """Spans from (seconds after T0, release suffix) changes; the last one is still live."""
    spans = []
    for i, (t, rel) in enumerate(changes):
        until = _iso(changes[i + 1][0]) if i + 1 < len(changes) else None
        spans.append(LiveSpan(release_id=f"{model}-{rel}", since=_iso(t), seq=i, event_id=f"e{i}",
                              event_type="deployment_promoted", actor_id="ci", digest=None,
                              until=until))
    return tuple(spans)


def _no_label_overlap(layout) -> None:  # type: ignore[no-untyped-def]
    for a, b in combinations(layout.labels, 2):
        if a.y == b.y:
            assert a.x + a.width <= b.x or b.x + b.width <= a.x, (a, b)
    ticks = layout.ticks
    for a, b in zip(ticks, ticks[1:], strict=False):
        assert a.x + text_width(a.label, 10) / 2 <= b.x - text_width(b.label, 10) / 2


def test_step_follows_the_span() -> None:
    assert choose_step(25, 10) == ("s", 5)
    assert choose_step(40 * 60, 10) == ("min", 5)
    assert choose_step(20 * 3600, 10) == ("h", 2)
    assert choose_step(9 * 86400, 10) == ("d", 1)
    assert choose_step(300 * 86400, 10) == ("mo", 1)
    assert choose_step(40 * 365 * 86400, 10) == ("y", 5)


def test_ticks_fall_on_the_calendar() -> None:
    start = datetime(2025, 11, 17, 13, 7, tzinfo=UTC).timestamp()
    end = datetime(2026, 8, 2, tzinfo=UTC).timestamp()
    months = [datetime.fromtimestamp(t, UTC) for t in tick_instants(start, end, "mo", 1)]
    assert months[0] == datetime(2025, 12, 1, tzinfo=UTC) and len(months) == 9  # Dec..Aug
    assert all(m.day == 1 and m.hour == 0 for m in months)
    days = [datetime.fromtimestamp(t, UTC) for t in tick_instants(start, start + 3 * 86400,
                                                                   "d", 1)]
    assert [d.hour for d in days] == [0, 0, 0] and days[0].day == 18
    minutes = tick_instants(start, start + 600, "min", 5)
    assert all(t % 300 == 0 for t in minutes)


def test_an_eight_second_stint_in_a_year_is_visible_with_its_true_duration() -> None:
    year = 365 * 86400
    prod = lane((0, "a"), (year / 2, "b"), (year / 2 + 8, "a"), (year, "c"))
    lay = layout_timeline("m", {"production": prod})
    bars = lay.bars
    assert [b.release_id for b in bars] == ["m-a", "m-b", "m-a", "m-c"]
    short = bars[1]
    assert short.x1 - short.x0 >= MIN_GAP - 1e-6
    assert short.seconds == 8
    assert any(lab.text == "b · 8 s" for lab in lay.labels)
    # The release live before and after is drawn as two stints, not as one that never ended.
    assert bars[0].x1 <= short.x0 + 1e-6 and short.x1 <= bars[2].x0 + 1e-6
    # A year is read in months ("Jul 2026").
    assert len(lay.ticks) >= 3
    assert all(re.fullmatch(r"[A-Z][a-z]{2} 20\d\d", t.label) for t in lay.ticks)
    _no_label_overlap(lay)


def test_an_environment_first_used_late_is_empty_before() -> None:
    lay = layout_timeline("m", {"staging": lane((0, "a")), "production": lane((86400, "a"))})
    staging, production = lay.bars
    assert production.x0 > staging.x0 + 100  # nothing drawn in production before day two


def test_close_events_are_stacked_in_rows() -> None:
    crowded = lane(*[(i * 0.5, f"2026-04-{i + 1:02d}-01") for i in range(12)])
    lay = layout_timeline("m", {"production": crowded, "staging": crowded[:3]})
    assert len({lab.y for lab in lay.labels}) > 3
    for bar in lay.bars:
        assert bar.x1 - bar.x0 >= 2.0
        assert LEFT <= bar.x0 <= WIDTH - RIGHT
    _no_label_overlap(lay)


def test_a_single_promotion_and_a_century() -> None:
    one = layout_timeline("m", {"production": lane((0, "a"))})
    assert len(one.ticks) >= 2 and one.ticks[0].label.count(":") == 2  # seconds
    long = layout_timeline("m", {"production": lane((0, "a"), (100 * 365 * 86400, "b"))})
    assert all(len(t.label) == 4 for t in long.ticks) and len(long.ticks) >= 2
    _no_label_overlap(long)


def test_stack_rows_first_fit() -> None:
    assert stack_rows([(0, 10), (5, 20), (17, 30), (40, 50)]) == [0, 1, 0, 0]


def test_the_warp_keeps_a_minimum_gap_and_stays_in_bounds() -> None:
    scale = make_scale([0, 1, 2, 3, 1e7], 0, 1e7, 100, 1000)
    xs = [x for _, x in scale.anchors]
    assert all(b - a >= MIN_GAP - 1e-9 for a, b in zip(xs, xs[1:], strict=False))
    assert xs[0] == 100 and xs[-1] <= 1000
    # Many instants: the gap shrinks, the drawing never leaves its width.
    many = make_scale(list(range(500)), 0, 499, 100, 1000)
    assert many.anchors[-1][1] <= 1000 and many.x(250) < many.x(251)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.1, max_value=3e7), min_size=1, max_size=25),
       st.integers(min_value=0, max_value=3))
def test_any_history_lays_out_without_overlap(gaps: list[float], releases: int) -> None:
    t, changes = 0.0, []
    for i, gap in enumerate(gaps):
        changes.append((t, f"2026-{i % 12 + 1:02d}-{releases + i:02d}-01"))
        t += gap
    lay = layout_timeline("m", {"production": lane(*changes), "staging": lane(*changes[::2])})
    _no_label_overlap(lay)
    for bar in lay.bars:
        assert bar.x1 - bar.x0 >= 1.0 and bar.x0 >= LEFT - 1e-6 and bar.x1 <= WIDTH - RIGHT
