"""Sweep report: one self-contained HTML page for a sweep folder, in Vietnamese or English.

:func:`load_sweep_folder` reads a sweep folder (``points.csv``,
``manifest.json``, ``scenario.toml``); :func:`build_sweep_report` turns it
into a :class:`SweepReport`: the answer first (the first point where the
busiest interval's utilisation crosses the scenario's
``analysis.threshold``, along the last numeric swept parameter, for each
value of the others; how the 95 % delivery time grows), the capacity curves
as inline SVG (utilisation, copies delivered, delivery time, with their
95 % intervals kept inside the figure's range) and the table of points,
sortable. :func:`render_sweep_report` renders it with the report's
templates (autoescaped, no network request).
"""
from __future__ import annotations

import csv
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import __version__
from .errors import ExperimentError
from .catalogue import MISSING, Locale, is_finite, messages, scenario_language
from .report import Cell, Chart, template_environment

__all__ = ["is_sweep_folder", "SweepFolder", "load_sweep_folder", "default_sweep_language", "Crossing", "crossings",
           "sweep_answer", "PointRow", "point_rows", "sweep_charts", "SweepReport", "build_sweep_report",
           "render_sweep_report"]


def is_sweep_folder(path: str | Path) -> bool:
    """Whether ``path`` holds a sweep's ``points.csv`` and ``manifest.json``.

    Parameters
    ----------
    path : str or Path
        A folder (any path; one that does not exist is not a sweep folder).

    Returns
    -------
    bool
        True when both ``points.csv`` and ``manifest.json`` are files in ``path``.

    Raises
    ------
    ExperimentError
        If it holds a sweep's ``runs.sqlite`` but no ``points.csv`` yet (a sweep stopped before its end).
    """
    folder = Path(path)
    if (folder / "runs.sqlite").is_file() and not (folder / "points.csv").is_file():
        raise ExperimentError(f"{folder}: is a sweep folder whose sweep has not finished (runs.sqlite but no "
                              "points.csv); rerun axis-sim sweep to finish it (finished runs are reused)")
    return (folder / "points.csv").is_file() and (folder / "manifest.json").is_file()


@dataclass(frozen=True)
class SweepFolder:
    """A sweep folder as read from disk.

    Attributes
    ----------
    path : Path
    manifest : dict
        ``manifest.json`` (scenario name, seed, replications, points and their parameters).
    points : list of dict
        The rows of ``points.csv``: numbers as float, text as text.
    parameters : tuple of str
        The swept parameters (key paths such as ``traffic.multiplier``), in sweep order.
    scenario : dict
        ``scenario.toml`` as TOML data; empty if missing.
    """

    path: Path
    manifest: dict[str, Any]
    points: list[dict[str, Any]]
    parameters: tuple[str, ...]
    scenario: dict[str, Any]

    @property
    def threshold(self) -> float:
        """The scenario's ``analysis.threshold`` (default 0.8)."""
        value = self.scenario.get("analysis", {}).get("threshold", 0.8)
        return float(value) if is_finite(value) else 0.8


def _cell_value(text: str) -> Any:
    try:
        return float(text) if text != "" else None
    except ValueError:
        return text


def _read_points(file: Path) -> list[dict[str, Any]]:
    with open(file, encoding="utf-8-sig", newline="") as stream:  # with or without Excel's byte-order mark
        return [{key: _cell_value(value) for key, value in row.items()} for row in csv.DictReader(stream)]


