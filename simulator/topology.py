"""Topology: the network of agencies, integration platforms, the hub and their links.

:func:`build_topology` turns a :class:`~simulator.scenario.Scenario` into a
:class:`Topology`: a ``networkx.DiGraph`` whose nodes are stations (the national
hub, one integration platform per top-level agency, each agency's
document-management system) and whose edges are links, plus dense tables the
engine and the analytic module read without touching networkx again:

* ``stations``: the modelled (non pass-through) stations, indexed 0..S-1;
* ``agencies``: every agency with its resolved traffic parameters;
* :meth:`Topology.route`: the path of a document between two agencies as
  tuples of station indices and link delays, joined from halves compiled
  once per agency (:class:`RouteHalves`).

A document goes agency -> own platform -> hub -> recipient platform ->
recipient agency; between two agencies behind the same platform it never
touches the hub.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Sequence

import networkx as nx
import numpy as np

from .errors import Problem, ScenarioError
from .scenario import AgencySpec, BackboneSpec, Distribution, Failures, LinkSpec, Outage, Scenario, Standby, StationSpec
from .structures import dataset_agencies, dataset_kinds

__all__ = ["Station", "AgencyTable", "Route", "RouteHalves", "Topology", "build_topology", "HUB"]

#: Graph node of the national hub.
HUB = "hub"
#: The kind of an agency that names none.
DEFAULT_KIND = "agency"


@dataclass(frozen=True)
class Station:
    """A modelled queueing station.

    Attributes
    ----------
    node : str
        Graph node (``hub``, ``platform:<id>``, ``agency:<id>``).
    name : str
        Human-readable name, Vietnamese diacritics intact.
    kind : str
        ``hub``, ``platform`` or ``agency``.
    servers : int
    service : Distribution
        Service time, seconds.
    buffer : int or None
        Waiting places; ``None`` is unlimited.
    outages : tuple of Outage
    failures : Failures or None
        Failures by chance.
    while_down : {"hold", "reject"}
        What the station does with arrivals while down.
    standby : Standby or None
        What serves while the station is down, after a switchover.
    """

    node: str
    name: str
    kind: str
    servers: int
    service: Distribution
    buffer: int | None
    outages: tuple[Outage, ...]
    failures: Failures | None = None
    while_down: str = "hold"
    standby: Standby | None = None

    @property
    def can_go_down(self) -> bool:
        """Whether the station has scheduled outages or failures by chance."""
        return bool(self.outages) or self.failures is not None


@dataclass(frozen=True)
class AgencyTable:
    """Resolved per-agency parameters, one array entry per agency (index = agency number)."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    platform_of: np.ndarray  # agency index of the top-level agency owning its platform
    rate: np.ndarray  # documents per second while open
    weight: np.ndarray  # recipient weight
    connected: np.ndarray  # bool: connected at some time during the run
    adoption: np.ndarray  # share sent electronically when both ends are connected
    connect_time: np.ndarray  # seconds from which the agency is connected (0: from the start, inf: never)

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, agency_id: str) -> int:
        """Index of an agency by id."""
        return self.ids.index(agency_id)


class Route(NamedTuple):
    """A path through modelled stations (a named tuple: built for every new agency pair, so cheap to make).

    ``latency[i]`` and ``inv_bandwidth[i]`` describe the link travelled before
    station ``stations[i]``; the last entry (index ``len(stations)``) the link
    after the last station. A link takes ``latency + size * inv_bandwidth``
    seconds. ``tails`` holds, for a document to several recipients, the
    continuations after the shared part (a delivery tree: each station is
    visited once per document, copies split where paths part); ``recipient``
    is the agency a route without tails ends at.
    """

    stations: tuple[int, ...]
    latency: tuple[float, ...]
    inv_bandwidth: tuple[float, ...]
    tails: tuple["Route", ...] = ()
    recipient: int = -1

    @property
    def copies(self) -> int:
        """Recipients reached by this route (1 without fan-out)."""
        return sum(t.copies for t in self.tails) if self.tails else 1

    @property
    def has_links(self) -> bool:
        """True when any link takes time."""
        return any(self.latency) or any(self.inv_bandwidth)


