"""Analytic module: textbook formulas, traffic equations against simulated counts, roadmaps."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import simulator
from simulator.analytic import (
    _any_chosen,
    _flows,
    connect_headroom,
    electronic_share,
    erlang_b,
    mmck,
    predict,
    priority_waits,
    station_arrival_rates,
)
from simulator.engine import simulate
from simulator.scenario import load_scenario
from simulator.topology import build_topology


def test_erlang_b_textbook_values():
    """Erlang B: B(1, a) = a / (1 + a); B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19."""
    assert 0.5 == pytest.approx(erlang_b(1, 1.0))
    assert 4 / 19 == pytest.approx(erlang_b(3, 2.0), rel=1e-12)
    assert 0.0 == erlang_b(3, 0.0)


def test_mmck_reduces_to_known_cases():
    """M/M/c/c is Erlang B; M/M/1/K with large K tends to M/M/1 (L = rho / (1 - rho))."""
    assert erlang_b(3, 2.0) == pytest.approx(mmck(2.0, 1.0, 3, 3)["blocking"], rel=1e-12)
    big = mmck(0.5, 1.0, 1, 200)
    assert 1.0 == pytest.approx(big["mean_in_system"], rel=1e-9)
    assert 2.0 == pytest.approx(big["mean_sojourn"], rel=1e-9)
    # M/M/1/2 with a = 1: p = (1/3, 1/3, 1/3)
    small = mmck(1.0, 1.0, 1, 2)
    assert (1 / 3, 1.0, 2 / 3) == pytest.approx((small["blocking"], small["mean_in_system"], small["utilization"]))


def test_priority_waits_cobham():
    """Two classes, rho = 0.8, exponential service: W0 = 0.8, W_urgent = 0.8 / 0.76, W_normal = W_urgent / 0.2."""
    urgent, normal = priority_waits([0.24, 0.56], 1.0, 1.0)
    assert 0.8 / 0.76 == pytest.approx(urgent, rel=1e-12)
    assert 0.8 / (0.76 * 0.2) == pytest.approx(normal, rel=1e-12)
    # conservation (Kleinrock): the rate-weighted mean wait equals the FIFO M/M/1 wait rho / (mu - lambda)
    assert 0.8 / 0.2 == pytest.approx((0.24 * urgent + 0.56 * normal) / 0.8, rel=1e-12)


#: Stations of the feature scenarios: a 3-server hub, gamma platforms, deterministic agency systems.
STATIONS = """[network.hub]
servers = 3
service = { mean = "2s" }
[network.platform]
service = { distribution = "gamma", mean = "1s", cv = 0.5 }
[network.agency]
service = { distribution = "deterministic", mean = "0.5s" }
"""
#: Classified and urgent shares, fan-out to 3 of anyone and to every province.
TYPES_AND_FANOUT = """[traffic.types]
classified = 0.05
urgent = 0.1
[[traffic.fanout]]
share = 0.1
recipients = 3
[[traffic.fanout]]
share = 0.05
recipients = "all"
kind = "province"
"""
#: Two status messages per electronic copy.
STATUSES = """[[traffic.statuses]]
code = "01"
after = { mean = "1min" }
[[traffic.statuses]]
code = "06"
after = { mean = "2h" }
"""
#: Two ministries, the second not connected.
MINISTRIES = """[[agencies]]
id = "m1"
kind = "ministry"
[[agencies]]
id = "m2"
kind = "ministry"
connected = false
"""

FEATURES = """
[run]
horizon = "400h"
""" + STATIONS + """[kinds.ministry]
rate = "12/h"
weight = 2.0
adoption = 0.8
[kinds.province]
rate = "6/h"
""" + TYPES_AND_FANOUT + STATUSES + MINISTRIES + """[[agencies]]
id = "m1-unit"
kind = "ministry"
parent = "m1"
""" + "".join(f'[[agencies]]\nid = "p{i}"\nkind = "province"\n' for i in range(5))


#: Provinces with departments behind their platforms, a ministry with units: local traffic, three fan-out groups
#: (3 of anyone, every province, 2 departments), statuses, classified and paper, and agencies connected one by one.
NESTED = """
[run]
horizon = "300h"
""" + STATIONS + """[kinds.ministry]
rate = "10/h"
weight = 2.0
adoption = 0.8
[kinds.ministry-unit]
rate = "3/h"
[kinds.province]
rate = "6/h"
[kinds.department]
rate = "4/h"
weight = 0.5
adoption = 0.9
[traffic]
local_share = 0.5
""" + TYPES_AND_FANOUT + """[[traffic.fanout]]
share = 0.04
recipients = 2
kind = "department"
""" + STATUSES + """[connection]
order = ["p2", "p1-d1", "m2"]
every = "80h"
""" + MINISTRIES + "".join(f'[[agencies]]\nid = "m1-u{j}"\nkind = "ministry-unit"\nparent = "m1"\n' for j in range(2)) + "".join(
    f'[[agencies]]\nid = "p{i}"\nkind = "province"\n' + ("connected = false\n" if i == 2 else "")
    + "".join(f'[[agencies]]\nid = "p{i}-d{j}"\nkind = "department"\nparent = "p{i}"\n'
              + ("connected = false\n" if (i, j) == (1, 1) else "") for j in range(3))
    for i in range(4))


def test_nested_scenario_connects_one_by_one():
    """NESTED: p2, p1-d1 and m2 start unconnected and join every 80 h, in the order given."""
    table = build_topology(load_scenario(NESTED)).agencies
    assert [80 * 3600.0, 160 * 3600.0, 240 * 3600.0] == [table.connect_time[table.index(a)] for a in ("p2", "p1-d1", "m2")]
    assert table.platform_of[table.index("p1-d1")] == table.index("p1")


#: Replications whose counts are summed, and how much wider than Poisson a count's spread is: a document's
#: fan-out copies and status messages arrive together (measured: standard deviation up to 2.9 sqrt(count)).
REPLICATIONS, CLUSTERING = 4, 3.0


@pytest.mark.parametrize("text", [FEATURES, NESTED], ids=["features", "nested"])
def test_traffic_equations_match_simulated_arrivals(text):
    """With fan-out trees, status messages, paper, local traffic, onboarding and nested agencies,
    predicted arrivals match simulated counts at every station."""
    scenario = load_scenario(text)
    topology = build_topology(scenario)
    predicted = REPLICATIONS * station_arrival_rates(scenario, topology)["total"] * scenario.run.horizon
    simulated = sum(simulate(scenario, topology, np.random.SeedSequence(r)).window.arrived for r in range(REPLICATIONS))
    for station, expected, observed in zip(topology.stations, predicted, simulated):
        # within 4 standard deviations, plus status messages still scheduled after the horizon (a few per station)
        assert abs(observed - expected) <= 4 * CLUSTERING * math.sqrt(expected) + 10 * REPLICATIONS, (
            station.name, expected, observed)


def test_copy_flows_balance():
    """Every copy sent is delivered, and every copy leaving a platform for another enters one through the hub."""
    for text in (FEATURES, NESTED):
        scenario = load_scenario(text)
        flows = _flows(scenario, build_topology(scenario))
        assert flows["copies"] == pytest.approx(flows["sent_by_agency"].sum(), rel=1e-12)
        assert flows["hub_copies"] == pytest.approx(flows["off_platform_into"].sum(), rel=1e-12)


def test_any_chosen_is_the_exact_hypergeometric():
    """P(a k-subset of m hits one of s marked) = 1 - C(m-s, k) / C(m, k), to full relative precision."""
    for members, marked, chosen in [(10, 1, 1), (63, 5, 3), (4000, 1, 3), (12145, 2, 1), (3321, 30, 100), (9, 7, 3)]:
        exact = 1 - Fraction(math.comb(members - marked, chosen), math.comb(members, chosen))
        assert float(exact) == pytest.approx(float(_any_chosen(members, marked, chosen)), rel=1e-13)
    assert [0.0, 1.0] == _any_chosen(5.0, np.array([0.0, 5.0]), 5).tolist()  # "all": hits whenever one is marked


def test_electronic_share_matches_simulation():
    """The analytic electronic share (connection, classified, adoption, recipients) matches a long run."""
    scenario = load_scenario(FEATURES)
    topology = build_topology(scenario)
    expected = electronic_share(scenario, topology)
    result = simulator.run(scenario, seed=4)
    documents = result.summary["documents"]["generated"]
    tolerance = 4 * math.sqrt(expected * (1 - expected) / documents)
    assert expected == pytest.approx(result.summary["electronic_share"], abs=tolerance)


def test_bottleneck_and_headroom():
    """The bottleneck is the busiest station; headroom is 1 / its utilisation, 0.8 of that to 80 %."""
    scenario = load_scenario(FEATURES)
    prediction = predict(scenario, build_topology(scenario))
    top = max(prediction.stations, key=lambda s: s.utilization)
    assert top == prediction.bottleneck
    assert 1 / top.utilization == pytest.approx(prediction.headroom)
    assert 0.8 / top.utilization == pytest.approx(prediction.headroom_80)
    assert not prediction.exact and prediction.caveats


def test_connect_roadmap_raises_share_and_load():
    """Connecting the unconnected ministry raises the electronic share and the hub's load, step by step."""
    scenario = load_scenario(FEATURES)
    steps = connect_headroom(scenario, order=("m2",), threshold=0.5)
    assert [0, 1] == [s.connected for s in steps]
    assert steps[1].electronic_share > steps[0].electronic_share
    assert steps[1].peak_utilization > steps[0].peak_utilization