def load_sweep_folder(path: str | Path) -> SweepFolder:
    """Read a sweep folder written by ``axis-sim sweep``.

    Parameters
    ----------
    path : str or Path
        The sweep's output folder.

    Returns
    -------
    SweepFolder
        Its manifest, its points (numbers as float), the swept parameters (those of the manifest's first point,
        in sweep order) and ``scenario.toml`` as TOML data (empty when missing or unreadable: the threshold is
        then 0.8).

    Raises
    ------
    ExperimentError
        If ``points.csv`` or ``manifest.json`` is missing or cannot be read (the sweep has not finished), or
        ``points.csv`` has no point.
    """
    folder = Path(path)
    if not is_sweep_folder(folder):
        raise ExperimentError(f"{folder}: is not a sweep folder (no points.csv and manifest.json); run axis-sim sweep "
                              "to the end first")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        points = _read_points(folder / "points.csv")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ExperimentError(f"{folder}: the sweep's points.csv or manifest.json cannot be read ({err}); "
                              "rerun axis-sim sweep (finished runs are reused)") from None
    if not points:
        raise ExperimentError(f"{folder}: points.csv has no point; rerun axis-sim sweep")
    parameters = tuple(manifest.get("points", [{}])[0].get("parameters", {}))
    scenario: dict[str, Any] = {}
    try:
        scenario = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass  # the threshold then defaults to 80 %
    return SweepFolder(folder, manifest, points, parameters, scenario)


def default_sweep_language(folder: SweepFolder) -> str:
    """The scenario's ``language`` key when it names a catalogue language, else English.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder` (its ``scenario.toml``).

    Returns
    -------
    {"en", "vi"}
    """
    return scenario_language(folder.scenario)


def _axes(folder: SweepFolder) -> tuple[str | None, tuple[str, ...]]:
    """The parameter along the x axis and the others (one line per combination of their values).

    The x axis is the last numeric swept parameter: the one that varies fastest in a grid, usually the load
    (``traffic.multiplier`` in ``connect-ministries``), as in the first-saturation lines ``axis-sim sweep`` prints.
    """
    numeric = [p for p in folder.parameters if all(is_finite(row.get(p)) for row in folder.points)]
    x = numeric[-1] if numeric else None
    return x, tuple(p for p in folder.parameters if p != x)


def _groups(folder: SweepFolder) -> list[tuple[tuple[Any, ...], list[dict[str, Any]]]]:
    """The points grouped by the values of the other parameters, each group sorted along x (sweep order without x)."""
    x, others = _axes(folder)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in folder.points:
        groups.setdefault(tuple(row.get(p) for p in others), []).append(row)
    return [(key, sorted(rows, key=lambda r: r[x]) if x else rows) for key, rows in groups.items()]


def _value(locale: Locale, value: Any) -> str:
    return locale.number(value) if is_finite(value) else str(value if value is not None else MISSING)


def _group_label(locale: Locale, others: Sequence[str], key: Sequence[Any]) -> str:
    return ", ".join(f"{locale.parameter(p)} = {_value(locale, v)}" for p, v in zip(others, key))


@dataclass(frozen=True)
class Crossing:
    """Where the busiest interval first reaches the threshold in one group of points (``point`` None: nowhere)."""

    group: str
    point: str | None
    setting: str
    station: str
    utilization: float | None


def crossings(folder: SweepFolder, locale: Locale) -> list[Crossing]:
    """For each combination of the other parameters, the first point along x whose peak utilisation reaches the threshold.

    The x axis is the last swept parameter whose values are all numbers; the points of each combination of
    the other parameters are taken in increasing x.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder`; the threshold is its ``analysis.threshold`` (a share in [0, 1]).
    locale : Locale
        The language of the group, setting and station texts.

    Returns
    -------
    list of Crossing
        One per combination of the other parameters (one in all for a one-parameter sweep), in the order of
        their first point: the point, its x setting, the busiest station and its peak utilisation (a share), or
        ``point`` None (empty setting and station, utilisation None) when no point of the group reaches the
        threshold.
    """
    x, others = _axes(folder)
    found = []
    for key, rows in _groups(folder):
        first = next((r for r in rows if is_finite(r.get("peak_utilization")) and r["peak_utilization"] >= folder.threshold),
                     None)
        setting = f"{locale.parameter(x)} = {_value(locale, first[x])}" if first and x else ""
        found.append(Crossing(_group_label(locale, others, key), first["point"] if first else None, setting,
                              locale.station(str(first.get("peak_bottleneck"))) if first else "",
                              first["peak_utilization"] if first else None))
    return found


