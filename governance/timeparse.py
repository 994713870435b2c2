"""Time: the one place that parses, formats and converts instants (issue 20, item 4).

Every other module goes through here; a test (``tests/unit/test_time_authority.py``) fails if a
module outside this one calls ``fromisoformat`` or ``strptime``.

One rule set, three entry points:

- ``parse_instant``: an RFC 3339 date-time (section 5.6) with ``Z`` or a numeric offset, e.g.
  ``2026-04-10T09:14:11Z``, ``2026-04-10T11:14:11.5+02:00``; ``t``/``z`` in lower case and a space
  instead of ``T`` are accepted (section 5.6, NOTE); fractional seconds of any length are kept to
  the microsecond (truncated, never rounded up into the next second). A date-time **without an
  offset is refused** everywhere (a recorded time, a signed approval, a command-line option): it
  would be a local time, and an audit answer must not depend on the machine's time zone. A leap
  second (``:60``) and a calendar date that does not exist (``2026-02-29``) are refused with that
  explanation. ``parse_instant`` raises ``TimeFormatError`` (a ``ValueError``) saying what was
  found and what was expected; callers add the file, line and field.
- ``parse_instant_or_date``: the same, or an RFC 3339 full-date ``2026-04-10`` meaning midnight UTC
  at the start of that day (waiver expiries, ``evaluated_at`` dates).
- ``parse_time``: what a person types for ``--at``/``--since``/``--until`` (DESIGN section 8:
  "Times accept RFC 3339 and relative forms"): an instant or a date as above, ``now``, or a
  relative duration back from now (``90s``, ``15min``, ``24h``, ``30d``, ``2w``, ``12mo``,
  ``1y``). Months and years are calendar months and years (``12mo`` on 31 March is 31 March last
  year; a day that does not exist clamps to the month's last day), so "the last 12 months" means
  what an auditor means, not 360 days. Anything else is a ``UsageError`` (exit 2) naming the value
  and the accepted forms, and so is a time outside the sane window: from the Unix epoch
  (1970-01-01T00:00:00Z; nothing a ledger records predates it) to 9999-12-31T23:59:59Z. A relative
  form reaching further back (``100y``) counts from the epoch instead: nothing before it can
  match, so the answer is the same.

Formats: ``format_rfc3339`` is the canonical form written in events, records and JSON outputs (UTC
with ``Z``, a four-digit year, microseconds only when present; ``seconds=True`` drops them;
``micros=True`` always writes six digits, the ledger events' fixed-width form that sorts as text);
``format_rfc3339_offset`` is the ``+00:00`` form the gate input carries because regopy's
``time.parse_rfc3339_ns`` rejects ``Z``; ``format_human`` is the text/HTML form
``2026-12-05 19:45:29 UTC``; ``format_tick`` labels a timeline axis. Epoch conversions:
``to_micros``/``from_micros`` (the index), ``to_ns`` (the gate input), ``to_seconds``/
``from_seconds`` (drawing). ``utc_now`` is the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from governance.domain.lazy_re import lazy
from governance.errors import UsageError

_RELATIVE = lazy(r"^([0-9]{1,6})(s|min|m|h|d|w|mo|y)\Z")
_DATE = lazy(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
# RFC 3339 section 5.6 date-time; the offset is mandatory.
_DATETIME = lazy(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
# a date-time that only lacks its offset: refused with its own explanation
_NAIVE = lazy(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\Z")

INSTANT_FORM = "an RFC 3339 date-time with Z or an offset, e.g. 2026-04-10T09:14:11Z"
DATE_FORM = "an RFC 3339 date, e.g. 2026-04-10"
_FORMS = (
    "RFC 3339 (2026-04-10T09:14:11Z, 2026-04-10T11:14:11+02:00, 2026-04-10), 'now', "
    "or a relative duration such as 24h, 30d, 2w, 12mo, 1y"
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_EPOCH = EARLIEST


class TimeFormatError(ValueError):
    """A text that is not a time of the expected form; the message says found and expected."""


# --- parse ----------------------------------------------------------------------------------


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time with an offset as an aware UTC datetime (see the module doc)."""
    found = _DATETIME.fullmatch(text)
    if found is None:
        if _NAIVE.fullmatch(text):
            raise TimeFormatError(f"found {text!r}, which has no UTC offset (expected "
                                  f"{INSTANT_FORM}; a time without an offset is not taken as UTC)")
        raise TimeFormatError(f"found {text!r}, expected {INSTANT_FORM}")
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    if second == 60:
        raise TimeFormatError(f"found {text!r}, a leap second (expected seconds 00 to 59)")
    offset = found.group(8)
    if offset in ("Z", "z"):
        zone = UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise TimeFormatError(f"found {text!r}, whose offset {offset} is not a time of day "
                                  "(expected -23:59 to +23:59)")
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    fraction = found.group(7)
    micros = int((fraction[1:] + "00000")[:6]) if fraction else 0
    try:
        moment = datetime(year, month, day, hour, minute, second, micros, tzinfo=zone)
    except ValueError as err:
        raise TimeFormatError(f"found {text!r}, which is not a real date and time ({err})"
                              ) from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # the offset carries it past year 1 or 9999
        raise TimeFormatError(f"found {text!r}, outside the years 0001 to 9999 in UTC") from None