@dataclass
class Topology:
    """The built network: graph, stations, agencies, and every agency's route halves.

    A route is two halves joined: the sender's way up (its agency system, its
    platform and, between platforms, the hub) and the recipient's way down.
    The halves are compiled once per agency (:meth:`route_halves`), so a
    route costs a few tuple joins whatever the number of agency pairs.
    """

    graph: nx.DiGraph
    stations: tuple[Station, ...]
    agencies: AgencyTable
    station_index: dict[str, int]
    #: Platforms whose backbone can be cut: their uplink crosses a ``link:<id>`` station.
    gated: frozenset[str] = frozenset()
    _halves: "RouteHalves | None" = field(default=None, repr=False)

    def agency_node(self, agency: int) -> str:
        """Graph node of an agency's document-management system."""
        return f"agency:{self.agencies.ids[agency]}"

    def uplink(self, agency: int) -> tuple[str, ...]:
        """Graph nodes from an agency up to the hub: its system, its platform, the hub (the graph is that tree).

        A backbone that can be cut is a station of its own between the platform and the hub (``link:<id>``).
        """
        table = self.agencies
        owner = table.ids[table.platform_of[agency]]
        if owner in self.gated:
            return (self.agency_node(agency), f"platform:{owner}", f"link:{owner}", HUB)
        return (self.agency_node(agency), f"platform:{owner}", HUB)

    def path(self, origin: int, recipient: int) -> tuple[str, ...]:
        """Graph nodes from an agency to another (both ends included): up to the first shared node, then down."""
        up, down = self.uplink(origin), self.uplink(recipient)
        shared = set(down)
        turn = next(i for i, node in enumerate(up) if node in shared)
        return up[: turn + 1] + tuple(reversed(down[: down.index(up[turn])]))

    def route_halves(self) -> "RouteHalves":
        """Every agency's compiled halves (built on first use, then kept)."""
        if self._halves is None:
            self._halves = RouteHalves(self)
        return self._halves

    def route(self, origin: int, recipient: int) -> Route:
        """The route of one document copy from ``origin`` to ``recipient``, joined from the two halves."""
        return self.route_halves().route(origin, recipient)

    def route_by_path(self, origin: int, recipient: int) -> Route:
        """The same route, walked node by node on the graph (the reference :meth:`route` is checked against)."""
        return self._route_from_path(self.path(origin, recipient), include_first=True, recipient=recipient)

    def fanout_route(self, origin: int, recipients: Sequence[int]) -> Route:
        """The delivery tree of a document to several recipients.

        Paths to the recipients share their first stations; the tree visits
        each station once per document and splits into one branch per
        distinct next station (so a directive to every province crosses the
        hub once and each provincial platform once).
        """
        return self.route_halves().fanout(origin, recipients)

    def fanout_route_by_paths(self, origin: int, recipients: Sequence[int]) -> Route:
        """The same tree, grown from the graph paths node by node (the reference :meth:`fanout_route` is checked against)."""
        if len(recipients) == 1:
            return self.route_by_path(origin, recipients[0])
        paths = [self.path(origin, r) for r in recipients]
        return self._tree(paths, list(recipients), 0, include_first=True)

    def _tree(self, paths: list[tuple[str, ...]], recipients: list[int], start: int, include_first: bool) -> Route:
        """Route for ``paths`` that agree up to index ``start``: the common run, then branches."""
        if len(paths) == 1:
            return self._route_from_path(paths[0][start:], include_first, recipient=recipients[0])
        split = start
        while all(len(p) > split + 1 for p in paths) and len({p[split + 1] for p in paths}) == 1:
            split += 1
        head = self._route_from_path(paths[0][start:split + 1], include_first)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(paths):
            assert len(p) > split + 1, "two recipients cannot share a whole path"
            groups.setdefault(p[split + 1], []).append(i)
        tails = tuple(self._tree([paths[i] for i in members], [recipients[i] for i in members], split, include_first=False)
                      for members in groups.values())
        return Route(head.stations, head.latency, head.inv_bandwidth, tails)

    def _route_from_path(self, path: Sequence[str], include_first: bool, recipient: int = -1) -> Route:
        return self.route_halves().walk(path, include_first, recipient)


