"""The one time rule set (governance.timeparse): one rule per test, shared by every reader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from governance.errors import UsageError
from governance.timeparse import (
    TimeFormatError,
    format_human,
    format_rfc3339,
    format_rfc3339_offset,
    format_tick,
    from_seconds,
    parse_date,
    parse_instant,
    parse_instant_or_date,
    parse_time,
    to_micros,
    to_ns,
    to_seconds,
)


def test_offset_is_applied_and_result_is_utc() -> None:
    moment = parse_instant("2026-04-10T11:14:11+02:00")
    assert moment == datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC)
    assert moment.tzinfo is UTC
    assert parse_instant("2026-04-10T07:14:11-02:00") == moment


def test_z_and_lower_case_and_space_separator() -> None:
    want = datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC)
    assert parse_instant("2026-04-10T09:14:11Z") == want
    assert parse_instant("2026-04-10t09:14:11z") == want
    assert parse_instant("2026-04-10 09:14:11Z") == want


@pytest.mark.parametrize(("fraction", "micros"), [
    (".5", 500_000), (".000001", 1), (".123456789", 123_456), (".9999999", 999_999),
    (".1234567890123", 123_456),
])
def test_fractional_seconds_truncate_to_microseconds(fraction: str, micros: int) -> None:
    moment = parse_instant(f"2026-04-10T09:14:11{fraction}Z")
    assert moment == datetime(2026, 4, 10, 9, 14, 11, micros, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2026-04-10T09:14:11", "2026-04-10 09:14", "2026-04-10T09:14:11.5"])
def test_time_without_offset_is_refused_everywhere(text: str) -> None:
    with pytest.raises(TimeFormatError, match="no UTC offset"):
        parse_instant(text)
    with pytest.raises(TimeFormatError, match="no UTC offset"):
        parse_instant_or_date(text)
    with pytest.raises(UsageError, match="no UTC offset") as err:
        parse_time(text, option="--at")
    assert err.value.exit_code == 2


def test_leap_year_day_is_accepted_and_non_leap_refused() -> None:
    assert parse_instant("2024-02-29T00:00:00Z").day == 29
    assert parse_date("2000-02-29") == date(2000, 2, 29)
    with pytest.raises(TimeFormatError, match="not a real date and time"):
        parse_instant("2026-02-29T00:00:00Z")
    with pytest.raises(TimeFormatError, match="not a real calendar date"):
        parse_date("1900-02-29")


@pytest.mark.parametrize("text", [
    "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-04-10T24:00:00Z",
    "2026-04-10T09:61:00Z", "2026-04-00T00:00:00Z",
])
def test_invalid_calendar_values_are_refused(text: str) -> None:
    with pytest.raises(TimeFormatError, match=f"found '{text}'"):
        parse_instant(text)


def test_leap_second_is_refused_with_its_name() -> None:
    with pytest.raises(TimeFormatError, match="leap second"):
        parse_instant("2016-12-31T23:59:60Z")


def test_offset_out_of_range_is_refused() -> None:
    with pytest.raises(TimeFormatError, match="offset"):
        parse_instant("2026-04-10T09:14:11+24:00")


@pytest.mark.parametrize("text", [
    "20260410T091411Z", "2026-W15-5T09:14:11Z", "2026-04-10T09:14Z", "2026-04-10T09:14:11+0200",
    "2026-04-10T09:14:11 Z", "", "yesterday", "2026-04-10T09:14:11Z\n",
])
def test_other_iso_8601_shapes_are_not_rfc_3339(text: str) -> None:
    with pytest.raises(TimeFormatError, match="expected an RFC 3339 date-time"):
        parse_instant(text)


def test_date_only_is_midnight_utc_where_dates_are_allowed() -> None:
    assert parse_instant_or_date("2026-04-10") == datetime(2026, 4, 10, tzinfo=UTC)
    assert parse_time("2026-04-10") == datetime(2026, 4, 10, tzinfo=UTC)
    with pytest.raises(TimeFormatError):
        parse_instant("2026-04-10")


def test_cli_invalid_date_is_a_usage_error_naming_the_option() -> None:
    with pytest.raises(UsageError, match="--since: '2026-02-30' is not a time") as err:
        parse_time("2026-02-30", option="--since")
    assert err.value.exit_code == 2


def test_canonical_format_is_utc_z_with_microseconds_only_when_present() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_rfc3339(datetime(2026, 4, 10, 11, 14, 11, tzinfo=plus_two)) == \
        "2026-04-10T09:14:11Z"
    assert format_rfc3339(datetime(2026, 4, 10, 9, 14, 11, 500, tzinfo=UTC)) == \
        "2026-04-10T09:14:11.000500Z"
    assert format_rfc3339(datetime(2026, 4, 10, 9, 14, 11, 500, tzinfo=UTC), seconds=True) == \
        "2026-04-10T09:14:11Z"
    assert format_rfc3339(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    # a ledger event's fixed-width form
    assert format_rfc3339(datetime(2026, 4, 10, 9, 14, 11, tzinfo=UTC), micros=True) == \
        "2026-04-10T09:14:11.000000Z"
    assert format_rfc3339_offset(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"


def test_format_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        format_rfc3339(datetime(2026, 4, 10, 9, 14, 11))
    with pytest.raises(ValueError, match="no UTC offset"):
        to_micros(datetime(2026, 4, 10))


def test_human_form_and_ticks() -> None:
    moment = datetime(2026, 12, 5, 19, 45, 29, tzinfo=UTC)
    assert format_human(moment) == "2026-12-05 19:45:29 UTC"
    assert format_human(moment, seconds=False) == "2026-12-05 19:45 UTC"
    assert format_tick(moment, "s", 60) == "19:45:29"
    assert format_tick(moment, "h", 2 * 86400) == "05 Dec 19:45"
    assert format_tick(moment, "d", 86400 * 400) == "2026-12-05"
    assert format_tick(moment, "mo", 0) == "Dec 2026"
    assert format_tick(moment, "y", 0) == "2026"


def test_epoch_conversions_agree() -> None:
    moment = parse_instant("2026-01-01T01:00:00.000001+01:00")
    assert to_micros(moment) == 1_767_225_600_000_001
    assert to_ns(moment) == 1_767_225_600_000_001_000
    assert from_seconds(to_seconds(moment)) == moment


def test_round_trip_through_the_canonical_form() -> None:
    for text in ("2026-04-10T09:14:11Z", "2026-04-10T09:14:11.123456Z", "1970-01-01T00:00:00Z"):
        assert format_rfc3339(parse_instant(text)) == text
