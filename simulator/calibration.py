"""Calibration: a scenario fitted to an exchange log (the trace of ``axis-sim run --trace`` or a real one).

:func:`read_log` reads and checks a log (Parquet or CSV); :func:`fit_log`
estimates what a scenario can express from it and returns a
:class:`Calibration`, whose :meth:`~Calibration.to_toml` is a scenario file
with every fitted value commented by its estimate, standard error and sample
size.

Columns of a log (:data:`REQUIRED_COLUMNS` must be present; the others may be
absent, and what needs them is then not fitted):

* ``document``: document id (every copy and status message of a document
  shares it); ``type``: ``document`` (a copy) or ``status``;
* ``sender``, ``recipient``: agency ids (a status message goes from the
  copy's recipient back to its sender; a paper copy may have no recipient);
* ``created``: seconds from the start of the log's day 0 (a copy: the
  document's creation; a status message: its sending), or ``created_at``
  (timestamps; day 0 is then the date of ``run.start`` of ``--base``, else
  the date of the first row);
* optional: ``status`` (edXML code of a status row), ``urgent``,
  ``size_bytes``, ``delivered``, ``outcome`` and, for hop ``k`` = 1 ... 7,
  ``station_k`` (``hub``, ``platform:<id>``, ``agency:<id>``), ``arrival_k``,
  ``start_k``, ``departure_k``.

What is fitted: each agency's document rate (documents over the open time of
the log, paper copies included) and the hour and weekday factors of the
profile (a multiplicative Poisson model fitted by iterative proportional
fitting); recipient weights (single-recipient copies, by maximum likelihood
with the sender never its own recipient); fan-out shares; the urgent share;
the lognormal size; each status code's delay (right-censored at the end of
the log); each station kind's service time (``departure - start``). Delays
and service times take the best of exponential, lognormal, gamma and
deterministic by AIC (maximum likelihood, ``scipy.stats``). Everything else
(structure, calendar, adoption, links) comes from ``base``.
"""
from __future__ import annotations

import datetime
import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .clock import OpenClock
from .errors import LogError
from .scenario import Scenario, dump_scenario, scenario_from_dict
from .topology import build_topology
from .units import format_duration

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["REQUIRED_COLUMNS", "MIN_SAMPLES", "FittedValue", "DistributionFit", "ProfileCheck", "Calibration", "read_log",
           "fit_log"]

#: Columns a log must have (``created`` may be replaced by ``created_at``).
REQUIRED_COLUMNS = ("document", "type", "sender", "recipient", "created")
#: Fewest observations a fitted distribution needs (service times of a station kind, delays of a status code).
MIN_SAMPLES = 20
_HOPS = 7
_DAY, _HOUR = 86400.0, 3600.0
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Smallest profile factor written (an open hour or weekday without documents in the log).
_LEAST_FACTOR = 1e-3
_FAMILIES = ("exponential", "lognormal", "gamma", "deterministic")
#: Longest stretch of a log without a creation or delivery (longer is taken for a typo, or two logs joined).
_MAX_GAP_DAYS = 31
#: Words of the ``urgent`` column (any case).
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class FittedValue:
    """An estimate with its standard error and the number of observations behind it."""

    estimate: float
    standard_error: float
    samples: int

    def covers(self, true: float, z: float = 1.96) -> bool:
        """Whether ``true`` lies in the estimate's normal ``z`` interval (95 % by default)."""
        return abs(self.estimate - true) <= z * self.standard_error


@dataclass(frozen=True)
class DistributionFit:
    """The best law of a duration by AIC, as a scenario's ``distribution``, ``mean`` and ``cv``.

    Attributes
    ----------
    family : str
        ``exponential``, ``lognormal``, ``gamma`` or ``deterministic``.
    mean : FittedValue
        Mean, seconds.
    cv : FittedValue
        Coefficient of variation (1 exponential, 0 deterministic).
    aic : dict
        AIC of each family that could be fitted (lower is better).
    censored : int
        Observations still running at the end of the log (right-censored).
    sample : numpy.ndarray
        The complete observations (for the Q-Q chart).
    """

    family: str
    mean: FittedValue
    cv: FittedValue
    aic: dict[str, float]
    censored: int
    sample: np.ndarray = field(repr=False)

    def frozen(self) -> Any:
        """The fitted law as a ``scipy.stats`` frozen distribution (None when deterministic)."""
        from scipy import stats

        mean, cv = self.mean.estimate, self.cv.estimate
        if self.family == "exponential":
            return stats.expon(scale=mean)
        if self.family == "lognormal":
            s = math.sqrt(math.log1p(cv * cv))
            return stats.lognorm(s, scale=mean / math.exp(s * s / 2))
        if self.family == "gamma":
            a = 1.0 / (cv * cv)
            return stats.gamma(a, scale=mean / a)
        return None

    def spec(self) -> dict[str, Any]:
        """The law as a scenario table (``distribution``, ``mean``, and ``cv`` where the family takes one)."""
        table: dict[str, Any] = {"distribution": self.family, "mean": _duration(self.mean.estimate)}
        if self.family in ("lognormal", "gamma"):
            table["cv"] = round(self.cv.estimate, 4)
        return table


@dataclass(frozen=True)
class ProfileCheck:
    """How well hour factors times weekday factors explain the documents of each hour of the week.

    The fitted profile is separable (an hour's factor is the same every
    weekday); a small p-value says the hours' shape differs between weekdays,
    which a scenario's profile cannot express.

    Attributes
    ----------
    chi_square : float
        Pearson's statistic over the open (weekday, hour) cells: sum of
        (observed - expected)^2 / expected.
    dof : int
        Degrees of freedom: cells - (open hours + open weekdays - 1).
    p_value : float
        Upper tail of the chi-square distribution (approximate where cells
        expect fewer than about 5 documents).
    cells : int
        Open (weekday, hour) cells compared.
    """

    chi_square: float
    dof: int
    p_value: float
    cells: int


