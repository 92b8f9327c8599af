r"""Analytic: queueing theory on the same scenario and topology the engine simulates.

Without simulating, this module derives the arrival rate at every station from
the scenario (agency rates over the working calendar, who is connected and
adopts, classified documents, recipient choice, fan-out to many recipients,
status messages), then treats each station as an M/G/c queue:

* offered load :math:`a = \lambda / \mu` and utilisation :math:`\rho = a / c`;
* the Erlang C probability of waiting and the M/M/c mean wait;
* for non-exponential service, the Allen-Cunneen correction
  :math:`W_q \approx W_q^{M/M/c}\,(1 + c_s^2)/2` (exact for M/G/1, where it is
  the Pollaczek-Khinchine formula);
* mean end-to-end latency of an electronic copy as the sum over its route.

With Poisson arrivals, exponential service, no calendar, unlimited buffers, no
outages, no status messages and no fan-out, the network is an open Jackson
network (Jackson 1957) and these figures are exact; otherwise they are
approximations and :attr:`Prediction.exact` says so.

References
----------
.. [1] J. R. Jackson, "Networks of waiting lines", Operations Research 5(4),
   518-521, 1957.
.. [2] L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975 (M/M/c, Erlang C).
.. [3] A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed.,
   Academic Press, 1990 (the Allen-Cunneen approximation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .errors import Problem, ScenarioError
from .scenario import Distribution, Failures, FanoutSpec, Scenario
from .topology import HUB, AgencyTable, Station, Topology
from .clock import BusiestHour, OpenClock

__all__ = [
    "StationPrediction",
    "availability",
    "failure_rate",
    "standby_share",
    "mean_excess",
    "Prediction",
    "ConnectStep",
    "erlang_b",
    "erlang_c",
    "mmc_wait",
    "mgc_wait",
    "mmck",
    "priority_waits",
    "electronic_share",
    "connect_headroom",
    "PlatformChange",
    "reform_load_change",
    "station_arrival_rates",
    "predict",
    "require_finite",
    "fluid_backlog",
    "calendar_pattern",
    "lagged_pattern",
    "fluid_latency_quantile",
    "WEIGHT_RATIO_LIMIT",
]


#: Servers (or M/M/c/K places) up to which the formulas sum term by term, as textbooks do (exact to rounding).
#: Beyond it they switch to bounded closed forms, so a station with 10**12 servers costs no more than one with 10**5.
TERMWISE_LIMIT = 100_000


def erlang_c(servers: int, offered_load: float) -> float:
    r"""Probability that an arrival waits in an M/M/c queue (Erlang C).

    .. math::

        C(c, a) = \frac{\frac{a^c}{c!}\frac{c}{c-a}}
                       {\sum_{k=0}^{c-1}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{c}{c-a}}
                = \frac{B(c, a)}{1 - \rho + \rho B(c, a)}, \quad \rho = a / c

    with :math:`B` the Erlang B blocking probability (:func:`erlang_b`, whose
    cost is bounded whatever the number of servers).

    Parameters
    ----------
    servers : int
        Number of servers :math:`c`.
    offered_load : float
        :math:`a = \lambda/\mu` in Erlangs; must be below ``servers``.

    Returns
    -------
    float
        :math:`C(c, a)`; 1.0 when the queue is unstable.

    Examples
    --------
    >>> round(erlang_c(4, 3.4), 10)   # the hub of the reference workload
    0.6893162217
    >>> erlang_c(1, 0.8)              # M/M/1: P(wait) = rho
    0.8
    >>> erlang_c(10**12, 3.4)         # far more servers than load: nobody waits (and no loop of 10**12 steps)
    0.0
    """
    if offered_load >= servers:
        return 1.0
    if offered_load <= 0:
        return 0.0
    blocking = erlang_b(servers, offered_load)
    rho = offered_load / servers
    return blocking / (1.0 - rho + rho * blocking)


def erlang_b(servers: int, offered_load: float) -> float:
    r"""Blocking probability of an M/M/c/c loss system (Erlang B).

    .. math:: B(c, a) = \frac{a^c / c!}{\sum_{k=0}^{c} a^k / k!}

    computed by the stable recursion :math:`B(k) = a B(k-1) / (k + a B(k-1))`,
    which stops as soon as :math:`B` underflows to 0 (it stays 0: with many
    more servers than load, a few hundred steps decide). When the recursion
    would run past :data:`TERMWISE_LIMIT` steps (loads of about 10**5
    Erlangs and more), :math:`B` is the ratio of the Poisson probability of
    :math:`c` to the Poisson distribution function at :math:`c`, in log
    space (:func:`_erlang_b_large`: relative error about 1e-9 there).

    Parameters
    ----------
    servers : int
        Number of servers :math:`c \ge 0`.
    offered_load : float
        :math:`a = \lambda/\mu` in Erlangs.

    Returns
    -------
    float

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 10)   # (1/2) / (1 + 1 + 1/2)
    0.2
    >>> erlang_b(10**12, 1.0)         # underflows after about 170 steps
    0.0
    """
    if servers <= 0:
        return 1.0
    if offered_load <= 0:
        return 0.0
    if math.isinf(offered_load):
        return 1.0
    blocking = 1.0
    steps = min(servers, TERMWISE_LIMIT)
    for k in range(1, steps + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
        if blocking == 0.0:
            return 0.0  # and 0 it stays for every further server
    if steps == servers:
        return blocking
    return _erlang_b_large(servers, offered_load)


def _stirling_error(n: float) -> float:
    r""":math:`\log n! - (n + 1/2)\log n + n - \log\sqrt{2\pi}` for large :math:`n` (asymptotic series)."""
    n2 = n * n
    return (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * n2)) / n2) / n


def _deviance(x: float, mean: float) -> float:
    r""":math:`x \log(x/m) + m - x` without cancellation near :math:`x = m` (Loader 2000)."""
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        power, j = 2 * x * v, 1
        while True:
            power *= v * v
            term = power / (2 * j + 1)
            if total + term == total:
                return total
            total += term
            j += 1
    return x * math.log(x / mean) + mean - x


def _erlang_b_large(servers: int, offered_load: float) -> float:
    r"""Erlang B for large ``servers`` and load: :math:`B = p(c) / P(N \le c)`, :math:`N` Poisson with mean :math:`a`.

    :math:`\log p(c)` by Loader's saddle-point form (no cancellation between
    :math:`\log c!` and :math:`c \log a`); :math:`P(N \le c)` by
    ``scipy.special.pdtr``, or, below the load where it underflows, by
    summing :math:`1/B = \sum_{j=0}^{c} \prod_{i<j} (c - i)/a` (geometric
    decay, a few times :math:`\sqrt a` terms at most).
    """
    c, a = float(servers), float(offered_load)
    log_pmf = -0.5 * math.log(2 * math.pi * c) - _stirling_error(c) - _deviance(c, a)
    from scipy.special import pdtr  # only for loads of 10**5 Erlangs and more

    cdf = float(pdtr(c, a))
    if cdf > 1e-290:
        return min(1.0, math.exp(log_pmf - math.log(cdf)))
    # c well below a: 1/B = sum over j of prod_{i<j} (c - i)/a, terms falling at least as fast as (c/a)^j
    total, log_term, start, chunk = 0.0, 0.0, 0, 1 << 16
    while start <= servers:
        i = np.arange(start, min(start + chunk, servers + 1), dtype=float)
        logs = log_term + np.concatenate([[0.0], np.cumsum(np.log1p((c - i[:-1] - a) / a))])
        terms = np.exp(logs)
        total += float(terms.sum())
        log_term = float(logs[-1]) + math.log1p((c - i[-1] - a) / a) if i[-1] < c else -math.inf
        if terms[-1] < 1e-17 * total or not math.isfinite(log_term):
            break
        start += chunk
    return 1.0 / total


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> dict[str, float]:
    r"""Exact M/M/c/K figures: blocking probability, mean number in system, mean sojourn of admitted jobs.

    ``capacity`` :math:`K \ge c` counts jobs in service and waiting. With
    :math:`a = \lambda/\mu`, the stationary probabilities are

    .. math::

        p_n = p_0 \frac{a^n}{n!} \; (n \le c), \qquad
        p_n = p_0 \frac{a^n}{c!\, c^{n-c}} \; (c < n \le K),

    blocking is :math:`p_K`, and by Little's law the mean sojourn of admitted
    jobs is :math:`L / (\lambda (1 - p_K))` (Kleinrock 1975, section 3.7).
    Up to :data:`TERMWISE_LIMIT` places the probabilities are summed term by
    term; beyond, by closed forms (:func:`_mmck_closed`), so memory and time
    stay bounded whatever the buffer.

    Parameters
    ----------
    arrival_rate : float
        :math:`\lambda`, jobs per second.
    service_rate : float
        :math:`\mu`, jobs per second per server.
    servers : int
        :math:`c`.
    capacity : int
        :math:`K`, jobs the station holds at most, in service and waiting.

    Returns
    -------
    dict
        ``blocking``, ``mean_in_system``, ``mean_sojourn``, ``utilization``
        (busy servers / c).

    Examples
    --------
    >>> round(mmck(1.0, 1.0, 1, 1)["blocking"], 10)   # M/M/1/1: a / (1 + a)
    0.5
    >>> round(mmck(0.5, 1.0, 1, 10**12)["mean_in_system"], 10)   # M/M/1 at rho 0.5: rho / (1 - rho)
    1.0
    """
    if capacity > TERMWISE_LIMIT:
        return _mmck_closed(arrival_rate, service_rate, servers, capacity)
    a = arrival_rate / service_rate
    terms = np.empty(capacity + 1)
    term = 1.0
    for n in range(capacity + 1):
        if n > 0:
            term *= a / min(n, servers)
        terms[n] = term
    p = terms / terms.sum()
    blocking = float(p[-1])
    mean_in_system = float((np.arange(capacity + 1) * p).sum())
    admitted = arrival_rate * (1 - blocking)
    busy = float((np.minimum(np.arange(capacity + 1), servers) * p).sum())
    return {"blocking": blocking, "mean_in_system": mean_in_system,
            "mean_sojourn": mean_in_system / admitted if admitted > 0 else math.nan,
            "utilization": busy / servers}


def _log_expm1_over(x: float, d: float) -> float:
    r""":math:`\log(\mathrm{expm1}(x) / d)` for :math:`x / d > 0`, without overflow for large :math:`x`."""
    if x > 30.0:
        return x + math.log1p(-math.exp(-x)) - math.log(d)
    return math.log(math.expm1(x) / d)


def _over_expm1(m: float, x: float) -> float:
    r""":math:`m / \mathrm{expm1}(x)` for :math:`x > 0`, 0 where the denominator overflows."""
    return m * math.exp(-x) / -math.expm1(-x) if x > 700.0 else m / math.expm1(x)


def _expit(x: float) -> float:
    """:math:`1 / (1 + e^{-x})` without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _mmck_closed(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> dict[str, float]:
    r"""M/M/c/K by closed forms: the Erlang part through :func:`erlang_b`, the queue part as a geometric series.

    Relative to :math:`p_c`, the states :math:`n \le c` weigh :math:`1/B(c, a)`
    and the states :math:`c + j` (:math:`1 \le j \le m = K - c`) weigh
    :math:`r^j`, :math:`r = a/c`, in all :math:`G = \sum_j r^j`. With
    :math:`w = G / (1/B + G)` the share of time with a queue,

    .. math::

        p_K = w\, r^m / G, \quad L = (1 - w)\, a (1 - B) + w\,(c + E[j]), \quad
        \text{busy} = (1 - w)\, a (1 - B) + w\, c,

    every sum of :math:`r^j` taken in log space through ``log1p`` and
    ``expm1`` (no overflow however long the buffer).
    """
    a = arrival_rate / service_rate
    c, m = float(servers), float(capacity - servers)
    blocking_b = erlang_b(servers, a)
    admitted_b = a * (1.0 - blocking_b)
    if m <= 0 or a <= 0:
        busy, mean, blocking = admitted_b, admitted_b, blocking_b
    else:
        d = (a - c) / c  # r - 1
        if d == 0:
            log_g, tail_share, mean_j = math.log(m), 1.0 / m, (m + 1) / 2
        else:
            log_r = math.log1p(d)
            x = m * log_r
            log_g = log_r + _log_expm1_over(x, d)  # G = r (r^m - 1) / (r - 1)
            tail_share = math.exp(-_log_expm1_over(-x, (c - a) / a))  # r^m / G = 1 / sum_{i<m} r^-i
            mean_j = (-1.0 / d - _over_expm1(m, -x)) if d < 0 else (m - 1.0 / d + _over_expm1(m, x))
        log_b = math.log(blocking_b) if blocking_b > 0 else -math.inf
        w = _expit(log_g + log_b) if math.isfinite(log_b) else 0.0
        blocking = w * tail_share
        busy = (1.0 - w) * admitted_b + w * c
        mean = (1.0 - w) * admitted_b + w * (c + mean_j)
    admitted = arrival_rate * (1 - blocking)
    return {"blocking": blocking, "mean_in_system": mean,
            "mean_sojourn": mean / admitted if admitted > 0 else math.nan,
            "utilization": busy / servers}


def priority_waits(arrival_rates: list[float], mean_service: float, scv: float = 1.0) -> list[float]:
    r"""Mean waits per class of a non-preemptive priority M/G/1 queue (Cobham 1954).

    Class 0 has the highest priority; all classes share one service-time
    distribution with mean :math:`E[S]` and squared coefficient of
    variation :math:`c_s^2`. With :math:`W_0 = \sum_i \lambda_i E[S^2] / 2`
    and :math:`\sigma_k = \sum_{i \le k} \rho_i`,

    .. math:: W_k = \frac{W_0}{(1 - \sigma_{k-1})(1 - \sigma_k)}

    Parameters
    ----------
    arrival_rates : list of float
        :math:`\lambda_k` of each class, jobs per second, highest priority first.
    mean_service : float
        :math:`E[S]`, seconds.
    scv : float, optional
        :math:`c_s^2` of the service time (1: exponential).

    Returns
    -------
    list of float
        :math:`W_k`, the mean wait in queue of each class, seconds (``inf`` for
        a class the server cannot keep up with).

    References
    ----------
    .. [1] A. Cobham, "Priority assignment in waiting line problems",
       Operations Research 2(1), 70-76, 1954.

    Examples
    --------
    >>> [round(w, 6) for w in priority_waits([0.2, 0.3], 1.0)]   # rho 0.5: W0 = 0.5
    [0.625, 1.25]
    """
    second_moment = (1.0 + scv) * mean_service**2
    w0 = sum(arrival_rates) * second_moment / 2.0
    waits, sigma = [], 0.0
    for rate in arrival_rates:
        before = sigma
        sigma += rate * mean_service
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)) if sigma < 1 else math.inf)
    return waits


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    r"""Mean waiting time in queue of an M/M/c station, seconds.

    .. math:: W_q = \frac{C(c, a)}{c\mu - \lambda}

    Returns ``inf`` when :math:`\lambda \ge c\mu`.

    Parameters
    ----------
    arrival_rate : float
        :math:`\lambda`, jobs per second.
    service_rate : float
        :math:`\mu`, jobs per second per server.
    servers : int
        :math:`c`.

    Returns
    -------
    float
        :math:`W_q`, seconds.

    Examples
    --------
    >>> round(mmc_wait(40 / 3600, 50 / 3600, 1) / 3600, 6)  # M/M/1, rho 0.8: 0.08 h
    0.08
    """
    if arrival_rate >= servers * service_rate:
        return math.inf
    if arrival_rate <= 0:
        return 0.0
    return erlang_c(servers, arrival_rate / service_rate) / (servers * service_rate - arrival_rate)


