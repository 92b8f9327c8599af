"""Compare: two or more run folders side by side, in one self-contained HTML page and a terminal table.

:func:`load_comparison` reads the run folders (refusing, with the folder
named, one that is not a run folder or shares no station with the first);
:func:`build_comparison` turns them into a :class:`Comparison` in one
language: the answer in sentences first ("B lowers the 95 % delivery time
from ... to ...; the bottleneck moves from X to Y"), then every headline
figure of every run with its 95 % interval, the difference to the first run
and whether that difference is significant, and the stations, matched by
their stable id (never by name), whose utilisation or mean wait changed
most. :func:`render_comparison` renders it with the report's templates
(autoescaped, no network request); :func:`comparison_table` is the terminal
table.

Significance: when the runs share a seed, replication r of each used the
same random numbers (common random numbers), and each folder's
``replications.csv`` keeps every replication's figures; each difference is
then the mean of the per-replication differences with its Student-t 95 %
interval (paired). Otherwise (different seeds, a folder without
``replications.csv``, different numbers of replications, a value missing in
some replication) only the means and their 95 % intervals
``mean ± t(n-1) s / sqrt(n)`` are used: the standard error of each mean is
recovered from the interval's half-width and the difference gets a Welch
interval (unequal variances, Welch-Satterthwaite degrees of freedom). A
difference is significant when its interval excludes 0; the page says which
method was used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import __version__
from .catalogue import MISSING, Locale, format_number, is_finite, messages
from .errors import ExperimentError
from .report import RunFolder, load_run_folder, lookup, summary_interval, template_environment

__all__ = ["Estimate", "Difference", "welch_difference", "paired_difference", "replication_values", "load_comparison",
           "ComparedFigure", "ComparedStation", "Comparison", "compared_figures", "compared_stations",
           "comparison_answer", "paired_runs", "build_comparison", "render_comparison", "comparison_table"]


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95 % Student-t interval (``None`` with one replication).

    ``values`` are the replication values (from ``replications.csv``) when the folder has them.
    """

    mean: float | None
    interval: tuple[float, float] | None
    replications: int
    values: tuple[float, ...] | None = None

    def standard_error(self) -> float | None:
        """The standard error of the mean, from the interval's half-width; None without an interval."""
        if self.interval is None or self.replications < 2:
            return None
        from scipy import stats

        return (self.interval[1] - self.interval[0]) / 2 / float(stats.t.ppf(0.975, self.replications - 1))


@dataclass(frozen=True)
class Difference:
    """``b - a`` with its 95 % Welch interval; ``significant`` is None when either run has no interval."""

    value: float | None
    low: float | None
    high: float | None
    significant: bool | None


def welch_difference(a: Estimate, b: Estimate, level: float = 0.95) -> Difference:
    """The difference ``b - a`` of two means and its Welch confidence interval.

    Parameters
    ----------
    a, b : Estimate
        Means with their 95 % Student-t intervals over independent replications.
    level : float
        Confidence level of the interval of the difference.

    Returns
    -------
    Difference
        Significant when the interval excludes 0.

    Examples
    --------
    >>> a = Estimate(10.0, (9.0, 11.0), 5)
    >>> d = welch_difference(a, Estimate(13.0, (12.0, 14.0), 5))
    >>> round(d.value, 3), d.significant, round(d.low, 2), round(d.high, 2)
    (3.0, True, 1.83, 4.17)
    >>> welch_difference(a, Estimate(10.5, (9.5, 11.5), 5)).significant
    False
    """
    if a.mean is None or b.mean is None:
        return Difference(None, None, None, None)
    value = b.mean - a.mean
    se_a, se_b = a.standard_error(), b.standard_error()
    if se_a is None or se_b is None:
        return Difference(value, None, None, None)
    variance = se_a ** 2 + se_b ** 2
    if variance == 0:
        return Difference(value, value, value, value != 0)
    degrees = variance ** 2 / (se_a ** 4 / (a.replications - 1) + se_b ** 4 / (b.replications - 1))
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, degrees)) * math.sqrt(variance)
    return Difference(value, value - half, value + half, not (value - half <= 0 <= value + half))


