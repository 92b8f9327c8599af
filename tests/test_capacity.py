"""Capacity search for latency percentiles: the fluid estimate it starts from, exploring with one replication
and confirming with the full count, runs reused and reproducible."""
from __future__ import annotations

import json

import numpy as np
import pytest

import simulator.capacity
from simulator.analytic import calendar_pattern, fluid_backlog, fluid_latency_quantile, lagged_pattern
from simulator.capacity import EXPLORE_REPLICATIONS, initial_bracket, parse_target, search
from simulator.clock import OpenClock
from simulator.experiment import replication_summaries
from simulator.scenario import load_scenario
from simulator.topology import build_topology

from .conftest import hub_spoke_text

#: Open 00:00-08:00 every day: a third of the time.
EARLY = '[calendar]\nweekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\nhours = [["00:00", "08:00"]]\n'
#: Open 08:00-16:00 every day.
DAY = '[calendar]\nweekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\nhours = [["08:00", "16:00"]]\n'


def rush_hour() -> simulator.scenario.Scenario:
    """Two agencies at 36/h each while open (00:00-08:00), fast gateways (1 s), an M/M/1 hub of 100 s:
    the hub's load is 72 x 100 / 3600 = 2 while open, 2/3 over the day."""
    return load_scenario(hub_spoke_text(agencies=2, rate="36/h", gateway_mean="1s", hub_servers=1, hub_mean="100s",
                                        horizon="1d", warmup="0s", extra=EARLY))


def test_fluid_backlog_grows_in_the_rush_and_drains_after_it():
    """Load 2 for two hours then 0: the backlog is 1 h, 2 h, then drains an hour an hour; load 0.5 never queues."""
    hours = fluid_backlog(np.array([[2.0, 2.0, 0.0, 0.0, 0.0], [0.5] * 5]), 3600.0) / 3600
    assert hours.tolist() == [[1.0, 2.0, 1.0, 0.0, 0.0], [0.0] * 5]


def test_fluid_latency_quantile_by_hand():
    """At load 2 for 8 h from an empty queue, a copy arriving t hours into the rush waits t hours (the gateways
    are at 2 %: no backlog). Arrivals are uniform over the rush, so the q-quantile of the wait is 8 q hours:
    4 h for the median, 7.6 h for the 95th percentile (to the fluid grid's half step of 2.5 minutes)."""
    scenario = rush_hour()
    topology = build_topology(scenario)
    assert fluid_latency_quantile(scenario, topology, 0.5) == pytest.approx(4 * 3600, abs=150)
    assert fluid_latency_quantile(scenario, topology, 0.95) == pytest.approx(7.6 * 3600, abs=150)
    calm = simulator.apply_parameters(scenario, {"traffic.multiplier": 0.45})  # load 0.9 while open: no backlog
    assert fluid_latency_quantile(calm, build_topology(calm), 0.95) == 0.0
    overloaded = simulator.apply_parameters(scenario, {"traffic.multiplier": 1.6})  # 1.07 over the day
    assert fluid_latency_quantile(overloaded, build_topology(overloaded), 0.95) == float("inf")


def test_calendar_pattern_and_status_lags_keep_the_volume():
    """The pattern is the calendar's (open a third of the day: 3 times the mean); statuses that trail the
    documents move them later without changing their number (until the horizon cuts their tail)."""
    clock = OpenClock(load_scenario(hub_spoke_text(extra=EARLY, horizon="2d", warmup="0s")).calendar, 2 * 86400.0)
    pattern = calendar_pattern(clock, 3600.0)
    assert pattern[:8].tolist() == [3.0] * 8 and pattern[8:24].tolist() == [0.0] * 16 and pattern.mean() == 1.0
    lagged = lagged_pattern(pattern, [0.0, 1800.0], 3600.0)
    assert lagged[0] < pattern[0] and lagged[10] > 0 and lagged.sum() == pytest.approx(pattern.sum(), rel=1e-3)


def test_a_latency_percentile_with_a_calendar_starts_from_the_fluid_estimate():
    """The bracket is [0.8, 1.25] of the multiplier at which the fluid estimate reaches the bound. By hand: at
    multiplier m the hub's load while open is u = 2m, waits grow as (u - 1) t over the 8 h rush, uniformly spread,
    so p95 = 0.95 x 8 h x (u - 1) = 4 h at u = 1 + 4 / 7.6, m = 0.763; without a calendar the search starts from
    saturation as before."""
    scenario = rush_hour()
    bracket = initial_bracket(scenario, "traffic.multiplier", parse_target("latency_p95 <= 4h"))
    assert bracket.source == "fluid" and bracket.predicted == pytest.approx((1 + 4 / 7.6) / 2, rel=0.01)
    assert (bracket.low, bracket.high) == (pytest.approx(0.8 * bracket.predicted), pytest.approx(1.25 * bracket.predicted))
    flat = load_scenario(hub_spoke_text(agencies=2, rate="36/h", gateway_mean="1s", hub_servers=1, hub_mean="10s",
                                        horizon="1d", warmup="0s"))
    assert initial_bracket(flat, "traffic.multiplier", parse_target("latency_p95 <= 4h")).source == "saturation"


