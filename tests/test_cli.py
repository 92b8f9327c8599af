"""Command line: the run folder contract, exit statuses, and the terminal summary."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from simulator.cli import main

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
    assert "electronic share" in printed and "Bottleneck:" in printed and "Busiest" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
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
    """An output path under a file cannot be created: exit 2, a message naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert 2 == main(["run", str(small), "-o", str(blocker / "out")])
    assert "cannot write the result folder" in capsys.readouterr().err


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
