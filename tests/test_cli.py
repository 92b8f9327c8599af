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


def test_run_leaves_the_collector_as_it_found_it(small: Path, tmp_path: Path, monkeypatch):
    """run freezes what the run leaves while it writes the folder (the collector need not walk it), then unfreezes
    it: a caller of main() in the same process keeps a collector that sees every object, even when writing fails."""
    import gc

    import simulator.results

    assert 0 == gc.get_freeze_count()
    assert 0 == main(["run", str(small), "-o", str(tmp_path / "out"), "--quiet"])
    assert 0 == gc.get_freeze_count()
    frozen: list[int] = []

    def full_disk(*_: object, **__: object) -> Path:
        frozen.append(gc.get_freeze_count())
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(simulator.results.RunResult, "save", full_disk)
    assert 2 == main(["run", str(small), "-o", str(tmp_path / "full")])
    assert frozen[0] > 0 and 0 == gc.get_freeze_count()


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


def _capacity_json(folder: Path) -> dict:
    return json.loads((folder / "capacity.json").read_text(encoding="utf-8"))


def test_capacity_command(tmp_path: Path, capsys):
    """capacity prints where it starts, each evaluation and the answer with its bracket, and writes capacity.json."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    out = tmp_path / "cap"
    assert 0 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "utilization <= 0.6",
                      "--replications", "2", "--jobs", "1", "-o", str(out)])
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    # hub M/M/1 at 0.3 arrivals per second, 1 s service: utilisation 0.6 at multiplier 2 exactly
    assert lines[0].startswith("Searching traffic.multiplier from 1 and 2.4: the analytic prediction of utilization "
                               "reaches 0.6 at traffic.multiplier = 2")
    assert "largest traffic.multiplier meeting utilization <= 0.6 (busiest station): " in printed
    assert "-> meets" in printed and ("-> fails" in printed or "-> uncertain" in printed)
    assert f"Results written to {out}/ (capacity.json, scenario.toml)" in printed
    saved = _capacity_json(out)
    evaluations = saved["evaluations"]
    assert len(evaluations) == sum(" -> " in line for line in lines)
    assert {"value", "verdict", "simulated", "mean", "ci95", "unit", "replications", "stage"} == set(evaluations[0])
    assert {(e["replications"], e["stage"]) for e in evaluations} == {(2, "confirm")}  # analytic start: no exploration
    bracket = saved["bracket"]
    assert bracket["source"] == "analytic" and bracket["predicted"] == pytest.approx(2.0, rel=1e-3)
    assert [bracket["low"], bracket["high"]] == [e["value"] for e in evaluations[:2]] == pytest.approx([1.0, 2.4], rel=1e-3)
    answer = saved["answer"]
    assert answer["unit"] == "x" and answer["value"] == max(e["value"] for e in evaluations if e["verdict"] == "meets")
    assert answer["interval"] == [answer["value"], answer["limit"]] and answer["limit"] - answer["value"] <= 0.02 * answer["limit"]
    assert answer["figure"]["ci95"][1] <= 0.6 and answer["value"] <= 2.0 * 1.02
    assert {"metric": "utilization", "operator": "<=", "bound": 0.6, "unit": "", "station": None}.items() <= saved["target"].items()
    assert saved["reason"] == "converged" and saved["settings"]["replications"] == 2
    assert load_scenario(out / "scenario.toml").traffic.multiplier == 1.0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing staged left behind
    assert 2 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "speed <= 1"])
    assert "--target = 'speed <= 1'" in capsys.readouterr().err


def test_capacity_prints_a_latency_answer_in_the_unit_of_the_target(tmp_path: Path, capsys):
    """A latency bound in minutes gives the answer and every evaluation in minutes, on screen and in capacity.json."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    out = tmp_path / "cap"
    # M/M/1, mu = 1/s: the sojourn is exponential with rate 1 - lambda, p95 = ln(20) / (1 - 0.3 m) = 15 s at m = 2.67
    assert 0 == main(["capacity", str(scenario), "--target", "latency_p95 <= 0.25min", "--replications", "3",
                      "--jobs", "1", "-o", str(out)])
    printed = capsys.readouterr().out
    answer = next(line for line in printed.splitlines() if line.startswith("largest"))
    assert answer.startswith("largest traffic.multiplier meeting latency_p95 <= 0.25min: ")
    assert " min, 95% CI " in answer and "e+" not in printed and "e-" not in printed
    assert "(exploring: 1 replication) -> " in printed  # no analytic prediction of p95: explore, then confirm
    saved = _capacity_json(out)
    assert {"bound": 0.25, "unit": "min"}.items() <= saved["target"].items()
    for evaluation in saved["evaluations"]:  # figures in minutes: the verdicts read against 0.25
        if not evaluation["simulated"]:  # analytically unstable: fails unseen, no figure
            assert evaluation["verdict"] == "fails" and evaluation["ci95"] == [None, None]
            continue
        low, high = evaluation["ci95"]
        assert evaluation["unit"] == "min" and evaluation["replications"] == (1 if evaluation["stage"] == "explore" else 3)
        assert (high <= 0.25) == (evaluation["verdict"] == "meets"), evaluation
        assert (low > 0.25) == (evaluation["verdict"] == "fails"), evaluation
    assert 2.3 <= saved["answer"]["value"] <= 2.67 * 1.02


