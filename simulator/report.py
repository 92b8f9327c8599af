"""Report: one self-contained HTML page for planners, read from a result folder, in Vietnamese or English.

:func:`load_run_folder` reads a run folder (``summary.json``,
``stations.csv``, ``timeseries.csv``, ``scenario.toml``);
:func:`build_run_report` turns it into a :class:`RunReport` (the question,
the answer in a few sentences, headline figures with their 95 % intervals
and analytic values, the station table, charts as inline SVG) with every
text from the message catalogue of one language (``simulator/messages/``);
:func:`render_run_report` renders it with the Jinja2 templates of
``simulator/templates/`` (autoescaping on), and :func:`write_report` puts the
page in place atomically. The page makes no network request: styles,
scripts and charts are inside it.

Numbers are written the way each language writes them: English ``12,345.6``,
Vietnamese ``12 345,6`` (a narrow no-break space, U+202F, groups thousands;
``,`` is the decimal mark).
"""
from __future__ import annotations

import csv
import functools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from . import __version__
from .catalogue import (LANGUAGES, MISSING, THIN_SPACE, Language, Locale, format_number, format_percent, is_finite,
                        messages, scenario_language)
from .errors import ExperimentError
from .folders import write_text
from .results import bounded_interval

__all__ = ["Language", "LANGUAGES", "Locale", "THIN_SPACE", "messages", "format_number", "format_percent", "RunFolder",
           "load_run_folder", "Figure", "Cell", "StationRow", "Chart", "ScenarioFacts", "RunReport",
           "build_run_report", "render_run_report", "write_report", "default_language", "headline_figures", "lookup",
           "summary_interval", "template_environment", "TheoryNotes", "theory_notes", "caveat_text", "CAVEATS"]

@dataclass(frozen=True)
class RunFolder:
    """A run result folder as read from disk.

    Attributes
    ----------
    path : Path
    summary : dict
        ``summary.json`` as written by :meth:`simulator.results.RunResult.save`.
    scenario : dict
        ``scenario.toml`` (the resolved scenario), as TOML data; empty if missing.
    timeseries : dict of str to list of float
        ``timeseries.csv`` by column (empty when missing).
    """

    path: Path
    summary: dict[str, Any]
    scenario: dict[str, Any]
    timeseries: dict[str, list[float]]