def paired_difference(a: Estimate, b: Estimate, level: float = 0.95) -> Difference:
    """The difference ``b - a`` with the Student-t interval of the per-replication differences ``b_r - a_r``.

    Valid when the pairs are independent from one replication to the next,
    as the replications of a run are; when the runs share a seed, replication
    r of each used the same random numbers, the pairs are positively
    correlated and this interval is narrower than Welch's.

    Parameters
    ----------
    a, b : Estimate
        The same figure in two runs, with their replication values (``values``) in replication order.
    level : float, default 0.95
        Confidence level of the interval of the difference.

    Returns
    -------
    Difference
        ``b.mean - a.mean`` with the Student-t interval of the per-replication differences, significant when it
        excludes 0; when every per-replication difference is the same, the interval is that single value and
        the difference is significant when it is not zero. Without replication values in both (or without a
        mean), :func:`welch_difference` of the two.

    Examples
    --------
    >>> a = Estimate(2.0, (0.0, 4.0), 3, (1.0, 2.0, 3.0))
    >>> d = paired_difference(a, Estimate(2.5, (0.5, 4.5), 3, (1.4, 2.6, 3.5)))
    >>> round(d.value, 3), d.significant, round(d.low, 3), round(d.high, 3)
    (0.5, True, 0.252, 0.748)
    """
    from .results import confidence_interval

    if a.mean is None or b.mean is None or a.values is None or b.values is None:
        return welch_difference(a, b, level)
    differences = [y - x for x, y in zip(a.values, b.values)]
    low, high = confidence_interval(differences, level)
    value = b.mean - a.mean
    if math.isclose(max(differences), min(differences), rel_tol=0, abs_tol=1e-12 * max(1.0, abs(value))):
        return Difference(value, value, value, abs(value) > 1e-12 * max(1.0, abs(b.mean)))
    return Difference(value, low, high, not (low <= 0 <= high))


def _pairable(a: Estimate, b: Estimate) -> bool:
    """Both runs have every replication value (none missing), as many of them, at least two."""
    return (a.values is not None and b.values is not None and len(a.values) == len(b.values) >= 2
            and all(math.isfinite(v) for v in a.values + b.values))


#: Where the replication values of a bottleneck figure are: the station figure of the bottleneck station.
_BOTTLENECKS = {"bottleneck.utilization": ("utilization", "bottleneck.id"),
                "peak_bottleneck.utilization": ("peak_utilization", "peak_bottleneck.id")}


def _estimate(node: Mapping[str, Any], key: str, replications: int,
              values: Mapping[tuple[str, str], tuple[float, ...]] | None = None, station: str = "") -> Estimate:
    value = lookup(node, key)
    where = (key, station)
    if key in _BOTTLENECKS:
        where = (_BOTTLENECKS[key][0], str(lookup(node, _BOTTLENECKS[key][1])))
    kept = values.get(where) if values is not None else None
    return Estimate(float(value) if is_finite(value) else None, summary_interval(node, key), replications, kept)


def replication_values(folder: RunFolder) -> dict[tuple[str, str], tuple[float, ...]] | None:
    """The replication values of ``replications.csv``: ``(figure, station id) -> values by replication``.

    None when the folder has no such file (written before it existed) or it cannot be read.

    Parameters
    ----------
    folder : RunFolder
        A run folder (:func:`simulator.report.load_run_folder`).

    Returns
    -------
    dict or None
        Maps ``(figure, station id)`` (the station id empty for a headline figure; the figure a dotted key of
        summary.json or a station column such as ``utilization``) to its values in replication order, in the
        figure's unit (shares in [0, 1], times in seconds); an empty cell is NaN. None without a readable
        ``replications.csv``.
    """
    import csv

    file = folder.path / "replications.csv"
    if not file.is_file():
        return None
    found: dict[tuple[str, str], dict[int, float]] = {}
    try:
        with open(file, encoding="utf-8-sig", newline="") as stream:
            for row in csv.DictReader(stream):
                value = float(row["value"]) if row["value"] else math.nan
                found.setdefault((row["figure"], row["station"]), {})[int(row["replication"])] = value
    except (OSError, UnicodeDecodeError, KeyError, ValueError):
        return None
    return {key: tuple(by_index[i] for i in sorted(by_index)) for key, by_index in found.items()}