#: Six agencies at 20/h, M/M/1 gateways (their agency stations) at 0.4, an M/M/1 hub at 0.3: utilisation 0.6
#: at multiplier 1.5 for each gateway, at 2 for the hub.
STATIONS_TEXT = hub_spoke_text(agencies=6, gateway_mean="36s", hub_servers=1, hub_mean="9s", horizon="60h", warmup="2h")


def test_capacity_station_restricts_the_target(tmp_path: Path, capsys):
    """--station hub reads the hub's utilisation: the analytic start and the answer move from 1.5 to 2."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(STATIONS_TEXT, encoding="utf-8")
    answers = {}
    for station in (None, "hub"):
        out = tmp_path / f"cap-{station}"
        assert 0 == main(["capacity", str(scenario), "--target", "utilization <= 0.6", "--replications", "3", "--jobs", "1",
                          "-o", str(out), "--quiet"] + (["--station", station] if station else []))
        saved = _capacity_json(out)
        assert saved["target"]["station"] == station
        answers[station] = (saved["bracket"]["predicted"], saved["answer"]["value"])
    printed = capsys.readouterr().out
    assert "meeting utilization <= 0.6 (busiest station): " in printed and "meeting utilization <= 0.6 at hub: " in printed
    assert answers[None][0] == pytest.approx(1.5, rel=1e-3) and answers["hub"][0] == pytest.approx(2.0, rel=1e-3)
    assert 1.2 <= answers[None][1] <= 1.5 * 1.02 < 1.7 <= answers["hub"][1] <= 2.0 * 1.02


@pytest.mark.parametrize("arguments, fragments", [
    (["--station", "hubb"], ["--station = 'hubb'", "is not a station of this scenario", "nearest ids: hub,"]),
    (["--station", "A3"], ["--station = 'A3'", "nearest ids: agency:A3,"]),
    (["--station", "hub", "--target", "latency_p95 <= 4h"], ["--station = 'hub'", "applies only to a station figure"]),
    (["--max-evaluations", "0"], ["--max-evaluations = 0", "must be a positive integer"]),
    (["--max-evaluations", "-3"], ["--max-evaluations = -3", "must be a positive integer"]),
    (["--tolerance", "1.5"], ["--tolerance = 1.5", "between 0 and 1"]),
    (["--start", "0"], ["--start = 0.0", "must be a positive number"]),
    (["--start", "nan"], ["--start = nan", "must be a positive number"]),
    (["--target", "utilization <= lots"], ["--target = 'utilization <= lots'", "'lots' is not a number"]),
    (["--target", "latency_p95 <= 4 hours"], ["--target = 'latency_p95 <= 4 hours'", "is not a target"]),
    (["--target", "latency_p95 <= 4hours"], ["--target = 'latency_p95 <= 4hours'", "unknown duration unit 'hours'"]),
    (["--param", "network.hub.serverz"], ["network.hub.serverz", "is not a numeric scenario key"]),
])
def test_capacity_bad_options_exit_2_with_one_line(tmp_path: Path, capsys, arguments: list[str], fragments: list[str]):
    """A bad station (with the nearest ids), target, tolerance or budget: exit 2, one line, nothing run or written."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(STATIONS_TEXT, encoding="utf-8")
    out = tmp_path / "cap"
    options = ["--target", "utilization <= 0.6"] if "--target" not in arguments else []
    assert 2 == main(["capacity", str(scenario), "-o", str(out), *options, *arguments])
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"axis-sim: error: {scenario}: "), error
    assert all(fragment in error[0] for fragment in fragments), error
    assert "Traceback" not in captured.err and captured.out == "" and not out.exists()