class RouteHalves:
    """Every agency's way up to the hub and down from it, compiled once.

    ``up[a]`` runs from agency ``a``'s system through its platform to the
    hub; ``down[r]`` from after the hub through ``r``'s platform to ``r``'s
    system. Two agencies behind the same platform meet there instead:
    ``rise[a]`` ends at the platform and ``fall[r]`` starts after it. The
    pieces of a delivery tree that split at the hub are ``climb[a]``, from
    after ``a``'s platform to the hub, and ``reach[r]``, from after the hub
    to ``r``'s platform. Link delays of pass-through stations fold into the
    next modelled station's entry, exactly as a walk along the graph gives
    them (each piece begins with one link, so joining two adds their delays
    in the order of the walk).
    """

    def __init__(self, topology: Topology):
        graph = topology.graph
        self._station = {node: data["station"] for node, data in graph.nodes(data=True)}
        self._link = {(a, b): (data["latency"], data["inv_bandwidth"]) for a, b, data in graph.edges(data=True)}
        self.platform_of = topology.agencies.platform_of.tolist()
        self.up, self.down, self.rise, self.fall, self.climb, self.reach = [], [], [], [], [], []
        for agency in range(len(topology.agencies)):
            nodes = topology.uplink(agency)  # agency system, platform, (its backbone,) hub
            self.up.append(self.walk(nodes, True))
            self.down.append(self.walk(nodes[::-1], False, agency))
            self.rise.append(self.walk(nodes[:2], True))
            self.fall.append(self.walk(nodes[1::-1], False, agency))
            self.climb.append(self.walk(nodes[1:], False))
            self.reach.append(self.walk(nodes[:0:-1], False))

    def route(self, origin: int, recipient: int) -> Route:
        """``origin`` to ``recipient``: up and down, or rise and fall behind one platform."""
        if self.platform_of[origin] == self.platform_of[recipient]:
            return _join(self.rise[origin], self.fall[recipient], recipient)
        return _join(self.up[origin], self.down[recipient], recipient)

    def fanout(self, origin: int, recipients: Sequence[int]) -> Route:
        """The delivery tree from ``origin`` to ``recipients``, joined from halves.

        The same tree as the graph walk (:meth:`Topology.fanout_route_by_paths`):
        one branch per recipient behind the sender's platform, split there;
        the others go on to the hub together and split there by platform;
        branches keep the order of the recipients' first appearance.
        """
        if len(recipients) == 1:
            return self.route(origin, recipients[0])
        home = self.platform_of[origin]
        far = [r for r in recipients if self.platform_of[r] != home]
        if not far:
            return _split(self.rise[origin], [self.fall[r] for r in recipients])
        if len(far) == len(recipients):
            return self._from_hub(self.up[origin], far)
        if len(far) == 1:
            onwards = _join(self.climb[origin], self.down[far[0]], far[0])
        else:
            onwards = self._from_hub(self.climb[origin], far)
        tails = [self.fall[r] if self.platform_of[r] == home else onwards
                 for r in recipients if self.platform_of[r] == home or r == far[0]]
        return _split(self.rise[origin], tails)

    def _from_hub(self, to_hub: Route, far: list[int]) -> Route:
        """``to_hub`` (ending at the hub), then on to two or more recipients behind other platforms."""
        groups: dict[int, list[int]] = {}
        for r in far:
            groups.setdefault(self.platform_of[r], []).append(r)
        if len(groups) == 1:  # one platform: the branches part behind it
            return _split(_join(to_hub, self.reach[far[0]], -1), [self.fall[r] for r in far])
        return _split(to_hub, [self.down[members[0]] if len(members) == 1 else
                               _split(self.reach[members[0]], [self.fall[r] for r in members])
                               for members in groups.values()])

    def walk(self, path: Sequence[str], include_first: bool, recipient: int = -1) -> Route:
        """The modelled stations along graph nodes, with the link delay before each and after the last."""
        stations: list[int] = []
        latency: list[float] = []
        inv_bw: list[float] = []
        pending_lat = pending_inv = 0.0
        previous = None
        for position, node in enumerate(path):
            if previous is not None:
                link_latency, link_inv = self._link[previous, node]
                pending_lat += link_latency
                pending_inv += link_inv
            previous = node
            if position == 0 and not include_first:
                continue
            index = self._station[node]
            if index is not None:
                stations.append(index)
                latency.append(pending_lat)
                inv_bw.append(pending_inv)
                pending_lat = pending_inv = 0.0
        latency.append(pending_lat)
        inv_bw.append(pending_inv)
        return Route(tuple(stations), tuple(latency), tuple(inv_bw), (), recipient)


