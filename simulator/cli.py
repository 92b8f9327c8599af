"""CLI: the ``axis-sim`` command (run, sweep, capacity, check, verify, schema, report, compare, fit).

Exit status: 0 on success, 2 on invalid input (one line per problem naming the
file, the key path and the bad value), 1 on an internal error or a failed
verification.
"""
from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import signal
import sys
import tomllib
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Sequence

from . import __version__, interrupted_while_starting
from .errors import ExperimentError, ScenarioError, SimulatorError

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["main", "parse_overrides"]

_DAY = 86400.0


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * _DAY:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / _DAY:.1f} d"


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def _ci(summary: dict[str, Any], key: str, fmt: Any) -> str:
    interval = summary.get(f"{key}_ci")
    if not interval or interval[0] is None or not all(isinstance(v, float) and math.isfinite(v) for v in interval):
        return ""
    return f"  (95% CI {fmt(interval[0])} .. {fmt(interval[1])})"


def _table(rows: list[list[str]], header: list[str], right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _station_label(station: dict[str, Any]) -> str:
    """A station for display: its name, with its id when the id says more (``Sở Nội vụ [agency:snv-hn]``)."""
    name, ident = station.get("name"), station.get("id")
    return f"{name} [{ident}]" if ident and ident != name else str(name)


def format_summary(summary: dict[str, Any], top: int = 5) -> str:
    """The terminal summary of a run: documents, share, throughput, latency, busiest stations."""
    docs = summary["documents"]
    latency = summary["latency_seconds"]
    percent = lambda v: f"{v:.1%}"  # noqa: E731
    lines = [
        f"Scenario {summary['scenario']!r}: seed {summary['seed']}, {summary['replications']} replication(s), "
        f"{_duration(summary['horizon_seconds'])} simulated (warm-up {_duration(summary['warmup_seconds'])})",
        "",
        f"  documents generated      {_number(docs['generated'])}  ({_number(summary['documents_per_working_day'])} per working day, "
        f"{summary['recipients_per_document']:.2f} recipients each)",
        f"    electronic             {_number(docs['electronic'])}  ({_number(summary['electronic_per_working_day'])} per working day)",
        f"    paper                  {_number(docs['paper'])}",
        f"    delivered              {_number(docs['delivered'])}",
        f"    dropped                {_number(docs['dropped'])}",
        f"    in flight at the end   {_number(docs['in_flight'])}",
        f"  electronic share         {percent(summary['electronic_share'])}{_ci(summary, 'electronic_share', percent)}",
        f"  throughput               {_number(summary['throughput_per_day'])} copies delivered per day"
        f"{_ci(summary, 'throughput_per_day', _number)}",
        f"  latency (electronic)     mean {_duration(latency['mean'])}, p50 {_duration(latency['p50'])}, "
        f"p95 {_duration(latency['p95'])}, p99 {_duration(latency['p99'])}{_ci(latency, 'mean', _duration)}",
    ]
    statuses = summary.get("statuses", {})
    if statuses.get("generated"):
        lines.append(f"  status messages          {_number(statuses['generated'])} sent, "
                     f"mean transit {_duration(summary['status_latency_seconds']['mean'])}")
    stations = sorted((s for s in summary["stations"] if s["utilization"] is not None and math.isfinite(s["utilization"])),
                      key=lambda s: s["utilization"], reverse=True)[:top]
    if stations:
        rows = [[s["name"], s["kind"], str(s["servers"]), f"{s['utilization']:.1%}",
                 f"{s['predicted_utilization']:.1%}" if math.isfinite(s.get("predicted_utilization", math.nan)) else "-",
                 _number(s["mean_queue"]), _number(s["max_queue"]), _duration(s["mean_wait_seconds"]),
                 _number(s["throughput_per_day"])] for s in stations]
        lines += ["", f"Busiest {len(stations)} stations:",
                  _table(rows, ["station", "kind", "servers", "util", "analytic", "mean queue", "max queue", "mean wait", "per day"],
                         {2, 3, 4, 5, 6, 7, 8})]
    bottleneck = summary.get("bottleneck")
    if bottleneck:
        lines += ["", f"Bottleneck, mean over the measured time (nights and weekends included): {_station_label(bottleneck)}"
                      f" at {bottleneck['utilization']:.1%}{_ci(bottleneck, 'utilization', percent)}"]
    peak = summary.get("peak_bottleneck")
    if peak and peak.get("utilization") is not None and math.isfinite(peak["utilization"]):
        lines.append(f"Busiest {_duration(peak['interval_seconds'])} simulated: {_station_label(peak)} at "
                     f"{peak['utilization']:.1%}{_ci(peak, 'utilization', percent)}")
    analytic = summary.get("analytic")
    if analytic and analytic.get("headroom") is not None and math.isfinite(analytic["headroom"]):
        open_hours = analytic.get("bottleneck_open_hours_utilization", math.nan)
        load = f" at {open_hours:.1%}" if math.isfinite(open_hours) else ""
        lines.append(f"Analytic bottleneck in open hours (every hour without a calendar): {analytic['bottleneck']}{load}; "
                     f"all traffic can grow x{analytic['headroom']:.2f} before it saturates")
    disagreements = summary.get("theory_disagreements") or []
    if disagreements:
        by_id = {s["id"]: s for s in summary["stations"]}
        shown = ", ".join(_station_label(by_id[i]) if i in by_id else str(i) for i in disagreements[:5])
        lines.append(f"WARNING: simulation and exact theory disagree beyond the 95% interval at {len(disagreements)} "
                     f"station(s): {shown} (see the 'theory' column of stations.csv)")
    return "\n".join(lines)


def _availability_lines(prediction: Any, top: int = 10) -> list[str]:
    """Stations that go down (outages, failures): availability, and the load on their up time."""
    down = sorted((s for s in prediction.stations if s.availability < 1.0), key=lambda s: s.load_when_up, reverse=True)
    if not down:
        return []
    if any(s.standby_share > 0 for s in down):  # the time its standby serves counts (at the standby's capacity)
        shown = down[:top] + [s for s in down[top:] if s.standby_share > 0]  # a station with a standby is always shown
        rows = [[s.name, s.kind, f"{s.availability:.2%}", f"{s.service_availability:.2%}", f"{s.utilization:.1%}",
                 f"{s.load_when_up:.1%}"] for s in shown]
        lines = ["", f"Stations that go down ({len(down)}): availability (of the station, and of service with its "
                     "standby: the time down beyond each switchover) and utilisation / availability with the standby "
                     "(its time at its capacity)",
                 _table(rows, ["station", "kind", "availability", "with standby", "util", "util / availability"],
                        {2, 3, 4, 5})]
    else:
        rows = [[s.name, s.kind, f"{s.availability:.2%}", f"{s.utilization:.1%}", f"{s.load_when_up:.1%}"]
                for s in down[:top]]
        lines = ["", f"Stations that go down ({len(down)}): availability and utilisation / availability",
                 _table(rows, ["station", "kind", "availability", "util", "util / availability"], {2, 3, 4})]
    over = [s.name for s in down if s.load_when_up >= 1.0]
    if over:
        lines.append(f"WARNING: {len(over)} station(s) cannot keep up on average with the time they are down "
                     f"(utilisation / availability >= 100 %), even if queues could wait forever: {', '.join(over[:5])}")
    return lines


def _busiest_hour_lines(scenario: Any, prediction: Any) -> list[str]:
    """The busiest hour of the calendar's profile with the bottleneck's load in it, and the holidays of the horizon."""
    busiest = prediction.busiest_hour
    if scenario.calendar is None or busiest is None or prediction.bottleneck is None:
        return []
    if scenario.calendar.profile is None:
        lines = ["Busiest hour: every open hour alike (no calendar.profile), so the open-hours figure above"]
    else:
        lines = [f"Busiest hour of the profile: {busiest.label}, documents at x{busiest.factor:.2f} the mean "
                 f"open-hour rate: {prediction.busiest_hour_station.name} at {prediction.busiest_hour_utilization:.1%} "
                 "(status messages at their mean open-hours rate)"]
    if scenario.calendar.dated:
        from .clock import OpenClock

        closed = OpenClock(scenario.calendar, scenario.run.horizon).holidays
        lines.append(f"Holidays in the horizon (closed): {', '.join(d.isoformat() for d in closed) if closed else 'none'}")
    return lines


def _warmup_outage_lines(scenario: Any, topology: Any) -> list[str]:
    """Scheduled outages that begin inside the warm-up, which the statistics leave out."""
    warmup = scenario.run.warmup
    if not isinstance(warmup, float) or warmup <= 0:
        return []
    hidden = [f"{s.name} at {_duration(o.start)}" for s in topology.stations for o in s.outages if o.start < warmup]
    if not hidden:
        return []
    return [f"WARNING: {len(hidden)} outage(s) begin inside the warm-up ({_duration(warmup)}), which station figures, "
            f"latencies and drain times leave out: {', '.join(hidden[:5])}; move the outage or shorten run.warmup"]


def format_check(scenario: Any, topology: Any, prediction: Any, top: int = 15) -> str:
    """The ``check`` report: what was built and the analytic prediction."""
    from collections import Counter

    from .experiment import expand

    points = expand(scenario)  # validates every sweep point too

    kinds = Counter(topology.agencies.kinds)
    stations = Counter(s.kind for s in topology.stations)
    lines = [f"{scenario.source}: valid scenario {scenario.name!r}",
             f"  agencies: {len(topology.agencies)} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")",
             f"  modelled stations: {len(topology.stations)} (" + ", ".join(f"{k} {v}" for k, v in sorted(stations.items())) + ")"]
    if scenario.sweep.parameters:
        lines.append(f"  sweep: {len(points)} points ({scenario.sweep.mode} of "
                     + ", ".join(f"{p.path} x{len(p.values)}" for p in scenario.sweep.parameters) + "), all valid")
    ranked = sorted(prediction.stations, key=lambda s: s.utilization, reverse=True)[:top]
    ranked = sorted(prediction.stations, key=lambda s: s.peak_utilization, reverse=True)[:top]
    calendar = scenario.calendar is not None
    rows = [[s.name, s.kind, str(s.servers), _number(s.arrival_rate * 3600), f"{s.utilization:.1%}"]
            + ([f"{s.peak_utilization:.1%}"] if calendar else [])
            + ["yes" if s.stable and s.peak_utilization < 1 else "NO", _duration(s.mean_wait), _duration(s.mean_sojourn)]
            for s in ranked]
    header = ["station", "kind", "servers", "arrivals/h", "util"] + (["open-hours util"] if calendar else []) + [
        "stable", "mean wait", "mean sojourn"]
    if rows:
        lines += ["", "Analytic prediction, busiest stations"
                  + (" (averages over the horizon; open-hours load assumes all traffic falls in office hours):" if calendar else ":"),
                  _table(rows, header, {2, 3, 4, 5} | ({6} if calendar else set()) | {len(header) - 2, len(header) - 1})]
    if prediction.bottleneck is not None:
        lines += ["", f"Bottleneck: {prediction.bottleneck.name} at {prediction.bottleneck.peak_utilization:.1%}"
                      + (" in open hours" if calendar else ""),
                  f"Headroom: traffic can grow x{prediction.headroom:.2f} before it saturates "
                  f"(x{prediction.headroom_80:.2f} to 80%)",
                  f"Mean end-to-end latency of an electronic copy: {_duration(prediction.latency_mean)}"]
        lines += _busiest_hour_lines(scenario, prediction)
    lines += _availability_lines(prediction)
    lines += _warmup_outage_lines(scenario, topology)
    unstable = [s.name for s in prediction.stations if not s.stable and s.availability >= 1.0]
    if unstable:
        lines.append(f"WARNING: {len(unstable)} station(s) are overloaded on average (utilisation >= 100%): {', '.join(unstable[:5])}")
    peak = [s.name for s in prediction.stations if s.stable and s.peak_utilization >= 1]
    if peak and calendar:
        lines.append(f"WARNING: {len(peak)} station(s) are overloaded in office hours and clear their backlog at night: {', '.join(peak[:5])}")
    lines.append("Exact (open Jackson network)." if prediction.exact else
                 "Approximate: " + "; ".join(prediction.caveats) + ".")
    if scenario.network.reform == "merge-2025":
        from .analytic import reform_load_change

        changes = reform_load_change(scenario)
        rows = [[c.province, str(len(c.predecessors)), _number(c.arrivals_before * 3600), _number(c.arrivals_after * 3600),
                 f"{c.peak_utilization_before:.1%}", f"{c.peak_utilization_after:.1%}", f"x{c.factor:.2f}"]
                for c in changes[:top]]
        lines += ["", "Reform merge-2025: provincial platforms after the merger against the platforms they replace"
                      + (" (open-hours utilisation)" if calendar else "") + ":",
                  _table(rows, ["2025 province", "merged", "arrivals/h before", "arrivals/h after", "util before (max)",
                                "util after", "change"], {1, 2, 3, 4, 5, 6})]
        saturated = [c.province for c in changes if c.peak_utilization_after >= scenario.analysis.threshold]
        lines.append(f"Platforms at or above {scenario.analysis.threshold:.0%} after the merger: "
                     + (", ".join(saturated) if saturated else "none"))
    steps = []
    if scenario.connection.order:
        from .analytic import connect_headroom

        connection = scenario.connection
        if connection.connected is not None and connection.every is None:
            # a count is set (a sweep over how many connect): show every count, from none of the order to all
            steps = connect_headroom(scenario.replace(connection=connection.model_copy(update={"connected": 0})))
        else:
            steps = connect_headroom(scenario)
    if len(steps) > 1:
        threshold = scenario.analysis.threshold
        names = dict(zip(topology.agencies.ids, topology.agencies.names))
        rows = [[str(step.connected), names.get(step.agency, step.agency) if step.agency else "(none of the order)"
                 if scenario.connection.connected is not None else "(as given)", f"{step.electronic_share:.1%}",
                 step.bottleneck or "-", f"{step.peak_utilization:.1%}", str(len(step.over_threshold))] for step in steps]
        given = (f"; connection.connected = {scenario.connection.connected} is row k = {scenario.connection.connected}"
                 if scenario.connection.connected is not None else "")
        lines += ["", f"Connecting the agencies of connection.order one by one (saturated = utilisation >= {threshold:.0%}"
                      + (" in open hours" if calendar else "") + given + "):",
                  _table(rows, ["k", "agency connected", "e-share", "bottleneck", "its utilisation", "saturated"], {0, 2, 4, 5})]
        first = next((step for step in steps if step.over_threshold), None)
        lines.append(f"First saturation after connecting {first.connected} agencies: {', '.join(first.over_threshold[:3])}"
                     if first else f"No station reaches {threshold:.0%} after connecting all {len(steps) - 1} agencies.")
    return "\n".join(lines)