# --------------------------------------------------------------------------- reading and checking a log


def read_log(path: str | Path, base: Scenario | None = None) -> "pd.DataFrame":
    """Read an exchange log (Parquet, or CSV by its ``.csv`` suffix) and check it.

    Parameters
    ----------
    path : str or Path
    base : Scenario, optional
        Its agencies are the known ones, and its ``run.start`` dates
        ``created_at`` timestamps.

    Returns
    -------
    pandas.DataFrame
        The log, with ``created`` in seconds from day 0 and the optional
        columns that were present.

    Raises
    ------
    LogError
        One line per problem: no rows, a required column missing or one of
        its cells empty, a time that is no finite number, a log that starts
        more than 31 days after day 0 or has a gap of more than 31 days
        between two times, an unknown agency or status code, a
        negative duration (a wait, service, link or delivery that ends before
        it starts), an unknown row type, an ``urgent`` that is no yes or no, a
        ``size_bytes`` that is no positive number.
    """
    import pandas as pd

    path = Path(path)
    frame = _read_table(path)
    problems = [f"column {c!r}: missing (required: {', '.join(REQUIRED_COLUMNS)}; created may be created_at)"
                for c in REQUIRED_COLUMNS if c not in frame.columns and not (c == "created" and "created_at" in frame)]
    if frame.empty:
        raise LogError(str(path), ["no rows: a log has one row per document copy and per status message"])
    if problems:
        raise LogError(str(path), problems)
    frame = frame.reset_index(drop=True)
    problems += _check_blanks(frame)
    stamped = "created" not in frame.columns  # created comes from created_at, in seconds already
    if stamped:
        problems += _seconds_from_stamps(frame, base)
    for column in ("created", "delivered", *(f"{f}_{k}" for k in range(1, _HOPS + 1)
                                             for f in ("arrival", "start", "departure"))):
        if column in frame.columns and not (column == "created" and stamped):
            problems += _numeric(frame, column)
    problems += _check_optional(frame) + _check_rows(frame, base)
    if not problems:
        problems += _check_gaps(frame)
    if problems:
        raise LogError(str(path), problems)
    frame["document"] = frame["document"].astype(str)
    if "urgent" in frame.columns:  # absent, the urgent share is not fitted (the base's stays)
        frame["urgent"] = frame["urgent"].astype(str).str.strip().str.lower().isin(_TRUE)
    if "status" in frame.columns:
        frame["status"] = frame["status"].map(lambda v: None if pd.isna(v) else str(v).zfill(2))
    return frame


def _read_table(path: Path) -> "pd.DataFrame":
    """The log as a DataFrame of raw values (CSV cells as text, so that bad ones can be named)."""
    import pyarrow as pa

    try:
        if path.suffix.lower() == ".csv":
            import pandas as pd

            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas()
    except FileNotFoundError:
        raise LogError(str(path), ["no such file"]) from None
    except (OSError, ValueError, pa.ArrowException, UnicodeDecodeError) as err:
        kind = "CSV" if path.suffix.lower() == ".csv" else "Parquet (give a .csv suffix for CSV)"
        raise LogError(str(path), [f"cannot be read as {kind}: {err}"]) from None


def _seconds_from_stamps(frame: "pd.DataFrame", base: Scenario | None) -> list[str]:
    """Set ``created`` from ``created_at`` (seconds from day 0, Vietnam's time); a problem per unparsable stamp."""
    import pandas as pd

    raw = frame["created_at"]
    parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="ISO8601").dt.tz_convert("Asia/Ho_Chi_Minh")
    day0 = base.run.start if base is not None and base.run.start is not None else parsed.min().date()
    midnight = pd.Timestamp(day0).tz_localize("Asia/Ho_Chi_Minh")
    frame["created"] = (parsed - midnight).dt.total_seconds()
    return [f"row {i + 1}, column created_at = {raw[i]!r}: is not a timestamp (ISO 8601, e.g. 2020-03-23T08:00:00+07:00)"
            for i in np.flatnonzero((parsed.isna() & raw.notna()).to_numpy())]


def _blank(values: "pd.Series") -> np.ndarray:
    """Which cells are empty (missing, or only spaces)."""
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def _check_blanks(frame: "pd.DataFrame") -> list[str]:
    """A problem per empty cell of a column every row needs (and of ``status`` in a status row)."""
    problems = []
    for column in ("document", "type", "sender", "created" if "created" in frame.columns else "created_at"):
        problems += [f"row {i + 1}, column {column} is empty: every row needs a {column}"
                     for i in np.flatnonzero(_blank(frame[column]))]
    if "status" in frame.columns:
        rows = np.flatnonzero(_blank(frame["status"]) & (frame["type"] == "status").to_numpy())
        problems += [f"row {i + 1}, column status is empty: a status row needs its edXML code (01, 03, ...)" for i in rows]
    return problems


def _check_optional(frame: "pd.DataFrame") -> list[str]:
    """``urgent`` must be true or false and ``size_bytes`` a positive number where given (empty cells are allowed)."""
    import pandas as pd

    problems = []
    if "urgent" in frame.columns:
        raw = frame["urgent"]
        words = raw.astype(str).str.strip().str.lower()
        problems += [f"row {i + 1}, column urgent = {raw[i]!r}: must be true or false (or 1 / 0, yes / no)"
                     for i in np.flatnonzero((~_blank(raw)) & ~words.isin(_TRUE + _FALSE).to_numpy())]
    if "size_bytes" in frame.columns:
        raw = frame["size_bytes"]
        sizes = pd.to_numeric(raw, errors="coerce").astype(float)
        frame["size_bytes"] = sizes
        bad = ~_blank(raw) & ~(sizes.to_numpy() > 0)
        problems += [f"row {i + 1}, column size_bytes = {raw[i]!r}: must be a positive number of bytes"
                     for i in np.flatnonzero(bad)]
    return problems


