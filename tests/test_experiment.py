"""Experiments: warm-up, sequential stopping, sweeps (expansion, persistence, resumption), executors, capacity."""
from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.analytic import predict
from simulator.capacity import CapacityResult, check_station, initial_bracket, parse_target, search
from simulator.errors import ScenarioError
from simulator.experiment import expand, mser5, sweep
from simulator.scenario import load_scenario
from simulator.topology import build_topology

from .conftest import hub_spoke_text

# M/M/1 at the hub: mu = 1/s, lambda = 0.5/s per unit of traffic.multiplier
MM1 = """
[run]
horizon = "{horizon}"
warmup = "{warmup}"
timeseries_interval = "{interval}"
[network.hub]
service = {{ mean = "1s" }}
[[agencies]]
id = "A"
rate = 0.5
[[agencies]]
id = "B"
"""


def mm1(horizon: str = "20000s", warmup: str = "500s", interval: str = "200s", extra: str = ""):
    """A single M/M/1 station as a scenario."""
    return load_scenario(MM1.format(horizon=horizon, warmup=warmup, interval=interval) + extra)


SWEEP = """
[sweep]
mode = "{mode}"
[[sweep.parameters]]
path = "network.hub.servers"
values = [1, 2]
[[sweep.parameters]]
path = "traffic.multiplier"
values = [0.5, 1.0, 1.5]
"""


def test_mser5_cuts_an_initial_transient():
    """A decaying start followed by noise is cut where the decay ends (within one batch)."""
    rng = np.random.default_rng(1)
    series = list(20 * np.exp(-np.arange(60) / 8) + rng.normal(1, 0.1, 60)) + list(rng.normal(1, 0.1, 400))
    cut = mser5(series)
    assert 20 <= cut <= 60
    assert mser5(list(rng.normal(1, 0.1, 400))) <= 40  # stationary: at most a small cut
    assert 0 == mser5([1.0, 2.0])  # too short to judge


def test_automatic_warmup_is_reported_and_reproducible():
    """warmup = "auto" is resolved by MSER-5 on a pilot run, reported, and the same every time."""
    scenario = mm1(warmup="auto", extra="")
    first = simulator.run(scenario, seed=3, replications=2)
    warmup = first.summary["warmup"]
    assert warmup["method"].startswith("MSER-5")
    assert 0 <= warmup["seconds"] <= 10000
    assert first.summary["warmup_seconds"] == warmup["seconds"]
    assert warmup == simulator.run(scenario, seed=3, replications=2).summary["warmup"]


def test_sequential_stopping_reaches_the_precision_target():
    """Replications are added until the mean latency's relative 95 % half-width is at most 5 %."""
    extra = '[run.precision]\nfigures = ["latency_seconds.mean"]\nrelative_half_width = 0.05\nmax_replications = 40\n'
    result = simulator.run(mm1(horizon="4000s", extra=extra.replace("[run.precision]", "[run.precision]")), seed=1)
    precision = result.summary["precision"]
    assert precision["replications"] == result.summary["replications"] > 3
    assert precision["achieved"]["latency_seconds.mean"] <= 0.05 or precision["replications"] == 40


def test_expand_grid_and_zip():
    """Grid: every combination, last parameter fastest; zip: values side by side."""
    grid = expand(mm1(extra=SWEEP.format(mode="grid")))
    assert 6 == len(grid)
    assert [{"network.hub.servers": 1, "traffic.multiplier": 0.5}, {"network.hub.servers": 1, "traffic.multiplier": 1.0}] == [
        p.parameters for p in grid[:2]]
    assert (2, 1.5) == (grid[-1].scenario.network.hub.servers, grid[-1].scenario.traffic.multiplier)
    zipped = load_scenario(MM1.format(horizon="1000s", warmup="0s", interval="100s")
                           + '[sweep]\nmode = "zip"\n[[sweep.parameters]]\npath = "network.hub.servers"\nvalues = [1, 2]\n'
                           + '[[sweep.parameters]]\npath = "traffic.multiplier"\nvalues = [0.5, 1.0]\n')
    assert [(1, 0.5), (2, 1.0)] == [(p.scenario.network.hub.servers, p.scenario.traffic.multiplier) for p in expand(zipped)]