def _override_value(text: str) -> Any:
    """A ``--set`` value: the TOML value it spells (``3``, ``2.5``, ``"2/h"``, ``["mon"]``), else the text itself."""
    try:
        parsed = tomllib.loads(f"value = {text}")
    except (tomllib.TOMLDecodeError, RecursionError):  # nested too deeply to parse: validation refuses the text
        return text
    return parsed["value"] if list(parsed) == ["value"] else text


def parse_overrides(options: Sequence[str], source: str) -> dict[str, Any]:
    """Turn ``--set KEY=VALUE`` options into the mapping :func:`simulator.apply_parameters` takes.

    Parameters
    ----------
    options : sequence of str
        The options as given, e.g. ``["run.horizon=365d", "network.hub.servers=8"]``.
    source : str
        The scenario file, to name in error messages.

    Returns
    -------
    dict
        Dotted key path -> value, in the order given; a key given twice keeps
        its last value, placed where it was last given (later options win).

    Raises
    ------
    ScenarioError
        If an option has no ``=`` or no key before it.

    Examples
    --------
    >>> parse_overrides(["run.horizon=365d", "traffic.multiplier=2.5", 'kinds.commune.rate="2/h"'], "s.toml")
    {'run.horizon': '365d', 'traffic.multiplier': 2.5, 'kinds.commune.rate': '2/h'}
    >>> parse_overrides(["calendar.weekdays=['mon']", "network.hub.servers=4", "network.hub.servers=8"], "s.toml")
    {'calendar.weekdays': ['mon'], 'network.hub.servers': 8}
    """
    overrides: dict[str, Any] = {}
    for option in options:
        key, equals, text = option.partition("=")
        key = key.strip()
        if not equals:
            raise ScenarioError.single(source, "--set", option, "must be KEY=VALUE, e.g. --set run.horizon=30d")
        if not key:
            raise ScenarioError.single(source, "--set", option, "names no key before '=', e.g. --set run.horizon=30d")
        overrides.pop(key, None)
        overrides[key] = _override_value(text.strip())
    return overrides


