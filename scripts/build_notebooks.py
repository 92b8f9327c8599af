"""Write the researcher notebooks in notebooks/ (committed without outputs; CI executes them).

    python scripts/build_notebooks.py

Each notebook is a list of (kind, text) cells below; edit here, rerun, commit the .ipynb files.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = '''# Scale: 1 runs in about a minute on a 2-core machine; raise it for real studies
# (longer horizons, more replications).
SCALE = 1

from pathlib import Path

import pandas as pd

import simulator
from simulator import charts

%matplotlib inline
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
SCENARIOS = ROOT / "scenarios"'''

QUICKSTART = [
    ("md", """# Quickstart: one scenario, one run, the results as tables and charts

This notebook drives the simulator from Python, as a researcher would. It loads the shipped 2020 baseline
(`scenarios/national-2020.toml`: the 31 central bodies and 63 provinces connected to the national document
interconnection axis, *Trục liên thông văn bản quốc gia*), runs it, reads the summary and the station table as
pandas DataFrames, draws the capacity charts, then changes one parameter and compares.

Why a planner cares: the same numbers answer "how loaded is the hub, which platform saturates first, how long does
a document take" — with confidence intervals, and with queueing theory next to the simulation."""),
    ("code", SETUP),
    ("md", """## Load and shorten the scenario

`load_scenario` validates the file (a wrong key or value raises `simulator.errors.ScenarioError` naming the key
path). `apply_parameters` returns a copy with dotted keys changed, validated again: here a three-day horizon
(Monday to Wednesday) and two replications, to keep the notebook quick."""),
    ("code", '''baseline = simulator.load_scenario(SCENARIOS / "national-2020.toml")
short = simulator.apply_parameters(baseline, {"run.horizon": f"{3 * SCALE}d", "run.replications": 2 * SCALE})
short.run'''),
    ("md", "## Run it\n\nReplications run in two worker processes; the result is identical to a serial run with the same seed."),
    ("code", '''result = simulator.run(short, seed=2020, jobs=2)
result'''),
    ("code", '''summary = result.summary
pd.Series({
    "documents generated": summary["documents"]["generated"],
    "electronic share": summary["electronic_share"],
    "electronic documents per working day": summary["electronic_per_working_day"],
    "recipients per document": summary["recipients_per_document"],
    "latency p95 (s)": summary["latency_seconds"]["p95"],
    "bottleneck": summary["bottleneck"]["name"],
    "busiest hour": f"{summary['peak_bottleneck']['name']} at {summary['peak_bottleneck']['utilization']:.0%}",
})'''),
    ("md", """## The station table

Every station with its simulated utilisation (mean over replications, 95 % confidence interval) and the analytic
prediction (`predicted_utilization`) from the same traffic equations `axis-sim check` prints."""),
    ("code", '''columns = ["id", "name", "kind", "servers", "utilization", "utilization_ci_low", "utilization_ci_high",
           "predicted_utilization", "peak_utilization", "mean_wait_seconds", "throughput_per_day"]
result.stations.sort_values("utilization", ascending=False)[columns].head(10)'''),
    ("md", "## Charts\n\nEach chart function takes a result and returns matplotlib Axes (the names keep their diacritics)."),
    ("code", "charts.plot_station_utilization(result, top=12).figure"),
    ("code", "charts.plot_latency_cdf(result).figure"),
    ("code", "charts.plot_occupancy(result, top=4).figure"),
    ("md", """## Change one parameter and compare

Three times the traffic on a hub with one server instead of four: the hub becomes the bottleneck, and the
latency tail grows. Both runs use the same seed, so they see the same documents (common random numbers)."""),
    ("code", '''stressed = simulator.apply_parameters(short, {"traffic.multiplier": 3.0, "network.hub.servers": 1})
other = simulator.run(stressed, seed=2020, jobs=2)


def row(r):
    s = r.summary
    return {"bottleneck": s["bottleneck"]["name"], "bottleneck utilisation": s["bottleneck"]["utilization"],
            "busiest hour": s["peak_bottleneck"]["utilization"], "latency p95 (s)": s["latency_seconds"]["p95"],
            "copies per day": s["throughput_per_day"]}


pd.DataFrame({"baseline": row(result), "x3 traffic, 1 hub server": row(other)}).T'''),
    ("md", """## A report to hand over

`axis-sim report RESULT_DIR --lang vi` turns a result folder into one self-contained HTML page for planners
(the answer in sentences, the headline figures with their 95 % intervals, the sortable station table, the
charts; `docs/reference/report.md`). From Python: save the result as a folder, then build, render and write the
page. Here the baseline, in Vietnamese, into `results/quickstart/report.html` (open it in a browser; it needs no
network)."""),
    ("code", '''from simulator.report import build_run_report, load_run_folder, render_run_report, write_report

folder = result.save(ROOT / "results" / "quickstart")
report = build_run_report(load_run_folder(folder), "vi")
page = write_report(render_run_report(report), folder / "report.html")
print(page)
print("\\n".join(report.answer))'''),
]

