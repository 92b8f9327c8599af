"""Clock: working time, its profile and its holidays, mapped onto the wall clock.

Documents are created by a Poisson process whose intensity is an agency's rate
times a relative factor ``w(t)``: 0 when offices are closed (nights, days off,
holidays), 1 in open hours without a profile, and with a profile
(:class:`~simulator.scenario.ProfileSpec`) the product of the factors of the
instant's hour, weekday, month and quarter end and named periods, normalised
so that the mean of ``w`` over the open time of the horizon is 1.

:class:`OpenClock` holds the cumulative ``W(t)``, the integral of ``w`` from 0
to ``t`` (the "weighted open time"), and its inverse: a source draws
exponential gaps of mean ``1 / rate`` in weighted open time and maps their
sums to wall-clock time (:meth:`OpenClock.to_wall`), which inverts the
cumulative intensity exactly (no thinning, no rejected draws). Without a
profile ``W`` is the open time, and the clock computes exactly what it always
has.

A calendar that depends only on the week (hours, weekdays, hour and weekday
factors) is kept as one week of open segments, reached by arithmetic on whole
weeks: memory and set-up time do not depend on the horizon. One with dates
(holidays, month and quarter ends, periods; they need ``run.start``) adds one
factor per simulated day.
"""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
import numpy as np

from .scenario import CalendarSpec, ProfileSpec

__all__ = ["OpenClock", "BusiestHour", "public_holidays", "closed_dates", "day_factors"]

_DAY = 86400.0
_WEEK = 7 * _DAY
_HOUR = 3600.0
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BusiestHour:
    """The busiest stretch of open time under a profile (the first, if several are as busy).

    Attributes
    ----------
    start, end : float
        Wall-clock seconds since day 0 (at most an hour apart when the
        profile has hour factors, else an open period of the calendar).
    factor : float
        The document rate there relative to the mean over the open time of the
        horizon (1 for a flat calendar).
    label : str
        ``"Mon 2020-03-30 08:00-09:00"``, or ``"Mon 08:00-09:00"`` without
        ``run.start``.
    """

    start: float
    end: float
    factor: float
    label: str


def _clock_text(seconds: float) -> str:
    """Seconds after midnight as ``"HH:MM"``."""
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


@functools.lru_cache(maxsize=32)
def public_holidays(country: str, first_year: int, last_year: int) -> frozenset[datetime.date]:
    """Public holidays of ``country`` from the ``holidays`` package, years ``first_year`` to ``last_year``.

    For Vietnam (``"VN"``) these are the statutory days off (New Year, Tết,
    Hùng Kings, 30 April, 1 May, National Day) with the compensatory days
    (nghỉ bù) the law gives when a holiday falls on a weekend and the
    government's announced swaps the package records; Saturdays worked in
    exchange are not added back as working days.
    """
    import holidays  # imported only for a calendar with holidays

    return frozenset(holidays.country_holidays(country, years=range(first_year, last_year + 1)))


def closed_dates(calendar: CalendarSpec, first: datetime.date, last: datetime.date) -> frozenset[datetime.date]:
    """Holidays of the calendar (its country's and ``extra_holidays``) from ``first`` to ``last``.

    Parameters
    ----------
    calendar : CalendarSpec
        The scenario's ``[calendar]``.
    first, last : datetime.date
        The first and last day looked at, both included.

    Returns
    -------
    frozenset of datetime.date
        The days the offices are closed (weekends are not listed).
    """
    found = set(public_holidays(calendar.holidays, first.year, last.year)) if calendar.holidays else set()
    found.update(calendar.extra_holidays)
    return frozenset(d for d in found if first <= d <= last)


def _last_working_days(working: np.ndarray, month: np.ndarray, count: int) -> np.ndarray:
    """Which days are among the last ``count`` working days of their month (``month``: a month number per day)."""
    worked = working.astype(np.int64)
    running = np.cumsum(worked)
    _, first = np.unique(month, return_index=True)
    before_month = np.repeat((running - worked)[first], np.diff(np.append(first, len(month))))
    in_month = np.bincount(month - month[0], weights=worked)[month - month[0]]
    from_end = in_month - (running - before_month) + 1  # 1 for the month's last working day
    return working & (from_end <= count)


