"""Tests of simulator.units: parsing and formatting quantities with units."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.units import (
    duration_unit,
    format_duration,
    format_duration_in,
    format_rate,
    format_size,
    parse_bandwidth,
    parse_clock,
    parse_duration,
    parse_rate,
    parse_size,
)

SANE = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------- parse: exact values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5min", 150.0),
        ("250ms", 0.25),
        ("1us", 1e-6),
        ("90s", 90.0),
        ("8h", 28800.0),
        ("36h", 129600.0),
        ("30d", 2592000.0),
        ("1w", 604800.0),
        ("0s", 0.0),
        ("1e3s", 1000.0),
        (".5s", 0.5),
        ("5.s", 5.0),
        ("+3s", 3.0),
        ("  5 h ", 18000.0),
        ("7", 7.0),
        (42, 42.0),
        (1.5, 1.5),
        (0, 0.0),
    ],
)
def test_parse_duration_exact(text: object, expected: float) -> None:
    """parse_duration converts each unit (or a bare number of seconds) to exact seconds."""
    assert expected == parse_duration(text)
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500/d", 1500 / 86400),
        ("20/h", 20 / 3600),
        ("20 / h", 20 / 3600),
        ("2/min", 2 / 60),
        ("5/s", 5.0),
        ("1/w", 1 / 604800),
        ("3/ms", 3 / 1e-3),
        ("0/h", 0.0),
        (0.5, 0.5),
        (3, 3.0),
    ],
)
def test_parse_rate_exact(text: object, expected: float) -> None:
    """parse_rate divides the count by the seconds of its time unit; a bare number is per second."""
    assert expected == parse_rate(text)


def test_parse_rate_docstring_example() -> None:
    """1500 per day times the seconds of a day is 1500 again."""
    assert 1500.0 == parse_rate("1500/d") * 86400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("360KB", 360000.0),
        ("2MB", 2000000.0),
        ("1.5GB", 1.5e9),
        ("512B", 512.0),
        ("1KiB", 1024.0),
        ("2MiB", 2097152.0),
        ("1GiB", 1073741824.0),
        ("100", 100.0),
        (100, 100.0),
    ],
)
def test_parse_size_exact(text: object, expected: float) -> None:
    """parse_size uses decimal KB/MB/GB and binary KiB/MiB/GiB, bare numbers are bytes."""
    assert expected == parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100Mbit/s", 12.5e6),
        ("20Mbit/s", 2.5e6),
        ("1Gbit/s", 1.25e8),
        ("64kbit/s", 8000.0),
        ("8bit/s", 1.0),
        ("10MB/s", 1e7),
        ("1KB/s", 1000.0),
        ("2GB/s", 2e9),
        ("3B/s", 3.0),
        (1e6, 1e6),
    ],
)
def test_parse_bandwidth_exact(text: object, expected: float) -> None:
    """parse_bandwidth returns bytes per second (bits divided by 8)."""
    assert expected == parse_bandwidth(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", 27000.0),
        ("00:00", 0.0),
        ("7:05", 25500.0),
        ("23:59", 86340.0),
        ("24:00", 86400.0),
        (" 08:00 ", 28800.0),
        (450, 450.0),
        (0, 0.0),
        (86400, 86400.0),
        (27000.5, 27000.5),
    ],
)
def test_parse_clock_exact(text: str, expected: float) -> None:
    """parse_clock turns HH:MM (or seconds 0..86400) into seconds after midnight, 24:00 included."""
    assert expected == parse_clock(text)


# --------------------------------------------------------------------------- parse: errors


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_duration, "-1s"),
        (parse_duration, -1),
        (parse_duration, -0.5),
        (parse_rate, "-3/h"),
        (parse_rate, -0.5),
        (parse_size, "-1KB"),
        (parse_bandwidth, "-1Mbit/s"),
    ],
)
def test_negative_is_rejected(parse, value: object) -> None:
    """A negative quantity raises ValueError naming the non-negative rule."""
    with pytest.raises(ValueError, match=r"^must not be negative$"):
        parse(value)


@pytest.mark.parametrize(
    ("parse", "value", "rule"),
    [
        (parse_duration, "5x", r"^has an unknown duration unit 'x'; use one of us, ms, s, min, h, d, w$"),
        (parse_duration, "5 sec", r"unknown duration unit 'sec'"),
        (parse_rate, "3/x", r"^has an unknown time unit 'x'; use one of us, ms, s, min, h, d, w$"),
        (parse_rate, "3/sec", r"unknown time unit 'sec'"),
        (parse_size, "3XB", r"^has an unknown size unit 'XB'; use one of B, KB, MB, GB, KiB, MiB, GiB$"),
        (parse_bandwidth, "1Tbit/s", r"^has an unknown bandwidth unit 'Tbit/s'; use one of bit/s, kbit/s, Mbit/s"),
    ],
)
def test_unknown_unit_is_rejected(parse, value: str, rule: str) -> None:
    """An unknown unit raises ValueError naming the unit and listing the known ones."""
    with pytest.raises(ValueError, match=rule):
        parse(value)


@pytest.mark.parametrize(
    ("parse", "value", "rule"),
    [
        (parse_duration, "abc", r'^is not a duration; write a number and a unit such as "1us", "1ms", "1s", "1min"$'),
        (parse_duration, "", r"^is not a duration"),
        (parse_duration, "1.2.3s", r"^is not a duration"),
        (parse_duration, "s5", r"^is not a duration"),
        (parse_duration, "nan", r"^is not a duration"),
        (parse_duration, "inf s", r"^is not a duration"),
        (parse_duration, None, r"^is not a duration; write a string such as"),
        (parse_size, "lots", r"^is not a size"),
        (parse_bandwidth, "fast", r"^is not a bandwidth"),
        (parse_rate, "3", r'^is not a rate; write a count per unit of time such as "20/h" or "1500/d"$'),
        (parse_rate, "3h", r"^is not a rate"),
        (parse_rate, "/h", r"^is not a rate"),
        (parse_rate, "abc", r"^is not a rate"),
        # digits of other scripts read as numbers by float(): refused (issue 10)
        (parse_duration, "\u0663h", r"^is not a duration; .*\(digits 0-9 only\)$"),
        (parse_duration, "\uff13h", r"^is not a duration; .*\(digits 0-9 only\)$"),
        (parse_duration, "3\u00a0h", r"^is not a duration; write a number and a unit such as \S+, \S+, \S+, \S+$"),
        (parse_size, "\u0967MB", r"^is not a size; .*\(digits 0-9 only\)$"),
        (parse_rate, "\u0663/h", r"^is not a rate; .*\(digits 0-9 only\)$"),
        (parse_clock, "\u0660\u0668:\u0663\u0660", r"^is not a time of day; .*\(digits 0-9 only\)$"),
    ],
)
def test_garbage_is_rejected(parse, value: object, rule: str) -> None:
    """Text that is no quantity raises ValueError saying what kind of value is expected."""
    with pytest.raises(ValueError, match=rule):
        parse(value)


@pytest.mark.parametrize("parse", [parse_duration, parse_rate, parse_size, parse_bandwidth])
@pytest.mark.parametrize("value", [True, False])
def test_bool_is_rejected(parse, value: bool) -> None:
    """A boolean is never taken for the number 0 or 1."""
    with pytest.raises(ValueError, match=r"^is not a (duration|rate|size|bandwidth)"):
        parse(value)


@pytest.mark.parametrize(
    ("parse", "value", "kind"),
    [
        (parse_duration, math.nan, "duration"),
        (parse_duration, math.inf, "duration"),
        (parse_duration, "1e400s", "duration"),
        (parse_rate, math.nan, "rate"),
        (parse_rate, math.inf, "rate"),
        (parse_rate, "1e400/h", "rate"),
        (parse_size, math.inf, "size"),
        (parse_size, "1e400B", "size"),
        (parse_bandwidth, math.nan, "bandwidth"),
    ],
)
def test_non_finite_is_rejected(parse, value: object, kind: str) -> None:
    """NaN and infinity (given or reached by overflow) raise ValueError: must be finite."""
    with pytest.raises(ValueError, match=rf"^must be a finite {kind}$"):
        parse(value)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("24:01", r"^is not a time of day between 00:00 and 24:00$"),
        ("25:00", r"^is not a time of day between 00:00 and 24:00$"),
        ("07:60", r"^is not a time of day between 00:00 and 24:00$"),
        ("7", r'^is not a time of day; write "HH:MM", e.g. "07:30"$'),
        ("0730", r"^is not a time of day; write"),
        ("07:30:00", r"^is not a time of day; write"),
        ("-1:00", r"^is not a time of day; write"),
        (-1, r"^is not a time of day; write"),
        (86401, r"^is not a time of day; write"),
        (float("nan"), r"^is not a time of day; write"),
        (True, r"^is not a time of day; write"),
        (None, r"^is not a time of day; write"),
    ],
)
def test_parse_clock_errors(value: object, rule: str) -> None:
    """A clock outside 00:00..24:00 or not written HH:MM raises ValueError with the rule."""
    with pytest.raises(ValueError, match=rule):
        parse_clock(value)


def test_parse_rate_wrong_type_message_gives_an_example() -> None:
    """A rate of the wrong type is rejected with a message that shows an example rate."""
    with pytest.raises(ValueError, match=r'is not a rate; write a string such as "\d+/[a-z]+"'):
        parse_rate([1])


# --------------------------------------------------------------------------- format: exact strings


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (1.0, "1s"),
        (90.0, "1.5min"),
        (150.0, "2.5min"),
        (5400.0, "1.5h"),
        (129600.0, "1.5d"),
        (604800.0, "1w"),
        (86400.0, "1d"),
    ],
)
def test_format_duration_exact(seconds: float, expected: str) -> None:
    """format_duration writes the largest unit not exceeding the value."""
    assert expected == format_duration(seconds)


def test_format_duration_docstring_example() -> None:
    """36 hours are written as 1.5 days."""
    assert "1.5d" == format_duration(parse_duration("36h"))


@pytest.mark.parametrize(("text", "unit"), [("4h", "h"), (" 2.5 min ", "min"), ("250ms", "ms"), ("3d", "d"),
                                           ("90", "s"), (90, "s"), (1.5, "s"), ("1w", "w")])
def test_duration_unit_is_the_unit_written(text: object, unit: str) -> None:
    """duration_unit names the unit a duration was written in; a bare number is seconds."""
    assert unit == duration_unit(text)


@pytest.mark.parametrize("text", ["4 hours", "-2h", "h", True])
def test_duration_unit_refuses_what_parse_duration_refuses(text: object) -> None:
    """A text that is no duration raises the same ValueError as parse_duration."""
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(ValueError):
        duration_unit(text)


@pytest.mark.parametrize(("seconds", "unit", "expected"), [
    (15125.0, "h", "4.2 h"), (14400.0, "h", "4 h"), (14400.0, "min", "240 min"), (94500.0, "h", "26.2 h"),
    (0.0, "h", "0 h"), (0.0123, "s", "0.0123 s"), (1800.0, "h", "0.5 h"), (86400.0 * 5000, "h", "120,000 h"),
    (math.inf, "h", "inf h"),
])
def test_format_duration_in_writes_the_given_unit(seconds: float, unit: str, expected: str) -> None:
    """format_duration_in states a figure in the unit asked for, rounded to 3 significant digits."""
    assert expected == format_duration_in(seconds, unit)


def test_format_duration_in_refuses_an_unknown_unit() -> None:
    """Only units of DURATION_UNITS."""
    with pytest.raises(ValueError, match="not a duration unit"):
        format_duration_in(1.0, "hours")


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0B"),
        (1.5, "1.5B"),
        (360000.0, "360KB"),
        (1024.0, "1.024KB"),
        (2e6, "2MB"),
        (1.5e9, "1.5GB"),
        (2.5e12, "2500GB"),
    ],
)
def test_format_size_exact(size: float, expected: str) -> None:
    """format_size writes the largest decimal unit not exceeding the value."""
    assert expected == format_size(size)


@pytest.mark.parametrize(
    ("per_second", "unit", "expected"),
    [
        (1 / 60, "h", "60/h"),
        (20 / 3600, "h", "20/h"),
        (1500 / 86400, "d", "1500/d"),
        (0.0, "h", "0/h"),
        (2.0, "s", "2/s"),
        (1 / 604800, "w", "1/w"),
    ],
)
def test_format_rate_exact(per_second: float, unit: str, expected: str) -> None:
    """format_rate writes the count per the given time unit."""
    assert expected == format_rate(per_second, unit)


def test_format_rate_defaults_to_per_day() -> None:
    """Without a unit, format_rate counts per day."""
    assert "1500/d" == format_rate(1500 / 86400)


# --------------------------------------------------------------------------- round trips

ROUND_TRIP_VALUES = [0.0, 1e-6, 2**-20, 0.1, 0.25, 1 / 3, 1.0, 1.5, 60.0, 150.0, 5400.0, 86400.0,
                     129600.0, 604800.0, 123456.789, 1e9, 7.123456789012345]


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES)
def test_duration_round_trip(value: float) -> None:
    """format_duration then parse_duration gives back the identical float."""
    assert value == parse_duration(format_duration(value))


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES + [360000.0, 2.5e12])
def test_size_round_trip(value: float) -> None:
    """format_size then parse_size gives back the identical float."""
    assert value == parse_size(format_size(value))


@pytest.mark.parametrize("unit", ["s", "min", "h", "d", "w"])
@pytest.mark.parametrize("value", [0.0, 1 / 60, 20 / 3600, 1500 / 86400, 0.1, 1.0, 2.5, 1e-6, 1e6])
def test_rate_round_trip(value: float, unit: str) -> None:
    """format_rate (in any time unit) then parse_rate gives back the identical float."""
    assert value == parse_rate(format_rate(value, unit))


@pytest.mark.parametrize(("value", "unit"), [(0.011, "h"), (3.700955854122135, "d")])
def test_rate_round_trip_awkward_values(value: float, unit: str) -> None:
    """format_rate then parse_rate is exact also when value * scale is not exact."""
    assert value == parse_rate(format_rate(value, unit))


@settings(max_examples=100, deadline=None)
@given(SANE)
def test_duration_round_trip_property(value: float) -> None:
    """Any sane finite duration survives format_duration then parse_duration bit for bit."""
    assert value == parse_duration(format_duration(value))


@settings(max_examples=100, deadline=None)
@given(SANE)
def test_size_round_trip_property(value: float) -> None:
    """Any sane finite size survives format_size then parse_size bit for bit."""
    assert value == parse_size(format_size(value))


@settings(max_examples=100, deadline=None)
@given(SANE)
def test_format_duration_parses(value: float) -> None:
    """format_duration always writes text that parse_duration accepts with a known unit."""
    text = format_duration(value)
    assert text.endswith(("us", "ms", "s", "min", "h", "d", "w"))
    assert parse_duration(text) > 0


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(SANE, st.sampled_from(["h", "d"]))
def test_rate_round_trip_property(value: float, unit: str) -> None:
    """Any sane finite rate survives format_rate then parse_rate bit for bit."""
    assert value == parse_rate(format_rate(value, unit))
