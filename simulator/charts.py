"""Charts: matplotlib figures drawn from results, never from the model.

Each ``plot_*`` function takes a :class:`~simulator.results.RunResult` and an
optional ``ax`` and returns the Axes; it never calls ``plt.show()`` and never
changes global settings. :func:`save_charts` draws the standard set into a
result folder. Every text on a chart (title, axis labels, legend, tick
numbers) comes from the message catalogue of one language (``lang``,
``"en"`` or ``"vi"``; :mod:`simulator.catalogue`); Vietnamese names and
texts are kept intact (DejaVu Sans covers them). 95 % bands and whiskers are
:func:`simulator.results.bounded_interval`: a logit-scale interval for shares
and utilisations, a log-scale one for times and counts, so they never leave
the figure's range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from .catalogue import Locale, format_percent, messages, parameter_axis_label, parameter_label
from .results import RunResult, bounded_interval

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .calibration import DistributionFit
    from .experiment import SweepResult
    from .topology import Topology

__all__ = ["plot_station_utilization", "plot_latency_cdf", "plot_occupancy", "plot_network_map",
           "plot_electronic_share_over_time", "plot_backlog",
           "plot_capacity_curve", "plot_sweep_figure", "save_charts", "save_point_charts", "save_sweep_charts",
           "plot_utilization_bars", "plot_series", "plot_sweep_lines", "SweepLine", "svg_markup", "plot_qq",
           "save_qq_charts"]

def _label(column: str, lang: str) -> str:
    """A figure of points.csv in words (catalogue key ``png_sweep_<column>``), else the column name."""
    return messages(lang).get(f"png_sweep_{column}", column)


def _bands(values: np.ndarray, lows: np.ndarray, highs: np.ndarray, share: bool) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval ends inside the figure's range (:func:`simulator.results.bounded_interval`), in the values' units."""
    ends = [bounded_interval(float(m), float(lo), float(hi), "share" if share else "positive")
            for m, lo, hi in zip(values, lows, highs)]
    return np.array([e.low for e in ends], dtype=float), np.array([e.high for e in ends], dtype=float)


def _axes(ax: "Axes | None", size: tuple[float, float]) -> "Axes":
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    return figure.add_subplot()


def _busiest(result: RunResult, top: int) -> list[dict[str, Any]]:
    stations = [s for s in result.summary["stations"] if math.isfinite(s["utilization"])]
    return sorted(stations, key=lambda s: s["utilization"], reverse=True)[:top]


