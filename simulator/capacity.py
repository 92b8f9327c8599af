r"""Capacity: the largest (or smallest) parameter value that still meets a target, by bracketing and bisection.

A target reads ``"latency_p95 <= 4h"``, ``"utilization <= 0.8"``,
``"electronic_share >= 0.9"``. Each evaluation runs the scenario with the
parameter set (R replications, the same seeds at every value: common random
numbers) and classifies the value from the 95 % confidence interval of the
figure: it *meets* the target only if the whole interval is on the right side
(a conservative reading), *fails* if the whole interval is on the wrong side,
and is *uncertain* otherwise (treated as not meeting it). The search assumes
the figure is monotone in the parameter.

Where to look first comes from the analytic prediction
(:mod:`simulator.analytic`), which costs a fraction of a second per value:

* a target the analytic module predicts (``utilization``,
  ``peak_utilization``, ``mean_queue``, ``latency_mean``): the value at
  which the predicted figure reaches the bound;
* a latency percentile (``latency_p50|p95|p99``) in a scenario with a
  working calendar: the value at which the fluid estimate of the percentile
  (:func:`~simulator.analytic.fluid_latency_quantile`: the backlog a network
  builds in office hours and drains at night) reaches the bound;
* another load figure (those percentiles without a calendar,
  ``dropped_share``, ``same_day_share``): the value at which the
  bottleneck's open-hours utilisation reaches 1 (saturation);
* otherwise, or with ``start``: the scenario's value (or ``start``).

The search tries :data:`SPREAD` times the predicted value on either side (for
the largest value ``[0.5, 1.2]`` of it: the conservative reading puts the
answer below the prediction more often than above; :data:`FLUID_SPREAD`
around a fluid estimate), widens by doubling or
halving while the two do not bracket the answer, then narrows the bracket to
the tolerance (or one step, for an integer parameter). Narrowing interpolates
the decisive edge of the interval between the bracket's ends and tries two
values at once, one just past the interpolated crossing on each side (run
side by side on two processes), so that a figure linear in the parameter
(utilisation in the traffic multiplier) closes the bracket in one step. The
first value of a step is where one step at a time would go (past the crossing,
towards the end farther from it); the second is evaluated only if the first's
verdict leaves it inside the bracket, so a serial search makes about as many
evaluations as one value at a time would, and a parallel one makes them in
fewer rounds. After a step that does not halve the bracket the second value
hedges (halfway to the farther end) and the next step aims twice as far past
the crossing; after :data:`ESCALATIONS` such steps the first value bisects. An
integer parameter, and the last evaluation of the budget, narrow one value at
a time.

Unless the bracket comes from the analytic prediction of the figure itself
(close enough for the full replications to decide from the first step), the
search explores with :data:`EXPLORE_REPLICATIONS` replication per value (its
figure alone decides), then confirms the explored answer, the end of the
bracket that met the target, with the full count (replication 0 reused, the
missing ones run at once). The other end keeps its exploratory verdict: it
failed with one replication, and the full count, which needs the whole
interval on the right side, would not make it meet (it could only move the
limit, never the answer). When the confirmed end changes side, the search
steps :data:`CONFIRM_GROWTH` tolerances away from it (twice as far each time)
and narrows again with the full count. Only evaluations with the full count
make the answer.
Replication ``r`` of a value is the same whenever and wherever it runs, so a
scenario and a seed give the same search serially or in parallel.

The answer is a :class:`CapacityResult`: the target, the bracket the search
started from, every evaluation with its 95 % interval, and the answer with the
bracket it lies in; :meth:`CapacityResult.save` writes it as
``capacity.json`` in a result folder.
"""
from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from . import __version__
from .analytic import Prediction, fluid_latency_quantile, predict
from .errors import ExperimentError, ScenarioError
from .experiment import figure, replication_summaries
from .folders import staged_folder, write_text
from .results import confidence_interval
from .scenario import Scenario, apply_parameters, dump_scenario
from .topology import Topology, build_topology
from .units import DURATION_UNITS, duration_unit, format_duration_in, parse_duration
from .workload import Limits, WorkloadError

__all__ = ["Target", "parse_target", "Evaluation", "Bracket", "CapacityResult", "search", "initial_bracket",
           "check_station", "parameter_unit", "METRICS", "STATION_METRICS", "OVERLOAD_FAILS", "SPREAD",
           "DEFAULT_MAX_EVALUATIONS", "FREE_EVALUATIONS", "FLUID_QUANTILES", "FLUID_SPREAD", "EXPLORE_REPLICATIONS",
           "CONFIRM_GROWTH"]

#: Target metrics: name -> (summary path, kind of value). Station figures are read from the summary's
#: station list instead (see :data:`STATION_METRICS`); their path names the busiest station's figure.
METRICS: dict[str, tuple[str, str]] = {
    "latency_mean": ("latency_seconds.mean", "duration"),
    "latency_p50": ("latency_seconds.p50", "duration"),
    "latency_p95": ("latency_seconds.p95", "duration"),
    "latency_p99": ("latency_seconds.p99", "duration"),
    "utilization": ("bottleneck.utilization", "number"),
    "peak_utilization": ("peak_bottleneck.utilization", "number"),
    "mean_queue": ("stations[*].mean_queue", "number"),
    "electronic_share": ("electronic_share", "number"),
    "throughput_per_day": ("throughput_per_day", "number"),
    "dropped_share": ("dropped_share", "number"),
    "same_day_share": ("same_day_share", "number"),
}
#: Figures of one station: metric -> field of a station in the summary. Without a station, the largest
#: over the stations of each replication (the busiest station: for utilisation, the bottleneck).
STATION_METRICS: dict[str, str] = {"utilization": "utilization", "peak_utilization": "peak_utilization",
                                   "mean_queue": "mean_queue"}
#: Targets an analytically unstable network fails without simulating (overload only raises them).
OVERLOAD_FAILS = frozenset({"latency_mean", "latency_p50", "latency_p95", "latency_p99", "utilization",
                            "peak_utilization", "mean_queue", "dropped_share"})