def test_a_bad_sweep_value_is_reported_before_anything_runs():
    """A sweep value that breaks a rule names the sweep parameter and the resulting key."""
    bad = mm1(extra='[sweep]\n[[sweep.parameters]]\npath = "network.hub.servers"\nvalues = [1, 0]\n')
    with pytest.raises(ScenarioError, match=r"sweep\.parameters \[network\.hub\.servers = 0\] -> network\.hub\.servers = 0"):
        expand(bad)


def test_sweep_persists_resumes_and_reuses(tmp_path: Path):
    """A sweep writes points.csv, a manifest and point folders; rerunning reuses every run; more replications reuse the old."""
    scenario = mm1(horizon="3000s", warmup="100s", extra=SWEEP.format(mode="grid"))
    first = sweep(scenario, tmp_path / "s", replications=2, jobs=2)
    assert (12, 0) == (first.ran, first.reused)
    table = pd.read_csv(tmp_path / "s" / "points.csv")
    assert 6 == len(table)
    assert {"network.hub.servers", "traffic.multiplier", "latency_mean_seconds", "latency_mean_seconds_ci_low",
            "bottleneck_utilization", "peak_utilization", "electronic_share"} <= set(table.columns)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text(encoding="utf-8"))
    assert (6, scenario.run.seed, simulator.__version__) == (len(manifest["points"]), manifest["seed"], manifest["version"])
    assert (tmp_path / "s" / "points" / "p005" / "summary.json").exists()
    again = sweep(scenario, tmp_path / "s", replications=2, jobs=1)
    assert (0, 12) == (again.ran, again.reused)
    assert first.table.equals(again.table)  # identical whether run now (in 2 processes) or read back
    more = sweep(scenario, tmp_path / "s", replications=3)
    assert (6, 12) == (more.ran, more.reused)


