"""Times a person types on the command line: RFC 3339 instants and relative durations.

Accepted forms (DESIGN section 8: "Times accept RFC 3339 and relative forms"):

- RFC 3339 date-time with ``Z`` or a numeric offset (RFC 3339 section 5.6), e.g.
  ``2026-04-10T09:14:11Z``, ``2026-04-10T11:14:11.5+02:00``; a space instead of ``T`` is
  allowed (RFC 3339 section 5.6, NOTE). A date-time without an offset is refused: it would be a
  local time, and an audit answer must not depend on the machine's time zone.
- RFC 3339 full-date ``2026-04-10``: midnight UTC at the start of that day.
- ``now``.
- A relative duration back from now: an integer and a unit, ``90s``, ``15min``, ``24h``,
  ``30d``, ``2w``, ``12mo``, ``1y``. Months and years are calendar months and years (``12mo`` on
  31 March is 31 March last year; a day that does not exist clamps to the month's last day), so
  "the last 12 months" means what an auditor means, not 360 days.

Everything else is a ``UsageError`` (exit 2) naming the value and the accepted forms, and so is
a time outside the sane window: from the Unix epoch (1970-01-01T00:00:00Z; nothing a ledger
records predates it) to 9999-12-31T23:59:59Z (the last instant written with four digits). A
relative form reaching further back (``100y``, "everything") counts from the epoch instead:
nothing before it can match, so the answer is the same.
Times are always printed with a four-digit year.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from governance.errors import UsageError

_RELATIVE = re.compile(r"^([0-9]{1,6})(s|min|m|h|d|w|mo|y)\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# RFC 3339 section 5.6 date-time; the offset is mandatory.
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)

_FORMS = (
    "RFC 3339 (2026-04-10T09:14:11Z, 2026-04-10T11:14:11+02:00, 2026-04-10), 'now', "
    "or a relative duration such as 24h, 30d, 2w, 12mo, 1y"
)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_time(text: str, *, now: datetime | None = None, option: str = "time") -> datetime:
    """Parse ``text`` into an aware UTC datetime; relative forms count back from ``now``.
    A time outside [EARLIEST, LATEST] is a UsageError naming the window."""
    moment = _parse(text, now=now, option=option)
    if not EARLIEST <= moment.replace(microsecond=0) <= LATEST:
        raise UsageError(
            f"{option}: {text!r} is outside the accepted window "
            f"({format_rfc3339(EARLIEST)} to {format_rfc3339(LATEST)})",
            hint="give a time at or after 1970-01-01T00:00:00Z")
    return moment


def _parse(text: str, *, now: datetime | None, option: str) -> datetime:
    value = text.strip(" \t\r\n")  # ASCII whitespace only: "now\x85" is not "now"
    current = (now or datetime.now(UTC)).astimezone(UTC)
    if value.lower() == "now":
        return current
    rel = _RELATIVE.fullmatch(value.lower())
    if rel and rel.group(2) == "m":
        raise UsageError(
            f"{option}: {text!r} is ambiguous (minutes or months?)",
            hint=f"write {rel.group(1)}min for minutes or {rel.group(1)}mo for months",
        )
    if rel:
        try:
            return max(_subtract(current, int(rel.group(1)), rel.group(2)), EARLIEST)
        except (OverflowError, ValueError):  # before year 1: counts from the epoch as well
            return EARLIEST
    if _DATE.fullmatch(value):
        try:
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise _malformed(text, option) from None
    if _DATETIME.fullmatch(value):
        normalised = value.replace(" ", "T").replace("t", "T").replace("z", "Z")
        # Python's fromisoformat keeps at most microseconds: trim nanosecond fractions.
        normalised = re.sub(r"(\.\d{6})\d+", r"\1", normalised)
        try:
            return datetime.fromisoformat(normalised).astimezone(UTC)
        except ValueError:
            raise _malformed(text, option) from None
        except OverflowError:  # the offset carries it past year 1 or 9999
            raise UsageError(f"{option}: {text!r} is outside the accepted window "
                             f"({format_rfc3339(EARLIEST)} to {format_rfc3339(LATEST)})"
                             ) from None
    raise _malformed(text, option)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch (the index stores instants as integers)."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def format_rfc3339(moment: datetime) -> str:
    """UTC with ``Z``; fractional seconds only when present (the ledger's timestamp form)."""
    utc = moment.astimezone(UTC)
    # not strftime("%Y"): glibc writes year 1 as "1", not "0001"
    text = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
            f"{utc.second:02d}")
    return f"{text}.{utc.microsecond:06d}Z" if utc.microsecond else f"{text}Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _subtract(current: datetime, amount: int, unit: str) -> datetime:
    if unit == "s":
        return current - timedelta(seconds=amount)
    if unit == "min":
        return current - timedelta(minutes=amount)
    if unit == "h":
        return current - timedelta(hours=amount)
    if unit == "d":
        return current - timedelta(days=amount)
    if unit == "w":
        return current - timedelta(weeks=amount)
    months = amount if unit == "mo" else amount * 12
    total = current.year * 12 + (current.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    if year < EARLIEST.year:
        return EARLIEST
    day = min(current.day, calendar.monthrange(year, month)[1])
    return current.replace(year=year, month=month, day=day)


def _malformed(text: str, option: str) -> UsageError:
    return UsageError(
        f"{option}: {text!r} is not a time (expected {_FORMS})",
        hint="use UTC with a trailing Z, e.g. 2026-04-10T09:14:11Z",
    )