def mgc_wait(arrival_rate: float, mean_service: float, scv: float, servers: int) -> float:
    r"""Mean waiting time of an M/G/c station by the Allen-Cunneen approximation, seconds.

    .. math:: W_q \approx W_q^{M/M/c} \cdot \frac{1 + c_s^2}{2}

    with :math:`c_s^2` the squared coefficient of variation of the service
    time. Exact for M/M/c (:math:`c_s^2 = 1`) and for M/G/1
    (Pollaczek-Khinchine).

    Parameters
    ----------
    arrival_rate : float
        :math:`\lambda`, jobs per second.
    mean_service : float
        Mean service time :math:`E[S]`, seconds.
    scv : float
        :math:`c_s^2`, the squared coefficient of variation of the service time
        (1 for exponential, 0 for deterministic).
    servers : int
        :math:`c`.

    Returns
    -------
    float
        :math:`W_q`, seconds (``inf`` when the station is unstable).

    Examples
    --------
    >>> round(mgc_wait(0.5, 1.0, 0.0, 1), 6)   # M/D/1 at rho 0.5: rho/(2 mu (1-rho))
    0.5
    """
    if mean_service <= 0:
        return 0.0
    return mmc_wait(arrival_rate, 1.0 / mean_service, servers) * (1.0 + scv) / 2.0


