"""Outputs: where result folders land, what an interruption leaves, station ids, measurement windows."""
from __future__ import annotations

import csv
import errno
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import simulator
import simulator.cli
from simulator.cli import main
from simulator.engine import simulate
from simulator.errors import ExperimentError
from simulator.folders import clean_stale, safe_name, temporary_path
from simulator.results import outage_seconds_between
from simulator.scenario import load_scenario
from simulator.store import RunStore
from simulator.topology import build_topology

from .conftest import hub_spoke_text
from .test_cli import SWEEP_TEXT

ROOT = Path(__file__).parents[1]
AXIS_SIM = Path(sys.executable).parent / "axis-sim"
RUN_FILES = {"summary.json", "stations.csv", "timeseries.csv", "replications.csv", "tables.xlsx", "scenario.toml",
             "charts/utilization.png",
             "charts/latency_cdf.png", "charts/queues.png", "charts/electronic_share.png", "charts/network_map.png"}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A small Jackson network scenario file (a few seconds to run and chart)."""
    path = tmp_path / "small.toml"
    path.write_text('name = "nhỏ"\n' + hub_spoke_text(horizon="40h", warmup="2h"), encoding="utf-8")
    return path


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    """A three-point sweep of an M/M/1 hub."""
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP_TEXT, encoding="utf-8")
    return path


@pytest.fixture
def no_charts(monkeypatch) -> None:
    """Skip drawing charts (seconds per folder) where a test is about the folder, not the figures."""
    import simulator.charts

    for name in ("save_charts", "save_point_charts", "save_sweep_charts"):
        monkeypatch.setattr(simulator.charts, name, lambda *args, **kwargs: [])


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _owned_by(path: Path, pid: int) -> Path:
    """A temporary path as if another process (``pid``) had made it."""
    return path.with_name(re.sub(r"-\d+-", f"-{pid}-", path.name, count=1))


def _dead_pid() -> int:
    """The pid of a process that has finished."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_existing_file_as_output_is_refused_and_untouched(small: Path, sweep_file: Path, tmp_path: Path, capsys,
                                                           command: str):
    """-o naming a file: exit 2 before running, one line; the file and its folder are left exactly as they were."""
    afile = tmp_path / "afile"
    afile.write_text("the user's notes\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    scenario = small if command == "run" else sweep_file
    assert 2 == main([command, str(scenario), "-o", str(afile), "--jobs", "1"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert [f"axis-sim: error: -o {afile}: is a file, not a folder; give a folder path (it is created, or replaced "
            "if it holds an earlier result)"] == lines
    assert "" == captured.out
    assert "the user's notes\n" == afile.read_text(encoding="utf-8")
    assert before == sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_folder_that_is_no_result_is_not_replaced(small: Path, sweep_file: Path, tmp_path: Path, capsys, command: str):
    """-o naming a non-empty folder that holds no earlier result (say the home folder): refused, untouched."""
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "report.odt").write_text("x", encoding="utf-8")
    scenario = small if command == "run" else sweep_file
    assert 2 == main([command, str(scenario), "-o", str(mine), "--jobs", "1"])
    err = capsys.readouterr().err
    assert f"-o {mine}: the folder exists and is not an earlier {command} result" in err
    assert ["report.odt"] == [p.name for p in mine.iterdir()] and [] == _hidden(tmp_path)


def test_an_earlier_result_and_an_empty_folder_are_replaced(small: Path, tmp_path: Path, no_charts: None):
    """An empty folder and an earlier result folder are valid targets: the new result replaces them whole."""
    out = tmp_path / "out"
    out.mkdir()
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--quiet", "--set", "run.horizon=10h"])
    (out / "stale.txt").write_text("from before", encoding="utf-8")
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--quiet", "--set", "run.horizon=10h"])
    assert {"summary.json", "stations.csv", "timeseries.csv", "tables.xlsx", "scenario.toml",
            "replications.csv"} == _files(out)
    assert [] == _hidden(tmp_path)


def test_control_characters_leave_folder_names():
    """Tabs and bells (refused in a scenario file, possible from Python) never reach a folder name."""
    assert "tab andbell" == safe_name("tab\tand\u0007bell")


@pytest.mark.parametrize("name, folder", [
    ("/abs/path", "abs-path"), ("../../x", "x"), ("..", "scenario"), ("a/../../b", "a-b"), ("C:\\\\Windows", "C-Windows"),
    ("Bộ Tài chính", "Bộ Tài chính"), ("Tỉnh Hà Giang", "Tỉnh Hà Giang"), (".hidden", "hidden"),
    ("ok.v2", "ok.v2"),
])
def test_scenario_names_become_safe_folders_inside_results(tmp_path: Path, monkeypatch, no_charts: None, name: str,
                                                           folder: str):
    """Without -o the name picks the folder: it always lands as one folder directly inside results/."""
    assert folder == safe_name(json.loads(f'"{name}"'))
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'name = "{name}"\n' + SWEEP_TEXT.split("[sweep]")[0], encoding="utf-8")
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert 0 == main(["run", str(scenario), "--jobs", "1", "--quiet", "--set", "run.horizon=500s"])
    assert [folder] == [p.name for p in (work / "results").iterdir()]
    assert {"summary.json", "scenario.toml"} <= set(os.listdir(work / "results" / folder))
    assert ["results"] == os.listdir(work) and ["deep"] == os.listdir(tmp_path / "work")


def test_long_names_are_cut_to_a_valid_folder_name():
    """A long name is cut at a character boundary within the byte limit (Vietnamese letters take 2-3 bytes)."""
    name = safe_name("Ủy ban nhân dân " * 40)
    assert len(name.encode("utf-8")) <= 160 and name.startswith("Ủy ban") and not name.endswith(" ")
    assert "scenario" == safe_name("\x00\x01/..//")


def test_stale_temporary_folders_are_cleaned_on_the_next_run(small: Path, tmp_path: Path, no_charts: None):
    """Temporary folders of a killed run (owner dead) go on the next run into that folder; others stay."""
    out = tmp_path / "out"
    dead = _dead_pid()
    stale = _owned_by(temporary_path(out), dead)
    stale.mkdir()
    (stale / "summary.json").write_text("{", encoding="utf-8")
    stale_file = _owned_by(temporary_path(tmp_path / "notes.txt"), dead)
    stale_file.write_text("x", encoding="utf-8")
    live = temporary_path(out)  # this process: in use
    live.mkdir()
    foreign = tmp_path / ".out.abcdef"  # not named as ours: never touched
    foreign.mkdir()
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--quiet", "--set", "run.horizon=10h"])
    assert not stale.exists() and live.exists() and foreign.exists() and stale_file.exists()
    assert [stale_file] == clean_stale(tmp_path)  # the whole folder: the other target's stale file too
    assert live.exists() and foreign.exists()


def test_a_kill_between_the_renames_keeps_the_earlier_result(small: Path, tmp_path: Path, no_charts: None):
    """The earlier result moved aside (.old) by a process killed before the new one went in is moved back."""
    out = tmp_path / "out"
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--quiet", "--set", "run.horizon=10h"])
    aside = _owned_by(temporary_path(out, "old"), _dead_pid())
    files = _files(out)
    out.rename(aside)
    clean_stale(tmp_path, "out")
    assert files == _files(out) and [] == _hidden(tmp_path)


def test_result_folders_are_readable_as_the_umask_allows(small: Path, sweep_file: Path, tmp_path: Path, monkeypatch):
    """With umask 022 result folders are 755 and files 644 (not 700 / 600), sweep folders too."""
    import simulator.charts

    for name in ("save_point_charts", "save_sweep_charts"):  # the run's charts are enough
        monkeypatch.setattr(simulator.charts, name, lambda *args, **kwargs: [])
    previous = os.umask(0o022)
    try:
        assert 0 == main(["run", str(small), "-o", str(tmp_path / "out"), "--jobs", "1", "--quiet",
                          "--set", "run.horizon=10h"])
        assert 0 == main(["sweep", str(sweep_file), "-o", str(tmp_path / "sweep"), "--jobs", "1", "--quiet",
                          "--replications", "1", "--set", "run.horizon=500s", "--set", "sweep.parameters[0].values=[1.0]"])
    finally:
        os.umask(previous)
    for top in (tmp_path / "out", tmp_path / "sweep"):
        for path in [top, *top.rglob("*")]:
            assert (0o755 if path.is_dir() else 0o644) == path.stat().st_mode & 0o777, path


# --------------------------------------------------------------------------- write failures


def _full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_during_a_run_is_exit_2_and_writes_nothing(small: Path, tmp_path: Path, capsys, monkeypatch):
    """The disk filling up while the charts are drawn: exit 2, one line naming the folder, no folder, no temporary."""
    import simulator.charts

    monkeypatch.setattr(simulator.charts, "save_charts", _full)
    out = tmp_path / "out"
    assert 2 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--set", "run.horizon=10h"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert 1 == len(lines) and f"{out}: cannot write the result folder: no space left on the device" in lines[0], lines
    assert not out.exists() and [] == _hidden(tmp_path)


def test_a_full_disk_during_a_sweep_is_exit_2_and_resumes(sweep_file: Path, tmp_path: Path, capsys, monkeypatch):
    """The disk filling up while the sweep's charts are drawn: exit 2, one line naming the folder and what failed;
    no points/ nor points.csv, no temporary; the finished runs are kept and a rerun reuses them all."""
    import simulator.charts

    monkeypatch.setattr(simulator.charts, "save_point_charts", lambda *args, **kwargs: [])
    real = simulator.charts.save_sweep_charts
    monkeypatch.setattr(simulator.charts, "save_sweep_charts", _full)
    out = tmp_path / "sweep"
    arguments = ["sweep", str(sweep_file), "-o", str(out), "--jobs", "1", "--replications", "1",
                 "--set", "run.horizon=500s"]
    assert 2 == main(arguments)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [f"axis-sim: error: {out}: cannot write the sweep charts (charts/): no space left on the device (the finished "
            "runs are kept in runs.sqlite: free the space or fix the folder and rerun to resume)"] == lines
    assert ["runs.sqlite"] == sorted(os.listdir(out))
    monkeypatch.setattr(simulator.charts, "save_sweep_charts", real)
    assert 0 == main(arguments)
    assert "0 run now, 3 reused" in capsys.readouterr().out
    assert {"points.csv", "manifest.json", "charts/capacity_curve.png", "points/p002/summary.json"} <= _files(out)
    assert [] == _hidden(out) and [] == _hidden(out / "points")


def test_a_full_store_is_exit_2_and_leaves_no_folder(sweep_file: Path, tmp_path: Path, capsys, monkeypatch):
    """SQLite reporting a full disk on the first commit: exit 2, one line naming runs.sqlite; the new folder is gone."""
    def full(self, *args: object) -> None:
        with self._failing("store a finished run (the runs stored before it are kept)"):
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(RunStore, "put", full)
    out = tmp_path / "sweep"
    assert 2 == main(["sweep", str(sweep_file), "-o", str(out), "--jobs", "1", "--replications", "1",
                      "--set", "run.horizon=500s"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert [f"axis-sim: error: {out / 'runs.sqlite'}: cannot store a finished run (the runs stored before it are kept): "
            "no space left on the device"] == lines
    assert not out.exists()


def test_a_read_only_sweep_folder_is_exit_2_before_running(sweep_file: Path, tmp_path: Path, capsys, monkeypatch,
                                                          no_charts: None):
    """An existing sweep folder that cannot be written: exit 2 before any run, one line, nothing changed."""
    out = tmp_path / "sweep"
    arguments = ["sweep", str(sweep_file), "-o", str(out), "--jobs", "1", "--replications", "1",
                 "--set", "run.horizon=500s", "--set", "sweep.parameters[0].values=[1.0]"]
    assert 0 == main(arguments)
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}

    def read_only(path: Path) -> Path:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(simulator.experiment, "make_folder", read_only)
    ran = []
    monkeypatch.setattr(simulator.experiment, "replicate", lambda *a, **k: ran.append(1))
    assert 2 == main(arguments)
    assert [f"axis-sim: error: {out}: cannot write the sweep folder: Permission denied"] == \
        capsys.readouterr().err.strip().splitlines()
    assert [] == ran and before == {p: p.stat().st_mtime_ns for p in out.rglob("*")}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_folder(sweep_file: Path, tmp_path: Path, capsys):
    """The same with a folder made read-only (not as root)."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "runs.sqlite").write_bytes(b"")
    out.chmod(0o555)
    try:
        assert 2 == main(["sweep", str(sweep_file), "-o", str(out), "--jobs", "1", "--replications", "1"])
    finally:
        out.chmod(0o755)
    assert 1 == len(capsys.readouterr().err.strip().splitlines())


# --------------------------------------------------------------------------- interruptions


def _start(arguments: list[str], cwd: Path) -> subprocess.Popen:
    environment = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.Popen([str(AXIS_SIM), *arguments], cwd=cwd, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt(process: subprocess.Popen, how: signal.Signals, delay: float) -> tuple[int, str]:
    time.sleep(delay)
    process.send_signal(how)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def _check_interrupted(how: signal.Signals, code: int, err: str, delay: float) -> None:
    if how == signal.SIGINT:
        assert code in (0, 130), (delay, code, err)
        if code == 130:
            assert "axis-sim: interrupted\n" == err, (delay, err)  # one line, no traceback
    else:
        assert code in (0, -signal.SIGKILL), (delay, code, err)


def _delays(count: int, start_up: float, whole: float) -> list[float]:
    """Random moments: half during start-up (the imports), half later; printed on failure to reproduce."""
    rng = random.Random(int(os.environ.get("AXIS_KILL_SEED", time.time_ns())))
    return [rng.uniform(0.15, start_up) if i % 2 == 0 else rng.uniform(start_up, whole) for i in range(count)]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_run_leaves_no_partial_folder(small: Path, tmp_path: Path, how: signal.Signals):
    """Killed or interrupted at a random moment (start-up included): the folder is the earlier result or the new
    one, complete; the next run leaves no temporary folder."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"earlier": true}', encoding="utf-8")  # an earlier result to replace
    arguments = ["run", str(small), "-o", "out", "--jobs", "1", "--set", "run.horizon=20h"]
    for delay in _delays(2, 1.2, 4.0):
        code, err = _interrupt(_start([*arguments, "--quiet"], tmp_path), how, delay)
        _check_interrupted(how, code, err, delay)
        if how == signal.SIGINT:
            assert [] == _hidden(tmp_path), delay  # Ctrl-C cleans up at once
        clean_stale(tmp_path, "out")  # what the next run does first
        assert _files(out) in ({"summary.json"}, RUN_FILES), delay
        assert [] == _hidden(tmp_path), delay
    completed = subprocess.run([str(AXIS_SIM), *arguments, "--quiet"], cwd=tmp_path,
                               capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert 0 == completed.returncode, completed.stderr
    assert RUN_FILES == _files(out) and [] == _hidden(tmp_path)


@pytest.mark.parametrize("how", [signal.SIGKILL, pytest.param(signal.SIGINT, marks=pytest.mark.slow)],
                         ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_sweep_resumes_without_loss(sweep_file: Path, tmp_path: Path, how: signal.Signals):
    """A sweep killed or interrupted at a random moment: every run stored before is reused by the next sweep, which
    completes the folder and leaves no temporary behind."""
    arguments = ["sweep", str(sweep_file), "-o", "sweep", "--jobs", "1", "--replications", "2", "--quiet",
                 "--set", "run.horizon=1000s"]
    delay, = _delays(1, 1.2, 6.0)
    code, err = _interrupt(_start(arguments, tmp_path), how, delay)
    _check_interrupted(how, code, err, delay)
    out = tmp_path / "sweep"
    stored = 0
    if (out / "runs.sqlite").exists():
        with sqlite3.connect(out / "runs.sqlite") as db:
            stored = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    for point in (out / "points").iterdir() if (out / "points").is_dir() else []:
        assert RUN_FILES == _files(point), (delay, point)  # a point folder is there whole or not at all
    completed = subprocess.run([str(AXIS_SIM), *arguments[:-3], "--set", "run.horizon=1000s"], cwd=tmp_path,
                               capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert 0 == completed.returncode, completed.stderr
    ran, reused = map(int, re.search(r"(\d+) run now, (\d+) reused", completed.stdout).groups())
    assert (stored, 6) == (reused, ran + reused), delay  # every run stored before the interruption is reused
    assert ["p000", "p001", "p002"] == sorted(os.listdir(out / "points"))
    assert {"points.csv", "manifest.json", "scenario.toml", "runs.sqlite", "charts"} <= set(os.listdir(out))
    assert [] == _hidden(out) and [] == _hidden(out / "points") and [] == _hidden(tmp_path)


def test_ctrl_c_while_importing_is_one_line(small: Path, tmp_path: Path):
    """Ctrl-C while the command imports its modules (pandas, SciPy, matplotlib): exit 130, one line, no traceback."""
    process = _start(["check", str(small)], tmp_path)
    code, err = _interrupt(process, signal.SIGINT, 0.3)
    assert (130, "axis-sim: interrupted\n") == (code, err) or code == 0


def test_ctrl_c_before_main_is_one_line_too():
    """The command answers Ctrl-C from the first line of the package on (a signal sent while it still imports,
    deterministically here): exit 130, one line. A program importing the package keeps Python's KeyboardInterrupt."""
    code = ("import os, signal, sys, time; sys.argv[0] = {argv!r}; import simulator; "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(5); print('not interrupted')")
    command = subprocess.run([sys.executable, "-c", code.format(argv="/usr/bin/axis-sim")], capture_output=True,
                             text=True, timeout=60)
    assert (130, "axis-sim: interrupted\n", "") == (command.returncode, command.stderr, command.stdout)
    library = subprocess.run([sys.executable, "-c", code.format(argv="notebook")], capture_output=True, text=True,
                             timeout=60)
    assert library.returncode != 130 and "KeyboardInterrupt" in library.stderr


def test_ctrl_c_after_the_work_is_done_is_ignored(monkeypatch):
    """The console script ignores Ctrl-C once main() has returned: Python restores the default action while it shuts
    down, and a Ctrl-C then killed the process (status -2, no message) although its result folder was complete."""
    monkeypatch.setattr(simulator.cli, "main", lambda: 0)
    before = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_:
            simulator.cli.command()
        assert (0, signal.SIG_IGN) == (exit_.value.code, signal.getsignal(signal.SIGINT))
    finally:
        signal.signal(signal.SIGINT, before)


# --------------------------------------------------------------------------- station ids and windows


def test_stations_are_keyed_by_id(small: Path, tmp_path: Path, no_charts: None):
    """summary.json, stations.csv, the bottlenecks and the occupancy columns name stations by id."""
    out = tmp_path / "out"
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--quiet", "--replications", "2",
                      "--set", "run.horizon=10h"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ids = [s["id"] for s in summary["stations"]]
    assert len(ids) == len(set(ids)) and "hub" in ids and all(re.fullmatch(r"hub|(platform|agency):.+", i) for i in ids)
    with open(out / "stations.csv", encoding="utf-8") as handle:
        assert ids == [row["id"] for row in csv.DictReader(handle)]
    for key in ("bottleneck", "peak_bottleneck"):
        assert summary[key]["id"] in ids
    assert summary["analytic"]["bottleneck_id"] in ids
    with open(out / "timeseries.csv", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    watched = [c.removeprefix("in_system: ") for c in header if c.startswith("in_system: ")]
    assert watched and set(watched) <= set(ids)


def test_timeseries_totals_and_interval_counts(small: Path):
    """Running totals end in _total; the per-interval counts beside them add up to the totals."""
    result = simulator.run(load_scenario(small), seed=1, replications=1)
    frame = result.timeseries
    for name in ("documents_generated", "documents_electronic", "documents_paper", "copies_delivered"):
        assert name not in frame
        assert np.allclose(frame[f"{name}_in_interval"].cumsum(), frame[f"{name}_total"])
    assert {"time", "time_hours", "documents_in_flight", "electronic_share_in_interval"} <= set(frame.columns)


OUTAGE = """
[run]
horizon = "10000s"
warmup = "{warmup}"
[network.hub]
service = {{ mean = "1s" }}
outages = [{{ start = "1000s", duration = "500s", every = "4000s" }}, {{ start = "1200s", duration = "100s" }}]
[[agencies]]
id = "A"
rate = 0.2
[[agencies]]
id = "B"
"""


@pytest.mark.parametrize("warmup, expected", [("0s", 1500.0), ("1200s", 1300.0), ("6000s", 500.0), ("9800s", 0.0)])
def test_outage_seconds_cover_the_measurement_window(warmup: str, expected: float):
    """outage_seconds counts the time down between the warm-up and the horizon, as utilisation does: the engine's
    measurement equals the scheduled windows clipped to the measurement window."""
    scenario = load_scenario(OUTAGE.format(warmup=warmup))
    result = simulator.run(scenario, seed=1)
    hub = next(s for s in result.summary["stations"] if s["id"] == "hub")
    assert expected == pytest.approx(hub["outage_seconds"])
    assert 1.0 - expected / (scenario.run.horizon - scenario.run.warmup) == pytest.approx(hub["availability"])
    output = simulate(scenario, build_topology(scenario), np.random.SeedSequence(1))
    window = outage_seconds_between(scenario.network.hub.outages, scenario.run.warmup, scenario.run.horizon)
    assert expected == pytest.approx(float(output.outage_seconds[0])) == pytest.approx(window)


def test_outage_seconds_between_many_periods():
    """A periodic outage far into a long window: the closed form, and the merge of overlapping outages."""
    from simulator.scenario import Outage

    assert 1e6 == pytest.approx(outage_seconds_between([Outage(start=0, duration=1, every=10)], 0, 1e7))
    overlapping = [Outage(start=0, duration=5, every=10), Outage(start=3, duration=5, every=10)]
    assert 800.0 == pytest.approx(outage_seconds_between(overlapping, 0, 1000))


def test_a_foreign_result_is_refused_by_the_api(tmp_path: Path, small: Path):
    """RunResult.save refuses a file as its folder (ExperimentError), as the command does."""
    result = simulator.run(load_scenario(small), seed=1)
    target = tmp_path / "f"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ExperimentError, match="is a file"):
        result.save(target)
    assert "x" == target.read_text(encoding="utf-8")


@pytest.mark.slow
def test_station_ids_in_the_full_2025_structure(tmp_path: Path):
    """national-2025-full (4,052 stations, names shared) at 9 h: every station has a unique id in summary.json and
    stations.csv, and the names stay for display (some repeat)."""
    out = tmp_path / "full"
    assert 0 == main(["run", str(ROOT / "scenarios" / "national-2025-full.toml"), "-o", str(out), "--jobs", "1",
                      "--quiet", "--set", "run.horizon=9h", "--set", "run.warmup=0s"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ids = [s["id"] for s in summary["stations"]]
    names = [s["name"] for s in summary["stations"]]
    assert len(ids) == len(set(ids)) > 4000 and len(set(names)) < len(names)
    with open(out / "stations.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert ids == [row["id"] for row in rows] and all(row["id"] for row in rows)
    assert summary["bottleneck"]["id"] in ids and summary["documents"]["generated"] > 0


def test_a_name_that_looks_like_a_formula_is_written_to_tables_xlsx_as_text(tmp_path):
    """A station named "=HYPERLINK(...)" (or any text that begins with "=") arrives in the workbook as text, never
    as a formula a spreadsheet would run; numbers stay numbers, Vietnamese names intact, the header frozen."""
    import pandas as pd
    from openpyxl import load_workbook

    from simulator.results import write_workbook

    stations = pd.DataFrame({"id": ["platform:a", "platform:b"], "name": ['=HYPERLINK("http://x","y")', "Tỉnh Kiên Giang"],
                             "utilization": [0.25, 0.5]})
    timeseries = pd.DataFrame({"time_seconds": [0.0, 3600.0], "delivered_total": [0, 12]})
    path = write_workbook({"documents": {"generated": 3}}, stations, timeseries, tmp_path / "tables.xlsx")
    book = load_workbook(path)
    sheet = book["stations"]
    formula_like, vietnamese = sheet["B2"], sheet["B3"]
    assert (formula_like.value, formula_like.data_type) == ('=HYPERLINK("http://x","y")', "s")
    assert vietnamese.value == "Tỉnh Kiên Giang" and sheet["C3"].value == 0.5 and sheet["C3"].data_type == "n"
    assert [book[name].freeze_panes for name in ("summary", "stations", "timeseries")] == ["A2", "A2", "A2"]
    assert book["timeseries"]["B3"].value == 12