def plot_station_utilization(result: RunResult, *, top: int = 15, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """Horizontal bars: simulated utilisation of the busiest stations, analytic value as a tick.

    The bottleneck is drawn in red; with replications, bars carry 95 % whiskers (logit-scale interval, inside
    [0, 100] %); the legend sits outside the bars. Texts in ``lang``.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    top : int, default 15
        Stations drawn at most, the busiest (highest utilisation) first; stations with a non-finite
        utilisation are left out.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The x axis is utilisation in %, with a dotted line at 80 %.
    """
    locale = Locale(lang)
    ax = _axes(ax, (9, 0.35 * top + 1.8))
    stations = _busiest(result, top)[::-1]
    names = [locale.station(s["name"]) for s in stations]
    values = np.array([s["utilization"] for s in stations]) * 100
    colors = ["#c0392b" if i == len(stations) - 1 else "#2e86c1" for i in range(len(stations))]
    y = np.arange(len(stations))
    errors = None
    if stations and "utilization_ci" in stations[0]:
        low, high = _bands(values / 100, *(np.array([s["utilization_ci"][i] for s in stations], dtype=float)
                                           for i in (0, 1)), share=True)
        errors = np.vstack([np.clip(values - low * 100, 0, None), np.clip(high * 100 - values, 0, None)])
    ax.barh(y, values, color=colors, xerr=errors, capsize=3, label=locale.text("chart_simulated"))
    predicted = np.array([s.get("predicted_utilization", math.nan) for s in stations]) * 100
    if np.isfinite(predicted).any():
        ax.scatter(predicted, y, marker="|", s=250, color="black", zorder=3, label=locale.text("chart_analytic"))
    ax.set_yticks(y, names)
    ax.set_xlabel(locale.text("chart_utilization_x"))
    _number_ticks(ax.xaxis, locale)
    ax.set_xlim(0, max(100.0, float(np.nanmax(values)) * 1.05 if len(values) else 100.0))
    ax.axvline(80, color="grey", linestyle=":", linewidth=1)
    ax.set_title(locale.text("png_utilization_title", scenario=result.summary["scenario"]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def plot_latency_cdf(result: RunResult, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """Cumulative distribution of end-to-end latency of electronic copies, with p50/p95/p99 marked; texts in ``lang``.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The x axis is the delivery time on a log scale marked at round
        durations (or in seconds, minutes or hours, whichever suits the median, when the first bin starts at 0);
        the y axis the share of copies delivered within it, in %.
    """
    locale = Locale(lang)
    ax = _axes(ax, (8, 4.5))
    edges, share = result.latency.cdf_points()
    latency = result.summary["latency_seconds"]
    median = latency.get("p50") or 0.0
    unit, scale = ("axis_hours", 3600.0) if median >= 2 * 3600 else ("axis_minutes", 60.0) if median >= 120 else ("axis_seconds", 1.0)
    ax.plot(edges / scale, share * 100, color="#2e86c1", drawstyle="steps-post")
    for key, style in (("p50", "--"), ("p95", "-."), ("p99", ":")):
        value = latency.get(key)
        if value is not None and math.isfinite(value):
            ax.axvline(value / scale, color="grey", linestyle=style, linewidth=1,
                       label=locale.text("png_quantile", share=key[1:], value=locale.duration(value)))
    if len(edges) and edges[0] > 0:
        ax.set_xscale("log")
        _duration_ticks(ax, float(edges[0]), float(edges[-1]), scale, locale)
        ax.set_xlabel(locale.text("png_latency_x_log"))
    else:
        ax.set_xlabel(locale.text("png_latency_x", unit=locale.text(unit)))
    ax.set_ylabel(locale.text("png_latency_y"))
    ax.set_ylim(0, 100)
    _number_ticks(ax.yaxis, locale)
    ax.set_title(locale.text("png_latency_title", scenario=result.summary["scenario"]))
    if ax.get_legend_handles_labels()[0]:  # no quantile lines when no copy was delivered
        ax.legend(loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


#: Durations a log-scale time axis may mark, in seconds: 1 s ... 1 week, as a planner counts them.
_DURATION_TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 2 * 3600, 4 * 3600,
                   8 * 3600, 86400, 2 * 86400, 7 * 86400)


def _duration_ticks(ax: "Axes", low: float, high: float, scale: float, locale: Locale, most: int = 9) -> None:
    """Mark a log-scale x axis (values in seconds / ``scale``) at round durations written as the reader does
    (``30 s``, ``10 min``, ``4 h``; ``10 phút`` in Vietnamese), not as powers of ten."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

    seconds = [s for s in _DURATION_TICKS if low <= s <= high] or [low, high]
    seconds = seconds[:: math.ceil(len(seconds) / most)]
    ax.xaxis.set_major_locator(FixedLocator([s / scale for s in seconds]))
    ax.xaxis.set_major_formatter(FixedFormatter([locale.duration(s) for s in seconds]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_occupancy(result: RunResult, *, top: int = 5, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """Documents at the busiest stations (waiting + in service) over time, on a day and clock-time axis; texts in ``lang``.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    top : int, default 5
        Stations drawn at most, one line each, the busiest (highest utilisation) first.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The x axis is simulated time in hours, its ticks written as day
        and clock time.
    """
    locale = Locale(lang)
    ax = _axes(ax, (10, 4.5))
    frame = result.occupancy
    hours = result.timeseries["time_hours"].to_numpy()
    for station in _busiest(result, top):  # the occupancy columns are station ids; names label the lines
        if station["id"] in frame:
            ax.plot(hours[: len(frame)], frame[station["id"]].to_numpy(), linewidth=1, label=locale.station(station["name"]))
    ax.set_xlabel(locale.text("chart_time_x"))
    ax.set_ylabel(locale.text("chart_queues_y"))
    ax.set_ylim(bottom=0)
    ax.set_title(locale.text("png_queues_title", scenario=result.summary["scenario"]))
    _clock_ticks(ax, hours, locale.clock, locale.tick)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(True, alpha=0.3)
    return ax


def plot_electronic_share_over_time(result: RunResult, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """Electronic share of the documents created each day, and of all documents so far (onboarding roadmaps); texts in ``lang``.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The x axis is the simulated day (the first is 1), the y axis the
        share in % (0 to 100); a day on which no document was created has no point.
    """
    locale = Locale(lang)
    ax = _axes(ax, (9, 4.5))
    frame = result.timeseries
    day = np.floor(frame["time"].to_numpy() / 86400.0 - 1e-9)
    created = frame["documents_generated_in_interval"].to_numpy()
    electronic = frame["documents_electronic_in_interval"].to_numpy()
    days = np.unique(day)
    per_day_created = np.array([created[day == d].sum() for d in days])
    per_day_electronic = np.array([electronic[day == d].sum() for d in days])
    keep = per_day_created > 0
    ax.plot(days[keep] + 1, 100 * per_day_electronic[keep] / per_day_created[keep], marker="o", markersize=3,
            label=locale.text("png_share_daily"))
    total = frame["documents_generated_total"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cumulative = np.where(total > 0, frame["documents_electronic_total"].to_numpy() / total, np.nan)
    ax.plot(frame["time"].to_numpy() / 86400.0, 100 * cumulative, linestyle="--", label=locale.text("png_share_cumulative"))
    ax.set_xlabel(locale.text("png_share_x"))
    ax.set_ylabel(locale.text("png_share_y"))
    ax.set_ylim(0, 100)
    _number_ticks(ax.xaxis, locale)
    _number_ticks(ax.yaxis, locale)
    ax.set_title(locale.text("png_share_title", scenario=result.summary["scenario"]))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return ax


#: Outages marked one by one on the backlog chart (those with the highest peak backlog); the rest are counted.
_OUTAGES_MARKED = 12


def plot_backlog(result: RunResult, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """The backlog (packages waiting at any station or awaiting their resend) over time, each outage shaded.

    An outage or failure is shaded from its start to its end, and its drain
    (until the station's backlog is back within 10 % of its level before) is
    hatched after it, with its length written above. Only the
    :data:`_OUTAGES_MARKED` with the highest peak backlog are marked; the
    outages are the first replication's, the curve the mean over replications.
    Texts in ``lang``; the time axis in days and clock times.

    Parameters
    ----------
    result : RunResult
        A run's result whose time series has a ``backlog`` column; the outages and failures shaded are those of
        ``summary["outages"]`` (:func:`save_charts` draws this chart only when there are some).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given).
    """
    locale = Locale(lang)
    ax = _axes(ax, (10, 4.5))
    series = result.timeseries
    hours = series["time_hours"].to_numpy()
    ax.plot(hours, series["backlog"].to_numpy(), linewidth=1, color="tab:blue", label=locale.text("png_backlog_line"))
    outages = sorted(result.summary.get("outages", []), key=lambda o: -o["peak_backlog"])
    top = ax.get_ylim()[1]
    for number, outage in enumerate(outages[:_OUTAGES_MARKED]):
        start, end = outage["start_seconds"] / 3600, outage["end_seconds"] / 3600
        if not math.isfinite(end):
            end = hours[-1] if len(hours) else start
        ax.axvspan(start, end, color="tab:red", alpha=0.25, label=locale.text("png_down") if number == 0 else None)
        drained = outage["drained_at_seconds"]
        if drained is not None and math.isfinite(drained):
            ax.axvspan(end, drained / 3600, color="tab:orange", alpha=0.2, hatch="//",
                       label=locale.text("png_drain") if number == 0 else None)
            ax.text(end, top * 0.95, f"{locale.station(outage['station'])}: {locale.duration(drained - outage['end_seconds'])}",
                    fontsize="x-small", rotation=90, va="top")
    rest = len(outages) - _OUTAGES_MARKED
    title = locale.text("png_backlog_title", scenario=result.summary["scenario"])
    marked = locale.text("png_backlog_marked", marked=_OUTAGES_MARKED, total=len(outages))
    ax.set_title(title + (f" ({marked})" if rest > 0 else ""))
    ax.set_xlabel(locale.text("chart_time_x"))
    ax.set_ylabel(locale.text("png_backlog_y"))
    _clock_ticks(ax, hours, locale.clock, locale.tick)
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax


def plot_network_map(result: RunResult, topology: "Topology", *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """The network as a map: the hub in the centre, platforms around it, agencies outside; colour = utilisation.

    Stations left out of the model (pass-through) are drawn as small grey dots. Texts in ``lang``.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    topology : Topology
        The topology the result was simulated on (:func:`simulator.topology.build_topology` of its scenario):
        its graph gives the nodes and edges, its stations the modelled nodes.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The six busiest stations are labelled (name and utilisation in %)
        in columns beside the map; a colour bar gives utilisation in %, capped at 100.
    """
    locale = Locale(lang)
    import matplotlib as mpl
    import networkx as nx

    ax = _axes(ax, (14, 8))
    graph = topology.graph.to_undirected()
    kinds = nx.get_node_attributes(graph, "kind")
    shells = [[n for n in graph if kinds[n] == kind] for kind in ("hub", "link", "platform", "agency")]
    position = nx.shell_layout(graph, [shell for shell in shells if shell])
    utilization = {s["id"]: s["utilization"] for s in result.summary["stations"]}  # station id = graph node
    names = {s.node: s.name for s in topology.stations}
    cmap = mpl.colormaps["RdYlGn_r"]
    nx.draw_networkx_edges(graph, position, ax=ax, edge_color="#cccccc", width=0.5)
    sizes = {"hub": 900, "link": 40, "platform": 90, "agency": 25}
    for shell in shells:
        modelled = [n for n in shell if n in names]
        values = [100 * min(1.0, utilization.get(n, 0.0) or 0.0) for n in modelled]
        if modelled:
            nx.draw_networkx_nodes(graph, position, nodelist=modelled, node_color=values, cmap=cmap, vmin=0, vmax=100,
                                   node_size=sizes[kinds[modelled[0]]], ax=ax, edgecolors="black", linewidths=0.3)
        skipped = [n for n in shell if n not in names]
        if skipped:
            nx.draw_networkx_nodes(graph, position, nodelist=skipped, node_color="#bbbbbb", node_size=8, ax=ax)
    labels = {s["id"]: f"{locale.station(s['name'])}\n{format_percent(s['utilization'], lang, 0)}"
              for s in _busiest(result, 6) if s["id"] in names}
    _label_outside(ax, {n: position[n] for n in labels}, labels)
    colorbar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 100), cmap=cmap), ax=ax, shrink=0.6)
    colorbar.set_label(locale.text("chart_utilization_x"))
    _number_ticks(colorbar.ax.yaxis, locale)
    ax.set_xlim(-2.3, 2.3)  # room for the label columns left and right of the map
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")  # the shells stay circles
    ax.set_title(locale.text("png_map_title", scenario=result.summary["scenario"]))
    ax.set_axis_off()
    return ax


def _label_outside(ax: "Axes", points: Mapping[str, Any], labels: Mapping[str, str], gap: float = 0.16) -> None:
    """Labels in two columns outside the map (left and right of it), each joined to its node by a thin line.

    Each label keeps its node's side and height order, pushed apart so no two overlap.
    """
    for side in (-1, 1):
        nodes = sorted((n for n in labels if (points[n][0] >= 0) == (side > 0)), key=lambda n: points[n][1])
        heights: list[float] = []
        for node in nodes:
            heights.append(max(float(points[node][1]), heights[-1] + gap) if heights else float(points[node][1]))
        shift = max(0.0, heights[-1] - 1.1) if heights else 0.0  # keep the column inside the frame
        for node, height in zip(nodes, heights):
            ax.annotate(labels[node], xy=points[node], xytext=(1.35 * side, height - shift), fontsize=8,
                        ha="left" if side > 0 else "right", va="center",
                        bbox={"facecolor": "white", "edgecolor": "#999999", "boxstyle": "round,pad=0.2"},
                        arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.6})


def _sweep_axes(result: "SweepResult") -> tuple[str, str | None]:
    parameters = list(result.points[0].parameters) if result.points and result.points[0].parameters else []
    if not parameters:
        return "point", None
    numeric = [p for p in parameters if all(isinstance(pt.parameters[p], (int, float)) for pt in result.points)]
    x = numeric[0] if numeric else parameters[0]
    others = [p for p in parameters if p != x]
    return x, (others[0] if others else None)


def _series(result: "SweepResult", x: str, group: str | None, lang: str = "en") -> list[tuple[str, Any]]:
    table = result.table
    if group is None:
        return [("", table.sort_values(x))]
    def shown(value: Any) -> str:  # a number in the reader's format (0,5 in Vietnamese), anything else as written
        numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
        return Locale(lang).tick(float(value)) if numeric else str(value)

    return [(f"{parameter_label(group, lang)} = {shown(value)}", frame.sort_values(x))
            for value, frame in table.groupby(group, sort=True)]


def _axis_label(path: str, lang: str = "en") -> str:
    """A swept key path for an axis: its words and unit (``traffic multiplier (× the scenario's volume)``), else the key."""
    return parameter_axis_label(path, lang)


#: A 95 % band reaching higher than this many times the highest line is cut at the top of the plot.
_BAND_REACH = 2.5


def _keep_lines_readable(ax: "Axes") -> None:
    """Cut the y axis at 1.5 times the highest line when a band reaches beyond :data:`_BAND_REACH` times it.

    With few replications a log-scale interval of a time can be many times
    the value (two replications: Student's t with one degree of freedom is
    12.7); drawn in full it flattens every line to the floor. The band then
    runs off the top of the plot; its ends are in ``points.csv``.
    """
    highest = max((float(np.nanmax(y)) for line in ax.get_lines() if len(y := np.asarray(line.get_ydata(), dtype=float))
                   and np.isfinite(y).any()), default=0.0)
    if highest > 0 and ax.get_ylim()[1] > _BAND_REACH * highest:
        ax.set_ylim(0, 1.5 * highest)


def _title(ax: "Axes", text: str, width: int = 64) -> None:
    """A title wrapped to lines of at most ``width`` characters, so that a long one is not cut at the figure's edge."""
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(text, width)) if text else "")


def _number_ticks(axis: Any, locale: Locale) -> None:
    """Tick values of ``axis`` in the reader's number format (``12 000``, ``0,5`` in Vietnamese)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: locale.tick(value)))


def plot_sweep_figure(result: "SweepResult", column: str, *, ax: "Axes | None" = None, analytic: str | None = None,
                      lang: str = "en") -> "Axes":
    """One figure of ``points.csv`` against the first swept parameter, one line per value of the second, 95 % bands.

    Bands stay inside the figure's range by construction (a logit-scale
    interval for shares in [0, 100] %, a log-scale one for counts and times;
    :func:`simulator.results.bounded_interval`); the legend sits outside the
    data; the swept key is named in words
    (:func:`simulator.catalogue.parameter_label`); texts in ``lang``.

    Parameters
    ----------
    result : SweepResult
        A sweep's result (:func:`simulator.experiment.sweep`), its points with their parameters.
    column : str
        A figure of ``points.csv`` with its ``<column>_ci_low`` and ``<column>_ci_high`` (``peak_utilization``,
        ``latency_mean_seconds``, ...). Shares (``electronic_share``, ``bottleneck_utilization``,
        ``peak_utilization``, ``same_day_share``) are drawn in %; a column ending in ``_seconds`` in seconds,
        minutes or hours, whichever suits its largest value.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    analytic : str, optional
        A column of the analytic value of the same figure (``predicted_latency_mean_seconds``), drawn dashed
        beside each line.
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given). The x axis is the first numeric swept parameter (else the first
        swept one; the point when nothing was swept).
    """
    locale = Locale(lang)
    ax = _axes(ax, (10, 5))
    x, group = _sweep_axes(result)
    scale, unit = 1.0, ""
    if column.endswith("_seconds"):
        top = float(np.nanmax(result.table[column])) if len(result.table) else 0.0
        scale, unit = (3600.0, "axis_hours") if top >= 2 * 3600 else (60.0, "axis_minutes") if top >= 120 else (1.0, "axis_seconds")
    share = column in ("electronic_share", "bottleneck_utilization", "peak_utilization", "same_day_share")
    if share:
        scale, unit = 0.01, ""
    for label, frame in _series(result, x, group, lang):
        xs = frame[x].to_numpy()
        values = frame[column].to_numpy(dtype=float)
        line, = ax.plot(xs, values / scale, marker="o", label=label or locale.text("chart_simulated"))
        low, high = _bands(values, frame[f"{column}_ci_low"].to_numpy(dtype=float),
                           frame[f"{column}_ci_high"].to_numpy(dtype=float), share)
        if np.isfinite(low).any():
            ax.fill_between(xs, low / scale, high / scale, color=line.get_color(), alpha=0.2)
        if analytic and analytic in frame:
            ax.plot(xs, frame[analytic].astype(float) / scale, linestyle="--", color=line.get_color(), alpha=0.8,
                    label=locale.text("png_analytic_line", label=label) if label else locale.text("chart_analytic"))
    ax.set_xlabel(_axis_label(x, lang))
    figure = _label(column, lang)
    ax.set_ylabel(locale.text("png_sweep_unit", label=figure, unit=locale.text(unit)) if unit else figure)
    ax.set_ylim(bottom=0)
    if not share:
        _keep_lines_readable(ax)
    _number_ticks(ax.xaxis, locale)
    _number_ticks(ax.yaxis, locale)
    _title(ax, locale.text("png_sweep_title", figure=figure[:1].upper() + figure[1:], parameter=parameter_label(x, lang),
                           scenario=result.points[0].scenario.name))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def plot_capacity_curve(result: "SweepResult", *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
    """Capacity curve: throughput (left axis) and latency p95 (right axis) against the swept parameter, 95 % bands.

    Parameters
    ----------
    result : SweepResult
        A sweep's result (:func:`simulator.experiment.sweep`), its points with their parameters.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    matplotlib.axes.Axes
        The left axes (copies delivered per day, :func:`plot_sweep_figure`); the right one, a twin sharing its x
        axis, holds the 95th percentile delivery time, dotted. The legends are the figure's, in its right margin.
    """
    locale = Locale(lang)
    ax = _axes(ax, (11, 5))
    plot_sweep_figure(result, "throughput_per_day", ax=ax, lang=lang)
    ax.set_title("")
    right = ax.twinx()
    plot_sweep_figure(result, "latency_p95_seconds", ax=right, lang=lang)
    for line in right.get_lines():
        line.set_linestyle(":")
    right.set_title("")
    # both legends in the figure's margin right of the second axis and its label (the layout makes room for them)
    for axes, where, key in ((ax, "outside right upper", "png_capacity_throughput"),
                             (right, "outside right lower", "png_capacity_latency")):
        handles, labels = axes.get_legend_handles_labels()
        axes.get_legend().remove()
        ax.figure.legend(handles, labels, loc=where, fontsize="small", title=locale.text(key), frameon=False)
    _title(ax, locale.text("png_capacity_title", scenario=result.points[0].scenario.name))
    return ax


def plot_utilization_bars(stations: Sequence[Mapping[str, Any]], *, title: str, xlabel: str, simulated: str,
                          analytic: str, top: int = 15, ax: "Axes | None" = None) -> "Axes":
    """Horizontal bars of station utilisation from summary rows (busiest first), every text given by the caller.

    The report draws it in the reader's language; the first station (the
    busiest) is red, the analytic value a black tick, 95 % intervals whiskers
    inside [0, 100] % by construction (logit scale,
    :func:`simulator.results.bounded_interval`); the legend sits outside the bars.

    Parameters
    ----------
    stations : sequence of mapping
        Station rows of ``summary.json``, busiest first.
    title, xlabel, simulated, analytic : str
        The title, the x-axis label and the legend entries.
    top : int
        Bars drawn at most.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given).
    """
    rows = [s for s in stations if math.isfinite(s.get("utilization", math.nan))][:top][::-1]
    ax = _axes(ax, (9, 0.35 * len(rows) + 1.8))
    values = np.array([s["utilization"] for s in rows], dtype=float) * 100
    y = np.arange(len(rows))
    errors = None
    if rows and all(isinstance(s.get("utilization_ci"), list) and None not in s["utilization_ci"] for s in rows):
        low, high = _bands(values / 100, *(np.array([s["utilization_ci"][i] for s in rows], dtype=float) for i in (0, 1)),
                           share=True)
        errors = np.vstack([np.clip(values - low * 100, 0, None), np.clip(high * 100 - values, 0, None)])
    colors = ["#c0392b" if i == len(rows) - 1 else "#2e86c1" for i in range(len(rows))]
    ax.barh(y, values, color=colors, xerr=errors, capsize=3, label=simulated)
    predicted = np.array([s.get("predicted_utilization") if s.get("predicted_utilization") is not None else math.nan
                          for s in rows], dtype=float) * 100
    if np.isfinite(predicted).any():
        ax.scatter(predicted, y, marker="|", s=250, color="black", zorder=3, label=analytic)
    ax.set_yticks(y, [str(s.get("name")) for s in rows])
    ax.set_xlim(0, max(100.0, float(np.nanmax(values)) * 1.05 if len(values) else 100.0))
    ax.axvline(80, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def plot_series(x: Sequence[float], series: Mapping[str, Sequence[float]], *, title: str, xlabel: str, ylabel: str,
                stacked: bool = False, hour_text: Callable[[float], str] | None = None,
                tick_text: Callable[[float], str] | None = None, ax: "Axes | None" = None) -> "Axes":
    """Lines (or stacked areas) of named series over ``x``, every text given by the caller.

    Parameters
    ----------
    x : sequence of float
    series : mapping of str to sequence of float
        Legend label -> values (as long as ``x``).
    title, xlabel, ylabel : str
    stacked : bool
        Stacked areas instead of lines.
    hour_text : callable, optional
        ``x`` is in hours: ticks fall on whole days (every 6 hours up to two
        days, every 3 up to half a day) and read as this function writes an
        hour (day and clock time).
    tick_text : callable, optional
        Writes a y tick value as the reader's language does.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given).
    """
    ax = _axes(ax, (9, 4.2))
    xs = np.asarray(x, dtype=float)
    values = [np.asarray(v, dtype=float)[: len(xs)] for v in series.values()]
    if stacked:
        ax.stackplot(xs, *values, labels=list(series), step="pre", alpha=0.85)
    else:
        for label, ys in zip(series, values):
            ax.plot(xs[: len(ys)], ys, linewidth=1.2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    _clock_ticks(ax, xs, hour_text, tick_text)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def _clock_ticks(ax: "Axes", hours: np.ndarray, hour_text: Callable[[float], str] | None,
                 tick_text: Callable[[float], str] | None) -> None:
    """Ticks on whole days or clock hours (x in hours) and y ticks in the reader's number format."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    if hour_text is not None and len(hours):
        span = float(np.nanmax(hours) - np.nanmin(hours))
        step = 3 if span <= 12 else 6 if span <= 48 else 24 * max(1, math.ceil(span / 24 / 10))
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: hour_text(value)))
    if tick_text is not None:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: tick_text(value)))