def _numeric(frame: "pd.DataFrame", column: str) -> list[str]:
    """Convert a time column to float seconds in place; a problem for each cell that is no number."""
    import pandas as pd

    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    frame[column] = values
    return [f"row {i + 1}, column {column} = {raw[i]!r}: is not a time (seconds from day 0)"
            for i in np.flatnonzero((~np.isfinite(values.to_numpy()) & raw.notna().to_numpy()))]


def _check_gaps(frame: "pd.DataFrame") -> list[str]:
    """A problem for each stretch of more than :data:`_MAX_GAP_DAYS` without a creation or delivery (a typo?),
    from day 0 to the first one included."""
    columns = [c for c in ("created", "delivered") if c in frame.columns]
    times = np.concatenate([frame[c].to_numpy(dtype=float) for c in columns])
    where = np.concatenate([np.stack([np.arange(len(frame)), np.full(len(frame), i)]) for i in range(len(columns))],
                           axis=1)
    keep = np.isfinite(times)
    times, where = times[keep], where[:, keep]
    order = np.argsort(times, kind="stable")
    problems = []
    if len(times) and times[order[0]] > _MAX_GAP_DAYS * _DAY:
        (row, col), first = where[:, order[0]], float(times[order[0]])
        problems.append(f"row {row + 1}, column {columns[col]} = {first!r}: the log's first time, {first / _DAY:.0f} days "
                        f"after day 0; a log starts within {_MAX_GAP_DAYS} days of day 0 (with created_at, day 0 is "
                        "run.start of --base: give a base that starts when the log does)")
    for j in np.flatnonzero(np.diff(times[order]) > _MAX_GAP_DAYS * _DAY):
        (row, col), (before, col_before) = where[:, order[j + 1]], where[:, order[j]]
        after, last = float(times[order[j + 1]]), float(times[order[j]])
        problems.append(f"row {row + 1}, column {columns[col]} = {after!r}: {(after - last) / _DAY:.0f} days after the "
                        f"time before it (row {before + 1}, {columns[col_before]} = {last!r}); a log has no gap of more than "
                        f"{_MAX_GAP_DAYS} days (a typo, or two logs joined?)")
    return problems


def _check_rows(frame: "pd.DataFrame", base: Scenario | None) -> list[str]:
    """Row types, negative times and durations, agencies unknown to the base."""
    problems = [f"row {i + 1}, column type = {frame['type'][i]!r}: must be 'document' or 'status'"
                for i in np.flatnonzero(~_blank(frame["type"]) & ~frame["type"].isin(("document", "status")).to_numpy())]
    created = frame["created"].to_numpy(dtype=float)
    problems += [f"row {i + 1}, column created = {float(created[i])!r}: must not be negative (before day 0)"
                 for i in np.flatnonzero(created < 0)]
    pairs = [("created", "delivered")] + [(f"{a}_{k}", f"{b}_{k}") for k in range(1, _HOPS + 1)
                                          for a, b in (("arrival", "start"), ("start", "departure"))]
    pairs += [(f"departure_{k}", f"arrival_{k + 1}") for k in range(1, _HOPS)]  # the link between two stations
    for first, then in pairs:
        if first in frame.columns and then in frame.columns:
            a, b = frame[first].to_numpy(dtype=float), frame[then].to_numpy(dtype=float)
            for i in np.flatnonzero(np.isfinite(a) & (b < a - 1e-6)):
                problems.append(f"row {i + 1}, column {then} = {float(b[i])!r}: before {first} ({float(a[i])!r}); "
                                "durations must not be negative")
    if base is not None:
        known = set(build_topology(base).agencies.ids)
        for column in ("sender", "recipient"):
            values = frame[column]
            for row in np.flatnonzero((values.notna() & ~values.astype(str).isin(known)).to_numpy()):
                value = str(values[row])
                hint = difflib.get_close_matches(value, sorted(known), n=1)
                problems.append(f"row {row + 1}, column {column} = {value!r}: not an agency of the base scenario"
                                + (f"; did you mean {hint[0]!r}?" if hint else ""))
        problems += _check_codes(frame, base)
    return problems


def _check_codes(frame: "pd.DataFrame", base: Scenario) -> list[str]:
    """A problem for each status row whose code the base's ``traffic.statuses`` does not have (its delay would be lost)."""
    codes = [s.code for s in base.traffic.statuses]
    if not codes or "status" not in frame.columns:
        return []
    raw = frame["status"]
    given = raw.map(lambda v: None if v is None or v != v else str(v).strip().zfill(2))
    rows = np.flatnonzero((given.notna() & ~given.isin(codes) & (frame["type"] == "status")).to_numpy())
    return [f"row {i + 1}, column status = {raw[i]!r}: not a status code of the base scenario ({', '.join(codes)}); "
            "add it to the base's traffic.statuses, or leave its rows out" for i in rows]


# --------------------------------------------------------------------------- fitting durations


