"""Units: parse and format durations, rates, sizes and bandwidths.

Scenario files state quantities with units ("250ms", "2.5min", "8h", "30d",
"20/h", "1500/d", "360KB", "100Mbit/s"); the simulator works in SI units
internally: seconds, events per second, bytes and bytes per second. Each
``parse_*`` function accepts a string with a unit or a bare number already in SI
units and raises :class:`ValueError` with the rule that was broken; each
``format_*`` function writes a string that parses back to the same value.

Examples
--------
>>> parse_duration("2.5min")
150.0
>>> parse_rate("1500/d") * 86400
1500.0
>>> parse_size("2MB")
2000000.0
>>> format_duration(parse_duration("36h"))
'1.5d'
"""
from __future__ import annotations

import datetime
import math
import re

__all__ = [
    "DURATION_UNITS",
    "SIZE_UNITS",
    "BANDWIDTH_UNITS",
    "parse_duration",
    "duration_unit",
    "parse_rate",
    "parse_size",
    "parse_bandwidth",
    "parse_clock",
    "parse_moment",
    "DATE_CLOCK",
    "WEEKDAYS",
    "format_duration",
    "format_duration_in",
    "format_rate",
    "format_size",
]

#: Seconds per duration unit.
DURATION_UNITS: dict[str, float] = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}
#: Bytes per size unit (decimal, as networks count).
SIZE_UNITS: dict[str, float] = {
    "B": 1.0,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "KiB": 1024.0,
    "MiB": 1024.0**2,
    "GiB": 1024.0**3,
}
#: Bytes per second per bandwidth unit.
BANDWIDTH_UNITS: dict[str, float] = {
    "bit/s": 1 / 8,
    "kbit/s": 1e3 / 8,
    "Mbit/s": 1e6 / 8,
    "Gbit/s": 1e9 / 8,
    "B/s": 1.0,
    "KB/s": 1e3,
    "MB/s": 1e6,
    "GB/s": 1e9,
}

# ASCII only: Python's \d and \s also match other scripts' digits and spaces ("٣h" would read as 3 hours).
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z/]*)\s*$", re.ASCII)
_RATE = re.compile(rf"^\s*({_NUMBER})\s*/\s*([A-Za-z]+)\s*$", re.ASCII)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$", re.ASCII)
#: Day names, day 0 of a simulation being a Monday.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_CLOCK = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}:\d{2})\s*$", re.ASCII)
#: A calendar date and a time of day, "2020-03-23 08:00" (or with a "T" between them, as in ISO 8601).
DATE_CLOCK = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ \tT]+(\d{1,2}:\d{2})\s*$", re.ASCII)


def _split(text: str, kind: str, units: dict[str, float]) -> tuple[float, str]:
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"is not a {kind}; write a number and a unit such as {_examples(units)}{_digits_hint(text)}")
    return float(match.group(1)), match.group(2)


def _digits_hint(text: str) -> str:
    """A hint when ``text`` holds digits of another script, which quantities do not accept."""
    return " (digits 0-9 only)" if any(c.isdigit() and not c.isascii() for c in text) else ""


def _examples(units: dict[str, float]) -> str:
    return ", ".join(f'"1{u}"' for u in list(units)[:4])