@dataclass(frozen=True)
class SweepLine:
    """One line of :func:`plot_sweep_lines`: its label, x values, values and 95 % interval ends (NaN: none)."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    lows: Sequence[float]
    highs: Sequence[float]


def plot_sweep_lines(lines: Sequence[SweepLine], *, title: str, xlabel: str, ylabel: str, percent: bool = False,
                     threshold: float | None = None, threshold_label: str = "",
                     tick_text: Callable[[float], str] | None = None, ax: "Axes | None" = None) -> "Axes":
    """A figure of a sweep against a parameter, one line per group, 95 % bands kept inside the figure's range.

    Every text is given by the caller (the report draws it in the reader's
    language). Shares (``percent=True``) are drawn in % with a logit-scale
    band (inside [0, 100] %), other figures (counts and times) with a
    log-scale band (above 0): :func:`simulator.results.bounded_interval`.
    The legend sits outside the plotting area.

    Parameters
    ----------
    lines : sequence of SweepLine
        ``ys``, ``lows`` and ``highs`` as fractions when ``percent``.
    title, xlabel, ylabel : str
    percent : bool
        Values are shares in [0, 1], drawn as %.
    threshold : float, optional
        A horizontal line (as a fraction when ``percent``), labelled ``threshold_label``.
    threshold_label : str, optional
        The legend entry of the threshold line; none when empty.
    tick_text : callable, optional
        Writes a tick value as the reader's language does (``140 000`` in Vietnamese).
    ax : matplotlib.axes.Axes, optional
        The axes to draw on; by default those of a new figure of its own (not registered with pyplot).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax`` when given).
    """
    ax = _axes(ax, (9, 4.4))
    if tick_text is not None:
        from matplotlib.ticker import FuncFormatter

        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(lambda value, _: tick_text(value)))
    scale = 100.0 if percent else 1.0
    for line in lines:
        x = np.asarray(line.xs, dtype=float)
        ys = np.asarray(line.ys, dtype=float)
        drawn, = ax.plot(x, ys * scale, marker="o", label=line.label or None)
        low, high = _bands(ys, np.asarray(line.lows, dtype=float), np.asarray(line.highs, dtype=float), percent)
        if np.isfinite(low).any():
            ax.fill_between(x, low * scale, high * scale, color=drawn.get_color(), alpha=0.18, linewidth=0)
    if threshold is not None:
        ax.axhline(threshold * scale, color="#c0392b", linestyle="--", linewidth=1, label=threshold_label or None)
    ax.set_ylim(bottom=0, top=max(100.0, ax.get_ylim()[1]) if percent else None)
    if not percent:
        _keep_lines_readable(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if any(line.label for line in lines) or threshold_label:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def svg_markup(ax: "Axes", salt: str) -> str:
    """The figure of ``ax`` as SVG markup to put inside an HTML page (no XML prolog, glyphs as paths).

    Parameters
    ----------
    ax : Axes
    salt : str
        Makes the element ids of this chart differ from those of the page's other charts.

    Returns
    -------
    str
        ``<svg ...>...</svg>``: the text is drawn as paths, so it needs no font and shows Vietnamese
        letters on any machine.
    """
    import io

    import matplotlib as mpl

    stream = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": salt}):
        ax.figure.savefig(stream, format="svg", metadata={"Date": None, "Creator": None})
    text = stream.getvalue()
    return text[text.index("<svg"):]


def _save(ax: "Axes", path: Path) -> Path:
    ax.figure.savefig(path, dpi=110)
    return path


def save_charts(result: RunResult, folder: str | Path, topology: "Topology | None" = None, lang: str = "en") -> list[Path]:
    """Draw the standard charts of a run into ``folder/charts/`` as PNG files, texts in ``lang``; return their paths.

    Parameters
    ----------
    result : RunResult
        A run's result (:func:`simulator.experiment.run`, :func:`simulator.results.load_result`).
    folder : str or Path
        The result folder; ``charts/`` is created in it if missing, and files of the same names replaced.
    topology : Topology, optional
        The topology the result was simulated on; without it no network map is drawn.
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    list of Path
        ``utilization.png``, ``latency_cdf.png``, ``queues.png``, ``electronic_share.png``; then ``backlog.png``
        when the run had outages or failures, and ``network_map.png`` when ``topology`` is given.
    """
    target = Path(folder) / "charts"
    target.mkdir(parents=True, exist_ok=True)
    written = [_save(plot_station_utilization(result, lang=lang), target / "utilization.png"),
               _save(plot_latency_cdf(result, lang=lang), target / "latency_cdf.png"),
               _save(plot_occupancy(result, lang=lang), target / "queues.png"),
               _save(plot_electronic_share_over_time(result, lang=lang), target / "electronic_share.png")]
    if result.summary.get("outages") and "backlog" in result.timeseries:
        written.append(_save(plot_backlog(result, lang=lang), target / "backlog.png"))
    if topology is not None:
        written.append(_save(plot_network_map(result, topology, lang=lang), target / "network_map.png"))
    return written


def plot_qq(fit: "DistributionFit", *, title: str, ax: "Axes | None" = None) -> "Axes":
    """Q-Q chart of a fitted duration: observed quantiles against the fitted law's (at most 1,000 points).

    Parameters
    ----------
    fit : DistributionFit
        From :func:`simulator.calibration.fit_duration`.
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (5.0, 5.0))
    sample = np.sort(fit.sample)
    probabilities = (np.arange(1, 1001) - 0.5) / 1000 if len(sample) > 1000 else (np.arange(1, len(sample) + 1) - 0.5) / len(sample)
    observed = np.quantile(sample, probabilities)
    law = fit.frozen()
    expected = law.ppf(probabilities) if law is not None else np.full(len(probabilities), fit.mean.estimate)
    ax.plot(expected, observed, ".", markersize=3)
    top = float(max(expected.max(), observed.max()))
    ax.plot([0, top], [0, top], color="grey", linewidth=1)
    ax.set_xlabel(f"fitted {fit.family} quantile (s)")
    ax.set_ylabel("observed quantile (s)")
    ax.set_title(f"{title}: {fit.family}, mean {fit.mean.estimate:.4g} s, n = {fit.mean.samples}")
    return ax


