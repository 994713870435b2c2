"""Times on the command line: RFC 3339 and relative forms; anything else is a usage error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.errors import EXIT_USAGE, UsageError
from governance.timeparse import format_rfc3339, from_micros, parse_time, to_micros

NOW = datetime(2026, 3, 31, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-10T09:14:11Z", datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC)),
        ("2026-04-10t09:14:11z", datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC)),
        ("2026-04-10 11:14:11+02:00", datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC)),
        ("2026-04-10T09:14:11.123456789Z", datetime(2026, 4, 10, 9, 14, 11, 123456, tzinfo=UTC)),
        ("2026-04-10", datetime(2026, 4, 10, tzinfo=UTC)),
        ("now", NOW),
        ("24h", NOW - timedelta(hours=24)),
        ("90s", NOW - timedelta(seconds=90)),
        ("15min", NOW - timedelta(minutes=15)),
        ("30d", NOW - timedelta(days=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("12mo", datetime(2025, 3, 31, 12, tzinfo=UTC)),
        ("1mo", datetime(2026, 2, 28, 12, tzinfo=UTC)),  # 31 Feb clamps to the month's end
        ("1y", datetime(2025, 3, 31, 12, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "12",
        "12x",
        "-3d",
        "2026-04-10T09:14:11",  # no offset: a local time, refused
        "2026-13-01",
        "2026-02-30T00:00:00Z",
        "2026-04-10T25:00:00Z",
        "6m",  # minutes or months? refused
        "1.5d",
    ],
)
def test_malformed_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_time(text, now=NOW, option="--at")
    assert info.value.exit_code == EXIT_USAGE
    assert "--at" in info.value.message and repr(text) in info.value.message


def test_ambiguous_m_names_both_spellings() -> None:
    with pytest.raises(UsageError) as info:
        parse_time("6m", now=NOW)
    assert "6min" in info.value.hint and "6mo" in info.value.hint


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_rfc3339_round_trip(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    assert parse_time(format_rfc3339(aware)) == aware
    assert from_micros(to_micros(aware)) == aware


@given(st.integers(min_value=0, max_value=600), st.sampled_from(["d", "h", "w", "mo", "y"]))
def test_relative_is_never_in_the_future(amount: int, unit: str) -> None:
    assert parse_time(f"{amount}{unit}", now=NOW) <= NOW


@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-01T00:00:00+01:00",
                                  "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z"])
def test_times_outside_the_window_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_time(text, option="--at")
    assert info.value.exit_code == EXIT_USAGE
    assert "--at" in info.value.message and "outside the accepted window" in info.value.message


@pytest.mark.parametrize("text", ["100y", "999999y", "99999d"])
def test_relative_beyond_the_epoch_counts_from_it(text: str) -> None:
    assert parse_time(text, now=NOW) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "text"), [
    (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    (datetime(999, 2, 3, 4, 5, 6, 7, tzinfo=UTC), "0999-02-03T04:05:06.000007Z"),
    (datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC), "2026-04-10T09:14:11Z"),
])
def test_years_always_have_four_digits(moment: datetime, text: str) -> None:
    assert format_rfc3339(moment) == text