def fit_duration(observed: np.ndarray, censored: np.ndarray | None = None) -> DistributionFit:
    """The best of exponential, lognormal, gamma and deterministic for a duration, by maximum likelihood and AIC.

    Parameters
    ----------
    observed : numpy.ndarray
        Complete durations, seconds (at least :data:`MIN_SAMPLES`).
    censored : numpy.ndarray, optional
        Durations known only to exceed these values (still running when the
        log ends): they enter the likelihood through the survival function.

    Returns
    -------
    DistributionFit
        Standard errors from the Fisher information of the chosen family
        (the mean of a lognormal and the cv of a gamma by the delta method).

    Notes
    -----
    AIC = 2k - 2 log L with k = 1 (exponential, deterministic) or 2
    (lognormal, gamma), Akaike (1974); the exponential is kept when its AIC
    is within 2 of the best (Burnham and Anderson 2002: as well supported,
    with fewer parameters). Deterministic is chosen only when every
    observation is the same and none is censored.

    Examples
    --------
    >>> fit = fit_duration(np.random.default_rng(1).exponential(2.0, 5000))
    >>> fit.family, round(fit.mean.estimate, 1), fit.mean.covers(2.0)
    ('exponential', 2.0, True)
    """
    from scipy import stats

    x = np.asarray(observed, dtype=float)
    c = np.zeros(0) if censored is None else np.asarray(censored, dtype=float)
    n = len(x)
    mean = float(x.mean())
    if not len(c) and float(x.std()) <= 1e-9 * max(abs(mean), 1e-12):
        return DistributionFit("deterministic", FittedValue(mean, 0.0, n), FittedValue(0.0, 0.0, n),
                               {"deterministic": -math.inf}, 0, x)
    exposure = float(x.sum() + c.sum())
    scale = exposure / n
    aic = {"exponential": 2 * 1 - 2 * (-n * math.log(scale) - exposure / scale)}
    fitted: dict[str, Any] = {"exponential": None}
    if (x > 0).all():
        for name, law in (("lognormal", stats.lognorm), ("gamma", stats.gamma)):
            try:
                params = _fit_law(law, x, c)
            except (ValueError, RuntimeError, FloatingPointError):  # pragma: no cover - a fit that does not converge
                continue
            frozen = law(*params)
            loglik = float(frozen.logpdf(x).sum() + (frozen.logsf(c).sum() if len(c) else 0.0))
            if math.isfinite(loglik):
                aic[name] = 2 * 2 - 2 * loglik
                fitted[name] = params
    family = min(aic, key=aic.get)  # type: ignore[arg-type]
    if aic["exponential"] - aic[family] < 2.0:  # within 2 of the best: the simpler law is as well supported
        family = "exponential"
    return _with_errors(family, fitted[family], scale, x, c, aic)


#: Censored observations are fitted numerically on a subsample of at most this many (the likelihood, for AIC, on all).
_CENSORED_FIT_SAMPLE = 4000


def _fit_law(law: Any, x: np.ndarray, c: np.ndarray) -> tuple[float, ...]:
    """Maximum-likelihood parameters (location 0): closed form without censoring; else numerically, from it."""
    from scipy import stats

    start = law.fit(x, floc=0)
    if not len(c):
        return start
    n = len(x) + len(c)
    if n > _CENSORED_FIT_SAMPLE:  # a fixed, even subsample of both parts keeps the censored share
        keep_x = np.random.default_rng(0).random(len(x)) < _CENSORED_FIT_SAMPLE / n
        keep_c = np.random.default_rng(1).random(len(c)) < _CENSORED_FIT_SAMPLE / n
        x, c = x[keep_x], c[keep_c]
    return law.fit(stats.CensoredData(uncensored=x, right=c), start[0], floc=0, scale=start[2])


def _with_errors(family: str, params: Any, scale: float, x: np.ndarray, c: np.ndarray,
                 aic: dict[str, float]) -> DistributionFit:
    """Mean and cv of the chosen family with their standard errors."""
    from scipy import special

    n = len(x)
    if family == "exponential":
        mean, se_mean, cv, se_cv = scale, scale / math.sqrt(n), 1.0, 0.0
    elif family == "lognormal":
        s, _, sc = params
        mean = sc * math.exp(s * s / 2)
        se_mean = mean * math.sqrt(s * s / n + s**4 / (2 * n))
        cv = math.sqrt(math.expm1(s * s))
        se_cv = s * math.exp(s * s) / cv * s / math.sqrt(2 * n)
    else:
        a, _, sc = params
        mean, cv = a * sc, 1 / math.sqrt(a)
        se_mean = mean * cv / math.sqrt(n)
        info = n * (float(special.polygamma(1, a)) - 1 / a)
        se_cv = 0.5 * a**-1.5 / math.sqrt(info) if info > 0 else math.inf
    return DistributionFit(family, FittedValue(float(mean), float(se_mean), n), FittedValue(float(cv), float(se_cv), n),
                           aic, len(c), x)


def _duration(seconds: float) -> str:
    """A duration for a scenario file, four significant digits."""
    text = format_duration(float(f"{seconds:.4g}"))
    return text


# --------------------------------------------------------------------------- the calibration