def _not_a_result(path: Path, reason: str) -> ExperimentError:
    return ExperimentError(f"{path}: {reason}; give a folder written by axis-sim run (it holds summary.json)")


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ExperimentError(f"{path}: no such folder")
    if not path.is_dir():
        raise _not_a_result(path, "is a file, not a result folder")
    file = path / "summary.json"
    if not file.is_file():
        raise _not_a_result(path, "is not a result folder (no summary.json)")
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _not_a_result(path, f"summary.json cannot be read ({err})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("stations"), list) or "scenario" not in summary:
        raise _not_a_result(path, "summary.json is not the summary of a run (no scenario or stations)")
    return summary


def _read_timeseries(file: Path) -> dict[str, list[float]]:
    if not file.is_file():
        return {}
    with open(file, encoding="utf-8-sig", newline="") as stream:  # with or without Excel's byte-order mark
        rows = list(csv.reader(stream))
    if not rows:
        return {}
    columns: dict[str, list[float]] = {name: [] for name in rows[0]}
    for row in rows[1:]:
        for name, cell in zip(rows[0], row):
            try:
                columns[name].append(float(cell))
            except ValueError:
                columns[name].append(math.nan)
    return columns


def load_run_folder(path: str | Path) -> RunFolder:
    """Read a run result folder.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RunFolder

    Raises
    ------
    ExperimentError
        If the folder is missing, a file, or holds no readable ``summary.json`` of a run.
    """
    folder = Path(path)
    summary = _read_summary(folder)
    scenario: dict[str, Any] = {}
    try:
        scenario = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass  # the report names what it cannot tell; summary.json carries the figures
    return RunFolder(folder, summary, scenario, _read_timeseries(folder / "timeseries.csv"))


def default_language(folder: RunFolder) -> str:
    """The scenario's ``language`` key when it names a catalogue language, else English.

    Parameters
    ----------
    folder : RunFolder
        From :func:`load_run_folder` (its ``scenario.toml``).

    Returns
    -------
    {"en", "vi"}
    """
    return scenario_language(folder.scenario)


@dataclass(frozen=True)
class Figure:
    """One headline figure as shown: its key in summary.json, value, 95 % interval and analytic value.

    ``value`` is the number of summary.json exactly (the page carries it in
    ``data-value``); the ``*_text`` fields are the formatted texts.
    ``outside`` is True when the analytic value lies outside the simulated
    95 % interval, False inside, None when it cannot be judged (no interval,
    no analytic value, or the analytic value is another station's).
    """

    key: str
    label: str
    value: float | None
    text: str
    interval_text: str
    analytic_key: str | None
    analytic: float | None
    analytic_text: str
    outside: bool | None = None
    verdict: str = ""


_FigureKind = Literal["percent", "count", "duration", "factor"]


def lookup(summary: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key path of a summary (``latency_seconds.p95``), or None when a part is missing.

    Parameters
    ----------
    summary : Mapping
        ``summary.json`` of a run, or any nested mapping.
    key : str
        Dotted key path, one part per level.

    Returns
    -------
    Any
        The value as stored (a number, text, list or mapping), or None when a part of the path is missing or
        a level on the way is not a mapping.

    Examples
    --------
    >>> lookup({"latency_seconds": {"p95": 12.0}}, "latency_seconds.p95"), lookup({}, "a.b")
    (12.0, None)
    """
    node: Any = summary
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def summary_interval(summary: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    """The 95 % interval of a figure (``<key>_ci`` beside it in the summary) when both ends are finite, else None.

    Parameters
    ----------
    summary : Mapping
        ``summary.json`` of a run.
    key : str
        Dotted key path of the figure (``latency_seconds.p95``); its interval is read at ``latency_seconds.p95_ci``.

    Returns
    -------
    tuple of (float, float) or None
        ``(low, high)`` in the figure's unit (seconds for a time, a share for a percentage), as stored (not
        bounded to the figure's range); None when the interval is missing, not a pair, or has a non-finite end
        (one replication).

    Examples
    --------
    >>> summary_interval({"a": {"b": 1.0, "b_ci": [0.5, 1.5]}}, "a.b"), summary_interval({"c": 1.0}, "c")
    ((0.5, 1.5), None)
    """
    parent, _, last = key.rpartition(".")
    interval = lookup(summary, f"{parent}.{last}_ci" if parent else f"{last}_ci")
    if isinstance(interval, list) and len(interval) == 2 and all(is_finite(v) for v in interval):
        return float(interval[0]), float(interval[1])
    return None


def _figure(summary: Mapping[str, Any], locale: Locale, key: str, label: str, kind: _FigureKind,
            analytic_key: str | None = None, judged: bool = True) -> Figure:
    """One figure; ``judged``: the analytic value is of the same station, so it can be set against the interval."""
    value = lookup(summary, key)
    interval = summary_interval(summary, key)
    if interval is not None and is_finite(value):  # in the figure's range by construction (no negative times, no 104 %)
        interval = tuple(bounded_interval(float(value), *interval, "share" if kind == "percent" else "positive"))
    analytic = lookup(summary, analytic_key) if analytic_key else None
    outside = None
    if judged and interval is not None and is_finite(analytic):
        outside = not interval[0] <= analytic <= interval[1]
    return Figure(
        key=key, label=label, value=float(value) if is_finite(value) else None, text=locale.figure(kind, value),
        interval_text=(f"{locale.figure(kind, interval[0])} – {locale.figure(kind, interval[1])}" if interval else ""),
        analytic_key=analytic_key if is_finite(analytic) else None, analytic=float(analytic) if is_finite(analytic) else None,
        analytic_text=locale.figure(kind, analytic) if is_finite(analytic) else "", outside=outside,
        verdict="" if outside is None else locale.text("theory_outside" if outside else "theory_within"))


def _same_bottleneck(summary: Mapping[str, Any]) -> bool:
    """Whether the analytic bottleneck is the simulated one (then its analytic utilisation can be judged)."""
    return lookup(summary, "analytic.bottleneck_id") == lookup(summary, "bottleneck.id") is not None


def _same_busiest_hour(summary: Mapping[str, Any]) -> bool:
    """Whether the analytic busiest hour is of the station the simulation found busiest over hour-long intervals."""
    return (lookup(summary, "peak_bottleneck.interval_seconds") == 3600
            and lookup(summary, "analytic.busiest_hour_bottleneck") == lookup(summary, "peak_bottleneck.name") is not None)


def headline_figures(summary: Mapping[str, Any], locale: Locale) -> list[Figure]:
    """The headline figures of a run summary, in reading order (missing ones shown as ``–``).

    Parameters
    ----------
    summary : Mapping
        ``summary.json`` of a run.
    locale : Locale

    Returns
    -------
    list of Figure
    """
    t = locale.text
    bottleneck = locale.station(lookup(summary, "bottleneck.name") or MISSING)
    peak = locale.station(lookup(summary, "peak_bottleneck.name") or MISSING)
    interval = locale.duration(lookup(summary, "peak_bottleneck.interval_seconds"))
    figures = [
        _figure(summary, locale, "electronic_share", t("fig_electronic_share"), "percent"),
        _figure(summary, locale, "documents_per_working_day", t("fig_documents_per_working_day"), "count"),
        _figure(summary, locale, "throughput_per_day", t("fig_throughput_per_day"), "count"),
        _figure(summary, locale, "latency_seconds.mean", t("fig_latency_mean"), "duration", "analytic.latency_mean_seconds"),
        _figure(summary, locale, "latency_seconds.p95", t("fig_latency_p95"), "duration"),
        _figure(summary, locale, "same_day_share", t("fig_same_day_share"), "percent"),
        _figure(summary, locale, "bottleneck.utilization", t("fig_bottleneck", station=bottleneck), "percent",
                "analytic.bottleneck_utilization", judged=_same_bottleneck(summary)),
        _figure(summary, locale, "peak_bottleneck.utilization", t("fig_peak", interval=interval, station=peak), "percent",
                "analytic.busiest_hour_utilization" if _same_busiest_hour(summary) else None),
    ]
    if is_finite(lookup(summary, "analytic.headroom")):
        figures.append(_figure(summary, locale, "analytic.headroom", t("fig_headroom"), "factor"))
    return figures


def answer_sentences(summary: Mapping[str, Any], locale: Locale) -> list[str]:
    """The answer in a few sentences generated from the figures: what saturates first, volume, delivery time, peak."""
    t = locale.text
    sentences = []
    headroom = lookup(summary, "analytic.headroom")
    station = lookup(summary, "analytic.bottleneck")
    if is_finite(headroom) and station:
        # utilisation grows with the traffic in the analytic model, so 80 % is reached at 0.8 times the growth to 100 %
        sentences.append(t("answer_saturates" if headroom >= 1 else "answer_overloaded", station=locale.station(station),
                           factor=locale.factor(headroom), factor80=locale.factor(0.8 * headroom)))
    sentences.append(t("answer_volume", documents=locale.number(lookup(summary, "documents_per_working_day")),
                       share=locale.percent(lookup(summary, "electronic_share"))))
    sentences.append(t("answer_latency", mean=locale.duration(lookup(summary, "latency_seconds.mean")),
                       p95=locale.duration(lookup(summary, "latency_seconds.p95")),
                       same_day=locale.percent(lookup(summary, "same_day_share"))))
    peak = lookup(summary, "peak_bottleneck.utilization")
    if is_finite(peak):
        sentences.append(t("answer_peak_high" if peak >= 0.8 else "answer_peak",
                           interval=locale.duration(lookup(summary, "peak_bottleneck.interval_seconds")),
                           station=locale.station(str(lookup(summary, "peak_bottleneck.name"))),
                           utilization=locale.percent(peak)))
    disagreements = summary.get("theory_disagreements") or []
    if disagreements:
        sentences.append(t("answer_disagree", count=len(disagreements)))
    return sentences


#: The caveats of :func:`simulator.analytic.predict` (English, in summary.json) by how each begins, and the
#: catalogue key of each in the reader's language.
CAVEATS: tuple[tuple[str, str], ...] = (
    ("working-hours calendar", "caveat_calendar"), ("time profile", "caveat_profile"),
    ("non-exponential service", "caveat_service"), ("finite buffers", "caveat_buffers"),
    ("outages and failures", "caveat_outages"), ("status messages are not Poisson", "caveat_statuses"),
    ("fan-out documents", "caveat_fanout"), ("urgent priority", "caveat_urgent"),
    ("scripted documents", "caveat_script"))


def caveat_text(caveat: str, locale: Locale) -> str:
    """An analytic caveat of summary.json in the reader's language (as written when the catalogue has no text for it).

    Parameters
    ----------
    caveat : str
        One of ``analytic.caveats`` of summary.json (English, from :func:`simulator.analytic.predict`).
    locale : Locale
        The reader's language.

    Returns
    -------
    str
        The catalogue text of the first entry of :data:`CAVEATS` that ``caveat`` begins with, else ``caveat``
        unchanged.

    Examples
    --------
    >>> caveat_text("finite buffers: losses are ignored", Locale("vi"))
    'Bộ đệm hữu hạn: công thức bỏ qua các văn bản bị mất khi bộ đệm đầy.'
    """
    key = next((key for start, key in CAVEATS if caveat.startswith(start)), None)
    return locale.text(key) if key else caveat


@dataclass(frozen=True)
class TheoryNotes:
    """Simulated next to analytic, in words: whether the model is exact, where the two disagree, and why.

    Attributes
    ----------
    intro : str
        Exact, or an approximation (followed by ``caveats``).
    findings : tuple of str
        The figures whose analytic value lies outside the simulated 95 % interval (or that all lie inside it),
        a different bottleneck, the stations where exact theory and simulation disagree.
    caveats : tuple of str
        Why the analytic model is approximate here, one sentence each.
    """

    intro: str
    findings: tuple[str, ...]
    caveats: tuple[str, ...]


def _bottleneck_finding(summary: Mapping[str, Any], locale: Locale) -> list[str]:
    if _same_bottleneck(summary) or not lookup(summary, "analytic.bottleneck"):
        return []
    return [locale.text("theory_other_bottleneck", analytic=locale.station(str(lookup(summary, "analytic.bottleneck"))),
                        analytic_utilization=locale.percent(lookup(summary, "analytic.bottleneck_utilization")),
                        simulated=locale.station(str(lookup(summary, "bottleneck.name"))),
                        simulated_utilization=locale.percent(lookup(summary, "bottleneck.utilization")))]


def theory_notes(summary: Mapping[str, Any], figures: Sequence[Figure], locale: Locale) -> TheoryNotes:
    """What the page says under "Simulated and analytic", from summary.json's ``analytic`` and ``theory_disagreements``.

    Parameters
    ----------
    summary : Mapping
        ``summary.json`` of a run.
    figures : sequence of Figure
        The headline figures (:func:`headline_figures`): those with an ``outside`` verdict are judged.
    locale : Locale
        The reader's language.

    Returns
    -------
    TheoryNotes
        The introduction (exact or approximate, from ``analytic.exact``); the findings (the figures whose
        analytic value lies outside the simulated 95 % interval, or that all lie inside, or that there is no
        interval to judge by; a different analytic bottleneck; the stations of ``theory_disagreements``); and,
        when the model is approximate, the caveats in the reader's language (:func:`caveat_text`), else none.
    """
    t = locale.text
    judged = [f for f in figures if f.outside is not None]
    outside = [f.label for f in judged if f.outside]
    findings = ([t("theory_outside_list", figures="; ".join(outside))] if outside else
                [t("theory_all_within")] if judged else [t("theory_no_interval")])
    findings += _bottleneck_finding(summary, locale)
    names = {str(s.get("id")): locale.station(str(s.get("name"))) for s in summary.get("stations", [])}
    disagreements = summary.get("theory_disagreements") or []
    if disagreements:
        findings.append(t("theory_disagree_stations", stations=", ".join(names.get(str(i), str(i)) for i in disagreements)))
    caveats = tuple(caveat_text(str(c), locale) for c in lookup(summary, "analytic.caveats") or [])
    exact = lookup(summary, "analytic.exact") is True
    return TheoryNotes(t("theory_exact" if exact else "theory_approximate"), tuple(findings), () if exact else caveats)


@dataclass(frozen=True)
class Cell:
    """A table cell: the text shown and the value it sorts by (a number as text, or the text itself)."""

    text: str
    sort: str
    numeric: bool


@dataclass(frozen=True)
class StationRow:
    """One row of the station table."""

    id: str
    kind: str
    cells: tuple[Cell, ...]


#: Station table columns: catalogue key, summary key, how the value is shown.
_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("col_station", "name", "station"), ("col_id", "id", "text"), ("col_kind", "kind", "kind"),
    ("col_servers", "servers", "count"), ("col_utilization", "utilization", "percent"),
    ("col_predicted_utilization", "predicted_utilization", "percent"),
    ("col_peak_utilization", "peak_utilization", "percent"), ("col_mean_queue", "mean_queue", "count"),
    ("col_max_queue", "max_queue", "count"), ("col_mean_wait", "mean_wait_seconds", "duration"),
    ("col_throughput", "throughput_per_day", "count"), ("col_dropped", "dropped", "count"))


def _cell(locale: Locale, how: str, value: Any) -> Cell:
    if how in ("text", "kind", "station"):
        text = str(value if value is not None else MISSING)
        text = locale.kind(text) if how == "kind" else locale.station(text) if how == "station" else text
        return Cell(text, text, False)
    shown = {"percent": locale.percent, "duration": locale.duration}.get(how, locale.number)(value)
    return Cell(shown, repr(float(value)) if is_finite(value) else "", True)


def station_rows(summary: Mapping[str, Any], locale: Locale) -> list[StationRow]:
    """The station table, busiest first (mean utilisation)."""
    stations = sorted(summary.get("stations", []), key=lambda s: s.get("utilization") if is_finite(s.get("utilization"))
                      else -1.0, reverse=True)
    return [StationRow(str(s.get("id")), str(s.get("kind")), tuple(_cell(locale, how, s.get(key)) for _, key, how in _COLUMNS))
            for s in stations]


@dataclass(frozen=True)
class Chart:
    """A chart as inline SVG markup (drawn by :mod:`simulator.charts`) and its reading in one sentence.

    ``reading`` says what the chart shows in figures (the busiest station,
    the longest queue and when): the page prints it under the chart.
    """

    key: str
    title: str
    svg: str
    reading: str = ""


@dataclass(frozen=True)
class ScenarioFacts:
    """The question: the scenario in plain words."""

    name: str
    description: str
    structure: str
    horizon: str
    replications: str
    seed: str
    version: str
    folder: str


def _structure(folder: RunFolder, locale: Locale) -> str:
    network = folder.scenario.get("network", {})
    kinds = [str(s.get("kind")) for s in folder.summary.get("stations", [])]
    dataset = network.get("dataset")
    level = locale.text(f"level_{network.get('level')}") if f"level_{network.get('level')}" in messages(locale.lang) else ""
    where = (messages(locale.lang).get(f"dataset_{dataset}", str(dataset)) if dataset and dataset != "none"
             else locale.text("structure_custom"))
    if network.get("reform") and f"reform_{network['reform']}" in messages(locale.lang):
        where += f" ({locale.text('reform_' + network['reform'])})"
    return locale.text("structure_text", dataset=where, level=level or MISSING, stations=locale.number(len(kinds)),
                       hubs=kinds.count("hub"), platforms=locale.number(kinds.count("platform")),
                       agencies=locale.number(kinds.count("agency")))


def scenario_facts(folder: RunFolder, locale: Locale) -> ScenarioFacts:
    """The scenario of a run folder in plain words."""
    summary = folder.summary
    replications = summary.get("replications", 1)
    return ScenarioFacts(
        name=str(summary.get("scenario")),
        description=str(folder.scenario.get("description") or locale.text("no_description")),
        structure=_structure(folder, locale),
        horizon=(locale.text("horizon_text", horizon=locale.duration(summary.get("horizon_seconds")),
                             warmup=locale.duration(summary.get("warmup_seconds")))
                 if is_finite(summary.get("warmup_seconds")) and summary["warmup_seconds"] > 0
                 else locale.text("horizon_no_warmup", horizon=locale.duration(summary.get("horizon_seconds")))),
        replications=(locale.text("replications_text", count=replications) if is_finite(replications) and replications > 1
                      else locale.text("replications_single")),
        seed=str(summary.get("seed", MISSING)), version=str(summary.get("version", MISSING)), folder=str(folder.path))


@dataclass(frozen=True)
class RunReport:
    """Everything the run report shows, every text in one language."""

    lang: str
    title: str
    facts: ScenarioFacts
    answer: tuple[str, ...]
    figures: tuple[Figure, ...]
    theory: TheoryNotes
    columns: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...]
    stations: tuple[StationRow, ...]
    charts: tuple[Chart, ...]
    text: Mapping[str, str]


def _utilization_chart(busiest: list[dict[str, Any]], locale: Locale) -> Chart:
    from . import charts  # matplotlib: loaded when a report is drawn

    t = locale.text
    svg = charts.svg_markup(charts.plot_utilization_bars(
        busiest, title=t("chart_utilization_title"), xlabel=t("chart_utilization_x"), simulated=t("chart_simulated"),
        analytic=t("chart_analytic")), "utilization")
    reading = t("reading_utilization", station=busiest[0]["name"], utilization=locale.percent(busiest[0]["utilization"]),
                over=locale.number(sum(1 for s in busiest if s["utilization"] >= 0.8)),
                total=locale.number(len(busiest))) if busiest else ""
    return Chart("utilization", t("chart_utilization_title"), svg, reading)


def _peak(hours: list[float], series: Mapping[str, list[float]]) -> tuple[str, float, float]:
    """The series and the hour of the highest finite value over all series: ``(name, hour, value)``."""
    return max(((name, hour, value) for name, values in series.items() for hour, value in zip(hours, values)
                if is_finite(value)), key=lambda found: found[2], default=("", math.nan, math.nan))


def _queues_chart(hours: list[float], queues: Mapping[str, list[float]], locale: Locale) -> Chart:
    from . import charts

    t = locale.text
    svg = charts.svg_markup(charts.plot_series(
        hours, queues, title=t("chart_queues_title"), xlabel=t("chart_time_x"), ylabel=t("chart_queues_y"),
        hour_text=locale.clock, tick_text=locale.tick), "queues")
    station, hour, peak = _peak(hours, queues)
    reading = t("reading_queues", peak=locale.number(peak), station=station, time=locale.clock(hour)) if station else ""
    return Chart("queues", t("chart_queues_title"), svg, reading)


def _documents_chart(hours: list[float], electronic: list[float], paper: list[float], locale: Locale) -> Chart:
    from . import charts

    t = locale.text
    created = {t("chart_electronic"): electronic, t("chart_paper"): paper}
    svg = charts.svg_markup(charts.plot_series(
        hours, created, title=t("chart_documents_title"), xlabel=t("chart_time_x"), ylabel=t("chart_documents_y"),
        stacked=True, hour_text=locale.clock, tick_text=locale.tick), "documents")
    totals = {"": [e + p for e, p in zip(electronic, paper)]}
    _, hour, peak = _peak(hours, totals)
    busiest = next((i for i, h in enumerate(hours) if h == hour), None)
    reading = t("reading_documents", peak=locale.number(peak), time=locale.clock(hours[busiest - 1] if busiest else 0.0),
                until=locale.clock(hour), electronic=locale.number(electronic[busiest])) if busiest is not None else ""
    return Chart("documents", t("chart_documents_title"), svg, reading)


def _run_charts(folder: RunFolder, locale: Locale) -> tuple[Chart, ...]:
    """The run's charts as inline SVG, each with its reading: utilisation bars, queues and documents over time."""
    busiest = sorted(({**s, "name": locale.station(str(s.get("name")))} for s in folder.summary["stations"]
                      if is_finite(s.get("utilization"))), key=lambda s: s["utilization"], reverse=True)
    drawn = [_utilization_chart(busiest, locale)]
    series = folder.timeseries
    hours = series.get("time_hours")
    if hours:
        queues = {s["name"]: series[f"in_system: {s['id']}"] for s in busiest[:5] if f"in_system: {s['id']}" in series}
        if queues:
            drawn.append(_queues_chart(hours, queues, locale))
        electronic = series.get("documents_electronic_in_interval", [])
        paper = series.get("documents_paper_in_interval", [])
        if electronic and paper:
            drawn.append(_documents_chart(hours, electronic, paper, locale))
    return tuple(drawn)


def build_run_report(folder: RunFolder, lang: str) -> RunReport:
    """Assemble the report of a run folder in one language.

    Parameters
    ----------
    folder : RunFolder
        From :func:`load_run_folder`.
    lang : {"en", "vi"}

    Returns
    -------
    RunReport
    """
    locale = Locale(lang)
    rows = station_rows(folder.summary, locale)
    kinds = sorted({row.kind for row in rows})
    figures = tuple(headline_figures(folder.summary, locale))
    return RunReport(
        lang=lang, title=locale.text("title", name=folder.summary.get("scenario")), facts=scenario_facts(folder, locale),
        answer=tuple(answer_sentences(folder.summary, locale)), figures=figures,
        theory=theory_notes(folder.summary, figures, locale),
        columns=tuple(locale.text(key) for key, _, _ in _COLUMNS), kinds=tuple((k, locale.kind(k)) for k in kinds),
        stations=tuple(rows), charts=_run_charts(folder, locale), text=messages(lang))


@functools.cache
def template_environment() -> Any:
    """The Jinja2 environment of the report templates (``simulator/templates/``), autoescaping on.

    Returns
    -------
    jinja2.Environment
        One per process (cached); undefined template variables raise instead of rendering empty.
    """
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("simulator", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_run_report(report: RunReport) -> str:
    """The HTML page of a :class:`RunReport` (autoescaped: names show as text, never as markup).

    Parameters
    ----------
    report : RunReport
        From :func:`build_run_report`.

    Returns
    -------
    str
        The whole page, self-contained (styles, scripts and inline SVG charts); :func:`write_report` writes it.
    """
    from markupsafe import Markup

    charts = [(chart, Markup(chart.svg)) for chart in report.charts]  # noqa: S704 - matplotlib's own SVG, text escaped
    return template_environment().get_template("report.html.j2").render(report=report, charts=charts, t=report.text,
                                                                 version=__version__)


def write_report(html: str, output: Path, option: str = "-o") -> Path:
    """Write the page atomically (a temporary sibling renamed over ``output``); refuse a folder or a missing parent.

    Parameters
    ----------
    html : str
        The page (:func:`render_run_report`, :func:`simulator.compare.render_comparison`), written as UTF-8.
    output : Path
        The HTML file to write; an existing file is replaced.
    option : str, default "-o"
        The command-line option that named ``output``, quoted in the error messages.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    ExperimentError
        If ``output`` is a folder, its folder does not exist, or writing fails (nothing is left behind).
    """
    if output.is_dir():
        raise ExperimentError(f"{option} {output}: is a folder; give the path of the HTML file to write")
    if not output.parent.is_dir():
        raise ExperimentError(f"{option} {output}: the folder {output.parent} does not exist")
    try:
        write_text(output, html)
    except OSError as err:
        raise ExperimentError(f"{option} {output}: cannot write the report: {err.strerror or err}; nothing was written") from None
    return output