def _replications(folder: RunFolder) -> int:
    count = folder.summary.get("replications", 1)
    return int(count) if is_finite(count) else 1


def _check_sweep(path: Path) -> None:
    if (path / "points.csv").is_file() or (path / "manifest.json").is_file():
        raise ExperimentError(f"{path}: is a sweep folder, not a run folder; compare run folders, or point folders "
                              f"such as {path / 'points' / '<point>'}")


def load_comparison(paths: Sequence[str | Path]) -> list[RunFolder]:
    """Read two or more run folders to compare (the first is the reference).

    Parameters
    ----------
    paths : sequence of str or Path
        The run folders written by ``axis-sim run`` (or points of a sweep), the reference first.

    Returns
    -------
    list of RunFolder
        One per path, in the order given.

    Raises
    ------
    ExperimentError
        Fewer than two folders; a folder that is missing, a sweep folder or no
        run folder; a folder whose structure shares no station set with the
        first: no station id, or only the national hub, in common (the message
        names the folder and says which).
    """
    if len(paths) < 2:
        raise ExperimentError(f"compare needs two or more run folders, got {len(paths)}; give RESULT_DIR_A RESULT_DIR_B ...")
    folders = []
    for path in paths:
        _check_sweep(Path(path))
        folders.append(load_run_folder(path))
    for folder in folders[1:]:
        _check_common_stations(folders[0], folder)
    return folders


def _check_common_stations(first: RunFolder, other: RunFolder) -> None:
    """Refuse two runs whose structures share no station set: no station id, or only the national hub, in common.

    Every structure has the hub; a comparison needs platforms or agency systems in common as well.
    """
    ids = [{str(s.get("id")): str(s.get("kind")) for s in f.summary["stations"]} for f in (first, other)]
    common = ids[0].keys() & ids[1].keys()
    if any(ids[0][i] != "hub" for i in common):
        return
    shared = "only the national hub" if common else "no station id"
    raise ExperimentError(
        f"{other.path}: cannot be compared with {first.path}: different structures with {shared} in common "
        f"({len(ids[1])} stations against {len(ids[0])}, matched by id); compare runs of the same network, or of "
        "networks with platforms or agencies in common")


@dataclass(frozen=True)
class ComparedFigure:
    """One headline figure in every run: value, interval, difference to the first run and its significance."""

    key: str
    label: str
    values: tuple[float | None, ...]
    texts: tuple[str, ...]
    intervals: tuple[str, ...]
    differences: tuple[Difference | None, ...]
    difference_texts: tuple[str, ...]
    difference_intervals: tuple[str, ...]


@dataclass(frozen=True)
class ComparedStation:
    """A station present in every run (matched by id): utilisation and mean wait in each, differences to the first."""

    id: str
    name: str
    kind: str
    kind_text: str
    utilization: tuple[float | None, ...]
    utilization_texts: tuple[str, ...]
    utilization_differences: tuple[Difference | None, ...]
    utilization_difference_texts: tuple[str, ...]
    utilization_difference_intervals: tuple[str, ...]
    wait_texts: tuple[str, ...]
    wait_differences: tuple[Difference | None, ...]
    wait_difference_texts: tuple[str, ...]
    wait_difference_intervals: tuple[str, ...]

    def change(self, attribute: str, index: int | None = None) -> tuple[bool, float]:
        """How much ``attribute`` (``utilization`` or ``wait``) changed against the first run, for ranking.

        ``(significant, absolute difference)`` of run ``index``, or the largest
        over the runs when ``index`` is None: significant changes rank first.
        """
        differences = getattr(self, f"{attribute}_differences")[1:] if index is None else \
            (getattr(self, f"{attribute}_differences")[index],)
        ranks = [(bool(d.significant), abs(d.value)) for d in differences if d and d.value is not None]
        return max(ranks, default=(False, 0.0))


#: Headline figures compared: summary key, catalogue key of the label, how the value is shown.
_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("electronic_share", "fig_electronic_share", "percent"),
    ("documents_per_working_day", "fig_documents_per_working_day", "count"),
    ("throughput_per_day", "fig_throughput_per_day", "count"),
    ("latency_seconds.mean", "fig_latency_mean", "duration"),
    ("latency_seconds.p95", "fig_latency_p95", "duration"),
    ("same_day_share", "fig_same_day_share", "percent"),
    ("bottleneck.utilization", "cmp_bottleneck", "percent"),
    ("peak_bottleneck.utilization", "cmp_peak", "percent"),
    ("analytic.headroom", "fig_headroom", "factor"),
)