SHARE = [
    ("md", """# How the 86.5 % electronic share arises, and what 90 % and 100 % take

In 2019, 86.5 % of documents between state agencies travelled electronically; the targets were 90 % for 2020
and 100 % (except classified documents) for 2025 (`docs/sources.md`, section 7). In the model the share is not a
constant: it follows from *who is connected*, *which documents are classified* (never on the axis), and *who
adopts* (sends electronically when both ends are connected). This notebook takes the share apart analytically,
checks it by simulation, and follows it over time while ministries connect one by one."""),
    ("code", SETUP + '''
from simulator.analytic import connect_headroom, electronic_share
from simulator.topology import build_topology'''),
    ("md", "## The baseline, analytically and simulated"),
    ("code", '''baseline = simulator.load_scenario(SCENARIOS / "national-2020.toml")
quick = simulator.apply_parameters(baseline, {"run.horizon": f"{5 * SCALE}d", "traffic.statuses": []})
print(f"analytic: {electronic_share(quick, build_topology(quick)):.2%}")
simulated = simulator.run(quick, seed=1)
print(f"simulated: {simulated.summary['electronic_share']:.2%} of {simulated.summary['documents']['generated']:,} documents")
pd.Series(simulated.summary["paper_reasons"], name="paper copies by reason")'''),
    ("md", """## The levers

With everyone connected, the share is (1 - classified share) x adoption. The table varies both: 90 % needs an
adoption of 0.9 / 0.96 = 93.75 % with 4 % classified documents; 100 % of *all* documents is out of reach while
classified documents exist, which is why Decision 942/QĐ-TTg states its target "except confidential documents"."""),
    ("code", '''KINDS = ["ministry", "ministerial-agency", "government-agency", "central-other", "province"]


def with_levers(scenario, adoption, classified):
    changes = {f"kinds.{kind}.adoption": adoption for kind in KINDS}
    changes["traffic.types.classified"] = classified
    return simulator.apply_parameters(scenario, changes)


rows = []
for classified in (0.04, 0.02, 0.0):
    for adoption in (0.901, 0.9375, 1.0):
        variant = with_levers(quick, adoption, classified)
        rows.append({"classified": classified, "adoption": adoption,
                     "electronic share": electronic_share(variant, build_topology(variant))})
pd.DataFrame(rows).pivot(index="classified", columns="adoption", values="electronic share").style.format("{:.1%}")'''),
    ("md", """## Connection matters too

Disconnect the 22 ministries and ministerial-level agencies except the first 9 of the order in
`scenarios/connect-ministries.toml` and the share falls: their documents, and documents *to* them, go on paper.
The analytic roadmap connects them back one at a time."""),
    ("code", '''roadmap = simulator.load_scenario(SCENARIOS / "connect-ministries.toml")
nine = simulator.apply_parameters(roadmap, {"connection.connected": 9, "sweep.parameters": []})
steps = connect_headroom(nine)
pd.DataFrame([{"connected ministries": 9 + s.connected, "last connected": s.agency,
               "electronic share": s.electronic_share} for s in steps]).style.format({"electronic share": "{:.1%}"})'''),
    ("md", """## The share over time during an onboarding roadmap

Now in time: 9 ministries connected on day 0, then one more every working day (`connection.every`), over two
working weeks. Documents switch from paper to electronic the moment their sender and recipient are connected."""),
    ("code", '''timeline = simulator.apply_parameters(nine, {
    "connection.every": "1d", "run.horizon": f"{14 * SCALE}d", "run.replications": 1, "traffic.statuses": []})
over_time = simulator.run(timeline, seed=3)
charts.plot_electronic_share_over_time(over_time).figure'''),
]