def sweep_answer(folder: SweepFolder, found: Sequence[Crossing], locale: Locale) -> list[str]:
    """The answer first: where the threshold is crossed (or the highest point), how the 95 % delivery time grows.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder`.
    found : sequence of Crossing
        The threshold crossings, from :func:`crossings`.
    locale : Locale
        The language of the sentences.

    Returns
    -------
    list of str
        One sentence per group that crosses the threshold, or, when none does, one naming the point with the
        highest peak utilisation; then the 95th percentile delivery time at the first and the last point; then,
        when the first point has an analytic headroom and bottleneck, the station that saturates first and how
        much all traffic can grow before it reaches 100 % (and 80 %) utilisation in office hours (analytic
        model).
    """
    threshold = locale.percent(folder.threshold)
    sentences = []
    for crossing in found:
        prefix = f"{crossing.group[:1].upper()}{crossing.group[1:]}: " if crossing.group else ""
        if crossing.point is not None:
            sentences.append(prefix + locale.text("sweep_answer_crossed", threshold=threshold, point=crossing.point,
                                                  setting=crossing.setting, station=crossing.station,
                                                  utilization=locale.percent(crossing.utilization)))
    if not any(c.point for c in found):
        top = max(folder.points, key=lambda r: r["peak_utilization"] if is_finite(r.get("peak_utilization")) else -1.0)
        sentences.append(locale.text("sweep_answer_none", threshold=threshold, point=top["point"],
                                     station=locale.station(str(top.get("peak_bottleneck"))),
                                     utilization=locale.percent(top.get("peak_utilization"))))
    first, last = folder.points[0], folder.points[-1]
    sentences.append(locale.text("sweep_answer_latency", first_point=first["point"], last_point=last["point"],
                                 first=locale.duration(first.get("latency_p95_seconds")),
                                 last=locale.duration(last.get("latency_p95_seconds"))))
    if is_finite(first.get("headroom")) and first.get("predicted_bottleneck"):
        sentences.append(locale.text("sweep_answer_headroom", point=first["point"], factor=locale.factor(first["headroom"]),
                                     factor80=locale.factor(0.8 * first["headroom"]),
                                     station=locale.station(str(first["predicted_bottleneck"]))))
    return sentences


#: Points table columns after the point and its parameters: catalogue key, points.csv column, how shown.
_POINT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("col_electronic_share", "electronic_share", "percent"), ("col_throughput", "throughput_per_day", "count"),
    ("col_latency_mean", "latency_mean_seconds", "duration"), ("col_latency_p95", "latency_p95_seconds", "duration"),
    ("col_same_day", "same_day_share", "percent"), ("col_bottleneck_utilization", "bottleneck_utilization", "percent"),
    ("col_peak_utilization", "peak_utilization", "percent"), ("col_busiest_station", "peak_bottleneck", "station"),
    ("col_headroom", "headroom", "factor"))


@dataclass(frozen=True)
class PointRow:
    """One row of the points table; ``crossed`` when it is the first point of its group over the threshold.

    ``values`` maps each points.csv column shown to its number (the page
    carries it in ``data-key`` / ``data-value``).
    """

    point: str
    crossed: bool
    cells: tuple[Cell, ...]
    values: tuple[tuple[str, float | None], ...]


def _point_cell(locale: Locale, how: str, value: Any) -> Cell:
    if how == "station":
        text = locale.station(str(value)) if value is not None else MISSING
        return Cell(text, text, False)
    shown = {"percent": locale.percent, "duration": locale.duration, "factor": locale.factor}.get(how, locale.number)(value)
    return Cell(shown, repr(float(value)) if is_finite(value) else "", True)


def point_rows(folder: SweepFolder, found: Sequence[Crossing], locale: Locale) -> list[PointRow]:
    """The table of points in sweep order.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder`.
    found : sequence of Crossing
        The threshold crossings, from :func:`crossings`: their points are marked ``crossed``.
    locale : Locale
        The language of the cells.

    Returns
    -------
    list of PointRow
        One per row of ``points.csv``: the point, its parameters, then the shown columns (electronic share,
        copies per day, mean and 95th percentile delivery time, same-day share, bottleneck and peak utilisation,
        busiest station, headroom) written in ``locale``, with the numbers of the numeric columns (shares in
        [0, 1], times in seconds) in ``values``.
    """
    crossed = {c.point for c in found if c.point}
    rows = []
    for row in folder.points:
        cells = [Cell(str(row["point"]), str(row["point"]), False)]
        cells += [_point_cell(locale, "count" if is_finite(row.get(p)) else "station", row.get(p)) for p in folder.parameters]
        cells += [_point_cell(locale, how, row.get(column)) for _, column, how in _POINT_COLUMNS]
        values = tuple((column, float(row[column]) if is_finite(row.get(column)) else None)
                       for _, column, how in _POINT_COLUMNS if how != "station")
        rows.append(PointRow(str(row["point"]), row["point"] in crossed, tuple(cells), values))
    return rows