def day_factors(calendar: CalendarSpec, start: datetime.date, n_days: int) -> tuple[np.ndarray, tuple[datetime.date, ...]]:
    """The raw factor of each simulated day (0 on holidays) and the holidays themselves.

    Days run from ``start`` for ``n_days``; month and quarter ends are found
    over whole months, so that the last working days of a month that the
    horizon cuts are the month's, not the horizon's.

    Parameters
    ----------
    calendar : CalendarSpec
        The scenario's ``[calendar]``, with its profile.
    start : datetime.date
        The date of day 0 (``run.start``).
    n_days : int
        Days simulated.

    Returns
    -------
    factors : numpy.ndarray
        ``n_days`` factors before normalisation: 0 for a holiday, else the
        product of the month-end, quarter-end and period factors (1 if none).
    holidays : tuple of datetime.date
        The holidays inside the horizon, in order.
    """
    last = start + datetime.timedelta(days=n_days - 1)
    month_first = start.replace(day=1)
    month_last = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    closed = closed_dates(calendar, month_first, month_last)
    span = np.arange(np.datetime64(month_first), np.datetime64(month_last) + 1)
    shut = np.isin(span, np.array(sorted(closed), dtype="datetime64[D]"))
    weekday = (span.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    working = np.isin(weekday, calendar.weekday_numbers) & ~shut
    month = span.astype("datetime64[M]").astype(np.int64)
    factors = np.where(shut, 0.0, 1.0)
    profile = calendar.profile or ProfileSpec()
    if profile.month_end is not None:
        factors[_last_working_days(working, month, profile.month_end.days)] *= profile.month_end.factor
    if profile.quarter_end is not None:
        closing = _last_working_days(working, month, profile.quarter_end.days) & (month % 3 == 2)  # Mar, Jun, Sep, Dec
        factors[closing] *= profile.quarter_end.factor
    for period in profile.periods:
        factors[(span >= np.datetime64(period.start)) & (span <= np.datetime64(period.end)) & ~shut] *= period.factor
    offset = (start - month_first).days
    inside = tuple(sorted(d for d in closed if start <= d <= last))
    return factors[offset:offset + n_days], inside


def _week_segments(calendar: CalendarSpec, first_weekday: int,
                   unit: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One week of open segments from day 0 on (day 0 has weekday ``first_weekday``): starts, lengths, raw weights.

    Without hour factors (or with ``unit``) a segment is an open period of the
    calendar; with them, the open periods are cut at every full hour. ``unit``
    gives every segment weight 1 (the plain open time).
    """
    profile = None if unit else calendar.profile
    hours = profile.hours if profile is not None else {}
    weekdays = profile.weekdays if profile is not None else {}
    segments = []
    for weekday in calendar.weekday_numbers:
        day = ((weekday - first_weekday) % 7) * _DAY
        day_factor = weekdays.get(_DAY_NAMES[weekday].lower(), 1.0)
        for open_, close in calendar.hours:
            cuts = [open_] + [h * _HOUR for h in range(int(open_ // _HOUR) + 1, int(-(-close // _HOUR)))] + [close] \
                if hours else [open_, close]
            for begin, end in zip(cuts[:-1], cuts[1:]):
                weight = day_factor * hours.get(f"{int(begin // _HOUR):02d}", 1.0) if profile is not None else 1.0
                segments.append((day + begin, end - begin, weight))
    segments.sort()
    starts, lengths, weights = (np.array(column, dtype=float) for column in zip(*segments))
    return starts, lengths, weights


class OpenClock:
    """Maps weighted open time to wall-clock time over a horizon, and back.

    "Open time" here is the cumulative relative rate ``W(t)``: open seconds
    (closed: nights, days off, holidays) weighted by the calendar's profile,
    normalised so that ``W(horizon)`` is the open seconds of the horizon.
    Without a profile it is the plain open time.

    Parameters
    ----------
    calendar : CalendarSpec or None
        ``None`` means always open (open time = wall time). Its
        :attr:`~simulator.scenario.CalendarSpec.start` (``run.start``) dates
        day 0; without it day 0 is a Monday.
    horizon : float
        Seconds of wall-clock time covered.

    Examples
    --------
    >>> from simulator.scenario import CalendarSpec
    >>> clock = OpenClock(CalendarSpec(hours=((8 * 3600.0, 12 * 3600.0),)), 7 * 86400.0)
    >>> clock.open_seconds / 3600          # 5 working days of 4 hours
    20.0
    >>> float(clock.to_wall(np.array([3600.0 * 5]))[0]) / 3600  # 5th open hour: Tue 09:00
    33.0
    >>> clock.open_before(np.array([33 * 3600.0])).tolist()    # and back
    [18000.0]
    """

    def __init__(self, calendar: CalendarSpec | None, horizon: float):
        self.horizon = float(horizon)
        self._always = calendar is None
        self._calendar = calendar
        self.holidays: tuple[datetime.date, ...] = ()
        self._days: np.ndarray | None = None  # per-day factors (dated calendars only)
        self._first_weekday = 0
        if calendar is None:
            self._starts = np.array([0.0])
            self._cumulative = np.array([0.0])
            self._week_open = _WEEK
            self.open_seconds = self.horizon
            self._total = self.horizon
            return
        start = calendar.start
        self._first_weekday = start.weekday() if start is not None else 0
        self._set_week(*_week_segments(calendar, self._first_weekday, unit=True))
        if calendar.dated and start is not None:
            factors, self.holidays = day_factors(calendar, start, max(1, int(np.ceil(self.horizon / _DAY))))
            self._set_days((factors > 0).astype(float))
            self.open_seconds = float(self._open_before(np.array([self.horizon]))[0])
            if calendar.profile is not None:
                self._set_week(*_week_segments(calendar, self._first_weekday, unit=False))
                self._set_days(factors)
        else:
            self.open_seconds = float(self._open_before(np.array([self.horizon]))[0])
            if calendar.profile is not None:
                self._set_week(*_week_segments(calendar, self._first_weekday, unit=False))
        self._total = self.open_seconds
        if calendar.profile is not None and self.open_seconds > 0:
            self._normalise()

    # ------------------------------------------------------------------ building

    def _set_week(self, starts: np.ndarray, lengths: np.ndarray, weights: np.ndarray) -> None:
        """One week of open segments: wall start within the week, length, relative weight."""
        self._starts = starts
        self._lengths = lengths
        self._weights = weights
        weighted = lengths * weights
        self._cumulative = np.concatenate([[0.0], np.cumsum(weighted)[:-1]])  # weighted open seconds before each
        self._week_open = float(weighted.sum())
        self._ends = np.append(self._cumulative[1:], self._week_open)
        if self._days is not None:
            self._set_days(self._days)

    def _set_days(self, factors: np.ndarray) -> None:
        """Per-day factors, and the weighted open seconds before each day."""
        self._days = factors
        day_starts = np.arange(8) * _DAY
        before = self._week_before(day_starts)
        per_weekday = np.diff(before)  # weighted open seconds of each day of the (rotated) week
        self._day_base = before[:7]
        weekday = np.arange(len(factors)) % 7
        self._day_cumulative = np.concatenate([[0.0], np.cumsum(factors * per_weekday[weekday])])

    def _normalise(self) -> None:
        """Scale the weights so that the weighted open time of the horizon equals its open seconds."""
        raw = float(self._open_before(np.array([self.horizon]))[0])
        scale = self.open_seconds / raw
        if self._days is not None:
            self._set_days(self._days * scale)
        else:
            self._set_week(self._starts, self._lengths, self._weights * scale)
        self._total = float(self._open_before(np.array([self.horizon]))[0])

    # ------------------------------------------------------------------ forward: wall -> weighted open time

    @property
    def open_fraction(self) -> float:
        """Share of the horizon that is open time."""
        return self.open_seconds / self.horizon

    def _week_before(self, wall: np.ndarray) -> np.ndarray:
        """Weighted open seconds in ``[0, wall]`` of the endless weekly calendar (no horizon, no dates)."""
        weeks = np.floor(wall / _WEEK)
        within = wall - weeks * _WEEK
        index = np.maximum(np.searchsorted(self._starts, within, side="right") - 1, 0)
        inside = np.clip((within - self._starts[index]) * self._weights[index], 0.0,
                         self._ends[index] - self._cumulative[index])
        inside = np.where(within < self._starts[0], 0.0, self._cumulative[index] + inside)
        return weeks * self._week_open + inside

    def _open_before(self, wall: np.ndarray) -> np.ndarray:
        """Weighted open seconds in ``[0, wall]``, dates included (``wall`` within the horizon)."""
        if self._days is None:
            return self._week_before(wall)
        days = self._days
        day = np.clip(np.floor(wall / _DAY).astype(np.int64), 0, len(days) - 1)
        weekday = day % 7
        into = self._week_before(weekday * _DAY + (wall - day * _DAY)) - self._day_base[weekday]
        return self._day_cumulative[day] + days[day] * into

    def open_before(self, wall: np.ndarray) -> np.ndarray:
        """Weighted open seconds between time 0 and each wall-clock instant (the inverse of :meth:`to_wall`).

        Times a rate, the expected number of documents an agency creates by
        then.
        """
        wall = np.minimum(np.asarray(wall, dtype=float), self.horizon)
        if self._always:
            return wall
        return self._open_before(wall)

    def open_share_after(self, wall: np.ndarray) -> np.ndarray:
        """Share of all open time that comes after each wall-clock instant (1 at 0, 0 past the horizon)."""
        if self.open_seconds <= 0:
            return np.zeros(len(wall))
        return 1.0 - self.open_before(wall) / self.open_seconds

    # ------------------------------------------------------------------ inverse: weighted open time -> wall

    def to_wall(self, open_time: np.ndarray) -> np.ndarray:
        """Wall-clock seconds of the given weighted open-time instants (``inf`` past the horizon)."""
        open_time = np.asarray(open_time, dtype=float)
        if self._always:
            wall = open_time.copy()
        elif self._days is not None:
            wall = self._dated_to_wall(open_time)
        else:
            weeks = np.floor(open_time / self._week_open)
            within = open_time - weeks * self._week_open
            past = within >= self._week_open  # rounding: the instant opens the next week
            weeks, within = np.where(past, weeks + 1, weeks), np.where(past, within - self._week_open, within)
            index = np.maximum(np.searchsorted(self._cumulative, within, side="right") - 1, 0)
            wall = weeks * _WEEK + self._starts[index] + (within - self._cumulative[index]) / self._weights[index]
        wall[open_time >= self._total] = np.inf
        return wall

    def _dated_to_wall(self, open_time: np.ndarray) -> np.ndarray:
        """:meth:`to_wall` for a calendar with per-day factors."""
        days = self._days
        assert days is not None
        day = np.minimum(np.searchsorted(self._day_cumulative[1:], open_time, side="right"), len(days) - 1)
        weekday = day % 7
        factor = days[day]
        rest = np.where(factor > 0, (open_time - self._day_cumulative[day]) / np.where(factor > 0, factor, 1.0), 0.0)
        target = self._day_base[weekday] + rest
        # the segment of that day holding the target (never the next day's, whatever the rounding)
        first = np.searchsorted(self._starts, weekday * _DAY, side="left")
        last = np.searchsorted(self._starts, (weekday + 1) * _DAY, side="left") - 1
        index = np.clip(np.searchsorted(self._cumulative, target, side="right") - 1, first, np.maximum(last, first))
        index = np.minimum(index, len(self._starts) - 1)
        inside = np.clip((target - self._cumulative[index]) / self._weights[index], 0.0, self._lengths[index])
        return day * _DAY + (self._starts[index] - weekday * _DAY) + inside

    # ------------------------------------------------------------------ the busiest hour

    @property
    def busiest_hour(self) -> BusiestHour | None:
        """The busiest open stretch of the horizon and its rate relative to the mean (None if always open)."""
        if self._always or self.open_seconds <= 0:
            return None
        if self._days is None:
            rate = np.where(self._starts < self.horizon, self._weights, -np.inf)
            best = int(np.argmax(rate))
            return self._busiest(float(self._starts[best]), float(self._lengths[best]), float(rate[best]))
        weekday_of_segment = (self._starts // _DAY).astype(np.int64)
        top = np.zeros(7)
        np.maximum.at(top, weekday_of_segment, self._weights)  # the largest weight of each day of the week (0: closed)
        n_days = len(self._days)
        day_rate = self._days * top[np.arange(n_days) % 7]
        day = int(np.argmax(np.where(np.arange(n_days) * _DAY < self.horizon, day_rate, -np.inf)))
        weekday = day % 7
        on_day = np.flatnonzero((weekday_of_segment == weekday) & (self._weights == top[weekday]))
        begin = (day - weekday) * _DAY + self._starts[on_day]
        best = int(on_day[np.argmax(begin < self.horizon)])
        return self._busiest(float((day - weekday) * _DAY + self._starts[best]), float(self._lengths[best]),
                             float(day_rate[day]))

    def _busiest(self, begin: float, length: float, factor: float) -> BusiestHour:
        """A :class:`BusiestHour` with its label."""
        day = int(begin // _DAY)
        weekday = (self._first_weekday + day) % 7
        start = self._calendar.start if self._calendar is not None else None
        when = f" {start + datetime.timedelta(days=day)}" if start is not None else ""
        within = begin - day * _DAY
        label = f"{_DAY_NAMES[weekday]}{when} {_clock_text(within)}-{_clock_text(within + length)}"
        return BusiestHour(begin, begin + length, factor, label)