@dataclass(frozen=True)
class Calibration:
    """What :func:`fit_log` estimated from a log, and the scenario it makes.

    Attributes
    ----------
    source : str
        The log file.
    base : Scenario
        The scenario the fitted values go into (``--base``, or one built
        from the log: its agencies, the default calendar, its length).
    horizon_seconds, open_seconds : float
        Length of the log and its open time (the base's calendar).
    documents : int
        Documents in the log (paper copies included).
    rates : dict
        Documents per open second, by agency id.
    hours, weekdays : dict
        Relative rates of the profile, by ``"HH"`` and by ``mon`` ... ``sun``,
        normalised to a mean of 1 over the open time of the log.
    weights : dict
        Relative recipient weights, by agency id (mean 1).
    fanout : tuple
        ``(recipients, kind, share)``: the fan-out rules of the base (or one
        per number of copies seen) and their fitted shares.
    urgent, size_median, size_sigma : FittedValue or None
        Urgent share; lognormal size (bytes; sigma of the logarithm).
    statuses : dict
        Delay of each status code after the previous one (``DistributionFit``).
    services : dict
        Service time by station kind (``hub``, ``platform``, ``agency``).
    by_hour : dict
        Hour of the day -> (documents observed, documents the fitted profile expects).
    profile_check : ProfileCheck or None
        Observed against fitted documents in every (weekday, hour) cell; None
        when there are too few cells to test (a single open weekday).
    """

    source: str
    base: Scenario
    horizon_seconds: float
    open_seconds: float
    documents: int
    rates: dict[str, FittedValue]
    hours: dict[str, FittedValue]
    weekdays: dict[str, FittedValue]
    weights: dict[str, FittedValue]
    fanout: tuple[tuple[Any, str | None, FittedValue], ...]
    urgent: FittedValue | None
    size_median: FittedValue | None
    size_sigma: FittedValue | None
    statuses: dict[str, DistributionFit]
    services: dict[str, DistributionFit]
    by_hour: dict[str, tuple[int, float]]
    profile_check: ProfileCheck | None = None

    def to_toml(self) -> str:
        """The fitted scenario as TOML: the base with the fitted values, each commented (estimate, s.e., n)."""
        data, notes = _fitted_data(self)
        head = [f"# Fitted by axis-sim fit from {self.source}: {self.documents} documents over "
                f"{self.horizon_seconds / _DAY:g} days ({self.open_seconds / _HOUR:g} open hours).",
                "# Each fitted value is commented with its estimate, standard error (s.e.) and sample size (n);",
                "# everything else comes from the base scenario.", ""]
        return "\n".join(head) + _emit(data, notes)

    def scenario(self) -> Scenario:
        """The fitted scenario, validated."""
        return scenario_from_dict(tomllib.loads(self.to_toml()), source=f"fit of {self.source}")


def fit_log(path: str | Path, base: Scenario | None = None) -> Calibration:
    """Fit a scenario to an exchange log.

    Parameters
    ----------
    path : str or Path
        The log (see the module's column list).
    base : Scenario, optional
        The structure, calendar and everything not fitted; without it one is
        built from the log (its agencies as top-level nodes, the default
        calendar).

    Returns
    -------
    Calibration

    Raises
    ------
    LogError
        The log cannot be read or checked (:func:`read_log`), or a fit has
        fewer than :data:`MIN_SAMPLES` observations.
    """
    frame = read_log(path, base)
    base = base if base is not None else _base_from_log(frame)
    horizon = _log_days(frame) * _DAY
    problems: list[str] = []
    docs = _documents(frame)
    if len(docs) < MIN_SAMPLES:
        problems.append(f"column document: {len(docs)} documents; a fit needs at least {MIN_SAMPLES}")
    topology = build_topology(base)
    open_seconds = OpenClock(base.calendar, horizon).open_seconds
    statuses = _fit_statuses(frame, base, horizon, problems)
    services = _fit_services(frame, problems)
    if problems:
        raise LogError(str(path), problems)
    hours, weekdays, by_hour, check = _fit_profile(docs, base, horizon) if base.calendar is not None else ({}, {}, {}, None)
    size_median, size_sigma = _fit_size(docs)
    return Calibration(
        source=str(path), base=base, horizon_seconds=horizon, open_seconds=open_seconds, documents=len(docs),
        rates=_fit_rates(docs, topology.agencies.ids, open_seconds), hours=hours, weekdays=weekdays,
        weights=_fit_weights(frame, docs, topology.agencies.ids), fanout=_fit_fanout(docs, base, topology),
        urgent=_share(docs["urgent"].to_numpy(dtype=bool)) if "urgent" in frame else None,
        size_median=size_median, size_sigma=size_sigma, statuses=statuses, services=services, by_hour=by_hour,
        profile_check=check)


def _base_from_log(frame: "pd.DataFrame") -> Scenario:
    """A scenario for a log without ``--base``: its agencies, each a top-level node, over the log's whole days."""
    senders = frame["sender"].dropna().astype(str)
    agencies = sorted(set(senders) | set(frame["recipient"].dropna().astype(str)))
    run: dict[str, Any] = {"horizon": f"{_log_days(frame)}d"}
    if "created_at" in frame:
        import pandas as pd

        first = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601").dt.tz_convert("Asia/Ho_Chi_Minh").min()
        midnight = first - pd.Timedelta(seconds=float(frame["created"].min()))  # day 0, to rounding
        run["start"] = (midnight + pd.Timedelta(hours=1)).date().isoformat()
    return scenario_from_dict({"name": "fitted", "run": run, "calendar": {}, "agencies": [{"id": a} for a in agencies]},
                              source="the log's agencies")


def _log_days(frame: "pd.DataFrame") -> int:
    """Whole days the log covers (from day 0 to its last creation or delivery)."""
    last = float(np.nanmax(frame[[c for c in ("created", "delivered") if c in frame]].to_numpy(dtype=float)))
    return max(1, math.ceil(last / _DAY))


def _documents(frame: "pd.DataFrame") -> "pd.DataFrame":
    """One row per document: sender, creation, urgent, size, copies (paper included)."""
    copies = frame[frame["type"] == "document"]
    columns = {"sender": ("sender", "first"), "created": ("created", "first"), "copies": ("type", "size")}
    if "urgent" in frame:
        columns["urgent"] = ("urgent", "first")
    if "size_bytes" in frame:
        columns["size"] = ("size_bytes", "first")
    return copies.groupby("document", sort=False).agg(**columns)


