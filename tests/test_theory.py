"""Simulation against queueing theory: an open Jackson network, and the textbook formulas.

The statistical test: R independent replications (fixed seeds), each with a
warm-up cut; the exact value must lie inside the Student-t confidence interval
of the replication means, at a Bonferroni-corrected level so that a correct
simulator fails a whole test with probability at most 1 % (per check
1 % / number of checks). The seeds are fixed, so the suite is deterministic; a
change that moves the sample paths draws a new sample from that 1 %.
Utilisation is also held to 0.01 absolute.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import simulator
from simulator.analytic import erlang_c, mgc_wait, mmc_wait, predict, station_arrival_rates
from simulator.results import confidence_interval
from simulator.scenario import load_scenario
from simulator.topology import build_topology

from .conftest import hub_spoke_text


def test_erlang_c_textbook_values():
    """Erlang C against hand-computed values (Kleinrock 1975, eq. 3.40)."""
    assert 0.6893162217 == pytest.approx(erlang_c(4, 3.4), abs=1e-10)  # the reference workload's hub (benchmarks)
    # c = 2, a = 1: B = 1/5, C = B / (1 - rho + rho B) = 0.2 / 0.6 = 1/3
    assert 1 / 3 == pytest.approx(erlang_c(2, 1.0), rel=1e-12)
    assert 0.5 == erlang_c(1, 0.5)
    assert 1.0 == erlang_c(3, 3.0)


def test_waiting_time_formulas():
    """M/M/1 (rho/(mu - lambda)), M/M/2, and M/D/1 (Pollaczek-Khinchine) mean waits."""
    assert 0.08 * 3600 == pytest.approx(mmc_wait(40 / 3600, 50 / 3600, 1), rel=1e-12)
    # M/M/2, lambda = 1, mu = 1: C = 1/3, Wq = C / (2 - 1) = 1/3
    assert 1 / 3 == pytest.approx(mmc_wait(1.0, 1.0, 2), rel=1e-12)
    assert 0.5 == pytest.approx(mgc_wait(0.5, 1.0, 0.0, 1), rel=1e-12)  # rho / (2 mu (1 - rho))
    assert math.inf == mmc_wait(2.0, 1.0, 1)


def test_traffic_equations_of_the_reference_workload():
    """85 agencies at 20/h: each gateway sees 40/h (rho 0.8), the hub 1700/h (rho 0.85), end to end 0.2043 h."""
    scenario = load_scenario(hub_spoke_text(agencies=85, hub_servers=4, hub_mean="7.2s", horizon="100h", warmup="0s"))
    topology = build_topology(scenario)
    rates = station_arrival_rates(scenario, topology)["total"] * 3600
    hub = topology.station_index["hub"]
    assert 1700 == pytest.approx(rates[hub], rel=1e-12)
    assert np.allclose(np.delete(rates, hub), 40.0, rtol=1e-12)
    prediction = predict(scenario, topology)
    assert prediction.exact
    assert 0.2042977207 * 3600 == pytest.approx(prediction.latency_mean, rel=1e-9)
    assert 0.85 == pytest.approx(prediction.bottleneck.utilization, rel=1e-12)


JACKSON_CASES = {
    # gateways M/M/1 at rho 0.8 (40/h of 50/h), hub M/M/2 at rho 0.75
    "gateways-0.8-hub-0.75": dict(agencies=6, gateway_mean="72s", hub_servers=2, hub_mean="45s"),
    # gateways at rho 0.5, hub M/M/3 at rho 0.9
    "gateways-0.5-hub-0.9": dict(agencies=6, gateway_mean="45s", hub_servers=3, hub_mean="81s"),
}


@pytest.mark.parametrize("case", sorted(JACKSON_CASES))
def test_hub_and_spoke_jackson_network(case: str):
    """Per-station utilisation and mean sojourn agree with the exact product-form solution."""
    scenario = load_scenario(hub_spoke_text(horizon="1000h", warmup="50h", **JACKSON_CASES[case]))
    topology = build_topology(scenario)
    prediction = predict(scenario, topology)
    assert prediction.exact
    result = simulator.run(scenario, seed=2024, replications=8, jobs=2)
    level = 1 - 0.01 / (2 * len(prediction.stations))  # Bonferroni: 1 % for the whole test
    for i, exact in enumerate(prediction.stations):
        utilization = [r["stations"][i]["utilization"] for r in result.replications]
        sojourn = [r["stations"][i]["mean_sojourn_seconds"] for r in result.replications]
        assert exact.utilization == pytest.approx(np.mean(utilization), abs=0.01), exact.name
        low, high = confidence_interval(sojourn, level=level)
        assert low <= exact.mean_sojourn <= high, (exact.name, exact.mean_sojourn, low, high)
        low, high = confidence_interval(utilization, level=level)
        assert low <= exact.utilization <= high, (exact.name, exact.utilization, low, high)


def test_littles_law_per_station():
    """Time-average number waiting equals arrival rate times mean wait (Little), per station and run."""
    scenario = load_scenario(hub_spoke_text(horizon="400h", warmup="20h"))
    result = simulator.run(scenario, seed=8)
    span = result.summary["horizon_seconds"] - result.summary["warmup_seconds"]
    for station in result.summary["stations"]:
        rate = station["arrivals"] / span
        assert station["mean_queue"] == pytest.approx(rate * station["mean_wait_seconds"], rel=0.02), station["name"]


@pytest.mark.slow
def test_verification_suite_passes():
    """axis-sim verify's reference cases (M/M/1, M/M/c, tandem, Jackson, loss, priority, M/M/1 with failures on
    the calendar and only while busy) all pass at their default seed.

    Each of the 29 figures alone has at most a 1 % false-alarm rate at an arbitrary seed (99 % intervals);
    the seed is fixed, so this test is deterministic.
    """
    from simulator.verification import verify

    checks = verify(jobs=2)
    failed = [(c.case, c.figure, c.exact, c.simulated, c.interval) for c in checks if not c.passed]
    assert [] == failed
    assert 29 == len(checks)


def test_verification_detects_a_wrong_engine(monkeypatch):
    """A service-time bug of 5 % makes the M/M/1 case fail: the check can fail."""
    import simulator.traffic as traffic
    from simulator.verification import reference_cases, verify

    original = traffic.draw
    monkeypatch.setattr(traffic, "draw", lambda distribution, rng, size: original(distribution, rng, size) * 1.05)
    checks = verify(replications=4, cases=reference_cases(scale=0.5)[:1])
    assert not all(c.passed for c in checks)


def test_run_flags_disagreement_only_when_theory_is_exact():
    """Stations get 'agrees' in a Jackson network, 'approximate' otherwise; a shifted prediction is flagged."""
    from simulator.experiment import _compare_with_theory

    scenario = load_scenario(hub_spoke_text(horizon="300h", warmup="20h"))
    result = simulator.run(scenario, seed=0, replications=4)
    assert {"agrees"} == {s["theory"] for s in result.summary["stations"]}
    assert [] == result.summary["theory_disagreements"]
    summary = result.summary
    summary["stations"][0]["predicted_mean_sojourn_seconds"] *= 1.5
    _compare_with_theory(summary, result.replications)
    assert [summary["stations"][0]["id"]] == summary["theory_disagreements"]  # keyed by station id
    calendar = simulator.run(load_scenario(hub_spoke_text(horizon="100h", warmup="0s", extra="") + "[calendar]\n"), seed=0)
    assert {"approximate"} == {s["theory"] for s in calendar.summary["stations"]}


def test_stable_networks_keep_bounded_queues():
    """Where the analytic utilisation is below 1, the simulated queues stay near the M/M/c means (no drift)."""
    for gateway_mean, hub_mean in (("45s", "20s"), ("65s", "50s")):
        scenario = load_scenario(hub_spoke_text(horizon="600h", warmup="30h", gateway_mean=gateway_mean, hub_mean=hub_mean))
        prediction = predict(scenario, build_topology(scenario))
        assert all(s.utilization < 1 for s in prediction.stations)
        result = simulator.run(scenario, seed=5)
        for exact, simulated in zip(prediction.stations, result.summary["stations"]):
            waiting = exact.arrival_rate * exact.mean_wait  # exact mean number waiting (Little)
            assert simulated["mean_queue"] <= 1.5 * waiting + 0.5, exact.name
            assert simulated["max_queue"] < 200, exact.name
    # and an overloaded hub does drift: its queue grows far beyond any stable mean
    overloaded = load_scenario(hub_spoke_text(horizon="200h", warmup="0s", hub_mean="130s"))
    assert predict(overloaded, build_topology(overloaded)).bottleneck.utilization > 1
    hub = simulator.run(overloaded, seed=5).summary["stations"][0]
    assert hub["max_queue"] > 500