#: Figures the analytic module predicts (:func:`analytic_value`): the search starts around their crossing.
ANALYTIC_METRICS = frozenset({"utilization", "peak_utilization", "mean_queue", "latency_mean"})
#: Load figures without an analytic prediction: the search starts around the analytic saturation instead.
SATURATION_GUIDED = frozenset({"latency_p50", "latency_p95", "latency_p99", "dropped_share", "same_day_share"})
#: Where the search starts around a predicted value v: (low, high) factors of v, for the largest and the
#: smallest value (mirrored: the conservative reading errs below the prediction for the largest, above it
#: for the smallest).
SPREAD: dict[str, tuple[float, float]] = {"largest": (0.5, 1.2), "smallest": (1 / 1.2, 2.0)}
#: Latency percentiles the fluid model estimates (:func:`~simulator.analytic.fluid_latency_quantile`), with a
#: working calendar: the search starts around the value at which the estimate reaches the bound.
FLUID_QUANTILES: dict[str, float] = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}
#: Where the search starts around a fluid estimate v: (low, high) factors of v, for the largest value, mirrored
#: for the smallest. The estimate is rougher than the analytic figures (on the national scenario about 20 % below
#: the simulated answer) but closer than saturation, which lies at a third of it there.
FLUID_SPREAD: dict[str, tuple[float, float]] = {"largest": (0.8, 1.25), "smallest": (0.8, 1.25)}
#: Replications of an exploratory evaluation: the search brackets and narrows with them, then confirms the
#: final bracket with the full count (see :func:`search`).
EXPLORE_REPLICATIONS = 1
#: When a confirmed end of the explored bracket turns out on the other side, the search steps away from it by
#: this multiple of the tolerance (then twice as far, and so on) instead of doubling or halving.
CONFIRM_GROWTH = 4.0
#: Simulated evaluations a search makes at most, unless told otherwise.
DEFAULT_MAX_EVALUATIONS = 14
#: Values an analytically unstable network fails without being simulated cost nothing: a search evaluates
#: up to this many of them besides its simulated ones.
FREE_EVALUATIONS = 10
#: Analytic evaluations (a fraction of a second each) to find the predicted value, and their precision.
ANALYTIC_EVALUATIONS = 40
ANALYTIC_TOLERANCE = 1e-3
#: Figures that grow like 1 / (1 - utilisation) near saturation (M/M/1: W = 1 / (mu - lambda)): narrowing
#: interpolates their reciprocal, which is linear in the load for M/M/1 and close to it for networks.
RECIPROCAL_METRICS = frozenset({"latency_mean", "latency_p50", "latency_p95", "latency_p99", "mean_queue"})
#: An interpolated step aims this share of the tolerance past the interpolated crossing: two such steps,
#: one on each side, leave a bracket of half the tolerance, with room for the crossing to move between them.
#: A step that lands on the unexpected side (noise in the interval's edge) doubles the aim past the crossing
#: for the next one; after :data:`ESCALATIONS` such steps in a row, the next step bisects.
STRADDLE = 0.25
ESCALATIONS = 3
_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=)\s*(\S+)\s*$")

Direction = Literal["largest", "smallest"]
Verdict = Literal["meets", "fails", "uncertain"]
Stage = Literal["explore", "confirm"]
Reason = Literal["converged", "budget", "none_met", "all_met"]


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A figure, a comparison and a bound.

    Attributes
    ----------
    metric : str
        A key of :data:`METRICS`.
    operator : {"<=", ">="}
    bound : float
        In SI units (seconds for latencies).
    unit : str
        The unit the bound was written in (``"h"`` for ``4h``; ``"s"`` for a
        latency given as a bare number); ``""`` for figures without a unit.
        Reports state the figure in it.
    station : str, optional
        The station a station figure (:data:`STATION_METRICS`) is read at;
        ``None``: the busiest station of each replication.
    """

    metric: str
    operator: Literal["<=", ">="]
    bound: float
    unit: str = ""
    station: str | None = None

    def __str__(self) -> str:
        if self.unit:
            bound = f"{self.in_unit(self.bound):g}{self.unit}"
        else:
            bound = f"{self.bound:g}"
        return f"{self.metric} {self.operator} {bound}" + (f" at {self.station}" if self.station else "")

    def in_unit(self, value: float) -> float:
        """A figure (SI) in the target's unit."""
        return value / DURATION_UNITS[self.unit] if self.unit else value

    def format(self, value: float) -> str:
        """A figure (SI) as text in the target's unit: ``'4.2 h'``, ``'0.7834'``."""
        if self.unit:
            return format_duration_in(value, self.unit)
        return f"{value:.4g}"

    def meets(self, value: float) -> bool:
        """Whether a value of the figure is on the right side of the bound."""
        return value <= self.bound if self.operator == "<=" else value >= self.bound

    def at(self, station: str | None) -> Target:
        """The same target read at one station.

        Raises
        ------
        ValueError
            If the metric is not a station figure.
        """
        if station is not None and self.metric not in STATION_METRICS:
            raise ValueError(f"applies only to a station figure ({', '.join(STATION_METRICS)}), "
                             f"not to {self.metric}")
        return replace(self, station=station)

    def to_dict(self) -> dict[str, Any]:
        """The target for ``capacity.json``: the bound in the target's unit, named."""
        return {"text": str(self), "metric": self.metric, "operator": self.operator,
                "bound": self.in_unit(self.bound), "unit": self.unit, "station": self.station,
                "station_rule": (None if self.metric not in STATION_METRICS else
                                 "the given station" if self.station else "the busiest station of each replication")}