def _share(flags: np.ndarray) -> FittedValue:
    """A binomial share with its standard error."""
    n = len(flags)
    p = float(flags.mean()) if n else 0.0
    return FittedValue(p, math.sqrt(p * (1 - p) / n) if n else math.inf, n)


def _fit_rates(docs: "pd.DataFrame", agencies: tuple[str, ...], open_seconds: float) -> dict[str, FittedValue]:
    """Each agency's documents over the open time (Poisson: s.e. sqrt(n) / open time)."""
    counts = docs["sender"].value_counts()
    rates = {}
    for agency in agencies:
        n = int(counts.get(agency, 0))
        rates[agency] = FittedValue(n / open_seconds, math.sqrt(max(n, 1)) / open_seconds, n)
    return rates


def _exposure(base: Scenario, horizon: float) -> np.ndarray:
    """Open seconds of each hour of each day (days x 24), weighted by the base's date factors (month ends ...).

    The hour and weekday factors of the base's profile are left out: they
    are what is fitted.
    """
    calendar = base.calendar
    profile = calendar.profile if calendar is not None else None
    if calendar is not None and profile is not None:
        calendar = calendar.model_copy(update={"profile": profile.model_copy(update={"hours": {}, "weekdays": {}})})
    days = max(1, math.ceil(horizon / _DAY))
    edges = np.minimum(np.arange(days * 24 + 1) * _HOUR, horizon)
    return np.diff(OpenClock(calendar, horizon).open_before(edges)).reshape(days, 24)


