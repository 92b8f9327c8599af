"""Model: one run's SimPy environment, stations, flow and observer, and the event loop that drives them.

The event loop itself is :func:`~simulator.engine.agenda.run_until`: it takes
the earlier of the agenda's next event and SimPy's, runs the engine's own events
directly and hands SimPy's processes (outages, sampling, warm-up) to
``Environment.step``.
"""
from __future__ import annotations

import contextlib
import gc
import time
import weakref
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np
import simpy

from ..scenario import Scenario
from ..streams import stream
from ..topology import Topology
from ..traffic import OpenClock, batch_drawer, build_document_streams, scripted_documents
from .agenda import Agenda, run_until
from .flow import Flow, Source
from .observer import TIMESERIES_COLUMNS, Observer
from .outages import Downtime, failures, outage, wear_failures
from .output import EngineOutput
from .routes import RouteBook
from .stations import FailingStation, FifoStation, PriorityStation, StationState, WearingStation
from .variates import Variates

if TYPE_CHECKING:  # pragma: no cover
    from .tracelog import TraceOptions, Tracer

__all__ = ["Model", "simulate"]


def _needs_priority(scenario: Scenario) -> bool:
    """Whether urgent documents (and so priority in the queues) can occur."""
    traffic = scenario.traffic
    return traffic.types.urgent > 0 or any(s.type == "urgent" for s in traffic.script)