def _any_chosen(members: np.ndarray | float, marked: np.ndarray | float, chosen: int) -> np.ndarray:
    r"""P(a uniform ``chosen``-subset of ``members`` hits at least one of ``marked`` of them).

    Hypergeometric, element-wise over ``members`` and ``marked``:

    .. math::

        1 - \binom{m-s}{k} \Big/ \binom{m}{k}
          = 1 - \exp \sum_{i=0}^{k-1} \log\Big(1 - \frac{s}{m - i}\Big)

    summed with ``log1p`` and completed with ``expm1``, so small
    probabilities keep full relative precision (a difference of log-gamma
    values loses up to 1e-7 on ten thousand members).

    Examples
    --------
    >>> round(float(_any_chosen(4, 1, 2)), 12)   # 1 - C(3, 2) / C(4, 2)
    0.5
    >>> _any_chosen(10, np.array([0.0, 8.0]), 3).tolist()   # none marked; too few unmarked to miss them
    [0.0, 1.0]
    """
    members, marked = np.broadcast_arrays(np.asarray(members, dtype=float), np.asarray(marked, dtype=float))
    can_miss = (marked > 0) & (members - marked >= chosen)
    log_none = np.zeros(members.shape)
    if can_miss.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(int(chosen)):
                log_none += np.log1p(-np.where(can_miss, marked, 0.0) / (members - i))
    return np.where(marked > 0, np.where(can_miss, -np.expm1(log_none), 1.0), 0.0)


#: Largest ratio between two positive recipient weights: beyond it the traffic equations lose their precision
#: (the other agencies' weights vanish against the largest one in double precision).
WEIGHT_RATIO_LIMIT = 1e9


def _agency_key(scenario: Scenario, table: AgencyTable, i: int, attribute: str) -> tuple[str, Any]:
    """The scenario key an agency's ``attribute`` comes from, and its value there.

    The agency's own entry when it sets the attribute; else its ``size`` when
    it sets one and the kind's value is finite; else ``kinds.<kind>``.
    """
    agency_id, kind = table.ids[i], table.kinds[i]
    inherited = getattr(scenario.kind(kind), attribute)
    spec = next((a for a in scenario.agencies if a.id == agency_id), None)
    if spec is not None and getattr(spec, attribute) is not None:
        return f"agencies[{agency_id}].{attribute}", getattr(spec, attribute)
    if spec is not None and spec.size is not None and math.isfinite(inherited):
        return f"agencies[{agency_id}].size", spec.size
    return f"kinds.{kind}.{attribute}", inherited


def require_finite(scenario: Scenario, topology: Topology) -> None:
    r"""Refuse inputs the traffic equations cannot carry: non-finite rates, multiplier or weights, or weights too far apart.

    Parameters
    ----------
    scenario : Scenario
    topology : Topology

    Raises
    ------
    ScenarioError
        Naming the key (``traffic.multiplier``, ``kinds.<kind>.rate``,
        ``agencies[<id>].weight``, ...), its value and the rule.

    Examples
    --------
    >>> import simulator.topology
    >>> s = simulator.load_scenario('[kinds.agency]\nrate = "1/h"\n[kinds.big]\nweight = 1e12\n'
    ...                             '[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"\nkind = "big"')
    >>> require_finite(s, simulator.topology.build_topology(s))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    simulator.errors.ScenarioError: <text>: kinds.big.weight = 1000000000000.0: gives agency B a recipient weight ...
    """
    source = scenario.source
    multiplier = scenario.traffic.multiplier
    if not math.isfinite(multiplier):
        raise ScenarioError.single(source, "traffic.multiplier", multiplier, "must be a finite number")
    table = topology.agencies
    problems = []
    for i in np.flatnonzero(~np.isfinite(table.rate)).tolist()[:5]:
        key, value = _agency_key(scenario, table, i, "rate")
        problems.append(Problem(key, value, f"gives agency {table.ids[i]} a document rate of {table.rate[i]} per second "
                                            "(rate x size x traffic.multiplier); it must be finite"))
    for i in np.flatnonzero(~np.isfinite(table.weight)).tolist()[:5]:
        key, value = _agency_key(scenario, table, i, "weight")
        problems.append(Problem(key, value, f"gives agency {table.ids[i]} a recipient weight of {table.weight[i]} "
                                            "(weight x size); it must be finite"))
    positive = table.weight[table.weight > 0]
    if not problems and scenario.traffic.recipients == "weighted" and len(positive) > 1:
        top, bottom = int(np.argmax(table.weight)), float(positive.min())
        with np.errstate(over="ignore"):
            total = float(positive.sum())
        if not math.isfinite(total) or table.weight[top] > WEIGHT_RATIO_LIMIT * bottom:
            key, value = _agency_key(scenario, table, top, "weight")
            problems.append(Problem(key, value, f"gives agency {table.ids[top]} a recipient weight of {table.weight[top]:.3g}, "
                                                f"more than {WEIGHT_RATIO_LIMIT:.0e} times the smallest positive one "
                                                f"({bottom:.3g}): positive recipient weights must lie within that factor "
                                                "of each other and sum to a finite total"))
    if problems:
        raise ScenarioError(source, problems)


def station_arrival_rates(scenario: Scenario, topology: Topology) -> dict[str, np.ndarray]:
    """Mean arrival rate at every modelled station, by traffic equations.

    The rate counts documents (a fan-out document visits each station of its
    delivery tree once) and status messages (each travels alone back to the
    sender), averaged over the horizon (working calendar included).

    Parameters
    ----------
    scenario : Scenario
    topology : Topology

    Returns
    -------
    dict
        ``"documents"``, ``"statuses"`` and ``"total"``: arrays of arrivals
        per second, indexed like ``topology.stations``; ``"copies"``:
        electronic copies per second in all; ``"documents_per_second"``:
        documents created per second (all modes).
    """
    return _flows(scenario, topology)


class _Network(NamedTuple):
    """What the traffic equations need of the network: platform positions, recipient weights, kinds."""

    platform: np.ndarray  # platform position of each agency (0 .. platforms - 1)
    platforms: int
    weights: np.ndarray  # recipient weight of each agency (ones unless traffic.recipients = "weighted")
    kinds: np.ndarray

    def per_platform(self, values: np.ndarray) -> np.ndarray:
        """Sum of per-agency ``values`` by platform."""
        return np.bincount(self.platform, weights=values, minlength=self.platforms)


class _Copies(NamedTuple):
    """Electronic copies per second, summed over the senders."""

    into: np.ndarray  # (agencies,) delivered to each agency
    sent: np.ndarray  # (agencies,) sent by each agency
    into_platform: np.ndarray  # (platforms,) entering each platform from another platform
    out_platform: np.ndarray  # (platforms,) leaving each platform for another platform

    @classmethod
    def zeros(cls, network: _Network) -> "_Copies":
        n = len(network.platform)
        return cls(np.zeros(n), np.zeros(n), np.zeros(network.platforms), np.zeros(network.platforms))


class _Visits(NamedTuple):
    """Document visits per second (a document visits each station of its delivery tree once)."""

    sender: np.ndarray  # (agencies,) documents each agency sends electronically: its system and its platform
    platform: np.ndarray  # (platforms,) documents reaching each platform from another platform
    hub: float

    @classmethod
    def zeros(cls, network: _Network) -> "_Visits":
        return cls(np.zeros(len(network.platform)), np.zeros(network.platforms), 0.0)


_Sums = TypeVar("_Sums", _Copies, _Visits)


def _plus(left: _Sums, right: _Sums) -> _Sums:
    """Element-wise sum of two named tuples of the same type."""
    return type(left)(*(a + b for a, b in zip(left, right)))


