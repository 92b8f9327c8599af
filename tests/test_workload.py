"""Input that validates but would hang or exhaust memory: bounded formulas, a weekly clock, the work estimate and its limits.

Each reproduction of issue 10 ("accepted, then hangs or exhausts memory") is a test here: the exit status, a message
naming the key and the estimate, and a bound on time (a subprocess with a timeout where the old code hung) and memory.
"""
from __future__ import annotations

import math
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from simulator import analytic
from simulator.analytic import erlang_b, erlang_c, mmck, require_finite
from simulator.cli import main
from simulator.engine import simulate
from simulator.errors import ScenarioError
from simulator.scenario import CalendarSpec, load_scenario
from simulator.topology import build_topology
from simulator.traffic import OpenClock
from simulator.workload import Limits, UnstableWarning, WorkloadError, enforce, estimate, parse_memory

from .conftest import hub_spoke_text

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = str(ROOT / "scenarios" / "national-2020.toml")
_DAY, _WEEK = 86400.0, 7 * 86400.0


# --------------------------------------------------------------------------- the formulas as they were (references)


def old_erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B by the recursion over every server (the implementation before the bound)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def old_erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C from the full recursion (the implementation before the bound): B / (1 - rho + rho B)."""
    rho, blocking = offered_load / servers, old_erlang_b(servers, offered_load)
    return 1.0 if rho >= 1 else 0.0 if rho <= 0 else blocking / (1.0 - rho + rho * blocking)


class OldOpenClock:
    """OpenClock as it was: one list entry per open period of every day of the horizon."""

    def __init__(self, calendar: CalendarSpec | None, horizon: float):
        self.horizon = float(horizon)
        if calendar is None:
            self._starts, self._cumulative, self.open_seconds = np.array([0.0]), np.array([0.0]), self.horizon
            return
        starts, cumulative, total = [], [], 0.0
        workdays = set(calendar.weekday_numbers)
        for day in range(int(math.ceil(horizon / _DAY)) + 1):
            if day % 7 not in workdays:
                continue
            for open_, close in calendar.hours:
                begin, end = day * _DAY + open_, min(day * _DAY + close, self.horizon)
                if begin >= self.horizon:
                    break
                starts.append(begin)
                cumulative.append(total)
                total += end - begin
        self._starts = np.array(starts or [self.horizon])
        self._cumulative = np.array(cumulative or [0.0])
        self.open_seconds = total

    def open_before(self, wall: np.ndarray) -> np.ndarray:
        wall = np.minimum(np.asarray(wall, dtype=float), self.horizon)
        index = np.maximum(np.searchsorted(self._starts, wall, side="right") - 1, 0)
        if len(self._cumulative) == 1 and self._starts[0] == 0.0 and self.open_seconds == self.horizon:
            return wall
        ends = np.append(self._cumulative[1:], self.open_seconds)
        within = np.clip(wall - self._starts[index], 0.0, ends[index] - self._cumulative[index])
        return np.where(wall < self._starts[0], 0.0, self._cumulative[index] + within)

    def to_wall(self, open_time: np.ndarray) -> np.ndarray:
        index = np.maximum(np.searchsorted(self._cumulative, open_time, side="right") - 1, 0)
        wall = self._starts[index] + (open_time - self._cumulative[index])
        wall[open_time >= self.open_seconds] = np.inf
        return wall


# --------------------------------------------------------------------------- Erlang B / C and M/M/c/K


@pytest.mark.parametrize("servers", [1, 2, 3, 7, 20, 100, 1000, 5000])
def test_erlang_formulas_equal_the_full_recursion(servers: int):
    """On moderate inputs the bounded formulas give the full recursion's value (to 1e-12 relative; in fact exactly)."""
    for load in (1e-6, 0.01, 0.3, 1.0, 2.5, 50.0, servers * 0.5, servers * 0.9, servers * 0.999999, servers * 2.0):
        assert erlang_b(servers, load) == pytest.approx(old_erlang_b(servers, load), rel=1e-12, abs=0.0)
        assert erlang_c(servers, load) == pytest.approx(old_erlang_c(servers, load), rel=1e-12, abs=0.0)