def save_qq_charts(fits: Mapping[str, "DistributionFit"], folder: str | Path, prefix: str) -> list[Path]:
    """Draw a Q-Q chart per fitted service distribution: ``folder/<prefix>qq-<station kind>.png``.

    Parameters
    ----------
    fits : mapping of str to DistributionFit
        Station kind -> the fit of its service time (:func:`simulator.calibration.fit_duration`).
    folder : str or Path
        An existing folder (it is not created).
    prefix : str
        Put before ``qq-`` in every file name (empty for none).

    Returns
    -------
    list of Path
        The PNG files written, one per fit, in the order of ``fits``.
    """
    target = Path(folder)
    return [_save(plot_qq(fit, title=f"service time, {kind}"), target / f"{prefix}qq-{kind}.png")
            for kind, fit in fits.items()]


def save_point_charts(result: RunResult, folder: str | Path, lang: str = "en") -> list[Path]:
    """Draw a run's standard charts, network map included, into ``folder/charts/``.

    The charts ``axis-sim run`` draws, for a result that carries its
    scenario: pass it as ``sweep(..., point_charts=save_point_charts)`` so
    every point folder has the files of a run folder (for another language,
    ``functools.partial(save_point_charts, lang="vi")``).

    Parameters
    ----------
    result : RunResult
        A run's result that carries its scenario (``result.scenario``): the network map is drawn from its
        topology.
    folder : str or Path
        The run or point folder; ``charts/`` is created in it if missing.
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    list of Path
        The PNG files written, as :func:`save_charts` with a topology (network map included).
    """
    from .topology import build_topology

    return save_charts(result, folder, build_topology(result.scenario), lang)