def _fit_profile(docs: "pd.DataFrame", base: Scenario, horizon: float) -> tuple[
        dict[str, FittedValue], dict[str, FittedValue], dict[str, tuple[int, float]], ProfileCheck | None]:
    """Hour and weekday factors of a multiplicative Poisson model, by iterative proportional fitting."""
    exposure = _exposure(base, horizon)
    days = exposure.shape[0]
    created = docs["created"].to_numpy(dtype=float)
    cell = np.clip((created // _HOUR).astype(np.int64), 0, days * 24 - 1)
    counts = np.bincount(cell, minlength=days * 24).reshape(days, 24).astype(float)
    first = base.run.start.weekday() if base.run.start is not None else 0
    weekday = (first + np.arange(days)) % 7
    by_weekday = np.zeros((7, 24))
    observed = np.zeros((7, 24))
    np.add.at(by_weekday, weekday, exposure)
    np.add.at(observed, weekday, counts)
    f, g = np.ones(24), np.ones(7)
    hours_open, days_open = by_weekday.sum(axis=0) > 0, by_weekday.sum(axis=1) > 0
    for _ in range(50):
        f = np.where(hours_open, observed.sum(axis=0) / np.maximum((g[:, None] * by_weekday).sum(axis=0), 1e-300), 1.0)
        g = np.where(days_open, observed.sum(axis=1) / np.maximum((f[None, :] * by_weekday).sum(axis=1), 1e-300), 1.0)
    f /= (f * by_weekday.sum(axis=0)).sum() / by_weekday.sum()
    g /= (g * by_weekday.sum(axis=1)).sum() / by_weekday.sum()
    f, g = np.maximum(f, _LEAST_FACTOR), np.maximum(g, _LEAST_FACTOR)  # a scenario's factors are positive
    n_hour, n_day = observed.sum(axis=0), observed.sum(axis=1)
    hours = {f"{h:02d}": FittedValue(float(f[h]), float(f[h]) / math.sqrt(max(n_hour[h], 1)), int(n_hour[h]))
             for h in np.flatnonzero(hours_open)}
    weekdays = {_WEEKDAYS[d]: FittedValue(float(g[d]), float(g[d]) / math.sqrt(max(n_day[d], 1)), int(n_day[d]))
                for d in np.flatnonzero(days_open)}
    expected = g[:, None] * f[None, :] * by_weekday
    expected *= observed.sum() / expected.sum()
    by_hour = {f"{h:02d}": (int(n_hour[h]), float(expected[:, h].sum())) for h in np.flatnonzero(hours_open)}
    return hours, weekdays, by_hour, _profile_check(observed, expected, int(hours_open.sum() + days_open.sum() - 1))


def _profile_check(observed: np.ndarray, expected: np.ndarray, parameters: int) -> ProfileCheck | None:
    """Pearson's chi-square of the (weekday, hour) cells against the fitted separable profile."""
    from scipy import stats

    cells = expected > 0
    dof = int(cells.sum()) - parameters
    if dof < 1:
        return None
    chi_square = float((((observed - expected) ** 2)[cells] / expected[cells]).sum())
    return ProfileCheck(chi_square, dof, float(stats.chi2.sf(chi_square, dof)), int(cells.sum()))


def _fit_weights(frame: "pd.DataFrame", docs: "pd.DataFrame", agencies: tuple[str, ...]) -> dict[str, FittedValue]:
    """Recipient weights from single-recipient copies, by maximum likelihood (a sender never receives its own).

    P(recipient j | sender i) = w_j / (W - w_i): the fixed point of
    w_j = n_j / sum_{i != j} N_i / (W - w_i), scaled to a mean of 1. An
    agency to which no other agency sent a single-recipient copy (the only
    sender of the log) has no likelihood: it gets the mean of the others,
    with an infinite standard error and n = 0.
    """
    singles = docs.index[docs["copies"] == 1]
    copies = frame[(frame["type"] == "document") & frame["document"].isin(singles) & frame["recipient"].notna()]
    index = {a: i for i, a in enumerate(agencies)}
    received = np.bincount(copies["recipient"].map(index).to_numpy(dtype=np.int64), minlength=len(agencies))
    sent = np.bincount(copies["sender"].map(index).to_numpy(dtype=np.int64), minlength=len(agencies))
    w = np.maximum(received, 0.5).astype(float)
    known = np.ones(len(w), dtype=bool)
    for _ in range(100):
        denominator = (sent / (w.sum() - w)).sum() - sent / (w.sum() - w)
        known = denominator > 0
        w = np.maximum(received, 0.5) / np.where(known, denominator, 1.0)
        w[~known] = w[known].mean() if known.any() else 1.0
        w *= len(w) / w.sum()
    return {a: FittedValue(float(w[i]), float(w[i]) / math.sqrt(max(received[i], 1)) if known[i] else math.inf,
                           int(received[i])) for i, a in enumerate(agencies)}


def _fit_fanout(docs: "pd.DataFrame", base: Scenario, topology: Any) -> tuple[tuple[Any, str | None, FittedValue], ...]:
    """Shares of the base's fan-out rules (matched by the number of copies), or one rule per number of copies seen."""
    copies = docs["copies"].to_numpy(dtype=np.int64)
    senders = docs["sender"].to_numpy(dtype=object)
    n = len(copies)
    rules = base.traffic.fanout
    if not rules:
        counts = np.unique(copies[copies >= 2])
        return tuple((int(c), None, _share(copies == c)) for c in counts.tolist())
    kinds = np.array(topology.agencies.kinds, dtype=object)
    ids = np.array(topology.agencies.ids, dtype=object)
    fitted = []
    for rule in rules:
        if rule.recipients == "all":
            members = set(ids[kinds == rule.kind]) if rule.kind is not None else set(ids)
            wanted = np.array([len(members) - (s in members) for s in senders])
        else:
            wanted = np.full(n, int(rule.recipients))
        fitted.append((rule.recipients, rule.kind, _share(copies == wanted)))
    return tuple(fitted)


def _fit_size(docs: "pd.DataFrame") -> tuple[FittedValue | None, FittedValue | None]:
    """Lognormal size: median exp(mean log) and sigma (standard deviation of the log), with standard errors."""
    if "size" not in docs:
        return None, None
    sizes = docs["size"].to_numpy(dtype=float)
    logs = np.log(sizes[~np.isnan(sizes)])  # a size left empty in the log is not observed
    n = len(logs)
    if n < 2:  # no spread to estimate: the base's size stays
        return None, None
    mu, sigma = float(logs.mean()), float(logs.std(ddof=1))
    median = math.exp(mu)
    return FittedValue(median, median * sigma / math.sqrt(n), n), FittedValue(sigma, sigma / math.sqrt(2 * (n - 1)), n)


def _fit_statuses(frame: "pd.DataFrame", base: Scenario, horizon: float, problems: list[str]) -> dict[str, DistributionFit]:
    """Each status code's delay after the previous status (the first: after the copy's delivery).

    A chain still waiting for its next status when the log ends is
    right-censored at the end of the log.
    """
    if "status" not in frame or "delivered" not in frame:
        return {}
    rows = frame[frame["type"] == "status"]
    if rows.empty:
        return {}
    codes = [s.code for s in base.traffic.statuses] or sorted(rows["status"].dropna().unique())
    sent = rows.pivot_table(index=["document", "sender"], columns="status", values="created", aggfunc="min")
    copies = frame[(frame["type"] == "document") & frame["delivered"].notna()]
    delivered = copies.groupby(["document", "recipient"])["delivered"].min()
    delivered.index = delivered.index.set_names(["document", "sender"])
    chains = sent.reindex(delivered.index.union(sent.index))
    previous = delivered.reindex(chains.index).to_numpy(dtype=float)
    fits: dict[str, DistributionFit] = {}
    for code in codes:
        times = chains[code].to_numpy(dtype=float) if code in chains else np.full(len(chains), np.nan)
        known = ~np.isnan(previous)
        observed = times[known & ~np.isnan(times)] - previous[known & ~np.isnan(times)]
        waiting = horizon - previous[known & np.isnan(times)]
        if len(observed) < MIN_SAMPLES:
            problems.append(f"column status: code {code!r} has {len(observed)} delays after the previous status; "
                            f"a fit needs at least {MIN_SAMPLES}")
        else:
            fits[code] = fit_duration(np.maximum(observed, 0.0), waiting[waiting > 0])
        previous = times
    return fits


def _fit_services(frame: "pd.DataFrame", problems: list[str]) -> dict[str, DistributionFit]:
    """Service times (``departure_k - start_k``) by station kind, each service once (fan-outs repeat their trunk)."""
    import pandas as pd

    parts = []
    for k in range(1, _HOPS + 1):
        needed = [f"station_{k}", f"start_{k}", f"departure_{k}"]
        if not all(c in frame for c in needed):
            continue
        keys = ["document", "type"] + (["status"] if "status" in frame else [])
        hop = frame[keys + needed].dropna(subset=needed)
        hop.columns = keys + ["station", "start", "departure"]
        parts.append(hop)
    if not parts:
        return {}
    hops = pd.concat(parts, ignore_index=True).drop_duplicates(subset=[c for c in parts[0].columns if c != "departure"])
    kinds = hops["station"].astype(str).str.split(":").str[0]
    fits = {}
    for kind, group in hops.groupby(kinds):
        if kind == "link":  # a backbone link that can be cut: a station of no service time, nothing to fit
            continue
        service = (group["departure"] - group["start"]).to_numpy(dtype=float)
        if len(service) < MIN_SAMPLES:
            problems.append(f"columns start_k, departure_k: station kind {kind!r} has {len(service)} service times; "
                            f"a fit needs at least {MIN_SAMPLES}")
        else:
            fits[str(kind)] = fit_duration(service)
    return fits


# --------------------------------------------------------------------------- the fitted scenario file


def _note(value: FittedValue, unit: str = "", scale: float = 1.0, digits: int = 4) -> str:
    return (f"estimate {value.estimate * scale:.{digits}g}{unit}, s.e. {value.standard_error * scale:.2g}{unit}, "
            f"n = {value.samples}")


def _law_note(fit: DistributionFit) -> str:
    ranked = ", ".join(f"{k} {v:.1f}" for k, v in sorted(fit.aic.items(), key=lambda kv: kv[1]) if math.isfinite(v))
    cv = f"; cv {fit.cv.estimate:.3g} (s.e. {fit.cv.standard_error:.2g})" if fit.family in ("lognormal", "gamma") else ""
    censored = f", {fit.censored} censored at the end of the log" if fit.censored else ""
    return (f"{fit.family}: mean estimate {fit.mean.estimate:.4g} s, s.e. {fit.mean.standard_error:.2g} s{cv}, "
            f"n = {fit.mean.samples}{censored}; AIC {ranked or 'n/a'}")


def _fitted_data(cal: Calibration) -> tuple[dict[str, Any], dict[str, str]]:
    """The base scenario as a mapping with the fitted values put in, and a comment per fitted key path."""
    data = tomllib.loads(dump_scenario(cal.base))
    notes: dict[str, str] = {}
    data["name"] = f"{cal.base.name}-fitted"
    data["description"] = f"Fitted to the exchange log {Path(cal.source).name}"
    traffic = data.setdefault("traffic", {})
    traffic["multiplier"] = 1.0
    notes["traffic.multiplier"] = "the fitted rates are the rates of the log"
    _put_agencies(cal, data, notes)
    profile = data["calendar"].setdefault("profile", {}) if cal.hours else {}  # always open: no profile to fit
    for name, table in (("hours", cal.hours), ("weekdays", cal.weekdays)):
        profile[name] = {k: round(v.estimate, 4) for k, v in table.items()}
        notes.update({f"calendar.profile.{name}.{k}": _note(v) for k, v in table.items()})
    fanout: list[dict[str, Any]] = []
    for recipients, kind, share in cal.fanout:
        if share.estimate > 0:
            rule = {"share": round(share.estimate, 6), "recipients": recipients, **({"kind": kind} if kind else {})}
            notes[f"traffic.fanout[{len(fanout)}].share"] = _note(share)
            fanout.append(rule)
    traffic["fanout"] = fanout
    if cal.urgent is not None:
        traffic.setdefault("types", {})["urgent"] = round(cal.urgent.estimate, 6)
        notes["traffic.types.urgent"] = _note(cal.urgent)
    if cal.size_median is not None and cal.size_sigma is not None:
        traffic["size"] = {"median": f"{cal.size_median.estimate / 1e3:.4g}KB", "sigma": round(cal.size_sigma.estimate, 4)}
        notes["traffic.size.median"] = _note(cal.size_median, " KB", 1e-3)
        notes["traffic.size.sigma"] = _note(cal.size_sigma)
    if cal.statuses:
        traffic["statuses"] = [{"code": code, "after": fit.spec()} for code, fit in cal.statuses.items()]
        notes.update({f"traffic.statuses[{i}].after": _law_note(fit) for i, fit in enumerate(cal.statuses.values())})
    network = data.setdefault("network", {})
    for kind, fit in cal.services.items():
        if kind in ("hub", "platform", "agency") and isinstance(network.get(kind), dict):
            network[kind]["service"] = fit.spec()
            notes[f"network.{kind}.service"] = _law_note(fit)
    return data, notes


def _put_agencies(cal: Calibration, data: dict[str, Any], notes: dict[str, str]) -> None:
    """Every agency's fitted rate and weight, into its entry of ``agencies`` (added where the base has none)."""
    entries = {entry["id"]: entry for entry in data.get("agencies", [])}
    for agency, rate in cal.rates.items():
        entry = entries.setdefault(agency, {"id": agency})
        entry["rate"] = f"{rate.estimate * _HOUR:.5g}/h"
        entry["weight"] = round(cal.weights[agency].estimate, 5)
        entry["size"] = 1.0  # the fitted rate and weight are the agency's own (size would scale them again)
    data["agencies"] = list(entries.values())
    for i, entry in enumerate(data["agencies"]):
        if entry["id"] in cal.rates:
            notes[f"agencies[{i}].rate"] = _note(cal.rates[entry["id"]], "/h", _HOUR)
            notes[f"agencies[{i}].weight"] = _note(cal.weights[entry["id"]])
            notes[f"agencies[{i}].size"] = "the rate and weight above are fitted per agency"


def _emit(data: dict[str, Any], notes: dict[str, str], path: str = "") -> str:
    """TOML text of ``data`` with ``notes[key path]`` as end-of-line comments (tables after plain keys)."""
    lines: list[str] = []
    tables, arrays = [], []
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict) and not (path.endswith("service") or key in ("service", "after")):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            note = notes.get(where)
            lines.append(f"{_key(key)} = {_inline(value)}" + (f"  # {note}" if note else ""))
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables:
        where = f"{path}.{key}" if path else key
        text += f"\n[{_dotted(where)}]\n" + _emit(value, notes, where)
    for key, items in arrays:
        where = f"{path}.{key}" if path else key
        for i, item in enumerate(items):
            text += f"\n[[{_dotted(where)}]]\n" + _emit(item, notes, f"{where}[{i}]")
    return text


def _dotted(where: str) -> str:
    """A key path as a TOML table name (array indices dropped: a sub-table belongs to the last element)."""
    import re

    return ".".join(_key(part) for part in re.sub(r"\[\d+\]", "", where).split("."))


def _key(key: str) -> str:
    import json
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _inline(value: Any) -> str:
    """A TOML inline value."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(_inline(v) for v in value) + "]"
