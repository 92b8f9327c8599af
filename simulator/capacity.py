r"""Capacity: the largest (or smallest) parameter value that still meets a target, by bracketing and bisection.

A target reads ``"latency_p95 <= 4h"``, ``"utilization <= 0.8"``,
``"electronic_share >= 0.9"``. Each evaluation runs the scenario with the
parameter set (R replications, the same seeds at every value: common random
numbers) and classifies the value from the 95 % confidence interval of the
figure: it *meets* the target only if the whole interval is on the right side
(a conservative reading), *fails* if the whole interval is on the wrong side,
and is *uncertain* otherwise (treated as not meeting it). The search assumes
the figure is monotone in the parameter. It brackets by doubling or halving
from the scenario's current value, then bisects until the bracket is narrower
than the tolerance (or one step, for an integer parameter).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np

from .errors import ScenarioError
from .experiment import figure, run
from .results import confidence_interval
from .scenario import Scenario, apply_parameters
from .units import parse_duration
from .workload import Limits, WorkloadError

__all__ = ["Target", "parse_target", "Evaluation", "CapacityResult", "search", "METRICS"]

#: Target metrics: name -> (summary path, kind of value).
METRICS: dict[str, tuple[str, str]] = {
    "latency_mean": ("latency_seconds.mean", "duration"),
    "latency_p50": ("latency_seconds.p50", "duration"),
    "latency_p95": ("latency_seconds.p95", "duration"),
    "latency_p99": ("latency_seconds.p99", "duration"),
    "utilization": ("bottleneck.utilization", "number"),
    "peak_utilization": ("peak_bottleneck.utilization", "number"),
    "electronic_share": ("electronic_share", "number"),
    "throughput_per_day": ("throughput_per_day", "number"),
    "dropped_share": ("dropped_share", "number"),
    "same_day_share": ("same_day_share", "number"),
}
#: Targets an analytically unstable network fails without simulating (overload only raises them).
OVERLOAD_FAILS = frozenset({"latency_mean", "latency_p50", "latency_p95", "latency_p99", "utilization",
                            "peak_utilization", "dropped_share"})
_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Target:
    """A figure, a comparison and a bound (seconds for latencies)."""

    metric: str
    operator: Literal["<=", ">="]
    bound: float

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.bound:g}"


def parse_target(text: str) -> Target:
    """Parse ``"latency_p95 <= 4h"`` and the like.

    Raises
    ------
    ValueError
        If the text is not ``METRIC <=|>= VALUE`` with a known metric.

    Examples
    --------
    >>> parse_target("latency_p95 <= 4h")
    Target(metric='latency_p95', operator='<=', bound=14400.0)
    """
    match = _TARGET.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a target; write METRIC <= VALUE or METRIC >= VALUE, e.g. \"latency_p95 <= 4h\"")
    metric, operator, value = match.groups()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    bound = parse_duration(value) if METRICS[metric][1] == "duration" else float(value)
    return Target(metric, operator, bound)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Evaluation:
    """One evaluated parameter value."""

    value: float
    mean: float
    low: float
    high: float
    verdict: Literal["meets", "fails", "uncertain"]


@dataclass(frozen=True)
class CapacityResult:
    """The answer of :func:`search`.

    ``best`` is the extreme value that met the target (``None`` if none
    did); ``limit`` the nearest value that did not, so the answer lies between
    them; ``evaluations`` every run made, in order.
    """

    path: str
    target: Target
    direction: str
    best: float | None
    limit: float | None
    evaluations: tuple[Evaluation, ...]
    note: str = ""


def _value(summary: dict[str, Any], metric: str) -> float:
    if metric == "dropped_share":
        generated = summary["documents"]["electronic"]
        return summary["documents"]["dropped"] / generated if generated else math.nan
    return figure(summary, METRICS[metric][0])


def _current(scenario: Scenario, path: str) -> Any:
    value: Any = scenario.model_dump(mode="python")
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def search(scenario: Scenario, path: str, target: Target, *, direction: Literal["largest", "smallest"] = "largest",
           start: float | None = None, replications: int = 3, seed: int | None = None, jobs: int = 1,
           tolerance: float = 0.02, max_evaluations: int = 14,
           progress: Callable[[Evaluation], None] | None = None, limits: Limits | None = None) -> CapacityResult:
    """Find the largest (or smallest) value of ``path`` whose runs meet ``target``.

    Parameters
    ----------
    scenario : Scenario
    path : str
        A numeric scenario key (``traffic.multiplier``, ``network.hub.servers``).
    target : Target
    direction : {"largest", "smallest"}
        ``largest``: the most load that still meets the target;
        ``smallest``: the least capacity that meets it.
    start : float, optional
        First value tried (default: the scenario's current value).
    replications, seed, jobs
        Per evaluation, as for :func:`simulator.run`.
    tolerance : float
        Relative width at which bisection stops (integers stop at one step).
    max_evaluations : int
    progress : callable, optional
        Called with each :class:`Evaluation`.
    limits : Limits, optional
        What each evaluation may spend (see :func:`simulator.run`). A value
        whose network is analytically unstable is not simulated (unless
        ``limits.allow_unstable``): it fails a target that overload can
        only worsen (latency, utilisation, dropped share) and stops the
        search with the refusal otherwise.

    Raises
    ------
    ScenarioError
        If ``path`` is not a numeric key of the scenario.
    """
    current = _current(scenario, path) if start is None else start
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise ScenarioError.single(scenario.source, path, current, "is not a numeric scenario key to search over")
    integer = isinstance(current, int) and start is None or (start is not None and float(start).is_integer()
                                                            and isinstance(_current(scenario, path), int))
    evaluations: list[Evaluation] = []

    def evaluate(value: float) -> Evaluation:
        setting = int(round(value)) if integer else float(value)
        variant = apply_parameters(scenario, {path: setting}, where="--param")
        try:
            result = run(variant, seed=seed, replications=replications, jobs=jobs, limits=limits)
        except WorkloadError as refused:
            if not (refused.unstable_only and target.metric in OVERLOAD_FAILS and target.operator == "<="):
                raise
            mean = low = high = math.inf  # not simulated: overload can only push the figure up
            verdict = "fails"
        else:
            values = [_value(s, target.metric) for s in result.replications]
            mean = float(np.nanmean(values))
            low, high = confidence_interval(values) if replications > 1 else (mean, mean)
            good = (lambda v: v <= target.bound) if target.operator == "<=" else (lambda v: v >= target.bound)
            verdict = "meets" if good(low) and good(high) else "fails" if not good(low) and not good(high) else "uncertain"
        evaluation = Evaluation(float(setting), mean, low, high, verdict)  # type: ignore[arg-type]
        evaluations.append(evaluation)
        if progress is not None:
            progress(evaluation)
        return evaluation

    up = direction == "largest"  # meeting the target lies below the limit when searching for the largest
    value = float(current) if current else 1.0
    first = evaluate(value)
    ok, bad = (value, None) if first.verdict == "meets" else (None, value)
    # bracket
    while (ok is None or bad is None) and len(evaluations) < max_evaluations:
        if ok is not None:
            value = ok * 2 if up else ok / 2
        else:
            value = bad / 2 if up else bad * 2  # type: ignore[operator]
        if integer:
            value = max(1.0, float(round(value)))
            if value in {e.value for e in evaluations}:
                break
        if evaluate(value).verdict == "meets":
            ok = value
        else:
            bad = value
    # bisect
    while ok is not None and bad is not None and len(evaluations) < max_evaluations:
        if integer and abs(bad - ok) <= 1:
            break
        if not integer and abs(bad - ok) <= tolerance * max(abs(ok), abs(bad)):
            break
        middle = (ok + bad) / 2
        if integer:
            middle = float(math.floor(middle) if up else math.ceil(middle))
        if evaluate(middle).verdict == "meets":
            ok = middle
        else:
            bad = middle
    note = "" if ok is not None and bad is not None else (
        "no value met the target" if ok is None else "every value tried met the target: raise max_evaluations or start")
    return CapacityResult(path, target, direction, ok, bad, tuple(evaluations), note)