def test_interrupted_sweep_keeps_finished_runs(tmp_path: Path):
    """Runs finished before an interruption are kept and not run again."""
    scenario = mm1(horizon="2000s", warmup="100s", extra=SWEEP.format(mode="grid"))

    def interrupt(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(scenario, tmp_path / "s", replications=1, progress=interrupt)
    resumed = sweep(scenario, tmp_path / "s", replications=1)
    assert (2, 4) == (resumed.ran, resumed.reused)


def test_changed_scenario_does_not_reuse_stale_runs(tmp_path: Path):
    """Another horizon is another fingerprint: nothing is reused."""
    sweep(mm1(horizon="2000s", extra=SWEEP.format(mode="grid")), tmp_path / "s", replications=1)
    changed = sweep(mm1(horizon="2500s", extra=SWEEP.format(mode="grid")), tmp_path / "s", replications=1)
    assert (6, 0) == (changed.ran, changed.reused)


def test_common_random_numbers_across_points(tmp_path: Path):
    """Points differing only in hub servers see the same documents (same arrivals, same count)."""
    points = sweep(mm1(horizon="3000s", extra=SWEEP.format(mode="grid")), tmp_path / "crn", replications=1)
    generated = {tuple(p.parameters.values()): r.summary["documents"]["generated"] for p, r in zip(points.points, points.results)}
    assert generated[(1, 1.0)] == generated[(2, 1.0)]
    assert generated[(1, 0.5)] != generated[(1, 1.0)]


@pytest.mark.slow
def test_dask_cluster_gives_the_same_results():
    """Replications on a real dask.distributed LocalCluster equal those in this process."""
    distributed = pytest.importorskip("dask.distributed")
    scenario = load_scenario(hub_spoke_text(horizon="20h", warmup="1h"))
    serial = simulator.run(scenario, seed=4, replications=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = simulator.run(scenario, seed=4, replications=3, scheduler=cluster.scheduler_address)
    assert json.dumps(serial.summary, sort_keys=True, default=str) == json.dumps(remote.summary, sort_keys=True, default=str)


#: A year-style sweep of the full 2025 structure, cut to Monday 00:00-09:00 (one office hour).
FULL_SWEEP = """
extends = "{path}"
[run]
horizon = "9h"
warmup = "0s"
timeseries_interval = "1h"
[sweep]
[[sweep.parameters]]
path = "traffic.multiplier"
values = [1.0, 2.0]
"""
#: What a run folder holds (axis-sim run): the tables, the resolved scenario and the charts.
RUN_FILES = {"summary.json", "stations.csv", "timeseries.csv", "replications.csv", "tables.xlsx", "scenario.toml",
             "charts/utilization.png",
             "charts/latency_cdf.png", "charts/queues.png", "charts/electronic_share.png", "charts/network_map.png"}


@pytest.mark.slow
def test_full_structure_sweep_on_a_dask_cluster(tmp_path: Path):
    """A 2-point sweep of national-2025-full on a real LocalCluster: every point folder is a complete run folder,
    and the results equal a serial sweep's."""
    distributed = pytest.importorskip("dask.distributed")
    from simulator.charts import save_point_charts, save_sweep_charts

    path = (Path(__file__).parents[1] / "scenarios" / "national-2025-full.toml").as_posix()
    scenario = load_scenario(FULL_SWEEP.format(path=path))
    serial = sweep(scenario, tmp_path / "serial", seed=5, replications=1, point_charts=save_point_charts)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = sweep(scenario, tmp_path / "dask", seed=5, replications=1, scheduler=cluster.scheduler_address,
                       charts=save_sweep_charts, point_charts=save_point_charts)
    assert (2, 0) == (remote.ran, remote.reused)
    for point in remote.points:
        folder = tmp_path / "dask" / "points" / point.label
        assert RUN_FILES <= {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}, point.label
    assert (tmp_path / "dask" / "charts" / "capacity_curve.png").exists()
    assert serial.table.equals(remote.table)
    for here, there in zip(serial.results, remote.results):
        assert json.dumps(here.summary, sort_keys=True, default=str) == json.dumps(there.summary, sort_keys=True, default=str)
        assert here.summary["documents"]["generated"] > 0  # the office hour was simulated


def test_predict_runs_once_per_run_and_per_sweep_point(monkeypatch, tmp_path: Path):
    """The analytic prediction is solved once per run (pilot included) and once per sweep point and call.

    A sweep solves every point's prediction before anything runs (the work estimate reads it), reused runs included;
    the replications share it.
    """
    calls = []

    def counting(scenario, topology):
        calls.append(scenario.name)
        return predict(scenario, topology)

    monkeypatch.setattr(simulator.experiment, "predict", counting)
    simulator.run(mm1(horizon="2000s"), seed=1, replications=3)
    assert 1 == len(calls)
    simulator.run(mm1(horizon="2000s", warmup="auto"), seed=1, replications=3)  # a pilot replication first
    assert 2 == len(calls)
    scenario = mm1(horizon="1000s", extra='[sweep]\n[[sweep.parameters]]\npath = "traffic.multiplier"\nvalues = [0.5, 1.0]\n')
    sweep(scenario, tmp_path / "s", replications=2)
    assert 4 == len(calls)
    sweep(scenario, tmp_path / "s", replications=2)  # every run reused: only the work estimate's predictions
    assert 6 == len(calls)


def test_prediction_travels_to_workers():
    """A Prediction pickles (process pools, Dask) and does not depend on the warm-up the replications use."""
    scenario = load_scenario(hub_spoke_text(horizon="20h", warmup="1h"))
    prediction = predict(scenario, build_topology(scenario))
    assert prediction == pickle.loads(pickle.dumps(prediction))
    other = scenario.replace(run=scenario.run.model_copy(update={"warmup": 0.0}))
    assert prediction == predict(other, build_topology(other))


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    """A scheduler address nobody answers is an ExperimentError naming it."""
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(simulator.experiment, "SCHEDULER_TIMEOUT", "2s")
    with pytest.raises(simulator.errors.ExperimentError, match="127.0.0.1:1"):
        simulator.run(mm1(horizon="100s", warmup="0s", interval="10s"), scheduler="tcp://127.0.0.1:1")


def test_capacity_search_brackets_the_exact_answer():
    """M/M/1 with mu = 1: mean sojourn <= 5 s holds up to lambda = 0.8, i.e. multiplier 1.6."""
    result = search(mm1(horizon="30000s", warmup="1000s"), "traffic.multiplier", parse_target("latency_mean <= 5s"),
                    replications=4, tolerance=0.03)
    assert result.best is not None and result.limit is not None
    assert result.best <= 1.6 <= result.limit + 0.05
    assert result.limit - result.best <= 0.05 * result.limit + 1e-9
    assert all(e.verdict == "meets" for e in result.evaluations if e.value <= result.best)


def test_capacity_search_for_the_smallest_integer():
    """The fewest hub servers keeping utilisation <= 0.8 at 2.4 arrivals/s is 3 (0.8 exactly fails the CI test) or 4."""
    scenario = mm1(horizon="5000s", warmup="200s").replace(
        agencies=(simulator.scenario.AgencySpec(id="A", rate=2.4), simulator.scenario.AgencySpec(id="B")))
    result = search(scenario, "network.hub.servers", parse_target("utilization <= 0.8"), direction="smallest",
                    replications=3)
    assert result.best in (3.0, 4.0)
    assert result.limit == result.best - 1


def test_capacity_search_of_a_linear_figure_is_short():
    """M/M/1 utilisation <= 0.7 (linear in the multiplier, exact at 1.4): from the analytic bracket, 4 runs at most."""
    result = search(mm1(horizon="20000s", warmup="500s"), "traffic.multiplier", parse_target("utilization <= 0.7"),
                    replications=3, seed=4)
    assert (result.bracket.source, result.bracket.predicted) == ("analytic", pytest.approx(1.4, rel=1e-9))
    assert (result.bracket.low, result.bracket.high) == (pytest.approx(0.7), pytest.approx(1.68))
    assert [e.value for e in result.evaluations[:2]] == [pytest.approx(0.7), pytest.approx(1.68)]
    assert len(result.evaluations) <= 4 and result.reason == "converged"
    assert 1.3 <= result.best <= 1.4 <= result.limit * 1.03


#: Six agencies at 20/h, M/M/1 gateways at 0.4, an M/M/1 hub at 0.3 (no calendar: open hours are all hours).
STATIONS = hub_spoke_text(agencies=6, gateway_mean="36s", hub_servers=1, hub_mean="9s", horizon="60h", warmup="2h")


@pytest.mark.parametrize("text, station, direction, expected", [
    ("utilization <= 0.6", None, "largest", ("analytic", 1.5, 0.75, 1.8)),
    ("utilization <= 0.6", "hub", "largest", ("analytic", 2.0, 1.0, 2.4)),
    ("peak_utilization <= 0.6", "agency:A2", "largest", ("analytic", 1.5, 0.75, 1.8)),
    ("utilization >= 0.6", None, "smallest", ("analytic", 1.5, 1.25, 3.0)),
    ("latency_p95 <= 1h", None, "largest", ("saturation", 2.5, 1.25, 3.0)),  # gateways saturate at 1 / 0.4
    ("dropped_share <= 0.01", None, "largest", ("saturation", 2.5, 1.25, 3.0)),
    ("electronic_share >= 0.9", None, "largest", ("scenario", None, 1.0, 1.0)),
])
def test_initial_bracket_comes_from_the_analytic_prediction(text: str, station: str | None, direction: str,
                                                            expected: tuple):
    """Utilisation is linear in the multiplier: the analytic crossing is exact; the bracket is [0.5, 1.2] of it
    (mirrored, [1/1.2, 2], for the smallest value); figures without a prediction start at saturation or the scenario."""
    scenario = load_scenario(STATIONS)
    bracket = initial_bracket(scenario, "traffic.multiplier", parse_target(text).at(station), direction=direction)
    source, predicted, low, high = expected
    assert bracket.source == source
    assert bracket.predicted == (None if predicted is None else pytest.approx(predicted, rel=1e-9))
    assert (bracket.low, bracket.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_initial_bracket_of_latency_mean_and_of_an_integer_key():
    """latency_mean: where the analytic mean latency reaches the bound; hub servers: whole numbers around the fewest."""
    scenario = load_scenario(STATIONS)
    bracket = initial_bracket(scenario, "traffic.multiplier", parse_target("latency_mean <= 3min"))
    variant = simulator.apply_parameters(scenario, {"traffic.multiplier": bracket.predicted})
    assert predict(variant, build_topology(variant)).latency_mean == pytest.approx(180.0, rel=1e-3)
    busy = simulator.apply_parameters(scenario, {"traffic.multiplier": 10.0, "network.agency.service.mean": "1s"})
    # hub arrivals 1200/h x 9 s = 3 erlangs: utilisation <= 0.55 needs 6 servers (5 give 0.6)
    servers = initial_bracket(busy, "network.hub.servers", parse_target("utilization <= 0.55").at("hub"),
                              direction="smallest")
    assert (servers.source, servers.predicted, servers.low, servers.high) == ("analytic", 6.0, 5.0, 12.0)
    assert initial_bracket(scenario, "traffic.multiplier", parse_target("utilization <= 0.6"), start=3.0).source == "start"


def test_check_station_names_the_nearest_ids():
    """An id the scenario does not model is refused with the nearest ids; a modelled one passes."""
    scenario = load_scenario(STATIONS)
    check_station(scenario, "agency:A0")
    with pytest.raises(ScenarioError, match=r"--station = 'platform:A0': is not a station.*nearest ids: agency:A0, "):
        check_station(scenario, "platform:A0")  # platforms are left out of this network
    with pytest.raises(ValueError, match="applies only to a station figure"):
        parse_target("latency_mean <= 1h").at("hub")


def test_capacity_result_is_typed_and_serialisable():
    """CapacityResult is frozen; to_dict is plain JSON with the figures in the target's unit."""
    result = search(mm1(horizon="5000s", warmup="200s"), "traffic.multiplier", parse_target("latency_mean <= 0.05min"),
                    replications=2, seed=3, max_evaluations=3)
    assert isinstance(result, CapacityResult) and len(result.evaluations) == 3
    with pytest.raises(AttributeError):
        result.best = 2.0  # type: ignore[misc]
    saved = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert saved["target"]["unit"] == "min" and saved["target"]["bound"] == pytest.approx(0.05)
    first = result.evaluations[0]
    assert saved["evaluations"][0]["mean"] == pytest.approx(first.mean / 60)
    assert saved["evaluations"][0]["ci95"] == [pytest.approx(first.low / 60), pytest.approx(first.high / 60)]
    assert saved["settings"] == {"replications": 2, "seed": 3, "tolerance": 0.02, "max_evaluations": 3, "confidence": 0.95,
                                 "explore_replications": 2}  # a bracket from the analytic prediction: no exploration
    assert saved["reason"] in ("converged", "budget", "none_met", "all_met")
    with pytest.raises(simulator.errors.ExperimentError, match="max_evaluations = 0"):
        search(mm1(), "traffic.multiplier", parse_target("utilization <= 0.5"), max_evaluations=0)


def test_target_syntax():
    """Targets parse units; bad ones say what to write."""
    assert 4 * 3600 == parse_target("latency_p95 <= 4h").bound
    assert ">=" == parse_target("electronic_share >= 0.9").operator
    with pytest.raises(ValueError, match="unknown metric"):
        parse_target("speed <= 3")
    with pytest.raises(ValueError, match="is not a target"):
        parse_target("latency_p95 < 4h")
    assert math.isclose(0.25, parse_target("utilization <= 0.25").bound)
    assert ("h", "latency_p95 <= 4h") == (parse_target("latency_p95 <= 4h").unit, str(parse_target("latency_p95<=4h")))
    assert ("s", "") == (parse_target("latency_mean <= 90").unit, parse_target("utilization <= 0.8").unit)
    assert "4.2 h" == parse_target("latency_p95 <= 4h").format(15125.0)
    assert "utilization <= 0.8 at hub" == str(parse_target("utilization <= 0.8").at("hub"))
    with pytest.raises(ValueError, match="'lots' is not a number"):
        parse_target("utilization <= lots")
    with pytest.raises(ValueError, match="finite"):
        parse_target("utilization <= nan")


def test_single_replication_reports_simulated_hours():
    """One replication run here reports progress in simulated hours, ending at the horizon."""
    calls = []
    simulator.run(mm1(horizon="10h", warmup="0s", interval="1h"), seed=1, progress=lambda done, total: calls.append((done, total)))
    assert (10, 10) == calls[-1]
    assert [h for h, _ in calls] == sorted(h for h, _ in calls) and len(calls) >= 10