BOTTLENECKS = [
    ("md", """# Bottlenecks: connecting ministries, merging provinces, sizing the hub

Planners ask which station saturates first when more central bodies connect, when traffic grows, and when the
2025 reform merges 63 provinces into 34 (same traffic on fewer, bigger platforms). The analytic model answers in
a second; simulated sweeps with confidence intervals check it where queueing theory is only an approximation
(office hours, status messages, fan-out). A capacity search finds the hub servers a surge needs."""),
    ("code", SETUP + '''
import tempfile

from simulator.analytic import connect_headroom, reform_load_change
from simulator.capacity import parse_target, search'''),
    ("md", """## Analytic roadmap: connect the ministries one by one

Utilisation in office hours (all traffic scaled into open hours: an upper estimate) of the busiest station after
each step, and the headroom left."""),
    ("code", '''roadmap = simulator.load_scenario(SCENARIOS / "connect-ministries.toml")
nine = simulator.apply_parameters(roadmap, {"connection.connected": 9, "sweep.parameters": []})
steps = connect_headroom(nine, threshold=0.8)
pd.DataFrame([{"ministries connected": 9 + s.connected, "bottleneck": s.bottleneck,
               "open-hours utilisation": s.peak_utilization, "e-share": s.electronic_share} for s in steps]).iloc[::3]'''),
    ("md", """## Simulated sweep: connected ministries x traffic growth

A small version of `axis-sim sweep scenarios/connect-ministries.toml`: one working day, three replications per
point (with so few, the intervals are wide: raise SCALE and the replications for a study). Each finished run is stored in the sweep folder; rerunning this cell reuses them. The busiest hour of the
busiest station is what saturates first; the dashed lines are the analytic prediction."""),
    ("code", '''small = simulator.apply_parameters(roadmap, {
    "run.horizon": f"{1 * SCALE}d", "run.replications": 3,
    "sweep.parameters": [{"path": "connection.connected", "values": [9, 22]},
                         {"path": "traffic.multiplier", "values": [1.0, 3.0, 6.0]}]})
folder = Path(tempfile.mkdtemp()) / "sweep"
swept = simulator.sweep(small, folder, jobs=2)
swept.table[["connection.connected", "traffic.multiplier", "electronic_share", "peak_utilization",
             "peak_utilization_ci_low", "peak_utilization_ci_high", "peak_bottleneck", "latency_p95_seconds"]]'''),
    ("code", '''charts.plot_sweep_figure(swept, "peak_utilization").figure'''),
    ("code", '''charts.plot_sweep_figure(swept, "bottleneck_utilization", analytic="predicted_bottleneck_utilization").figure'''),
    ("md", """## The 2025 reform: 2020 traffic on merged provincial platforms

`network.reform = "merge-2025"` moves each pre-merger province, with its own documents, behind the platform of the
2025 province it became part of. Documents between two provinces that merged no longer cross the national hub,
but each merged platform carries its predecessors' load together."""),
    ("code", '''reform = simulator.load_scenario(SCENARIOS / "reform-2025.toml")
changes = reform_load_change(reform)
pd.DataFrame([{"2025 province": c.province, "merged from": ", ".join(c.predecessors),
               "busiest predecessor (open hours)": c.peak_utilization_before,
               "merged platform (open hours)": c.peak_utilization_after, "change": c.factor}
              for c in changes]).head(10)'''),
    ("md", """## Capacity search: hub servers for a fivefold surge

The national hub alone (platforms and agency systems left out), carrying five times the 2020 traffic — the growth
from March 2019 to March 2020 — with its status messages (most of the hub's load). The search finds the fewest hub servers keeping the hub's busiest hour at or below
70 % utilisation, reading each candidate from the confidence interval of its replications."""),
    ("code", '''baseline = simulator.load_scenario(SCENARIOS / "national-2020.toml")
surge = simulator.apply_parameters(baseline, {
    "run.horizon": f"{1 * SCALE}d", "run.warmup": "0s", "traffic.multiplier": 5.0,
    "network.platform.passthrough": True, "network.agency.passthrough": True})
answer = search(surge, "network.hub.servers", parse_target("peak_utilization <= 0.7"), direction="smallest",
                start=4, replications=2, jobs=2)
print(f"fewest hub servers: {answer.best}; the nearest value that fails: {answer.limit} {answer.note}")
pd.DataFrame([e.__dict__ for e in answer.evaluations])'''),
]

