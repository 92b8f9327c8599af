"""Results: one run's outcome as plain values, tables, and a result folder on disk.

:func:`summarize` turns one replication's engine output into the summary
dictionary (keys listed in docs/reference/outputs.md); :func:`combine` merges replications into
means with 95 % Student-t confidence intervals (``<figure>_ci``).
:class:`RunResult` holds the combined summary, the station and time-series
tables as pandas DataFrames and the pooled latency histograms;
:meth:`RunResult.save` writes a result folder atomically (to a temporary
folder, renamed at the end), so a failed run never leaves half a folder.
"""
from __future__ import annotations

import csv
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, NamedTuple, Sequence

import numpy as np

from .folders import staged_folder
from .metrics import Histogram, Ledger
from .scenario import Outage, Scenario, dump_scenario

if TYPE_CHECKING:  # pragma: no cover - results sits beside analytic and does not import it
    import pandas as pd  # imported where tables are built: `axis-sim check` never loads it

    from .analytic import Prediction
    from .engine.output import Recovery

__all__ = ["ConfidenceInterval", "RunResult", "summarize", "combine", "confidence_interval", "bounded_interval", "load_result",
           "outage_seconds_between", "summary_rows", "write_workbook", "write_points_workbook"]

_DAY = 86400.0


class ConfidenceInterval(NamedTuple):
    """A two-sided confidence interval."""

    low: float
    high: float


@functools.lru_cache(maxsize=256)
def _t_quantile(level: float, degrees: int) -> float:
    from scipy import stats  # imported here: it costs most of a second at start-up, and few commands need it

    return float(stats.t.ppf(0.5 + level / 2, degrees))


def confidence_interval(values: Sequence[float], level: float = 0.95) -> ConfidenceInterval:
    """Student-t confidence interval of the mean of independent replications.

    Parameters
    ----------
    values : sequence of float
        One value per replication (NaNs are ignored).
    level : float
        Confidence level.

    Returns
    -------
    ConfidenceInterval
        ``(nan, nan)`` with fewer than two finite values.

    Examples
    --------
    >>> ci = confidence_interval([1.0, 2.0, 3.0])
    >>> round(ci.low, 4), round(ci.high, 4)
    (-0.4841, 4.4841)
    """
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size < 2:
        return ConfidenceInterval(math.nan, math.nan)
    half = _t_quantile(level, data.size - 1) * float(data.std(ddof=1)) / math.sqrt(data.size)
    mean = float(data.mean())
    return ConfidenceInterval(mean - half, mean + half)


def bounded_interval(mean: float, low: float, high: float, scale: Literal["share", "positive"]) -> ConfidenceInterval:
    """A 95 % interval that respects the range of the figure by construction, from a plain Student-t interval.

    The plain interval ``mean ± h`` (``h = t * s / sqrt(n)``) is moved to the
    scale where the figure is unbounded, and back (delta method: the
    standard error on the new scale is the old one times the derivative of
    the transform at the mean):

    * ``"share"`` (a share or a utilisation, in [0, 1]): on the logit scale,
      ``expit(logit(m) ± h / (m (1 - m)))``, always inside (0, 1);
    * ``"positive"`` (a time or a count, at least 0): on the log scale,
      ``m * exp(± h / m)``, always above 0.

    Far from the bounds (``h`` small against ``m``, ``1 - m``) it is the
    plain interval to first order. When the mean lies on a bound (a share of
    exactly 0 or 1, a time or count of exactly 0: every replication there)
    or outside the range, or the interval is missing, the plain interval is
    returned as it is (the transform is not defined there; with every
    replication on the bound it is that single point).

    Parameters
    ----------
    mean, low, high : float
        The mean of the replications and its plain t-interval.
    scale : {"share", "positive"}

    Returns
    -------
    ConfidenceInterval

    Examples
    --------
    >>> [round(v, 4) for v in bounded_interval(0.02, -0.03, 0.07, "share")]
    [0.0016, 0.2074]
    >>> [round(v, 1) for v in bounded_interval(10.0, -5.0, 25.0, "positive")]
    [2.2, 44.8]
    """
    values = (mean, low, high)
    if not all(v is not None and math.isfinite(v) for v in values):
        return ConfidenceInterval(low, high)
    half = (high - low) / 2
    if scale == "share":
        if not 0 < mean < 1:
            return ConfidenceInterval(low, high)
        centre, spread = math.log(mean / (1 - mean)), half / (mean * (1 - mean))
        return ConfidenceInterval(_expit(centre - spread), _expit(centre + spread))
    if not mean > 0:
        return ConfidenceInterval(low, high)
    spread = half / mean
    return ConfidenceInterval(mean * math.exp(-spread), mean * math.exp(spread) if spread < 700 else math.inf)