def test_erlang_known_values():
    """Textbook values, and the limits."""
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, rel=1e-14)
    assert erlang_c(1, 0.8) == pytest.approx(0.8, rel=1e-14)
    assert erlang_c(4, 3.4) == pytest.approx(0.6893162217, rel=1e-9)
    assert erlang_b(0, 1.0) == 1.0 and erlang_b(5, 0.0) == 0.0 and erlang_b(5, math.inf) == 1.0
    assert erlang_c(3, 3.0) == 1.0


def test_erlang_with_a_trillion_servers_is_immediate():
    """servers = 10**12 no longer loops once per server: far above the load it is 0, near it a closed form."""
    began = time.perf_counter()
    assert erlang_b(10**12, 3.4) == 0.0 and erlang_c(10**12, 3.4) == 0.0
    near = erlang_b(10**12, 1e12)  # Poisson(a) at its mean over P(N <= a): sqrt(2 / (pi a))
    assert near == pytest.approx(math.sqrt(2 / (math.pi * 1e12)), rel=1e-5)
    assert erlang_b(10**12, 5e12) == pytest.approx(0.8, rel=1e-9)  # overload: 1 - c / a
    assert 0 < erlang_c(10**12, 1e12 - 5e5) < 1
    assert time.perf_counter() - began < 5.0


def test_erlang_large_regime_matches_the_recursion():
    """Beyond the termwise limit the log-space form agrees with the recursion run to the end (1e-9 relative)."""
    limit = analytic.TERMWISE_LIMIT
    for servers, load in [(limit + 1, 1e5), (limit + 300, 1e5), (limit + 1, 1.2e5), (limit + 1, 2e5), (limit + 50, 9e4)]:
        assert analytic._erlang_b_large(servers, load) == pytest.approx(old_erlang_b(servers, load), rel=1e-9)


def test_mmck_closed_form_matches_the_termwise_sums():
    """The closed form used for long buffers agrees with the term-by-term sums on moderate buffers."""
    for servers in (1, 2, 4, 10):
        for capacity in (servers, servers + 1, servers + 7, servers + 300):
            for rho in (0.1, 0.5, 0.9, 0.999, 1.0, 1.3):
                exact = mmck(rho * servers, 1.0, servers, capacity)
                closed = analytic._mmck_closed(rho * servers, 1.0, servers, capacity)
                for figure in exact:
                    assert closed[figure] == pytest.approx(exact[figure], rel=1e-9, abs=1e-15), (servers, capacity, rho)


def test_mmck_with_a_huge_buffer_is_bounded():
    """capacity = 10**12 places: no array of 10**12 terms; M/M/1 at rho 0.5 has L = 1, W = 2."""
    began = time.perf_counter()
    figures = mmck(0.5, 1.0, 1, 10**12)
    assert figures["mean_in_system"] == pytest.approx(1.0, rel=1e-12)
    assert figures["mean_sojourn"] == pytest.approx(2.0, rel=1e-12)
    assert figures["blocking"] == 0.0
    overloaded = mmck(1.5, 1.0, 1, 10**12)  # full almost always: blocking 1 - 1/rho
    assert overloaded["blocking"] == pytest.approx(1 / 3, rel=1e-9) and overloaded["utilization"] == pytest.approx(1.0)
    assert time.perf_counter() - began < 2.0


# --------------------------------------------------------------------------- OpenClock


CALENDARS = [None, CalendarSpec(), CalendarSpec(weekdays=("sat", "mon"), hours=((0.0, 3600.0), (7200.0, 86400.0))),
             CalendarSpec(weekdays=("sun",), hours=((23.5 * 3600, 86400.0),))]