def _load(args: argparse.Namespace) -> Scenario:
    """The scenario file of a command, with its ``--set`` overrides applied and validated."""
    from .scenario import apply_parameters, load_scenario

    overrides = parse_overrides(args.overrides, args.scenario)
    scenario = load_scenario(Path(args.scenario))
    return apply_parameters(scenario, overrides, where="--set") if overrides else scenario


def _scenario_options(command: argparse.ArgumentParser) -> None:
    """The scenario file and its ``--set`` overrides, which every command reading a scenario takes."""
    command.add_argument("scenario", help="scenario file (TOML)")
    command.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="override a scenario key, validated as in the file: --set run.horizon=365d, "
                              "--set network.hub.servers=8 (repeatable, applied in order; VALUE is read as a TOML "
                              "value when it is one, otherwise as text)")


def _limit_options(command: argparse.ArgumentParser) -> None:
    """``--max-events``, ``--max-memory`` and ``--allow-unstable``: what a command may spend (checked before it runs)."""
    from .limits import DEFAULT_MAX_EVENTS, DEFAULT_MAX_MEMORY  # not workload: --help must not load the analytic model

    command.add_argument("--max-events", type=float, default=DEFAULT_MAX_EVENTS, metavar="N",
                         help=f"refuse to start when the estimated events of all runs pass N (default {DEFAULT_MAX_EVENTS:.0e})")
    command.add_argument("--max-memory", default=f"{DEFAULT_MAX_MEMORY / 1e9:g}GB", metavar="SIZE",
                         help=f"refuse to start when the estimated peak memory passes SIZE (default {DEFAULT_MAX_MEMORY / 1e9:g}GB)")
    command.add_argument("--allow-unstable", action="store_true",
                         help="simulate even when a station is analytically overloaded (utilisation >= 1): its queue, "
                              "and the memory it takes, grow until the horizon")