def _expit(x: float) -> float:
    """The logistic function without overflow: 1 / (1 + e^-x)."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x)) if x > -745 else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


#: Outage intervals enumerated per station before falling back to a per-outage closed form.
_MAX_OUTAGE_INTERVALS = 100_000


def _down_until(spec: Outage, t: float) -> float:
    """Seconds ``spec`` keeps a station down in ``[0, t]`` (closed form: complete periods plus the last part)."""
    if t <= spec.start:
        return 0.0
    if spec.every is None:
        return min(spec.duration, t - spec.start)
    periods, rest = divmod(t - spec.start, spec.every)
    return periods * spec.duration + min(spec.duration, rest)


#: Outages and failures listed one by one in the summary (the first of the run; every one counts in the stations).
OUTAGES_LISTED = 500


def _recoveries_by_station(recoveries: Sequence[Recovery], warmup: float) -> dict[int, list[Recovery]]:
    """The outages and failures that began in the measurement window, by station."""
    grouped: dict[int, list[Recovery]] = {}
    for recovery in recoveries:
        if recovery.start >= warmup:
            grouped.setdefault(recovery.station, []).append(recovery)
    return grouped


def _recovery_figures(recoveries: list[Recovery]) -> dict[str, float]:
    """A station's outages and failures in the window: how many, how long their backlogs took to drain, the peak.

    A drain is counted once the outage has ended and the backlog is back within 10 % of its level before it;
    ``undrained`` counts those that did not drain by the horizon (or were still down then).
    """
    drains = [r.drain_seconds for r in recoveries if math.isfinite(r.drain_seconds)]
    return {"outages": len(recoveries), "undrained": len(recoveries) - len(drains),
            "drain_mean_seconds": float(np.mean(drains)) if drains else math.nan,
            "drain_max_seconds": max(drains, default=math.nan),
            "peak_backlog": max((r.peak_backlog for r in recoveries), default=0)}


def _resends(ledger: Ledger) -> dict[str, float]:
    """Resends of refused packages: how many were sent, how many packages needed any, and the dead letters."""
    packages = sum(ledger.resends.values())
    return {"sent": ledger.resends_sent, "packages_resent": packages, "dead_letters": ledger.dead_letters,
            "mean_resends": _ratio(sum(k * n for k, n in ledger.resends.items()), packages),
            "most_resends": max(ledger.resends, default=0)}


def outage_seconds_between(outages: Sequence[Outage], low: float, high: float) -> float:
    """Seconds a station with these outages is down between ``low`` and ``high`` (overlapping outages once).

    The engine takes a station down from ``start`` for ``duration``, again
    every ``every``; this measures the union of those periods inside the
    window (the measurement window: warm-up to horizon).

    Parameters
    ----------
    outages : sequence of Outage
    low, high : float
        The window, seconds.

    Returns
    -------
    float

    Examples
    --------
    >>> from simulator.scenario import Outage
    >>> outage_seconds_between([Outage(start=100, duration=50, every=1000)], 0, 3000)
    150.0
    >>> outage_seconds_between([Outage(start=100, duration=50, every=1000)], 120, 3000)
    130.0
    >>> outage_seconds_between([Outage(start=0, duration=10), Outage(start=5, duration=10)], 0, 100)
    15.0
    """
    if high <= low or not outages:
        return 0.0
    if len(outages) == 1:
        return float(_down_until(outages[0], high) - _down_until(outages[0], low))
    counts = [1 if o.every is None else max(0, math.ceil((high - o.start) / o.every)) for o in outages]
    if sum(counts) > _MAX_OUTAGE_INTERVALS:  # too many to merge: sum each outage's share, at most the window
        return float(min(high - low, sum(_down_until(o, high) - _down_until(o, low) for o in outages)))
    intervals = sorted((o.start + k * (o.every or 0.0), o.start + k * (o.every or 0.0) + o.duration)
                       for o, count in zip(outages, counts) for k in range(count))
    total, end = 0.0, low
    for begin, finish in intervals:
        begin, finish = max(begin, end), min(finish, high)
        if finish > begin:
            total += finish - begin
            end = finish
    return float(total)


def summarize(output: Any, scenario: Scenario, topology: Any, prediction: "Prediction | None") -> dict[str, Any]:
    """The summary of one replication (docs/reference/outputs.md lists the keys).

    Parameters
    ----------
    output : simulator.engine.EngineOutput
        What the engine measured in the replication.
    scenario : Scenario
        The scenario simulated.
    topology : simulator.topology.Topology
        Its network, ``build_topology(scenario)``.
    prediction : Prediction or None
        The analytic prediction, shown next to the simulated figures.

    Returns
    -------
    dict
        The replication's summary, the keys of ``summary.json``.
    """
    ledger = output.ledger
    window = output.window
    span = window.time
    counts = ledger.as_dict()
    stations = []
    predicted = prediction.stations if prediction is not None else [None] * len(topology.stations)
    recoveries = _recoveries_by_station(output.recoveries, output.warmup)
    for i, station in enumerate(topology.stations):
        started = int(window.started[i])
        served = int(window.served[i])
        mean_wait = _ratio(window.wait_sum[i], started)
        mean_service = _ratio(window.busy_area[i], served)
        guess = predicted[i]
        stations.append({
            "id": station.node,
            "name": station.name,
            "kind": station.kind,
            "servers": station.servers,
            "utilization": _ratio(window.busy_area[i], station.servers * span),
            "peak_utilization": float(output.peak_utilization[i]),
            "mean_queue": _ratio(window.wait_area[i], span),
            "max_queue": int(output.max_queue[i]),
            "mean_wait_seconds": mean_wait,
            "mean_sojourn_seconds": mean_wait + mean_service,
            "throughput_per_day": served / span * _DAY,
            "arrivals": int(window.arrived[i]),
            "dropped": int(window.dropped[i]),
            "outage_seconds": float(output.outage_seconds[i]),
            "availability": 1.0 - float(output.outage_seconds[i]) / span if span > 0 else math.nan,
            "standby_seconds": float(output.standby_seconds[i]),
            "switchovers": int(output.switchovers[i]),
            **_recovery_figures(recoveries.get(i, [])),
            "predicted_utilization": guess.utilization if guess else math.nan,
            "predicted_mean_sojourn_seconds": guess.mean_sojourn if guess else math.nan,
        })
    busiest = max(stations, key=lambda s: s["utilization"] if math.isfinite(s["utilization"]) else -1, default=None)
    peak = max(stations, key=lambda s: s["peak_utilization"] if math.isfinite(s["peak_utilization"]) else -1, default=None)
    latency = output.latency
    summary: dict[str, Any] = {
        "documents": {
            "generated": counts["documents_generated"],
            "electronic": counts["documents_electronic"],
            "paper": counts["documents_paper"],
            "delivered": counts["documents_delivered"],
            "dropped": counts["documents_dropped"],
            "fallback_paper": counts["documents_fallback"],
            "in_flight": counts["documents_in_flight"],
        },
        "copies": {**{key: counts[f"copies_{key}"] for key in ("generated", "electronic", "paper", "delivered", "dropped",
                                                                 "in_flight")},
                   "fallback_paper": counts["copies_fallback"]},
        "resends": _resends(ledger),
        "duplicates": {"sent_again": ledger.ack_resends, "suppressed": ledger.duplicates,
                       "lost": ledger.duplicates_lost},
        "statuses": {key: counts[f"statuses_{key}"] for key in ("generated", "delivered", "dropped", "in_flight")},
        "paper_reasons": dict(ledger.paper_reasons),
        "electronic_share": _ratio(counts["documents_electronic"], counts["documents_generated"]),
        "electronic_copy_share": _ratio(counts["copies_electronic"], counts["copies_generated"]),
        "recipients_per_document": _ratio(counts["copies_generated"], counts["documents_generated"]),
        "documents_per_day": counts["documents_generated"] / output.horizon * _DAY,
        "working_days": output.working_days,
        "documents_per_working_day": _ratio(counts["documents_generated"], output.working_days),
        "electronic_per_working_day": _ratio(counts["documents_electronic"], output.working_days),
        "throughput_per_day": output.copies_delivered_in_window / span * _DAY,
        "latency_seconds": {
            "mean": latency.mean,
            "p50": latency.quantile(0.50),
            "p95": latency.quantile(0.95),
            "p99": latency.quantile(0.99),
            "max": latency.maximum if latency.count else math.nan,
        },
        "latency_by_type_seconds": {
            "urgent_mean": output.urgent_latency.mean,
            "normal_mean": _ratio(latency.total - output.urgent_latency.total, latency.count - output.urgent_latency.count),
        },
        "same_day_share": _ratio(output.same_day_deliveries, latency.count + output.fallback_received),
        "same_day_share_in_outages": _ratio(output.outage_same_day_deliveries, output.outage_copies),
        "outages": [{"station": topology.stations[r.station].node, "start_seconds": r.start, "end_seconds": r.end,
                     "backlog_before": r.backlog_before, "peak_backlog": r.peak_backlog,
                     "drained_at_seconds": r.drained_at}
                    for r in output.recoveries[:OUTAGES_LISTED]],
        "paper_latency_seconds": {"mean": output.paper_latency.mean},
        "status_latency_seconds": {"mean": output.status_latency.mean, "p95": output.status_latency.quantile(0.95)},
        "stations": stations,
        "bottleneck": {"id": busiest["id"], "name": busiest["name"], "utilization": busiest["utilization"]} if busiest else None,
        "peak_bottleneck": {"id": peak["id"], "name": peak["name"], "utilization": peak["peak_utilization"],
                            "interval_seconds": scenario.run.timeseries_interval} if peak else None,
        "horizon_seconds": output.horizon,
        "warmup_seconds": output.warmup,
        "events": output.events,
    }
    if prediction is not None:
        position = next((i for i, s in enumerate(prediction.stations) if s is prediction.bottleneck), None)
        summary["analytic"] = {
            "bottleneck_id": topology.stations[position].node if position is not None else None,
            "bottleneck": prediction.bottleneck.name if prediction.bottleneck else None,
            "bottleneck_utilization": prediction.bottleneck.utilization if prediction.bottleneck else math.nan,
            "bottleneck_open_hours_utilization": (prediction.bottleneck.peak_utilization if prediction.bottleneck
                                                  else math.nan),
            "busiest_hour": prediction.busiest_hour.label if prediction.busiest_hour else None,
            "busiest_hour_bottleneck": (prediction.busiest_hour_station.name if prediction.busiest_hour_station
                                        else None),
            "busiest_hour_utilization": prediction.busiest_hour_utilization,
            "headroom": prediction.headroom,
            "latency_mean_seconds": prediction.latency_mean,
            "exact": prediction.exact,
            "caveats": list(prediction.caveats),
        }
    return summary


def _combine_values(values: list[Any]) -> tuple[Any, Any]:
    first = values[0]
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        return first, None
    numbers = [float(v) for v in values]
    finite = [v for v in numbers if math.isfinite(v)]
    mean = float(np.mean(finite)) if finite else math.nan
    return mean, list(confidence_interval(numbers))


_NO_CI = {"horizon_seconds", "warmup_seconds", "working_days", "interval_seconds", "servers", "id", "name", "kind", "exact",
          "caveats", "bottleneck_id",
          "predicted_utilization", "predicted_mean_sojourn_seconds", "bottleneck_utilization",
          "bottleneck_open_hours_utilization", "busiest_hour_utilization", "busiest_hour", "busiest_hour_bottleneck",
          "headroom",
          "latency_mean_seconds"}


#: Summary entries that differ in shape between replications: the first replication's is kept.
_FIRST_ONLY = frozenset({"outages"})


def _merge(items: list[Any]) -> Any:
    first = items[0]
    if isinstance(first, dict):
        out: dict[str, Any] = {}
        for key in first:
            if key in _FIRST_ONLY:
                out[key] = first[key]
                continue
            merged = _merge([item[key] for item in items])
            if isinstance(merged, tuple):
                out[key] = merged[0]
                if merged[1] is not None and key not in _NO_CI:
                    out[f"{key}_ci"] = merged[1]
            else:
                out[key] = merged
        return out
    if isinstance(first, list):
        if first and isinstance(first[0], dict):
            return [_merge([item[i] for item in items]) for i in range(len(first))]
        return first
    return _combine_values(items)


def combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge replication summaries: means, and ``<key>_ci`` 95 % intervals when there are several.

    Counts become means over replications; names and flags are kept from the
    first replication. A single replication is returned unchanged.

    Parameters
    ----------
    summaries : list of dict
        One summary per replication (:func:`summarize`), in replication order.

    Returns
    -------
    dict
        The summary of the run, as ``summary.json`` holds it.
    """
    if len(summaries) == 1:
        return summaries[0]
    merged = _merge(summaries)
    assert isinstance(merged, dict)
    return merged


