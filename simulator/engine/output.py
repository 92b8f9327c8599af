"""Output: everything one simulated run measured, as a typed value with no SimPy object in it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import Histogram, Ledger, StationWindow

__all__ = ["Census", "EngineOutput", "Recovery"]


@dataclass
class Recovery:
    """One outage or failure of a station and how its backlog drained afterwards.

    The backlog is what waits for the station: its queue, and what it refused
    that senders will resend. It is read when the station goes down, when it
    comes back up and every ``step`` seconds after, until it is back within
    10 % of its level before the outage (rounded down: an empty station must
    empty again).

    Attributes
    ----------
    station : int
        Index into ``topology.stations``.
    start, end : float
        When the station went down and came back up, seconds.
    backlog_before : int
        Backlog when it went down.
    peak_backlog : int
        Highest backlog read from the end of the outage on, the first reading
        just before the servers start on the queue (the backlog grows while
        the station is down, so this is its peak).
    drained_at : float
        When the backlog was first read back within 10 % of ``backlog_before``;
        NaN if not by the horizon (or within a week of the end).
    """

    station: int
    start: float
    end: float
    backlog_before: int
    peak_backlog: int = 0
    drained_at: float = float("nan")

    @property
    def drain_seconds(self) -> float:
        """From the end of the outage until the backlog drained (NaN if it did not)."""
        return self.drained_at - self.end


@dataclass(frozen=True)
class Census:
    """What is still in the network at the horizon, counted by scanning the event queue and the station queues.

    It is counted independently of the :class:`~simulator.metrics.Ledger`, so
    the two must agree on what is in flight (the no-document-lost check).

    Attributes
    ----------
    documents : int
        Distinct electronic documents with a copy still travelling.
    copies : int
        Electronic copies still travelling.
    statuses : int
        Status messages sent and not yet received.
    """

    documents: int
    copies: int
    statuses: int


@dataclass
class EngineOutput:
    """One simulated run's measurements (plain values, picklable).

    Attributes
    ----------
    ledger : Ledger
        Conservation of documents, copies and status messages over the whole run.
    window : StationWindow
        Station counters and time integrals over the measurement window
        (warm-up to horizon).
    latency : Histogram
        End-to-end latency of electronic copies created after the warm-up,
        creation to arrival at the recipient, seconds.
    urgent_latency : Histogram
        The same for urgent documents only.
    paper_latency : Histogram
        Postal delay of paper copies created after the warm-up, seconds.
    status_latency : Histogram
        Status messages: sent to received, seconds.
    timeseries : dict of numpy arrays
        One entry per sampling instant: ``time``, ``documents_generated``,
        ``documents_electronic``, ``documents_paper``, ``copies_delivered``,
        ``documents_in_flight``, ``statuses_in_flight``,
        ``latency_mean_in_interval`` and ``backlog`` (packages waiting in
        station queues or refused and awaiting their resend, at every
        station, at the instant).
    watched : tuple of int
        Stations whose occupancy is sampled (indices into ``topology.stations``).
    occupancy : numpy.ndarray
        Jobs (waiting + in service) at each watched station at each sampling
        instant, shape (samples, len(watched)).
    peak_utilization : numpy.ndarray
        Per station, the highest utilisation over one sampling interval after
        the warm-up (the busy hour, with hourly sampling).
    max_queue : numpy.ndarray
        Longest waiting line per station during the window.
    outage_seconds : numpy.ndarray
        Time each station spent down (outages and failures) during the
        measurement window, as utilisation is measured.
    standby_seconds : numpy.ndarray
        Time a standby served in each station's place during the window.
    switchovers : numpy.ndarray
        Times a standby took over each station during the window.
    recoveries : tuple of Recovery
        Every outage and failure that began during the run, in order, with
        its backlog and drain.
    outage_copies, outage_same_day_deliveries : int
        Measured copies of documents created while a station was down (received
        electronically or, after their last resend, on paper), and those of them
        received electronically the day they were sent.
    fallback_received : int
        Measured copies sent on paper after their last resend.
    census : Census
        What is in flight at the horizon, counted from the event queue.
    latencies : list of float or None
        Every measured copy latency in delivery order (only with
        ``keep_latencies``; memory grows with the documents).
    same_day_deliveries : int
        Measured copies received on the calendar day they were created.
    working_days : float
        Open time of the horizon in working days (days, without a calendar).
    copies_delivered_in_window : int
        Copies delivered between the warm-up and the horizon.
    horizon, warmup : float
        Seconds.
    open_fraction : float
        Share of the horizon that is open (working) time.
    events : int
        Events processed before the horizon (the engine's own and SimPy's processes').
    wall_seconds : float
        Wall-clock time of the event loop.
    """

    ledger: Ledger
    window: StationWindow
    latency: Histogram
    urgent_latency: Histogram
    paper_latency: Histogram
    status_latency: Histogram
    timeseries: dict[str, np.ndarray]
    watched: tuple[int, ...]
    occupancy: np.ndarray
    peak_utilization: np.ndarray
    max_queue: np.ndarray
    outage_seconds: np.ndarray
    standby_seconds: np.ndarray
    switchovers: np.ndarray
    recoveries: tuple[Recovery, ...]
    outage_copies: int
    outage_same_day_deliveries: int
    fallback_received: int
    census: Census
    latencies: list[float] | None
    same_day_deliveries: int
    working_days: float
    copies_delivered_in_window: int
    horizon: float
    warmup: float
    open_fraction: float
    events: int
    wall_seconds: float