# The plain UTC spelling (``Z``, at most microseconds) every ledger event and index row uses:
# read by the C parser, which gives the same instant and refuses the same impossible dates and
# leap seconds; anything else, or anything it refuses, takes ``parse_instant`` and its messages.
# The verifier, status and the organisation answers read one per row.
_PLAIN_UTC = lazy(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")


def parse_instant_fast(text: str) -> datetime:
    """``parse_instant(text)``, the plain UTC spelling through ``datetime.fromisoformat``."""
    if _PLAIN_UTC.fullmatch(text) is not None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return parse_instant(text)


def epoch_seconds(text: str) -> float:
    """``parse_instant(text).timestamp()`` (through ``parse_instant_fast``)."""
    return parse_instant_fast(text).timestamp()


def parse_date(text: str) -> date:
    """An RFC 3339 full-date (``2026-04-10``)."""
    found = _DATE.fullmatch(text)
    if found is None:
        raise TimeFormatError(f"found {text!r}, expected {DATE_FORM}")
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError as err:
        raise TimeFormatError(f"found {text!r}, which is not a real calendar date ({err})"
                              ) from None


def parse_instant_or_date(text: str) -> datetime:
    """An instant, or a date meaning midnight UTC at the start of that day."""
    if _DATE.fullmatch(text):
        day = parse_date(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parse_instant(text)


def is_instant(text: str) -> bool:
    try:
        parse_instant(text)
    except TimeFormatError:
        return False
    return True


def is_date(text: str) -> bool:
    try:
        parse_date(text)
    except TimeFormatError:
        return False
    return True


def parse_time(text: str, *, now: datetime | None = None, option: str = "time") -> datetime:
    """A command-line time (``--at``, ``--since``, ``--until``) as an aware UTC datetime;
    relative forms count back from ``now``. Anything else, or a time outside
    [EARLIEST, LATEST], is a UsageError (exit 2) naming the option, the value and the forms."""
    moment = _parse_cli(text, now=now, option=option)
    if not EARLIEST <= moment.replace(microsecond=0) <= LATEST:
        raise _outside(text, option)
    return moment


def _parse_cli(text: str, *, now: datetime | None, option: str) -> datetime:
    value = text.strip(" \t\r\n")  # ASCII whitespace only: "now\x85" is not "now"
    current = (now or utc_now()).astimezone(UTC)
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
    if _DATE.fullmatch(value) or _DATETIME.fullmatch(value):
        try:
            return parse_instant_or_date(value)
        except TimeFormatError as err:
            if "outside the years" in str(err):
                raise _outside(text, option) from None
            raise UsageError(f"{option}: {text!r} is not a time ({err})",
                             hint="use UTC with a trailing Z, e.g. 2026-04-10T09:14:11Z"
                             ) from None
    if _NAIVE.fullmatch(value):
        raise UsageError(f"{option}: {text!r} has no UTC offset (expected {_FORMS}; a time "
                         "without an offset is not taken as UTC)",
                         hint=f"append Z for UTC, e.g. {value}Z")
    raise UsageError(
        f"{option}: {text!r} is not a time (expected {_FORMS})",
        hint="use UTC with a trailing Z, e.g. 2026-04-10T09:14:11Z",
    )


def _outside(text: str, option: str) -> UsageError:
    return UsageError(
        f"{option}: {text!r} is outside the accepted window "
        f"({format_rfc3339(EARLIEST)} to {format_rfc3339(LATEST)})",
        hint="give a time at or after 1970-01-01T00:00:00Z")


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
    import calendar  # here, not at import: it builds localised day and month names (issue 18)

    day = min(current.day, calendar.monthrange(year, month)[1])
    return current.replace(year=year, month=month, day=day)


# --- clock and epoch ------------------------------------------------------------------------


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # astimezone() would take it as the machine's local time
        raise ValueError(f"{moment!r} has no UTC offset; refusing to guess its time zone")
    return moment.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch (the index stores instants as integers)."""
    delta = _utc(moment) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the Unix epoch (the gate input's ``*_ns`` fields)."""
    return to_micros(moment) * 1_000


def to_seconds(moment: datetime) -> float:
    """Seconds since the Unix epoch, as a float (for drawing, not for comparing instants)."""
    return _utc(moment).timestamp()


def from_seconds(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- format ---------------------------------------------------------------------------------


def format_rfc3339(moment: datetime, *, seconds: bool = False, micros: bool = False) -> str:
    """The canonical form: UTC with ``Z``, a four-digit year, microseconds only when present
    (``seconds=True`` drops them; ``micros=True`` always writes six digits: a ledger event's
    timestamp has a fixed width, so timestamps compare correctly as text, e.g. in SQL)."""
    utc = _utc(moment)
    # not strftime("%Y"): glibc writes year 1 as "1", not "0001"
    text = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
            f"{utc.second:02d}")
    if micros or (utc.microsecond and not seconds):
        return f"{text}.{utc.microsecond:06d}Z"
    return f"{text}Z"


def format_rfc3339_offset(moment: datetime) -> str:
    """``+00:00`` instead of ``Z``: the gate input's form (regopy rejects ``Z``)."""
    return format_rfc3339(moment)[:-1] + "+00:00"


def format_date(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def format_human(moment: datetime, *, seconds: bool = True) -> str:
    """Text and HTML outputs: ``2026-12-05 19:45:29 UTC`` (``seconds=False``: to the minute)."""
    utc = _utc(moment)
    shown = f"{format_date(utc)} {utc.hour:02d}:{utc.minute:02d}"
    return f"{shown}:{utc.second:02d} UTC" if seconds else f"{shown} UTC"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_tick(moment: datetime, unit: str, span_seconds: float) -> str:
    """A timeline axis label at the step's precision (English month names whatever the locale);
    the date joins the time when the span crosses days."""
    t = _utc(moment)
    day_month = f"{t.day:02d} {_MONTHS[t.month - 1]}"
    hm = f"{t.hour:02d}:{t.minute:02d}"
    if unit == "s":
        hms = f"{hm}:{t.second:02d}"
        return hms if span_seconds < 86400 else f"{day_month} {hms}"
    if unit in ("min", "h"):
        return hm if span_seconds < 86400 else f"{day_month} {hm}"
    if unit in ("d", "w"):
        return day_month if span_seconds < 330 * 86400 else format_date(t)
    if unit == "mo":
        return f"{_MONTHS[t.month - 1]} {t.year:04d}"
    return f"{t.year:04d}"
