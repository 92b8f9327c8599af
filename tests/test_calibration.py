"""Traces and calibration: the exchange log of a traced run, `axis-sim fit`, and the round trip between them."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.calibration import MIN_SAMPLES, REQUIRED_COLUMNS, _exposure, fit_duration, fit_log
from simulator.cli import main
from simulator.engine import simulate
from simulator.engine.tracelog import TRACE_COLUMNS, TraceOptions
from simulator.scenario import load_scenario
from simulator.topology import build_topology

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

#: Two documents at 09:00 from A (one urgent to B, one to B and C), deterministic services, links without delay,
#: one status message 60 s after each delivery.
MICRO = """
name = "micro"
[run]
horizon = "1d"
start = "2020-03-23"
[network.hub]
service = { distribution = "deterministic", mean = "1s" }
[network.platform]
service = { distribution = "deterministic", mean = "2s" }
[network.agency]
service = { distribution = "deterministic", mean = "0.5s" }
[network.access]
latency = "0s"
[network.backbone]
latency = "0s"
[[agencies]]
id = "A"
[[agencies]]
id = "B"
[[agencies]]
id = "C"
[traffic.size]
median = "1KB"
[[traffic.statuses]]
code = "01"
after = { distribution = "deterministic", mean = "60s" }
[[traffic.script]]
at = "9h"
origin = "A"
recipients = ["B"]
type = "urgent"
[[traffic.script]]
at = "9h"
origin = "A"
recipients = ["B", "C"]
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _hops(row: dict[str, str]) -> list[tuple[str, float, float, float]]:
    return [(row[f"station_{k}"], float(row[f"arrival_{k}"]), float(row[f"start_{k}"]), float(row[f"departure_{k}"]))
            for k in range(1, int(row["hops"]) + 1)]


def test_the_trace_of_a_micro_scenario_has_the_exact_hop_times(tmp_path: Path):
    """Urgent first at each station; the fan-out's trunk repeats in both copies; status messages queue too."""
    scenario = load_scenario(MICRO)
    trace = tmp_path / "t.csv"
    simulate(scenario, build_topology(scenario), np.random.SeedSequence(1), trace=TraceOptions(trace, "csv"))
    rows = _rows(trace)
    assert list(TRACE_COLUMNS) == list(rows[0])
    assert [("0", "document", "B", "32406"), ("1", "document", "B", "32408"), ("1", "document", "C", "32408"),
            ("0", "status", "A", "32472"), ("1", "status", "A", "32474"), ("1", "status", "A", "32476")] == \
        [(r["document"], r["type"], r["recipient"], r["delivered"]) for r in rows]
    assert [("agency:A", 32400, 32400, 32400.5), ("platform:A", 32400.5, 32400.5, 32402.5),
            ("hub", 32402.5, 32402.5, 32403.5), ("platform:B", 32403.5, 32403.5, 32405.5),
            ("agency:B", 32405.5, 32405.5, 32406)] == _hops(rows[0])
    # the second document waits behind the urgent one at A's system and platform
    assert ("platform:A", 32401, 32402.5, 32404.5) == _hops(rows[1])[1] == _hops(rows[2])[1]
    # C's status message waits at the hub and at A's platform behind B's
    assert [("hub", 32470.5, 32471.5, 32472.5), ("platform:A", 32472.5, 32473.5, 32475.5)] == _hops(rows[5])[2:4]
    assert ("01", "true", "2020-03-23 09:00:00.000000+0700") == (rows[3]["status"], rows[0]["urgent"], rows[0]["created_at"])


FAILING_HUB = {"network.hub.failures": {"between": {"mean": "2h"}, "repair": {"mean": "10min"}, "interrupted": "restart"},
               "network.hub.while_down": "reject",
               "network.retry": {"first": "1min", "attempts": 2, "fallback": "paper"}}


#: Faults of the second wave: a standby hub, backbone links that can be cut, acknowledgement timeouts.
STANDBY_LINKS_ACKS = {**FAILING_HUB,
                      "network.hub.standby": {"servers": 1, "service": {"mean": "400ms"}, "switchover": "5min"},
                      "network.backbone.failures": {"between": {"mean": "12h"}, "repair": {"mean": "1h"}},
                      "network.retry": {"first": "1min", "attempts": 2, "fallback": "paper", "ack_timeout": "30min"}}


