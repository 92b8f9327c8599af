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
from typing import Any

import numpy as np
from scipy.special import gammaln

from .scenario import Scenario
from .topology import HUB, Topology
from .traffic import OpenClock

__all__ = [
    "StationPrediction",
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
]


def erlang_c(servers: int, offered_load: float) -> float:
    r"""Probability that an arrival waits in an M/M/c queue (Erlang C).

    .. math::

        C(c, a) = \frac{\frac{a^c}{c!}\frac{c}{c-a}}
                       {\sum_{k=0}^{c-1}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{c}{c-a}}

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
    """
    if offered_load >= servers:
        return 1.0
    if offered_load <= 0:
        return 0.0
    # Erlang B by the stable recursion, then C from B.
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1.0 - rho + rho * blocking)


def erlang_b(servers: int, offered_load: float) -> float:
    r"""Blocking probability of an M/M/c/c loss system (Erlang B).

    .. math:: B(c, a) = \frac{a^c / c!}{\sum_{k=0}^{c} a^k / k!}

    computed by the stable recursion :math:`B(k) = a B(k-1) / (k + a B(k-1))`.

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 10)   # (1/2) / (1 + 1 + 1/2)
    0.2
    """
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> dict[str, float]:
    r"""Exact M/M/c/K figures: blocking probability, mean number in system, mean sojourn of admitted jobs.

    ``capacity`` :math:`K \ge c` counts jobs in service and waiting. With
    :math:`a = \lambda/\mu`, the stationary probabilities are

    .. math::

        p_n = p_0 \frac{a^n}{n!} \; (n \le c), \qquad
        p_n = p_0 \frac{a^n}{c!\, c^{n-c}} \; (c < n \le K),

    blocking is :math:`p_K`, and by Little's law the mean sojourn of admitted
    jobs is :math:`L / (\lambda (1 - p_K))` (Kleinrock 1975, section 3.7).

    Returns
    -------
    dict
        ``blocking``, ``mean_in_system``, ``mean_sojourn``, ``utilization``
        (busy servers / c).

    Examples
    --------
    >>> round(mmck(1.0, 1.0, 1, 1)["blocking"], 10)   # M/M/1/1: a / (1 + a)
    0.5
    """
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


def priority_waits(arrival_rates: list[float], mean_service: float, scv: float = 1.0) -> list[float]:
    r"""Mean waits per class of a non-preemptive priority M/G/1 queue (Cobham 1954).

    Class 0 has the highest priority; all classes share one service-time
    distribution with mean :math:`E[S]` and squared coefficient of
    variation :math:`c_s^2`. With :math:`W_0 = \sum_i \lambda_i E[S^2] / 2`
    and :math:`\sigma_k = \sum_{i \le k} \rho_i`,

    .. math:: W_k = \frac{W_0}{(1 - \sigma_{k-1})(1 - \sigma_k)}

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

    Examples
    --------
    >>> round(mgc_wait(0.5, 1.0, 0.0, 1), 6)   # M/D/1 at rho 0.5: rho/(2 mu (1-rho))
    0.5
    """
    if mean_service <= 0:
        return 0.0
    return mmc_wait(arrival_rate, 1.0 / mean_service, servers) * (1.0 + scv) / 2.0


def _any_chosen(members: np.ndarray | float, marked: np.ndarray, chosen: float) -> np.ndarray:
    r"""P(a uniform ``chosen``-subset of ``members`` hits at least one of ``marked`` of them).

    Hypergeometric: :math:`1 - \binom{m-s}{k} / \binom{m}{k}`.
    """
    members = np.asarray(members, dtype=float)
    marked = np.asarray(marked, dtype=float)
    rest = members - marked
    with np.errstate(invalid="ignore", divide="ignore"):
        log_none = (gammaln(rest + 1) - gammaln(rest - chosen + 1) - gammaln(members + 1) + gammaln(members - chosen + 1))
    none = np.where(rest >= chosen, np.exp(np.where(rest >= chosen, log_none, 0.0)), 0.0)
    return np.where(marked > 0, 1.0 - none, 0.0)


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