def test_capacity_max_evaluations_not_an_integer_is_a_usage_error(tmp_path: Path, capsys):
    """--max-evaluations takes an integer: argparse says so, exit 2."""
    with pytest.raises(SystemExit) as stopped:
        main(["capacity", str(tmp_path / "s.toml"), "--target", "utilization <= 0.6", "--max-evaluations", "many"])
    assert 2 == stopped.value.code and "--max-evaluations: invalid int value: 'many'" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, advice", [
    (["--max-evaluations", "2"], "(the evaluations ran out before the bracket narrowed to the tolerance (0.02) after 2 "
                                 "simulated evaluations; raise --max-evaluations (now 2) to narrow it further)"),
    (["--max-evaluations", "2", "--start", "0.1"], "(every value tried met the target, up to 0.2; raise --max-evaluations "
                                                   "(now 2) to search further, or give a higher --start)"),
    # 8 and 4 overload the hub: not simulated, they do not count; 2 is simulated (utilisation 0.6: not met for sure)
    (["--max-evaluations", "1", "--start", "8"], "No value of traffic.multiplier met utilization <= 0.6 (busiest station) "
                                                 "(no value tried met the target, down to 2; raise --max-evaluations "
                                                 "(now 1) to search further, or give a lower --start)."),
])
def test_capacity_advises_options_that_exist(tmp_path: Path, capsys, arguments: list[str], advice: str):
    """A search stopped short says why and advises --max-evaluations or --start, both real options."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    out = tmp_path / "cap"
    assert 0 == main(["capacity", str(scenario), "--target", "utilization <= 0.6", "--replications", "2", "--jobs", "1",
                      "-o", str(out), "--quiet", *arguments])
    printed = capsys.readouterr().out
    assert advice in printed and "max_evaluations" not in printed
    saved = _capacity_json(out)
    budget = int(arguments[1])
    assert sum(e["simulated"] for e in saved["evaluations"]) == budget == saved["settings"]["max_evaluations"]


def test_capacity_output_folder_is_checked_first_and_written_whole(tmp_path: Path, capsys, monkeypatch):
    """A foreign folder is refused before anything runs; a write that fails leaves no folder and no staging."""
    import simulator.capacity

    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    base = ["capacity", str(scenario), "--target", "utilization <= 0.6", "--replications", "2", "--jobs", "1", "--quiet"]
    assert 2 == main([*base, "-o", str(foreign)])
    captured = capsys.readouterr()
    assert "not an earlier capacity result (no capacity.json)" in captured.err and captured.out == ""
    assert ["notes.txt"] == [p.name for p in foreign.iterdir()]

    def full_disk(*_: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(simulator.capacity, "dump_scenario", full_disk)
    out = tmp_path / "cap"
    assert 2 == main([*base, "-o", str(out)])
    captured = capsys.readouterr()
    assert "cannot write the result folder: no space left on the device" in captured.err
    assert captured.out.startswith("largest traffic.multiplier meeting")  # the answer is printed all the same
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    assert 0 == main([*base, "-o", str(out), "--max-evaluations", "1"])
    assert 0 == main([*base, "-o", str(out), "--max-evaluations", "2"])  # an earlier capacity result is replaced
    assert 2 == len(_capacity_json(out)["evaluations"])


def test_capacity_default_folder_keeps_a_vietnamese_name(tmp_path: Path, capsys, monkeypatch):
    """Without -o the folder is results/<scenario name>-capacity, made a safe name with its diacritics kept."""
    scenario = tmp_path / "s.toml"
    text = SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"')
    scenario.write_text('name = "Bộ Tài chính / thử"\n' + text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert 0 == main(["capacity", str(scenario), "--target", "utilization <= 0.6", "--replications", "2", "--jobs", "1",
                      "--max-evaluations", "1"])
    folder = tmp_path / "results" / "Bộ Tài chính - thử-capacity"
    assert f"Results written to {Path('results') / folder.name}/" in capsys.readouterr().out
    raw = (folder / "capacity.json").read_text(encoding="utf-8")
    assert '"scenario": "Bộ Tài chính / thử"' in raw
    assert load_scenario(folder / "scenario.toml").name == "Bộ Tài chính / thử"


def test_capacity_help_names_the_default_station_and_budget(capsys):
    """--help says utilisation means the busiest station unless --station, and gives the real default budget."""
    from simulator.capacity import DEFAULT_MAX_EVALUATIONS

    with pytest.raises(SystemExit):
        main(["capacity", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: the busiest station of each replication" in text
    assert f"simulated evaluations at most (default {DEFAULT_MAX_EVALUATIONS})" in text
    assert "(default traffic.multiplier)" in text


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
    """capacity --set changes the scenario searched: twice the hub servers, twice the predicted multiplier."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(SWEEP_TEXT.replace('horizon = "2000s"', 'horizon = "20000s"'), encoding="utf-8")
    out = tmp_path / "cap"
    assert 0 == main(["capacity", str(scenario), "--param", "traffic.multiplier", "--target", "utilization <= 0.6",
                      "--replications", "2", "--jobs", "1", "--set", "network.hub.servers=2", "-o", str(out)])
    printed = capsys.readouterr().out
    assert printed.startswith("Searching traffic.multiplier from 2 and 4.8: the analytic prediction of utilization "
                              "reaches 0.6 at traffic.multiplier = 4")
    assert "  traffic.multiplier = 2: utilization " in printed
    assert "largest traffic.multiplier meeting utilization <= 0.6" in printed
    assert 2 == load_scenario(out / "scenario.toml").network.hub.servers


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
