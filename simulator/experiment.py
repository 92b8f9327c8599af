"""Experiment: replications of a scenario, run serially or in parallel, combined with confidence intervals.

Each replication is a pure, picklable task ``(Scenario, SeedSequence) ->
replication output`` (:func:`replicate`); its seed is the child of
``SeedSequence(seed).spawn(replications)`` at its index, so the results are
identical whichever executor runs them and in whatever order.
"""
from __future__ import annotations

import concurrent.futures as cf
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import __version__
from .analytic import predict
from .engine import simulate
from .errors import ExperimentError
from .metrics import Histogram
from .results import RunResult, combine, confidence_interval, stations_frame, summarize
from .scenario import Scenario
from .streams import replication_seeds
from .topology import build_topology

__all__ = ["Replication", "replicate", "run"]


@dataclass
class Replication:
    """What one replication hands back to the parent process (small and picklable)."""

    summary: dict[str, Any]
    latency: Histogram
    timeseries: dict[str, np.ndarray]
    in_system: np.ndarray


def replicate(scenario: Scenario, seed: np.random.SeedSequence) -> Replication:
    """Build the network, simulate once and summarise (a pure task for any executor)."""
    topology = build_topology(scenario)
    prediction = predict(scenario, topology)
    output = simulate(scenario, topology, seed)
    return Replication(summarize(output, scenario, topology, prediction), output.latency, output.timeseries, output.in_system)


def _executor(jobs: int) -> cf.Executor | None:
    if jobs == 1:
        return None
    return cf.ProcessPoolExecutor(max_workers=jobs)


def run(scenario: Scenario, seed: int | None = None, replications: int | None = None, jobs: int = 1,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Simulate a scenario ``replications`` times and combine the results.

    Parameters
    ----------
    scenario : Scenario
        From :func:`simulator.load_scenario`.
    seed : int, optional
        Root seed (default: ``scenario.run.seed``).
    replications : int, optional
        Independent replications (default: ``scenario.run.replications``).
    jobs : int
        Worker processes; 1 runs in this process. ``0`` means one per CPU.
    progress : callable, optional
        Called as ``progress(done, total)`` after each replication.

    Returns
    -------
    RunResult
        Means over replications with 95 % confidence intervals.

    Raises
    ------
    ExperimentError
        If ``replications`` or ``jobs`` is out of range.
    ScenarioError
        If the scenario cannot be built into a network.

    Examples
    --------
    >>> import simulator
    >>> s = simulator.load_scenario(
    ...     '[run]\\nhorizon = "1d"\\n[network.hub]\\nservice = {mean = "1s"}\\n'
    ...     '[kinds.agency]\\nrate = "10/h"\\n[[agencies]]\\nid = "A"\\n[[agencies]]\\nid = "B"')
    >>> r = simulator.run(s, seed=1)
    >>> r.summary["documents"]["generated"] == r.summary["documents"]["delivered"] + r.summary["documents"]["in_flight"]
    True
    """
    seed = scenario.run.seed if seed is None else seed
    replications = scenario.run.replications if replications is None else replications
    if not isinstance(replications, int) or replications < 1:
        raise ExperimentError(f"replications = {replications!r}: must be a positive integer")
    if not isinstance(seed, int) or seed < 0:
        raise ExperimentError(f"seed = {seed!r}: must be a non-negative integer")
    if jobs == 0:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or jobs < 1:
        raise ExperimentError(f"jobs = {jobs!r}: must be a positive integer (0 = one per CPU)")
    build_topology(scenario)  # fail fast, in this process, on a scenario that cannot be built
    seeds = replication_seeds(seed, replications)
    jobs = min(jobs, replications)
    executor = _executor(jobs)
    outputs: list[Replication] = []
    try:
        results: Iterable[Replication]
        if executor is None:
            results = (replicate(scenario, s) for s in seeds)
        else:
            results = executor.map(replicate, [scenario] * replications, seeds)
        for done, item in enumerate(results, start=1):
            outputs.append(item)
            if progress is not None:
                progress(done, replications)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return _assemble(scenario, seed, outputs)


#: Family-wise false-alarm rate of the theory check over all stations and figures of a run.
THEORY_FALSE_ALARM = 0.05


def _compare_with_theory(summary: dict[str, Any], summaries: list[dict[str, Any]]) -> None:
    """Mark each station ``agrees`` / ``DISAGREES`` with the exact prediction.

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
            disagreements.append(station["name"])
    summary["theory_disagreements"] = disagreements


def _assemble(scenario: Scenario, seed: int, outputs: list[Replication]) -> RunResult:
    summaries = [o.summary for o in outputs]
    summary = {"scenario": scenario.name, "seed": seed, "replications": len(outputs), "version": __version__}
    summary.update(combine(summaries))
    _compare_with_theory(summary, summaries)
    latency = Histogram()
    for o in outputs:
        latency.merge(o.latency)
    stations = stations_frame(summary)
    timeseries = pd.DataFrame({k: np.mean([o.timeseries[k] for o in outputs], axis=0) for k in outputs[0].timeseries})
    timeseries.insert(1, "time_hours", timeseries["time"] / 3600.0)
    occupancy = np.mean([o.in_system for o in outputs], axis=0)
    names = [s["name"] for s in summary["stations"]]
    busiest = np.argsort([-(s["utilization"] if math.isfinite(s["utilization"]) else -1) for s in summary["stations"]])[:10]
    for i in busiest:
        if occupancy.shape[0]:
            timeseries[f"in_system: {names[i]}"] = occupancy[:, i]
    occupancy_frame = pd.DataFrame(occupancy, columns=names) if occupancy.size else pd.DataFrame(columns=names)
    return RunResult(summary=summary, stations=stations, timeseries=timeseries, latency=latency,
                     replications=summaries, scenario=scenario, occupancy=occupancy_frame)