def _lines(folder: SweepFolder, locale: Locale, column: str, scale: float = 1.0) -> list[Any]:
    from .charts import SweepLine

    x, others = _axes(folder)
    lines = []
    for key, rows in _groups(folder):
        xs = [r[x] if x else i for i, r in enumerate(rows)]

        def values(name: str) -> list[float]:
            return [float(r[name]) / scale if is_finite(r.get(name)) else math.nan for r in rows]  # noqa: B023

        lines.append(SweepLine(_group_label(locale, others, key), xs, values(column), values(f"{column}_ci_low"),
                               values(f"{column}_ci_high")))
    return lines


def _time_scale(folder: SweepFolder, column: str) -> tuple[float, str]:
    top = max((r[column] for r in folder.points if is_finite(r.get(column))), default=0.0)
    return (3600.0, "axis_hours") if top >= 2 * 3600 else (60.0, "axis_minutes") if top >= 120 else (1.0, "axis_seconds")


def _extremes(folder: SweepFolder, column: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The points with the lowest and the highest finite value of ``column``, or None when no point has one."""
    rows = [r for r in folder.points if is_finite(r.get(column))]
    if not rows:
        return None
    return min(rows, key=lambda r: r[column]), max(rows, key=lambda r: r[column])


def _range_reading(folder: SweepFolder, locale: Locale, column: str, key: str, shown: Any) -> str:
    """A chart's reading: the lowest and the highest value of ``column`` over the points, and where."""
    found = _extremes(folder, column)
    if found is None:
        return ""
    low, high = found
    return locale.text(key, low=shown(low[column]), low_point=low["point"], high=shown(high[column]),
                       high_point=high["point"])


def _peak_reading(folder: SweepFolder, found: Sequence[Crossing], locale: Locale) -> str:
    threshold = locale.percent(folder.threshold)
    first = next((c for c in found if c.point is not None), None)
    if first is not None:
        return locale.text("reading_sweep_peak_crossed", threshold=threshold, point=first.point, setting=first.setting)
    extremes = _extremes(folder, "peak_utilization")
    if extremes is None:
        return ""
    top = extremes[1]
    return locale.text("reading_sweep_peak_none", threshold=threshold, point=top["point"],
                       utilization=locale.percent(top["peak_utilization"]))


def sweep_charts(folder: SweepFolder, locale: Locale, found: Sequence[Crossing] = ()) -> tuple[Chart, ...]:
    """The capacity curves as inline SVG, each with its reading: peak utilisation (with the threshold), copies
    delivered, 95 % delivery time. ``found``: the threshold crossings (:func:`crossings`) the first reading names.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder`.
    locale : Locale
        The language of the titles, axes, ticks and readings.
    found : sequence of Crossing, optional
        The threshold crossings; without them the peak chart's reading names the highest point.

    Returns
    -------
    tuple of Chart
        Three charts, keyed ``peak``, ``throughput`` and ``latency`` (the delivery time in seconds, minutes or
        hours, whichever suits its largest value), one line per combination of the other parameters.
    """
    from . import charts  # matplotlib: loaded when a report is drawn

    t = locale.text
    x, _ = _axes(folder)
    xlabel = locale.parameter_axis(x) if x else t("chart_sweep_x")
    scale, unit = _time_scale(folder, "latency_p95_seconds")
    specs = (
        ("peak", "peak_utilization", 1.0, t("sweep_chart_peak_title"), t("chart_utilization_x"), True,
         _peak_reading(folder, found, locale)),
        ("throughput", "throughput_per_day", 1.0, t("sweep_chart_throughput_title"), t("sweep_chart_throughput_y"), False,
         _range_reading(folder, locale, "throughput_per_day", "reading_sweep_throughput", locale.number)),
        ("latency", "latency_p95_seconds", scale, t("sweep_chart_latency_title"),
         t("sweep_chart_latency_y", unit=t(unit)), False,
         _range_reading(folder, locale, "latency_p95_seconds", "reading_sweep_latency", locale.duration)))
    drawn = []
    for key, column, divide, title, ylabel, percent, reading in specs:
        threshold = folder.threshold if percent else None
        ax = charts.plot_sweep_lines(_lines(folder, locale, column, divide), title=title, xlabel=xlabel, ylabel=ylabel,
                                     percent=percent, threshold=threshold,
                                     threshold_label=t("sweep_threshold", threshold=locale.percent(threshold))
                                     if threshold is not None else "", tick_text=locale.tick)
        drawn.append(Chart(key, title, charts.svg_markup(ax, f"sweep-{key}"), reading))
    return tuple(drawn)


@dataclass(frozen=True)
class SweepReport:
    """Everything the sweep report shows, every text in one language."""

    lang: str
    title: str
    facts: tuple[tuple[str, str], ...]
    answer: tuple[str, ...]
    crossings: tuple[Crossing, ...]
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    points: tuple[PointRow, ...]
    charts: tuple[Chart, ...]
    text: Mapping[str, str]


def _facts(folder: SweepFolder, locale: Locale) -> tuple[tuple[str, str], ...]:
    t = locale.text
    swept = "; ".join(f"{locale.parameter(p)} ({p}): " + ", ".join(dict.fromkeys(_value(locale, r.get(p)) for r in folder.points))
                      for p in folder.parameters)
    return ((t("field_scenario"), str(folder.manifest.get("scenario", MISSING))),
            (t("field_description"), str(folder.scenario.get("description") or t("no_description"))),
            (t("field_swept"), swept or MISSING), (t("field_points"), locale.number(len(folder.points))),
            (t("field_replications"), t("sweep_replications", count=folder.manifest.get("replications", MISSING))),
            (t("field_threshold"), locale.percent(folder.threshold)),
            (t("field_seed"), str(folder.manifest.get("seed", MISSING))),
            (t("field_version"), str(folder.manifest.get("version", MISSING))), (t("field_folder"), str(folder.path)))


def build_sweep_report(folder: SweepFolder, lang: str) -> SweepReport:
    """Assemble the report of a sweep folder in one language.

    Parameters
    ----------
    folder : SweepFolder
        From :func:`load_sweep_folder`.
    lang : {"en", "vi"}

    Returns
    -------
    SweepReport
    """
    locale = Locale(lang)
    found = crossings(folder, locale)
    rows = point_rows(folder, found, locale)
    columns = (locale.text("col_point"), *(locale.parameter(p) for p in folder.parameters),
               *(locale.text(key) for key, _, _ in _POINT_COLUMNS))
    return SweepReport(
        lang=lang, title=locale.text("sweep_title", name=folder.manifest.get("scenario", MISSING)),
        facts=_facts(folder, locale), answer=tuple(sweep_answer(folder, found, locale)), crossings=tuple(found),
        columns=columns, numeric=tuple(cell.numeric for cell in rows[0].cells), points=tuple(rows),
        charts=sweep_charts(folder, locale, found), text=messages(lang))


def render_sweep_report(report: SweepReport) -> str:
    """The HTML page of a :class:`SweepReport` (autoescaped: names show as text, never as markup).

    Parameters
    ----------
    report : SweepReport
        From :func:`build_sweep_report`.

    Returns
    -------
    str
        The whole page, self-contained (its charts inline SVG); the caller writes it to a file.
    """
    from markupsafe import Markup

    charts = [(chart, Markup(chart.svg)) for chart in report.charts]  # noqa: S704 - matplotlib's own SVG, text escaped
    return template_environment().get_template("sweep.html.j2").render(report=report, charts=charts, t=report.text,
                                                                version=__version__)
