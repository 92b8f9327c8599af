r"""Verification: the engine against exact queueing results, as a shipped feature (``axis-sim verify``).

Each reference case is a small scenario whose answer is known exactly:

* **M/M/1** at utilisation 0.5 and 0.9 and **M/M/c** (c = 3, 0.85):
  :math:`W = C(c, a) / (c\mu - \lambda) + 1/\mu` (Erlang C);
* a **tandem line** of three M/M/1 stations (Burke's theorem: each is M/M/1 and
  the end-to-end mean is the sum);
* a **hub-and-spoke Jackson network** (Jackson 1957);
* **loss systems**: M/M/3/3 against Erlang B and M/M/2/5 against the finite
  buffer formulas (blocking probability, mean sojourn of admitted jobs);
* a **priority** M/M/1 with urgent and normal classes against the
  non-preemptive priority formula (Cobham 1954);
* an **M/M/1 with random failures** (exponential up times whether busy or
  idle, exponential repairs, preemptive resume) against the completion-time
  result (Gaver 1962; Avi-Itzhak and Naor 1963): see :func:`failing_mm1`;
* an **M/M/1 that fails only while busy** (exponential work between failures,
  exponential repairs, preemptive resume): the M/G/1 of the completion time,
  see :func:`busy_failing_mm1`.

Every case runs R independent replications (fixed seeds). A figure PASSES when
the exact value lies inside the 99 % Student-t confidence interval of the
replication means, or within 0.25 % of their mean (a floor for figures such as
utilisation whose intervals are narrower than the bias of a finite run). For a
correct simulator each figure alone fails with probability at most 1 % at an
arbitrary seed; the default seed is fixed, so ``verify`` is deterministic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .analytic import erlang_b, mmc_wait, mmck, priority_waits
from .experiment import run
from .results import ConfidenceInterval, confidence_interval
from .scenario import load_scenario

__all__ = ["Check", "Case", "reference_cases", "verify", "hub_and_spoke_text", "failing_mm1", "busy_failing_mm1",
           "LEVEL", "RELATIVE_FLOOR"]

#: Confidence level of the intervals.
LEVEL = 0.99
#: A figure within this relative distance of the exact value passes whatever its interval.
RELATIVE_FLOOR = 0.0025


@dataclass(frozen=True)
class Check:
    """One verified figure."""

    case: str
    figure: str
    exact: float
    simulated: float
    interval: ConfidenceInterval
    passed: bool


Figures = Callable[[dict[str, Any]], dict[str, float]]


@dataclass(frozen=True)
class Case:
    """A reference case: a scenario, the exact figures, and how to read them from one replication."""

    name: str
    scenario: str
    exact: dict[str, float]
    measure: Figures


def _single_station(servers: int, mean: float, rate: float, horizon: float, warmup: float,
                    buffer: int | None = None, urgent: float = 0.0) -> str:
    buffer_line = f"buffer = {buffer}\n" if buffer is not None else ""
    return f"""
