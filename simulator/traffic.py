"""Traffic: the documents agencies create, when, to whom, how big, and by which mode.

Each agency is a Poisson source with its own random stream (keyed by its
stable id, see :mod:`simulator.streams`). Arrivals follow the working-hours
calendar when the scenario has one: the agency's rate is the mean intensity
while open, shaped by the calendar's profile, and the weighted open time maps
onto the wall clock by inverting the cumulative intensity
(:class:`~simulator.clock.OpenClock`, re-exported here). Every
document gets a type (normal, urgent, classified), a lognormal size, one or
many recipients (fan-out) and a mode per recipient copy: electronic when the
sender is connected and adopts, the type allows the axis and the recipient is
connected; paper otherwise. All variates are drawn in NumPy batches.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable, Iterator, NamedTuple

import numpy as np

from .errors import Problem, ScenarioError
from .clock import OpenClock
from .scenario import Distribution, Scenario
from .streams import stream
from .topology import Topology

__all__ = [
    "OpenClock",
    "PAPER_REASONS",
    "Document",
    "Addressing",
    "DocumentStream",
    "batch_drawer",
    "build_document_streams",
    "scripted_documents",
    "sampler",
    "draw",
]

URGENT, NORMAL = 0, 1


def sampler(distribution: Distribution, rng: np.random.Generator, batch: int = 4096) -> Iterator[float]:
    """An endless iterator of variates, drawn ``batch`` at a time.

    Parameters
    ----------
    distribution : Distribution
        Mean in seconds and coefficient of variation.
    rng : numpy.random.Generator
    batch : int

    Returns
    -------
    iterator of float
        Use ``next(it)`` (or its bound ``__next__``) per variate.
    """
    next_batch = batch_drawer(distribution, rng, batch)

    def batches() -> Iterator[list[float]]:
        while True:
            yield next_batch()

    return itertools.chain.from_iterable(batches())


def batch_drawer(distribution: Distribution, rng: np.random.Generator, batch: int = 4096) -> Callable[[], list[float]]:
    """A function that draws the next ``batch`` variates of a distribution, as a list of floats.

    Successive calls give the same sequence as :func:`sampler`, batch by batch.

    Parameters
    ----------
    distribution : Distribution
        The law to draw from (seconds).
    rng : numpy.random.Generator
        The stream to draw with.
    batch : int, optional
        Variates drawn per call.

    Returns
    -------
    callable
        Without arguments, returns the next ``batch`` variates as a list.
    """
    def next_batch() -> list[float]:
        return draw(distribution, rng, batch).tolist()

    return next_batch


def draw(distribution: Distribution, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` variates of a :class:`~simulator.scenario.Distribution` (seconds).

    Parameters
    ----------
    distribution : Distribution
        The law to draw from.
    rng : numpy.random.Generator
        The stream to draw with.
    size : int
        How many variates.

    Returns
    -------
    numpy.ndarray
        ``size`` floats, seconds.
    """
    mean = distribution.mean
    kind = distribution.distribution
    if kind == "deterministic" or mean == 0.0:
        return np.full(size, mean)
    if kind == "exponential":
        return rng.exponential(mean, size)
    scv = distribution.scv
    if kind == "gamma":
        shape = 1.0 / scv
        return rng.gamma(shape, mean / shape, size)
    sigma2 = math.log1p(scv)  # lognormal with the given mean and cv
    return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)


#: Why copies go on paper; a document's copies count under the first reason that applies.
PAPER_REASONS = ("sender_not_connected", "classified", "not_adopted", "recipient_not_connected")
_SENDER, _CLASSIFIED, _NOT_ADOPTED, _RECIPIENT = range(4)


class Document(NamedTuple):
    """One created document, as the engine receives it.

    :class:`DocumentStream` yields plain tuples in this field order (faster to
    build than the named tuple); ``Document(*item)`` names them.
    """

    time: float  #: wall-clock creation time, seconds
    priority: int  #: 0 urgent, 1 normal
    size: float  #: bytes
    electronic: tuple[int, ...]  #: recipients reached through the axis
    paper: int  #: number of copies sent on paper
    reason: int  #: index in PAPER_REASONS of why the paper copies go on paper (-1: none)


class Addressing:
    """What every agency's stream shares: recipient weights, platforms, fan-out groups, connection times.

    Built once per run, so memory grows with the number of agencies, not with its square.
    """

    def __init__(self, scenario: Scenario, topology: Topology):
        table = topology.agencies
        traffic = scenario.traffic
        n = len(table)
        self.weights = table.weight.astype(float) if traffic.recipients == "weighted" else np.ones(n)
        self.cumulative = np.cumsum(self.weights)
        self.connect_time = table.connect_time
        self.platform_of = table.platform_of
        self.local_share = traffic.local_share
        members: dict[int, list[int]] = {}
        for agency, platform in enumerate(table.platform_of.tolist()):
            members.setdefault(platform, []).append(agency)
        self.local = {p: (np.array(m, dtype=np.int64), np.cumsum(self.weights[m])) for p, m in members.items()}
        kinds = np.array(table.kinds)
        self.fan_edges = np.cumsum([f.share for f in traffic.fanout]) if traffic.fanout else np.zeros(0)
        self.fan_groups = []
        for fan in traffic.fanout:
            group = np.flatnonzero(kinds == fan.kind) if fan.kind is not None else np.arange(n)
            self.fan_groups.append((group, fan.recipients))
        self.singles = [(r,) for r in range(n)]
        #: ``connect_time`` as a list: read one recipient at a time for a few drawn ones.
        self.connected_from: list[float] = table.connect_time.tolist()


