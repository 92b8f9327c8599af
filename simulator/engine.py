"""Engine: the SimPy model of documents and status messages crossing the stations.

The engine is a thin, hot SimPy core. It keeps no process per document: a
document copy in transit *is* the SimPy event (:class:`_Job`), re-scheduled
with ``Environment.schedule`` at each step (arrival after a link, end of
service) and handled by plain callbacks. Stations are FIFO multi-server queues
with non-preemptive priority for urgent documents, optional buffers (arrivals
finding the buffer full are dropped and counted) and optional outages (no new
service starts; work in progress finishes). Routes are tuples of station
indices computed once by :mod:`simulator.topology`; service times come from
NumPy batches; metrics go into :class:`~simulator.metrics.StationCounters`
lists and a streaming :class:`~simulator.metrics.Histogram`. Long-lived SimPy
processes handle only the slow things: outages, the time-series sampler and
the warm-up snapshot.

The public entry point is :func:`simulate`; :mod:`simulator.experiment` wraps
it into replications.
"""
from __future__ import annotations

import heapq
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import simpy

from .metrics import Histogram, Ledger, StationCounters, StationWindow
from .scenario import Scenario
from .streams import stream
from .topology import ROUTE_CACHE, Route, Topology
from .traffic import PAPER_REASONS, Document, OpenClock, build_document_streams, sampler, scripted_documents

__all__ = ["EngineOutput", "simulate", "STATUS_SIZE_BYTES"]

#: Size of an edXML status package (header only, no attachment), bytes.
STATUS_SIZE_BYTES = 2_000.0
_NORMAL = 1  # SimPy event priority for everything the engine schedules


class _Job:
    """A document copy or a status message in transit; also its own SimPy event.

    ``doc`` is ``None`` for a document with one electronic copy, a shared
    :class:`_Doc` for a document with several, and :data:`_STATUS` for a
    status message. ``created`` is the document's creation time (a status
    message's send time); ``copies`` the number of copies this job carries
    (more than one before a fan-out point).
    """

    __slots__ = ("callbacks", "route", "hop", "station", "doc", "prio", "size", "t_in", "dest",
                 "copies", "created", "origin", "measured")
    _ok = True  # SimPy checks ``event._ok`` after running the callbacks

    def __init__(self, route: tuple, doc: Any, prio: int, size: float, created: float, origin: int, measured: bool):
        self.route = route
        self.hop = 0
        self.station = route[0][0] if route[5] else -1
        self.doc = doc
        self.prio = prio
        self.size = size
        self.dest = route[7]
        self.copies = route[6]
        self.created = created
        self.origin = origin
        self.measured = measured


class _Doc:
    """The shared state of a document with several electronic copies."""

    __slots__ = ("pending", "dropped")

    def __init__(self, pending: int):
        self.pending = pending
        self.dropped = False


#: Marks status messages in ``_Job.doc``.
_STATUS = object()


class _Source:
    """An agency's next document, scheduled as a SimPy event."""

    __slots__ = ("callbacks", "agency", "document", "documents")
    _ok = True

    def __init__(self, agency: int, documents: Iterator[Document]):
        self.agency = agency
        self.documents = documents
        self.document: Document | None = None


@dataclass
class EngineOutput:
    """Everything one simulated run measured (plain values, no SimPy objects).

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
        One entry per sampling instant (see :func:`simulate`).
    in_system : numpy.ndarray
        Jobs at each station (waiting + in service) at each sampling instant,
        shape (samples, stations).
    peak_utilization : numpy.ndarray
        Per station, the highest utilisation over one sampling interval
        after the warm-up (the busy hour, with hourly sampling).
    max_queue : numpy.ndarray
        Longest waiting line per station during the window.
    events : int
        SimPy events processed.
    wall_seconds : float
        Wall-clock time of the run.
    """

    ledger: Ledger
    window: StationWindow
    latency: Histogram
    urgent_latency: Histogram
    paper_latency: Histogram
    status_latency: Histogram
    timeseries: dict[str, np.ndarray]
    in_system: np.ndarray
    peak_utilization: np.ndarray
    max_queue: np.ndarray
    horizon: float
    warmup: float
    open_fraction: float
    events: int = 0
    wall_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _compile(route: Route) -> tuple:
    """Route -> (stations, latency, inv_bandwidth, has_links, tails, length, copies, recipient) for the hot path."""
    tails = tuple(_compile(t) for t in route.tails)
    return (route.stations, route.latency, route.inv_bandwidth, route.has_links, tails, len(route.stations),
            route.copies, route.recipient)