[run]
horizon = {horizon!r}
warmup = {warmup!r}
timeseries_interval = {horizon / 10!r}
[network.hub]
servers = {servers}
service = {{ distribution = "exponential", mean = {mean!r} }}
{buffer_line}
[traffic.types]
urgent = {urgent!r}
[[agencies]]
id = "source"
rate = {rate!r}
[[agencies]]
id = "sink"
"""


def _station(summary: dict[str, Any], kind: str, index: int = 0) -> dict[str, Any]:
    return [s for s in summary["stations"] if s["kind"] == kind][index]


def _hub_figures(summary: dict[str, Any]) -> dict[str, float]:
    hub = _station(summary, "hub")
    return {"utilisation": hub["utilization"], "mean sojourn (s)": hub["mean_sojourn_seconds"],
            "mean queue": hub["mean_queue"]}


def _mmc_case(name: str, servers: int, mean: float, rate: float, horizon: float) -> Case:
    mu = 1.0 / mean
    wait = mmc_wait(rate, mu, servers)
    exact = {"utilisation": rate * mean / servers, "mean sojourn (s)": wait + mean, "mean queue": rate * wait}
    return Case(name, _single_station(servers, mean, rate, horizon, horizon * 0.05), exact, _hub_figures)


def _loss_case(name: str, servers: int, buffer: int, mean: float, rate: float, horizon: float) -> Case:
    figures = mmck(rate, 1.0 / mean, servers, servers + buffer)
    exact = {"blocking probability": figures["blocking"], "utilisation": figures["utilization"]}
    if buffer == 0:
        assert math.isclose(figures["blocking"], erlang_b(servers, rate * mean), rel_tol=1e-12)
    else:
        exact["mean sojourn (s)"] = figures["mean_sojourn"]

    def measure(summary: dict[str, Any]) -> dict[str, float]:
        hub = _station(summary, "hub")
        out = {"blocking probability": hub["dropped"] / hub["arrivals"], "utilisation": hub["utilization"]}
        if buffer:
            out["mean sojourn (s)"] = hub["mean_sojourn_seconds"]
        return out

    return Case(name, _single_station(servers, mean, rate, horizon, horizon * 0.05, buffer=buffer), exact, measure)


def _priority_case(name: str, mean: float, rate: float, urgent: float, horizon: float) -> Case:
    waits = priority_waits([rate * urgent, rate * (1 - urgent)], mean, 1.0)
    exact = {"urgent mean sojourn (s)": waits[0] + mean, "normal mean sojourn (s)": waits[1] + mean}

    def measure(summary: dict[str, Any]) -> dict[str, float]:
        by_type = summary["latency_by_type_seconds"]
        return {"urgent mean sojourn (s)": by_type["urgent_mean"], "normal mean sojourn (s)": by_type["normal_mean"]}

    return Case(name, _single_station(1, mean, rate, horizon, horizon * 0.05, urgent=urgent), exact, measure)


def failing_mm1(rate: float, mean: float, between: float, repair: float) -> dict[str, float]:
    r"""Mean sojourn and availability of an M/M/1 whose server fails by chance, whether busy or idle.

    Up times are exponential (mean ``between``, failure rate :math:`f = 1/\text{between}`), repairs
    exponential (mean :math:`r` = ``repair``); a job in service when the server fails resumes after the
    repair (preemptive resume). A job's **completion time** :math:`C` (its service plus the repairs that
    interrupt it; failures during a service of length :math:`S` are Poisson with mean :math:`fS`) has

    .. math:: E[C] = E[S](1 + fr), \qquad E[C^2] = E[S^2](1 + fr)^2 + f\,E[S]\,E[R^2]

    (Gaver 1962; Avi-Itzhak and Naor 1963). A busy period starts with a delay :math:`D` when the first
    job finds the idle server down: the idle period starts with the server up and lasts Exp(:math:`\lambda`),
    so the job finds it down with probability :math:`q = f / (\lambda + f + 1/r)` (the two-state chain)
    and then waits a whole exponential repair: :math:`E[D] = qr`, :math:`E[D^2] = 2qr^2`. The M/G/1 with
    a set-up time at the start of each busy period (Takagi 1991, *Queueing Analysis* vol. 1, set-up times)
    gives the mean wait

    .. math:: W = \frac{\lambda E[C^2]}{2(1 - \lambda E[C])} + \frac{2E[D] + \lambda E[D^2]}{2(1 + \lambda E[D])}

    and the mean sojourn :math:`W + E[C]`; the availability is :math:`1 / (1 + fr)`.

    Parameters
    ----------
    rate : float
        :math:`\lambda`, arrivals per second.
    mean : float
        Mean service time :math:`E[S]`, seconds (exponential).
    between : float
        Mean up time between failures, seconds.
    repair : float
        Mean repair time :math:`r`, seconds.

    Returns
    -------
    dict
        ``mean_sojourn`` (seconds), ``availability`` (share of time up) and
        ``completion`` (the mean completion time :math:`E[C]`, seconds).

    Examples
    --------
    >>> figures = failing_mm1(0.5, 1.0, 20.0, 2.0)
    >>> round(figures["availability"], 4), round(figures["mean_sojourn"], 4)
    (0.9091, 2.8485)
    """
    f = 1.0 / between
    completion = mean * (1 + f * repair)
    second = 2 * mean ** 2 * (1 + f * repair) ** 2 + f * mean * 2 * repair ** 2
    if rate * completion >= 1:
        raise ValueError("the failing server cannot keep up (rate x mean completion time >= 1)")
    q = f / (rate + f + 1.0 / repair)
    setup, setup_second = q * repair, 2 * q * repair ** 2
    wait = rate * second / (2 * (1 - rate * completion)) + (2 * setup + rate * setup_second) / (2 * (1 + rate * setup))
    return {"mean_sojourn": wait + completion, "availability": 1.0 / (1.0 + f * repair),
            "completion": completion}


def busy_failing_mm1(rate: float, mean: float, between: float, repair: float) -> dict[str, float]:
    r"""Mean sojourn and availability of an M/M/1 whose server fails only while busy.

    Failures come after exponential amounts of work (mean ``between``: a failure rate
    :math:`f = 1/\text{between}` per second of service, nothing while idle), repairs are exponential (mean
    :math:`r` = ``repair``), and the job in service resumes after the repair (preemptive resume). A job's
    **completion time** :math:`C` is its service :math:`S` plus the repairs of the failures during it,
    Poisson with mean :math:`fS` given :math:`S`; by the laws of total expectation and variance

    .. math:: E[C] = E[S](1 + fr), \qquad \operatorname{Var} C = (1 + fr)^2 \operatorname{Var} S + f\,E[S]\,E[R^2]

    with :math:`E[R^2] = 2r^2` and :math:`\operatorname{Var} S = E[S]^2` (Gaver 1962; Avi-Itzhak and Naor 1963).
    The server is always up when it falls idle (a repair ends before the completion it interrupts), and the
    completion times are independent (the failures are memoryless in work), so the queue is the M/G/1 of the
    completion times; Pollaczek and Khinchine give the mean wait

    .. math:: W = \frac{\lambda E[C^2]}{2(1 - \lambda E[C])}

    and the mean sojourn :math:`W + E[C]`. Each job meets :math:`fE[S]` failures on average, so the share of
    time under repair is :math:`\lambda E[S] f r` and the availability :math:`1 - \lambda E[S] f r`.

    Parameters
    ----------
    rate : float
        Arrival rate :math:`\lambda`, per second.
    mean : float
        Mean service time :math:`E[S]`, seconds.
    between : float
        Mean work (seconds of service) between failures.
    repair : float
        Mean repair time, seconds.

    Returns
    -------
    dict of str to float
        ``mean_sojourn``, ``availability`` and ``completion`` (:math:`E[C]`), seconds or share.

    Examples
    --------
    >>> figures = busy_failing_mm1(0.5, 1.0, 10.0, 2.0)
    >>> round(figures["completion"], 4), round(figures["availability"], 4), round(figures["mean_sojourn"], 4)
    (1.2, 0.9, 3.5)
    """
    f = 1.0 / between
    completion = mean * (1 + f * repair)
    variance = (1 + f * repair) ** 2 * mean ** 2 + f * mean * 2 * repair ** 2
    if rate * completion >= 1:
        raise ValueError("the failing server cannot keep up (rate x mean completion time >= 1)")
    wait = rate * (variance + completion ** 2) / (2 * (1 - rate * completion))
    return {"mean_sojourn": wait + completion, "availability": 1.0 - rate * mean * f * repair,
            "completion": completion}


def _failure_case(name: str, mean: float, rate: float, between: float, repair: float, horizon: float,
                  clock: str = "calendar") -> Case:
    theory = busy_failing_mm1 if clock == "busy" else failing_mm1
    figures = theory(rate, mean, between, repair)
    exact = {"mean sojourn (s)": figures["mean_sojourn"], "availability": figures["availability"]}
    text = _single_station(1, mean, rate, horizon, horizon * 0.05).replace(
        "[traffic.types]", f"failures = {{ between = {{ mean = {between!r} }}, repair = {{ mean = {repair!r} }}, "
        f'interrupted = "resume", clock = "{clock}" }}\n[traffic.types]')

    def measure(summary: dict[str, Any]) -> dict[str, float]:
        hub = _station(summary, "hub")
        return {"mean sojourn (s)": hub["mean_sojourn_seconds"], "availability": hub["availability"]}

    return Case(name, text, exact, measure)


def _tandem_case(horizon: float) -> Case:
    means = {"agency:source": 0.8, "hub": 2 / 3, "agency:sink": 1 / 1.1}
    rate = 1.0
    text = f"""