#: The same, the hub failing after so much work (busy clock) rather than on the calendar.
STANDBY_WEARING = {**STANDBY_LINKS_ACKS,
                   "network.hub.failures": {"between": {"mean": "10min"}, "repair": {"mean": "10min"},
                                            "interrupted": "restart", "clock": "busy"}}


@pytest.mark.parametrize("changes", [{}, FAILING_HUB, STANDBY_LINKS_ACKS, STANDBY_WEARING],
                         ids=["priority", "failing hub, resends, paper fallback", "standby, link cuts, ack timeouts",
                              "hub failing on a busy clock, standby"])
def test_a_traced_run_has_the_results_of_an_untraced_one(tmp_path: Path, changes: dict):
    """Tracing draws no random number and changes no result: same ledger, events and latencies."""
    scenario = load_scenario(SCENARIOS / "calibration-demo.toml")
    scenario = simulator.scenario.apply_parameters(scenario, {"run.horizon": "2d", **changes})
    topology = build_topology(scenario)
    plain = simulate(scenario, topology, np.random.SeedSequence(3), keep_latencies=True)
    traced = simulate(scenario, topology, np.random.SeedSequence(3), keep_latencies=True,
                      trace=TraceOptions(tmp_path / "t.parquet"))
    assert plain.ledger == traced.ledger
    assert plain.events == traced.events
    assert plain.latencies == traced.latencies
    if changes:
        import pandas as pd

        rows = pd.read_parquet(tmp_path / "t.parquet")
        copies = rows[rows["type"] == "document"]
        assert plain.ledger.copies_fallback == (copies["outcome"] == "fallback").sum() > 0
        assert plain.ledger.statuses_dropped == ((rows["type"] == "status") & (rows["outcome"] == "dropped")).sum() > 0
        assert rows["resends"].max() == 2
    if "network.hub.standby" in changes:  # link stations are hops of their own: a route crosses up to seven
        assert plain.ledger.duplicates > 0
        assert rows["hops"].max() == 7 and rows["station_3"].str.startswith("link:").any()
        assert rows.loc[rows["hops"] == 7, "station_7"].str.startswith("agency:").all()


def test_the_trace_is_streamed_in_row_groups_and_counts_every_copy(tmp_path: Path, monkeypatch):
    """Rows go to disk in batches (several row groups); one row per copy (paper too) and per status message."""
    import pyarrow.parquet as pq

    from simulator.engine import tracelog

    monkeypatch.setattr(tracelog, "BATCH_ROWS", 1000)
    scenario = simulator.scenario.apply_parameters(load_scenario(SCENARIOS / "calibration-demo.toml"),
                                                   {"run.horizon": "2d"})
    out = simulate(scenario, build_topology(scenario), np.random.SeedSequence(2), trace=TraceOptions(tmp_path / "t.parquet"))
    file = pq.ParquetFile(tmp_path / "t.parquet")
    assert file.metadata.num_row_groups > 3
    table = file.read().to_pandas()
    ledger = out.ledger
    copies = table[table["type"] == "document"]
    assert ledger.copies_generated == len(copies)
    assert ledger.copies_paper == (copies["outcome"] == "paper").sum()
    assert ledger.copies_delivered == (copies["outcome"] == "delivered").sum()
    assert ledger.statuses_delivered == ((table["type"] == "status") & (table["outcome"] == "delivered")).sum()
    assert ledger.documents_generated == copies["document"].nunique()
    assert not (tmp_path / "t.parquet.part").exists()


def test_run_trace_goes_into_the_result_folder(tmp_path: Path, capsys):
    """--trace: trace.parquet in the result folder, listed; --trace PATH.csv: CSV there; --trace-format alone: exit 2."""
    scenario = tmp_path / "micro.toml"
    scenario.write_text(MICRO, encoding="utf-8")
    assert 0 == main(["run", str(scenario), "-o", str(tmp_path / "out"), "--trace", "--replications", "2", "--jobs", "1"])
    assert "trace.parquet" in capsys.readouterr().out
    assert (tmp_path / "out" / "trace.parquet").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert 0 == main(["run", str(scenario), "-o", str(tmp_path / "out2"), "--trace", str(tmp_path / "log.csv"), "--quiet"])
    assert 6 == len(_rows(tmp_path / "log.csv"))
    assert 2 == main(["run", str(scenario), "-o", str(tmp_path / "out3"), "--trace-format", "csv"])
    assert "--trace-format: needs --trace" in capsys.readouterr().err