def test_connection_count_connects_the_first_of_the_order():
    """connection.connected = 1 over ["m2", "m1"] connects m2 and disconnects m1; the roadmap then connects m1."""
    scenario = load_scenario(FEATURES + '[connection]\norder = ["m2", "m1"]\nconnected = 1\n')
    table = build_topology(scenario).agencies
    assert (True, False) == (bool(table.connected[table.index("m2")]), bool(table.connected[table.index("m1")]))
    steps = connect_headroom(scenario)
    assert [None, "m1"] == [s.agency for s in steps]
    assert steps[1].electronic_share > steps[0].electronic_share


def test_multiplier_scales_every_rate():
    """traffic.multiplier = 2 doubles every station's predicted arrival rate."""
    scenario = load_scenario(FEATURES)
    doubled = scenario.replace(traffic=scenario.traffic.model_copy(update={"multiplier": 2.0}))
    base = station_arrival_rates(scenario, build_topology(scenario))["total"]
    assert np.allclose(2 * base, station_arrival_rates(doubled, build_topology(doubled))["total"])


def test_unknown_agency_in_roadmap_is_a_scenario_error():
    """connection.order naming no agency is reported with its key path."""
    scenario = load_scenario(FEATURES + '[connection]\norder = ["m2", "nobody"]\n')
    with pytest.raises(simulator.errors.ScenarioError, match=r"connection\.order\[1\] = 'nobody'"):
        build_topology(scenario)


def test_a_horizon_without_open_hours_predicts_no_load():
    """One hour from Monday 00:00 under a working calendar: no document is created, so every station's load in
    open hours and in the busiest hour is 0 and the headroom infinite, without a NumPy warning (0 x inf was NaN)."""
    import warnings
    from pathlib import Path

    scenario = simulator.apply_parameters(
        load_scenario(Path(__file__).parents[1] / "scenarios" / "national-2020.toml"),
        {"run.horizon": "1h", "run.warmup": "0s"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prediction = predict(scenario, build_topology(scenario))
    assert {(s.arrival_rate, s.peak_utilization, s.busiest_hour_utilization) for s in prediction.stations} == {(0, 0, 0)}
    assert prediction.headroom == math.inf