[run]
horizon = {horizon!r}
warmup = {horizon * 0.05!r}
timeseries_interval = {horizon / 10!r}
[network.hub]
service = {{ distribution = "exponential", mean = {means["hub"]!r} }}
[network.agency]
service = {{ distribution = "exponential", mean = 1.0 }}
[[agencies]]
id = "source"
rate = {rate!r}
station = {{ service = {{ distribution = "exponential", mean = {means["agency:source"]!r} }} }}
[[agencies]]
id = "sink"
station = {{ service = {{ distribution = "exponential", mean = {means["agency:sink"]!r} }} }}
"""
    sojourn = {node: mean / (1 - rate * mean) for node, mean in means.items()}  # M/M/1: 1 / (mu - lambda)
    exact = {"end-to-end mean latency (s)": sum(sojourn.values())}
    for node, value in sojourn.items():
        exact[f"{node} mean sojourn (s)"] = value
    order = ["hub", "agency:source", "agency:sink"]  # station order of the topology

    def measure(summary: dict[str, Any]) -> dict[str, float]:
        out = {"end-to-end mean latency (s)": summary["latency_seconds"]["mean"]}
        for node, station in zip(order, summary["stations"]):
            out[f"{node} mean sojourn (s)"] = station["mean_sojourn_seconds"]
        return out

    return Case("tandem M/M/1 x 3 (0.8, 0.67, 0.91)", text, exact, measure)


def hub_and_spoke_text(agencies: int = 6, rate: str = "20/h", gateway_mean: str = "72s", hub_servers: int = 2,
                       hub_mean: str = "7.2s", horizon: str = "2000h", warmup: str = "100h", extra: str = "") -> str:
    """Scenario text of an open Jackson network: Poisson agencies, M/M/1 gateways (their agency stations),
    an M/M/c hub, uniform recipients, platforms left out. Agencies are ``A0``, ``A1``, ...

    Used by the Jackson reference case, the tests and ``benchmarks/hub_spoke.py``.

    Parameters
    ----------
    agencies : int, optional
        How many agencies (and gateways).
    rate : str, optional
        Documents each agency creates, a rate (``"20/h"``).
    gateway_mean : str, optional
        Mean service time of each gateway, a duration.
    hub_servers : int, optional
        Servers of the hub.
    hub_mean : str, optional
        Mean service time of the hub, a duration.
    horizon, warmup : str, optional
        ``run.horizon`` and ``run.warmup``.
    extra : str, optional
        TOML lines added to the ``[traffic]`` table.

    Returns
    -------
    str
        The scenario as TOML text, for :func:`simulator.scenario.load_scenario`.
    """
    text = f"""