def _periods(horizon: float, times: np.ndarray, clock: OpenClock) -> list[tuple[float, float]]:
    """``(start, share of open time)`` of each period in which the set of connected agencies is fixed.

    Connection changes only at the agencies' connection times, so the flows
    are exact per period and weighed by the period's share of open time.
    Periods without open time are left out.
    """
    starts = np.unique(np.concatenate([[0.0], times[(times > 0) & (times < horizon)]]))
    ends = np.append(starts[1:], horizon)
    shares = (clock.open_before(ends) - clock.open_before(starts)) / clock.open_seconds if clock.open_seconds else 0 * starts
    return [(start, share) for start, share in zip(starts.tolist(), shares.tolist()) if share > 0]


def _pattern_copies(network: _Network, flow: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray) -> _Copies:
    r"""Copy flows when a document of sender :math:`o` sends :math:`(a_o + b_o [p_r = p_o])\, x_r` copies to each :math:`r \ne o`.

    Every sum over senders is a total minus the sender's own term, so the
    cost is linear in the number of agencies. With :math:`f` the senders'
    document flows, :math:`F_a = \sum_o f_o a_o` and :math:`X_p` the sum of
    :math:`x` on platform :math:`p`:

    .. math::

        \text{into}_r = x_r \Big(F_a - f_r a_r + \sum_{o \ne r,\, p_o = p_r} f_o b_o\Big), \qquad
        \text{off}_o = f_o a_o (X - X_{p_o})
    """
    fa = np.where(flow > 0, flow * a, 0.0)  # a sender without flow sends nothing (its coefficients may be inf)
    fb = np.where(flow > 0, flow * b, 0.0)
    x_total, x_platform = x.sum(), network.per_platform(x)
    x_own = x_platform[network.platform]
    total_a = fa.sum()
    into = x * (total_a - fa + network.per_platform(fb)[network.platform] - fb)
    sent = fa * (x_total - x) + fb * (x_own - x)
    off = fa * (x_total - x_own)
    return _Copies(into, sent, x_platform * (total_a - network.per_platform(fa)), network.per_platform(off))


