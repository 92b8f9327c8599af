"""Command line: the run folder contract, exit statuses, and the terminal summary."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from simulator.cli import main, parse_overrides
from simulator.scenario import load_scenario

from .conftest import hub_spoke_text


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A small Jackson network scenario file."""
    path = tmp_path / "small.toml"
    path.write_text('name = "nhỏ"\n' + hub_spoke_text(horizon="40h", warmup="2h"), encoding="utf-8")
    return path


def test_run_writes_the_result_folder(small: Path, tmp_path: Path, capsys):
    """run prints the summary and writes summary.json, stations.csv, timeseries.csv, scenario.toml and charts."""
    out = tmp_path / "out"
    assert 0 == main(["run", str(small), "-o", str(out), "--seed", "3", "--replications", "2"])
    printed = capsys.readouterr().out
    assert "electronic share" in printed and "Busiest" in printed
    # both bottleneck figures, each named for what it averages over
    assert "Bottleneck, mean over the measured time (nights and weekends included):" in printed
    assert "Analytic bottleneck in open hours" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    analytic = summary["analytic"]
    assert analytic["bottleneck_open_hours_utilization"] >= analytic["bottleneck_utilization"] > 0
    assert f"{analytic['bottleneck_open_hours_utilization']:.1%}; all traffic can grow" in printed
    for key in ("scenario", "seed", "replications", "version", "documents", "electronic_share", "throughput_per_day",
                "latency_seconds", "stations", "bottleneck", "throughput_per_day_ci"):
        assert key in summary, key
    assert {"generated", "electronic", "paper", "delivered", "dropped", "in_flight"} <= set(summary["documents"])
    assert {"mean", "p50", "p95", "p99"} <= set(summary["latency_seconds"])
    assert ("nhỏ", 3, 2) == (summary["scenario"], summary["seed"], summary["replications"])
    station = summary["stations"][0]
    for key in ("name", "kind", "servers", "utilization", "mean_queue", "max_queue", "mean_wait_seconds",
                "mean_sojourn_seconds", "throughput_per_day", "utilization_ci"):
        assert key in station, key
    with open(out / "stations.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(summary["stations"]) == len(rows)
    assert (out / "timeseries.csv").stat().st_size > 0
    for chart in ("utilization.png", "latency_cdf.png", "queues.png"):
        assert (out / "charts" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 0 == main(["check", str(out / "scenario.toml")])  # the resolved scenario runs as is
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


@pytest.mark.parametrize("arguments, fragment", [
    (["--jobs", "-1"], "--jobs = -1"),
    (["--replications", "0"], "--replications = 0"),
    (["--seed", "-4"], "--seed = -4"),
])
def test_run_rejects_bad_options(small: Path, tmp_path: Path, capsys, arguments: list[str], fragment: str):
    """Bad options exit 2 with one message naming the option and value, and write nothing."""
    out = tmp_path / "out"
    assert 2 == main(["run", str(small), "-o", str(out), *arguments])
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert not out.exists()


def test_unwritable_output_is_a_clear_error(small: Path, tmp_path: Path, capsys):
    """An output path under a file cannot be created: exit 2 before running, a message naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert 2 == main(["run", str(small), "-o", str(blocker / "out")])
    err = capsys.readouterr().err
    assert f"-o {blocker / 'out'}: is under {blocker}, which is a file, not a folder" in err
    assert "x" == blocker.read_text() and [blocker.name, small.name] == sorted(p.name for p in tmp_path.iterdir())


def test_verify_needs_two_replications(capsys):
    """verify with one replication is refused (exit 2) before running anything."""
    assert 2 == main(["verify", "--replications", "1"])
    assert "at least 2" in capsys.readouterr().err


def test_module_entry_point(small: Path):
    """python -m simulator check works like axis-sim check."""
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "simulator", "check", str(small)], capture_output=True, text=True)
    assert 0 == completed.returncode
    assert "valid scenario" in completed.stdout


SWEEP_TEXT = """
[run]
horizon = "2000s"
warmup = "100s"
timeseries_interval = "100s"
[network.hub]
service = { mean = "1s" }
[[agencies]]
id = "A"
rate = 0.3
[[agencies]]
id = "B"
[analysis]
threshold = 0.5
[sweep]
[[sweep.parameters]]
path = "traffic.multiplier"
values = [1.0, 2.0, 3.0]
"""


def test_sweep_command_prints_the_table_and_the_first_saturation(tmp_path: Path, capsys):
    """sweep writes the folder and charts, prints one row per point and where utilisation first passes the threshold."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT, encoding="utf-8")
    out = tmp_path / "sweep"
    assert 0 == main(["sweep", str(scenario), "-o", str(out), "--replications", "2", "--jobs", "1"])
    printed = capsys.readouterr().out
    assert "p002" in printed and "First point whose busiest interval reaches 50%" in printed
    for name in ("points.csv", "manifest.json", "runs.sqlite", "scenario.toml", "charts/capacity_curve.png",
                 "charts/peak_utilization.png", "charts/electronic_share.png", "points/p000/summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert 0 == main(["sweep", str(scenario), "-o", str(out), "--replications", "2", "--jobs", "1"])
    assert "0 run now, 6 reused" in capsys.readouterr().out


def test_capacity_command(tmp_path: Path, capsys):
    """capacity prints each evaluation and the answer with its bracket."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    assert 0 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "utilization <= 0.6",
                      "--replications", "2", "--jobs", "1"])
    printed = capsys.readouterr().out
    assert "largest traffic.multiplier meeting utilization <= 0.6" in printed
    assert "-> meets" in printed and ("-> fails" in printed or "-> uncertain" in printed)
    assert 2 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "speed <= 1"])
    assert "--target = 'speed <= 1'" in capsys.readouterr().err


def _hub_servers(printed: str) -> str:
    """The servers column of the hub's row in the check report (after the station name and its kind)."""
    row = next(line for line in printed.splitlines() if "(hub)" in line)
    return row.split("(hub)", 1)[1].split()[1]


def test_check_applies_set(small: Path, capsys):
    """check --set shows the overridden value in the analytic report (the hub's servers)."""
    assert 0 == main(["check", str(small)])
    assert "2" == _hub_servers(capsys.readouterr().out)
    assert 0 == main(["check", str(small), "--set", "network.hub.servers=7"])
    assert "7" == _hub_servers(capsys.readouterr().out)


def test_run_applies_set_to_the_summary_and_the_resolved_scenario(small: Path, tmp_path: Path, capsys):
    """run --set changes the simulated horizon; summary.json and the written scenario.toml show the new values."""
    out = tmp_path / "out"
    assert 0 == main(["run", str(small), "-o", str(out), "--jobs", "1", "--set", "run.horizon=10h",
                      "--set", "network.hub.servers=3", "--set", 'kinds.agency.rate="10/h"'])
    assert "10.0 h simulated" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert 36000.0 == summary["horizon_seconds"]
    assert 3 == next(s for s in summary["stations"] if s["kind"] == "hub")["servers"]
    resolved = load_scenario(out / "scenario.toml")
    assert (36000.0, 3, 10 / 3600) == (resolved.run.horizon, resolved.network.hub.servers,
                                       pytest.approx(resolved.kind("agency").rate))


def test_sweep_applies_set(tmp_path: Path):
    """sweep --set changes every point: a shorter horizon and a different sweep."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT, encoding="utf-8")
    out = tmp_path / "sweep"
    assert 0 == main(["sweep", str(scenario), "-o", str(out), "--replications", "1", "--jobs", "1", "--quiet",
                      "--set", "run.horizon=1000s", "--set", "sweep.parameters[0].values=[1.0, 1.5]"])
    assert ["p000", "p001"] == sorted(p.name for p in (out / "points").iterdir())
    summary = json.loads((out / "points" / "p001" / "summary.json").read_text(encoding="utf-8"))
    assert 1000.0 == summary["horizon_seconds"]


def test_capacity_applies_set(tmp_path: Path, capsys):
    """capacity --set moves the starting value of the searched key (the scenario's value) and runs."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    assert 0 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "utilization <= 0.6",
                      "--replications", "2", "--jobs", "1", "--set", "traffic.multiplier=0.5"])
    printed = capsys.readouterr().out
    assert printed.startswith("  traffic.multiplier = 0.5:")
    assert "largest traffic.multiplier meeting utilization <= 0.6" in printed


@pytest.mark.parametrize("command", [["check"], ["run", "--jobs", "1"], ["sweep", "--jobs", "1"],
                                     ["capacity", "--param", "traffic.multiplier", "--target", "utilization <= 0.6"]])
@pytest.mark.parametrize("option, fragments", [
    ("run.horizn=3d", ["--set", "run.horizn = '3d'", "did you mean 'horizon'?"]),
    ("netwrk.hub.servers=8", ["--set", "netwrk.hub.servers = 8", "did you mean 'network'?"]),
    ("network.hub.servers=many", ["--set", "network.hub.servers = 'many'", "must be a valid integer"]),
    ("traffic.multiplier=-1", ["--set", "traffic.multiplier = -1", "must be greater than or equal to 0"]),
    ("run.horizon=1h", ["--set", "run.horizon = '1h'", "run.warmup = '2h'", "must be shorter than the horizon (1h)"]),
    ("run.horizon", ["--set = 'run.horizon'", "KEY=VALUE"]),
    ("=3d", ["--set = '=3d'", "no key"]),
])
def test_bad_set_exits_2_with_one_line(small: Path, tmp_path: Path, capsys, command: list[str], option: str,
                                       fragments: list[str]):
    """A typo'd key (with the nearest key), a bad value, a warm-up the new horizon breaks or a malformed option:
    exit 2, one line naming the file, the option, the key path and the value; nothing runs or is written."""
    out = tmp_path / "out"
    name, *rest = command
    output = ["-o", str(out)] if name in ("run", "sweep") else []
    assert 2 == main([name, str(small), *rest, *output, "--set", option])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert 1 == len(lines) and lines[0].startswith(f"axis-sim: error: {small}: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "" == captured.out and not out.exists()


def test_set_applies_in_order(small: Path, tmp_path: Path, capsys):
    """Repeated --set apply in order: the last value of a key wins, and a later key can fix what an earlier one broke."""
    assert 0 == main(["check", str(small), "--set", "network.hub.servers=5", "--set", "network.hub.servers=4"])
    assert "4" == _hub_servers(capsys.readouterr().out)
    assert 0 == main(["check", str(small), "--set", "network.hub={servers = 9, service = {mean = \"7.2s\"}}",
                      "--set", "network.hub.servers=6"])
    assert "6" == _hub_servers(capsys.readouterr().out)
    # the horizon and the warm-up are validated together, whatever their order
    assert 0 == main(["check", str(small), "--set", "run.warmup=10min", "--set", "run.horizon=1h"])


def test_set_value_nested_too_deeply_is_refused(small: Path, capsys):
    """A --set value nested beyond what TOML can parse is taken as text; one nested less deeply is refused by key path."""
    assert 2 == main(["check", str(small), "--set", "network.hub.servers=" + "[" * 2000 + "]" * 2000])
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "network.hub.servers = '[[[[" in line and "must be a valid integer" in line and len(line) < 600
    assert 2 == main(["check", str(small), "--set", "description=" + "[" * 40 + "]" * 40])
    (line,) = capsys.readouterr().err.splitlines()
    assert "-> description[0][0]" in line and "nests tables and arrays more than 16 levels deep" in line


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("2.5", 2.5), ('"2/h"', "2/h"), ('["mon"]', ["mon"]), ("true", True), ("{ mean = 2 }", {"mean": 2}),
    ("365d", "365d"), ("full", "full"), ("2/h", "2/h"), ("", ""), (" 8 ", 8), ("a = 1\nb = 2", "a = 1\nb = 2"),
])
def test_set_values_read_as_toml_else_text(text: str, value: object):
    """A --set value is the TOML value it spells, otherwise the text itself."""
    assert {"k": value} == parse_overrides([f"k={text}"], "s.toml")


def test_check_shows_the_roadmap_by_name_when_the_count_is_set(capsys):
    """connect-ministries sets connection.connected: check still shows every count, from none to all, by name.

    The row with all 22 connected is the scenario as given (86.5 % electronic, the 2020 baseline).
    """
    scenario = Path(__file__).parents[1] / "scenarios" / "connect-ministries.toml"
    assert 0 == main(["check", str(scenario)])
    out = capsys.readouterr().out
    assert "connection.connected = 22 is row k = 22" in out
    rows = [line for line in out.splitlines() if line[:2].strip().isdigit() and "(platform)" in line]
    assert 23 == len(rows)
    assert "(none of the order)" in rows[0] and "Bộ Tài chính" in rows[2] and "bo-tai-chinh" not in out
    assert "86.5%" in rows[22]