[run]
horizon = "{horizon}"
warmup = "{warmup}"
[network.agency]
service = {{ distribution = "exponential", mean = "{gateway_mean}" }}
[network.hub]
servers = {hub_servers}
service = {{ distribution = "exponential", mean = "{hub_mean}" }}
[kinds.agency]
rate = "{rate}"
[traffic]
recipients = "uniform"
{extra}
"""
    return text + "".join(f'[[agencies]]\nid = "A{i}"\n' for i in range(agencies))


def _jackson_case(horizon_hours: float) -> Case:
    agencies = 6
    text = hub_and_spoke_text(agencies, hub_mean="45s", horizon=f"{horizon_hours}h", warmup=f"{horizon_hours * 0.05}h")
    hub_rate = agencies * 20 / 3600
    hub_sojourn = mmc_wait(hub_rate, 1 / 45, 2) + 45
    gateway_sojourn = 1 / (50 / 3600 - 40 / 3600)
    exact = {"hub utilisation": hub_rate * 45 / 2, "hub mean sojourn (s)": hub_sojourn,
             "gateway utilisation (mean of 6)": 0.8, "gateway mean sojourn (s, mean of 6)": gateway_sojourn,
             "end-to-end mean latency (s)": 2 * gateway_sojourn + hub_sojourn}

    def measure(summary: dict[str, Any]) -> dict[str, float]:
        hub = _station(summary, "hub")
        gateways = [s for s in summary["stations"] if s["kind"] == "agency"]
        return {"hub utilisation": hub["utilization"], "hub mean sojourn (s)": hub["mean_sojourn_seconds"],
                "gateway utilisation (mean of 6)": float(np.mean([g["utilization"] for g in gateways])),
                "gateway mean sojourn (s, mean of 6)": float(np.mean([g["mean_sojourn_seconds"] for g in gateways])),
                "end-to-end mean latency (s)": summary["latency_seconds"]["mean"]}

    return Case("hub-and-spoke Jackson network (gateways 0.8, hub M/M/2 0.75)", text, exact, measure)


def reference_cases(scale: float = 1.0) -> list[Case]:
    """The built-in reference cases; ``scale`` multiplies every horizon (1.0: about 30 s on 2 cores).

    Parameters
    ----------
    scale : float, optional
        Factor on every case's horizon (0.1 for a quick, noisier check).

    Returns
    -------
    list of Case
        The cases in the order ``axis-sim verify`` prints them.
    """
    return [
        _mmc_case("M/M/1 at utilisation 0.5", 1, 1.0, 0.5, 120_000 * scale),
        _mmc_case("M/M/1 at utilisation 0.9", 1, 1.0, 0.9, 450_000 * scale),
        _mmc_case("M/M/3 at utilisation 0.85", 3, 1.0, 2.55, 180_000 * scale),
        _tandem_case(300_000 * scale),
        _jackson_case(4500 * scale),
        _loss_case("M/M/3/3 loss system (Erlang B, a = 2)", 3, 0, 1.0, 2.0, 120_000 * scale),
        _loss_case("M/M/2/5 finite buffer (offered 1.2 per server)", 2, 3, 1.0, 2.4, 120_000 * scale),
        _priority_case("priority M/M/1 (30 % urgent, utilisation 0.8)", 1.0, 0.8, 0.3, 300_000 * scale),
        _failure_case("M/M/1 with failures (up 20, repair 2, resume; 0.55 of up time)", 1.0, 0.5, 20.0, 2.0,
                      200_000 * scale),
        _failure_case("M/M/1 failing only while busy (10 of work between, repair 2, resume; 0.6 with repairs)",
                      1.0, 0.5, 10.0, 2.0, 50_000 * scale, clock="busy"),
    ]


def verify(seed: int = 2026, replications: int = 8, jobs: int = 1, scale: float = 1.0,
           cases: list[Case] | None = None, progress: Callable[[str], None] | None = None) -> list[Check]:
    """Run the reference cases and compare every figure with its exact value.

    Parameters
    ----------
    seed : int
        Root seed; each case uses its own replication seeds from it.
    replications : int
        Replications per case (at least 2, for the intervals).
    jobs : int
        Worker processes (0 = one per CPU).
    scale : float
        Multiplies every horizon: larger is more precise and slower.
    cases : list of Case, optional
        Default: :func:`reference_cases`.
    progress : callable, optional
        Called with each case name before it runs.

    Returns
    -------
    list of Check
    """
    if replications < 2:
        raise ValueError("verification needs at least 2 replications for its confidence intervals")
    checks = []
    for number, case in enumerate(cases or reference_cases(scale)):
        if progress is not None:
            progress(case.name)
        scenario = load_scenario(case.scenario, name=f"verify-{number}")
        result = run(scenario, seed=seed + number, replications=replications, jobs=jobs)
        measured = [case.measure(summary) for summary in result.replications]
        for figure, exact in case.exact.items():
            values = [m[figure] for m in measured]
            mean = float(np.mean(values))
            interval = confidence_interval(values, level=LEVEL)
            inside = interval.low <= exact <= interval.high
            close = abs(mean - exact) <= RELATIVE_FLOOR * abs(exact)
            checks.append(Check(case.name, figure, exact, mean, interval, bool(inside or close)))
    return checks