@pytest.mark.parametrize("calendar", CALENDARS, ids=["always", "office", "sat-mon", "sunday-night"])
@pytest.mark.parametrize("horizon", [3600.0, 1.5 * _DAY, _WEEK, 9.3 * _DAY, 100 * _DAY + 1234.5, 3 * 365 * _DAY])
def test_weekly_clock_equals_the_daily_list(calendar: CalendarSpec | None, horizon: float):
    """The clock kept in weeks answers exactly as the list of every day's periods did."""
    old, new = OldOpenClock(calendar, horizon), OpenClock(calendar, horizon)
    assert new.open_seconds == old.open_seconds
    rng = np.random.default_rng(int(horizon) % 1000)
    wall = np.concatenate([rng.uniform(0, horizon * 1.1, 500), old._starts[:40], [0.0, horizon]])
    np.testing.assert_array_equal(new.open_before(wall), old.open_before(wall))
    opened = np.concatenate([rng.uniform(0, old.open_seconds * 1.1, 500), old._cumulative[:40], [0.0, old.open_seconds]])
    np.testing.assert_array_equal(new.to_wall(opened.copy()), old.to_wall(opened.copy()))


def test_clock_memory_does_not_grow_with_the_horizon():
    """horizon = 1e18 days with a calendar: a week of periods, not 10**18 days of them."""
    tracemalloc.start()
    began = time.perf_counter()
    clock = OpenClock(CalendarSpec(), 1e18 * _DAY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1e6 and time.perf_counter() - began < 1.0
    assert clock.open_fraction == pytest.approx(40 / 168)
    assert clock.to_wall(np.array([41 * 3600.0]))[0] == 7 * _DAY + 9 * 3600  # the 42nd open hour: next Monday 09:00


# --------------------------------------------------------------------------- non-finite inputs


@pytest.mark.parametrize("extra, key", [
    ("[traffic]\nmultiplier = inf\n", "traffic.multiplier = inf"),
    ("[kinds.big]\nweight = inf\n", "kinds.big.weight = inf"),
    ("[kinds.big]\nweight = 1e308\n", "kinds.big.weight = 1e+308"),
])
def test_non_finite_traffic_is_refused_naming_the_key(extra: str, key: str):
    """A non-finite multiplier or weight, or one that dwarfs every other, is a ScenarioError naming the key.

    Validation refuses non-finite numbers when the file is read; weights far apart pass it and are
    refused by the analytic module before anything runs.
    """
    text = (f'[kinds.agency]\nrate = "1/h"\n{extra}[traffic]\nrecipients = "weighted"\n' if "[traffic]" not in extra
            else f'[kinds.agency]\nrate = "1/h"\n{extra}')
    with pytest.raises(ScenarioError) as error:
        scenario = load_scenario(text + '[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"\n[[agencies]]\nid = "C"\n'
                                 'kind = "big"\n')
        require_finite(scenario, build_topology(scenario))
    assert key in str(error.value)


# --------------------------------------------------------------------------- the estimate


def test_estimate_counts_the_events_the_engine_schedules():
    """The estimate of events and documents is within 25 % of what a run schedules (statuses and a calendar included)."""
    extra = '[[traffic.statuses]]\ncode = "01"\nafter = { mean = "1h" }\n[calendar]\n'
    scenario = load_scenario(hub_spoke_text(horizon="14d", warmup="0s", rate="40/h", extra=extra))
    topology = build_topology(scenario)
    work = estimate(scenario, topology)
    output = simulate(scenario, topology, np.random.SeedSequence(5))
    assert output.ledger.documents_generated == pytest.approx(work.documents, rel=0.1)
    assert output.events == pytest.approx(work.events, rel=0.25)
    assert work.samples == 14 * 24 and not work.unstable and work.backlog_jobs == 0


def test_estimate_of_an_unstable_network_counts_the_backlog():
    """A hub at utilisation 10: refused without allow_unstable; allowed, a warning and the backlog in the memory."""
    scenario = load_scenario(hub_spoke_text(hub_servers=1, hub_mean="300s", horizon="10h", warmup="0s"))
    topology = build_topology(scenario)
    work = estimate(scenario, topology)
    assert work.unstable and work.unstable[0][2] == pytest.approx(10.0)
    assert work.backlog_jobs == pytest.approx((120 / 3600 - 1 / 300) * 36000, rel=1e-9)
    with pytest.raises(WorkloadError) as refused:
        enforce(scenario, topology, work)
    assert refused.value.unstable_only and "network.hub.servers = 1" in str(refused.value)
    assert "--allow-unstable" in str(refused.value)
    with pytest.warns(UnstableWarning, match="grow without bound"):
        enforce(scenario, topology, work, Limits(allow_unstable=True))
    buffered = load_scenario(hub_spoke_text(hub_servers=1, hub_mean="300s", horizon="10h", warmup="0s")
                             .replace("servers = 1\n", "servers = 1\nbuffer = 10\n", 1))
    assert not estimate(buffered, build_topology(buffered)).unstable  # a finite buffer drops the excess


def test_parse_memory():
    assert parse_memory("512MB") == 512e6 and parse_memory("2GiB") == 2 * 2**30
    for bad in ("-1GB", "0", "lots", "inf"):
        with pytest.raises(ValueError):
            parse_memory(bad)


# --------------------------------------------------------------------------- the reproductions, from the command line


def _axis_sim(*arguments: str, timeout: float = 30.0) -> tuple[int, str, str, float]:
    """Run ``axis-sim`` in a child process with a timeout: exit status, stdout, stderr, wall seconds."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "simulator", *arguments], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - began


def test_check_with_a_trillion_servers_answers_at_once():
    """servers = 1000000000000 on the hub: check answers (exit 0) with the prediction and the work estimate."""
    status, out, err, _ = _axis_sim("check", NATIONAL, "--set", "network.hub.servers=1000000000000")
    assert status == 0, err
    assert "Work estimate" in out and "events" in out and "peak memory" in out


@pytest.mark.parametrize("setting, key, fragment", [
    # national-2020 has a dated calendar (run.start, holidays): a horizon past the last date is refused as such
    ("run.horizon=1e18d", "run.horizon = '1e+18d'", "runs past 9999-12-31"),
    ("traffic.multiplier=inf", "traffic.multiplier = inf", "must be a finite number"),
    ("kinds.ministry.weight=1e308", "kinds.ministry.weight = 1e+308", "recipient weights must lie within"),
])
def test_check_refuses_what_cannot_run_quickly_and_in_little_memory(setting: str, key: str, fragment: str):
    """check exits 2 within seconds and without eating memory, naming the key and the estimate or rule."""
    # the child's own peak, read by a fresh parent: RUSAGE_CHILDREN of this process keeps the largest child any
    # earlier test ran
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.stderr.write(done.stderr); sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "simulator", "check", str(NATIONAL),
                           "--set", setting], capture_output=True, text=True, timeout=120, cwd=ROOT)
    status, err, peak_kb = done.returncode, done.stderr, int(done.stdout)
    assert status == 2, err
    assert key in err and fragment in err and "Traceback" not in err
    assert peak_kb < 600_000  # KB: the old clock reached 5 GB


def test_run_with_infinite_traffic_is_refused_at_once(tmp_path: Path):
    """traffic.multiplier = inf: run used to hang at 4 GB; now exit 2 naming the key, and no result folder."""
    status, _, err, _ = _axis_sim("run", NATIONAL, "--set", "traffic.multiplier=inf", "-o", str(tmp_path / "out"))
    assert status == 2 and "traffic.multiplier = inf" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("settings, key, fragment", [
    (["run.horizon=52000w", "kinds.province.rate=1e7/h"], "run.horizon = '52000w'", "documents"),  # 1000 years
    (["kinds.province.rate=1e7/h"], "kinds.province.rate = '10000000/h'", "more than --max-events"),
    (["kinds.province.rate=1e7/h"], "network.platform.servers = 1", "--allow-unstable"),
    (["run.timeseries_interval=1us"], "run.timeseries_interval = '1e-06s'", "samples"),
])
def test_run_refuses_work_beyond_the_limits(tmp_path: Path, capsys, settings: list[str], key: str, fragment: str):
    """A thousand years at 1e7/h, 1e7/h on national-2020, a sample every microsecond: exit 2 before simulating."""
    began = time.perf_counter()
    options = [option for setting in settings for option in ("--set", setting)]
    assert 2 == main(["run", NATIONAL, *options, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert key in err and fragment in err and "events" in err or "memory" in err
    assert not (tmp_path / "out").exists() and time.perf_counter() - began < 10


def test_an_outage_every_two_microseconds_is_refused(tmp_path: Path, capsys):
    """An outage of 1 us every 2 us toggles the hub 10**11 times a day: exit 2 naming the outage."""
    path = tmp_path / "flicker.toml"
    path.write_text(hub_spoke_text(horizon="1d", warmup="0s")
                    + '[[network.hub.outages]]\nstart = "0s"\nduration = "1us"\nevery = "2us"\n', encoding="utf-8")
    assert 2 == main(["check", str(path)])
    err = capsys.readouterr().err
    assert "network.hub.outages = 'every 2e-06s'" in err and "8.64e+10 outage starts and ends" in err


def test_sweep_refuses_before_creating_its_folder(tmp_path: Path, capsys):
    """A sweep whose points pass the limits is refused before the sweep folder exists."""
    path = tmp_path / "sweep.toml"
    sweep = '[sweep]\n[[sweep.parameters]]\npath = "run.timeseries_interval"\nvalues = ["1h", VALUE]\n'
    path.write_text(hub_spoke_text(horizon="1d", warmup="0s") + sweep.replace("VALUE", '"1us"'), encoding="utf-8")
    assert 2 == main(["sweep", str(path), "-o", str(tmp_path / "out"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert "sweep point p001 {'run.timeseries_interval': '1us'}: run.timeseries_interval" in err
    assert not (tmp_path / "out").exists()
    path.write_text(hub_spoke_text(horizon="1d", warmup="0s") + sweep.replace("VALUE", '"30min"'), encoding="utf-8")
    assert 2 == main(["sweep", str(path), "-o", str(tmp_path / "out"), "--max-events", "1000"])
    assert "sweep.parameters = '2 points x 1 replications': the sweep would take about" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_limits_options(tmp_path: Path, capsys):
    """--max-events and --max-memory refuse a small run when set below its estimate; bad values exit 2."""
    path = tmp_path / "small.toml"
    path.write_text(hub_spoke_text(horizon="2h", warmup="0s"), encoding="utf-8")
    assert 2 == main(["run", str(path), "-o", str(tmp_path / "a"), "--max-events", "10"])
    assert "more than --max-events 10" in capsys.readouterr().err
    assert 2 == main(["run", str(path), "-o", str(tmp_path / "a"), "--max-memory", "1KB"])
    assert "more than --max-memory" in capsys.readouterr().err
    assert 2 == main(["run", str(path), "-o", str(tmp_path / "a"), "--max-memory", "plenty"])
    assert "--max-memory = 'plenty'" in capsys.readouterr().err
    assert 2 == main(["run", str(path), "-o", str(tmp_path / "a"), "--max-events", "nan"])
    assert "--max-events = nan" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_unstable_run_needs_allow_unstable(tmp_path: Path, capsys):
    """An overloaded hub: refused with exit 2; with --allow-unstable it runs and warns that queues and memory grow."""
    path = tmp_path / "overload.toml"
    path.write_text(hub_spoke_text(hub_servers=1, hub_mean="300s", horizon="5h", warmup="0s"), encoding="utf-8")
    assert 2 == main(["run", str(path), "-o", str(tmp_path / "a"), "--quiet"])
    assert "--allow-unstable" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert 0 == main(["run", str(path), "-o", str(tmp_path / "a"), "--quiet", "--allow-unstable", "--jobs", "1"])
    assert "grow without bound" in capsys.readouterr().err