def _single_coefficients(network: _Network, single_share: float, local_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Single-recipient documents as a copy pattern: ``a`` per unit of weight anywhere, ``b`` more on the own platform.

    A recipient is chosen by weight among the other agencies; with
    ``local_share`` > 0, that share of documents chooses among the other
    agencies behind the sender's platform instead (when there are any with
    weight).
    """
    weights = network.weights
    others = weights.sum() - weights
    local_total = network.per_platform(weights)[network.platform] - weights
    local = (local_share > 0) & (local_total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = single_share * np.where(local, 1 - local_share, 1.0) / others
        b = single_share * np.where(local, local_share / np.where(local, local_total, 1.0), 0.0)
    return a, b


def _single_part(network: _Network, coefficients: tuple[np.ndarray, np.ndarray], flow: np.ndarray,
                 connected: np.ndarray) -> tuple[_Copies, _Visits]:
    """Copies and visits of single-recipient documents: one copy, visits where it goes."""
    a, b = coefficients
    copies = _pattern_copies(network, flow, a, b, connected * network.weights)
    return copies, _Visits(copies.sent, copies.into_platform, float(copies.out_platform.sum()))


def _fanout_part(network: _Network, fan: FanoutSpec, flow: np.ndarray, connected: np.ndarray) -> tuple[_Copies, _Visits]:
    r"""Copies and visits of one fan-out group: ``fan.recipients`` uniform recipients among its members.

    A sender that is a member itself (``inside = 1``) chooses among the
    :math:`M - 1` others, any other sender among all :math:`M`; a platform, or
    the hub, is visited when at least one chosen recipient is connected behind
    it (hypergeometric, :func:`_any_chosen`). A sender with flow is connected,
    so it is one of the connected members exactly when it is a member.
    """
    member = (network.kinds == fan.kind) if fan.kind is not None else np.ones(len(flow), dtype=bool)
    live = member * connected
    live_total, live_platform = float(live.sum()), network.per_platform(live)
    per_copy = np.zeros(2)
    sender, platform, hub = np.zeros(len(flow)), np.zeros(network.platforms), 0.0
    for inside, senders in enumerate((np.where(member, 0.0, flow), np.where(member, flow, 0.0))):
        m = int(member.sum()) - inside
        if m <= 0 or not senders.any():
            continue
        k = m if fan.recipients == "all" else min(int(fan.recipients), m)
        per_copy[inside] = fan.share * k / m
        by_platform = network.per_platform(senders)
        sender += senders * fan.share * float(_any_chosen(m, live_total - inside, k))
        platform += fan.share * _any_chosen(m, live_platform, k) * (senders.sum() - by_platform)
        hub += fan.share * float((by_platform * _any_chosen(m, live_total - live_platform, k)).sum())
    copies = _pattern_copies(network, flow, np.where(member, per_copy[1], per_copy[0]), np.zeros(len(flow)), live)
    return copies, _Visits(sender, platform, hub)


def _station_values(topology: Topology, platform_index: np.ndarray, agency: np.ndarray, platform: np.ndarray,
                    hub: float) -> np.ndarray:
    """Per-agency, per-platform and hub figures laid out like ``topology.stations``."""
    index_of = {agency_id: i for i, agency_id in enumerate(topology.agencies.ids)}
    values = np.zeros(len(topology.stations))
    for node, station in topology.station_index.items():
        if node == HUB:
            values[station] = hub
            continue
        kind, _, agency_id = node.partition(":")
        i = index_of[agency_id]
        values[station] = platform[platform_index[i]] if kind in ("platform", "link") else agency[i]
    return values


def _electronic_sums(scenario: Scenario, network: _Network, may_go: np.ndarray, connect_time: np.ndarray,
                     clock: OpenClock) -> tuple[_Copies, _Visits]:
    """Copies and document visits per second over the horizon, summed over the traffic parts.

    Each period of fixed connection counts with its share of open time;
    ``may_go`` is each agency's documents per second that go electronic when
    the recipient is connected.
    """
    traffic = scenario.traffic
    single_share = 1.0 - sum(fan.share for fan in traffic.fanout)
    single = _single_coefficients(network, single_share, traffic.local_share) if single_share > 0 else None
    copies, visits = _Copies.zeros(network), _Visits.zeros(network)
    for start, share in _periods(scenario.run.horizon, connect_time, clock):
        connected = (connect_time <= start).astype(float)
        flow = may_go * connected * share
        parts = [_single_part(network, single, flow, connected)] if single is not None else []
        parts += [_fanout_part(network, fan, flow, connected) for fan in traffic.fanout]
        for part_copies, part_visits in parts:
            copies, visits = _plus(copies, part_copies), _plus(visits, part_visits)
    return copies, visits


def _flows(scenario: Scenario, topology: Topology) -> dict[str, Any]:
    """Traffic equations, and the copy flows the latency formula weighs.

    Linear in the number of agencies per period of fixed connection: each
    traffic part (single recipients, each fan-out group) sums over senders in
    closed form (:func:`_pattern_copies`, :func:`_fanout_part`).
    """
    require_finite(scenario, topology)
    table = topology.agencies
    traffic = scenario.traffic
    clock = OpenClock(scenario.calendar, scenario.run.horizon)
    platform_index = np.unique(table.platform_of, return_inverse=True)[1].reshape(-1)
    weights = table.weight.copy() if traffic.recipients == "weighted" else np.ones(len(table))
    network = _Network(platform_index, int(platform_index.max()) + 1, weights, np.array(table.kinds))
    rate = table.rate * clock.open_fraction
    may_go = rate * (1.0 - traffic.types.classified) * table.adoption  # documents/s that may go electronic
    copies, visits = _electronic_sums(scenario, network, may_go, table.connect_time, clock)
    n_status = len(traffic.statuses)
    # each status travels the whole path back: recipient agency, its platform, (hub, sender platform), sender
    doc = _station_values(topology, platform_index, visits.sender + copies.into,
                          network.per_platform(visits.sender) + visits.platform, visits.hub)
    status = n_status * _station_values(topology, platform_index, copies.into + copies.sent,
                                        network.per_platform(copies.into) + copies.out_platform,
                                        float(copies.out_platform.sum()))
    return {
        "documents": doc,
        "statuses": status,
        "total": doc + status,
        "copies": float(copies.into.sum()),
        "documents_per_second": float(rate.sum()),
        "electronic_documents_per_second": float(visits.sender.sum()),
        "platform_index": platform_index,
        "copies_into": copies.into,
        "sent_by_agency": copies.sent,
        "off_platform_into": copies.into_platform,
        "hub_copies": float(copies.out_platform.sum()),
    }


@dataclass(frozen=True)
class StationPrediction:
    """The analytic figures of one station (rates per second, times in seconds).

    ``utilization`` is the average over the horizon (what a simulation
    measures); ``peak_utilization`` the load while offices are open, when the
    scenario has a working calendar (all traffic scaled to open hours: an
    upper estimate, since status messages also trickle in outside them).
    ``busiest_hour_utilization`` is the load in the busiest hour of the
    calendar's profile (:attr:`Prediction.busiest_hour`): documents at the
    hour's factor times their open-hours rate, status messages (which follow
    deliveries by minutes to days) at their open-hours rate; with a flat
    calendar, ``peak_utilization``.
    ``availability`` is the long-run share of time the station is up
    (:func:`availability`); ``standby_share`` the share its standby serves in
    its place (:func:`standby_share`: the time down beyond each switchover),
    at ``standby_capacity`` times the station's capacity (servers over mean
    service); ``service_availability`` is their sum. It keeps up on average
    only while ``load_when_up < 1`` (``stable``): utilisation over
    availability, the standby's time counted at its capacity.
    """

    name: str
    kind: str
    servers: int
    arrival_rate: float
    mean_service: float
    utilization: float
    peak_utilization: float
    stable: bool
    mean_wait: float
    mean_sojourn: float
    availability: float = 1.0
    busiest_hour_utilization: float = math.nan
    standby_share: float = 0.0
    standby_capacity: float = 1.0

    @property
    def service_availability(self) -> float:
        """Share of time something serves: the station up, or its standby serving in its place."""
        return self.availability + self.standby_share

    @property
    def load_when_up(self) -> float:
        """Utilisation divided by the capacity left by the time down: the load on the time something serves.

        Without a standby, utilisation divided by availability; with one, the standby's share of the time
        counts at its capacity relative to the station's (``standby_capacity``). 1 or more cannot keep up.
        """
        serving = self.availability + self.standby_share * self.standby_capacity
        return self.utilization / serving if serving > 0 else math.inf


@dataclass(frozen=True)
class Prediction:
    """The analytic prediction for a scenario.

    Attributes
    ----------
    stations : tuple of StationPrediction
    bottleneck : StationPrediction
        The station with the highest utilisation.
    headroom : float
        Factor by which all traffic can grow before the bottleneck reaches
        utilisation 1 in open hours (``inf`` without traffic).
    headroom_80 : float
        The same up to utilisation 0.8.
    latency_mean : float
        Mean end-to-end latency of an electronic copy, seconds (``inf`` if a
        station on the way is unstable).
    exact : bool
        True when the assumptions of an open Jackson network hold.
    caveats : tuple of str
        Why the figures are approximations, when they are.
    busiest_hour : BusiestHour or None
        With a working calendar, the busiest open stretch of the horizon and
        its document rate relative to the mean of open time (1 without a
        profile); None without a calendar.
    """

    stations: tuple[StationPrediction, ...]
    bottleneck: StationPrediction | None
    headroom: float
    headroom_80: float
    latency_mean: float
    exact: bool
    caveats: tuple[str, ...]
    busiest_hour: BusiestHour | None = None

    @property
    def busiest_hour_station(self) -> StationPrediction | None:
        """The station with the highest utilisation in the busiest hour (None without stations)."""
        return max(self.stations, key=lambda s: s.busiest_hour_utilization, default=None)

    @property
    def busiest_hour_utilization(self) -> float:
        """Utilisation of :attr:`busiest_hour_station` in the busiest hour (NaN without stations)."""
        station = self.busiest_hour_station
        return station.busiest_hour_utilization if station is not None else math.nan


def electronic_share(scenario: Scenario, topology: Topology) -> float:
    r"""Expected share of documents sent electronically (at least one electronic copy).

    A document from agency :math:`o` goes electronically with probability
    :math:`\text{connected}_o (1 - p_{\text{classified}})\, \text{adoption}_o`
    times the probability that at least one of its recipients is connected;
    the share weighs agencies by their document rates.

    Parameters
    ----------
    scenario : Scenario
        The scenario: connections, adoption, the classified share and the
        document rates.
    topology : Topology
        ``build_topology(scenario)``.

    Returns
    -------
    float
        The expected electronic share of documents, between 0 and 1.

    Examples
    --------
    >>> from simulator.scenario import load_scenario
    >>> from simulator.topology import build_topology
    >>> s = load_scenario('[kinds.agency]\nrate = "1/h"\nadoption = 0.9\n[traffic.types]\nclassified = 0.04\n'
    ...                   '[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"')
    >>> round(electronic_share(s, build_topology(s)), 6)
    0.864
    """
    return _electronic_share(_flows(scenario, topology))


def _electronic_share(flows: dict[str, Any]) -> float:
    """Electronic documents over all documents, from the traffic equations (NaN without documents)."""
    total = float(flows["documents_per_second"])
    return float(flows["electronic_documents_per_second"]) / total if total > 0 else math.nan


@dataclass(frozen=True)
class ConnectStep:
    """The prediction after connecting the first ``connected`` agencies of a roadmap."""

    connected: int
    agency: str | None
    electronic_share: float
    bottleneck: str | None
    peak_utilization: float
    over_threshold: tuple[str, ...]


def connect_headroom(scenario: Scenario, order: tuple[str, ...] | None = None,
                     threshold: float | None = None) -> list[ConnectStep]:
    """Connect agencies one by one (in ``order``) and predict the bottleneck after each step.

    Parameters
    ----------
    scenario : Scenario
    order : tuple of str, optional
        Agency ids to connect, in order (default: the agencies of
        ``scenario.connection.order`` that are not connected yet).
    threshold : float, optional
        Utilisation that counts as saturated (default: ``scenario.analysis.threshold``).

    Returns
    -------
    list of ConnectStep
        Step 0 is the scenario as given; step k has the first k agencies connected.
    """
    from .topology import build_topology

    given = build_topology(scenario)
    table = given.agencies
    if order is None:
        order = tuple(a for a in scenario.connection.order if table.connect_time[table.index(a)] > 0)
    threshold = scenario.analysis.threshold if threshold is None else threshold
    steps = []
    for k in range(len(order) + 1):
        variant = _with_connected(scenario, order[:k], table)
        topology = build_topology(variant) if k else given
        flows = _flows(variant, topology)  # once per step: the prediction and the share both read it
        prediction = _prediction(variant, topology, flows)
        bottleneck = prediction.bottleneck
        steps.append(ConnectStep(
            connected=k, agency=order[k - 1] if k else None,
            electronic_share=_electronic_share(flows),
            bottleneck=bottleneck.name if bottleneck else None,
            peak_utilization=bottleneck.peak_utilization if bottleneck else 0.0,
            over_threshold=tuple(s.name for s in prediction.stations if s.peak_utilization >= threshold)))
    return steps


@dataclass(frozen=True)
class PlatformChange:
    """Load of one 2025 provincial platform against the platforms of the provinces it absorbed."""

    province: str
    predecessors: tuple[str, ...]
    arrivals_before: float
    arrivals_after: float
    peak_utilization_before: float
    peak_utilization_after: float

    @property
    def factor(self) -> float:
        """How many times the busiest predecessor platform's load the merged platform carries."""
        return self.peak_utilization_after / self.peak_utilization_before if self.peak_utilization_before else math.inf


