"""Observer: what the run records without touching the hot path: samples, the warm-up, the busy hour, the census.

The observer is two SimPy processes (the sampler and the warm-up mark) and
the read-outs made from station snapshots. Everything it keeps is bounded by
the number of stations, except one row per sampling instant of totals and of
the watched stations' occupancy.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

import numpy as np
import simpy

from ..metrics import Histogram, StationWindow
from .flow import STATUS, Flow, leaf_recipients
from .output import Census
from .stations import PriorityStation, StationState, busy_areas, occupancy, total_backlog

__all__ = ["Observer", "TIMESERIES_COLUMNS"]

#: Columns of the time series, one row per sampling instant.
TIMESERIES_COLUMNS = ("time", "documents_generated", "documents_electronic", "documents_paper", "copies_delivered",
                      "documents_in_flight", "statuses_in_flight", "latency_mean_in_interval", "backlog")


class Observer:
    """Samples, warm-up snapshot, busy-interval utilisation, latency histograms and the census of one run.

    Parameters
    ----------
    env : simpy.Environment
    stations : sequence of StationState
    flow : Flow
    warmup : float
    watched : sequence of int
        Stations whose occupancy is recorded at every sampling instant.
    progress : callable, optional
        ``progress(now, horizon)`` at every sampling instant.
    horizon : float
    """

    def __init__(self, env: simpy.Environment, stations: Sequence[StationState], flow: Flow, warmup: float,
                 watched: Sequence[int], progress: Callable[[float, float], None] | None, horizon: float):
        self.env = env
        self.stations = stations
        self.flow = flow
        self.warmup = warmup
        self.watched = tuple(watched)
        self.progress = progress
        self.horizon = horizon
        self.latency = Histogram()
        self.urgent_latency = Histogram()
        self.status_latency = Histogram()
        self.paper_latency = Histogram()
        self.rows: list[tuple[float, ...]] = []
        self.occupancy: list[list[int]] = []
        self.servers = np.array([s.servers for s in stations], dtype=float)
        self.peak = np.full(len(stations), -math.inf)
        self.peak_seen = False
        self.last_time = 0.0
        self.last_busy = np.zeros(len(stations))
        self.start_window: StationWindow | None = None
        self.delivered_at_warmup = 0
        self.down_at_warmup: list[float] = [0.0] * len(stations)
        self.standby_at_warmup: list[float] = [0.0] * len(stations)
        self.switchovers_at_warmup: list[int] = [0] * len(stations)
        self.next_sample = 0.0  # set by the sampler

    # ------------------------------------------------------------------ processes

    def sampler(self, interval: float) -> Iterator[simpy.Event]:
        """Record a row every ``interval``."""
        self.next_sample = self.env.now + interval
        self._unread_until(self.env.now)
        while True:
            yield self.env.timeout(interval)
            self.next_sample = self.env.now + interval
            self.record(self.env.now)
            self._unread_until(self.env.now)

    def _unread_until(self, now: float) -> None:
        """Tell the agenda when the counters are read next (the next sample, the end of the warm-up, the horizon).

        Routes that end before then are settled without an event of their
        own (:meth:`~simulator.engine.stations.StationState.send_on`).
        """
        following = min(self.next_sample, self.horizon)
        if now < self.warmup:
            following = min(following, self.warmup)
        self.flow.agenda.unread_until = following

    def warmup_mark(self) -> Iterator[simpy.Event]:
        """At the end of the warm-up, snapshot the stations and start the longest-line records afresh."""
        yield self.env.timeout(self.warmup)
        self.mark_warmup(self.env.now)

    def mark_warmup(self, now: float) -> None:
        """Snapshot the counters the measurement window starts from."""
        self.start_window = self.window(now)
        self.delivered_at_warmup = self.flow.tally.copies_delivered
        self.down_at_warmup = [station.down_seconds(now) for station in self.stations]
        self.standby_at_warmup = [station.standby_seconds(now) for station in self.stations]
        self.switchovers_at_warmup = [station.switchover_count() for station in self.stations]
        for station in self.stations:
            station.reset_max_queue(now)
        self._unread_until(now)

    # ------------------------------------------------------------------ read-outs

    def record(self, now: float) -> None:
        """One row of the time series, the watched stations' occupancy, and the interval's utilisation."""
        ledger = self.flow.ledger()
        delivered = self.flow.latencies
        latency_mean = sum(delivered) / len(delivered) if delivered else math.nan
        self.flush()
        self.rows.append((now, ledger.documents_electronic + ledger.documents_paper, ledger.documents_electronic,
                          ledger.documents_paper, ledger.copies_delivered, ledger.documents_in_flight,
                          ledger.statuses_in_flight, latency_mean, total_backlog(self.stations, now)))
        self.occupancy.append(occupancy(self.stations, self.watched, now))
        self._busy_interval(now)
        if self.progress is not None:
            self.progress(now, self.horizon)

    def _busy_interval(self, now: float) -> None:
        """Fold the utilisation of the interval ending now into each station's peak (after the warm-up only)."""
        busy = np.array(busy_areas(self.stations, now), dtype=float)
        span = now - self.last_time
        if self.last_time >= self.warmup - 1e-9 and span > 0:
            np.maximum(self.peak, (busy - self.last_busy) / (span * self.servers), out=self.peak)
            self.peak_seen = True
        self.last_time, self.last_busy = now, busy

    def peak_utilization(self) -> np.ndarray:
        """Highest utilisation of each station over one sampling interval after the warm-up (NaN if none)."""
        return self.peak.copy() if self.peak_seen else np.full(len(self.stations), math.nan)

    def flush(self) -> None:
        """Move the flow's latency buffers into the histograms."""
        flow = self.flow
        for buffer, histogram in ((flow.latencies, self.latency), (flow.urgent_latencies, self.urgent_latency),
                                  (flow.status_latencies, self.status_latency), (flow.paper_delays, self.paper_latency)):
            histogram.add(buffer)
            buffer.clear()

    def window(self, now: float) -> StationWindow:
        """Every station's counters and time integrals from 0 to ``now``."""
        snaps = [s.snapshot(now) for s in self.stations]

        def column(field: str, dtype: type) -> np.ndarray:
            return np.array([getattr(snap, field) for snap in snaps], dtype=dtype)

        return StationWindow(time=now, arrived=column("arrived", np.int64), started=column("started", np.int64),
                             served=column("served", np.int64), dropped=column("dropped", np.int64),
                             wait_sum=column("wait_sum", float), busy_area=column("busy_area", float),
                             wait_area=column("wait_area", float))

    def census(self) -> Census:
        """Count what is still in the network, independently of the ledger.

        Jobs on the event queue (status messages not yet sent excluded) and
        in the stations' waiting queues: distinct documents, copies, and
        status messages.
        """
        jobs = list(self.flow.pending_jobs())
        for station in self.stations:
            if isinstance(station, PriorityStation):
                jobs += station.waiting_jobs()
        documents: set[int] = set()
        copies = statuses = 0
        travelling: set[int] = set()  # with acknowledgements: copies still travelling, however often sent
        for job in jobs:
            if job.doc is STATUS:
                statuses += 1
            elif self.flow.acking:
                carried = ([job.copy] if job.copy is not None else
                           [job.doc.copies[r] for r in leaf_recipients(job.route)])  # type: ignore[union-attr,index]
                for copy in carried:
                    if not copy.state and id(copy) not in travelling:
                        travelling.add(id(copy))
                        documents.add(id(copy) if job.doc is None else id(job.doc))
            else:
                documents.add(id(job) if job.doc is None else id(job.doc))
                copies += job.route.copies
        return Census(documents=len(documents), copies=copies + len(travelling), statuses=statuses)
