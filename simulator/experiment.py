r"""Experiment: replications, warm-up, sequential stopping, sweeps and the executors that run them.

Everything that runs is a pure, picklable task ``replicate(Scenario,
SeedSequence, prediction=Prediction) -> Replication``; the analytic
prediction is computed once per run (per point in a sweep) and shipped with
each task. Seeds form a tree: replication ``r`` of a run
uses ``SeedSequence(seed).spawn(...)[r]`` and, inside it, one stream per
source and per agency (:mod:`simulator.streams`). Replication ``r`` of every
sweep point uses the same seed, so points share their random numbers (common
random numbers: differences between points are the parameters' doing, not
noise). Results are identical whether tasks run in this process, in a local
process pool of any size or on a Dask cluster, and in whatever order.

* :func:`run`: replications of one scenario, combined with 95 % Student-t
  confidence intervals; ``run.warmup = "auto"`` picks the warm-up by MSER-5
  (:func:`mser5`) on a pilot replication; ``run.precision`` keeps adding
  replications until chosen figures are precise enough.
* :func:`expand` and :func:`sweep`: every point of the scenario's
  ``[sweep]`` section times every replication, persisted as each finishes
  (:class:`~simulator.store.RunStore`), resumable, with ``points.csv`` and a
  manifest.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import itertools
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from . import __version__
from .analytic import Prediction, predict
from .errors import ExperimentError, ScenarioError
from .folders import check_output, clean_stale, describe, make_folder, publish, temporary_path, write_text
from .metrics import Histogram
from .results import (RunResult, combine, confidence_interval, csv_encoding, jsonable, stations_frame, summarize,
                      write_points_workbook)
from .scenario import Scenario, apply_parameters, dump_scenario
from .store import RunStore, fingerprint
from .topology import build_topology
from .workload import API_LIMITS, WATCHED_STATIONS, Limits, enforce, estimate

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where tables are built: `axis-sim check` never loads it
    import pandas as pd
    from .engine.tracelog import TraceOptions

__all__ = ["Replication", "replicate", "replication_seed", "mser5", "run", "replication_summaries", "Point", "expand", "SweepResult", "sweep",
           "FIGURES", "figure"]

#: Spawn key of the pilot replication used to choose an automatic warm-up.
PILOT = 2**31 - 1
#: How long to wait for a Dask scheduler to answer.
SCHEDULER_TIMEOUT = "20s"
Progress = Callable[[int, int], None]


@dataclass
class Replication:
    """What one replication hands back to the collecting process (small and picklable)."""

    summary: dict[str, Any]
    latency: Histogram
    timeseries: dict[str, np.ndarray]
    watched: tuple[int, ...]
    occupancy: np.ndarray


def _watch(prediction: Any) -> list[int]:
    """The stations predicted busiest at their peak (traffic equations hold whatever the service law)."""
    peaks = [s.peak_utilization if math.isfinite(s.peak_utilization) else math.inf for s in prediction.stations]
    return sorted(sorted(range(len(peaks)), key=lambda i: -peaks[i])[:WATCHED_STATIONS])


def replicate(scenario: Scenario, seed: np.random.SeedSequence,
              progress: Callable[[float, float], None] | None = None,
              prediction: Prediction | None = None, trace: TraceOptions | None = None) -> Replication:
    """Build the network, simulate once and summarise (a pure task for any executor).

    ``prediction`` is the analytic prediction of ``scenario`` (picklable);
    :func:`run` and :func:`sweep` compute it once and hand it to every
    replication. Without it, it is computed here. ``trace`` writes the
    replication's exchange log (:mod:`simulator.engine.tracelog`).

    Parameters
    ----------
    scenario : Scenario
        The resolved scenario of one run (or sweep point).
    seed : numpy.random.SeedSequence
        The replication's seed, :func:`replication_seed`.
    progress : callable, optional
        Called with (simulated seconds, horizon seconds) as the run goes.
    prediction : Prediction, optional
        The analytic prediction of ``scenario``.
    trace : TraceOptions, optional
        Where and how to write the exchange log.

    Returns
    -------
    Replication
        The replication's summary (stations included), latency histogram,
        time series and occupancy, as plain values (picklable).
    """
    from .engine import simulate  # here: checking and expanding a scenario need no SimPy

    topology = build_topology(scenario)
    prediction = predict(scenario, topology) if prediction is None else prediction
    output = simulate(scenario, topology, seed, progress=progress, watch=_watch(prediction), trace=trace)
    return Replication(summarize(output, scenario, topology, prediction), output.latency, output.timeseries,
                       output.watched, output.occupancy)


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication``: ``SeedSequence(seed).spawn(n)[replication]`` for any n.

    Parameters
    ----------
    seed : int
        The root seed (``run.seed``, ``--seed``).
    replication : int
        The replication's index, from 0.

    Returns
    -------
    numpy.random.SeedSequence
        The same sequence wherever the replication runs (a local process, a
        Dask worker), so results do not depend on where they were computed.

    Examples
    --------
    >>> replication_seed(7, 3).spawn_key == np.random.SeedSequence(7).spawn(5)[3].spawn_key
    True
    """
    return np.random.SeedSequence(entropy=seed, spawn_key=(replication,))