def reform_load_change(scenario: Scenario) -> list[PlatformChange]:
    """Per 2025 province: platform arrivals and open-hours utilisation before and after ``merge-2025``.

    "Before" is the same scenario without the reform (one platform per
    pre-merger province): the sum of its predecessors' arrivals and the
    highest of their utilisations. Both sides are analytic predictions.

    Parameters
    ----------
    scenario : Scenario
        A scenario on the 2025 structure with ``reform = "merge-2025"``.

    Returns
    -------
    list of PlatformChange
        One entry per 2025 province platform, busiest first: its arrivals per
        second and open-hours utilisation after the merger, and before it
        (the predecessors' summed arrivals and highest utilisation).
    """
    from .structures import province_successors
    from .topology import build_topology

    if scenario.network.reform != "merge-2025":
        return []
    before_scenario = scenario.replace(network=scenario.network.model_copy(update={"reform": "none"}))
    before_top, after_top = build_topology(before_scenario), build_topology(scenario)
    before, after = predict(before_scenario, before_top), predict(scenario, after_top)

    def by_node(topology: Topology, prediction: Prediction) -> dict[str, StationPrediction]:
        return {node: prediction.stations[i] for node, i in topology.station_index.items()}

    old, new = by_node(before_top, before), by_node(scenario_top := after_top, after)
    del scenario_top
    groups: dict[str, list[str]] = {}
    for province, successor in province_successors().items():
        groups.setdefault(successor, []).append(province)
    changes = []
    for successor, members in sorted(groups.items()):
        node = f"platform:{successor}"
        if node not in new:
            continue
        previous = [old[f"platform:{m}"] for m in members if f"platform:{m}" in old]
        changes.append(PlatformChange(
            province=new[node].name.removesuffix(" (platform)"), predecessors=tuple(sorted(members)),
            arrivals_before=sum(p.arrival_rate for p in previous), arrivals_after=new[node].arrival_rate,
            peak_utilization_before=max((p.peak_utilization for p in previous), default=0.0),
            peak_utilization_after=new[node].peak_utilization))
    return sorted(changes, key=lambda c: c.peak_utilization_after, reverse=True)


def _with_connected(scenario: Scenario, ids: tuple[str, ...], table: AgencyTable) -> Scenario:
    """The scenario with ``ids`` connected: every resolved flag of the order written out per agency.

    ``table`` is the agency table of ``scenario`` as given (built once by the caller).
    """
    if not ids:
        return scenario
    from .scenario import AgencySpec

    index_of = {agency_id: i for i, agency_id in enumerate(table.ids)}
    flags = {a: bool(table.connect_time[index_of[a]] <= 0) for a in scenario.connection.order}  # from the start
    flags.update({a: True for a in ids})
    agencies = list(scenario.agencies)
    position = {a.id: i for i, a in enumerate(agencies)}
    for agency_id, flag in flags.items():
        if agency_id in position:
            agencies[position[agency_id]] = agencies[position[agency_id]].model_copy(update={"connected": flag})
        else:
            agencies.append(AgencySpec(id=agency_id, connected=flag))
    return scenario.replace(agencies=tuple(agencies),
                            connection=scenario.connection.model_copy(update={"connected": None, "every": None}))


def failure_rate(failures: Failures, work: float) -> float:
    """Failures per second of a station doing ``work`` server-seconds of service per second.

    On the calendar one per mean time between failures plus mean repair; on
    a busy clock (``clock = "busy"``) one per mean work between failures done,
    whatever the repairs (exact for any laws, as long as the station keeps up).

    Parameters
    ----------
    failures : Failures
        The station's failures: mean time (or work) between them, repairs,
        clock.
    work : float
        Server-seconds of service per second the station does.

    Returns
    -------
    float
        Failures per second.

    Examples
    --------
    >>> from simulator.scenario import Distribution, Failures
    >>> failure_rate(Failures(between=Distribution(mean=18.0), repair=Distribution(mean=2.0)), 0.5)
    0.05
    >>> failure_rate(Failures(between=Distribution(mean=10.0), repair=Distribution(mean=2.0), clock="busy"), 0.5)
    0.05
    """
    if failures.clock == "busy":
        return work / failures.between.mean
    cycle = failures.between.mean + failures.repair.mean
    return 1.0 / cycle if cycle > 0 else 0.0


def availability(station: Station, horizon: float, work: float = 0.0) -> float:
    """Long-run share of time a station is up, from its failures and outages.

    Failures by chance: one minus the failure rate (:func:`failure_rate`,
    which for a busy clock needs the station's ``work``, server-seconds of
    service per second) times the mean repair time; on the calendar, the mean
    time between failures over that plus the mean repair time. A repeating
    outage: 1 - duration / period; a one-off outage: 1 - its share of the
    horizon. Independent causes multiply.

    Parameters
    ----------
    station : Station
        The station, with its ``outages`` and ``failures``.
    horizon : float
        Simulated time, seconds (the share a one-off outage takes of it).
    work : float, optional
        Server-seconds of service per second the station does (its offered
        load); used only by failures on a busy clock.

    Returns
    -------
    float
        The share of time up, between 0 and 1.

    Examples
    --------
    >>> from simulator.scenario import Distribution, Failures, Outage
    >>> from simulator.topology import Station
    >>> hub = Station("hub", "hub", "hub", 1, Distribution(mean=1.0), None,
    ...               (Outage(start=0.0, duration=3600.0, every=86400.0),),
    ...               Failures(between=Distribution(mean=27.0 * 3600), repair=Distribution(mean=3.0 * 3600)))
    >>> round(availability(hub, 7 * 86400.0), 4)  # (23/24) * (27/30)
    0.8625
    """
    up = 1.0
    if station.failures is not None:
        between, repair = station.failures.between.mean, station.failures.repair.mean
        if station.failures.clock == "busy":
            up *= max(0.0, 1.0 - failure_rate(station.failures, work) * repair)
        else:
            up *= between / (between + repair) if between + repair > 0 else 1.0
    for window in station.outages:
        if window.start >= horizon:
            continue
        if window.every is not None:
            up *= 1.0 - window.duration / window.every
        elif horizon > 0:
            up *= 1.0 - max(0.0, min(window.start + window.duration, horizon) - window.start) / horizon
    return up


def mean_excess(distribution: Distribution, threshold: float) -> float:
    """``E[max(0, X - threshold)]`` for ``X`` of ``distribution``: the part of a repair beyond a switchover.

    Exact for each supported law (the lognormal's is Black and Scholes's call price, the gamma's from the
    incomplete gamma function).

    Parameters
    ----------
    distribution : Distribution
        The law of ``X`` (a repair time), seconds.
    threshold : float
        The threshold (a switchover time), seconds.

    Returns
    -------
    float
        ``E[max(0, X - threshold)]``, seconds.

    Examples
    --------
    >>> round(mean_excess(Distribution(mean=7200.0), 300.0), 1)  # exponential: 7200 e^(-300/7200)
    6906.2
    >>> mean_excess(Distribution(distribution="deterministic", mean=7200.0), 300.0)
    6900.0
    """
    mean = distribution.mean
    kind = distribution.distribution
    if threshold <= 0.0:
        return mean
    if kind == "deterministic" or mean == 0.0:
        return max(0.0, mean - threshold)
    if kind == "exponential":
        return mean * math.exp(-threshold / mean)
    scv = distribution.scv
    if kind == "gamma":
        from scipy.special import gammaincc

        shape = 1.0 / scv
        x = threshold * shape / mean
        return float(mean * gammaincc(shape + 1.0, x) - threshold * gammaincc(shape, x))
    sigma = math.sqrt(math.log1p(scv))  # lognormal with the given mean and cv
    d2 = (math.log(mean) - sigma * sigma / 2 - math.log(threshold)) / sigma
    return mean * _normal_cdf(d2 + sigma) - threshold * _normal_cdf(d2)


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def standby_share(station: Station, horizon: float, work: float = 0.0) -> float:
    """Long-run share of time a station's standby serves in its place: the time down beyond each switchover.

    A failure's repair ``R`` gives the standby ``E[max(0, R - switchover)]``
    (:func:`mean_excess`) per failure (:func:`failure_rate`, for a station
    doing ``work`` server-seconds of service per second); an outage its duration beyond the switchover, per period (or over
    the horizon for a one-off outage). Causes add up (their overlaps are
    neglected), at most the time down. 0 without a standby.

    Parameters
    ----------
    station : Station
        The station, with its ``standby``, ``outages`` and ``failures``.
    horizon : float
        Simulated time, seconds.
    work : float, optional
        Server-seconds of service per second the station does.

    Returns
    -------
    float
        The share of time the standby serves, between 0 and 1.

    Examples
    --------
    >>> from simulator.scenario import Distribution, Failures, Standby
    >>> from simulator.topology import Station
    >>> hub = Station("hub", "hub", "hub", 1, Distribution(mean=1.0), None, (),
    ...               Failures(between=Distribution(mean=718.0 * 3600), repair=Distribution(
    ...                   distribution="deterministic", mean=2.0 * 3600)),
    ...               standby=Standby(service=Distribution(mean=1.0), switchover=1800.0))
    >>> round(standby_share(hub, 7 * 86400.0), 6)  # 1.5 h of each 720 h
    0.002083
    """
    if station.standby is None:
        return 0.0
    switchover = station.standby.switchover
    share = 0.0
    if station.failures is not None:
        between, repair = station.failures.between.mean, station.failures.repair.mean
        if station.failures.clock == "busy":
            share += mean_excess(station.failures.repair, switchover) * failure_rate(station.failures, work)
        elif between + repair > 0:
            share += mean_excess(station.failures.repair, switchover) / (between + repair)
    for window in station.outages:
        if window.start >= horizon:
            continue
        if window.every is not None:
            share += max(0.0, window.duration - switchover) / window.every
        elif horizon > 0:
            share += max(0.0, min(window.start + window.duration, horizon) - window.start - switchover) / horizon
    return min(share, 1.0 - availability(station, horizon, work))