def _signed(locale: Locale, how: str, value: float | None) -> str:
    """A difference with its sign: ``+3.2 pp``, ``-12 s``, ``+1,234``; none when it rounds to zero.

    Examples
    --------
    >>> _signed(Locale("vi"), "percent", -0.00001), _signed(Locale("en"), "percent", 0.032), _signed(Locale("en"), "count", -42)
    ('0,00 điểm %', '+3.2 pp', '−42')
    """
    if value is None or not is_finite(value):
        return MISSING
    if how == "percent":
        points = abs(value) * 100
        shown = locale.text("unit_pp", value=format_number(points, locale.lang, 2 if points < 1 else 1))
    elif how == "factor":
        shown = format_number(abs(value), locale.lang, 2)
    elif how == "count":
        shown = format_number(abs(value), locale.lang, 0 if abs(value) >= 10 or value == 0 else 2)
    else:
        shown = locale.figure(how, abs(value))
    if not any(c in "123456789" for c in shown):  # rounds to zero: no sign (never "−0.00 pp")
        return shown
    return ("+" if value > 0 else "−" if value < 0 else "") + shown


def _difference_text(locale: Locale, how: str, difference: Difference | None) -> str:
    """``+1.4 h`` (the difference alone; see :func:`_difference_interval` for its interval)."""
    return "" if difference is None else _signed(locale, how, difference.value)


def _difference_interval(locale: Locale, how: str, difference: Difference | None) -> str:
    """``+1.2 h … +1.5 h``: the 95 % interval of the difference, empty without one."""
    if difference is None or difference.low is None or difference.high is None:
        return ""
    return f"{_signed(locale, how, difference.low)} … {_signed(locale, how, difference.high)}"


def _differences(estimates: Sequence[Estimate], paired: Sequence[bool]) -> tuple[Difference | None, ...]:
    """Each run against the first: paired by replication where ``paired[i]`` and both have the values, else Welch."""
    first = estimates[0]
    return (None,) + tuple(paired_difference(first, e) if pair and _pairable(first, e) else welch_difference(first, e)
                           for e, pair in zip(estimates[1:], paired[1:]))


def _same_seed(folders: Sequence[RunFolder]) -> tuple[bool, ...]:
    """Whether each run shares the first run's root seed (then replication r of both used the same streams)."""
    seed = folders[0].summary.get("seed")
    return tuple(f.summary.get("seed") == seed and seed is not None for f in folders)


def _shown_interval(locale: Locale, how: str, estimate: Estimate) -> str:
    """A run's 95 % interval as shown, inside the figure's range (no 100.2 % share, no negative time: logit- or
    log-scale, :func:`simulator.results.bounded_interval`); the differences keep the plain intervals."""
    from .results import bounded_interval

    if estimate.interval is None or estimate.mean is None:
        return ""
    low, high = bounded_interval(estimate.mean, *estimate.interval, "share" if how == "percent" else "positive")
    return f"{locale.figure(how, low)} – {locale.figure(how, high)}"


def compared_figures(folders: Sequence[RunFolder], locale: Locale) -> list[ComparedFigure]:
    """Every headline figure of every run, with the difference to the first run and its 95 % interval.

    A difference is paired by replication (:func:`paired_difference`) when the run shares the first run's
    seed and both have every replication value of the figure, as many of them; else it is Welch's, from the
    two 95 % intervals (:func:`welch_difference`).

    Parameters
    ----------
    folders : sequence of RunFolder
        From :func:`load_comparison`; the first is the reference.
    locale : Locale
        The language of the labels and of the values as written.

    Returns
    -------
    list of ComparedFigure
        In the order electronic share, documents per working day, copies delivered per day, mean and 95th
        percentile delivery time, same-day share, bottleneck and peak utilisation, headroom; a figure missing
        from every run is left out. ``values`` are summary.json's means (shares in [0, 1], times in seconds);
        ``differences`` start with None (the first run against itself).
    """
    figures = []
    kept = [replication_values(f) for f in folders]
    paired = _same_seed(folders)
    for key, label, how in _FIGURES:
        estimates = [_estimate(f.summary, key, _replications(f), v) for f, v in zip(folders, kept)]
        if all(e.mean is None for e in estimates):
            continue
        differences = _differences(estimates, paired)
        figures.append(ComparedFigure(
            key=key, label=locale.text(label), values=tuple(e.mean for e in estimates),
            texts=tuple(locale.figure(how, e.mean) for e in estimates),
            intervals=tuple(_shown_interval(locale, how, e) for e in estimates),
            differences=differences, difference_texts=tuple(_difference_text(locale, how, d) for d in differences),
            difference_intervals=tuple(_difference_interval(locale, how, d) for d in differences)))
    return figures