def small_rush() -> simulator.scenario.Scenario:
    """Four agencies at 18/h while open (08:00-16:00), an M/M/1 hub of 50 s: load 1 while open at 1x."""
    return load_scenario(hub_spoke_text(agencies=4, rate="18/h", gateway_mean="1s", hub_servers=1, hub_mean="50s",
                                        horizon="3d", warmup="1d", extra=DAY))


@pytest.fixture
def counted(monkeypatch) -> list[tuple[float, int]]:
    """Every replication the search runs, as (multiplier, replication number)."""
    runs: list[tuple[float, int]] = []
    real = simulator.capacity.replication_summaries

    def counting(tasks, seed, jobs=1, limits=None):
        runs.extend((task.traffic.multiplier, r) for task, r in tasks)
        return real(tasks, seed, jobs, limits)

    monkeypatch.setattr(simulator.capacity, "replication_summaries", counting)
    return runs


def test_search_explores_with_one_replication_and_confirms_with_the_full_count(counted):
    """Exploratory evaluations have one replication; the answer is an evaluation with the full count, at a value
    explored first; no replication runs twice (a confirmation adds replications 1 and 2). Here the explored
    answer (1.144) is only uncertain with the full interval, so the search steps below it and narrows again with
    the full count: the limit too is then a confirmed evaluation."""
    result = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=3, seed=1)
    stages = [(e.stage, e.replications) for e in result.evaluations]
    explored = [e for e in result.evaluations if e.stage == "explore"]
    confirmed = [e for e in result.evaluations if e.stage == "confirm"]
    assert explored and confirmed and stages == sorted(stages, key=lambda s: s[0] == "confirm")  # explore first
    assert {e.replications for e in explored} == {EXPLORE_REPLICATIONS} and {e.replications for e in confirmed} == {3}
    assert all(e.low == e.high == e.mean for e in explored)
    answer, limit = result.answer, result.limiting
    assert answer is not None and answer.stage == "confirm" and answer.verdict == "meets"
    assert limit is not None and limit.stage == "confirm" and limit.verdict != "meets" and result.reason == "converged"
    assert confirmed[0].value == max(e.value for e in explored if e.verdict == "meets") and confirmed[0].verdict != "meets"
    assert answer.high <= 2 * 3600 and result.best < result.limit <= result.best * 1.02
    assert len(counted) == len(set(counted))  # every (value, replication) once
    assert len(counted) == sum(max(e.replications for e in result.evaluations if e.value == value)
                               for value in {e.value for e in result.evaluations})
    saved = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert [(e["stage"], e["replications"]) for e in saved["evaluations"]] == stages
    assert saved["answer"]["limit_figure"]["stage"] == saved["answer"]["figure"]["stage"] == "confirm"
    assert saved["settings"]["replications"] == 3 and saved["settings"]["explore_replications"] == 1


def test_search_without_room_to_explore_uses_the_full_count(counted):
    """One replication per evaluation, or a budget of two, leaves nothing to confirm: every evaluation is final."""
    single = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=1, seed=1,
                    max_evaluations=3)
    assert {(e.stage, e.replications) for e in single.evaluations} == {("confirm", 1)}
    short = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=2, seed=1,
                   max_evaluations=2)
    assert {(e.stage, e.replications) for e in short.evaluations} == {("confirm", 2)} and len(short.evaluations) == 2


def test_search_is_reproducible_serial_or_parallel():
    """Same scenario and seed: the same evaluations and answer, in one process or two."""
    def saved(jobs: int) -> dict:
        result = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=2, seed=5,
                        jobs=jobs, max_evaluations=6)
        return result.to_dict()

    assert saved(1) == saved(2)


def test_a_confirmed_end_that_changes_side_steps_away_by_the_growth(monkeypatch):
    """A made-up figure p95 = m h x (0.9, 1.0, 1.1) for replications 0, 1, 2: replication 0 alone crosses 2 h at
    m = 2.22, the upper end of the 3-replication interval (1 + 4.303 x 0.1 / sqrt 3 = 1.248 times the mean) at
    m = 1.602. The explored end that met is uncertain when confirmed; the search steps 8 % (4 tolerances) below
    it, then further, and narrows to the interval's crossing with the full count."""
    def summaries(tasks, seed, jobs=1, limits=None):
        return [{"latency_seconds": {"p95": 3600.0 * task.traffic.multiplier * (0.9, 1.0, 1.1)[r]}} for task, r in tasks]

    monkeypatch.setattr(simulator.capacity, "replication_summaries", summaries)
    result = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=3, start=1.0,
                    max_evaluations=20)
    explored = [e for e in result.evaluations if e.stage == "explore"]
    confirmed = [e for e in result.evaluations if e.stage == "confirm"]
    assert max(e.value for e in explored if e.verdict == "meets") == confirmed[0].value
    assert confirmed[0].value == pytest.approx(2.222, rel=0.02) and confirmed[0].verdict == "uncertain"
    assert confirmed[1].value == pytest.approx(confirmed[0].value / 1.08)
    assert result.reason == "converged" and 1.602 / 1.02 <= result.best <= 1.602 <= result.limit