def _caveats(scenario: Scenario, topology: Topology) -> tuple[str, ...]:
    notes = []
    if scenario.calendar is not None:
        notes.append("working-hours calendar: rates are averaged over the horizon; busy hours queue more")
    if scenario.calendar is not None and scenario.calendar.profile is not None:
        notes.append("time profile: in the busiest hour only documents follow the profile, status messages come at "
                     "their mean open-hours rate")
    if any(s.service.distribution != "exponential" for s in topology.stations):
        notes.append("non-exponential service: Allen-Cunneen approximation")
    if any(s.buffer is not None for s in topology.stations):
        notes.append("finite buffers: losses are ignored")
    if any(s.can_go_down for s in topology.stations):
        notes.append("outages and failures count only as lost capacity (utilisation / availability); the queues "
                     "they build and the resends are not in the formulas")
    if scenario.traffic.statuses:
        notes.append("status messages are not Poisson (they follow deliveries)")
    if scenario.traffic.fanout:
        notes.append("fan-out documents arrive in batches downstream of the split")
    if scenario.traffic.types.urgent > 0:
        notes.append("urgent priority changes waits by class (the mean over classes is shown)")
    if scenario.traffic.script:
        notes.append("scripted documents are not in the traffic equations")
    if any(v > 0 for v in (scenario.network.access.latency, scenario.network.backbone.latency)) or any(
            b is not None for b in (scenario.network.access.bandwidth, scenario.network.backbone.bandwidth)):
        pass  # link delays add a constant; exact all the same
    return tuple(notes)


def predict(scenario: Scenario, topology: Topology) -> Prediction:
    """Utilisation, waits, bottleneck, headroom and mean latency, without simulating.

    Parameters
    ----------
    scenario : Scenario
    topology : Topology

    Returns
    -------
    Prediction
    """
    return _prediction(scenario, topology, _flows(scenario, topology))


def _open_load(utilization: float, open_fraction: float) -> float:
    """The load while offices are open, from the load over the horizon: infinite for load without open time."""
    if open_fraction > 0:
        return utilization / open_fraction
    return math.inf if utilization > 0 else 0.0


def _prediction(scenario: Scenario, topology: Topology, flows: dict[str, Any]) -> Prediction:
    """:func:`predict` from flows already solved (:func:`_flows`)."""
    rates = flows["total"]
    clock = OpenClock(scenario.calendar, scenario.run.horizon)
    open_fraction = clock.open_fraction
    factor = clock.busiest_hour.factor if clock.busiest_hour is not None else 1.0
    # in the busiest hour the documents come at `factor` times their mean open-hour rate, status messages at theirs
    # no open time in the horizon (a night, a weekend): no documents, and a station that still had some would be
    # overloaded in the open hours it does not have (0 x inf would be NaN, with a warning)
    busiest = ((flows["documents"] * factor + flows["statuses"]) / open_fraction if open_fraction > 0
               else np.where(rates > 0, math.inf, 0.0))
    stations = []
    for station, lam, lam_busiest in zip(topology.stations, rates, busiest):
        mean = station.service.mean
        utilization = lam * mean / station.servers
        up = availability(station, scenario.run.horizon, float(lam * mean))
        spare = standby_share(station, scenario.run.horizon, float(lam * mean))
        relative = 1.0
        if station.standby is not None:  # the standby's capacity relative to the station's
            relative = (station.standby.servers / station.standby.service.mean * mean / station.servers
                        if station.standby.service.mean > 0 and mean > 0 else 1.0)
        stable = utilization < up + spare * relative
        wait = mgc_wait(lam, mean, station.service.scv, station.servers) if stable and utilization < 1.0 else math.inf
        stations.append(StationPrediction(station.name, station.kind, station.servers, float(lam), mean,
                                          float(utilization), _open_load(float(utilization), open_fraction),
                                          bool(stable), float(wait), float(wait + mean), up,
                                          float(lam_busiest * mean / station.servers), float(spare), float(relative)))
    bottleneck = max(stations, key=lambda s: s.peak_utilization, default=None)
    top = bottleneck.peak_utilization if bottleneck else 0.0
    headroom = 1.0 / top if top > 0 else math.inf
    with np.errstate(invalid="ignore"):  # an unstable station (inf) on a path no copy takes
        latency = _latency(scenario, topology, stations, flows)
    caveats = _caveats(scenario, topology)
    return Prediction(tuple(stations), bottleneck, headroom, 0.8 * headroom, latency, not caveats, caveats,
                      clock.busiest_hour)


def _latency(scenario: Scenario, topology: Topology, stations: list[StationPrediction],
             flows: dict[str, Any]) -> float:
    r"""Mean over electronic copies of the sojourns and link delays along the route.

    A copy from :math:`o` to :math:`r` passes :math:`o`'s agency and platform,
    :math:`r`'s agency, and, between platforms, the hub and :math:`r`'s
    platform; summing the sojourns weighted by the copy flows gives

    .. math:: \bar T = \frac{\sum_o s_o A_o + \sum_p s_p P_p + \sum_r c_r A_r + \sum_p x_p P_p + h H}{\sum_r c_r}

    with :math:`s` copies sent, :math:`c` copies received, :math:`x` copies
    entering a platform from another, :math:`h` copies crossing the hub, and
    :math:`A, P, H` the agency, platform and hub times (links included).
    """
    table = topology.agencies
    n = len(table)
    platform_index = flows["platform_index"]
    sojourn = {node: stations[i].mean_sojourn for node, i in topology.station_index.items()}
    size = scenario.traffic.size.mean

    def link(spec: object) -> float:
        return spec.latency + (0.0 if spec.bandwidth is None else size / spec.bandwidth)  # type: ignore[attr-defined]

    access = link(scenario.network.access)
    agency_cost = np.array([sojourn.get(f"agency:{table.ids[i]}", 0.0) + access for i in range(n)])
    platform_cost = np.zeros(platform_index.max() + 1)
    for i in range(n):
        platform_cost[platform_index[i]] = sojourn.get(f"platform:{table.ids[table.platform_of[i]]}", 0.0)
    hub_cost = sojourn.get(HUB, 0.0) + 2 * link(scenario.network.backbone)
    copies = float(flows["copies"])
    if copies <= 0:
        return math.nan
    sent_by_platform = np.bincount(platform_index, weights=flows["sent_by_agency"], minlength=len(platform_cost))
    parts = [(flows["sent_by_agency"], agency_cost), (sent_by_platform, platform_cost),
             (flows["copies_into"], agency_cost), (flows["off_platform_into"], platform_cost)]
    total = sum(float(np.where(weight > 0, weight * cost, 0.0).sum()) for weight, cost in parts)
    total += flows["hub_copies"] * hub_cost if flows["hub_copies"] > 0 else 0.0
    return total / copies


# --------------------------------------------------------------------------- fluid backlog over the calendar

#: Step of the fluid model's time grid, seconds (5 minutes: fine against hours of backlog).
FLUID_STEP = 300.0