def _limits(args: argparse.Namespace) -> Any:
    """The :class:`~simulator.limits.Limits` of the command line (exit 2 on a malformed value)."""
    from .limits import Limits, parse_memory

    if not args.max_events > 0:  # NaN included
        raise ScenarioError.single(args.scenario, "--max-events", args.max_events, "must be a positive number")
    try:
        memory = parse_memory(args.max_memory)
    except ValueError as err:
        raise ScenarioError.single(args.scenario, "--max-memory", args.max_memory, str(err)) from None
    return Limits(max_events=args.max_events, max_memory=memory, allow_unstable=args.allow_unstable)


def _run_options(command: argparse.ArgumentParser, output: str, replications: str) -> None:
    """The options ``run`` and ``sweep`` share."""
    _scenario_options(command)
    _limit_options(command)
    command.add_argument("-o", "--output", help=output)
    command.add_argument("--seed", type=int, help="root seed (default: run.seed of the scenario)")
    command.add_argument("--replications", type=int, help=f"{replications} (default: run.replications)")
    command.add_argument("--jobs", type=int, default=0, help="worker processes (default 0 = one per CPU)")
    command.add_argument("--scheduler", help="address of a Dask scheduler to run on, e.g. tcp://10.0.0.5:8786")
    command.add_argument("--quiet", action="store_true", help="print nothing but errors")
    command.add_argument("--excel", action="store_true",
                         help="write the CSV files with a UTF-8 byte-order mark, so Excel shows Vietnamese names intact")


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", help="language of the texts of the PNG charts: vi or en "
                        "(default: the scenario's language key, else en)")


def _chart_language(args: argparse.Namespace, scenario: Any) -> str:
    from .catalogue import LANGUAGES, scenario_language

    if args.lang is not None and args.lang not in LANGUAGES:
        raise ExperimentError(f"--lang {args.lang}: unknown language; choose one of {', '.join(LANGUAGES)}")
    return args.lang or scenario_language(scenario)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axis-sim", description="Capacity-planning simulator for the national document interconnection axis.")
    parser.add_argument("--version", action="version", version=f"axis-sim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of internal errors")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulate a scenario and write a result folder")
    _run_options(run, "result folder (default: results/<scenario name>/)", "independent replications")
    _lang_option(run)
    run.add_argument("--trace", nargs="?", const="", metavar="PATH",
                     help="write the exchange log of replication 0 (one row per document copy and status message) "
                     "to PATH (default: trace.parquet in the result folder)")
    run.add_argument("--trace-format", choices=("parquet", "csv"),
                     help="format of the trace (default: csv if PATH ends in .csv, else parquet)")
    sweep = commands.add_parser("sweep", help="run every point of the scenario's [sweep] section, resumably")
    _run_options(sweep, "sweep folder (default: results/<scenario name>-sweep/)", "replications per point")
    _lang_option(sweep)
    capacity = commands.add_parser("capacity", help="find the largest (or smallest) parameter value that meets a target")
    _capacity_options(capacity)
    check = commands.add_parser("check", help="validate a scenario and print the analytic prediction and the work estimate")
    _scenario_options(check)
    _limit_options(check)
    commands.add_parser("schema", help="print the JSON Schema of the scenario format")
    fit = commands.add_parser("fit", help="fit a scenario to an exchange log (the trace of run --trace, or a real log)")
    fit.add_argument("log", metavar="LOG", help="the log: Parquet, or CSV (by its .csv suffix); columns in docs/background/traces.md")
    fit.add_argument("-o", "--output", default="fitted.toml",
                     help="the scenario to write (default fitted.toml); Q-Q charts go beside it")
    fit.add_argument("--base", metavar="SCENARIO",
                     help="the scenario whose structure, calendar and other settings the fitted values go into")
    fit.add_argument("--quiet", action="store_true", help="print nothing but errors")
    verify = commands.add_parser("verify", help="run the built-in reference cases against exact queueing results")
    verify.add_argument("--seed", type=int, default=2026, help="root seed (default 2026)")
    verify.add_argument("--replications", type=int, default=8, help="replications per case (default 8, at least 2)")
    verify.add_argument("--jobs", type=int, default=0, help="worker processes (default 0 = one per CPU)")
    verify.add_argument("--scale", type=float, default=1.0, help="multiply every horizon (default 1: about 30 s on 2 cores)")
    report = commands.add_parser("report", help="write a planner's report of a result folder: one self-contained HTML file")
    report.add_argument("folder", metavar="RESULT_DIR", help="a result folder written by axis-sim run or axis-sim sweep")
    report.add_argument("-o", "--output", help="the HTML file to write (default: RESULT_DIR/report.html)")
    report.add_argument("--lang", help="language of the report: vi or en (default: the scenario's language key, else en)")
    compare = commands.add_parser("compare", help="compare two or more run folders: a terminal table and one self-contained HTML file")
    compare.add_argument("folders", metavar="RESULT_DIR", nargs="+", help="run folders written by axis-sim run; the first is the reference")
    compare.add_argument("-o", "--output", default="compare.html", help="the HTML file to write (default: compare.html)")
    compare.add_argument("--lang", help="language of the report: vi or en (default: the first scenario's language key, else en)")
    return parser


#: Simulated evaluations of a capacity search at most, by default (simulator.capacity.DEFAULT_MAX_EVALUATIONS,
#: repeated here so that building the parser does not import the simulation).
_MAX_EVALUATIONS = 14