#: Most documents an agency draws ahead in one batch. It bounds what the run holds in drawn documents whatever the
#: horizon (the full 2025 structure's 4,000 agencies held 2,048 each over a year, 1.5 GB, against about 100 over a
#: week); it is fixed, not shared out between the agencies, so that adding an agency leaves the others' documents as
#: they were.
_BATCH_MOST = 128


class DocumentStream:
    """The documents one agency creates, in time order, until the horizon.

    Iterate to get :class:`Document` tuples.
    """

    def __init__(self, agency: int, scenario: Scenario, topology: Topology, clock: OpenClock,
                 seed: np.random.SeedSequence, addressing: Addressing | None = None):
        table = topology.agencies
        self.agency = agency
        self._rate = float(table.rate[agency])
        self._clock = clock
        agency_id = table.ids[agency]
        self._arrivals = stream(seed, "arrivals", agency_id)
        self._rng = stream(seed, "documents", agency_id)
        traffic = scenario.traffic
        self._urgent = traffic.types.urgent
        self._classified = traffic.types.classified
        self._size = traffic.size
        self._book = addressing if addressing is not None else Addressing(scenario, topology)
        self._adoption = float(table.adoption[agency])
        members, cumulative = self._book.local[int(table.platform_of[agency])]
        own = float(self._book.weights[agency])
        self._local = (members, cumulative) if cumulative[-1] - own > 0 and self._book.local_share > 0 else None
        expected = self._rate * clock.open_seconds
        self._batch = int(min(_BATCH_MOST, max(16, expected * 1.05 + 3 * math.sqrt(expected + 1))))
        self._places: dict[int, tuple[int, bool]] = {}

    def __iter__(self) -> Iterator[tuple]:
        return itertools.chain.from_iterable(self.batches())

    def batches(self) -> Iterator[list[tuple]]:
        """Documents in time order, a NumPy batch at a time (the last batch stops at the horizon)."""
        if self._rate <= 0.0 or self._clock.open_seconds <= 0.0:
            return
        open_time = 0.0
        book = self._book
        connect_time = book.connect_time
        sender_from = float(connect_time[self.agency])
        singles = book.singles
        n_fan = len(book.fan_groups)
        while True:
            n = self._batch
            opens = open_time + np.cumsum(self._arrivals.exponential(1.0 / self._rate, n))
            open_time = float(opens[-1])
            walls = self._clock.to_wall(opens)
            rng = self._rng
            u_type = rng.random(n)
            priority = np.where(u_type < self._urgent, URGENT, NORMAL)
            secret = u_type >= 1.0 - self._classified if self._classified > 0 else np.zeros(n, dtype=bool)
            if self._size.sigma > 0:
                sizes = rng.lognormal(math.log(self._size.median), self._size.sigma, n)
            else:
                sizes = np.full(n, self._size.median)
            adopts = rng.random(n) < self._adoption
            if n_fan:
                category = np.searchsorted(book.fan_edges, rng.random(n), side="right")
            else:
                category = np.full(n, n_fan)
            single = self._recipients(rng, n)
            # why a single-recipient document goes on paper (-1: it does not); first reason wins
            reason = np.where(~adopts, _NOT_ADOPTED, np.where(walls >= connect_time[single], -1, _RECIPIENT))
            reason = np.where(secret, _CLASSIFIED, reason)
            reason = np.where(walls >= sender_from, reason, _SENDER)
            finite = int(np.searchsorted(walls, math.inf, side="left"))
            batch = [(w, p, z, singles[r], 0, -1) if c < 0 else (w, p, z, (), 1, c)
                     for w, p, z, r, c in zip(walls[:finite].tolist(), priority[:finite].tolist(),
                                              sizes[:finite].tolist(), single[:finite].tolist(),
                                              reason[:finite].tolist())]
            if n_fan:
                for i in np.flatnonzero(category[:finite] < n_fan).tolist():
                    batch[i] = self._fanout(rng, batch[i], int(category[i]), int(reason[i]))
            yield batch
            if finite < n:
                return

    def _fanout(self, rng: np.random.Generator, single: tuple, category: int, reason: int) -> tuple:
        """Re-address a document drawn as single-recipient to a fan-out group (the sender left out).

        The members are drawn by their positions in the group less the sender (NumPy's ``choice`` of a count
        draws as it would from the members themselves), then mapped past the sender's position: the group less
        the sender, thousands of agencies, is not built for every document.
        """
        wall, prio, size = single[:3]
        group, wanted = self._book.fan_groups[category]
        position, inside = self._place_in(category)
        count = len(group) - inside
        k = count if wanted == "all" else min(int(wanted), count)
        if k == count:
            chosen = (group[group != self.agency] if inside else group).tolist()
        else:
            picked = rng.choice(count, k, replace=False)
            if inside:
                picked += picked >= position
            chosen = group[picked].tolist()
        if reason in (_SENDER, _CLASSIFIED, _NOT_ADOPTED):
            return (wall, prio, size, (), k, reason)
        connected_from = self._book.connected_from
        electronic = tuple(r for r in chosen if connected_from[r] <= wall)
        paper = k - len(electronic)
        return (wall, prio, size, electronic, paper, _RECIPIENT if paper else -1)

    def _place_in(self, category: int) -> tuple[int, bool]:
        """The sender's position in a fan-out group (sorted) and whether it is a member, found once per group."""
        place = self._places.get(category)
        if place is None:
            group = self._book.fan_groups[category][0]
            position = int(np.searchsorted(group, self.agency))
            place = self._places[category] = (position, bool(position < len(group) and group[position] == self.agency))
        return place

    def _recipients(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Single recipients: weighted over all agencies or, a ``local_share`` of the time, behind the own platform.

        The sender is never its own recipient (its draws are redrawn).
        """
        cumulative = self._book.cumulative
        chosen = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
        if self._local is not None:
            members, local_cumulative = self._local
            local = rng.random(n) < self._book.local_share
            picks = np.searchsorted(local_cumulative, rng.random(int(local.sum())) * local_cumulative[-1], side="right")
            chosen[local] = members[np.minimum(picks, len(members) - 1)]
        else:
            local = None
        own = chosen == self.agency
        while own.any():  # zero weight for the sender in effect: draw again from the same distribution
            again = np.flatnonzero(own)
            fresh = np.searchsorted(cumulative, rng.random(len(again)) * cumulative[-1], side="right")
            if local is not None:
                members, local_cumulative = self._local
                from_local = local[again]
                picks = np.searchsorted(local_cumulative, rng.random(int(from_local.sum())) * local_cumulative[-1],
                                        side="right")
                fresh[from_local] = members[np.minimum(picks, len(members) - 1)]
            chosen[again] = fresh
            own = chosen == self.agency
        return np.minimum(chosen, len(cumulative) - 1)


def scripted_documents(scenario: Scenario, topology: Topology) -> list[tuple[int, tuple]]:
    """The scenario's scripted documents as ``(origin, document tuple)`` in time order.

    Parameters
    ----------
    scenario : Scenario
        The scenario, with its scripted documents (``traffic.script``).
    topology : Topology
        ``build_topology(scenario)``, which maps agency ids to indices.

    Returns
    -------
    list of tuple
        ``(origin agency index, document tuple)``, in time order.
    """
    table = topology.agencies
    out = []
    for scripted in scenario.traffic.script:
        if scripted.at >= scenario.run.horizon:
            continue
        origin = table.index(scripted.origin)
        recipients = tuple(table.index(r) for r in scripted.recipients)
        prio = URGENT if scripted.type == "urgent" else NORMAL
        size = scenario.traffic.size.median if scripted.size is None else scripted.size
        k = len(recipients)
        if scripted.at < table.connect_time[origin]:
            document = (scripted.at, prio, size, (), k, _SENDER)
        elif scripted.type == "classified":
            document = (scripted.at, prio, size, (), k, _CLASSIFIED)
        else:
            electronic = tuple(r for r in recipients if scripted.at >= table.connect_time[r])
            document = (scripted.at, prio, size, electronic, k - len(electronic), _RECIPIENT if k > len(electronic) else -1)
        out.append((origin, document))
    out.sort(key=lambda item: item[1][0])
    return out


def build_document_streams(scenario: Scenario, topology: Topology, seed: np.random.SeedSequence,
                           clock: OpenClock) -> list[DocumentStream]:
    """One :class:`DocumentStream` per agency that creates documents.

    Parameters
    ----------
    scenario : Scenario
        The scenario: kinds, agencies, traffic.
    topology : Topology
        ``build_topology(scenario)``.
    seed : numpy.random.SeedSequence
        The replication's seed; each agency draws from its own child stream.
    clock : OpenClock
        The working-time clock documents are created on.

    Returns
    -------
    list of DocumentStream
        One per agency with a positive rate, in the order of the agencies.

    Raises
    ------
    ScenarioError
        If an agency creates documents but no other agency can receive them.
    """
    table = topology.agencies
    streams = []
    addressing = Addressing(scenario, topology)
    weights = addressing.weights
    for agency in range(len(table)):
        if table.rate[agency] <= 0:
            continue
        if weights.sum() - weights[agency] <= 0:
            raise ScenarioError(scenario.source, [Problem(f"agency {table.ids[agency]}.weight", float(weights[agency]),
                                                          "every other agency has recipient weight 0, so its documents have nowhere to go")])
        streams.append(DocumentStream(agency, scenario, topology, clock, seed, addressing))
    return streams