def test_a_confirmed_answer_keeps_the_explored_limit(monkeypatch, capsys):
    """A made-up figure p95 = m h x (1.0, 0.999, 0.998) for replications 0, 1, 2: tight replications, so the
    explored answer still meets with the full interval. Only the answer is confirmed, in one round (replications
    1 and 2 at once); the end above it keeps its exploratory verdict, named as such in capacity.json and on
    screen."""
    rounds: list[list[tuple[float, int]]] = []

    def summaries(tasks, seed, jobs=1, limits=None):
        if tasks:
            rounds.append([(task.traffic.multiplier, r) for task, r in tasks])
        return [{"latency_seconds": {"p95": 3600.0 * task.traffic.multiplier * (1.0, 0.999, 0.998)[r]}}
                for task, r in tasks]

    monkeypatch.setattr(simulator.capacity, "replication_summaries", summaries)
    result = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=3, start=0.9,
                    jobs=2, max_evaluations=20)
    confirmed = [e for e in result.evaluations if e.stage == "confirm"]
    answer, limit = result.answer, result.limiting
    assert [e.value for e in confirmed] == [answer.value] and answer.verdict == "meets" and answer.high <= 2 * 3600
    assert limit.stage == "explore" and limit.verdict == "fails" and limit.replications == 1
    assert 2 / 1.02 <= result.best < 2 < result.limit <= result.best * 1.02 and result.reason == "converged"
    assert rounds[-1] == [(answer.value, 1), (answer.value, 2)]  # the confirmation: one round of two runs
    assert result.to_dict()["answer"]["limit_figure"]["stage"] == "explore"
    from simulator.cli import _capacity_answer
    assert "which did not meet it with 1 replication" in _capacity_answer(result)


def test_replication_summaries_are_the_replications_of_run():
    """Replication r run alone (or beside another scenario's) is replication r of run() with the same seed,
    warm-up chosen by MSER-5 included: the search can add replications to those it has."""
    scenario = load_scenario(hub_spoke_text(agencies=2, horizon="2h", warmup="auto"))
    other = simulator.apply_parameters(scenario, {"traffic.multiplier": 1.1})
    whole = simulator.run(scenario, seed=9, replications=3)
    alone = replication_summaries([(scenario, 2), (other, 0), (scenario, 0)], seed=9, jobs=1)
    assert json.dumps([alone[0], alone[2]], sort_keys=True, default=str) == json.dumps(
        [whole.replications[2], whole.replications[0]], sort_keys=True, default=str)
    assert alone[1]["documents"] != alone[2]["documents"]  # the other scenario ran as itself


def test_narrowing_runs_two_values_at_once_and_records_the_same_serially(monkeypatch):
    """A made-up figure p95 = m h x (0.9, 1.0, 1.1) for replications 0, 1, 2 (as above). On two processes each
    narrowing step runs two values at once (the second past the crossing on the other side, evaluated only if
    the first leaves it inside the bracket), so the search needs fewer rounds of runs; on one process it runs
    them one after the other and records the same evaluations and answer."""
    rounds: list[list[float]] = []

    def summaries(tasks, seed, jobs=1, limits=None):
        if tasks:
            rounds.append(sorted({task.traffic.multiplier for task, _ in tasks}))
        return [{"latency_seconds": {"p95": 3600.0 * task.traffic.multiplier * (0.9, 1.0, 1.1)[r]}} for task, r in tasks]

    monkeypatch.setattr(simulator.capacity, "replication_summaries", summaries)

    def searched(jobs: int) -> tuple[dict, list[list[float]]]:
        rounds.clear()
        result = search(small_rush(), "traffic.multiplier", parse_target("latency_p95 <= 2h"), replications=3,
                        start=1.0, jobs=jobs, max_evaluations=20)
        return result.to_dict(), list(rounds)

    parallel, parallel_rounds = searched(2)
    serial, serial_rounds = searched(1)
    assert parallel == serial and parallel["reason"] == "converged"
    assert 1.602 / 1.02 <= parallel["answer"]["value"] <= 1.602
    assert all(len(values) == 1 for values in serial_rounds)
    assert parallel_rounds[:3] == serial_rounds[:3] == [[1.0], [2.0], [4.0]]  # bracketing: doubling from 1
    assert parallel_rounds[3] == [pytest.approx(2.388, abs=1e-3), pytest.approx(2.412, abs=1e-3)]  # narrowing
    assert sum(len(values) == 2 for values in parallel_rounds) >= 3  # narrowing steps and confirmation in pairs
    assert len(parallel_rounds) < len(serial_rounds)