def _empty_frame() -> pd.DataFrame:
    """An empty table (the default occupancy of a :class:`RunResult`)."""
    import pandas as pd

    return pd.DataFrame()


@dataclass
class RunResult:
    """The outcome of ``simulator.run``.

    Attributes
    ----------
    summary : dict
        Every figure of docs/reference/outputs.md (means and ``_ci`` intervals over replications).
    stations : pandas.DataFrame
        One row per station.
    timeseries : pandas.DataFrame
        One row per sampling instant (means over replications).
    latency : Histogram
        End-to-end latency of electronic copies, pooled over replications.
    replications : list of dict
        The summary of every replication.
    scenario : Scenario
    """

    summary: dict[str, Any]
    stations: pd.DataFrame
    timeseries: pd.DataFrame
    latency: Histogram
    replications: list[dict[str, Any]]
    scenario: Scenario
    occupancy: pd.DataFrame = field(default_factory=_empty_frame)

    def __repr__(self) -> str:
        s = self.summary
        docs = s["documents"]
        bottleneck = s.get("bottleneck") or {}
        return (f"<RunResult {s['scenario']!r} seed={s['seed']} replications={s['replications']}: "
                f"{docs['generated']:.0f} documents, electronic share {s['electronic_share']:.1%}, "
                f"latency p95 {s['latency_seconds']['p95']:.0f}s, bottleneck {bottleneck.get('name')!r} "
                f"at {bottleneck.get('utilization', math.nan):.1%}>")

    def save(self, folder: str | Path, extra: Callable[[Path], None] | None = None, excel: bool = False) -> Path:
        """Write the result folder atomically and return its path.

        Writes ``summary.json``, ``stations.csv``, ``timeseries.csv``,
        ``replications.csv`` (each replication's headline and station figures,
        :func:`replication_rows`, for comparisons paired by replication),
        ``tables.xlsx`` (the three tables as sheets, see :func:`write_workbook`)
        and ``scenario.toml`` (the resolved scenario) into a hidden temporary
        sibling folder, calls ``extra(temporary_folder)`` (e.g. to draw
        charts), then renames it to ``folder``, replacing an earlier result.
        Temporary siblings a killed run left behind are removed first.
        Folders and files get the permissions the user's umask allows.
        ``excel=True`` writes the CSV files with a UTF-8 byte-order mark
        (:func:`csv_encoding`), so Excel shows Vietnamese names intact.

        Parameters
        ----------
        folder : str or Path
            The result folder to write (created; an earlier result there is
            replaced).
        extra : callable, optional
            Called with the temporary folder before it is renamed, to add
            files (``charts/``).
        excel : bool, optional
            Write the CSV files with a UTF-8 byte-order mark.

        Returns
        -------
        Path
            ``folder``.

        Raises
        ------
        ExperimentError
            If ``folder`` is a file, or a non-empty folder that holds no
            earlier result (it is not replaced); nothing is written.
        OSError
            If writing fails (a full disk); the temporary folder is removed.
        """
        target = Path(folder)
        with staged_folder(target, "run") as temporary:
            (temporary / "summary.json").write_text(json.dumps(jsonable(self.summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            self.stations.to_csv(temporary / "stations.csv", index=False, encoding=csv_encoding(excel))
            self.timeseries.to_csv(temporary / "timeseries.csv", index=False, encoding=csv_encoding(excel))
            _write_replications(self.replications, temporary / "replications.csv", csv_encoding(excel))
            write_workbook(self.summary, self.stations, self.timeseries, temporary / "tables.xlsx")
            (temporary / "scenario.toml").write_text(dump_scenario(self.scenario), encoding="utf-8")
            if extra is not None:
                extra(temporary)
        return target


#: The figures ``replications.csv`` keeps for each replication (dotted keys of summary.json), besides each
#: station's ``utilization``, ``peak_utilization`` and ``mean_wait_seconds``: what ``axis-sim compare`` pairs
#: by replication. (The bottleneck over replications is the station with the highest mean, so its values per
#: replication are that station's, read from the station rows.)
REPLICATION_FIGURES: tuple[str, ...] = (
    "electronic_share", "documents_per_working_day", "throughput_per_day", "latency_seconds.mean",
    "latency_seconds.p95", "same_day_share")
_REPLICATION_STATION_FIGURES = ("utilization", "peak_utilization", "mean_wait_seconds")


def replication_rows(replications: Sequence[dict[str, Any]]) -> list[tuple[int, str, str, Any]]:
    """The rows of ``replications.csv``: ``(replication, figure, station id or "", value)``.

    One row per replication and headline figure (:data:`REPLICATION_FIGURES`),
    then one per replication, station and station figure (``utilization``,
    ``peak_utilization``, ``mean_wait_seconds``); a missing or non-finite value is None.

    Examples
    --------
    >>> replication_rows([{"electronic_share": 0.5, "stations": [{"id": "hub", "utilization": 0.1}]}])[:1]
    [(0, 'electronic_share', '', 0.5)]
    >>> replication_rows([{"stations": [{"id": "hub", "utilization": 0.1}]}])[-3:]
    [(0, 'utilization', 'hub', 0.1), (0, 'peak_utilization', 'hub', None), (0, 'mean_wait_seconds', 'hub', None)]
    """
    rows: list[tuple[int, str, str, Any]] = []
    for index, summary in enumerate(replications):
        for key in REPLICATION_FIGURES:
            node: Any = summary
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            rows.append((index, key, "", jsonable(node) if isinstance(node, (int, float)) else None))
        for station in summary.get("stations", []):
            for key in _REPLICATION_STATION_FIGURES:
                rows.append((index, key, str(station.get("id")), jsonable(station.get(key))))
    return rows


def _write_replications(replications: Sequence[dict[str, Any]], path: Path, encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["replication", "figure", "station", "value"])
        writer.writerows((r, figure, station, "" if value is None else repr(float(value)))
                         for r, figure, station, value in replication_rows(replications))


def csv_encoding(excel: bool) -> str:
    """The encoding of the CSV files: UTF-8, with a byte-order mark for Excel (``--excel``).

    Excel reads a CSV file without a byte-order mark in the machine's legacy code page, so Vietnamese
    names come out garbled; with the mark it reads UTF-8. Python reads either with ``utf-8-sig``.

    Examples
    --------
    >>> csv_encoding(True), csv_encoding(False)
    ('utf-8-sig', 'utf-8')
    """
    return "utf-8-sig" if excel else "utf-8"


def jsonable(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, NumPy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """The summary as rows ``(dotted key, value, 95 % CI low, high)``, the station and outage lists left out.

    Lists of plain values (caveats, station ids) become one text joined by ``"; "``;
    NaN becomes None.

    Parameters
    ----------
    summary : dict
        A run's summary (``summary.json``).

    Returns
    -------
    list of tuple
        ``(dotted key, value, low, high)``, in the order of the summary; low
        and high are None without an interval.

    Examples
    --------
    >>> summary_rows({"a": 1.0, "a_ci": [0.5, 1.5], "b": {"c": "x"}, "stations": [], "d": ["p", "q"]})
    [('a', 1.0, 0.5, 1.5), ('b.c', 'x', None, None), ('d', 'p; q', None, None)]
    """
    rows: list[tuple[str, Any, Any, Any]] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if key.endswith("_ci") or (not prefix and key in ("stations", "outages")):
                continue
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
                continue
            interval = node.get(f"{key}_ci")
            low, high = interval if isinstance(interval, list) and len(interval) == 2 else (None, None)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            rows.append((f"{prefix}{key}", jsonable(value), jsonable(low), jsonable(high)))

    walk(summary, "")
    return rows


def _write_book(path: Path, sheets: list[tuple[str, Sequence[str], Any]]) -> Path:
    """Write an XLSX workbook of ``sheets`` (title, header, rows), header rows frozen.

    Written row by row as it goes (XlsxWriter's constant-memory mode: twice
    as fast as openpyxl's write-only mode on the full 2025 structure's
    station table); numbers stay numbers (16 significant digits), a missing
    or non-finite one an empty cell, and every text a text cell, never a
    formula (a name that begins with ``=`` included).
    """
    import xlsxwriter  # imported here: only writing a result folder needs it

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    for title, header, rows in sheets:
        sheet = book.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        for column, name in enumerate(header):
            sheet.write_string(0, column, str(name))
        for row_number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                _write_cell(sheet, row_number, column, jsonable(value))
    book.close()
    return path


def _write_cell(sheet: Any, row: int, column: int, value: Any) -> None:
    """One cell: a text as text, a truth value as one, a number as a number; ``None`` leaves the cell empty."""
    if value is None:
        return
    if isinstance(value, str):
        sheet.write_string(row, column, value)
    elif isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(row, column, bool(value))
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value)
    elif isinstance(value, (list, dict)):  # an interval, a mapping: its JSON text
        sheet.write_string(row, column, json.dumps(value, ensure_ascii=False))
    else:
        sheet.write_string(row, column, str(value))


def write_workbook(summary: dict[str, Any], stations: pd.DataFrame, timeseries: pd.DataFrame, path: Path) -> Path:
    """Write ``tables.xlsx``: sheets ``summary``, ``stations`` and ``timeseries``, header rows frozen.

    Numbers are stored as numbers (a missing or non-finite value as an
    empty cell), text as UTF-8 text, so Vietnamese names arrive intact.

    Parameters
    ----------
    summary : dict
        The run summary (one row per figure: key, value, 95 % interval).
    stations, timeseries : pandas.DataFrame
        The tables of ``stations.csv`` and ``timeseries.csv``.
    path : Path
        The file to write.

    Returns
    -------
    Path
    """
    return _write_book(path, [("summary", ["figure", "value", "ci_low", "ci_high"], summary_rows(summary))] + [
        (title, [str(c) for c in frame.columns], frame.itertuples(index=False, name=None))
        for title, frame in (("stations", stations), ("timeseries", timeseries))])


def write_points_workbook(points: pd.DataFrame, path: Path) -> Path:
    """Write a sweep folder's ``tables.xlsx``: one sheet ``points`` (the table of ``points.csv``), header row frozen.

    Numbers are stored as numbers (a missing value as an empty cell), the
    busiest station's Vietnamese name as UTF-8 text; each point folder has
    its own ``tables.xlsx`` with its summary, stations and timeseries
    (:func:`write_workbook`).

    Parameters
    ----------
    points : pandas.DataFrame
        The sweep's table of points, one row per point.
    path : Path
        The file to write.

    Returns
    -------
    Path
    """
    return _write_book(path, [("points", [str(c) for c in points.columns], points.itertuples(index=False, name=None))])


def stations_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The station table of a summary (CI columns split into ``_ci_low`` / ``_ci_high``)."""
    import pandas as pd

    rows = []
    for station in summary["stations"]:
        row = {}
        for key, value in station.items():
            if key.endswith("_ci") and isinstance(value, list):
                row[f"{key}_low"], row[f"{key}_high"] = value
            else:
                row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


def load_result(folder: str | Path) -> dict[str, Any]:
    """Read ``summary.json`` of a result folder.

    Parameters
    ----------
    folder : str or Path
        A result folder written by ``axis-sim run`` or :meth:`RunResult.save`.

    Returns
    -------
    dict
        The summary, as :attr:`RunResult.summary` holds it.
    """
    return json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