def test_fit_duration_picks_the_law_and_covers_the_truth():
    """Large seeded samples: the generating family wins by AIC and its mean and cv intervals cover the truth."""
    rng = np.random.default_rng(7)
    lognormal = fit_duration(rng.lognormal(0.0, 0.8, 4000))
    assert "lognormal" == lognormal.family
    assert lognormal.mean.covers(math.exp(0.32)) and lognormal.cv.covers(math.sqrt(math.expm1(0.64)))
    gamma = fit_duration(rng.gamma(4.0, 0.5, 4000))
    assert "gamma" == gamma.family and gamma.mean.covers(2.0) and gamma.cv.covers(0.5)
    assert "deterministic" == fit_duration(np.full(50, 3.0)).family
    delays = rng.exponential(100.0, 4000)
    ends = rng.uniform(0, 300, 4000)
    censored = fit_duration(delays[delays <= ends], ends[delays > ends])
    assert "exponential" == censored.family and censored.mean.covers(100.0) and censored.censored > 500


def _synthetic_log(path: Path, counts: dict[tuple[int, int], int]) -> Path:
    """A log of the required columns only: ``counts[(day, hour)]`` documents from A to B spread over that hour."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REQUIRED_COLUMNS)
        number = 0
        for (day, hour), n in counts.items():
            for i in range(n):
                writer.writerow([number, "document", "A", "B", 86400 * day + 3600 * hour + 3600 * (i + 0.5) / n])
                number += 1
    return path


def test_the_fit_report_tests_the_profile_on_every_hour_of_the_week(tmp_path: Path):
    """Hour x weekday factors fit a log whose days have the same shape (p = 1), not one whose Monday peaks at
    08:00 and whose Tuesday peaks at 16:00 (the hour-of-day table matches either way: it is what was fitted)."""
    from simulator.cli import format_fit

    hours = (8, 9, 10, 11, 13, 14, 15, 16)
    same = fit_log(_synthetic_log(tmp_path / "same.csv", {(d, h): 30 + 10 * (h == 9) for d in (0, 1) for h in hours}))
    assert same.profile_check is not None and same.profile_check.p_value > 0.99
    assert (16, 16 - 9) == (same.profile_check.cells, same.profile_check.dof)
    shifted = {(d, h): 60 if (d, h) in ((0, 8), (1, 16)) else 5 for d in (0, 1) for h in hours}
    differs = fit_log(_synthetic_log(tmp_path / "differs.csv", shifted))
    assert differs.profile_check.p_value < 1e-6
    assert "differs between weekdays" in format_fit(differs) and "differs between" not in format_fit(same)
    assert all(abs(observed - fitted) < 1e-6 for observed, fitted in differs.by_hour.values())
    # B never sends: A's recipient weight has no likelihood (the mean, an infinite s.e.) and the scenario loads
    assert (1.0, math.inf) == (same.weights["A"].estimate, same.weights["A"].standard_error)
    assert 2 == len(same.scenario().agencies)


# ------------------------------------------------------------------ bad logs


@pytest.fixture(scope="module")
def good_log(tmp_path_factory) -> Path:
    """A two-day trace of the calibration demo, as CSV."""
    folder = tmp_path_factory.mktemp("log")
    scenario = simulator.scenario.apply_parameters(load_scenario(SCENARIOS / "calibration-demo.toml"),
                                                   {"run.horizon": "2d"})
    simulate(scenario, build_topology(scenario), np.random.SeedSequence(3), trace=TraceOptions(folder / "log.csv", "csv"))
    return folder / "log.csv"


def _broken(good: Path, tmp_path: Path, edit) -> Path:
    rows = _rows(good)
    columns = list(rows[0])
    edit(rows)
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _drop_sender(rows):
    for row in rows:
        del row["sender"]


def _set(row: int, column: str, value: str):
    def edit(rows):
        rows[row][column] = value
    return edit


def _first_hop_backwards(rows):
    row = next(r for r in rows if r["hops"] == "5")
    row["departure_2"] = str(float(row["start_2"]) - 1.0)


def _later(days: float):
    def edit(rows):
        for row in rows:
            for column, value in row.items():
                if value and (column in ("created", "delivered") or column.split("_")[0] in ("arrival", "start", "departure")):
                    row[column] = str(float(value) + 86400 * days)
    return edit


def _link_backwards(rows):
    row = next(r for r in rows if r["hops"] == "5")
    row["arrival_3"] = row["start_3"] = str(float(row["departure_2"]) - 1.0)


@pytest.mark.parametrize("edit, expected", [
    (_drop_sender, "bad.csv: column 'sender': missing (required: document, type, sender, recipient, created"),
    (_set(4, "created", "9h"), "bad.csv: row 5, column created = '9h': is not a time (seconds from day 0)"),
    (_set(2, "sender", "ha-nol"), "bad.csv: row 3, column sender = 'ha-nol': not an agency of the base scenario; "
                                  "did you mean 'ha-noi'?"),
    (_first_hop_backwards, "before start_2"),
    (_link_backwards, "before departure_2"),
    (_set(0, "type", "package"), "bad.csv: row 1, column type = 'package': must be 'document' or 'status'"),
    (_set(1, "document", ""), "bad.csv: row 2, column document is empty: every row needs a document"),
    (_set(3, "urgent", "maybe"), "bad.csv: row 4, column urgent = 'maybe': must be true or false"),
    (_set(5, "size_bytes", "-3"), "bad.csv: row 6, column size_bytes = '-3': must be a positive number of bytes"),
    (_set(6, "size_bytes", "big"), "bad.csv: row 7, column size_bytes = 'big': must be a positive number of bytes"),
    (lambda rows: rows.clear(), "bad.csv: no rows: a log has one row per document copy and per status message"),
    (lambda rows: (_set(3, "created", "1e10")(rows), _set(3, "delivered", "1e10")(rows)),  # a typo far ahead
     "bad.csv: row 4, column created = 10000000000.0: 115739 days after the time before it"),
    (_later(40), "days after day 0; a log starts within 31 days of day 0"),
    (_set(3, "delivered", "inf"), "bad.csv: row 4, column delivered = 'inf': is not a time"),
    (lambda rows: next(r for r in rows if r["type"] == "status").update(status="07"),
     "column status = '07': not a status code of the base scenario (01, 03, 04); add it to the base's traffic.statuses"),
    (lambda rows: (_set(1, "document", "")(rows), _set(4, "created", "9h")(rows)),  # a time checked after another problem
     "bad.csv: row 5, column created = '9h': is not a time (seconds from day 0)"),
])
def test_a_bad_log_is_refused_with_one_line_per_problem_and_nothing_written(good_log: Path, tmp_path: Path, capsys,
                                                                            edit, expected):
    """Missing column, unparsable time, unknown agency, negative duration, unknown type, an empty required cell,
    a bad optional value, no rows: exit 2, one line naming file, row or column, value and rule, no output file."""
    bad = _broken(good_log, tmp_path, edit)
    out = tmp_path / "fitted.toml"
    assert 2 == main(["fit", str(bad), "-o", str(out), "--base", str(SCENARIOS / "calibration-demo.toml")])
    err = capsys.readouterr().err
    assert expected in err
    assert all(line.startswith("axis-sim: error: ") for line in err.splitlines())
    assert [] == list(tmp_path.glob("fitted*")) + list(tmp_path.glob(".fitted*"))


def test_too_few_samples_for_a_fit_is_refused(good_log: Path, tmp_path: Path, capsys):
    """A log cut to its first few rows: too few documents and service times for a fit (exit 2, nothing written)."""
    short = tmp_path / "short.csv"
    short.write_text("".join(good_log.read_text(encoding="utf-8").splitlines(keepends=True)[:12]), encoding="utf-8")
    assert 2 == main(["fit", str(short), "-o", str(tmp_path / "f.toml")])
    err = capsys.readouterr().err
    assert f"a fit needs at least {MIN_SAMPLES}" in err and "station kind 'hub'" in err
    assert not (tmp_path / "f.toml").exists()


def test_a_log_with_only_the_required_columns_is_fitted(good_log: Path, tmp_path: Path):
    """Columns the fit does not need may be absent: rates, profile, weights and fan-out are fitted from the
    required five; status delays, service times, the urgent share and the size stay the base's, and no Q-Q chart."""
    minimal = tmp_path / "minimal.csv"
    with minimal.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(REQUIRED_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(_rows(good_log))
    out = tmp_path / "fitted.toml"
    assert 0 == main(["fit", str(minimal), "-o", str(out), "--quiet", "--base", str(SCENARIOS / "calibration-demo.toml")])
    base, fitted = load_scenario(SCENARIOS / "calibration-demo.toml"), load_scenario(out)
    assert (base.traffic.statuses, base.traffic.types, base.traffic.size, base.network.hub) == \
        (fitted.traffic.statuses, fitted.traffic.types, fitted.traffic.size, fitted.network.hub)
    assert fitted.agencies[0].rate != base.agencies[0].rate and fitted.calendar.profile.weekdays
    assert [out] == list(tmp_path.glob("fitted*"))


def test_fit_writes_a_commented_scenario_and_qq_charts(good_log: Path, tmp_path: Path, capsys):
    """fit: a loadable scenario whose fitted keys carry estimate, s.e. and n; a Q-Q chart per station kind; a report."""
    out = tmp_path / "sub" / "fitted.toml"
    assert 0 == main(["fit", str(good_log), "-o", str(out), "--base", str(SCENARIOS / "calibration-demo.toml")])
    printed = capsys.readouterr().out
    assert "Documents by hour of the day" in printed and "service hub" in printed
    text = out.read_text(encoding="utf-8")
    assert "# lognormal: mean estimate" in text or "# gamma: mean estimate" in text
    assert "s.e." in text and "n = " in text
    assert load_scenario(out).traffic.types.urgent > 0
    assert {"fitted-qq-agency.png", "fitted-qq-hub.png", "fitted-qq-platform.png"} <= {p.name for p in out.parent.iterdir()}


# ------------------------------------------------------------------ the round trip


def _truth(scenario, calibration) -> list[tuple[str, object, float]]:
    """(name, fitted value, true value) for every fitted parameter the scenario states."""
    topology = build_topology(scenario)
    agencies = topology.agencies
    pairs = [(f"rate {a}", calibration.rates[a], float(agencies.rate[i])) for i, a in enumerate(agencies.ids)]
    weights = agencies.weight / agencies.weight.mean()
    pairs += [(f"weight {a}", calibration.weights[a], float(weights[i])) for i, a in enumerate(agencies.ids)]
    exposure = _exposure(scenario, calibration.horizon_seconds).sum(axis=0)
    hours = np.array([scenario.calendar.profile.hours.get(f"{h:02d}", 1.0) for h in range(24)])
    hours /= (hours * exposure).sum() / exposure.sum()
    pairs += [(f"hour {h}", fit, float(hours[int(h)])) for h, fit in calibration.hours.items()]
    pairs += [(f"weekday {d}", fit, 1.0) for d, fit in calibration.weekdays.items()]
    pairs += [(f"fan-out {r}", share, rule.share) for (r, _, share), rule in zip(calibration.fanout, scenario.traffic.fanout)]
    pairs += [("urgent", calibration.urgent, scenario.traffic.types.urgent),
              ("size median", calibration.size_median, scenario.traffic.size.median),
              ("size sigma", calibration.size_sigma, scenario.traffic.size.sigma)]
    laws = {f"status {s.code}": (calibration.statuses[s.code], s.after) for s in scenario.traffic.statuses}
    laws.update({f"service {k}": (calibration.services[k], getattr(scenario.network, k).service)
                 for k in ("hub", "platform", "agency")})
    for name, (fit, law) in laws.items():
        pairs.append((f"{name} mean", fit.mean, law.mean))
        if fit.family in ("lognormal", "gamma"):
            pairs.append((f"{name} cv", fit.cv, math.sqrt(law.scv)))
    return pairs


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """The calibration demo simulated with a trace (seed 13), the trace fitted, both scenarios re-run (4 replications).

    About 7 s of work (15-45 s on a loaded 2-core machine); the time is measured, not asserted (a test
    must not fail because the machine is busy).
    """
    folder = tmp_path_factory.mktemp("round")
    scenario = load_scenario(SCENARIOS / "calibration-demo.toml")
    simulator.run(scenario, seed=13, replications=1, trace=TraceOptions(folder / "trace.parquet"))
    calibration = fit_log(folder / "trace.parquet", scenario)
    original = simulator.run(scenario, seed=1, replications=4)
    fitted = simulator.run(calibration.scenario(), seed=1, replications=4)
    return scenario, calibration, original, fitted


def test_round_trip_the_fitted_values_cover_the_true_ones(round_trip):
    """At least 90 % of the fitted parameters' 95 % intervals cover the true values (about 50 parameters).

    The status codes, three laws of service time, rates and weights of twelve
    agencies, the profile's hours and weekdays, fan-out, urgent share and
    sizes. With independent intervals the expected coverage is 95 %; 90 % of
    about 50 fails by chance with probability about 0.1 (binomial), and the
    seed is fixed.
    """
    scenario, calibration, *_ = round_trip
    pairs = _truth(scenario, calibration)
    missed = [(name, fit.estimate, fit.standard_error, true) for name, fit, true in pairs if not fit.covers(true)]
    assert len(pairs) >= 45
    assert len(missed) <= 0.1 * len(pairs), missed
    assert {"status 03": "gamma", "service hub": "lognormal"} == {
        "status 03": calibration.statuses["03"].family, "service hub": calibration.services["hub"].family}


def test_round_trip_the_fitted_scenario_reproduces_the_original(round_trip):
    """Electronic share, latency p95 and the bottleneck's busiest hour fall in the original's 95 % intervals.

    Documents per working day: in the original's interval widened by the
    calibration error of the one traced replication (1.96 x sqrt(N) / working
    days, N the documents of the log): the fitted rates carry that error, and
    no number of re-simulations removes it.
    """
    _, calibration, original, fitted = round_trip
    a, b = original.summary, fitted.summary
    low, high = a["electronic_share_ci"]
    assert low <= b["electronic_share"] <= high
    low, high = a["latency_seconds"]["p95_ci"]
    assert low <= b["latency_seconds"]["p95"] <= high
    bottleneck = a["peak_bottleneck"]  # its busiest hour, at the same station in the fitted run
    low, high = bottleneck["utilization_ci"]
    assert low <= next(s["peak_utilization"] for s in b["stations"] if s["id"] == bottleneck["id"]) <= high
    low, high = a["documents_per_working_day_ci"]
    widen = 1.96 * math.sqrt(calibration.documents) / a["working_days"]
    assert low - widen <= b["documents_per_working_day"] <= high + widen


def test_a_log_with_timestamps_only_is_fitted_without_a_base(good_log: Path, tmp_path: Path, capsys):
    """created_at instead of created, no --base: office hours, day 0 from the first timestamp; a bad stamp: exit 2."""
    rows = _rows(good_log)
    for row in rows:
        del row["created"]
    stamps = tmp_path / "stamps.csv"

    def write(rows):
        with stamps.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    write(rows)
    out = tmp_path / "f.toml"
    assert 0 == main(["fit", str(stamps), "-o", str(out), "--quiet"])
    fitted = load_scenario(out)
    assert "2020-03-23" == fitted.run.start.isoformat() and 86400.0 * 2 == fitted.run.horizon
    assert 12 == len(fitted.agencies) and fitted.calendar.profile.hours["09"] > fitted.calendar.profile.hours["16"]
    rows[6]["created_at"] = "23/03/2020 8h"
    write(rows)
    assert 2 == main(["fit", str(stamps), "-o", str(tmp_path / "g.toml")])
    assert "stamps.csv: row 7, column created_at = '23/03/2020 8h': is not a timestamp" in capsys.readouterr().err
    assert not (tmp_path / "g.toml").exists()