def _flows(scenario: Scenario, topology: Topology) -> dict[str, Any]:
    """Traffic equations, and the copy flows the latency formula weighs (one pass over the senders)."""
    table = topology.agencies
    n = len(table)
    traffic = scenario.traffic
    clock = OpenClock(scenario.calendar, scenario.run.horizon)
    platform_of = table.platform_of
    platforms, platform_index = np.unique(platform_of, return_inverse=True)
    n_platforms = len(platforms)
    weights = table.weight.copy() if traffic.recipients == "weighted" else np.ones(n)
    local_share = traffic.local_share
    platform_weight = np.bincount(platform_index, weights=weights, minlength=n_platforms)
    rate = table.rate * clock.open_fraction
    may_go = rate * (1.0 - traffic.types.classified) * table.adoption  # documents/s that may go electronic
    n_status = len(traffic.statuses)
    # Connection changes only at the agencies' connection times: between two of them the set of connected
    # agencies is fixed, so the flows are exact per period and weighed by the period's share of open time.
    times = table.connect_time
    starts = np.unique(np.concatenate([[0.0], times[(times > 0) & (times < scenario.run.horizon)]]))
    ends = np.append(starts[1:], scenario.run.horizon)
    shares = (clock.open_before(ends) - clock.open_before(starts)) / clock.open_seconds if clock.open_seconds else 0 * starts

    # Visits per second by node: agencies (n), platforms (by platform position), hub.
    doc_agency = np.zeros(n)
    doc_platform = np.zeros(n_platforms)
    doc_hub = 0.0
    copies_into = np.zeros(n)  # electronic copies delivered to each agency
    status_agency = np.zeros(n)
    status_platform = np.zeros(n_platforms)
    status_hub = 0.0
    electronic_documents = 0.0
    sent_by_agency = np.zeros(n)  # electronic copies each agency sends
    off_platform_into = np.zeros(n_platforms)  # copies reaching each platform from another platform
    hub_copies = 0.0
    groups = [(f.share, f) for f in traffic.fanout]
    single_share = 1.0 - sum(share for share, _ in groups)
    kinds = np.array(table.kinds)
    for start, period in zip(starts.tolist(), shares.tolist()):
        if period <= 0:
            continue
        conn = (times <= start).astype(float)
        sender = may_go * conn * period
        for o in range(n):
            if sender[o] <= 0:
                continue
            others = np.ones(n, dtype=bool)
            others[o] = False
            own = platform_index[o]
            # expected electronic copies per document to each recipient, and P(visit) per node
            copies = np.zeros(n)
            p_any = 0.0
            p_platform = np.zeros(n_platforms)
            p_hub = 0.0
            if single_share > 0:
                w = np.where(others, weights, 0.0)
                choice = w / w.sum()
                local_total = platform_weight[own] - weights[o]
                if local_share > 0 and local_total > 0:
                    local = np.where(platform_index == own, w, 0.0) / local_total
                    choice = (1 - local_share) * choice + local_share * local
                share = choice * conn * single_share
                copies += share
                p_any += share.sum()
                by_platform = np.bincount(platform_index, weights=share, minlength=n_platforms)
                p_platform += by_platform
                p_hub += by_platform.sum() - by_platform[own]
            for share, fan in groups:
                members = others & ((kinds == fan.kind) if fan.kind is not None else True)
                m = int(members.sum())
                k = m if fan.recipients == "all" else min(int(fan.recipients), m)
                if m == 0:
                    continue
                live = members & (conn > 0)
                copies += share * live * (k / m)
                p_any += share * float(_any_chosen(m, live.sum(), k))
                per_platform = np.bincount(platform_index, weights=live.astype(float), minlength=n_platforms)
                p_platform += share * _any_chosen(m, per_platform, k)
                p_hub += share * float(_any_chosen(m, per_platform.sum() - per_platform[own], k))
            flow = sender[o]
            electronic_documents += flow * p_any
            doc_agency[o] += flow * p_any  # the sender's own system, once per document
            p_platform_out = p_platform.copy()
            p_platform_out[own] = 0.0
            doc_platform[own] += flow * p_any  # own platform, once per document
            doc_platform += flow * p_platform_out  # recipient platforms, once per document each
            doc_hub += flow * p_hub
            copies_into += flow * copies
            by_platform = np.bincount(platform_index, weights=copies, minlength=n_platforms)
            off_platform = copies.sum() - by_platform[own]
            sent_by_agency[o] += flow * copies.sum()
            into_others = by_platform.copy()
            into_others[own] = 0.0
            off_platform_into += flow * into_others
            hub_copies += flow * off_platform
            if n_status:
                # each status travels the whole path back: recipient agency, its platform, (hub, sender platform), sender
                status_agency += n_status * flow * copies
                status_agency[o] += n_status * flow * copies.sum()
                status_platform += n_status * flow * by_platform
                status_platform[own] += n_status * flow * (copies.sum() - by_platform[own])
                status_hub += n_status * flow * off_platform

    doc = np.zeros(len(topology.stations))
    status = np.zeros(len(topology.stations))
    index_of = {agency_id: i for i, agency_id in enumerate(table.ids)}
    for node, index in topology.station_index.items():
        if node == HUB:
            doc[index], status[index] = doc_hub, status_hub
        elif node.startswith("platform:"):
            position = platform_index[index_of[node.split(":", 1)[1]]]
            doc[index], status[index] = doc_platform[position], status_platform[position]
        else:
            agency = index_of[node.split(":", 1)[1]]
            doc[index] = doc_agency[agency] + copies_into[agency]
            status[index] = status_agency[agency]
    return {
        "documents": doc,
        "statuses": status,
        "total": doc + status,
        "copies": float(copies_into.sum()),
        "documents_per_second": float(rate.sum()),
        "electronic_documents_per_second": electronic_documents,
        "platform_index": platform_index,
        "copies_into": copies_into,
        "sent_by_agency": sent_by_agency,
        "off_platform_into": off_platform_into,
        "hub_copies": hub_copies,
    }