def _capacity_options(capacity: argparse.ArgumentParser) -> None:
    """The options of ``capacity``."""
    _scenario_options(capacity)
    capacity.add_argument("--param", default="traffic.multiplier",
                          help="numeric scenario key to search over, e.g. network.hub.servers (default traffic.multiplier)")
    capacity.add_argument("--target", required=True,
                          help='e.g. "latency_p95 <= 4h" (the answer is printed in the unit of the bound), '
                               '"utilization <= 0.8" (of the busiest station unless --station), "mean_queue <= 50"')
    capacity.add_argument("--station", metavar="ID",
                          help="read a utilization, peak_utilization or mean_queue target at this station (an id of "
                               "stations.csv: hub, platform:<agency id>, agency:<agency id>); default: the busiest "
                               "station of each replication, whichever it is")
    capacity.add_argument("--smallest", action="store_true", help="find the smallest value that meets the target")
    capacity.add_argument("--start", type=float,
                          help="first value to try, doubling or halving from it (default: around the analytic prediction)")
    capacity.add_argument("--replications", type=int, default=3, help="replications per evaluation (default 3)")
    capacity.add_argument("--seed", type=int, help="root seed (default: run.seed of the scenario)")
    capacity.add_argument("--jobs", type=int, default=0, help="worker processes (default 0 = one per CPU)")
    capacity.add_argument("--tolerance", type=float, default=0.02, help="relative precision of the answer (default 0.02)")
    capacity.add_argument("--max-evaluations", type=int, default=_MAX_EVALUATIONS, metavar="N",
                          help=f"simulated evaluations at most (default {_MAX_EVALUATIONS})")
    capacity.add_argument("-o", "--output", help="result folder for capacity.json (default: results/<scenario name>-capacity/)")
    capacity.add_argument("--quiet", action="store_true", help="print only the answer")
    _limit_options(capacity)


def _check_options(args: argparse.Namespace) -> None:
    """Range checks of the common options: one clear message, exit 2."""
    if getattr(args, "seed", None) is not None and args.seed < 0:
        raise ScenarioError.single(args.scenario, "--seed", args.seed, "must be a non-negative integer")
    if getattr(args, "replications", None) is not None and args.replications < 1:
        raise ScenarioError.single(args.scenario, "--replications", args.replications, "must be a positive integer")
    if getattr(args, "jobs", 0) < 0:
        raise ScenarioError.single(args.scenario, "--jobs", args.jobs, "must be 0 (one per CPU) or a positive integer")


class _Bar:
    """A tqdm progress bar on stderr, silent with --quiet or when stderr is not a terminal."""

    def __init__(self, quiet: bool, unit: str):
        from tqdm import tqdm

        self._bar = None
        self._tqdm = tqdm
        self._quiet = quiet or not sys.stderr.isatty()
        self._unit = unit

    def __call__(self, done: int, total: int) -> None:
        if self._quiet:
            return
        if self._bar is None:
            self._bar = self._tqdm(total=total, unit=self._unit, file=sys.stderr, dynamic_ncols=True, leave=False)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _output(args: argparse.Namespace, name: str, kind: Literal["run", "sweep", "capacity"]) -> Path:
    """The result folder of ``run``, ``sweep`` or ``capacity``: ``-o``, else ``results/<name>[-sweep|-capacity]``.

    The default is made a safe folder name (:func:`~simulator.folders.safe_name`).

    It is checked before anything runs (a file, or a non-empty folder that is
    not an earlier result, is refused) and the temporary folders a killed
    run left beside it are removed.
    """
    from .folders import check_output, clean_stale, safe_name

    if args.output:
        output, option = Path(args.output), "-o"
    else:
        suffix = "" if kind == "run" else f"-{kind}"
        output, option = Path("results") / safe_name(f"{name}{suffix}"), "result folder"
    check_output(output, kind, option=option)
    clean_stale(output.parent, output.name)
    return output


def _run(args: argparse.Namespace) -> int:
    from .experiment import run

    scenario = _load(args)
    _check_options(args)
    lang = _chart_language(args, scenario)
    limits = _limits(args)
    output = _output(args, scenario.name, "run")
    single = (args.replications or scenario.run.replications) == 1 and scenario.run.precision is None
    trace, in_folder = _trace_options(args, output)
    bar = _Bar(args.quiet, "simulated h" if single else "replication")
    try:
        result = run(scenario, seed=args.seed, replications=args.replications, jobs=args.jobs,
                     scheduler=args.scheduler, progress=bar, limits=limits, trace=trace)
    except BaseException:
        if in_folder and trace is not None:
            trace.path.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    # What the run leaves (the network, its routes, the result) lives while the results are written: the
    # collections while the writers import their libraries need not walk it (0.3 s on a week of the full 2025
    # structure). Unfrozen after, so that a caller of main() in the same process keeps a collector that sees all.
    gc.freeze()
    try:
        folder = _save_run(result, output, args, lang, trace, in_folder)
    finally:
        gc.unfreeze()
    if not args.quiet:
        print(format_summary(result.summary))
        listed = "summary.json, stations.csv, timeseries.csv, replications.csv, tables.xlsx, scenario.toml, charts/"
        print(f"\nResults written to {folder}/ ({listed}{', ' + in_folder if in_folder else ''})")
        if trace is not None and not in_folder:
            print(f"Trace written to {trace.path}")
    return 0


def _save_run(result: Any, output: Path, args: argparse.Namespace, lang: str, trace: Any, in_folder: str) -> Path:
    """Write the result folder of ``run``: the tables, the charts and the trace when it goes into the folder."""
    from .charts import save_charts
    from .topology import build_topology

    topology = build_topology(result.scenario)

    def extra(temporary: Path) -> None:
        save_charts(result, temporary, topology, lang)
        if in_folder and trace is not None:
            os.replace(trace.path, temporary / in_folder)

    try:
        return Path(result.save(output, extra=extra, excel=args.excel))
    except OSError as err:
        from .folders import describe

        raise ExperimentError(f"{output}: cannot write the result folder: {describe(err)}; nothing was written "
                              "(free the space or give another -o)") from None


def _trace_options(args: argparse.Namespace, output: Path) -> tuple[Any, str]:
    """The trace to write (or None) and its file name in the result folder ("" when it goes to a PATH of its own).

    A trace for the result folder is written beside it first and moved in with the rest.
    """
    if args.trace is None:
        if args.trace_format is not None:
            raise SimulatorError("--trace-format: needs --trace")
        return None, ""
    from .engine.tracelog import TraceOptions

    fmt: Literal["parquet", "csv"] = args.trace_format or ("csv" if args.trace.lower().endswith(".csv") else "parquet")
    if args.trace:
        path = Path(args.trace)
        if path.is_dir():
            raise SimulatorError(f"--trace {args.trace}: is a folder; give a file name such as {path / 'trace.parquet'}")
        return TraceOptions(path, fmt), ""
    name = f"trace.{fmt}"
    return TraceOptions(output.parent / f".{output.name}.{name}", fmt), name