def _parse(value: object, kind: str, units: dict[str, float], allow_negative: bool = False,
           example: str | None = None) -> float:
    if isinstance(value, bool):
        raise ValueError(f"is not a {kind}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        magnitude, unit = _split(value, kind, units)
        if unit == "":
            number = magnitude
        elif unit in units:
            number = magnitude * units[unit]
        else:
            raise ValueError(f"has an unknown {kind} unit {unit!r}; use one of {', '.join(units)}")
    else:
        raise ValueError(f"is not a {kind}; write a string such as {example or _examples(units)}")
    if not math.isfinite(number):
        raise ValueError(f"must be a finite {kind}")
    if number < 0 and not allow_negative:
        raise ValueError("must not be negative")
    return number


def parse_duration(value: object) -> float:
    """Parse a duration such as ``"250ms"``, ``"2.5min"``, ``"8h"`` or ``"30d"``.

    Parameters
    ----------
    value : str or float
        A number with a unit from :data:`DURATION_UNITS`, or a number of seconds.

    Returns
    -------
    float
        Seconds, never negative.

    Raises
    ------
    ValueError
        If the text is not a duration or is negative.
    """
    return _parse(value, "duration", DURATION_UNITS)


def duration_unit(value: object) -> str:
    """The unit a duration is written in: ``"4h" -> "h"``; seconds for a bare number.

    Parameters
    ----------
    value : str or float
        A duration as :func:`parse_duration` accepts it.

    Returns
    -------
    str
        A key of :data:`DURATION_UNITS`.

    Raises
    ------
    ValueError
        If the value is not a duration (the message of :func:`parse_duration`).

    Examples
    --------
    >>> duration_unit("4h"), duration_unit("2.5 min"), duration_unit("90"), duration_unit(90.0)
    ('h', 'min', 's', 's')
    """
    parse_duration(value)  # the same rules and messages
    if isinstance(value, str):
        return _split(value, "duration", DURATION_UNITS)[1] or "s"
    return "s"


def parse_size(value: object) -> float:
    """Parse a size such as ``"360KB"`` or ``"2MB"`` into bytes (decimal units, KiB for binary).

    Parameters
    ----------
    value : str or float
        A number with a unit from :data:`SIZE_UNITS`, or a number of bytes.

    Returns
    -------
    float
        Bytes, never negative.

    Raises
    ------
    ValueError
        If the text is not a size or is negative.
    """
    return _parse(value, "size", SIZE_UNITS)


def parse_bandwidth(value: object) -> float:
    """Parse a bandwidth such as ``"100Mbit/s"`` or ``"10MB/s"`` into bytes per second.

    Parameters
    ----------
    value : str or float
        A number with a unit from :data:`BANDWIDTH_UNITS`, or a number of
        bytes per second.

    Returns
    -------
    float
        Bytes per second, never negative.

    Raises
    ------
    ValueError
        If the text is not a bandwidth or is negative.
    """
    return _parse(value, "bandwidth", BANDWIDTH_UNITS)


def parse_rate(value: object) -> float:
    """Parse a rate such as ``"20/h"`` or ``"1500/d"`` into events per second.

    Parameters
    ----------
    value : str or float
        ``COUNT/UNIT`` with a unit from :data:`DURATION_UNITS`, or a number of
        events per second.

    Returns
    -------
    float
        Events per second, never negative.
    """
    if isinstance(value, str):
        match = _RATE.match(value)
        if not match:
            raise ValueError('is not a rate; write a count per unit of time such as "20/h" or "1500/d"' + _digits_hint(value))
        count, unit = float(match.group(1)), match.group(2)
        if unit not in DURATION_UNITS:
            raise ValueError(f"has an unknown time unit {unit!r}; use one of {', '.join(DURATION_UNITS)}")
        value = count / DURATION_UNITS[unit]
    return _parse(value, "rate", {}, example='"20/h" or "1500/d"')


def parse_clock(value: object) -> float:
    """Parse a time of day ``"HH:MM"`` (00:00 to 24:00), or seconds after midnight, into seconds.

    Parameters
    ----------
    value : str or float
        ``"HH:MM"``, or seconds after midnight (0 to 86,400).

    Returns
    -------
    float
        Seconds after midnight.

    Raises
    ------
    ValueError
        If the value is not a time of day between 00:00 and 24:00.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 86400:
        return float(value)
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError('is not a time of day; write "HH:MM", e.g. "07:30"' + (_digits_hint(value) if isinstance(value, str) else ""))
    hours, minutes = (int(g) for g in _CLOCK.match(value).groups())  # type: ignore[union-attr]
    if minutes >= 60 or hours * 60 + minutes > 24 * 60:
        raise ValueError("is not a time of day between 00:00 and 24:00")
    return hours * 3600.0 + minutes * 60.0


def parse_moment(value: object, first_weekday: int = 0, first_day: datetime.date | None = None) -> float:
    """Parse a moment of the simulation: a duration from the start, a weekday and time of the first week, or a
    date and time.

    A weekday is the first such day from day 0 on, and day 0 has weekday
    ``first_weekday`` (Monday = 0, the default, when the run has no start
    date): with day 0 a Monday ``"mon 08:00"`` is 8 h and ``"wed 14:30"`` is
    2 d 14.5 h; with day 0 a Wednesday (``first_weekday=2``) ``"mon 08:00"``
    is 5 d 8 h. A date and time, ``"2020-03-23 08:00"``, needs the date of
    day 0 (``first_day``, run.start); both are local time (Asia/Ho_Chi_Minh,
    which has no daylight saving time), so it is the days between them and
    the time of day.

    Parameters
    ----------
    value : str or float
        A duration (``"33h"``, seconds), ``"ddd HH:MM"`` or
        ``"YYYY-MM-DD HH:MM"``.
    first_weekday : int, optional
        The weekday of day 0, Monday = 0.
    first_day : datetime.date, optional
        The date of day 0 (``run.start``); needed for a date and time.

    Returns
    -------
    float
        Seconds from the start of day 0.

    Examples
    --------
    >>> parse_moment("mon 08:00"), parse_moment("wed 14:30"), parse_moment("33h")
    (28800.0, 225000.0, 118800.0)
    >>> parse_moment("mon 08:00", first_weekday=2), parse_moment("wed 14:30", first_weekday=2)
    (460800.0, 52200.0)
    >>> parse_moment("2020-03-24 08:00", first_day=datetime.date(2020, 3, 23))
    115200.0
    """
    if isinstance(value, str):
        dated = DATE_CLOCK.match(value)
        if dated is not None:
            return _date_and_time(dated.group(1), dated.group(2), first_day)
    match = _WEEKDAY_CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError('is neither a duration from the start ("33h", "2d"), a weekday and time of the first '
                             'week ("mon 08:00") nor a date and time ("2020-03-23 08:00", with run.start)') from None
    day, clock = match.groups()
    seconds = _time_of_day(clock)
    return (WEEKDAYS.index(day) - first_weekday) % 7 * 86400.0 + seconds


def _time_of_day(clock: str) -> float:
    seconds = parse_clock(clock)
    if seconds >= 86400.0:
        raise ValueError('is not a time of day before 24:00; write the next day at "00:00"')
    return seconds


def _date_and_time(date: str, clock: str, first_day: datetime.date | None) -> float:
    """Seconds from day 0 (``first_day`` at 00:00) to ``date`` at ``clock``, both local time."""
    if first_day is None:
        raise ValueError("is a date and time, which needs run.start (the date of day 0); without it write a "
                         'duration from the start ("33h") or a weekday and time ("mon 08:00")')
    try:
        day = datetime.date.fromisoformat(date)
    except ValueError:
        raise ValueError(f"is not a calendar date and time; write YYYY-MM-DD HH:MM, such as "
                         f'"{first_day.isoformat()} 08:00"') from None
    seconds = (day - first_day).days * 86400.0 + _time_of_day(clock)
    if seconds < 0:
        raise ValueError(f"is before day 0 (run.start = {first_day.isoformat()})")
    return seconds


def _format(value: float, units: dict[str, float], suffix: str = "") -> str:
    """Largest unit not exceeding ``value`` whose text parses back exactly."""
    candidates = [u for u, scale in units.items() if abs(value) >= scale][::-1]
    base = next(u for u, scale in units.items() if scale == 1.0)
    larger = [u for u in candidates if units[u] > 1.0]
    smaller = [u for u in candidates if units[u] < 1.0]
    for unit in larger + [base] + smaller:
        text = f"{value / units[unit]:.12g}"
        if float(text) * units[unit] == value:
            return f"{text}{suffix}{unit}"
    return f"{value!r}{suffix}{base}"


def format_duration(seconds: float) -> str:
    """Write seconds with the largest unit not exceeding them (``5400 -> '1.5h'``).

    Values under a second are written in seconds when that is exact
    (``0.25 -> '0.25s'``); the text always parses back to the same float.

    Parameters
    ----------
    seconds : float
        A duration, seconds.

    Returns
    -------
    str
        The duration with its unit, as a scenario file writes it.
    """
    if seconds == 0:
        return "0s"
    return _format(seconds, DURATION_UNITS)


def format_duration_in(seconds: float, unit: str, digits: int = 3) -> str:
    """Write seconds in a given unit for people to read: ``format_duration_in(15125, "h") -> '4.2 h'``.

    Unlike :func:`format_duration`, the text is rounded (``digits``
    significant digits, thousands separated when larger) and does not parse
    back exactly; it is for reports that state a figure in the unit its
    target was written in.

    Parameters
    ----------
    seconds : float
    unit : str
        A key of :data:`DURATION_UNITS`.
    digits : int
        Significant digits.

    Returns
    -------
    str
        ``NUMBER UNIT``; ``inf h`` (or ``nan h``) for a value that is not finite.

    Raises
    ------
    ValueError
        If ``unit`` is not a duration unit.

    Examples
    --------
    >>> format_duration_in(15125.0, "h"), format_duration_in(14400.0, "h"), format_duration_in(0.25, "s")
    ('4.2 h', '4 h', '0.25 s')
    >>> format_duration_in(86400.0 * 12345, "h")
    '296,280 h'
    """
    if unit not in DURATION_UNITS:
        raise ValueError(f"{unit!r} is not a duration unit; use one of {', '.join(DURATION_UNITS)}")
    value = seconds / DURATION_UNITS[unit]
    if not math.isfinite(value):
        return f"{value} {unit}"
    text = f"{value:.{digits}g}"
    if "e" in text and abs(value) >= 1:
        text = f"{value:,.0f}"
    return f"{text} {unit}"


def format_size(size_bytes: float) -> str:
    """Write bytes with the largest decimal unit not exceeding them (``360000 -> '360KB'``).

    Parameters
    ----------
    size_bytes : float
        A size, bytes.

    Returns
    -------
    str
        The size with a decimal unit (``B``, ``KB``, ``MB``, ``GB``).
    """
    if size_bytes == 0:
        return "0B"
    return _format(size_bytes, {k: v for k, v in SIZE_UNITS.items() if "i" not in k})


def format_rate(per_second: float, unit: str = "d") -> str:
    """Write a rate per ``unit`` of time (``format_rate(1/60, 'h') -> '60/h'``).

    Parameters
    ----------
    per_second : float
        Events per second.
    unit : str, optional
        A unit of :data:`DURATION_UNITS` to write the rate per (default a day).

    Returns
    -------
    str
        ``COUNT/UNIT``, which parses back to the same float (``COUNT/s`` when
        no rounding per ``unit`` does).
    """
    scale = DURATION_UNITS[unit]
    magnitude = per_second * scale
    for text in (f"{magnitude:.12g}", repr(magnitude)):
        if float(text) / scale == per_second:
            return f"{text}/{unit}"
    return f"{per_second!r}/s"  # exact whatever the value
