"""Charts: matplotlib figures drawn from results, never from the model.

Each ``plot_*`` function takes a :class:`~simulator.results.RunResult` and an
optional ``ax`` and returns the Axes; it never calls ``plt.show()`` and never
changes global settings. :func:`save_charts` draws the standard set into a
result folder. Vietnamese names are kept intact (DejaVu Sans covers them).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .results import RunResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_station_utilization", "plot_latency_cdf", "plot_occupancy", "save_charts"]


def _axes(ax: "Axes | None", size: tuple[float, float]) -> "Axes":
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    return figure.add_subplot()


def _busiest(result: RunResult, top: int) -> list[dict[str, Any]]:
    stations = [s for s in result.summary["stations"] if math.isfinite(s["utilization"])]
    return sorted(stations, key=lambda s: s["utilization"], reverse=True)[:top]


def plot_station_utilization(result: RunResult, *, top: int = 15, ax: "Axes | None" = None) -> "Axes":
    """Horizontal bars: simulated utilisation of the busiest stations, analytic value as a tick.

    The bottleneck is drawn in red; with replications, bars carry 95 % CI whiskers.
    """
    ax = _axes(ax, (9, 0.35 * top + 1.8))
    stations = _busiest(result, top)[::-1]
    names = [s["name"] for s in stations]
    values = np.array([s["utilization"] for s in stations]) * 100
    colors = ["#c0392b" if i == len(stations) - 1 else "#2e86c1" for i in range(len(stations))]
    y = np.arange(len(stations))
    errors = None
    if stations and "utilization_ci" in stations[0]:
        low = np.array([s["utilization_ci"][0] for s in stations]) * 100
        high = np.array([s["utilization_ci"][1] for s in stations]) * 100
        errors = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
    ax.barh(y, values, color=colors, xerr=errors, capsize=3, label="simulated")
    predicted = np.array([s.get("predicted_utilization", math.nan) for s in stations]) * 100
    if np.isfinite(predicted).any():
        ax.scatter(predicted, y, marker="|", s=250, color="black", zorder=3, label="analytic (M/G/c)")
    ax.set_yticks(y, names)
    ax.set_xlabel("utilisation (%)")
    ax.set_xlim(0, max(100.0, float(np.nanmax(values)) * 1.05 if len(values) else 100.0))
    ax.axvline(80, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"Busiest stations: {result.summary['scenario']} (bottleneck in red)")
    ax.legend(loc="lower right")
    return ax


def plot_latency_cdf(result: RunResult, *, ax: "Axes | None" = None) -> "Axes":
    """Cumulative distribution of end-to-end latency of electronic copies, with p50/p95/p99 marked."""
    ax = _axes(ax, (8, 4.5))
    edges, share = result.latency.cdf_points()
    latency = result.summary["latency_seconds"]
    median = latency.get("p50") or 0.0
    unit, scale = ("hours", 3600.0) if median >= 2 * 3600 else ("minutes", 60.0) if median >= 120 else ("seconds", 1.0)
    ax.plot(edges / scale, share * 100, color="#2e86c1", drawstyle="steps-post")
    for key, style in (("p50", "--"), ("p95", "-."), ("p99", ":")):
        value = latency.get(key)
        if value is not None and math.isfinite(value):
            ax.axvline(value / scale, color="grey", linestyle=style, linewidth=1, label=f"{key} = {_duration(value)}")
    if len(edges) and edges[0] > 0:
        ax.set_xscale("log")
    ax.set_xlabel(f"end-to-end latency ({unit}, log scale)")
    ax.set_ylabel("copies delivered within (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Latency of electronic copies: {result.summary['scenario']}")
    ax.legend(loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_occupancy(result: RunResult, *, top: int = 5, ax: "Axes | None" = None) -> "Axes":
    """Documents at the busiest stations (waiting + in service) over time."""
    ax = _axes(ax, (10, 4.5))
    frame = result.occupancy
    hours = result.timeseries["time_hours"].to_numpy()
    for station in _busiest(result, top):
        if station["name"] in frame:
            ax.plot(hours[: len(frame)], frame[station["name"]].to_numpy(), linewidth=1, label=station["name"])
    ax.set_xlabel("simulated time (hours)")
    ax.set_ylabel("documents at the station")
    ax.set_title(f"Queues at the busiest stations: {result.summary['scenario']}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def save_charts(result: RunResult, folder: str | Path) -> list[Path]:
    """Draw the standard charts into ``folder/charts/`` as PNG files and return their paths."""
    target = Path(folder) / "charts"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("utilization.png", plot_station_utilization), ("latency_cdf.png", plot_latency_cdf),
                       ("queues.png", plot_occupancy)):
        ax = draw(result)
        path = target / name
        ax.figure.savefig(path, dpi=110)
        written.append(path)
    return written