def _sweep(args: argparse.Namespace) -> int:
    from .charts import save_point_charts, save_sweep_charts
    from .experiment import sweep

    scenario = _load(args)
    _check_options(args)
    lang = _chart_language(args, scenario)
    limits = _limits(args)
    output = _output(args, scenario.name, "sweep")
    bar = _Bar(args.quiet, "run")
    try:
        result = sweep(scenario, output, seed=args.seed, replications=args.replications, jobs=args.jobs,
                       scheduler=args.scheduler, progress=bar, charts=functools.partial(save_sweep_charts, lang=lang),
                       point_charts=functools.partial(save_point_charts, lang=lang), limits=limits, excel=args.excel)
    finally:
        bar.close()
    if not args.quiet:
        table = result.table
        parameters = list(result.points[0].parameters)
        rows = [[row["point"], *(str(row[p]) for p in parameters), f"{row['electronic_share']:.1%}",
                 _number(row["throughput_per_day"]), _duration(row["latency_p95_seconds"]),
                 f"{row['bottleneck_utilization']:.1%}", f"{row['peak_utilization']:.1%}", str(row["peak_bottleneck"])]
                for _, row in table.iterrows()]
        print(_table(rows, ["point", *parameters, "e-share", "copies/day", "latency p95", "mean util", "peak util",
                            "busiest station"], set(range(1, len(parameters) + 6))))
        print(_first_saturation(table, parameters, scenario.analysis.threshold))
        print(f"\n{len(result.points)} points x {result.results[0].summary['replications']} replications: "
              f"{result.ran} run now, {result.reused} reused from {result.folder / 'runs.sqlite'}")
        print(f"Results written to {result.folder}/ (points.csv, tables.xlsx, manifest.json, points/, charts/)")
    return 0