def save_sweep_charts(result: "SweepResult", folder: str | Path, lang: str = "en") -> list[Path]:
    """Draw the sweep charts into ``folder/charts/``: capacity curve, latency, utilisation, electronic share (texts in ``lang``).

    Parameters
    ----------
    result : SweepResult
        A sweep's result (:func:`simulator.experiment.sweep`), its points with their parameters.
    folder : str or Path
        The sweep folder; ``charts/`` is created in it if missing, and files of the same names replaced.
    lang : {"en", "vi"}, default "en"
        The language of every text on the chart.

    Returns
    -------
    list of Path
        ``capacity_curve.png``, ``bottleneck_utilization.png`` (with the analytic value),
        ``peak_utilization.png``, ``latency_mean.png`` (with the analytic value) and ``electronic_share.png``.
    """
    target = Path(folder) / "charts"
    target.mkdir(parents=True, exist_ok=True)
    return [
        _save(plot_capacity_curve(result, lang=lang), target / "capacity_curve.png"),
        _save(plot_sweep_figure(result, "bottleneck_utilization", analytic="predicted_bottleneck_utilization", lang=lang),
              target / "bottleneck_utilization.png"),
        _save(plot_sweep_figure(result, "peak_utilization", lang=lang), target / "peak_utilization.png"),
        _save(plot_sweep_figure(result, "latency_mean_seconds", analytic="predicted_latency_mean_seconds", lang=lang),
              target / "latency_mean.png"),
        _save(plot_sweep_figure(result, "electronic_share", lang=lang), target / "electronic_share.png"),
    ]