def fluid_backlog(load: np.ndarray, step: float) -> np.ndarray:
    r"""The backlog of a station fed as a fluid, at the end of each step of a load profile.

    Over a step of length :math:`\Delta` at load :math:`u` (arrival rate
    over the capacity :math:`c\mu`), the work waiting, in seconds of the
    station at full capacity, moves by :math:`(u - 1)\Delta` and never falls
    below 0: :math:`B_k = \max(0, B_{k-1} + (u_k - 1)\Delta)`, Lindley's
    recursion for a deterministic flow, which is
    :math:`S_k - \min(0, \min_{j \le k} S_j)` with :math:`S` the cumulative
    sums. A document arriving when the backlog is :math:`B` waits :math:`B`
    (first come, first served). While offices are open and the load exceeds 1
    the backlog grows at :math:`u - 1`; once they close it drains at 1 (less
    the load that still comes in).

    Parameters
    ----------
    load : array
        Load per step (last axis: time); several stations as rows.
    step : float
        Length of a step, seconds.

    Returns
    -------
    array
        The backlog after each step, seconds, shaped like ``load``.

    Examples
    --------
    Twice the capacity for two hours, then closed: the last document of the
    rush waits two hours, and the queue is empty two hours later.

    >>> (fluid_backlog(np.array([2.0, 2.0, 0.0, 0.0, 0.0]), 3600.0) / 3600).tolist()
    [1.0, 2.0, 1.0, 0.0, 0.0]
    """
    totals = np.cumsum((np.asarray(load, dtype=float) - 1.0) * step, axis=-1)
    return totals - np.minimum(np.minimum.accumulate(totals, axis=-1), 0.0)


def calendar_pattern(clock: OpenClock, step: float = FLUID_STEP) -> np.ndarray:
    """Document creation per step of the horizon, relative to its mean over the horizon.

    Read off the calendar the simulation uses (:class:`~simulator.clock.OpenClock`):
    closed steps (nights, days off, holidays) are 0, open ones carry the
    profile's hour, weekday and date factors.

    Parameters
    ----------
    clock : OpenClock
    step : float
        Length of a step, seconds.

    Returns
    -------
    array
        One value per step (the last one may be shorter), mean 1 when there is open time.

    Examples
    --------
    >>> from simulator.scenario import CalendarSpec
    >>> clock = OpenClock(CalendarSpec(weekdays=("mon",), hours=((0.0, 43200.0),)), 86400.0)
    >>> calendar_pattern(clock, 3 * 3600.0).tolist()   # open half of Monday: twice the mean rate then
    [2.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0]
    """
    edges = np.append(np.arange(0.0, clock.horizon, step), clock.horizon)
    rate = np.diff(clock.open_before(edges)) / np.diff(edges)
    mean = clock.open_seconds / clock.horizon if clock.horizon > 0 else 0.0
    return rate / mean if mean > 0 else rate


def lagged_pattern(pattern: np.ndarray, delays: list[float], step: float = FLUID_STEP) -> np.ndarray:
    r"""When status messages come, for documents created by ``pattern``: each status a delay after the previous one.

    Status :math:`k` follows status :math:`k-1` (the first follows the
    delivery) by an exponential delay of mean ``delays[k]`` (the mean of
    whatever law the scenario gives; 0 means at once), so its rate is the
    previous one smoothed by :math:`e^{-\Delta/d}` per step. The result is
    the mean of the status patterns (each status is one message per copy).

    Parameters
    ----------
    pattern : array
        Document creation per step (:func:`calendar_pattern`).
    delays : list of float
        Mean delay of each status after the previous one, seconds.
    step : float

    Returns
    -------
    array
        The mean status rate per step, on the scale of ``pattern`` (``pattern``
        itself without delays).

    Examples
    --------
    >>> lagged_pattern(np.array([2.0, 0.0, 0.0]), [0.0, 0.0]).tolist()   # statuses at once: the documents' pattern
    [2.0, 0.0, 0.0]
    """
    if not delays:
        return np.asarray(pattern, dtype=float)
    current, total = np.asarray(pattern, dtype=float), np.zeros(len(pattern))
    for delay in delays:
        if delay > 0:
            current = _smoothed(current, math.exp(-step / delay))
        total = total + current
    return total / len(delays)


def _smoothed(values: np.ndarray, keep: float) -> np.ndarray:
    """Exponential smoothing from 0: ``out[k] = keep * out[k - 1] + (1 - keep) * values[k]``."""
    out = np.empty(len(values))
    level = 0.0
    for k, value in enumerate(values.tolist()):
        level = keep * level + (1.0 - keep) * value
        out[k] = level
    return out


def _copy_visits(topology: Topology, flows: dict[str, Any]) -> np.ndarray:
    """Electronic copies passing each station per second, laid out like ``topology.stations`` (weighed as in :func:`_latency`)."""
    platform_index = flows["platform_index"]
    sent_by_platform = np.bincount(platform_index, weights=flows["sent_by_agency"], minlength=int(platform_index.max()) + 1)
    return _station_values(topology, platform_index, flows["sent_by_agency"] + flows["copies_into"],
                           sent_by_platform + flows["off_platform_into"], flows["hub_copies"])


def fluid_latency_quantile(scenario: Scenario, topology: Topology, quantile: float) -> float:
    r"""A fluid estimate of a quantile of the latency of electronic copies: the backlog built in office hours.

    Every station is fed as a deterministic flow over the horizon, from
    empty: documents at the calendar's rate (:func:`calendar_pattern`: open
    hours, profile, holidays), status messages trailing them
    (:func:`lagged_pattern`), each at its mean rate over the horizon. Where
    the load passes the capacity in open hours, the backlog grows while
    offices are open and drains at night (:func:`fluid_backlog`); a copy
    arriving at time :math:`t` waits :math:`B(t)`. The share of the copies
    created after the warm-up that wait more than :math:`L` somewhere is
    bounded by the sum over stations of the copies passing each one when its
    backlog exceeds :math:`L` (a copy late at two stations counts twice); the
    estimate is the smallest :math:`L` at which that share falls to
    :math:`1 - q`.

    It leaves out the service times, link delays and the random (Poisson)
    part of the queues (seconds against hours of backlog) and outages: it
    places the latency a network reaches when it saturates in office hours,
    it is not an exact figure (on the national scenario it comes out about
    half the simulated 95th percentile, rising as steeply with the load).

    Parameters
    ----------
    scenario : Scenario
    topology : Topology
    quantile : float
        Between 0 and 1 (0.95 for ``latency_p95``).

    Returns
    -------
    float
        Seconds: 0 when no station builds a backlog beyond the quantile's
        share of the copies (without a calendar: while every station keeps
        up), ``inf`` when a station that copies pass is overloaded on
        average, NaN without electronic copies.
    """
    flows = _flows(scenario, topology)
    copies = float(flows["copies"])
    visits = _copy_visits(topology, flows)
    capacity = np.array([s.servers / s.service.mean if s.service.mean > 0 else math.inf for s in topology.stations])
    if copies <= 0:
        return math.nan
    if np.any((flows["total"] / capacity >= 1.0) & (visits > 0)):
        return math.inf
    if scenario.calendar is None:
        return 0.0
    documents = calendar_pattern(OpenClock(scenario.calendar, scenario.run.horizon))
    statuses = lagged_pattern(documents, [s.after.mean for s in scenario.traffic.statuses])
    used = visits > 0
    load = (np.outer(flows["documents"][used] / capacity[used], documents)
            + np.outer(flows["statuses"][used] / capacity[used], statuses))
    after = fluid_backlog(load, FLUID_STEP)
    backlog = (after + np.concatenate([np.zeros((len(after), 1)), after[:, :-1]], axis=1)) / 2  # mid-step
    warmup = scenario.run.warmup if isinstance(scenario.run.warmup, float) else 0.0
    measured = documents * (np.arange(len(documents)) * FLUID_STEP >= warmup)
    if measured.sum() <= 0:
        return 0.0
    # the share of the copies each (station, step) holds: copies arrive with the documents' pattern
    share = np.outer(visits[used] / copies, measured / measured.sum())
    late = (backlog > 0) & (share > 0)
    waits, weights = backlog[late], share[late]
    order = np.argsort(-waits, kind="stable")
    beyond = np.cumsum(weights[order])  # the share of copies waiting at least each wait, longest first
    index = int(np.searchsorted(beyond, 1.0 - quantile, side="right"))
    return float(waits[order][index]) if index < len(waits) else 0.0