def compared_stations(folders: Sequence[RunFolder], locale: Locale) -> list[ComparedStation]:
    """The stations present in every run, matched by id, in the order of the first run's station list.

    Parameters
    ----------
    folders : sequence of RunFolder
        From :func:`load_comparison`; the first is the reference.
    locale : Locale
        The language of the names and of the values as written.

    Returns
    -------
    list of ComparedStation
        Each station's utilisation (a share in [0, 1]) and mean wait (seconds) in every run, and their
        differences to the first run (paired by replication or Welch, as in :func:`compared_figures`; None for
        the first run); the name is the first run's.
    """
    by_id = [{str(s.get("id")): s for s in f.summary["stations"]} for f in folders]
    counts = [_replications(f) for f in folders]
    kept = [replication_values(f) for f in folders]
    paired = _same_seed(folders)
    common = [ident for ident in by_id[0] if all(ident in stations for stations in by_id[1:])]
    rows = []
    for ident in common:
        rows_of = [stations[ident] for stations in by_id]
        use = [_estimate(s, "utilization", n, v, ident) for s, n, v in zip(rows_of, counts, kept)]
        wait = [_estimate(s, "mean_wait_seconds", n, v, ident) for s, n, v in zip(rows_of, counts, kept)]
        use_d, wait_d = _differences(use, paired), _differences(wait, paired)
        rows.append(ComparedStation(
            id=ident, name=locale.station(str(rows_of[0].get("name"))), kind=str(rows_of[0].get("kind")),
            kind_text=locale.kind(str(rows_of[0].get("kind"))),
            utilization=tuple(e.mean for e in use), utilization_texts=tuple(locale.percent(e.mean) for e in use),
            utilization_differences=use_d,
            utilization_difference_texts=tuple(_difference_text(locale, "percent", d) for d in use_d),
            utilization_difference_intervals=tuple(_difference_interval(locale, "percent", d) for d in use_d),
            wait_texts=tuple(locale.duration(e.mean) for e in wait), wait_differences=wait_d,
            wait_difference_texts=tuple(_difference_text(locale, "duration", d) for d in wait_d),
            wait_difference_intervals=tuple(_difference_interval(locale, "duration", d) for d in wait_d)))
    return rows


@dataclass(frozen=True)
class Comparison:
    """Everything the comparison page shows, every text in one language.

    ``labels`` name the runs (scenario name, with the folder name when two
    runs share a scenario name); ``changed_use`` and ``changed_wait`` are the
    stations whose utilisation and mean wait changed most (largest absolute
    difference to the first run), ``stations`` all stations common to every run.
    """

    lang: str
    title: str
    labels: tuple[str, ...]
    folders: tuple[str, ...]
    replications: tuple[int, ...]
    answer: tuple[str, ...]
    method: str
    figures: tuple[ComparedFigure, ...]
    stations: tuple[ComparedStation, ...]
    changed_use: tuple[ComparedStation, ...]
    changed_wait: tuple[ComparedStation, ...]
    unmatched: str
    kinds: tuple[tuple[str, str], ...]
    text: Mapping[str, str]


def _labels(folders: Sequence[RunFolder]) -> tuple[str, ...]:
    names = [str(f.summary.get("scenario")) for f in folders]
    return tuple(f"{name} ({f.path.name})" if names.count(name) > 1 else name for name, f in zip(names, folders))


