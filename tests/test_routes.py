"""Routes joined from per-agency halves equal the routes walked node by node on the graph."""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import simpy

from simulator.engine.agenda import Agenda
from simulator.engine.routes import RouteBook
from simulator.engine.stations import FifoStation
from simulator.engine.variates import Variates
from simulator.scenario import apply_parameters, load_scenario
from simulator.topology import Route, Topology, build_topology

SCENARIOS = Path(__file__).parents[1] / "scenarios"


def _walked(topology: Topology, origin: int, recipient: int) -> Route:
    """The route the old way: the unique graph path, walked node by node, pass-through links folded forward."""
    graph = topology.graph
    nodes = nx.shortest_path(graph, topology.agency_node(origin), topology.agency_node(recipient))
    stations, latency, inv = [], [], []
    pending_latency = pending_inv = 0.0
    for previous, node in zip([None] + nodes[:-1], nodes):
        if previous is not None:
            pending_latency += graph.edges[previous, node]["latency"]
            pending_inv += graph.edges[previous, node]["inv_bandwidth"]
        if graph.nodes[node]["station"] is not None:
            stations.append(graph.nodes[node]["station"])
            latency.append(pending_latency)
            inv.append(pending_inv)
            pending_latency = pending_inv = 0.0
    return Route(tuple(stations), tuple(latency + [pending_latency]), tuple(inv + [pending_inv]), (), recipient)


def _pairs(topology: Topology, count: int, seed: int) -> list[tuple[int, int]]:
    """Random pairs, half of them behind one platform (where the route turns at the platform)."""
    rng = np.random.default_rng(seed)
    n = len(topology.agencies)
    platform_of = topology.agencies.platform_of
    pairs = []
    while len(pairs) < count:
        origin = int(rng.integers(n))
        if len(pairs) % 2:
            siblings = np.flatnonzero(platform_of == platform_of[origin])
            recipient = int(rng.choice(siblings))
        else:
            recipient = int(rng.integers(n))
        if recipient != origin:
            pairs.append((origin, recipient))
    return pairs


@pytest.mark.parametrize("overrides", [
    {},
    {"network.platform.passthrough": True},  # links fold across pass-through platforms
    {"network.hub.passthrough": True, "network.agency.passthrough": True},
])
def test_routes_from_halves_equal_routes_walked_on_the_graph(overrides):
    """national-2025 at the provincial level: 2,000 sampled pairs, stations and link delays identical."""
    scenario = load_scenario(SCENARIOS / "national-2025.toml")
    scenario = apply_parameters(scenario, {"network.level": "provincial", **overrides})
    topology = build_topology(scenario)
    assert len(topology.agencies) > 500
    for origin, recipient in _pairs(topology, 2000, seed=9):
        assert _walked(topology, origin, recipient) == topology.route(origin, recipient), (origin, recipient)


@pytest.mark.parametrize("overrides", [
    {},
    {"network.platform.passthrough": True},  # links fold across pass-through platforms
    {"network.hub.passthrough": True, "network.agency.passthrough": True},
    {"network.backbone.failures": {"between": {"mean": "30d"}, "repair": {"mean": "1h"}}},  # link:<id> stations
    {"network.agency.passthrough": True, "network.platform.passthrough": True},  # halves without a station
])
def test_route_book_paths_and_fanout_trees_use_the_stations_of_the_route(overrides):
    """The engine's paths, chained from compiled halves, carry the route's stations and delays (walked on the
    graph), and the copies of a delivery tree."""
    scenario = apply_parameters(load_scenario(SCENARIOS / "national-2025.toml"),
                                {"network.level": "provincial", **overrides})
    topology = build_topology(scenario)
    agenda = Agenda(simpy.Environment())
    stations = [FifoStation(i, s.servers, Variates(lambda: [1.0]), agenda) for i, s in enumerate(topology.stations)]
    book = RouteBook(topology, stations)
    joined = 0
    for origin, recipient in _pairs(topology, 400, seed=3):
        route = _walked(topology, origin, recipient)
        path = book.pair(origin, recipient)
        whole = path.whole()
        assert route.stations == tuple(s.index for s in whole.stations)
        assert (route.latency, route.inv_bandwidth, recipient) == (whole.latency, whole.inv_bandwidth, whole.recipient)
        if path.then is None:  # a first half without a station (agency and platform passed through): joined
            assert path.whole() is path
            joined += 1
        else:  # chained: the halves are shared, not copied
            assert path.then.then is None and path.recipient == path.then.recipient and path.length
            assert path.stations is book.pair(origin, recipient).stations
    assert bool(joined) == ({"network.agency.passthrough", "network.platform.passthrough"} <= set(overrides))
    provinces = [i for i, kind in enumerate(topology.agencies.kinds) if kind == "province"]
    tree = book.tree(provinces[0], tuple(provinces[1:]))
    assert len(provinces) - 1 == tree.copies
    assert tree is book.tree(provinces[0], tuple(provinces[1:]))  # a directive to every province repeats: kept


def _recipient_sets(topology: Topology, count: int, seed: int) -> list[tuple[int, tuple[int, ...]]]:
    """Random senders and recipient sets of 2 to 12: some behind the sender's platform only, some behind one other
    platform only, the rest mixed."""
    rng = np.random.default_rng(seed)
    n = len(topology.agencies)
    platform_of = topology.agencies.platform_of
    sets = []
    while len(sets) < count:
        origin = int(rng.integers(n))
        size = int(rng.integers(2, 13))
        pool = {0: np.flatnonzero(platform_of == platform_of[origin]),
                1: np.flatnonzero(platform_of == platform_of[int(rng.integers(n))]),
                2: np.arange(n)}[len(sets) % 3]
        chosen = [int(r) for r in rng.permutation(pool) if r != origin][:size]
        if len(chosen) >= 2:
            sets.append((origin, tuple(chosen)))
    return sets


@pytest.mark.parametrize("overrides", [
    {},
    {"network.platform.passthrough": True},
    {"network.hub.passthrough": True, "network.agency.passthrough": True},
    {"network.backbone.failures": {"between": {"mean": "30d"}, "repair": {"mean": "1h"}}},  # link:<id> stations
])
def test_fanout_trees_from_halves_equal_trees_grown_on_the_graph(overrides):
    """Delivery trees joined from halves: the same stations, delays, branches (in order) and recipients as the tree
    grown from the graph paths, for 600 sampled recipient sets on national-2025 at the provincial level."""
    scenario = apply_parameters(load_scenario(SCENARIOS / "national-2025.toml"),
                                {"network.level": "provincial", **overrides})
    topology = build_topology(scenario)
    for origin, recipients in _recipient_sets(topology, 600, seed=11):
        assert topology.fanout_route_by_paths(origin, recipients) == topology.fanout_route(origin, recipients), \
            (origin, recipients)
