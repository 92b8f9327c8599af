"""Metrics: streaming collectors whose memory does not grow with the number of documents.

* :class:`Histogram`: log-binned latency histogram (relative bin width 1 %)
  with an exact count, sum, minimum and maximum, fed in NumPy batches;
  quantiles are read from the bins.
* :class:`StationCounters`: per-station running sums that the engine updates
  in place (plain lists, for speed) and that :meth:`StationCounters.window`
  turns into time integrals (busy servers, waiting jobs) at an instant.
* :class:`Ledger`: the conservation ledger of documents, copies and status
  messages.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

__all__ = ["Histogram", "StationCounters", "StationWindow", "Ledger"]


class Histogram:
    """A streaming histogram of positive durations on log-spaced bins.

    Values from ``low`` to ``high`` seconds fall into bins whose edges grow by
    ``ratio``; smaller values go to an underflow bin at ``low``, larger ones to
    an overflow bin. Quantiles are exact to within one bin (1 % relative by
    default); the mean is exact.

    Parameters
    ----------
    low, high : float
        Range of the log bins, seconds.
    ratio : float
        Ratio of consecutive bin edges.

    Examples
    --------
    >>> h = Histogram()
    >>> h.add(np.arange(1.0, 101.0))
    >>> h.count, h.mean
    (100, 50.5)
    >>> abs(h.quantile(0.5) - 50.5) / 50.5 < 0.02
    True
    """

    def __init__(self, low: float = 1e-3, high: float = 1e9, ratio: float = 1.01):
        self.low = low
        self._log_low = math.log(low)
        self._log_ratio = math.log(ratio)
        self.bins = int(math.ceil((math.log(high) - self._log_low) / self._log_ratio))
        self.counts = np.zeros(self.bins + 2, dtype=np.int64)  # [under, bins..., over]
        self.count = 0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf

    def add(self, values: Sequence[float] | np.ndarray) -> None:
        """Add a batch of values (seconds)."""
        data = np.asarray(values, dtype=float)
        if data.size == 0:
            return
        self.count += int(data.size)
        self.total += float(data.sum())
        self.minimum = min(self.minimum, float(data.min()))
        self.maximum = max(self.maximum, float(data.max()))
        with np.errstate(divide="ignore"):
            index = np.floor((np.log(np.maximum(data, 1e-300)) - self._log_low) / self._log_ratio).astype(np.int64) + 1
        np.clip(index, 0, self.bins + 1, out=index)
        self.counts += np.bincount(index, minlength=self.bins + 2)

    def merge(self, other: "Histogram") -> None:
        """Add another histogram with the same bins."""
        assert other.bins == self.bins and other.low == self.low
        self.counts += other.counts
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    @property
    def mean(self) -> float:
        """Exact mean of the values added (NaN when empty)."""
        return self.total / self.count if self.count else math.nan

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0..1), the geometric middle of its bin, clipped to the observed range."""
        if not self.count:
            return math.nan
        rank = q * self.count
        cumulative = np.cumsum(self.counts)
        index = int(np.searchsorted(cumulative, max(rank, 1e-12), side="left"))
        if index == 0:
            value = self.low
        elif index > self.bins:
            value = self.maximum
        else:
            value = math.exp(self._log_low + (index - 0.5) * self._log_ratio)
        return min(max(value, self.minimum), self.maximum)

    def cdf_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(upper bin edges, cumulative share) of the non-empty range, for plotting."""
        nonzero = np.nonzero(self.counts)[0]
        if not len(nonzero):
            return np.zeros(0), np.zeros(0)
        lo, hi = nonzero[0], nonzero[-1] + 1
        edges = np.exp(self._log_low + np.arange(lo, hi) * self._log_ratio)
        share = np.cumsum(self.counts[lo:hi]) / self.count
        return edges, share


class StationCounters:
    """Running per-station sums, updated in place by the engine (lists indexed by station).

    Attributes
    ----------
    started, dropped : list of int
        Jobs that began service at, or were turned away from, the station.
    wait_sum : list of float
        Total waiting time of the jobs that began service.
    start_total, end_total : list of float
        Sums of all service start and service end instants, so the busy
        server-time up to ``t`` is ``end_total + in_service * t - start_total``
        and the jobs served are ``started - in_service``.
    max_queue : list of int
        Longest waiting line seen.
    """

    def __init__(self, stations: int):
        self.started = [0] * stations
        self.dropped = [0] * stations
        self.wait_sum = [0.0] * stations
        self.start_total = [0.0] * stations
        self.end_total = [0.0] * stations
        self.max_queue = [0] * stations

    def window(self, now: float, in_service: Sequence[int], queued_since: Iterable[Iterable[float]]) -> "StationWindow":
        """A snapshot of every counter and time integral from 0 to ``now``.

        Parameters
        ----------
        now : float
        in_service : sequence of int
            Jobs in service at each station now.
        queued_since : iterable of iterables of float
            Arrival times of the jobs waiting at each station now.
        """
        busy_now = np.array(in_service, dtype=np.int64)
        started = np.array(self.started, dtype=np.int64)
        queued = [list(q) for q in queued_since]
        waiting_now = np.array([len(q) for q in queued], dtype=np.int64)
        busy_area = np.array(self.end_total) + busy_now * now - np.array(self.start_total)
        wait_area = np.array(self.wait_sum) + np.array([sum(now - t for t in q) for q in queued], dtype=float)
        served = started - busy_now
        dropped = np.array(self.dropped, dtype=np.int64)
        return StationWindow(
            time=now, arrived=started + waiting_now + dropped, started=started, served=served, dropped=dropped,
            wait_sum=np.array(self.wait_sum), busy_area=busy_area, wait_area=wait_area,
        )


@dataclass
class StationWindow:
    """Counters and areas at one instant; subtract two to get a measurement window."""

    time: float
    arrived: np.ndarray
    started: np.ndarray
    served: np.ndarray
    dropped: np.ndarray
    wait_sum: np.ndarray
    busy_area: np.ndarray
    wait_area: np.ndarray

    def __sub__(self, earlier: "StationWindow") -> "StationWindow":
        return StationWindow(self.time - earlier.time, *(getattr(self, f) - getattr(earlier, f) for f in (
            "arrived", "started", "served", "dropped", "wait_sum", "busy_area", "wait_area")))


@dataclass
class Ledger:
    """Where every document, copy and status message ended up.

    ``documents_generated == documents_electronic + documents_paper`` and
    ``documents_electronic == documents_delivered + documents_dropped +
    documents_fallback + documents_in_flight``; copies balance the same way,
    status messages without the fallback. A document or copy that exhausted
    its resends (``network.retry``) is a dead letter: dropped, or
    ``fallback`` when it went on paper instead. ``resends`` counts packages
    by the resends they needed (those that got through or died);
    ``resends_sent`` is every resend. With an acknowledgement timeout
    (``network.retry.ack_timeout``) a sender sends a copy again when its
    "01" status is late (``ack_resends``); the recipient counts a copy it
    already has as one of ``duplicates`` instead of receiving it again, and
    a resent copy that dies on the way is one of ``duplicates_lost``. Neither
    enters the balance: each copy ends once, however many times it is sent.
    """

    documents_generated: int = 0
    documents_electronic: int = 0
    documents_paper: int = 0
    documents_delivered: int = 0
    documents_dropped: int = 0
    copies_generated: int = 0
    copies_electronic: int = 0
    copies_paper: int = 0
    copies_delivered: int = 0
    copies_dropped: int = 0
    statuses_generated: int = 0
    statuses_delivered: int = 0
    statuses_dropped: int = 0
    documents_fallback: int = 0
    copies_fallback: int = 0
    resends_sent: int = 0
    dead_letters: int = 0
    ack_resends: int = 0
    duplicates: int = 0
    duplicates_lost: int = 0
    resends: dict[int, int] = field(default_factory=dict)
    paper_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def documents_in_flight(self) -> int:
        """Electronic documents with a copy still travelling."""
        return self.documents_electronic - self.documents_delivered - self.documents_dropped - self.documents_fallback

    @property
    def copies_in_flight(self) -> int:
        """Electronic copies still travelling."""
        return self.copies_electronic - self.copies_delivered - self.copies_dropped - self.copies_fallback

    @property
    def statuses_in_flight(self) -> int:
        """Status messages still travelling."""
        return self.statuses_generated - self.statuses_delivered - self.statuses_dropped

    def as_dict(self) -> dict[str, object]:
        """Every count, in flight included."""
        data = asdict(self)
        data.update(documents_in_flight=self.documents_in_flight, copies_in_flight=self.copies_in_flight,
                    statuses_in_flight=self.statuses_in_flight)
        return data