def parse_target(text: str) -> Target:
    """Parse ``"latency_p95 <= 4h"`` and the like.

    Parameters
    ----------
    text : str
        ``METRIC <= VALUE`` or ``METRIC >= VALUE``: a metric of
        :data:`METRICS`, the bound in the metric's unit (a duration such as
        ``4h`` for a latency, a number for a utilisation or a share).

    Returns
    -------
    Target
        The target, for the busiest station; ``Target.at(station)`` moves it
        to one station.

    Raises
    ------
    ValueError
        If the text is not ``METRIC <=|>= VALUE`` with a known metric.

    Examples
    --------
    >>> parse_target("latency_p95 <= 4h")
    Target(metric='latency_p95', operator='<=', bound=14400.0, unit='h', station=None)
    >>> str(parse_target("utilization<=0.8"))
    'utilization <= 0.8'
    """
    match = _TARGET.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a target; write METRIC <= VALUE or METRIC >= VALUE, e.g. \"latency_p95 <= 4h\"")
    metric, operator, value = match.groups()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    if METRICS[metric][1] == "duration":
        return Target(metric, operator, parse_duration(value), duration_unit(value))  # type: ignore[arg-type]
    try:
        bound = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number for {metric}") from None
    if not math.isfinite(bound):
        raise ValueError(f"the bound of {metric} must be a finite number, not {value!r}")
    return Target(metric, operator, bound)  # type: ignore[arg-type]


def _nearest(name: str, candidates: list[str], count: int = 3) -> list[str]:
    """The ``count`` candidates most like ``name`` (an id with or without its ``kind:`` prefix)."""
    def likeness(candidate: str) -> float:
        tail = candidate.split(":", 1)[-1]
        return max(difflib.SequenceMatcher(None, name, candidate).ratio(), difflib.SequenceMatcher(None, name, tail).ratio())

    return sorted(candidates, key=lambda candidate: (-likeness(candidate), candidate))[:count]


def check_station(scenario: Scenario, station: str, option: str = "--station") -> None:
    """Refuse a station id the scenario does not model.

    Parameters
    ----------
    scenario : Scenario
        The scenario searched.
    station : str
        The station id to check.
    option : str, optional
        The option the id came from, for the message.

    Raises
    ------
    ScenarioError
        Naming the id and the nearest valid ids (``hub``, ``platform:<id>``,
        ``agency:<id>``, as in ``stations.csv``).
    """
    ids = list(build_topology(scenario).station_index)
    if station in ids:
        return
    nearest = ", ".join(_nearest(station, ids))
    raise ScenarioError.single(scenario.source, option, station,
                               f"is not a station of this scenario; nearest ids: {nearest} "
                               "(ids as in stations.csv: hub, platform:<agency id>, agency:<agency id>)")


def parameter_unit(path: str) -> str:
    """The unit a searched value is stated in: ``x`` for the traffic multiplier, ``servers``, else none.

    Parameters
    ----------
    path : str
        Dotted key path of the searched parameter.

    Returns
    -------
    str
        ``"x"``, ``"servers"`` or ``""``.

    Examples
    --------
    >>> parameter_unit("traffic.multiplier"), parameter_unit("network.hub.servers"), parameter_unit("kinds.a.weight")
    ('x', 'servers', '')
    """
    last = path.rsplit(".", 1)[-1]
    return {"multiplier": "x", "servers": "servers"}.get(last, "")


# --------------------------------------------------------------------------- results


def _finite(value: float | None) -> float | None:
    """JSON-safe: a non-finite figure becomes ``None``."""
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Evaluation:
    """One evaluated parameter value.

    ``mean``, ``low`` and ``high`` are the figure's mean over replications and
    its 95 % interval, in SI units (with one replication the interval is the
    value itself); ``simulated`` is false for a value not simulated because
    its network is analytically unstable (figures ``inf``); ``replications``
    is how many the figures come from (0 when not simulated); ``stage`` is
    ``"explore"`` for an exploratory evaluation (:data:`EXPLORE_REPLICATIONS`)
    and ``"confirm"`` for one with the search's full count, whose verdicts
    alone make the answer.
    """

    value: float
    mean: float
    low: float
    high: float
    verdict: Verdict
    simulated: bool = True
    replications: int = 0
    stage: Stage = "confirm"

    def to_dict(self, target: Target) -> dict[str, Any]:
        """The evaluation for ``capacity.json``, its figures in ``target``'s unit (``None`` when not finite)."""
        return {"value": self.value, "verdict": self.verdict, "simulated": self.simulated,
                "mean": _finite(target.in_unit(self.mean)),
                "ci95": [_finite(target.in_unit(self.low)), _finite(target.in_unit(self.high))],
                "unit": target.unit, "replications": self.replications, "stage": self.stage}