class _Model:
    """One run's mutable state. Built per run, never shared (no module-level state)."""

    def __init__(self, scenario: Scenario, topology: Topology, seed: np.random.SeedSequence, keep_latencies: bool = False,
                 progress: Callable[[float, float], None] | None = None):
        self.keep_latencies = keep_latencies
        self.progress = progress
        self.kept: list[float] = []
        self.scenario = scenario
        self.topology = topology
        self.env = simpy.Environment()
        run = scenario.run
        if run.warmup == "auto":
            raise ValueError('warmup = "auto" is resolved by simulator.run before the engine starts')
        self.horizon = run.horizon
        self.warmup = run.warmup
        n = len(topology.stations)
        self.n_stations = n
        self.busy = [0] * n
        self.cap = [s.servers for s in topology.stations]
        self.limit = [math.inf if s.buffer is None else s.buffer for s in topology.stations]
        self.qn: list[deque[_Job]] = [deque() for _ in range(n)]
        self.qu: list[deque[_Job]] = [deque() for _ in range(n)]
        batch = max(64, min(4096, (1 << 20) // max(1, n)))  # pre-drawn variates: at most ~1M floats in all
        self.draws: list[Callable[[], float]] = [
            sampler(s.service, stream(seed, "service", s.node), batch).__next__ for s in topology.stations
        ]
        self.counters = StationCounters(n)
        self.ledger = Ledger()
        self.latency = Histogram()
        self.paper_latency = Histogram()
        self.status_latency = Histogram()
        self.clock = OpenClock(scenario.calendar, self.horizon)
        self.sources = build_document_streams(scenario, topology, seed, self.clock)
        self.postal = sampler(scenario.traffic.postal_delay, stream(seed, "postal"), 1024).__next__
        self.status_draws = [sampler(st.after, stream(seed, "status", st.code), 1024).__next__
                             for st in scenario.traffic.statuses]
        self.pair_routes: dict[tuple[int, int], tuple] = {}
        self.latency_buffer: list[float] = []
        self.urgent_buffer: list[float] = []
        self.urgent_latency = Histogram()
        self.status_buffer: list[float] = []
        self.start_window: StationWindow | None = None

    # ------------------------------------------------------------------ helpers (not hot)

    def pair_route(self, origin: int, recipient: int) -> tuple:
        key = (origin, recipient)
        compiled = self.pair_routes.get(key)
        if compiled is None:
            compiled = _compile(self.topology.route(origin, recipient))
            if len(self.pair_routes) >= ROUTE_CACHE:
                self.pair_routes.clear()
            self.pair_routes[key] = compiled
        return compiled

    def snapshot(self) -> StationWindow:
        now = self.env.now
        queued = ([j.t_in for j in self.qu[s]] + [j.t_in for j in self.qn[s]] for s in range(self.n_stations))
        return self.counters.window(now, self.busy, queued)

    def flush(self) -> None:
        if self.keep_latencies:
            self.kept.extend(self.latency_buffer)
        self.latency.add(self.latency_buffer)
        self.latency_buffer.clear()
        self.urgent_latency.add(self.urgent_buffer)
        self.urgent_buffer.clear()
        self.status_latency.add(self.status_buffer)
        self.status_buffer.clear()

    # ------------------------------------------------------------------ the hot core

    def build(self) -> None:
        """Create the callbacks and schedule the first events."""
        env = self.env
        # Environment.schedule inlined: the same heap entry (time, priority, id, event)
        event_queue, event_id, push = env._queue, env._eid, heapq.heappush
        c = self.counters
        started, dropped, max_queue = c.started, c.dropped, c.max_queue
        wait_sum, start_total, end_total = c.wait_sum, c.start_total, c.end_total
        busy, cap, limit, qn, qu, draws = self.busy, self.cap, self.limit, self.qn, self.qu, self.draws
        ledger = self.ledger
        latency_buffer = self.latency_buffer
        urgent_buffer = self.urgent_buffer
        status_buffer = self.status_buffer
        paper_buffer: list[float] = []
        paper_reasons = self.paper_reasons = [0] * len(PAPER_REASONS)
        same_day = self.same_day = [0]
        self.paper_buffer = paper_buffer
        postal = self.postal
        status_draws = self.status_draws
        pair_route = self.pair_route
        pair_routes = self.pair_routes
        topology = self.topology
        warmup = self.warmup
        has_statuses = bool(status_draws)
        ARRIVE: list[Callable[[Any], None]] = []
        DEPART: list[Callable[[Any], None]] = []
        END: list[Callable[[Any], None]] = []
        LAUNCH: list[Callable[[Any], None]] = []
        CREATE: list[Callable[[Any], None]] = []

        def arrive(job: _Job) -> None:
            s = job.station
            now = env._now
            if busy[s] < cap[s]:
                busy[s] += 1
                started[s] += 1
                start_total[s] += now
                job.callbacks = DEPART
                push(event_queue, (now + draws[s](), _NORMAL, next(event_id), job))
                return
            normal = qn[s]
            urgent = qu[s]
            length = len(normal) + len(urgent)
            if length >= limit[s]:
                dropped[s] += 1
                drop(job)
                return
            job.t_in = now
            if job.prio:
                normal.append(job)
            else:
                urgent.append(job)
            if length >= max_queue[s]:
                max_queue[s] = length + 1

        def depart(job: _Job) -> None:
            s = job.station
            now = env._now
            end_total[s] += now
            urgent = qu[s]
            normal = qn[s]
            if (urgent or normal) and busy[s] <= cap[s]:
                nxt = urgent.popleft() if urgent else normal.popleft()
                started[s] += 1
                wait_sum[s] += now - nxt.t_in
                start_total[s] += now
                nxt.callbacks = DEPART
                push(event_queue, (now + draws[s](), _NORMAL, next(event_id), nxt))
            else:
                busy[s] -= 1
            route = job.route
            hop = job.hop + 1
            if hop < route[5]:
                job.hop = hop
                s = job.station = route[0][hop]
                if route[3]:
                    delay = route[1][hop] + job.size * route[2][hop]
                    if delay > 0.0:
                        job.callbacks = ARRIVE
                        push(event_queue, (now + delay, _NORMAL, next(event_id), job))
                        return
                # arrive(job) inlined: the most frequent step of the hot path
                if busy[s] < cap[s]:
                    busy[s] += 1
                    started[s] += 1
                    start_total[s] += now
                    job.callbacks = DEPART
                    push(event_queue, (now + draws[s](), _NORMAL, next(event_id), job))
                else:
                    arrive(job)
            elif route[3]:
                leave(job)
            else:
                end(job)

        def leave(job: _Job) -> None:
            """After the last station: the trailing link, then the end of the route."""
            route = job.route
            if route[3]:
                last = route[5]
                delay = route[1][last] + job.size * route[2][last]
                if delay > 0.0:
                    job.callbacks = END
                    push(event_queue, (env._now + delay, _NORMAL, next(event_id), job))
                    return
            end(job)

        def launch(job: _Job) -> None:
            """Start a route: the first link, then the first station (or the end)."""
            route = job.route
            delay = route[1][0] + job.size * route[2][0] if route[3] else 0.0
            if not route[0]:
                if delay > 0.0:
                    job.callbacks = END
                    push(event_queue, (env._now + delay, _NORMAL, next(event_id), job))
                else:
                    end(job)
            elif delay > 0.0:
                job.callbacks = ARRIVE
                push(event_queue, (env._now + delay, _NORMAL, next(event_id), job))
            else:
                arrive(job)

        def end(job: _Job) -> None:
            now = env._now
            tails = job.route[4]
            doc = job.doc
            if tails:
                for tail in tails:
                    launch(_Job(tail, doc, job.prio, job.size, job.created, job.origin, job.measured))
                return
            if doc is _STATUS:
                ledger.statuses_delivered += 1
                if job.measured:
                    status_buffer.append(now - job.created)
                return
            ledger.copies_delivered += 1
            if job.measured:
                latency_buffer.append(now - job.created)
                if not job.prio:
                    urgent_buffer.append(now - job.created)
                if now // 86400.0 == job.created // 86400.0:
                    same_day[0] += 1
            if doc is None:
                ledger.documents_delivered += 1
            else:
                doc.pending -= 1
                if doc.pending == 0:
                    if doc.dropped:
                        ledger.documents_dropped += 1
                    else:
                        ledger.documents_delivered += 1
            if has_statuses:
                send_statuses(job.dest, job.origin, job.prio)

        def drop(job: _Job) -> None:
            doc = job.doc
            if doc is _STATUS:
                ledger.statuses_dropped += 1
                return
            ledger.copies_dropped += job.copies
            if doc is None:
                ledger.documents_dropped += 1
                return
            doc.dropped = True
            doc.pending -= job.copies
            if doc.pending == 0:
                ledger.documents_dropped += 1

        def send_statuses(recipient: int, origin: int, prio: int) -> None:
            """Schedule the recipient's status messages back to the sender, one after another."""
            route = pair_routes.get((recipient, origin)) or pair_route(recipient, origin)
            at = env._now
            for draw in status_draws:
                at += draw()
                message = _Job(route, _STATUS, prio, STATUS_SIZE_BYTES, at, recipient, at >= warmup)
                message.callbacks = LAUNCH
                push(event_queue, (at, _NORMAL, next(event_id), message))

        def launch_status(job: _Job) -> None:
            ledger.statuses_generated += 1
            launch(job)

        def create(source: _Source) -> None:
            at, prio, size, electronic, paper, reason = source.document
            agency = source.agency
            measured = at >= warmup
            if paper:
                ledger.copies_paper += paper
                paper_reasons[reason] += paper
                if measured:
                    for _ in range(paper):
                        paper_buffer.append(postal())
            if electronic:
                ledger.documents_electronic += 1
                copies = len(electronic)
                ledger.copies_electronic += copies
                if copies == 1:
                    recipient = electronic[0]
                    route = pair_routes.get((agency, recipient)) or pair_route(agency, recipient)
                    if route[3] or not route[5]:
                        launch(_Job(route, None, prio, size, at, agency, measured))
                    else:  # no link delays: straight to the first station
                        arrive(_Job(route, None, prio, size, at, agency, measured))
                else:
                    route = _compile(topology.fanout_route(agency, electronic))
                    launch(_Job(route, _Doc(copies), prio, size, at, agency, measured))
            else:
                ledger.documents_paper += 1
            following = next(source.documents, None)
            if following is not None:
                source.document = following
                source.callbacks = CREATE
                push(event_queue, (following[0], _NORMAL, next(event_id), source))

        self.depart_callbacks = DEPART
        self.launch_callbacks = LAUNCH
        ARRIVE.append(arrive)
        DEPART.append(depart)
        END.append(end)
        LAUNCH.append(launch_status)
        CREATE.append(create)

        sources = [_Source(s.agency, iter(s)) for s in self.sources]
        sources += [_Source(origin, iter([document])) for origin, document in scripted_documents(self.scenario, topology)]
        for source in sources:
            first = next(source.documents, None)
            if first is not None:
                source.document = first
                source.callbacks = CREATE
                push(event_queue, (first[0], _NORMAL, next(event_id), source))

    def serve_waiting(self, s: int) -> None:
        """Start waiting jobs at station ``s`` while servers are free (after an outage)."""
        env = self.env
        now = env.now
        c = self.counters
        while self.busy[s] < self.cap[s] and (self.qu[s] or self.qn[s]):
            job = self.qu[s].popleft() if self.qu[s] else self.qn[s].popleft()
            self.busy[s] += 1
            c.started[s] += 1
            c.wait_sum[s] += now - job.t_in
            c.start_total[s] += now
            job.callbacks = self.depart_callbacks
            env.schedule(job, _NORMAL, self.draws[s]())

    def census(self) -> dict[str, int]:
        """Count what is still in the network, independently of the ledger.

        Scans the event queue and the station queues for jobs: documents
        (distinct), document copies, and status messages already sent.
        """
        jobs = [event for *_, event in self.env._queue if isinstance(event, _Job)]
        jobs += [job for queue in self.qu + self.qn for job in queue]
        documents: set[int] = set()
        copies = statuses = 0
        for job in jobs:
            if job.doc is _STATUS:
                statuses += job.callbacks is not self.launch_callbacks
            else:
                documents.add(id(job) if job.doc is None else id(job.doc))
                copies += job.copies
        return {"documents": len(documents), "copies": copies, "statuses": statuses}

    # ------------------------------------------------------------------ slow processes

    def outage(self, s: int, start: float, duration: float, every: float | None) -> Iterator[simpy.Event]:
        """Take station ``s`` down for ``duration`` from ``start`` (and every ``every`` after).

        Outages may overlap: the station is down while any of them lasts, and
        its outage time counts their union.
        """
        env = self.env
        yield env.timeout(start)
        while True:
            self.down[s] += 1
            if self.down[s] == 1:
                self.cap[s] = 0
                self.down_since[s] = env.now
            yield env.timeout(duration)
            self.down[s] -= 1
            if self.down[s] == 0:
                self.outage_seconds[s] += env.now - self.down_since[s]
                self.cap[s] = self.topology.stations[s].servers
                self.serve_waiting(s)
            if every is None:
                return
            yield env.timeout(every - duration)

    def sample(self, interval: float) -> Iterator[simpy.Event]:
        """Record totals and per-station occupancy every ``interval``; flush the latency buffers."""
        while True:
            yield self.env.timeout(interval)
            self.record_sample()

    def record_sample(self) -> None:
        """One row of the time series at the current time."""
        env = self.env
        ledger = self.ledger
        delivered = self.latency_buffer
        latency_mean = sum(delivered) / len(delivered) if delivered else math.nan
        self.flush()
        self.samples.append((
            env.now, ledger.documents_electronic + ledger.documents_paper, ledger.documents_electronic, ledger.documents_paper,
            ledger.copies_delivered, ledger.documents_in_flight, ledger.statuses_in_flight, latency_mean,
        ))
        self.occupancy.append([b + len(u) + len(q) for b, u, q in zip(self.busy, self.qu, self.qn)])
        counters = self.counters
        self.busy_areas.append(np.array(counters.end_total) + np.array(self.busy) * env.now - np.array(counters.start_total))
        if self.progress is not None:
            self.progress(env.now, self.horizon)

    def mark_warmup(self) -> Iterator[simpy.Event]:
        """Snapshot the station counters at the end of the warm-up."""
        yield self.env.timeout(self.warmup)
        self.start_window = self.snapshot()
        self.delivered_at_warmup = self.ledger.copies_delivered
        self.counters.max_queue[:] = [len(u) + len(q) for u, q in zip(self.qu, self.qn)]

    def _peak_utilization(self) -> np.ndarray:
        """Highest utilisation of each station over one sampling interval after the warm-up."""
        times = np.array([row[0] for row in self.samples])
        areas = np.array(self.busy_areas).reshape(-1, self.n_stations)
        starts = np.concatenate([[0.0], times[:-1]])
        keep = (starts >= self.warmup - 1e-9) & (times - starts > 0)
        if not keep.any():
            return np.full(self.n_stations, np.nan)
        previous = np.vstack([np.zeros((1, self.n_stations)), areas[:-1]])
        servers = np.array([s.servers for s in self.topology.stations], dtype=float)
        per_interval = (areas - previous)[keep] / ((times - starts)[keep][:, None] * servers)
        return per_interval.max(axis=0)

    def run(self) -> EngineOutput:
        """Simulate to the horizon and collect the output."""
        env = self.env
        self.build()
        self.outage_seconds = [0.0] * self.n_stations
        self.down = [0] * self.n_stations
        self.down_since = [0.0] * self.n_stations
        self.samples: list[tuple] = []
        self.occupancy: list[list[int]] = []
        self.busy_areas: list[np.ndarray] = []
        for s, station in enumerate(self.topology.stations):
            for outage in station.outages:
                env.process(self.outage(s, outage.start, outage.duration, outage.every))
        env.process(self.sample(self.scenario.run.timeseries_interval))
        self.delivered_at_warmup = 0
        if self.warmup > 0:
            env.process(self.mark_warmup())
        else:
            self.start_window = self.snapshot()
        began = time.perf_counter()
        env.run(until=self.horizon)
        wall = time.perf_counter() - began
        if not self.samples or self.samples[-1][0] < self.horizon - 1e-9:
            self.record_sample()  # the last (possibly shorter) interval: events at the horizon itself do not run
        for s, since in enumerate(self.down_since):
            if self.down[s]:
                self.outage_seconds[s] += self.horizon - since
        self.flush()
        census = self.census()
        self.paper_latency.add(self.paper_buffer)
        ledger = self.ledger
        ledger.documents_generated = ledger.documents_electronic + ledger.documents_paper
        ledger.copies_generated = ledger.copies_electronic + ledger.copies_paper
        assert self.start_window is not None
        window = self.snapshot() - self.start_window
        self.ledger.paper_reasons = dict(zip(PAPER_REASONS, self.paper_reasons))
        columns = ("time", "documents_generated", "documents_electronic", "documents_paper",
                   "copies_delivered", "documents_in_flight", "statuses_in_flight", "latency_mean_in_interval")
        table = np.array(self.samples, dtype=float).reshape(-1, len(columns))
        return EngineOutput(
            ledger=self.ledger,
            window=window,
            latency=self.latency,
            urgent_latency=self.urgent_latency,
            paper_latency=self.paper_latency,
            status_latency=self.status_latency,
            timeseries={name: table[:, i] for i, name in enumerate(columns)},
            in_system=np.array(self.occupancy, dtype=np.int64).reshape(-1, self.n_stations),
            peak_utilization=self._peak_utilization(),
            max_queue=np.array(self.counters.max_queue),
            horizon=self.horizon,
            warmup=self.warmup,
            open_fraction=self.clock.open_fraction,
            events=int(next(env._eid)),
            wall_seconds=wall,
            extra={"outage_seconds": np.array(self.outage_seconds),
                   "census": census,
                   "latencies": self.kept,
                   "same_day_deliveries": self.same_day[0],
                   "working_days": (self.clock.open_seconds / self.scenario.calendar.open_seconds_per_day
                                    if self.scenario.calendar is not None else self.horizon / 86400.0),
                   "copies_delivered_in_window": self.ledger.copies_delivered - self.delivered_at_warmup},
        )


def simulate(scenario: Scenario, topology: Topology, seed: np.random.SeedSequence, *,
             keep_latencies: bool = False, progress: Callable[[float, float], None] | None = None) -> EngineOutput:
    """Run one replication of a scenario.

    Parameters
    ----------
    scenario : Scenario
    topology : Topology
        ``build_topology(scenario)``.
    seed : numpy.random.SeedSequence
        The replication's seed; every random stream derives from it.
    keep_latencies : bool
        Also keep every measured copy latency, in delivery order, in
        ``extra["latencies"]`` (memory grows with the documents: for checks
        and small studies only).
    progress : callable, optional
        Called as ``progress(simulated_seconds, horizon_seconds)`` at every
        sampling instant (for a progress bar on long runs).

    Returns
    -------
    EngineOutput
        Ledger, station window, latency histograms and time series.
    """
    return _Model(scenario, topology, seed, keep_latencies, progress).run()