def _verdict(locale: Locale, difference: Difference | None) -> str:
    if difference is None or difference.significant is None:
        return locale.text("cmp_untested")
    if difference.value == 0 and difference.low == 0 and difference.high == 0:
        return locale.text("cmp_identical")
    return locale.text("cmp_significant" if difference.significant else "cmp_not_significant")


def _change_sentence(locale: Locale, label: str, figure: ComparedFigure, index: int, short: str) -> str:
    difference = figure.differences[index]
    change = difference.value if difference and difference.value is not None else 0.0
    direction = "lower" if change < 0 else "higher" if change > 0 else "same"
    return locale.text(f"cmp_answer_{short}_{direction}", label=label, before=figure.texts[0],
                       after=figure.texts[index], verdict=_verdict(locale, difference))


def _bottleneck_sentence(locale: Locale, folders: Sequence[RunFolder], label: str, index: int) -> str:
    """Whether the bottleneck (matched by id) moves from the first run to run ``index``, with both utilisations."""
    first, other = folders[0].summary, folders[index].summary

    def where(summary: Mapping[str, Any]) -> Any:
        return lookup(summary, "bottleneck.id") or lookup(summary, "bottleneck.name")

    def name(summary: Mapping[str, Any]) -> str:
        return locale.station(str(lookup(summary, "bottleneck.name") or MISSING))

    key = "cmp_answer_bottleneck_same" if where(first) == where(other) else "cmp_answer_bottleneck_moves"
    return locale.text(key, label=label, before=name(first), after=name(other),
                       utilization_before=locale.percent(lookup(first, "bottleneck.utilization")),
                       utilization_after=locale.percent(lookup(other, "bottleneck.utilization")))


def comparison_answer(folders: Sequence[RunFolder], figures: Sequence[ComparedFigure],
                      changed: Sequence[ComparedStation], labels: Sequence[str], locale: Locale) -> list[str]:
    """The answer first: for each run against the first, the 95 % delivery time, the bottleneck, the largest change.

    Parameters
    ----------
    folders : sequence of RunFolder
        The runs compared; the first is the reference.
    figures : sequence of ComparedFigure
        From :func:`compared_figures`.
    changed : sequence of ComparedStation
        The stations to look for the largest change among (:func:`compared_stations`).
    labels : sequence of str
        The name of each run in the sentences, one per folder.
    locale : Locale
        The language of the sentences.

    Returns
    -------
    list of str
        For each run after the first, in order: how its 95th percentile delivery time and its electronic share
        compare with the first run's (when the figure exists), whether the bottleneck (matched by id) moves,
        and the station whose utilisation, then whose mean wait, changed most (significant changes first;
        left out when the values as written are equal); each change with its verdict (significant or not,
        untested, identical).
    """
    by_key = {f.key: f for f in figures}
    sentences = []
    for index in range(1, len(folders)):
        for key, short in (("latency_seconds.p95", "p95"), ("electronic_share", "share")):
            if key in by_key:
                sentences.append(_change_sentence(locale, labels[index], by_key[key], index, short))
        sentences.append(_bottleneck_sentence(locale, folders, labels[index], index))
        for attribute in ("utilization", "wait"):
            moved = max(changed, key=lambda s: s.change(attribute, index), default=None)
            texts = getattr(moved, f"{attribute}_texts") if moved is not None else ()
            if moved is not None and texts[0] != texts[index]:  # no sentence when no change shows ("3.8% → 3.8%")
                sentences.append(locale.text(f"cmp_answer_station_{attribute}", label=labels[index], station=moved.name,
                                             before=texts[0], after=texts[index],
                                             verdict=_verdict(locale, getattr(moved, f"{attribute}_differences")[index])))
    return sentences


def _unmatched(folders: Sequence[RunFolder], common: int, locale: Locale) -> str:
    extra = [len(f.summary["stations"]) - common for f in folders]
    if not any(extra):
        return ""
    return locale.text("cmp_unmatched", common=locale.number(common),
                       counts=", ".join(locale.number(n) for n in extra))