# --------------------------------------------------------------------------- warm-up


def mser5(series: Sequence[float]) -> int:
    r"""The MSER-5 truncation point of an output series, in observations.

    The series is grouped into batches of 5; for each candidate cut :math:`d`
    (in batches, up to half of them) the rule computes

    .. math:: \text{MSER}(d) = \frac{1}{(n - d)^2} \sum_{i > d} (\bar Y_i - \bar{\bar Y}_d)^2

    and returns the position in ``series`` of the first observation kept,
    :math:`5 d^*` observations in, for the :math:`d^*` that minimises it
    (White 1997; Franklin and White 2008). Missing values (NaN: intervals with
    no observation, such as nights under a working calendar) are skipped, and
    the cut is given in positions of the original series, so it maps to time.

    Parameters
    ----------
    series : sequence of float
        The output series in time order (one value per sampling interval; NaN
        for an interval without observation).

    Returns
    -------
    int
        The index in ``series`` of the first observation kept.

    References
    ----------
    .. [1] K. P. White, "An effective truncation heuristic for bias reduction in
       simulation output", Simulation 69(6), 323-334, 1997.

    Examples
    --------
    >>> series = [10.0] * 50 + [1.0, 2.0, 1.5, 1.0, 2.0] * 40
    >>> mser5(series)
    50
    """
    raw = np.asarray([math.nan if x is None else x for x in series], dtype=float)
    present = np.flatnonzero(np.isfinite(raw))  # positions of the observations in the series
    data = raw[present]
    batches = len(data) // 5
    if batches < 4:
        return 0
    means = data[: batches * 5].reshape(batches, 5).mean(axis=1)
    best, best_d = math.inf, 0
    for d in range(batches // 2 + 1):
        rest = means[d:]
        value = float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2
        if value < best:
            best, best_d = value, d
    return int(present[best_d * 5]) if best_d else 0


def _resolve_warmup(scenario: Scenario, seed: int, pilot: Callable[[Scenario, np.random.SeedSequence], Replication]
                    ) -> tuple[Scenario, dict[str, Any]]:
    """Replace ``warmup = "auto"`` by the MSER-5 cut of a pilot replication's hourly latency series."""
    if scenario.run.warmup != "auto":
        return scenario, {"method": "fixed", "seconds": scenario.run.warmup}
    zero = scenario.replace(run=scenario.run.model_copy(update={"warmup": 0.0}))
    trial = pilot(zero, np.random.SeedSequence(entropy=seed, spawn_key=(PILOT,)))
    series = trial.timeseries["latency_mean_in_interval"]
    cut = mser5(series)
    interval = scenario.run.timeseries_interval
    warmup = min(cut * interval, scenario.run.horizon / 2)
    info = {"method": "MSER-5 on the mean latency per sampling interval of a pilot replication",
            "seconds": warmup, "observations": int(np.isfinite(np.asarray(series, dtype=float)).sum())}
    if cut * interval >= scenario.run.horizon / 2:
        info["warning"] = "the cut fell in the second half of the run: the horizon is too short to reach steady state"
    return scenario.replace(run=scenario.run.model_copy(update={"warmup": warmup})), info


# --------------------------------------------------------------------------- executors


def _ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C to the collecting process (one message, its clean-up), no worker traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _executor(jobs: int, scheduler: str | None) -> Iterator[cf.Executor | None]:
    """None (run here), a local process pool, or a Dask cluster's executor."""
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ExperimentError("--scheduler needs Dask: pip install 'axis-simulator[dask]'") from None
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except OSError as err:
            raise ExperimentError(f"cannot reach the Dask scheduler at {scheduler!r}: {err}") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    if jobs <= 1:
        yield None
        return
    pool = cf.ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_interrupts)
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _execute(tasks: list[tuple[Any, Scenario, np.random.SeedSequence, Prediction]], executor: cf.Executor | None,
             done: Callable[[Any, Replication], None]) -> None:
    """Run ``(key, scenario, seed, prediction)`` tasks, calling ``done(key, replication)`` here as each finishes."""
    if executor is None:
        for key, scenario, seed, prediction in tasks:
            done(key, replicate(scenario, seed, prediction=prediction))
        return
    futures = {executor.submit(replicate, scenario, seed, prediction=prediction): key
               for key, scenario, seed, prediction in tasks}
    try:
        for future in cf.as_completed(futures):
            done(futures[future], future.result())
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _check_counts(seed: Any, replications: Any, jobs: Any) -> int:
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
        raise ExperimentError(f"replications = {replications!r}: must be a positive integer")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ExperimentError(f"seed = {seed!r}: must be a non-negative integer")
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 0:
        raise ExperimentError(f"jobs = {jobs!r}: must be a positive integer (0 = one per CPU)")
    return jobs or os.cpu_count() or 1


