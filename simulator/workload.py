r"""Workload: what a run will cost, estimated from the analytic flows before anything is simulated.

A scenario can be valid and still ask for more than a computer has: a
horizon of a thousand years, ten million documents an hour, a sample every
microsecond, an outage toggling every two microseconds, or a station that can
never keep up. :func:`estimate` reads the traffic equations of
:mod:`simulator.analytic` (documents per second, arrivals per second at every
station) and counts, per replication,

* events: one per document created, per station visit, per job end (an
  electronic copy or a status message received), per status message sent,
  per sample, per outage start or end, per agenda slot;
* memory: the jobs in the network at once (Little's law: arrival rate x
  mean sojourn at every station, plus status messages waiting to be sent),
  the time series (one row per sample, one column per watched station), the
  latencies buffered between two samples, and, at a station whose
  utilisation is 1 or more, the backlog growing until the horizon.

:func:`enforce` refuses (a :class:`~simulator.errors.ScenarioError`, exit 2)
a run whose estimate passes the limits, naming the scenario key that drives
it. The figures are estimates within a factor of about two; the rates
(:data:`EVENTS_PER_SECOND`, the bytes per job and per sample) were measured on
``national-2020`` with the engine of this version.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .analytic import Prediction, failure_rate, predict, station_arrival_rates
from .errors import Problem, ScenarioError
from .limits import DEFAULT_MAX_EVENTS, DEFAULT_MAX_MEMORY, Limits, parse_memory  # re-exported: workload's API
from .scenario import Scenario
from .topology import HUB, Station, Topology
from .units import format_duration, format_rate

__all__ = ["WorkEstimate", "Limits", "API_LIMITS", "WorkloadError", "UnstableWarning", "estimate", "enforce",
           "WATCHED_STATIONS", "EVENTS_PER_SECOND", "DEFAULT_MAX_EVENTS", "DEFAULT_MAX_MEMORY", "parse_memory",
           "format_bytes", "format_wall"]

#: Stations whose occupancy over time a run records: the ones predicted busiest (all of a smaller network).
WATCHED_STATIONS = 20
#: Events the engine processes per second of CPU time: 3.5e5 measured on ``national-2020`` (4 days, one core of a
#: shared 2-core development machine, CPU time); rounded down.
EVENTS_PER_SECOND = 3.0e5
#: Bytes of a job in the network: the job object, its event-queue entry, its floats.
BYTES_PER_JOB = 400.0
#: Bytes of one time-series row (a tuple of 8 floats in a list), and of one watched station's count in it.
BYTES_PER_SAMPLE = 400.0
BYTES_PER_WATCHED_SAMPLE = 40.0
#: Bytes of one latency buffered between two samples (a float in a list).
BYTES_PER_LATENCY = 32.0
#: Bytes of a process before the run: the interpreter, NumPy, pandas, SciPy, the topology of a small network.
BASE_BYTES = 150e6
#: Bytes per modelled station and per agency (station state, routes, random streams).
BYTES_PER_STATION = 20e3
#: Width of an agenda slot, seconds (one event per slot).
AGENDA_SLOT = 600.0
_YEAR = 365 * 86400.0


class WorkloadError(ScenarioError):
    """A run refused before it starts: over a limit, or unstable without ``allow_unstable``.

    Attributes
    ----------
    estimate : WorkEstimate
    unstable_only : bool
        True when instability is the only reason (the limits would allow it).
    """

    def __init__(self, source: str, problems: list[Problem], estimate: "WorkEstimate", unstable_only: bool):
        super().__init__(source, problems)
        self.estimate = estimate
        self.unstable_only = unstable_only


@dataclass(frozen=True)
class WorkEstimate:
    """The estimated cost of running a scenario (counts per replication unless named ``total``).

    Attributes
    ----------
    horizon : float
        Simulated seconds per replication.
    documents : float
        Documents created (paper and electronic).
    copies : float
        Electronic copies delivered.
    statuses : float
        Status messages sent.
    station_visits : float
        Arrivals of documents and status messages at modelled stations.
    samples : float
        Time-series rows (``run.horizon / run.timeseries_interval``).
    outage_toggles : float
        Outage starts and ends.
    events : float
        All of the above as engine events, plus one per agenda slot.
    pending_jobs : float
        Jobs in the network at once in steady state (Little's law).
    backlog_jobs : float
        Jobs queued by the horizon at unstable stations (0 when stable).
    memory_bytes : float
        Peak memory of the command: every concurrent replication plus what
        the collecting process keeps.
    replications : int
        Replications the command may run (the pilot of an automatic warm-up
        and the most ``run.precision`` allows included).
    workers : int
        Replications running at once.
    unstable : tuple of (int, str, float)
        ``(station index, name, utilisation)`` of every station without a
        buffer at utilisation 1 or more that traffic visits (a finite buffer
        drops what it cannot hold, so its queue stays bounded).
    drivers : dict
        Events and bytes by cause (``traffic``, ``samples``, ``outages``,
        ``agenda``; ``jobs``, ``samples``, ``latencies``, ``backlog``,
        ``base``), for naming the key that drives an excess.
    """

    horizon: float
    documents: float
    copies: float
    statuses: float
    station_visits: float
    samples: float
    outage_toggles: float
    events: float
    pending_jobs: float
    backlog_jobs: float
    memory_bytes: float
    replications: int = 1
    workers: int = 1
    unstable: tuple[tuple[int, str, float], ...] = ()
    drivers: dict[str, dict[str, float]] = field(default_factory=dict, compare=False)

    @property
    def total_events(self) -> float:
        """Events over every replication."""
        return self.events * self.replications

    @property
    def wall_seconds(self) -> float:
        """Estimated wall time at :data:`EVENTS_PER_SECOND` per worker."""
        return self.total_events / EVENTS_PER_SECOND / max(1, min(self.workers, self.replications))

    def describe(self) -> str:
        """One line: documents, events, samples, wall time and memory.

        Examples
        --------
        >>> WorkEstimate(86400.0, 1e5, 2e5, 0.0, 6e5, 24, 0, 1.1e6, 50, 0, 3e8).describe()
        '1e+05 documents, 1.1e+06 events, 24 samples per replication; 1 replication(s): about 3.7 s at 3e+05 events/s, peak memory about 300 MB'
        """
        return (f"{self.documents:.3g} documents, {self.events:.3g} events, {self.samples:.3g} samples per replication; "
                f"{self.replications} replication(s): about {format_wall(self.wall_seconds)} at {EVENTS_PER_SECOND:.3g} "
                f"events/s, peak memory about {format_bytes(self.memory_bytes)}")


def format_bytes(value: float) -> str:
    """``3e8 -> '300 MB'``.

    Parameters
    ----------
    value : float
        Bytes.

    Returns
    -------
    str
        Three significant digits and a decimal unit (``B`` to ``TB``).
    """
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} B"


def format_wall(seconds: float) -> str:
    """Seconds as ``1.1 s``, ``12 min``, ``3.5 h``, ``40 d`` or ``2e+08 years``.

    Parameters
    ----------
    seconds : float
        A wall time, seconds.

    Returns
    -------
    str
        Two significant digits and the largest fitting unit.
    """
    for unit, scale in (("years", 365.25 * 86400), ("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.2g} s"


def _of_up_time(station: Station) -> str:
    """Words saying a utilisation is over the station's up time, when it goes down."""
    return " of the time it is up (outages and failures)" if station.can_go_down else ""


def _outage_toggles(topology: Topology, horizon: float, rates: np.ndarray) -> np.ndarray:
    """Outage and failure starts and ends per station over the horizon (a failure's drain adds about ten readings).

    ``rates`` are the arrivals per second at each station: a busy clock fails in proportion to the work they bring.
    """
    toggles = np.zeros(len(topology.stations))
    for i, station in enumerate(topology.stations):
        if station.failures is not None and station.failures.clock == "busy":
            toggles[i] += 12.0 * horizon * failure_rate(station.failures, float(rates[i]) * station.service.mean)
        elif station.failures is not None:
            cycle = station.failures.between.mean + station.failures.repair.mean
            toggles[i] += 12.0 * horizon / cycle if cycle > 0 else math.inf
        for window in station.outages:
            if window.start >= horizon:
                continue
            toggles[i] += 2.0 * (1.0 + (math.floor((horizon - window.start) / window.every)
                                        if window.every is not None else 0.0))
    return toggles


def estimate(scenario: Scenario, topology: Topology, prediction: Prediction | None = None, *,
             replications: int | None = None, workers: int = 1) -> WorkEstimate:
    """Estimate the events and memory of running ``scenario``, from its analytic flows.

    Parameters
    ----------
    scenario : Scenario
    topology : Topology
        ``build_topology(scenario)``.
    prediction : Prediction, optional
        ``predict(scenario, topology)`` when already computed.
    replications : int, optional
        Replications the command runs (default ``run.replications``); an
        automatic warm-up adds its pilot and ``run.precision`` its
        ``max_replications``.
    workers : int
        Replications running at once (worker processes).

    Returns
    -------
    WorkEstimate

    Raises
    ------
    ScenarioError
        If a rate, the multiplier or a weight is not finite
        (:func:`simulator.analytic.require_finite`).
    """
    run = scenario.run
    horizon = run.horizon
    flows = station_arrival_rates(scenario, topology)
    prediction = predict(scenario, topology) if prediction is None else prediction
    n_status = len(scenario.traffic.statuses)
    documents = float(flows["documents_per_second"]) * horizon
    copies = float(flows["copies"]) * horizon
    statuses = n_status * copies
    visits_rate = np.asarray(flows["total"], dtype=float)
    station_visits = float(visits_rate.sum()) * horizon
    samples = math.ceil(horizon / run.timeseries_interval)
    toggles = _outage_toggles(topology, horizon, visits_rate)
    traffic_events = documents + station_visits + copies + 2 * statuses  # create, visits, copy ends, status send + end
    drivers_events = {"traffic": traffic_events, "samples": 2.0 * samples, "outages": 2.0 * float(toggles.sum()),
                      "agenda": horizon / AGENDA_SLOT}
    events = float(sum(drivers_events.values()))
    # jobs in the network at once: at the stations (Little), and status messages waiting to be sent
    pending = sum(s.arrival_rate * s.mean_sojourn for s in prediction.stations if s.stable and math.isfinite(s.mean_sojourn))
    status_delay = sum(st.after.mean for st in scenario.traffic.statuses)
    pending += float(flows["copies"]) * status_delay
    # overloaded stations without a buffer (a finite buffer drops the excess: its queue stays bounded)
    unstable = tuple((i, s.name, s.load_when_up) for i, (s, spec) in enumerate(zip(prediction.stations, topology.stations))
                     if not s.stable and s.arrival_rate > 0 and spec.buffer is None)
    backlog = sum(max(0.0, s.arrival_rate - s.availability * s.servers / s.mean_service) * horizon
                  if s.mean_service > 0 else 0.0 for s in (prediction.stations[i] for i, _, _ in unstable))
    runs = scenario.run.replications if replications is None else replications
    if run.precision is not None:
        runs = max(runs, run.precision.max_replications)
    runs += 1 if run.warmup == "auto" else 0
    concurrent = max(1, min(workers, runs))
    watched = min(WATCHED_STATIONS, len(topology.stations))
    per_interval = (copies + statuses) / max(1, samples)  # latencies buffered between two samples
    series = samples * (BYTES_PER_SAMPLE + watched * BYTES_PER_WATCHED_SAMPLE)
    collected = runs * samples * (8 + watched) * 8.0 * 3  # arrays kept per replication, then the frames
    drivers_memory = {
        "base": BASE_BYTES + BYTES_PER_STATION * (len(topology.stations) + len(topology.agencies)),
        "jobs": concurrent * pending * BYTES_PER_JOB,
        "samples": concurrent * series + collected,
        "latencies": concurrent * per_interval * BYTES_PER_LATENCY,
        "backlog": concurrent * backlog * BYTES_PER_JOB,
    }
    return WorkEstimate(horizon=horizon, documents=documents, copies=copies, statuses=statuses,
                        station_visits=station_visits, samples=float(samples), outage_toggles=float(toggles.sum()),
                        events=events, pending_jobs=pending, backlog_jobs=backlog,
                        memory_bytes=float(sum(drivers_memory.values())), replications=runs, workers=concurrent,
                        unstable=unstable, drivers={"events": drivers_events, "memory": drivers_memory})


def _station_key(scenario: Scenario, node: str) -> str:
    """The scenario table that describes a station: ``network.hub``, ``agencies[<id>].platform``, ..."""
    if node == HUB:
        return "network.hub"
    kind, _, agency_id = node.partition(":")
    if kind == "link":
        explicit = next((a for a in scenario.agencies if a.id == agency_id), None)
        return f"agencies[{agency_id}].backbone" if explicit is not None and explicit.backbone else "network.backbone"
    attribute = "platform" if kind == "platform" else "station"
    spec = next((a for a in scenario.agencies if a.id == agency_id), None)
    if spec is not None and getattr(spec, attribute) is not None:
        return f"agencies[{agency_id}].{attribute}"
    return f"network.{'platform' if kind == 'platform' else 'agency'}"


def _traffic_key(scenario: Scenario, topology: Topology) -> str:
    """Where most documents come from: ``traffic.multiplier`` when it is not 1, else the busiest kind's or agency's rate."""
    table = topology.agencies
    if scenario.traffic.multiplier != 1.0:
        return "traffic.multiplier"
    if not len(table) or not table.rate.sum() > 0:
        return "run.horizon"
    top = int(np.argmax(table.rate))
    spec = next((a for a in scenario.agencies if a.id == table.ids[top]), None)
    if spec is not None and spec.rate is not None:
        return f"agencies[{table.ids[top]}].rate"
    by_kind: dict[str, float] = {}
    for kind, rate in zip(table.kinds, table.rate.tolist()):
        by_kind[kind] = by_kind.get(kind, 0.0) + rate
    return f"kinds.{max(by_kind, key=by_kind.__getitem__)}.rate"


def _driver(scenario: Scenario, topology: Topology, work: WorkEstimate, what: str) -> tuple[str, Any, str]:
    """The key, its value and a reason for the largest contributor to ``what`` (``events`` or ``memory``)."""
    causes = work.drivers[what]
    cause = max((c for c in causes if c != "base"), key=causes.__getitem__)
    run = scenario.run
    if cause in ("samples", "latencies"):
        reason = (f"{work.samples:.3g} samples, one every {format_duration(run.timeseries_interval)} over "
                  f"{format_duration(run.horizon)}")
        if run.horizon > _YEAR:
            return "run.horizon", format_duration(run.horizon), reason
        return "run.timeseries_interval", format_duration(run.timeseries_interval), reason
    if cause == "outages":
        toggles = _outage_toggles(topology, run.horizon, np.asarray(station_arrival_rates(scenario, topology)["total"],
                                                                    dtype=float))
        station = topology.stations[int(np.argmax(toggles))]
        what = "outage and failure" if station.failures is not None else "outage"
        reason = f"{work.outage_toggles:.3g} {what} starts and ends at {station.name} and others"
        if station.failures is not None and (not station.outages or station.failures.between.mean < min(
                w.every if w.every is not None else math.inf for w in station.outages)):
            return (f"{_station_key(scenario, station.node)}.failures.between",
                    f"mean {format_duration(station.failures.between.mean)}", reason)
        window = min(station.outages, key=lambda w: w.every if w.every is not None else math.inf)
        return (f"{_station_key(scenario, station.node)}.outages", f"every {format_duration(window.every or 0.0)}",
                reason)
    if cause == "agenda":
        return "run.horizon", format_duration(run.horizon), "the horizon alone"
    if cause == "backlog":
        _, name, utilization = max(work.unstable, key=lambda item: item[2])
        return ("run.horizon", format_duration(run.horizon),
                f"the unstable queue at {name} (utilisation {utilization:.0%}) grows to {work.backlog_jobs:.3g} jobs")
    key = _traffic_key(scenario, topology)
    reason = (f"{work.documents:.3g} documents at {work.documents / run.horizon:.3g} per second "
              f"and {work.station_visits:.3g} station visits over {format_duration(run.horizon)}")
    if run.horizon > _YEAR:
        return "run.horizon", format_duration(run.horizon), reason
    if key == "traffic.multiplier":
        return key, scenario.traffic.multiplier, reason
    if key.startswith("kinds."):
        return key, format_rate(scenario.kind(key.split(".")[1]).rate, "h"), reason
    agency_id = key[len("agencies["):key.index("]")]
    return key, format_rate(next(a.rate for a in scenario.agencies if a.id == agency_id) or 0.0, "h"), reason


#: The limits of :func:`simulator.run` and :func:`simulator.sweep` called from Python without ``limits``: the
#: command line's, except that an unstable network runs (with an :class:`UnstableWarning`), as notebooks that
#: show an overload expect. The command line refuses it unless ``--allow-unstable``.
API_LIMITS = Limits(allow_unstable=True)


class UnstableWarning(UserWarning):
    """An unstable network simulated anyway (``allow_unstable``): its queues and memory grow until the horizon."""


def enforce(scenario: Scenario, topology: Topology, work: WorkEstimate, limits: Limits | None = None,
            where: str = "") -> None:
    """Refuse a run that passes the limits or, without ``allow_unstable``, whose network is unstable.

    Parameters
    ----------
    scenario : Scenario
    topology : Topology
    work : WorkEstimate
        :func:`estimate` of the run.
    limits : Limits, optional
        Default :class:`Limits`.
    where : str
        Prefix of the key paths (``"sweep point p003: "``).

    Raises
    ------
    ScenarioError
        One problem per limit passed: the key that drives the excess, its
        value, the estimate and the limit.
    """
    limits = Limits() if limits is None else limits
    problems = []
    if work.unstable:
        index, name, utilization = max(work.unstable, key=lambda item: item[2])
        station = topology.stations[index]
        key = f"{where}{_station_key(scenario, station.node)}.servers"
        growth = (work.backlog_jobs / work.horizon) * 3600.0
        overload = (f"{len(work.unstable)} station(s) cannot keep up on average, {name} at utilisation "
                    f"{utilization:.0%}{_of_up_time(station)}: their queues grow without bound, and memory with them (about {growth:.3g} jobs "
                    f"and {format_bytes(growth * BYTES_PER_JOB)} more per simulated hour, "
                    f"{format_bytes(work.drivers['memory']['backlog'])} by the horizon)")
        if limits.allow_unstable:
            warnings.warn(UnstableWarning(f"{scenario.source}: {key} = {station.servers!r}: {overload}; simulated "
                                          "anyway (--allow-unstable)"), stacklevel=2)
        else:
            problems.append(Problem(key, station.servers, (
                f"{overload}; add servers, shorten the service or lower the traffic, or run with --allow-unstable "
                "to simulate the overload")))
    excess = [("events", work.total_events > limits.max_events,
               f"the run would take about {work.total_events:.3g} events", f"{work.replications} replication(s)",
               f"about {format_wall(work.wall_seconds)}, more than --max-events {limits.max_events:.3g}",
               "shorten or lighten the scenario, or raise --max-events"),
              ("memory", work.memory_bytes > limits.max_memory,
               f"the run would need about {format_bytes(work.memory_bytes)} of memory",
               f"{work.workers} replication(s) at once", f"more than --max-memory {format_bytes(limits.max_memory)}",
               "shorten or lighten the scenario, use fewer --jobs, or raise --max-memory")]
    for what, passed, figure, runs, limit, advice in excess:
        if passed:
            key, value, reason = _driver(scenario, topology, work, what)
            problems.append(Problem(f"{where}{key}", value, f"{figure} ({reason}; {runs}), {limit}; {advice}"))
    if problems:
        raise WorkloadError(scenario.source, problems, work, unstable_only=len(problems) == 1 and bool(work.unstable)
                            and not limits.allow_unstable)