def _first_saturation(table: Any, parameters: list[str], threshold: float) -> str:
    """Where the busiest interval first reaches the threshold, along the last swept parameter."""
    hot = table["peak_utilization"] >= threshold
    if not hot.any():
        return f"\nNo point's busiest interval reaches {threshold:.0%} utilisation."
    lines = [f"\nFirst point whose busiest interval reaches {threshold:.0%} utilisation"
             + (f", along {parameters[-1]}:" if parameters else ":")]
    groups = table.groupby(parameters[:-1], sort=False) if len(parameters) > 1 else [((), table)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{p} = {v}" for p, v in zip(parameters[:-1], key))
        first = group[group["peak_utilization"] >= threshold]
        where = (f"{first.iloc[0]['point']} ({parameters[-1]} = {first.iloc[0][parameters[-1]]}): "
                 f"{first.iloc[0]['peak_bottleneck']} at {first.iloc[0]['peak_utilization']:.0%}"
                 if len(first) and parameters else "none")
        lines.append(f"  {label + ': ' if label else ''}{where}")
    return "\n".join(lines)


def _capacity_target(args: argparse.Namespace, scenario: Scenario) -> Any:
    """The ``--target`` (read at ``--station``) of ``capacity``, every option checked: exit 2 on a bad one."""
    from .capacity import check_station, parse_target

    try:
        target = parse_target(args.target)
    except ValueError as err:
        raise ScenarioError.single(args.scenario, "--target", args.target, str(err)) from None
    if not 0 < args.tolerance < 1:
        raise ScenarioError.single(args.scenario, "--tolerance", args.tolerance, "must be between 0 and 1")
    if args.max_evaluations < 1:
        raise ScenarioError.single(args.scenario, "--max-evaluations", args.max_evaluations, "must be a positive integer")
    if args.start is not None and not 0 < args.start < math.inf:
        raise ScenarioError.single(args.scenario, "--start", args.start, "must be a positive number (the search doubles "
                                   "or halves from it)")
    if args.station is not None:
        try:
            target = target.at(args.station)
        except ValueError as err:
            raise ScenarioError.single(args.scenario, "--station", args.station, str(err)) from None
        check_station(scenario, args.station)
    return target


def _capacity_evaluation(args: argparse.Namespace, target: Any, evaluation: Any) -> str:
    """One line per evaluation: the value, the figure and its interval in the target's unit, the verdict."""
    if not evaluation.simulated:
        return (f"  {args.param} = {evaluation.value:.4g}: not simulated, a station is overloaded on average "
                f"(analytically unstable) -> {evaluation.verdict}")
    if evaluation.stage == "explore":
        count = f"{evaluation.replications} replication" + ("s" if evaluation.replications != 1 else "")
        return (f"  {args.param} = {evaluation.value:.4g}: {target.metric} {target.format(evaluation.mean)} "
                f"(exploring: {count}) -> {evaluation.verdict}")
    return (f"  {args.param} = {evaluation.value:.4g}: {target.metric} {target.format(evaluation.mean)} "
            f"(95% CI {target.format(evaluation.low)} .. {target.format(evaluation.high)}) -> {evaluation.verdict}")


def _capacity_advice(result: Any) -> str:
    """What to do when the search stopped short, naming options that exist."""
    if result.reason == "budget":
        return f"; raise --max-evaluations (now {result.max_evaluations}) to narrow it further"
    if result.reason in ("none_met", "all_met") and result.exhausted:
        higher = (result.reason == "all_met") == (result.direction == "largest")  # where the answer lies
        return (f"; raise --max-evaluations (now {result.max_evaluations}) to search further, or give a "
                f"{'higher' if higher else 'lower'} --start")
    return ""


def _capacity_answer(result: Any) -> str:
    """The answer line: the value with its unit, the figure there in the target's unit, the bracket it lies in."""
    from .capacity import STATION_METRICS

    which = "smallest" if result.direction == "smallest" else "largest"
    target = result.target
    busiest = " (busiest station)" if target.metric in STATION_METRICS and not target.station else ""
    if result.best is None:
        return f"No value of {result.path} met {target}{busiest} ({result.note}{_capacity_advice(result)})."
    answer = result.answer
    line = (f"{which} {result.path} meeting {target}{busiest}: {result.format_value(result.best)} "
            f"({target.metric} {target.format(answer.mean)}, 95% CI {target.format(answer.low)} .. {target.format(answer.high)})")
    if result.limit is not None:
        limiting = result.limiting
        explored = (f" with {limiting.replications} replication" + ("s" if limiting.replications != 1 else "")
                    if limiting is not None and limiting.stage == "explore" else "")
        line += (f"; the answer lies between {result.format_value(result.best)} and "
                 f"{result.format_value(result.limit)}, which did not meet it{explored}")
    if result.note:
        line += f" ({result.note}{_capacity_advice(result)})"
    return line


def _capacity(args: argparse.Namespace) -> int:
    from .capacity import initial_bracket, search

    scenario = _load(args)
    _check_options(args)
    target = _capacity_target(args, scenario)
    limits = _limits(args)
    output = _output(args, scenario.name, "capacity")
    direction: Literal["largest", "smallest"] = "smallest" if args.smallest else "largest"
    bracket = initial_bracket(scenario, args.param, target, direction=direction, start=args.start)
    if not args.quiet:
        span = f"{bracket.low:.4g} and {bracket.high:.4g}" if bracket.high != bracket.low else f"{bracket.low:.4g}"
        print(f"Searching {args.param} from {span}: {bracket.basis}", flush=True)
    result = search(scenario, args.param, target, direction=direction, start=args.start,
                    replications=args.replications, seed=args.seed, jobs=args.jobs, tolerance=args.tolerance,
                    max_evaluations=args.max_evaluations, limits=limits, bracket=bracket,
                    progress=None if args.quiet else lambda e: print(_capacity_evaluation(args, target, e), flush=True))
    print(_capacity_answer(result), flush=True)
    try:
        folder = result.save(output)
    except OSError as err:
        from .folders import describe

        raise ExperimentError(f"{output}: cannot write the result folder: {describe(err)}; nothing was written "
                              "(free the space or give another -o)") from None
    if not args.quiet:
        print(f"Results written to {folder}/ (capacity.json, scenario.toml)")
    return 0


def format_work(work: Any, limits: Any) -> str:
    """The ``check`` lines of the work estimate (:class:`~simulator.workload.WorkEstimate`)."""
    from .workload import EVENTS_PER_SECOND, format_bytes, format_wall

    lines = ["", f"Work estimate (from the analytic flows; {work.replications} replication(s), one process):",
             f"  documents {work.documents:.3g}, station visits {work.station_visits:.3g}, status messages "
             f"{work.statuses:.3g}, samples {work.samples:.3g}, outage starts and ends {work.outage_toggles:.3g}",
             f"  events {work.events:.3g} per replication, {work.total_events:.3g} in all "
             f"(limit --max-events {limits.max_events:.3g}): about {format_wall(work.wall_seconds)} at "
             f"{EVENTS_PER_SECOND:.3g} events per second",
             f"  peak memory about {format_bytes(work.memory_bytes)} (limit --max-memory {format_bytes(limits.max_memory)}; "
             f"{work.pending_jobs:.3g} jobs in the network at once)"]
    if work.unstable:
        lines.append(f"  unstable: {len(work.unstable)} station(s) at utilisation >= 100% on average; with "
                     f"--allow-unstable their queues grow by {work.backlog_jobs / work.horizon * 3600:.3g} jobs per "
                     f"simulated hour, memory with them")
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    from .analytic import predict
    from .topology import build_topology
    from .workload import enforce, estimate

    scenario = _load(args)
    limits = _limits(args)
    topology = build_topology(scenario)
    prediction = predict(scenario, topology)
    work = estimate(scenario, topology, prediction)
    print(format_check(scenario, topology, prediction))
    print(format_work(work, limits))
    enforce(scenario, topology, work, limits)  # what run would refuse, check refuses (exit 2)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .verification import LEVEL, verify

    if args.replications < 2:
        raise ExperimentError(f"--replications = {args.replications}: verification needs at least 2")
    if not args.scale > 0:
        raise ExperimentError(f"--scale = {args.scale}: must be positive")
    if args.jobs < 0:
        raise ExperimentError(f"--jobs = {args.jobs}: must be 0 (one per CPU) or a positive integer")
    show = sys.stderr.isatty()
    checks = verify(seed=args.seed, replications=args.replications, jobs=args.jobs, scale=args.scale,
                    progress=(lambda name: print(f"  running {name} ...", file=sys.stderr, flush=True)) if show else None)
    rows = [[c.case, c.figure, f"{c.exact:.5g}", f"{c.simulated:.5g}", f"{c.interval.low:.5g} .. {c.interval.high:.5g}",
             f"{(c.simulated / c.exact - 1):+.2%}" if c.exact else "-", "PASS" if c.passed else "FAIL"] for c in checks]
    print(_table(rows, ["case", "figure", "exact", "simulated", f"{LEVEL:.0%} CI", "error", "result"], {2, 3, 5}))
    failed = [c for c in checks if not c.passed]
    print(f"\n{len(checks) - len(failed)} passed, {len(failed)} failed "
          f"({args.replications} replications per case, seed {args.seed})")
    return 0 if not failed else 1


def _report(args: argparse.Namespace) -> int:
    from .report import LANGUAGES, build_run_report, default_language, load_run_folder, render_run_report, write_report
    from .sweepreport import (build_sweep_report, default_sweep_language, is_sweep_folder, load_sweep_folder,
                              render_sweep_report)

    if args.lang is not None and args.lang not in LANGUAGES:
        raise ExperimentError(f"--lang {args.lang}: unknown language; choose one of {', '.join(LANGUAGES)}")
    if is_sweep_folder(args.folder):
        sweep = load_sweep_folder(args.folder)
        html = render_sweep_report(build_sweep_report(sweep, args.lang or default_sweep_language(sweep)))
        path = sweep.path
    else:
        folder = load_run_folder(args.folder)
        html = render_run_report(build_run_report(folder, args.lang or default_language(folder)))
        path = folder.path
    written = write_report(html, Path(args.output) if args.output else path / "report.html")
    print(f"Report written to {written}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import build_comparison, comparison_table, load_comparison, render_comparison
    from .report import LANGUAGES, default_language, write_report

    if args.lang is not None and args.lang not in LANGUAGES:
        raise ExperimentError(f"--lang {args.lang}: unknown language; choose one of {', '.join(LANGUAGES)}")
    folders = load_comparison(args.folders)
    comparison = build_comparison(folders, args.lang or default_language(folders[0]))
    written = write_report(render_comparison(comparison), Path(args.output))
    print(comparison_table(comparison))
    print(f"\nComparison written to {written}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from .calibration import fit_log
    from .charts import save_qq_charts
    from .scenario import load_scenario

    base = load_scenario(args.base) if args.base else None
    output = Path(args.output)
    if output.is_dir():
        raise ExperimentError(f"-o {args.output}: is a folder; give the scenario file to write, e.g. {output / 'fitted.toml'}")
    calibration = fit_log(args.log, base)
    text = calibration.to_toml()
    calibration.scenario()  # the fitted file loads: checked before anything is written
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.fitting"
    staging.mkdir(exist_ok=True)
    try:
        charts = save_qq_charts(calibration.services, staging, f"{output.stem}-")
        (staging / output.name).write_text(text, encoding="utf-8")
        for path in [*charts, staging / output.name]:
            os.replace(path, output.parent / path.name)
    finally:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    if not args.quiet:
        print(format_fit(calibration))
        shown = ", ".join(p.name for p in charts)
        print(f"\nFitted scenario written to {output}" + (f"; Q-Q charts beside it ({shown})" if charts else ""))
    return 0


def format_fit(calibration: Any, top: int = 10) -> str:
    """The fit report: observed vs fitted by hour and by agency, and each fitted distribution."""
    cal = calibration
    lines = [f"Log {cal.source}: {cal.documents} documents over {cal.horizon_seconds / 86400:g} days "
             f"({cal.open_seconds / 3600:g} open hours)", "", "Documents by hour of the day (all days):"]
    rows = [[hour, str(observed), f"{expected:.1f}", f"{observed / expected:.3f}" if expected else "-",
             f"{cal.hours[hour].estimate:.3f} +- {1.96 * cal.hours[hour].standard_error:.3f}"]
            for hour, (observed, expected) in cal.by_hour.items()]
    lines.append(_table(rows, ["hour", "observed", "fitted", "obs/fit", "factor (95 %)"], {1, 2, 3}))
    if cal.profile_check is not None:
        check = cal.profile_check
        lines.append(f"Hour of the week ({check.cells} weekday x hour cells), observed against hour x weekday factors: "
                     f"chi-square {check.chi_square:.1f} on {check.dof} d.f., p = {check.p_value:.3g}"
                     + (" (the hours' shape differs between weekdays: a profile cannot express that)"
                        if check.p_value < 0.01 else ""))
    busiest = sorted(cal.rates.items(), key=lambda kv: -kv[1].estimate)[:top]
    rows = [[agency, str(rate.samples), f"{rate.estimate * cal.open_seconds:.1f}",
             f"{rate.estimate * 3600:.3f} +- {1.96 * rate.standard_error * 3600:.3f}",
             f"{cal.weights[agency].estimate:.3f}"] for agency, rate in busiest]
    lines += ["", f"Busiest {len(rows)} of {len(cal.rates)} agencies:",
              _table(rows, ["agency", "observed", "fitted", "rate /h (95 %)", "weight"], {1, 2, 3, 4})]
    rows = [[f"status {code}", fit.family, f"{fit.mean.estimate:.4g} +- {1.96 * fit.mean.standard_error:.2g}",
             f"{fit.cv.estimate:.3g}", str(fit.mean.samples), str(fit.censored)] for code, fit in cal.statuses.items()]
    rows += [[f"service {kind}", fit.family, f"{fit.mean.estimate:.4g} +- {1.96 * fit.mean.standard_error:.2g}",
              f"{fit.cv.estimate:.3g}", str(fit.mean.samples), "0"] for kind, fit in cal.services.items()]
    if rows:
        lines += ["", "Durations (best law by AIC):",
                  _table(rows, ["what", "law", "mean s (95 %)", "cv", "n", "censored"], {2, 3, 4, 5})]
    return "\n".join(lines)


def _schema(args: argparse.Namespace) -> int:
    from .scenario import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def _show_warnings_plainly() -> None:
    """Print the simulator's own warnings (an unstable network run anyway) as one ``axis-sim: warning:`` line each."""
    import warnings

    previous = warnings.showwarning
    if getattr(previous, "axis_sim", False):
        return

    def show(message: Any, category: type, *rest: Any, **options: Any) -> None:
        from .workload import UnstableWarning  # here, not at start-up: schema and --help need no analytic model

        if issubclass(category, UnstableWarning):
            print(f"axis-sim: warning: {message}", file=sys.stderr)
        else:
            previous(message, category, *rest, **options)

    show.axis_sim = True  # type: ignore[attr-defined]
    warnings.showwarning = show


#: Exit status after Ctrl-C (128 + SIGINT, as a shell reports a process it interrupted).
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``axis-sim``; returns the exit status.

    0 success, 2 invalid input (one line per problem), 1 an internal error or
    a failed verification, 130 interrupted (Ctrl-C at any point, the imports
    included: one line, no traceback; temporary folders are removed).
    """
    debug = False
    try:
        if signal.getsignal(signal.SIGINT) is interrupted_while_starting:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        args = _parser().parse_args(argv)
        debug = args.debug
        _show_warnings_plainly()
        commands = {"run": _run, "sweep": _sweep, "capacity": _capacity, "check": _check, "schema": _schema,
                    "verify": _verify, "report": _report, "compare": _compare, "fit": _fit}
        return commands[args.command](args)
    except SimulatorError as err:
        for line in str(err).splitlines():
            print(f"axis-sim: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("axis-sim: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as err:  # noqa: BLE001 - the last line of defence
        if debug:
            traceback.print_exc()
        print(f"axis-sim: internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback; please report it)",
              file=sys.stderr)
        return 1


def command() -> NoReturn:
    """The ``axis-sim`` console script: :func:`main`, then exit with its status.

    Once the work is done, Ctrl-C is ignored: Python restores the default
    SIGINT action while it shuts down, and a Ctrl-C in that moment would
    kill a process whose results are already complete, with no message.
    """
    status = INTERRUPTED
    try:
        status = main()
    except KeyboardInterrupt:  # between main's return and the line below
        print("axis-sim: interrupted", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    command()