def paired_runs(folders: Sequence[RunFolder]) -> tuple[bool, ...]:
    """For each run after the first: whether its differences are paired by replication (same seed, replications.csv
    in both folders, as many replications).

    Parameters
    ----------
    folders : sequence of RunFolder
        The runs compared; the first is the reference.

    Returns
    -------
    tuple of bool
        One per run after the first (``len(folders) - 1``); the page's note on the method says which. In a
        paired run, a figure whose replication values are incomplete is still judged by Welch's interval.
    """
    kept = [replication_values(f) for f in folders]
    same = _same_seed(folders)
    return tuple(same[i] and kept[0] is not None and kept[i] is not None
                 and _replications(folders[0]) == _replications(folders[i]) for i in range(1, len(folders)))


def _method(folders: Sequence[RunFolder], locale: Locale) -> str:
    """How the differences were judged, in words: paired by replication, Welch from the intervals, or not at all."""
    counts = [_replications(f) for f in folders]
    if min(counts) < 2:
        return locale.text("cmp_method_single")
    paired = paired_runs(folders)
    texts = []
    if any(paired):
        texts.append(locale.text("cmp_method_paired", seed=folders[0].summary.get("seed"),
                                 counts=" / ".join(str(n) for n in counts)))
    if not all(paired):
        texts.append(locale.text("cmp_method", counts=" / ".join(str(n) for n in counts)))
    return " ".join(texts)


def build_comparison(folders: Sequence[RunFolder], lang: str, top: int = 10) -> Comparison:
    """Assemble the comparison of run folders in one language.

    Parameters
    ----------
    folders : sequence of RunFolder
        From :func:`load_comparison`; the first is the reference.
    lang : {"en", "vi"}
    top : int
        Stations listed among those that changed most.

    Returns
    -------
    Comparison
    """
    locale = Locale(lang)
    labels = _labels(folders)
    figures = compared_figures(folders, locale)
    stations = compared_stations(folders, locale)
    counts = tuple(_replications(f) for f in folders)
    return Comparison(
        lang=lang, title=locale.text("compare_title_runs", labels=" · ".join(labels)), labels=labels,
        folders=tuple(str(f.path) for f in folders), replications=counts,
        answer=tuple(comparison_answer(folders, figures, stations, labels, locale)), method=_method(folders, locale),
        figures=tuple(figures), stations=tuple(stations),
        changed_use=tuple(sorted(stations, key=lambda s: s.change("utilization"), reverse=True)[:top]),
        changed_wait=tuple(sorted(stations, key=lambda s: s.change("wait"), reverse=True)[:top]),
        unmatched=_unmatched(folders, len(stations), locale),
        kinds=tuple((k, locale.kind(k)) for k in sorted({s.kind for s in stations})), text=messages(lang))


def render_comparison(comparison: Comparison) -> str:
    """The HTML page of a :class:`Comparison` (autoescaped: names show as text, never as markup).

    Parameters
    ----------
    comparison : Comparison
        From :func:`build_comparison`.

    Returns
    -------
    str
        The whole page, self-contained; :func:`simulator.report.write_report` writes it.
    """
    return template_environment().get_template("compare.html.j2").render(report=comparison, t=comparison.text,
                                                                  version=__version__)


def comparison_table(comparison: Comparison) -> str:
    """The headline figures as a terminal table: one column per run, then each difference to the first.

    Parameters
    ----------
    comparison : Comparison
        From :func:`build_comparison`.

    Returns
    -------
    str
        Lines without a final newline: the header, a rule, one row per figure (values as written in the
        comparison's language, each difference with its 95 % interval in parentheses and ``*`` when
        significant), a blank line, then the footnote naming ``*`` and how the differences were judged.
    """
    header = [comparison.text["col_figure"], *comparison.labels]
    header += [f"{comparison.text['cmp_difference_short']} {label}" for label in comparison.labels[1:]]
    rows = []
    for figure in comparison.figures:
        differences = [f"{text} ({interval}){' *' if d and d.significant else ''}" if interval else text
                       for text, interval, d in zip(figure.difference_texts[1:], figure.difference_intervals[1:],
                                                    figure.differences[1:])]
        rows.append([figure.label, *figure.texts, *differences])
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [line(header), line(["-" * w for w in widths])] + [line(row) for row in rows]
    return "\n".join(lines + ["", f"* {comparison.text['cmp_significant']}. {comparison.method}"])