# --------------------------------------------------------------------------- run


def figure(summary: dict[str, Any], path: str) -> float:
    """A figure of a summary by dotted path (``"latency_seconds.p95"``); NaN when absent.

    Parameters
    ----------
    summary : dict
        A run's summary (``summary.json``, :attr:`RunResult.summary`).
    path : str
        Dotted key path of a number in it.

    Returns
    -------
    float
        The number, or NaN when the path leads nowhere or to something else.
    """
    value: Any = summary
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return math.nan
        value = value[part]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _relative_half_width(values: list[float]) -> float:
    """Half-width of the 95 % interval over |mean|: 0 when every value is equal, inf when undefined."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) >= 2 and max(finite) == min(finite):
        return 0.0
    low, high = confidence_interval(finite)
    mean = float(np.mean(finite)) if finite else math.nan
    return (high - low) / 2 / abs(mean) if mean and math.isfinite(low) else math.inf


def run(scenario: Scenario, seed: int | None = None, replications: int | None = None, jobs: int = 1,
        scheduler: str | None = None, progress: Progress | None = None, limits: Limits | None = None,
        trace: "TraceOptions | str | Path | None" = None) -> RunResult:
    r"""Simulate a scenario ``replications`` times and combine the results.

    Parameters
    ----------
    scenario : Scenario
        From :func:`simulator.load_scenario`.
    seed : int, optional
        Root seed (default: ``scenario.run.seed``).
    replications : int, optional
        Independent replications (default: ``scenario.run.replications``);
        with ``run.precision`` the number to start from.
    jobs : int
        Worker processes; 1 runs in this process, 0 means one per CPU.
    scheduler : str, optional
        Address of a Dask scheduler to run the replications on instead.
    progress : callable, optional
        Called as ``progress(done, total)`` after each replication; for a
        single replication, as ``progress(hours_simulated, horizon_hours)``
        while it runs.
    limits : Limits, optional
        Events, memory and instability the run may have, checked on the
        estimate of :func:`simulator.workload.estimate` before anything
        runs (default :data:`~simulator.workload.API_LIMITS`: 2e9 events,
        4 GB, an unstable network simulated with an
        :class:`~simulator.workload.UnstableWarning`; the command line
        refuses it unless ``--allow-unstable``).
    trace : TraceOptions or path, optional
        Write the exchange log of replication 0 (run in this process) to
        ``trace.path`` (:mod:`simulator.engine.tracelog`; a path: Parquet,
        or CSV when it ends in ``.csv``); the results are the same as
        without it.

    Returns
    -------
    RunResult
        Means over replications with 95 % confidence intervals.

    Raises
    ------
    ExperimentError
        If ``seed``, ``replications`` or ``jobs`` is out of range, or the
        scheduler cannot be reached.
    ScenarioError
        If the scenario cannot be built into a network.
    WorkloadError
        If the estimated work passes ``limits``, or the network is unstable
        and ``limits.allow_unstable`` is false (a :class:`ScenarioError`).

    Examples
    --------
    >>> import simulator
    >>> s = simulator.load_scenario(
    ...     '[run]\nhorizon = "1d"\n[network.hub]\nservice = {mean = "1s"}\n'
    ...     '[kinds.agency]\nrate = "10/h"\n[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"')
    >>> r = simulator.run(s, seed=1)
    >>> docs = r.summary["documents"]
    >>> docs["generated"] == docs["delivered"] + docs["in_flight"]
    True
    """
    seed = scenario.run.seed if seed is None else seed
    replications = scenario.run.replications if replications is None else replications
    jobs = _check_counts(seed, replications, jobs)
    topology = build_topology(scenario)
    prediction = predict(scenario, topology)  # fails fast, here; once for every replication
    precision = scenario.run.precision
    work = estimate(scenario, topology, prediction, replications=replications, workers=1 if scheduler else jobs)
    enforce(scenario, topology, work, API_LIMITS if limits is None else limits)
    outputs: dict[int, Replication] = {}
    with _executor(min(jobs, max(replications, 2 if precision else 1)), scheduler) as executor:
        # the prediction does not depend on run.warmup: the pilot and every replication share it
        scenario, warmup = _resolve_warmup(scenario, seed, functools.partial(replicate, prediction=prediction))
        target = max(replications, 3) if precision else replications
        if trace is not None:  # replication 0 writes the trace, in this process; the others run as usual
            trace = _trace_options(trace)
            single = target == 1 and progress is not None
            hours = (lambda now, horizon: progress(int(now // 3600), int(math.ceil(horizon / 3600)))) if single else None  # noqa: E731
            outputs[0] = replicate(scenario, replication_seed(seed, 0), hours, prediction=prediction, trace=trace)
        while True:
            todo = [r for r in range(target) if r not in outputs]
            total = target

            def done(key: int, item: Replication) -> None:
                outputs[key] = item
                if progress is not None:
                    progress(len(outputs), total)

            if executor is None and target == 1 and progress is not None and not outputs:
                # a single replication: report simulated hours of the horizon instead of replications
                hours = lambda now, horizon: progress(int(now // 3600), int(math.ceil(horizon / 3600)))  # noqa: E731
                outputs[0] = replicate(scenario, replication_seed(seed, 0), hours, prediction=prediction)
            else:
                _execute([(r, scenario, replication_seed(seed, r), prediction) for r in todo], executor, done)
            if precision is None or target >= precision.max_replications:
                break
            summaries = [outputs[r].summary for r in range(target)]
            for position, name in enumerate(precision.figures):
                if not any(math.isfinite(figure(summary, name)) for summary in summaries):
                    raise ExperimentError(f"run.precision.figures[{position}] = {name!r}: no replication has this "
                                          "figure; name a summary figure such as 'latency_seconds.mean'")
            widths = [_relative_half_width([figure(s, f) for s in summaries]) for f in precision.figures]
            worst = max(widths)
            if worst <= precision.relative_half_width:
                break
            if not math.isfinite(worst):  # a mean of 0 with spread: relative precision cannot be reached
                target = precision.max_replications if target < precision.max_replications else target
                continue
            needed = math.ceil(target * (worst / precision.relative_half_width) ** 2)
            target = min(precision.max_replications, max(target + max(jobs, 1), needed))
    result = _assemble(scenario, seed, [outputs[r] for r in range(len(outputs))])
    result.summary["warmup"] = warmup
    if precision is not None:
        summaries = result.replications
        result.summary["precision"] = {
            "target_relative_half_width": precision.relative_half_width,
            "achieved": {f: _relative_half_width([figure(s, f) for s in summaries]) for f in precision.figures},
            "replications": len(summaries), "max_replications": precision.max_replications}
    return result


def replication_summaries(tasks: Sequence[tuple[Scenario, int]], seed: int, jobs: int = 1,
                          limits: Limits | None = None) -> list[dict[str, Any]]:
    """The summaries of chosen replications of one or more scenarios, run together (in parallel with ``jobs``).

    Replication ``r`` of a scenario here is replication ``r`` of
    :func:`run` with the same seed (same warm-up, same summary), so a caller
    can add replications to those it has, or run replications of several
    scenarios at once, and get what one :func:`run` of each would have given.

    Parameters
    ----------
    tasks : sequence of (Scenario, int)
        A scenario and a replication number; a scenario object listed more
        than once is prepared (prediction, warm-up, limits) once.
    seed : int
        Root seed, as for :func:`run`.
    jobs : int
        Worker processes; 1 runs in this process, 0 means one per CPU.
    limits : Limits, optional
        As for :func:`run`, checked for every scenario (with its number of
        replications here) before anything runs.

    Returns
    -------
    list of dict
        One replication summary per task, in the order of ``tasks``.

    Raises
    ------
    ExperimentError
        If ``seed``, a replication number or ``jobs`` is out of range.
    WorkloadError
        If a scenario's estimated work passes ``limits`` (nothing runs).
    """
    jobs = _check_counts(seed, max(1, len(tasks)), jobs)
    if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for _, r in tasks):
        raise ExperimentError("replication numbers must be non-negative integers")
    prepared: dict[int, tuple[Scenario, Prediction]] = {}
    for scenario, _ in tasks:
        if id(scenario) in prepared:
            continue
        topology = build_topology(scenario)
        prediction = predict(scenario, topology)
        count = sum(other is scenario for other, _ in tasks)
        enforce(scenario, topology, estimate(scenario, topology, prediction, replications=count, workers=jobs),
                API_LIMITS if limits is None else limits)
        prepared[id(scenario)] = (scenario, prediction)
    outputs: dict[int, Replication] = {}
    with _executor(min(jobs, len(tasks)), None) as executor:
        resolved = {key: (_resolve_warmup(scenario, seed, functools.partial(replicate, prediction=prediction))[0],
                          prediction) for key, (scenario, prediction) in prepared.items()}
        work = []
        for i, (scenario, r) in enumerate(tasks):
            ready, prediction = resolved[id(scenario)]
            work.append((i, ready, replication_seed(seed, r), prediction))
        _execute(work, executor, outputs.__setitem__)
    return [outputs[i].summary for i in range(len(tasks))]


def _trace_options(trace: "TraceOptions | str | Path") -> "TraceOptions":
    """``trace`` as :class:`~simulator.engine.tracelog.TraceOptions` (a path: its suffix chooses the format)."""
    from .engine.tracelog import TraceOptions

    if isinstance(trace, TraceOptions):
        return trace
    path = Path(trace)
    return TraceOptions(path, "csv" if path.suffix.lower() == ".csv" else "parquet")


#: Family-wise false-alarm rate of the theory check over all stations and figures of a run.
THEORY_FALSE_ALARM = 0.05


def _compare_with_theory(summary: dict[str, Any], summaries: list[dict[str, Any]]) -> None:
    r"""Mark each station ``agrees`` / ``DISAGREES`` with the exact prediction.

    Only when the prediction is exact (open Jackson network) and there are at
    least two replications; otherwise the mark says why there is no verdict.
    Each station's utilisation and mean sojourn are checked against a
    Student-t interval over the replications at level
    :math:`1 - 0.05 / (2 S)` (Bonferroni over S stations), so a correct run
    raises a false alarm with probability at most 5 %.
    """
    analytic = summary.get("analytic") or {}
    stations = summary["stations"]
    level = 1.0 - THEORY_FALSE_ALARM / max(1, 2 * len(stations))
    disagreements = []
    for i, station in enumerate(stations):
        if not analytic.get("exact"):
            station["theory"] = "approximate"
            continue
        if len(summaries) < 2:
            station["theory"] = "no interval (1 replication)"
            continue
        verdict = "agrees"
        for simulated, predicted in (("utilization", "predicted_utilization"),
                                     ("mean_sojourn_seconds", "predicted_mean_sojourn_seconds")):
            low, high = confidence_interval([r["stations"][i][simulated] for r in summaries], level=level)
            value = station[predicted]
            if math.isfinite(low) and math.isfinite(value) and not (low <= value <= high):
                verdict = "DISAGREES"
        station["theory"] = verdict
        if verdict == "DISAGREES":
            disagreements.append(station["id"])
    summary["theory_disagreements"] = disagreements


def _rename_bottlenecks(summary: dict[str, Any]) -> None:
    """Over replications, the bottleneck is the station with the highest mean (not a mean of maxima)."""
    for key, field_name in (("bottleneck", "utilization"), ("peak_bottleneck", "peak_utilization")):
        stations = [s for s in summary["stations"] if math.isfinite(s.get(field_name, math.nan))]
        if not stations or not summary.get(key):
            continue
        top = max(stations, key=lambda s: s[field_name])
        summary[key].update(id=top["id"], name=top["name"], utilization=top[field_name])
        if f"{field_name}_ci" in top:
            summary[key]["utilization_ci"] = top[f"{field_name}_ci"]


#: Time-series columns that are running totals from the start of the run: written with a ``_total`` suffix,
#: with the count of each sampling interval beside them (``_in_interval``).
RUNNING_TOTALS = ("documents_generated", "documents_electronic", "documents_paper", "copies_delivered")


def _timeseries_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The time-series table: running totals as ``<figure>_total`` next to ``<figure>_in_interval`` counts.

    Levels at the sampling instant (``documents_in_flight``,
    ``statuses_in_flight``) and per-interval figures keep their names.
    """
    import pandas as pd

    frame = pd.DataFrame({"time": columns["time"], "time_hours": columns["time"] / 3600.0})
    for name, values in columns.items():
        if name == "time":
            continue
        if name in RUNNING_TOTALS:
            frame[f"{name}_total"] = values
            frame[f"{name}_in_interval"] = np.diff(np.concatenate([[0.0], values]))
        else:
            frame[name] = values
    created = frame["documents_generated_in_interval"].to_numpy()
    electronic = frame["documents_electronic_in_interval"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["electronic_share_in_interval"] = np.where(created > 0, electronic / created, np.nan)
    return frame


def _assemble(scenario: Scenario, seed: int, outputs: list[Replication]) -> RunResult:
    import pandas as pd

    summaries = [o.summary for o in outputs]
    summary = {"scenario": scenario.name, "seed": seed, "replications": len(outputs), "version": __version__}
    summary.update(combine(summaries))
    if len(summaries) > 1:
        _rename_bottlenecks(summary)
    _compare_with_theory(summary, summaries)
    latency = Histogram()
    for o in outputs:
        latency.merge(o.latency)
    stations = stations_frame(summary)
    timeseries = _timeseries_frame({k: np.mean([o.timeseries[k] for o in outputs], axis=0) for k in outputs[0].timeseries})
    occupancy = np.mean([o.occupancy for o in outputs], axis=0)
    ids = [s["id"] for s in summary["stations"]]
    watched = list(outputs[0].watched)
    column_of = {station: column for column, station in enumerate(watched)}
    busiest = np.argsort([-(s["utilization"] if math.isfinite(s["utilization"]) else -1) for s in summary["stations"]])
    for i in [i for i in busiest if i in column_of][:10]:
        if occupancy.shape[0]:
            timeseries[f"in_system: {ids[i]}"] = occupancy[:, column_of[i]]
    watched_ids = [ids[i] for i in watched]
    occupancy_frame = (pd.DataFrame(occupancy, columns=watched_ids) if occupancy.size
                       else pd.DataFrame(columns=watched_ids))
    return RunResult(summary=summary, stations=stations, timeseries=timeseries, latency=latency,
                     replications=summaries, scenario=scenario, occupancy=occupancy_frame)


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class Point:
    """One fully resolved sweep point."""

    index: int
    parameters: dict[str, Any]
    scenario: Scenario

    @property
    def label(self) -> str:
        """``p003``: the point's folder name."""
        return f"p{self.index:03d}"


def _points_table(points: list[Point], results: list[RunResult]) -> pd.DataFrame:
    """The table of ``points.csv``: one row per point, its parameters and its :data:`FIGURES`."""
    import pandas as pd

    return pd.DataFrame([_point_row(p, r) for p, r in zip(points, results)])


def expand(scenario: Scenario) -> list[Point]:
    """Every point of the scenario's ``[sweep]`` section, validated before anything runs.

    Grid mode takes every combination (the last parameter varies fastest);
    zip mode takes the i-th value of every parameter together. A scenario
    without sweep parameters is one point.

    Parameters
    ----------
    scenario : Scenario
        A scenario, with or without a ``[sweep]`` section.

    Returns
    -------
    list of Point
        The points in order, each with its label (``p000``, ...), its
        parameters and its resolved scenario.

    Raises
    ------
    ScenarioError
        If a point's parameters do not make a valid scenario (the message
        names the sweep parameter and the resulting key).
    """
    parameters = scenario.sweep.parameters
    if not parameters:
        return [Point(0, {}, scenario)]
    paths = [p.path for p in parameters]
    columns = [p.values for p in parameters]
    combos = zip(*columns) if scenario.sweep.mode == "zip" else itertools.product(*columns)
    base = scenario.replace(sweep=scenario.sweep.model_copy(update={"parameters": ()}))
    points = []
    for index, values in enumerate(combos):
        settings = dict(zip(paths, values))
        resolved = apply_parameters(base, settings, where="sweep.parameters")
        build_topology(resolved)
        points.append(Point(index, settings, resolved))
    return points


#: Figures of points.csv: column name -> summary path.
FIGURES: dict[str, str] = {
    "electronic_share": "electronic_share",
    "documents_per_working_day": "documents_per_working_day",
    "throughput_per_day": "throughput_per_day",
    "latency_mean_seconds": "latency_seconds.mean",
    "latency_p95_seconds": "latency_seconds.p95",
    "bottleneck_utilization": "bottleneck.utilization",
    "peak_utilization": "peak_bottleneck.utilization",
    "same_day_share": "same_day_share",
    "documents_dropped": "documents.dropped",
    "documents_in_flight": "documents.in_flight",
}


@dataclass
class SweepResult:
    """The outcome of :func:`sweep`: points, their combined results and the tidy table."""

    points: list[Point]
    results: list[RunResult]
    table: pd.DataFrame
    folder: Path | None = None
    reused: int = 0
    ran: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _point_row(point: Point, result: RunResult) -> dict[str, Any]:
    row: dict[str, Any] = {"point": point.label}
    row.update(point.parameters)
    row["replications"] = len(result.replications)
    for column, path in FIGURES.items():
        values = [figure(s, path) for s in result.replications]
        row[column] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
        low, high = confidence_interval(values)
        row[f"{column}_ci_low"], row[f"{column}_ci_high"] = low, high
    for key in ("bottleneck", "peak_bottleneck"):
        station = result.summary.get(key) or {}
        row[f"{key}_id"], row[key] = station.get("id"), station.get("name")
    analytic = result.summary.get("analytic") or {}
    row["predicted_bottleneck_id"] = analytic.get("bottleneck_id")
    row["predicted_bottleneck"] = analytic.get("bottleneck")
    row["predicted_bottleneck_utilization"] = analytic.get("bottleneck_utilization")
    row["predicted_latency_mean_seconds"] = analytic.get("latency_mean_seconds")
    row["headroom"] = analytic.get("headroom")
    return row


def _point_prediction(cache: dict[int, Prediction], point: Point) -> Prediction:
    """The analytic prediction of a sweep point, computed on first use and kept in ``cache``.

    The warm-up does not enter it, so the point's pilot and replications share it.
    """
    if point.index not in cache:
        cache[point.index] = predict(point.scenario, build_topology(point.scenario))
    return cache[point.index]


def _point_extra(point_charts: Callable[[RunResult, Path], None] | None, result: RunResult) -> Callable[[Path], None] | None:
    """The ``extra`` step of :meth:`RunResult.save` that draws a point's charts (None without a callback)."""
    if point_charts is None:
        return None
    return lambda temporary: point_charts(result, temporary)


def _check_sweep_work(points: list[Point], replications: int, jobs: int, limits: Limits | None) -> dict[int, Prediction]:
    """Estimate every point's work and refuse the sweep before it starts when a point, or all together, pass ``limits``.

    Returns the points' predictions (computed on the way), keyed by point index.
    """
    limits = API_LIMITS if limits is None else limits
    workers = min(jobs, len(points) * replications)
    predictions: dict[int, Prediction] = {}
    total = 0.0
    for point in points:
        topology = build_topology(point.scenario)
        predictions[point.index] = predict(point.scenario, topology)
        work = estimate(point.scenario, topology, predictions[point.index], replications=replications, workers=workers)
        where = f"sweep point {point.label} {point.parameters}: " if point.parameters else ""
        single = limits if len(points) == 1 else Limits(math.inf, limits.max_memory, limits.allow_unstable)
        enforce(point.scenario, topology, work, single, where=where)
        total += work.total_events
    if total > limits.max_events:
        raise ScenarioError.single(points[0].scenario.source, "sweep.parameters", f"{len(points)} points x {replications} "
                                   "replications", f"the sweep would take about {total:.3g} events, more than "
                                   f"--max-events {limits.max_events:.3g}; sweep fewer points, shorten or lighten the "
                                   "scenario, or raise --max-events")
    return predictions


def sweep(scenario: Scenario, output: str | Path, seed: int | None = None, replications: int | None = None,
          jobs: int = 1, scheduler: str | None = None, progress: Progress | None = None,
          charts: Callable[[SweepResult, Path], None] | None = None,
          point_charts: Callable[[RunResult, Path], None] | None = None,
          limits: Limits | None = None, excel: bool = False) -> SweepResult:
    """Run every sweep point x replication, persisting each as it finishes; resumable.

    Parameters
    ----------
    scenario : Scenario
        With a ``[sweep]`` section (without one, the sweep has one point).
    output : str or pathlib.Path
        The sweep folder: ``runs.sqlite`` (finished runs), ``manifest.json``,
        ``points.csv`` (and ``tables.xlsx``, its sheet ``points``), ``points/pNNN/`` (each point's result folder).
    seed, replications, jobs, scheduler, progress
        As for :func:`run` (``replications`` per point).
    charts : callable, optional
        ``charts(result, folder)`` draws the sweep charts.
    point_charts : callable, optional
        ``point_charts(run_result, folder)`` draws one point's run charts
        into its result folder before the folder is put in place (as
        ``axis-sim run`` does: :func:`simulator.charts.save_point_charts`).
    limits : Limits, optional
        Checked on every point's estimate and on the events of all points
        together, before the folder is created (see :func:`run`).
    excel : bool
        Write ``points.csv`` and every point's CSV files with a UTF-8
        byte-order mark, so Excel shows Vietnamese names intact.

    Returns
    -------
    SweepResult
        ``reused`` counts runs found in the store, ``ran`` the runs made now.
    """
    seed = scenario.run.seed if seed is None else seed
    replications = scenario.run.replications if replications is None else replications
    jobs = _check_counts(seed, replications, jobs)
    points = expand(scenario)
    predictions = _check_sweep_work(points, replications, 1 if scheduler else jobs, limits)
    folder = Path(output)
    check_output(folder, "sweep", option="sweep folder")
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clean_stale(folder)
        # the outputs are drawn here and moved into the folder at the end: a failure leaves no half of them
        staging = make_folder(temporary_path(folder / "outputs"))
    except OSError as err:
        raise ExperimentError(f"{folder}: cannot write the sweep folder: {describe(err)}") from None
    try:
        return _sweep_into(folder, staging, scenario, points, predictions, seed, replications, jobs, scheduler,
                           progress, charts, point_charts, excel)
    except BaseException:
        if created and _nothing_stored(folder):  # nothing to resume: leave nothing behind
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _nothing_stored(folder: Path) -> bool:
    """Whether the sweep folder's run store holds no finished run (or cannot be read)."""
    try:
        with RunStore(folder / "runs.sqlite") as store:
            return store.count() == 0
    except Exception:  # noqa: BLE001 - an unreadable store holds nothing to resume
        return True


def _sweep_into(folder: Path, staging: Path, scenario: Scenario, points: list[Point],
                predictions: dict[int, Prediction], seed: int, replications: int,
                jobs: int, scheduler: str | None, progress: Progress | None,
                charts: Callable[[SweepResult, Path], None] | None,
                point_charts: Callable[[RunResult, Path], None] | None, excel: bool = False) -> SweepResult:
    """The body of :func:`sweep`: run what the store lacks, draw the outputs in ``staging``, move them in place."""
    store = RunStore(folder / "runs.sqlite")
    outputs: dict[tuple[int, int], Replication] = {}
    ran = reused = 0
    with store, _executor(min(jobs, len(points) * replications), scheduler) as executor:
        keys: dict[int, str] = {}
        resolved: dict[int, Scenario] = {}
        warmups: dict[int, dict[str, Any]] = {}
        for point in points:
            key = fingerprint(dump_scenario(point.scenario), seed)

            def pilot(zero: Scenario, pilot_seed: np.random.SeedSequence, key: str = key, point: Point = point) -> Replication:
                stored = store.get(key, -1)
                if stored is None:
                    stored = replicate(zero, pilot_seed, prediction=_point_prediction(predictions, point))
                    store.put(key, -1, stored)
                return stored

            resolved[point.index], warmups[point.index] = _resolve_warmup(point.scenario, seed, pilot)
            keys[point.index] = key
        tasks = []
        for point in points:
            for r in range(replications):
                stored = store.get(keys[point.index], r)
                if stored is not None:
                    outputs[(point.index, r)] = stored
                    reused += 1
                else:
                    tasks.append(((point.index, r), resolved[point.index], replication_seed(seed, r),
                                  _point_prediction(predictions, point)))
        total = len(points) * replications
        if progress is not None and reused:
            progress(reused, total)

        def done(task: tuple[int, int], item: Replication) -> None:
            nonlocal ran
            store.put(keys[task[0]], task[1], item)
            outputs[task] = item
            ran += 1
            if progress is not None:
                progress(len(outputs), total)

        _execute(tasks, executor, done)
    step = "the point folders (points/)"
    try:
        results = []
        for point in points:
            step = f"the result folder of point {point.label} (points/{point.label}/)"
            result = _assemble(resolved[point.index], seed, [outputs[(point.index, r)] for r in range(replications)])
            result.summary["warmup"] = warmups[point.index]
            result.summary["parameters"] = point.parameters
            result.save(staging / "points" / point.label, extra=_point_extra(point_charts, result), excel=excel)
            results.append(result)
        table = _points_table(points, results)
        outcome = SweepResult(points, results, table, folder, reused=reused, ran=ran)
        step = "points.csv"
        write_text(staging / "points.csv", table.to_csv(index=False), encoding=csv_encoding(excel))
        step = "tables.xlsx"
        write_points_workbook(table, staging / "tables.xlsx")
        manifest = {
            "scenario": scenario.name, "scenario_fingerprint": fingerprint(dump_scenario(scenario), seed),
            "seed": seed, "replications": replications, "version": __version__, "mode": scenario.sweep.mode,
            "seeds": "replication r of every point: SeedSequence(seed).spawn(...)[r] (common random numbers)",
            "points": [{"point": p.label, "parameters": p.parameters, "fingerprint": keys[p.index]} for p in points],
        }
        step = "manifest.json"
        write_text(staging / "manifest.json", json.dumps(jsonable(manifest), indent=2, ensure_ascii=False) + "\n")
        step = "scenario.toml"
        write_text(staging / "scenario.toml", dump_scenario(scenario))
        if charts is not None:
            step = "the sweep charts (charts/)"
            charts(outcome, staging)
        step = "the finished outputs into place"
        for name in ("points", "points.csv", "tables.xlsx", "scenario.toml", "charts", "manifest.json"):
            if (staging / name).exists():
                publish(staging / name, folder / name)
    except OSError as err:
        raise ExperimentError(f"{folder}: cannot write {step}: {describe(err)} (the finished runs are kept in "
                              "runs.sqlite: free the space or fix the folder and rerun to resume)") from None
    return outcome