VERIFICATION = [
    ("md", """# Verification: the engine against queueing theory

Results are only worth planning with if the engine is right. Where queueing theory is exact — M/M/1, M/M/c, a
tandem line, an open Jackson network, loss systems (Erlang B, finite buffers), non-preemptive priorities — the
simulation must agree with it within its confidence interval. `axis-sim verify` runs these reference cases; this
notebook runs a smaller version and plots simulated against exact."""),
    ("code", SETUP + '''
import matplotlib.pyplot as plt
import numpy as np

from simulator.analytic import predict
from simulator.topology import build_topology
from simulator.verification import verify'''),
    ("md", """## The reference cases

Each figure passes when the exact value lies inside the 99 % confidence interval of the replication means (or
within 0.25 % of them). A correct simulator fails a single figure with probability at most 1 %."""),
    ("code", '''checks = verify(replications=6, jobs=2, scale=0.25 * SCALE)
table = pd.DataFrame([{"case": c.case, "figure": c.figure, "exact": c.exact, "simulated": c.simulated,
                       "ci low": c.interval.low, "ci high": c.interval.high, "pass": c.passed} for c in checks])
print(f"{table['pass'].sum()} of {len(table)} figures pass")
table'''),
    ("code", '''relative = (table["simulated"] / table["exact"] - 1) * 100
low = (table["ci low"] / table["exact"] - 1) * 100
high = (table["ci high"] / table["exact"] - 1) * 100
figure, ax = plt.subplots(figsize=(9, 7), layout="constrained")
y = np.arange(len(table))
ax.errorbar(relative, y, xerr=[relative - low, high - relative], fmt="o", color="#2e86c1", capsize=3)
ax.axvline(0, color="black", linewidth=1)
ax.set_yticks(y, [f"{c[:28]} | {f}" for c, f in zip(table["case"], table["figure"])], fontsize=7)
ax.set_xlabel("simulated minus exact (% of exact), 99 % confidence interval")
ax.set_title("Every figure of the reference cases against its exact value");'''),
    ("md", """## A hub-and-spoke Jackson network, station by station

Six agencies, each an M/M/1 gateway at utilisation 0.8, and an M/M/2 hub at 0.75: the product-form solution
gives each station's mean sojourn exactly. The simulated values (8 replications, 95 % intervals) scatter around
the diagonal."""),
    ("code", '''text = """
[run]
horizon = "%dh"
warmup = "50h"
[network.agency]
service = { distribution = "exponential", mean = "72s" }
[network.hub]
servers = 2
service = { distribution = "exponential", mean = "45s" }
[kinds.agency]
rate = "20/h"
[traffic]
recipients = "uniform"
""" % (600 * SCALE) + "".join(f'[[agencies]]\\nid = "G{i}"\\n' for i in range(6))
jackson = simulator.load_scenario(text)
exact = predict(jackson, build_topology(jackson))
print("exact (open Jackson network):", exact.exact)
simulated = simulator.run(jackson, seed=7, replications=8, jobs=2)
stations = simulated.stations
stations[["name", "mean_sojourn_seconds", "mean_sojourn_seconds_ci_low", "mean_sojourn_seconds_ci_high",
          "predicted_mean_sojourn_seconds", "theory"]]'''),
    ("code", '''figure, ax = plt.subplots(figsize=(6, 6), layout="constrained")
ax.errorbar(stations["predicted_mean_sojourn_seconds"], stations["mean_sojourn_seconds"],
            yerr=[stations["mean_sojourn_seconds"] - stations["mean_sojourn_seconds_ci_low"],
                  stations["mean_sojourn_seconds_ci_high"] - stations["mean_sojourn_seconds"]], fmt="o", capsize=3)
top = float(stations["mean_sojourn_seconds_ci_high"].max()) * 1.05
ax.plot([0, top], [0, top], color="grey", linestyle="--", label="simulated = exact")
ax.set_xlabel("exact mean sojourn (s)")
ax.set_ylabel("simulated mean sojourn (s), 95 % CI")
ax.set_title("Jackson network: every station on the diagonal")
ax.legend();'''),
]