def _split(head: Route, tails: list[Route]) -> Route:
    """``head``, then the branches ``tails``."""
    return Route(head.stations, head.latency, head.inv_bandwidth, tuple(tails))


def _join(first: Route, second: Route, recipient: int) -> Route:
    """``first`` then ``second``: the link after ``first`` adds to the one before ``second``'s first station."""
    lat, inv = first.latency, first.inv_bandwidth
    return Route(first.stations + second.stations,
                 lat[:-1] + (lat[-1] + second.latency[0],) + second.latency[1:],
                 inv[:-1] + (inv[-1] + second.inv_bandwidth[0],) + second.inv_bandwidth[1:],
                 (), recipient)



def _dataset_agencies(scenario: Scenario) -> list[AgencySpec]:
    network = scenario.network
    if network.dataset == "none":
        return []
    return dataset_agencies(network.dataset, network.level, network.reform, network.units_per_ministry)


def _merge(base: list[AgencySpec], explicit: Iterable[AgencySpec]) -> tuple[list[AgencySpec], list[int | None]]:
    """Dataset agencies overridden or extended by explicit ones; keeps each entry's scenario index."""
    merged = list(base)
    origin: list[int | None] = [None] * len(base)
    position = {a.id: i for i, a in enumerate(base)}
    for i, agency in enumerate(explicit):
        if agency.id in position:
            at = position[agency.id]
            update = agency.model_dump(exclude_unset=True, exclude_none=True)
            merged[at] = merged[at].model_copy(update={k: getattr(agency, k) for k in update})
            origin[at] = i
        else:
            position[agency.id] = len(merged)
            merged.append(agency)
            origin.append(i)
    return merged, origin


def _connect_times(scenario: Scenario, merged: list[AgencySpec], kinds: list[str], index_of: dict[str, int],
                   resolved: object) -> np.ndarray:
    """When each agency is connected (0: from the start, inf: never).

    The agency's (or its kind's) ``connected`` flag, then its ``connected_at``,
    then ``connection.connected`` over ``connection.order`` and, with
    ``connection.every``, one more of the order every period.
    """
    flags = [resolved(a, k, "connected") for a, k in zip(merged, kinds)]  # type: ignore[operator]
    times = np.array([0.0 if flag else np.inf for flag in flags])
    for i, agency in enumerate(merged):
        if agency.connected_at is not None:
            times[i] = agency.connected_at
    connection = scenario.connection
    count = connection.connected
    if count is not None:
        for position, agency_id in enumerate(connection.order):
            if position < count:
                times[index_of[agency_id]] = 0.0
            elif connection.every is not None:
                times[index_of[agency_id]] = (position - count + 1) * connection.every
            else:
                times[index_of[agency_id]] = np.inf
    elif connection.every is not None:
        waiting = [a for a in connection.order if times[index_of[a]] > 0]
        for step, agency_id in enumerate(waiting, start=1):
            times[index_of[agency_id]] = step * connection.every
    return times


def _unknown_kinds(scenario: Scenario, merged: list[AgencySpec], where: object) -> list[Problem]:
    """A problem for each agency whose kind is neither declared in ``kinds`` nor a built-in structure's (a typo)."""
    known = dataset_kinds() | set(scenario.kinds) | {DEFAULT_KIND}
    problems = []
    for i, agency in enumerate(merged):
        if agency.kind is None or agency.kind in known:
            continue
        hint = difflib.get_close_matches(agency.kind, sorted(known), n=1, cutoff=0.6)
        rule = (f"is not a known kind; did you mean {hint[0]!r}?" if hint else
                f"is not a known kind; known kinds: {', '.join(sorted(known))}")
        problems.append(Problem(where(i, "kind"), agency.kind,  # type: ignore[operator]
                                rule + f" (a new kind is declared with a [kinds.{agency.kind}] table)"))
    return problems


def _lonely_fanouts(scenario: Scenario, table: AgencyTable) -> list[Problem]:
    """A problem for each fan-out "to all" of a kind whose only member sends documents (it would reach nobody)."""
    problems = []
    for j, fan in enumerate(scenario.traffic.fanout):
        if fan.kind is None or fan.recipients != "all":
            continue
        members = [i for i, kind in enumerate(table.kinds) if kind == fan.kind]
        if len(members) == 1 and table.rate[members[0]] > 0:
            problems.append(Problem(f"traffic.fanout[{j}].kind", fan.kind,
                                    f"has one agency only ({table.ids[members[0]]}), which sends documents itself: "
                                    "its fan-out to all others of the kind would reach nobody"))
    return problems