@dataclass(frozen=True)
class Bracket:
    """Where a search starts: the two values tried first, and why.

    Attributes
    ----------
    low, high : float
        The values (``low <= high``; equal when the search starts from one
        value and widens by doubling or halving).
    source : {"analytic", "fluid", "saturation", "start", "scenario"}
        The analytic prediction of the target's figure, the fluid estimate
        of a latency percentile (:data:`FLUID_QUANTILES`), the analytic
        saturation of the bottleneck, ``start`` as given, or the scenario's
        value.
    basis : str
        One sentence saying where the bracket comes from.
    predicted : float, optional
        The predicted value the bracket is spread around.
    """

    low: float
    high: float
    source: Literal["analytic", "fluid", "saturation", "start", "scenario"]
    basis: str
    predicted: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The bracket for ``capacity.json``."""
        return {"low": self.low, "high": self.high, "source": self.source, "basis": self.basis,
                "predicted": _finite(self.predicted)}


#: Why a search stopped, in words.
REASONS: dict[str, str] = {
    "converged": "the bracket narrowed to the tolerance",
    "budget": "the evaluations ran out before the bracket narrowed to the tolerance",
    "none_met": "no value tried met the target",
    "all_met": "every value tried met the target",
}


@dataclass(frozen=True)
class CapacityResult:
    """The answer of :func:`search`.

    ``best`` is the extreme value that met the target (``None`` if none
    did); ``limit`` the nearest value that did not, so the answer lies between
    them; ``evaluations`` every run made, in order; ``bracket`` where the
    search started; ``reason`` why it stopped (a key of :data:`REASONS`),
    ``note`` the same in words with the values concerned (empty when the
    bracket narrowed to the tolerance); ``exhausted`` whether it stopped
    because the evaluations ran out (``max_evaluations`` simulated, or
    :data:`FREE_EVALUATIONS` more not simulated). ``best`` comes from an
    evaluation with the full ``replications`` (stage ``"confirm"``);
    ``limit`` from the last evaluation of that value, which may be
    exploratory (see :func:`search`); ``explore_replications`` is the count
    of the exploratory ones (``None``: the search did not explore, every
    evaluation had ``replications``).
    """

    path: str
    target: Target
    direction: Direction
    best: float | None
    limit: float | None
    evaluations: tuple[Evaluation, ...]
    note: str = ""
    reason: Reason = "converged"
    bracket: Bracket | None = None
    unit: str = ""
    scenario_name: str = ""
    replications: int = 3
    seed: int | None = None
    tolerance: float = 0.02
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS
    exhausted: bool = False
    scenario: Scenario | None = field(default=None, repr=False, compare=False)
    explore_replications: int | None = None

    @property
    def answer(self) -> Evaluation | None:
        """The evaluation of ``best`` (``None`` when no value met the target)."""
        return self._last(self.best)

    @property
    def limiting(self) -> Evaluation | None:
        """The evaluation of ``limit`` (``None`` when every value tried met the target)."""
        return self._last(self.limit)

    def _last(self, value: float | None) -> Evaluation | None:
        return None if value is None else next((e for e in reversed(self.evaluations) if e.value == value), None)

    def format_value(self, value: float) -> str:
        """A parameter value with its unit: ``'10.26x'``, ``'3 servers'``, ``'0.25'``."""
        if self.unit == "x":
            return f"{value:.4g}x"
        return f"{value:.4g}" + (f" {self.unit}" if self.unit else "")

    def to_dict(self) -> dict[str, Any]:
        """Everything ``capacity.json`` holds, JSON-ready (figures in the target's unit, ``None`` when not finite)."""
        answer, limiting = self.answer, self.limiting
        return {
            "scenario": self.scenario_name,
            "version": __version__,
            "parameter": {"path": self.path, "unit": self.unit},
            "direction": self.direction,
            "target": self.target.to_dict(),
            "answer": None if answer is None else {
                "value": self.best, "unit": self.unit,
                "interval": None if self.limit is None else sorted([self.best, self.limit]),
                "limit": self.limit, "figure": answer.to_dict(self.target),
                "limit_figure": None if limiting is None else limiting.to_dict(self.target)},
            "reason": self.reason,
            "note": self.note,
            "exhausted": self.exhausted,
            "bracket": None if self.bracket is None else self.bracket.to_dict(),
            "evaluations": [e.to_dict(self.target) for e in self.evaluations],
            "settings": {"replications": self.replications, "seed": self.seed, "tolerance": self.tolerance,
                         "max_evaluations": self.max_evaluations, "confidence": 0.95,
                         "explore_replications": (self.replications if self.explore_replications is None
                                                  else self.explore_replications)},
        }

    def save(self, folder: str | Path) -> Path:
        """Write the result folder atomically and return its path.

        ``capacity.json`` (:meth:`to_dict`) and, when the result holds it,
        ``scenario.toml`` (the scenario searched, overrides applied) are
        written into a hidden temporary sibling folder, which then replaces
        ``folder`` (an earlier capacity result) by renames: a kill leaves the
        earlier folder or the new one, never half of one.

        Raises
        ------
        ExperimentError
            If ``folder`` is a file, or a non-empty folder holding no earlier
            capacity result; nothing is written.
        OSError
            If writing fails (a full disk); the temporary folder is removed.
        """
        target = Path(folder)
        with staged_folder(target, "capacity") as temporary:
            write_text(temporary / "capacity.json", json.dumps(self.to_dict(), indent=2, ensure_ascii=False,
                                                               allow_nan=False) + "\n")
            if self.scenario is not None:
                write_text(temporary / "scenario.toml", dump_scenario(self.scenario))
        return target


# --------------------------------------------------------------------------- figures


def _station_value(stations: list[dict[str, Any]], name: str, station: str | None) -> float:
    """A station figure at ``station``, or the largest over the stations (NaN when there is none)."""
    if station is not None:
        value = next((s.get(name) for s in stations if s.get("id") == station), None)
        return float(value) if isinstance(value, (int, float)) else math.nan
    values = [float(s[name]) for s in stations if isinstance(s.get(name), (int, float)) and math.isfinite(s[name])]
    return max(values) if values else math.nan


def _value(summary: dict[str, Any], target: Target) -> float:
    """The target's figure in one replication's summary (SI units)."""
    if target.metric in STATION_METRICS:
        return _station_value(summary["stations"], STATION_METRICS[target.metric], target.station)
    if target.metric == "dropped_share":
        generated = summary["documents"]["electronic"]
        return summary["documents"]["dropped"] / generated if generated else math.nan
    return figure(summary, METRICS[target.metric][0])


def _predicted_station(prediction: Prediction, topology: Topology, station: str | None, key: Callable[[Any], float]) -> Any:
    """The predicted station a station figure is read at: ``station``, or the one with the largest figure."""
    if station is not None:
        index = topology.station_index.get(station)
        return None if index is None else prediction.stations[index]
    return max(prediction.stations, key=key, default=None)


def analytic_value(prediction: Prediction, topology: Topology, target: Target) -> float | None:
    """The analytic prediction of the target's figure (SI units); ``None`` when the analytic module offers none.

    ``utilization`` is the average over the horizon, ``peak_utilization`` the
    load in open hours, ``mean_queue`` Little's :math:`\\lambda W_q`,
    ``latency_mean`` the mean end-to-end latency of an electronic copy.
    """
    figures: dict[str, Callable[[Any], float]] = {
        "utilization": lambda s: s.utilization,
        "peak_utilization": lambda s: s.peak_utilization,
        "mean_queue": lambda s: s.arrival_rate * s.mean_wait if s.stable else math.inf,
    }
    if target.metric in figures:
        read = figures[target.metric]
        station = _predicted_station(prediction, topology, target.station, read)
        return None if station is None else float(read(station))
    if target.metric == "latency_mean":
        return float(prediction.latency_mean)
    return None


# --------------------------------------------------------------------------- the search


def _current(scenario: Scenario, path: str) -> Any:
    value: Any = scenario.model_dump(mode="python")
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _first_value(scenario: Scenario, path: str, start: float | None) -> tuple[float, bool]:
    """The value a search starts from (the scenario's unless ``start``) and whether the key is an integer.

    Raises
    ------
    ScenarioError
        If ``path`` is not a numeric key of the scenario.
    """
    current = _current(scenario, path)
    value = current if start is None else start
    if isinstance(value, bool) or not isinstance(value, (int, float)) or isinstance(current, bool) or not isinstance(
            current, (int, float)):
        raise ScenarioError.single(scenario.source, path, current, "is not a numeric scenario key to search over")
    integer = isinstance(current, int) and float(value).is_integer()
    return (float(value) if value else 1.0), integer


@dataclass(frozen=True)
class _Pair:
    """Two values a narrowing step runs at once (the second evaluated only if still inside), and whether the
    first was interpolated."""

    first: float
    second: float
    interpolated: bool


class _Search:
    """Bracketing and narrowing over one monotone verdict (the engine of :func:`search` and of the analytic guess).

    ``evaluate(value)`` returns an :class:`Evaluation`; values meeting the
    target lie below the answer when ``direction`` is ``largest``, above it
    when ``smallest``. ``growth``: widen by ``1 + growth``, then
    ``1 + 2 growth``, ``1 + 4 growth``... times the end instead of doubling
    or halving (for a bracket known to be near). ``prefetch(values)`` is told
    both ends of a bracket before the first is tried (to run them at once).
    ``spent``: evaluations made before this engine's, counted in its budget
    (all of them) and its simulated evaluations.
    """

    def __init__(self, evaluate: Callable[[float], Evaluation], target: Target, direction: Direction,
                 integer: bool, tolerance: float, max_evaluations: int, free: int = 0, *,
                 growth: float | None = None, prefetch: Callable[[list[float]], None] | None = None,
                 spent: tuple[Evaluation, ...] = ()):
        self.evaluate = evaluate
        self.target = target
        self.up = direction == "largest"
        self.integer = integer
        self.tolerance = tolerance
        self.max_evaluations = max_evaluations
        self.free = free
        self.growth = growth
        self.prefetch = prefetch
        self.spent = spent
        self.evaluations: list[Evaluation] = []
        self.ok: Evaluation | None = None
        self.bad: Evaluation | None = None
        self.misses = 0  # interpolated steps in a row that did not halve the bracket
        self.widenings = 0

    # -- bookkeeping

    def _settle(self, value: float) -> float:
        """An integer key's values are whole numbers, at least 1."""
        return max(1.0, float(round(value))) if self.integer else value

    def _try(self, value: float) -> Evaluation:
        evaluation = self.evaluate(value)
        self.evaluations.append(evaluation)
        if evaluation.verdict == "meets":
            self.ok = evaluation
        else:
            self.bad = evaluation
        return evaluation

    def simulated(self) -> int:
        """Evaluations that were simulated (``spent`` included)."""
        return sum(e.simulated for e in (*self.spent, *self.evaluations))

    def budget(self) -> bool:
        """Whether another evaluation may be made: ``max_evaluations`` simulated, ``free`` more that were not."""
        made = len(self.spent) + len(self.evaluations)
        return self.simulated() < self.max_evaluations and made < self.max_evaluations + self.free

    def _tried(self, value: float) -> bool:
        return any(e.value == value for e in self.evaluations)

    # -- bracketing

    def bracket(self, low: float, high: float) -> None:
        """Try the end expected to meet the target, then (if it does) the other; widen until they bracket it."""
        first, second = (low, high) if self.up else (high, low)
        ends = list(dict.fromkeys([self._settle(first), self._settle(second)]))
        if self.prefetch is not None and self.simulated() + len(ends) <= self.max_evaluations:
            self.prefetch(ends)
        for value in ends:
            if not self.budget():
                return
            if self._try(value).verdict != "meets":
                break  # monotone: the other end does not meet it either
        while (self.ok is None or self.bad is None) and self.budget():
            value = self._settle(self._widened())
            if self._tried(value):
                return  # an integer key at its smallest value
            self._try(value)

    def _widened(self) -> float:
        factor = 2.0 if self.growth is None else 1.0 + self.growth * 2 ** self.widenings
        self.widenings += 1
        end = self.ok if self.ok is not None else self.bad
        assert end is not None
        outward = (self.ok is not None) == self.up  # toward larger values
        value = end.value * factor if outward else end.value / factor
        if self.integer:  # at least one whole step
            value = max(value, end.value + 1) if outward else min(value, end.value - 1)
        return value

    # -- narrowing

    def narrow(self) -> None:
        """Narrow a bracket to the tolerance (integers: to neighbours) within the budget.

        A non-integer key is narrowed two values at a time while the budget has room for both (see
        :meth:`_next_pair`); an integer key, or the last evaluation of the budget, one at a time.
        """
        while self.ok is not None and self.bad is not None and not self.narrow_enough() and self.budget():
            width = abs(self.bad.value - self.ok.value)
            pair = self._next_pair() if self._room(2) else None
            if pair is not None:
                self._try_pair(pair)
                interpolated = pair.interpolated
            else:
                point, interpolated = self._next_point()
                if point is None:
                    return
                self._try(point)
            shrunk = abs(self.bad.value - self.ok.value) <= width / 2
            self.misses = self.misses + 1 if interpolated and not shrunk else 0

    def _room(self, evaluations: int) -> bool:
        """Whether the budget has room for ``evaluations`` more simulated evaluations."""
        return self.budget() and self.simulated() + evaluations <= self.max_evaluations

    def _try_pair(self, pair: _Pair) -> None:
        """Evaluate the two values of a step, run at once: the first, then the second if it is still inside.

        The second is evaluated only when the first's verdict leaves it strictly inside the bracket (monotone:
        otherwise its verdict is known); its runs, made beside the first's, stay for a later evaluation of
        that value. A search without ``prefetch`` (or on one process) runs the second only when it is
        evaluated: the evaluations recorded are the same serially or in parallel.
        """
        if self.prefetch is not None:
            self.prefetch([pair.first, pair.second])
        self._try(pair.first)
        assert self.ok is not None and self.bad is not None
        if min(self.ok.value, self.bad.value) < pair.second < max(self.ok.value, self.bad.value):
            self._try(pair.second)

    def narrow_enough(self) -> bool:
        assert self.ok is not None and self.bad is not None
        gap = abs(self.bad.value - self.ok.value)
        if self.integer:
            return gap <= 1
        return gap <= self.tolerance * max(abs(self.ok.value), abs(self.bad.value))

    def _scaled(self, figure_value: float) -> float:
        """A figure on the scale it is interpolated on: its reciprocal for :data:`RECIPROCAL_METRICS`
        (an unstable value's ``inf`` becomes 0), else itself."""
        if self.target.metric not in RECIPROCAL_METRICS:
            return figure_value
        return 1.0 / figure_value if figure_value > 0 else math.nan

    def _edge(self, evaluation: Evaluation) -> float:
        """The end of the interval that decides the verdict (the top for ``<=``, the bottom for ``>=``), scaled."""
        return self._scaled(evaluation.high if self.target.operator == "<=" else evaluation.low)

    def crossing(self) -> float | None:
        """Where the decisive edge crosses the bound, interpolated linearly (on its scale) between the bracket's ends."""
        assert self.ok is not None and self.bad is not None
        good, poor, bound = self._edge(self.ok), self._edge(self.bad), self._scaled(self.target.bound)
        if not all(math.isfinite(v) for v in (good, poor, bound)) or good == poor:
            return None
        share = (bound - good) / (poor - good)
        return self.ok.value + share * (self.bad.value - self.ok.value) if 0 <= share <= 1 else None

    def _next_point(self) -> tuple[float | None, bool]:
        """The next value to try strictly inside the bracket, and whether it was interpolated."""
        assert self.ok is not None and self.bad is not None
        ok, bad = self.ok.value, self.bad.value
        low, high = min(ok, bad), max(ok, bad)
        crossing = self.crossing() if self.misses < ESCALATIONS else None
        if crossing is None:
            point = (ok + bad) / 2
        else:  # just past the crossing, on the side of the end farther from it: the verdict replaces that end
            farther = bad if abs(bad - crossing) >= abs(crossing - ok) else ok
            aim = STRADDLE * self.tolerance * abs(crossing) * 2 ** self.misses
            point = crossing + math.copysign(aim, farther - crossing)
            margin = 0.02 * (high - low)
            point = min(max(point, low + margin), high - margin)
        if self.integer:
            point = float(math.floor(point) if self.up else math.ceil(point))
            point = min(max(point, low + 1), high - 1)
            if not low < point < high:
                return None, False
        return point, crossing is not None

    def _next_pair(self) -> _Pair | None:
        """Two values to try at once strictly inside the bracket, or ``None`` (an integer key, or nothing left).

        The first is the value one step would try (:meth:`_next_point`: just past the interpolated crossing,
        towards the end farther from it). The second is the value the step after would try if the first
        landed as expected and the crossing stayed where it is: as far past the crossing on the other side
        (both landing as expected close the bracket to half the tolerance in one step instead of two). After
        a step that did not halve the bracket (the interpolation is off), or without an interpolated crossing,
        it is halfway between the first and the farther end instead: it halves what a miss would leave.
        """
        assert self.ok is not None and self.bad is not None
        if self.integer:
            return None
        first, interpolated = self._next_point()
        if first is None:
            return None
        ok, bad = self.ok.value, self.bad.value
        crossing = self.crossing() if interpolated else None
        if crossing is not None and self.misses == 0:
            low, high = min(ok, bad), max(ok, bad)
            margin = 0.02 * (high - low)
            second = min(max(2 * crossing - first, low + margin), high - margin)
        else:
            farther = bad if abs(bad - first) >= abs(first - ok) else ok
            second = (first + farther) / 2
        if second == first:
            return None
        return _Pair(first, second, interpolated)

    # -- outcome

    def reason(self) -> Reason:
        if self.ok is None:
            return "none_met"
        if self.bad is None:
            return "all_met"
        return "converged" if self.narrow_enough() else "budget"

    def note(self) -> str:
        values = [e.value for e in self.evaluations]
        reason = self.reason()
        if reason == "converged":
            return ""
        if reason == "budget":
            return f"{REASONS[reason]} ({self.tolerance:g}) after {self.simulated()} simulated evaluations"
        toward_failure = reason == "all_met" and self.up or reason == "none_met" and not self.up
        extreme = max(values) if toward_failure else min(values)
        floor = " (an integer key is searched down to 1)" if self.integer and extreme == 1 and not toward_failure else ""
        return f"{REASONS[reason]}, {'up' if toward_failure else 'down'} to {extreme:.4g}{floor}"


class _Runs:
    """Simulated evaluations of one search, keeping every replication run: a value evaluated again with more
    replications runs only the ones it lacks (replication ``r`` of a value is the same whenever it runs), and
    several values can run at once on ``jobs`` processes."""

    def __init__(self, scenario: Scenario, path: str, target: Target, integer: bool, seed: int, jobs: int,
                 limits: Limits | None):
        self.scenario, self.path, self.target, self.integer = scenario, path, target, integer
        self.seed, self.jobs, self.limits = seed, jobs, limits
        self.summaries: dict[float, dict[int, dict[str, Any]]] = {}
        self.variants: dict[float, Scenario] = {}
        self.refused: set[float] = set()  # values whose network is unstable: not simulated

    def _setting(self, value: float) -> int | float:
        return int(round(value)) if self.integer else float(value)

    def _variant(self, value: float) -> Scenario:
        key = float(self._setting(value))
        if key not in self.variants:
            self.variants[key] = apply_parameters(self.scenario, {self.path: self._setting(value)}, where="--param")
        return self.variants[key]

    def _missing(self, value: float, replications: int) -> list[tuple[Scenario, int]]:
        have = self.summaries.get(float(self._setting(value)), {})
        return [(self._variant(value), r) for r in range(replications) if r not in have]

    def _run(self, tasks: list[tuple[Scenario, int]]) -> None:
        keys = {id(variant): key for key, variant in self.variants.items()}
        for (variant, r), summary in zip(tasks, replication_summaries(tasks, self.seed, self.jobs, self.limits)):
            self.summaries.setdefault(keys[id(variant)], {})[r] = summary

    def prefetch(self, values: list[float], replications: int) -> None:
        """Run the replications several values lack, all at once (nothing when one of them is refused: each
        is then run, or refused, when evaluated)."""
        tasks = [task for value in values if float(self._setting(value)) not in self.refused
                 for task in self._missing(value, replications)]
        if self.jobs == 1 or len(tasks) < 2:
            return
        try:
            self._run(tasks)
        except WorkloadError:
            return

    def evaluate(self, value: float, replications: int, stage: Stage) -> Evaluation:
        """The target's figure at ``value`` over replications ``0 .. replications - 1`` and its 95 % interval."""
        setting = self._setting(value)
        target = self.target
        try:
            self._run(self._missing(value, replications))
        except WorkloadError as refused:
            if not (refused.unstable_only and target.metric in OVERLOAD_FAILS and target.operator == "<="):
                raise
            # not simulated: overload can only push the figure up
            self.refused.add(float(setting))
            return Evaluation(float(setting), math.inf, math.inf, math.inf, "fails", simulated=False, stage=stage)
        runs = self.summaries[float(setting)]
        values = [_value(runs[r], target) for r in range(replications)]
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
        low, high = confidence_interval(values) if replications > 1 else (mean, mean)
        verdict: Verdict = ("meets" if target.meets(low) and target.meets(high) else
                            "fails" if not target.meets(low) and not target.meets(high) else "uncertain")
        return Evaluation(float(setting), mean, low, high, verdict, replications=replications, stage=stage)


def _analytic_evaluation(scenario: Scenario, path: str, target: Target, integer: bool) -> Callable[[float], Evaluation]:
    """Evaluate a value by the analytic prediction (no interval: the figure itself)."""
    def evaluate(value: float) -> Evaluation:
        setting = int(round(value)) if integer else float(value)
        variant = apply_parameters(scenario, {path: setting}, where="--param")
        topology = build_topology(variant)
        if target.metric in FLUID_QUANTILES:
            predicted: float | None = fluid_latency_quantile(variant, topology, FLUID_QUANTILES[target.metric])
        else:
            predicted = analytic_value(predict(variant, topology), topology, target)
        figure_value = math.nan if predicted is None else predicted
        return Evaluation(float(setting), figure_value, figure_value, figure_value,
                          "meets" if target.meets(figure_value) else "fails", simulated=False)

    return evaluate


def _predicted_value(scenario: Scenario, path: str, target: Target, direction: Direction, value: float,
                     integer: bool) -> float | None:
    """Where the analytic figure reaches the bound, searched from ``value`` (``None`` when it is not found).

    For an integer key, the extreme value whose figure meets the target; otherwise the crossing
    interpolated in the final analytic bracket (exact for a figure linear in the key), or its middle.
    """
    engine = _Search(_analytic_evaluation(scenario, path, target, integer), target, direction, integer,
                     ANALYTIC_TOLERANCE, ANALYTIC_EVALUATIONS)
    try:
        engine.bracket(value, value)
        engine.narrow()
    except ScenarioError:  # a value the scenario cannot take (or a network that cannot be built): no guess
        return None
    if engine.ok is None or engine.bad is None:
        return None
    if integer:
        return engine.ok.value
    crossing = engine.crossing()
    return (engine.ok.value + engine.bad.value) / 2 if crossing is None else crossing


def _spread(predicted: float, direction: Direction, integer: bool,
            spread: dict[str, tuple[float, float]] = SPREAD) -> tuple[float, float]:
    """The two values tried first around a predicted one (:data:`SPREAD`, or ``spread``); integers a step apart at least."""
    below, above = spread[direction]
    low, high = predicted * below, predicted * above
    if integer:
        low = max(1.0, float(math.floor(low)))
        high = max(low + 1, float(math.ceil(high)))
    return low, high


def initial_bracket(scenario: Scenario, path: str, target: Target, *, direction: Direction = "largest",
                    start: float | None = None) -> Bracket:
    """Where :func:`search` starts: around the analytic prediction when there is one.

    Parameters
    ----------
    scenario : Scenario
    path : str
        The numeric key searched.
    target : Target
    direction : {"largest", "smallest"}
    start : float, optional
        Start from this value instead (doubling or halving from it).

    Returns
    -------
    Bracket

    Raises
    ------
    ScenarioError
        If ``path`` is not a numeric key of the scenario.
    """
    value, integer = _first_value(scenario, path, start)
    if start is not None:
        return Bracket(value, value, "start", f"--start {value:g}, doubling or halving from it")
    if target.metric in ANALYTIC_METRICS:
        predicted = _predicted_value(scenario, path, target, direction, value, integer)
        if predicted is not None:
            return Bracket(*_spread(predicted, direction, integer), "analytic",
                           f"the analytic prediction of {target.metric} reaches {target.format(target.bound)} "
                           f"at {path} = {predicted:.4g}", predicted)
    if target.metric in FLUID_QUANTILES and scenario.calendar is not None and target.operator == "<=":
        predicted = _predicted_value(scenario, path, target, direction, value, integer)
        if predicted is not None:
            return Bracket(*_spread(predicted, direction, integer, FLUID_SPREAD), "fluid",
                           f"the fluid estimate of {target.metric} (the backlog built in office hours) reaches "
                           f"{target.format(target.bound)} at {path} = {predicted:.4g}", predicted)
    if target.metric in SATURATION_GUIDED | OVERLOAD_FAILS:
        saturation = Target("peak_utilization", "<=", 1.0)
        predicted = _predicted_value(scenario, path, saturation, direction, value, integer)
        if predicted is not None:
            return Bracket(*_spread(predicted, direction, integer), "saturation",
                           f"the analytic module predicts no {target.metric}; the bottleneck's open-hours "
                           f"utilisation reaches 1 at {path} = {predicted:.4g}", predicted)
    return Bracket(value, value, "scenario", f"no analytic prediction for {target.metric}: the scenario's value "
                                             f"{value:g}, doubling or halving from it")


def search(scenario: Scenario, path: str, target: Target, *, direction: Direction = "largest",
           start: float | None = None, replications: int = 3, seed: int | None = None, jobs: int = 1,
           tolerance: float = 0.02, max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
           progress: Callable[[Evaluation], None] | None = None, limits: Limits | None = None,
           bracket: Bracket | None = None) -> CapacityResult:
    """Find the largest (or smallest) value of ``path`` whose runs meet ``target``.

    Parameters
    ----------
    scenario : Scenario
    path : str
        A numeric scenario key (``traffic.multiplier``, ``network.hub.servers``).
    target : Target
        With ``target.station`` set, a station figure is read at that station
        (check it first with :func:`check_station`).
    direction : {"largest", "smallest"}
        ``largest``: the most load that still meets the target;
        ``smallest``: the least capacity that meets it.
    start : float, optional
        First value tried, doubling or halving from it (default: around the
        analytic prediction, see :func:`initial_bracket`).
    replications, seed, jobs
        As for :func:`simulator.run`: ``replications`` per evaluation that
        decides (exploratory ones have :data:`EXPLORE_REPLICATIONS`, see
        above); values evaluated together run at once on ``jobs`` processes.
    tolerance : float
        Relative width at which narrowing stops (integers stop at one step).
    max_evaluations : int
        Simulated evaluations at most (values not simulated because their
        network is unstable cost nothing: :data:`FREE_EVALUATIONS` more).
    progress : callable, optional
        Called with each :class:`Evaluation`.
    limits : Limits, optional
        What each evaluation may spend (see :func:`simulator.run`). A value
        whose network is analytically unstable is not simulated (unless
        ``limits.allow_unstable``): it fails a target that overload can
        only worsen (latency, utilisation, queue, dropped share) and stops
        the search with the refusal otherwise.
    bracket : Bracket, optional
        Where to start, from :func:`initial_bracket` (computed here when not
        given).

    Returns
    -------
    CapacityResult

    Raises
    ------
    ScenarioError
        If ``path`` is not a numeric key of the scenario.
    ExperimentError
        If ``max_evaluations`` is not a positive integer or ``tolerance`` not between 0 and 1.
    """
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int) or max_evaluations < 1:
        raise ExperimentError(f"max_evaluations = {max_evaluations!r}: must be a positive integer")
    if not 0 < tolerance < 1:
        raise ExperimentError(f"tolerance = {tolerance!r}: must be between 0 and 1")
    _, integer = _first_value(scenario, path, start)
    bracket = initial_bracket(scenario, path, target, direction=direction, start=start) if bracket is None else bracket
    seed = scenario.run.seed if seed is None else seed
    runs = _Runs(scenario, path, target, integer, seed, jobs, limits)

    def evaluator(replications_used: int, stage: Stage) -> Callable[[float], Evaluation]:
        def evaluate(value: float) -> Evaluation:
            evaluation = runs.evaluate(value, replications_used, stage)
            if progress is not None:
                progress(evaluation)
            return evaluation
        return evaluate

    explore = _explores(bracket, replications, max_evaluations)
    first = _Search(evaluator(EXPLORE_REPLICATIONS if explore else replications, "explore" if explore else "confirm"),
                    target, direction, integer, tolerance, max_evaluations - 2 if explore else max_evaluations,
                    FREE_EVALUATIONS, prefetch=lambda values: runs.prefetch(values, EXPLORE_REPLICATIONS if explore
                                                                           else replications))
    first.bracket(bracket.low, bracket.high)
    first.narrow()
    engine = first
    if explore:
        engine = _confirm(first, evaluator(replications, "confirm"), runs, replications)
    evaluations = (*engine.spent, *engine.evaluations)
    return CapacityResult(
        path, target, direction, engine.ok.value if engine.ok else None, engine.bad.value if engine.bad else None,
        evaluations, engine.note(), engine.reason(), bracket, parameter_unit(path), scenario.name,
        replications, seed, tolerance, max_evaluations, not engine.budget(), scenario,
        EXPLORE_REPLICATIONS if explore else replications)