CALIBRATION = [
    ("md", """# Calibration: from an exchange log to a fitted scenario to a comparison run

The hub and the integration platforms record every package and status message they pass on. This notebook
shows what a researcher who gets such a log can do with it: fit a scenario to it (document rates and their
profile over the working day, recipients, fan-out, urgent share, sizes, status delays, service times), read how
well each value is determined, and check that the fitted scenario reproduces what the log's system did.

We have no real log here, so we make one: `scenarios/calibration-demo.toml` (twelve agencies over the two
working weeks from 23 March 2020, with a morning peak, a month-end factor and Vietnam's holidays) simulated with
a trace. Because we know the true values, we can see whether the fit finds them. With a real log, start at
"Fit a scenario" with your file and the national baseline as `base`."""),
    ("code", SETUP + '''

import tempfile

from simulator.calibration import fit_log
from simulator.topology import build_topology

FOLDER = Path(tempfile.mkdtemp(prefix="calibration-"))'''),
    ("md", """## The log

`simulator.run(..., trace=PATH)` (on the command line `axis-sim run SCENARIO --trace`) writes the exchange log
of replication 0 while it runs: one row per document copy (paper copies too, without stations) and per status
message, with the stations each crossed and when it arrived, started service and left. The columns are listed
in the documentation, `docs/background/traces.md` ("Exchange logs: traces and calibration")."""),
    ("code", '''truth = simulator.load_scenario(SCENARIOS / "calibration-demo.toml")
simulator.run(truth, seed=13, replications=1, trace=FOLDER / "trace.parquet")
log = pd.read_parquet(FOLDER / "trace.parquet")
print(f"{len(log):,} rows, {log['document'].nunique():,} documents")
log.head(3).T'''),
    ("code", '''copies = log[log["type"] == "document"]
documents = copies.groupby("document").first()
by_hour = documents["created_at"].dt.hour.value_counts().sort_index()
ax = by_hour.plot.bar(title="documents created by hour of the day (Asia/Ho_Chi_Minh)", figsize=(8, 3))
ax.set_xlabel("hour")
ax.set_ylabel("documents");'''),
    ("md", """## Fit a scenario

`fit_log` reads and checks the log (a missing column, a bad time, an unknown agency or a negative duration is a
`simulator.errors.LogError` naming the row, column and value), then fits. `base` gives everything a log cannot
tell (the structure, calendar, adoption, links, servers). Every fitted value has a standard error; the table
compares the 95 % intervals with the true rates of the demo scenario."""),
    ("code", '''calibration = fit_log(FOLDER / "trace.parquet", base=truth)
agencies = build_topology(truth).agencies
rows = [{"agency": a, "true /h": agencies.rate[i] * 3600, "fitted /h": calibration.rates[a].estimate * 3600,
         "95 % half-width": 1.96 * calibration.rates[a].standard_error * 3600,
         "documents": calibration.rates[a].samples} for i, a in enumerate(agencies.ids)]
pd.DataFrame(rows).round(2)'''),
    ("code", '''laws = {f"status {code}": fit for code, fit in calibration.statuses.items()}
laws.update({f"service {kind}": fit for kind, fit in calibration.services.items()})
pd.DataFrame([{"duration": name, "law (AIC)": fit.family, "mean s": fit.mean.estimate,
               "95 % half-width": 1.96 * fit.mean.standard_error, "cv": fit.cv.estimate, "n": fit.mean.samples,
               "censored": fit.censored} for name, fit in laws.items()]).round(3)'''),
    ("md", """The hub's service time is lognormal with cv 1.5 in the demo scenario: in the Q-Q chart (fitted quantiles
against observed ones) the points lie on the diagonal."""),
    ("code", '''charts.plot_qq(calibration.services["hub"], title="hub service time").figure'''),
    ("md", """The fitted scenario is the base with the fitted values, each commented with its estimate, standard error and
sample size (what `axis-sim fit LOG -o fitted.toml --base SCENARIO` writes). The fitted lines, agencies left out:"""),
    ("code", '''text = calibration.to_toml()
print("\\n".join(line for line in text.splitlines() if "s.e." in line and "/h" not in line and "weight" not in line))'''),
    ("md", """## Compare: does the fitted scenario behave like the original?

Both scenarios run with the same seed and replications. The fitted figures (electronic share, documents per
working day, recipients per document, latency p95 and the busiest hour of the original's bottleneck) should fall
inside the original's 95 % intervals. Documents per working day and recipients per document carry, on top, the
error of fitting the rates and the fan-out from one replication's log (the 95 % half-width of a mean over the
log's documents), which no number of re-runs removes: the last column widens their intervals by it."""),
    ("code", '''fitted = calibration.scenario()
original_run = simulator.run(truth, seed=1, replications=3 * SCALE, jobs=2)
fitted_run = simulator.run(fitted, seed=1, replications=3 * SCALE, jobs=2)


def figure(result, key):
    summary = result.summary
    if key == "latency p95 (s)":
        return summary["latency_seconds"]["p95"], summary["latency_seconds"]["p95_ci"]
    return summary[key], summary[f"{key}_ci"]


# the fit's own error: documents per working day, 1.96 sqrt(N) / working days (Poisson counts); recipients per
# document, 1.96 times the standard deviation of the copies per document over the square root of the documents
per_document = copies.groupby("document").size()
widen = {"documents_per_working_day": 1.96 * calibration.documents**0.5 / original_run.summary["working_days"],
         "recipients_per_document": 1.96 * per_document.std() / len(per_document)**0.5}
rows = []
for key in ("electronic_share", "documents_per_working_day", "recipients_per_document", "latency p95 (s)"):
    (a, (low, high)), (b, _) = figure(original_run, key), figure(fitted_run, key)
    extra = widen.get(key, 0.0)
    rows.append({"figure": key, "original": a, "95 % low": low, "95 % high": high, "fitted": b,
                 "inside": low <= b <= high, "inside, with the fit's error": low - extra <= b <= high + extra})
# the busiest hour of the original's bottleneck, and the same station's busiest hour in the fitted run
peak = original_run.summary["peak_bottleneck"]
(low, high), b = peak["utilization_ci"], next(
    s["peak_utilization"] for s in fitted_run.summary["stations"] if s["id"] == peak["id"])
rows.append({"figure": f"busiest hour of {peak['id']}", "original": peak["utilization"], "95 % low": low,
             "95 % high": high, "fitted": b, "inside": low <= b <= high, "inside, with the fit's error": low <= b <= high})
pd.DataFrame(rows).round(4)'''),
    ("md", """## With a real log

```bash
axis-sim fit exchange-log.parquet -o fitted.toml --base scenarios/national-2020.toml
axis-sim run fitted.toml
```

The log may be CSV (by its `.csv` suffix) and may have `created_at` timestamps instead of seconds; columns the fit
does not need may be absent (without station columns, the service times stay those of the base)."""),
]


def build(name: str, cells: list[tuple[str, str]]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
                      for kind, text in cells]
    for cell in notebook.cells:
        cell.id = f"{name[:2]}-{notebook.cells.index(cell):02d}"
    nbformat.write(notebook, NOTEBOOKS / name)
    print(f"wrote notebooks/{name}: {len(cells)} cells")


if __name__ == "__main__":
    build("01-quickstart.ipynb", QUICKSTART)
    build("02-electronic-share.ipynb", SHARE)
    build("03-bottlenecks.ipynb", BOTTLENECKS)
    build("04-verification.ipynb", VERIFICATION)
    build("05-calibration.ipynb", CALIBRATION)