def build_topology(scenario: Scenario) -> Topology:
    """Build the network of a scenario.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    Topology

    Raises
    ------
    ScenarioError
        If an agency names an unknown parent, a parent that is not top-level,
        or a kind that is neither declared in ``kinds`` nor a dataset kind; or
        a fan-out names a kind no agency has, or sends "to all" of a kind
        whose only member sends it.
    """
    source = scenario.source
    if scenario.network.reform != "none" and scenario.network.dataset != "national-2020":
        raise ScenarioError.single(source, "network.reform", scenario.network.reform,
                                   'applies to network.dataset = "national-2020" only')
    merged, origin = _merge(_dataset_agencies(scenario), scenario.agencies)
    ids = [a.id for a in merged]
    index_of = {agency_id: i for i, agency_id in enumerate(ids)}
    problems: list[Problem] = []

    def where(i: int, key: str) -> str:
        return f"agencies[{origin[i]}].{key}" if origin[i] is not None else f"network.dataset[{ids[i]}].{key}"

    platform_of = np.empty(len(merged), dtype=np.int64)
    for i, agency in enumerate(merged):
        if agency.parent is None:
            platform_of[i] = i
        elif agency.parent not in index_of:
            problems.append(Problem(where(i, "parent"), agency.parent, "is not the id of any agency"))
        elif merged[index_of[agency.parent]].parent is not None:
            problems.append(Problem(where(i, "parent"), agency.parent, "must be a top-level agency (one without a parent)"))
        elif agency.parent == agency.id:
            problems.append(Problem(where(i, "parent"), agency.parent, "must not be the agency itself"))
        else:
            platform_of[i] = index_of[agency.parent]
    for i, agency in enumerate(merged):
        if agency.parent is not None and agency.backbone is not None:
            problems.append(Problem(where(i, "backbone"), agency.backbone.model_dump(mode="json", exclude_defaults=True),
                                    f"has no effect: the agency sends through the platform of {agency.parent}; set it "
                                    "there (only a top-level agency's platform has a backbone)"))
    kinds = [a.kind or DEFAULT_KIND for a in merged]
    problems += _unknown_kinds(scenario, merged, where)
    for j, fan in enumerate(scenario.traffic.fanout):
        if fan.kind is not None:
            members = kinds.count(fan.kind)
            if members == 0:
                problems.append(Problem(f"traffic.fanout[{j}].kind", fan.kind, f"no agency has this kind; kinds present: {', '.join(sorted(set(kinds)))}"))
            elif fan.recipients != "all" and fan.recipients > members:
                problems.append(Problem(f"traffic.fanout[{j}].recipients", fan.recipients, f"exceeds the {members} agencies of kind {fan.kind!r}"))
        elif fan.recipients != "all" and fan.recipients > len(merged) - 1:
            problems.append(Problem(f"traffic.fanout[{j}].recipients", fan.recipients, f"exceeds the {len(merged) - 1} possible recipients"))
    for j, scripted in enumerate(scenario.traffic.script):
        if scripted.origin not in index_of:
            problems.append(Problem(f"traffic.script[{j}].origin", scripted.origin, "is not the id of any agency"))
        for k, recipient in enumerate(scripted.recipients):
            if recipient not in index_of:
                problems.append(Problem(f"traffic.script[{j}].recipients[{k}]", recipient, "is not the id of any agency"))
            elif recipient == scripted.origin:
                problems.append(Problem(f"traffic.script[{j}].recipients[{k}]", recipient, "must differ from the origin"))
        if len(set(scripted.recipients)) != len(scripted.recipients):
            problems.append(Problem(f"traffic.script[{j}].recipients", list(scripted.recipients), "must not repeat an agency"))
    for j, agency_id in enumerate(scenario.connection.order):
        if agency_id not in index_of:
            problems.append(Problem(f"connection.order[{j}]", agency_id, "is not the id of any agency"))
    if len(set(scenario.connection.order)) != len(scenario.connection.order):
        problems.append(Problem("connection.order", list(scenario.connection.order), "must not repeat an agency"))
    for name in scenario.kinds:
        if name not in kinds and name not in scenario._inherited_kinds:  # an inherited table may not apply here
            problems.append(Problem(f"kinds.{name}", name, f"no agency has this kind; kinds present: {', '.join(sorted(set(kinds)))}"))
    if len(merged) < 2:
        problems.append(Problem("agencies", len(merged), "a network needs at least 2 agencies"))
    if problems:
        raise ScenarioError(source, problems)

    def resolved(agency: AgencySpec, kind: str, attribute: str) -> object:
        value = getattr(agency, attribute)
        return getattr(scenario.kind(kind), attribute) if value is None else value

    size = np.array([1.0 if a.size is None else a.size for a in merged])
    connect_time = _connect_times(scenario, merged, kinds, index_of, resolved)
    table = AgencyTable(
        ids=tuple(ids),
        names=tuple(a.name or a.id for a in merged),
        kinds=tuple(kinds),
        platform_of=platform_of,
        rate=np.array([resolved(a, k, "rate") for a, k in zip(merged, kinds)], dtype=float) * size * scenario.traffic.multiplier,
        weight=np.array([resolved(a, k, "weight") for a, k in zip(merged, kinds)], dtype=float) * size,
        connected=connect_time < scenario.run.horizon,
        adoption=np.array([resolved(a, k, "adoption") for a, k in zip(merged, kinds)], dtype=float),
        connect_time=connect_time,
    )
    if table.weight.sum() <= 0:
        raise ScenarioError(source, [Problem("kinds.*.weight", 0.0, "at least one agency needs a positive recipient weight")])
    problems = _lonely_fanouts(scenario, table)
    if problems:
        raise ScenarioError(source, problems)

    graph = nx.DiGraph()
    stations: list[Station] = []
    station_index: dict[str, int] = {}

    def add_station(node: str, name: str, kind: str, spec: StationSpec) -> None:
        index = None
        if not spec.passthrough:
            assert spec.service is not None
            index = len(stations)
            station_index[node] = index
            stations.append(Station(node, name, kind, spec.servers, spec.service, spec.buffer, spec.outages,
                                    spec.failures, spec.while_down, spec.standby))
        graph.add_node(node, kind=kind, name=name, station=index, servers=spec.servers if index is not None else 0)

    def add_link(a: str, b: str, link: LinkSpec) -> None:
        inv = 0.0 if link.bandwidth is None else 1.0 / link.bandwidth
        graph.add_edge(a, b, latency=link.latency, inv_bandwidth=inv)
        graph.add_edge(b, a, latency=link.latency, inv_bandwidth=inv)

    def add_cut_link(owner: str, name: str, platform: str, link: BackboneSpec) -> None:
        """A backbone that can be cut: a station of no service time that holds while down, on the sending side.

        Packages reach it at once from either end and cross the link (its latency and bandwidth) after it, so a
        cut holds them where they are sent from, and the crossing starts when the link returns.
        """
        node = f"link:{owner}"
        spec = StationSpec(service=Distribution(distribution="deterministic", mean=0.0), outages=link.outages,
                           failures=link.failures)
        add_station(node, f"{name} (backbone)", "link", spec)
        inv = 0.0 if link.bandwidth is None else 1.0 / link.bandwidth
        for end in (platform, HUB):
            graph.add_edge(end, node, latency=0.0, inv_bandwidth=0.0)
            graph.add_edge(node, end, latency=link.latency, inv_bandwidth=inv)

    network = scenario.network
    add_station(HUB, "Trục liên thông văn bản quốc gia (hub)", "hub", network.hub)
    gated: set[str] = set()
    for i, agency in enumerate(merged):
        if agency.parent is None:
            node = f"platform:{agency.id}"
            add_station(node, f"{table.names[i]} (platform)", "platform", agency.platform or network.platform)
            backbone = agency.backbone or network.backbone
            if backbone.can_be_cut:
                add_cut_link(agency.id, table.names[i], node, backbone)
                gated.add(agency.id)
            else:
                add_link(node, HUB, backbone)
    for i, agency in enumerate(merged):
        node = f"agency:{agency.id}"
        add_station(node, table.names[i], "agency", agency.station or network.agency)
        add_link(node, f"platform:{ids[platform_of[i]]}", network.access)
    return Topology(graph, tuple(stations), table, station_index, frozenset(gated))