@dataclass(frozen=True)
class StationPrediction:
    """The analytic figures of one station (rates per second, times in seconds).

    ``utilization`` is the average over the horizon (what a simulation
    measures); ``peak_utilization`` the load while offices are open, when the
    scenario has a working calendar (all traffic scaled to open hours: an
    upper estimate, since status messages also trickle in outside them).
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
    """

    stations: tuple[StationPrediction, ...]
    bottleneck: StationPrediction | None
    headroom: float
    headroom_80: float
    latency_mean: float
    exact: bool
    caveats: tuple[str, ...]


def electronic_share(scenario: Scenario, topology: Topology) -> float:
    r"""Expected share of documents sent electronically (at least one electronic copy).

    A document from agency :math:`o` goes electronically with probability
    :math:`\text{connected}_o (1 - p_{\text{classified}})\, \text{adoption}_o`
    times the probability that at least one of its recipients is connected;
    the share weighs agencies by their document rates.

    Examples
    --------
    >>> from simulator.scenario import load_scenario
    >>> from simulator.topology import build_topology
    >>> s = load_scenario('[kinds.agency]\nrate = "1/h"\nadoption = 0.9\n[traffic.types]\nclassified = 0.04\n'
    ...                   '[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"')
    >>> round(electronic_share(s, build_topology(s)), 6)
    0.864
    """
    flows = _flows(scenario, topology)
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

    if order is None:
        table = build_topology(scenario).agencies
        order = tuple(a for a in scenario.connection.order if table.connect_time[table.index(a)] > 0)
    threshold = scenario.analysis.threshold if threshold is None else threshold
    steps = []
    for k in range(len(order) + 1):
        variant = _with_connected(scenario, order[:k])
        topology = build_topology(variant)
        prediction = predict(variant, topology)
        bottleneck = prediction.bottleneck
        steps.append(ConnectStep(
            connected=k, agency=order[k - 1] if k else None,
            electronic_share=electronic_share(variant, topology),
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


def _with_connected(scenario: Scenario, ids: tuple[str, ...]) -> Scenario:
    """The scenario with ``ids`` connected: every resolved flag of the order written out per agency."""
    if not ids:
        return scenario
    from .scenario import AgencySpec
    from .topology import build_topology

    table = build_topology(scenario).agencies
    flags = {a: bool(table.connect_time[table.index(a)] <= 0) for a in scenario.connection.order}  # from the start
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


def _caveats(scenario: Scenario, topology: Topology) -> tuple[str, ...]:
    notes = []
    if scenario.calendar is not None:
        notes.append("working-hours calendar: rates are averaged over the horizon; busy hours queue more")
    if any(s.service.distribution != "exponential" for s in topology.stations):
        notes.append("non-exponential service: Allen-Cunneen approximation")
    if any(s.buffer is not None for s in topology.stations):
        notes.append("finite buffers: losses are ignored")
    if any(s.outages for s in topology.stations):
        notes.append("outages are ignored")
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
    flows = _flows(scenario, topology)
    rates = flows["total"]
    open_fraction = OpenClock(scenario.calendar, scenario.run.horizon).open_fraction
    stations = []
    for station, lam in zip(topology.stations, rates):
        mean = station.service.mean
        utilization = lam * mean / station.servers
        stable = utilization < 1.0
        wait = mgc_wait(lam, mean, station.service.scv, station.servers) if stable else math.inf
        stations.append(StationPrediction(station.name, station.kind, station.servers, float(lam), mean,
                                          float(utilization), float(utilization / open_fraction) if open_fraction > 0 else math.inf,
                                          bool(stable), float(wait), float(wait + mean)))
    bottleneck = max(stations, key=lambda s: s.peak_utilization, default=None)
    top = bottleneck.peak_utilization if bottleneck else 0.0
    headroom = 1.0 / top if top > 0 else math.inf
    with np.errstate(invalid="ignore"):  # an unstable station (inf) on a path no copy takes
        latency = _latency(scenario, topology, stations, flows)
    caveats = _caveats(scenario, topology)
    return Prediction(tuple(stations), bottleneck, headroom, 0.8 * headroom, latency, not caveats, caveats)


def _latency(scenario: Scenario, topology: Topology, stations: list[StationPrediction],
             flows: dict[str, Any]) -> float:
    r"""Mean over electronic copies of the sojourns and link delays along the route.

    A copy from :math:`o` to :math:`r` passes :math:`o`'s agency and platform,
    :math:`r`'s agency, and, between platforms, the hub and :math:`r`'s
    platform; summing the sojourns weighted by the copy flows gives

    .. math:: ar T = rac{\sum_o s_o A_o + \sum_p s_p P_p + \sum_r c_r A_r + \sum_p x_p P_p + h H}{\sum_r c_r}

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