class Model:
    """One run's mutable state. Built per run, never shared (no module-level state)."""

    def __init__(self, scenario: Scenario, topology: Topology, seed: np.random.SeedSequence, keep_latencies: bool,
                 progress: Callable[[float, float], None] | None, watch: Sequence[int] | None,
                 tracer: "Tracer | None" = None):
        run = scenario.run
        if run.warmup == "auto":
            raise ValueError('warmup = "auto" is resolved by simulator.run before the engine starts')
        self.scenario = scenario
        self.horizon = run.horizon
        self.warmup = run.warmup
        self.env = _Environment()
        agenda = Agenda(self.env)
        self.tracer = tracer
        self.stations = self._build_stations(scenario, topology, seed, agenda, tracer)
        traffic = scenario.traffic
        self.flow = (Flow if tracer is None else _tracing().TracingFlow)(
            RouteBook(topology, self.stations), agenda, self.warmup,
            [Variates(batch_drawer(st.after, stream(seed, "status", st.code), 1024)) for st in traffic.statuses],
            Variates(batch_drawer(traffic.postal_delay, stream(seed, "postal"), 1024)), keep_latencies,
            scenario.network.retry, Variates(lambda rng=stream(seed, "resend"): rng.random(256).tolist()))
        if tracer is not None:
            self.flow.tracer = tracer  # type: ignore[union-attr]
        for station in self.stations:
            station.connect(self.flow.finish_act, self.flow.branch)
            if isinstance(station, PriorityStation):
                station.drop = self.flow.drop
        self.clock = OpenClock(scenario.calendar, self.horizon)
        sources = [Source(s.agency, iter(s)) for s in build_document_streams(scenario, topology, seed, self.clock)]
        sources += [Source(origin, iter([document])) for origin, document in scripted_documents(scenario, topology)]
        for source in sources:
            self.flow.start(source)
        watched = range(len(self.stations)) if watch is None else watch
        self.observer = Observer(self.env, self.stations, self.flow, self.warmup, watched, progress, self.horizon)
        self.downtime = Downtime(self.flow)
        self._start_processes(topology, seed)

    @staticmethod
    def _build_stations(scenario: Scenario, topology: Topology, seed: np.random.SeedSequence,
                        agenda: Agenda, tracer: "Tracer | None" = None) -> list[StationState]:
        """FIFO stations where nothing overtakes, waits for a buffer or goes down; priority stations elsewhere.

        With a tracer, the tracing variants of the same classes (they report to it, then do the same).
        """
        failing, wearing, prioritised, fifo = FailingStation, WearingStation, PriorityStation, FifoStation
        extra: tuple = ()
        if tracer is not None:
            tracing = _tracing()
            failing, wearing = tracing.TracingFailingStation, tracing.TracingWearingStation
            prioritised, fifo = tracing.TracingPriorityStation, tracing.TracingFifoStation
            extra = (tracer,)
        batch = max(64, min(4096, (1 << 20) // max(1, len(topology.stations))))  # pre-drawn variates: ~1M floats in all
        priority = _needs_priority(scenario)
        stations: list[StationState] = []
        for index, spec in enumerate(topology.stations):
            service = Variates(batch_drawer(spec.service, stream(seed, "service", spec.node), batch))
            reject = spec.while_down == "reject"
            if spec.failures is not None:
                kind = wearing if spec.failures.clock == "busy" else failing
                stations.append(kind(index, spec.servers, service, agenda, spec.buffer, reject,
                                     spec.failures.interrupted == "restart", *extra))
            elif priority or spec.buffer is not None or spec.outages:
                stations.append(prioritised(index, spec.servers, service, agenda, spec.buffer, reject, *extra))
            else:
                stations.append(fifo(index, spec.servers, service, agenda, *extra))
            if spec.failures is not None and not spec.outages and spec.node.startswith("link:"):
                stations[-1].passable = True  # a link that only fails by chance: crossed without an event while up
            if spec.standby is not None:
                station = stations[-1]
                assert isinstance(station, PriorityStation)  # a standby needs outages or failures
                standby = spec.standby
                station.add_standby(standby.servers, Variates(batch_drawer(
                    standby.service, stream(seed, "standby", spec.node), batch)), standby.switchover)
        return stations

    def _start_processes(self, topology: Topology, seed: np.random.SeedSequence) -> None:
        env = self.env
        for station, spec in zip(self.stations, topology.stations):
            for window in spec.outages:
                assert isinstance(station, PriorityStation)
                env.process(outage(env, station, window, self.downtime))
            if spec.failures is not None:
                assert isinstance(station, FailingStation)
                between = Variates(batch_drawer(spec.failures.between, stream(seed, "failures", spec.node), 64))
                repair = Variates(batch_drawer(spec.failures.repair, stream(seed, "repairs", spec.node), 64))
                if spec.failures.clock == "busy":  # by the spec: compiled, the station classes share one
                    assert isinstance(station, WearingStation)  # isinstance cache (ABC), so a FailingStation may pass
                    wear_failures(env, station, between, repair, self.downtime)
                else:
                    env.process(failures(env, station, between, repair, self.downtime))
        env.process(self.observer.sampler(self.scenario.run.timeseries_interval))
        if self.warmup > 0:
            env.process(self.observer.warmup_mark())
        else:
            self.observer.mark_warmup(0.0)

    def _loop(self) -> int:
        """Process events until the horizon."""
        return run_until(self.env, self.flow.agenda, self.horizon)

    def run(self) -> EngineOutput:
        """Simulate to the horizon and collect the output."""
        began = time.perf_counter()
        try:
            events = self._loop()
        except BaseException:
            if self.tracer is not None:
                self.tracer.abort()
            raise
        if self.tracer is not None:
            self.tracer.close(self.horizon)
        wall = time.perf_counter() - began
        observer, flow, horizon = self.observer, self.flow, self.horizon
        if not observer.rows or observer.rows[-1][0] < horizon - 1e-9:
            observer.record(horizon)  # the last (possibly shorter) interval
        outage_seconds = np.array([station.down_seconds(horizon) for station in self.stations]) - observer.down_at_warmup
        observer.flush()
        ledger = flow.ledger()
        assert observer.start_window is not None
        table = np.array(observer.rows, dtype=float).reshape(-1, len(TIMESERIES_COLUMNS))
        calendar = self.scenario.calendar
        output = EngineOutput(
            ledger=ledger,
            window=observer.window(horizon) - observer.start_window,
            latency=observer.latency,
            urgent_latency=observer.urgent_latency,
            paper_latency=observer.paper_latency,
            status_latency=observer.status_latency,
            timeseries={name: table[:, i] for i, name in enumerate(TIMESERIES_COLUMNS)},
            watched=observer.watched,
            occupancy=np.array(observer.occupancy, dtype=np.int64).reshape(len(observer.occupancy), len(observer.watched)),
            peak_utilization=observer.peak_utilization(),
            max_queue=np.array([s.max_queue for s in self.stations]),
            outage_seconds=outage_seconds,
            standby_seconds=np.array([s.standby_seconds(horizon) for s in self.stations]) - observer.standby_at_warmup,
            switchovers=np.array([s.switchover_count() for s in self.stations]) - observer.switchovers_at_warmup,
            recoveries=tuple(self.downtime.recoveries),
            outage_copies=flow.outage_copies,
            outage_same_day_deliveries=flow.outage_same_day,
            fallback_received=flow.fallback_received,
            census=observer.census(),
            latencies=flow.kept,
            same_day_deliveries=flow.same_day,
            working_days=(self.clock.open_seconds / calendar.open_seconds_per_day if calendar is not None
                          else horizon / 86400.0),
            copies_delivered_in_window=ledger.copies_delivered - observer.delivered_at_warmup,
            horizon=horizon,
            warmup=self.warmup,
            open_fraction=self.clock.open_fraction,
            events=events,
            wall_seconds=wall,
        )
        self._dismantle()
        return output

    def _dismantle(self) -> None:
        """Drop what is still scheduled or waiting, and the stations' links to the flow.

        Stations and the flow refer to each other, the flow and the agenda
        to their own bound actions, and SimPy's waiting processes (the
        observer's sampler, outages) to the events they wait for: without
        this, the whole run (stations, routes, leftover jobs) would wait for
        the garbage collector, which would then walk it all (about a second
        on the full 2025 structure). After it, reference counting frees the
        whole run.
        """
        for process in list(self.env.started):
            if process.is_alive:  # its event will not come: the process, its generator and what it holds are freed
                process.target.callbacks.clear()
        self.env._queue.clear()
        self.flow.agenda.close()
        self.flow.disconnect()
        for station in self.stations:
            station.disconnect()


class _Environment(simpy.Environment):
    """SimPy's environment, remembering the processes it starts (weakly: a finished process is forgotten).

    A process waiting for an event is in a reference cycle with it (the
    event's callbacks hold the process), and its generator holds what the
    process works on (the observer, a station, the outages' record): after
    a run, :meth:`Model._dismantle` cuts the cycles of those still waiting.
    """

    def __init__(self) -> None:
        super().__init__()
        self.started: weakref.WeakSet[simpy.Process] = weakref.WeakSet()

    def process(self, generator):  # type: ignore[no-untyped-def]
        started = super().process(generator)
        self.started.add(started)
        return started


def _tracing():  # type: ignore[no-untyped-def]
    """The tracing variants (imported only by a traced run)."""
    from . import tracing

    return tracing


def simulate(scenario: Scenario, topology: Topology, seed: np.random.SeedSequence, *,
             keep_latencies: bool = False, progress: Callable[[float, float], None] | None = None,
             watch: Sequence[int] | None = None, trace: "TraceOptions | None" = None) -> EngineOutput:
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
        ``latencies`` (memory grows with the documents: for checks and small
        studies only).
    progress : callable, optional
        Called as ``progress(simulated_seconds, horizon_seconds)`` at every
        sampling instant (for a progress bar on long runs).
    watch : sequence of int, optional
        Stations whose occupancy is sampled (default: all). Memory grows
        with samples x watched stations, so long runs on large networks
        watch a few.
    trace : TraceOptions, optional
        Write the exchange log of the run (:mod:`simulator.engine.tracelog`)
        to ``trace.path``; the run's results are the same as without it.

    Returns
    -------
    EngineOutput
        Ledger, station window, latency histograms and time series.
    """
    tracer = None
    if trace is not None:
        from .tracelog import Tracer

        tracer = Tracer(trace.path, scenario, topology, trace.format)
    with _collector_paused():
        return Model(scenario, topology, seed, keep_latencies, progress, watch, tracer).run()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a run is built, simulated and taken apart.

    A run keeps hundreds of thousands of jobs alive (status messages wait
    hours or days to be sent), and every collection of the oldest generation
    walks them all: it took a third of the time. Pausing it for the loop
    alone was not enough: the first collection after it walked every object
    the loop had left (about a second on the full 2025 structure). The run
    creates no reference cycles of its own (jobs, documents and routes are
    freed by reference counting; the model is taken apart before the
    collector resumes), so nothing accumulates.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