def _explores(bracket: Bracket, replications: int, max_evaluations: int) -> bool:
    """Whether a search explores with :data:`EXPLORE_REPLICATIONS` before confirming with ``replications``.

    It does when that saves runs: more replications than an exploration's, room in the budget for the two
    confirmations, and a start that is not the analytic prediction of the figure itself (which puts the
    first bracket so close to the answer that it narrows in a step or two: those steps may as well decide).
    """
    return replications > EXPLORE_REPLICATIONS and max_evaluations >= 3 and bracket.source != "analytic"


def _confirm(explored: _Search, evaluate: Callable[[float], Evaluation], runs: _Runs, replications: int) -> _Search:
    """Evaluate the explored answer with ``replications`` (its missing ones at once), and go on from there.

    The end of the explored bracket that met the target is the one confirmed (the end that did not when
    none did). The other end keeps its exploratory verdict: it did not meet the target with one
    replication, and the full count reads it more strictly still (the whole interval must meet the bound),
    so confirming it could only move the answer's limit, never the answer. When the confirmed end keeps
    its verdict the search is done; when it turns (an end that met is only uncertain with the full
    interval), the search steps away from it by :data:`CONFIRM_GROWTH` times the tolerance, twice as far
    each time, and narrows again, every evaluation with the full count.
    """
    spent = tuple(explored.evaluations)
    engine = _Search(evaluate, explored.target, "largest" if explored.up else "smallest", explored.integer,
                     explored.tolerance, explored.max_evaluations + 2, explored.free, growth=CONFIRM_GROWTH *
                     explored.tolerance, prefetch=lambda values: runs.prefetch(values, replications), spent=spent)
    end = explored.ok if explored.ok is not None else explored.bad
    if end is None:
        return engine
    if explored.ok is not None:
        engine.bad = explored.bad  # the explored limit stands unless the confirmed answer changes side
    engine.bracket(end.value, end.value)
    engine.narrow()
    return engine
