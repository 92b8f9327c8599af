"""Catalogue: every text a planner reads (report, comparison, charts) in Vietnamese and English, from one place.

``simulator/messages/<lang>.json`` maps a key to a text with ``{placeholders}``;
both languages have the same keys. :func:`messages` reads one language (NFC),
:func:`parameter_label` names a swept key path in words. The report and the
charts both read it, so a label is written once.
"""
from __future__ import annotations

import functools
import json
import math
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, Mapping, get_args

from .errors import ExperimentError

__all__ = ["Language", "LANGUAGES", "THIN_SPACE", "MISSING", "Locale", "messages", "parameter_label", "format_number",
           "format_percent", "scenario_language", "is_finite", "parameter_axis_label"]

Language = Literal["en", "vi"]
#: The languages of the message catalogue.
LANGUAGES: tuple[str, ...] = get_args(Language)


@functools.cache
def messages(lang: str) -> Mapping[str, str]:
    """The message catalogue of one language: key -> text with ``{placeholders}`` (NFC).

    Parameters
    ----------
    lang : {"en", "vi"}

    Returns
    -------
    Mapping of str to str

    Raises
    ------
    ExperimentError
        If ``lang`` is not a catalogue language.

    Examples
    --------
    >>> messages("vi")["section_answer"]
    'Câu trả lời'
    """
    if lang not in LANGUAGES:
        raise ExperimentError(f"--lang {lang}: unknown language; choose one of {', '.join(LANGUAGES)}")
    text = resources.files("simulator").joinpath("messages", f"{lang}.json").read_text(encoding="utf-8")
    return {key: unicodedata.normalize("NFC", value) for key, value in json.loads(text).items()}


def parameter_label(path: str, lang: str = "en") -> str:
    """A swept parameter in words (``traffic multiplier``), else its key path (the unit: :func:`parameter_axis_label`).

    Parameters
    ----------
    path : str
        The dotted key path of the swept parameter (``network.hub.servers``).
    lang : {"en", "vi"}
        The catalogue language.

    Returns
    -------
    str
        The catalogue's ``param_<path>`` text, or ``path`` itself when the catalogue has none.

    Examples
    --------
    >>> parameter_label("network.hub.servers"), parameter_label("run.seed")
    ('hub servers', 'run.seed')
    """
    return messages(lang).get(f"param_{path}", path)


def parameter_axis_label(path: str, lang: str = "en") -> str:
    """A swept parameter in words with its unit, for an axis (``traffic multiplier (× the scenario's volume)``).

    Parameters
    ----------
    path : str
        The dotted key path of the swept parameter.
    lang : {"en", "vi"}
        The catalogue language.

    Returns
    -------
    str
        :func:`parameter_label` followed by the catalogue's ``param_unit_<path>`` in parentheses, or
        :func:`parameter_label` alone when the parameter has no unit in the catalogue.

    Examples
    --------
    >>> parameter_axis_label("traffic.multiplier"), parameter_axis_label("network.hub.servers", "vi")
    ("traffic multiplier (× the scenario's volume)", 'số máy chủ của trục')
    """
    unit = messages(lang).get(f"param_unit_{path}")
    return f"{parameter_label(path, lang)} ({unit})" if unit else parameter_label(path, lang)


def scenario_language(scenario: Any) -> str:
    """The language of a scenario's texts: its ``language`` key when it names a catalogue language, else English.

    Parameters
    ----------
    scenario : Scenario or Mapping
        A validated scenario (its ``language`` attribute is read) or a mapping (its ``"language"`` key).

    Returns
    -------
    {"en", "vi"}
        ``"en"`` when the language is missing or not one of :data:`LANGUAGES`.
    """
    lang = getattr(scenario, "language", None) if not isinstance(scenario, Mapping) else scenario.get("language")
    return lang if lang in LANGUAGES else "en"


#: What a page shows for a missing or non-finite figure (an en dash).
MISSING = "–"
#: Vietnamese thousands separator: NARROW NO-BREAK SPACE (a thin space that does not break a line).
THIN_SPACE = "\u202f"


def is_finite(value: Any) -> bool:
    """Whether ``value`` is a finite number (not a bool, None, NaN or text).

    Parameters
    ----------
    value : Any

    Returns
    -------
    bool
        True for an ``int`` or ``float`` (not a ``bool``) that is neither NaN nor infinite.

    Examples
    --------
    >>> is_finite(1.5), is_finite(float("nan")), is_finite(True), is_finite(None)
    (True, False, False, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: float | None, lang: str, digits: int = 0) -> str:
    """A number as the language writes it; ``–`` for a missing or non-finite value.

    English groups thousands with ``,`` and marks decimals with ``.``;
    Vietnamese groups thousands with a narrow no-break space (U+202F, a thin
    space that never breaks a line) and marks decimals with ``,``.

    Parameters
    ----------
    value : float or None
        The number, in whatever unit the caller shows.
    lang : {"en", "vi"}
        The language; any other value is written as English.
    digits : int, default 0
        Decimals shown (rounded).

    Returns
    -------
    str
        The number written out, or :data:`MISSING` (``–``) when ``value`` is not :func:`is_finite`.

    Examples
    --------
    >>> format_number(12345.678, "en", 1), format_number(12345.678, "vi", 1)
    ('12,345.7', '12\\u202f345,7')
    >>> format_number(None, "vi"), format_number(-0.5, "vi", 2)
    ('–', '-0,50')
    """
    if not is_finite(value):
        return MISSING
    text = f"{value:,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", THIN_SPACE).replace(".", ",")
    return text


def format_percent(share: float | None, lang: str, digits: int = 1) -> str:
    """A share (0.865) as a percentage (``86.5%``, Vietnamese ``86,5%``).

    Parameters
    ----------
    share : float or None
        A share, usually in [0, 1] (0.865 is 86.5%).
    lang : {"en", "vi"}
        The language (its decimal mark, :func:`format_number`).
    digits : int, default 1
        Decimals of the percentage.

    Returns
    -------
    str
        The percentage with ``%`` and no space before it, or :data:`MISSING` (``–``) when ``share`` is not
        :func:`is_finite`.

    Examples
    --------
    >>> format_percent(0.865, "en"), format_percent(0.865, "vi"), format_percent(None, "en")
    ('86.5%', '86,5%', '–')
    """
    return f"{format_number(share * 100, lang, digits)}%" if is_finite(share) else MISSING


@dataclass(frozen=True)
class Locale:
    """The texts and number formats of one language."""

    lang: str

    def text(self, key: str, **values: Any) -> str:
        """The catalogue text ``key`` with its placeholders filled in."""
        return messages(self.lang)[key].format(**values)

    def number(self, value: float | None, digits: int | None = None) -> str:
        """A count or rate: no decimals from 100 up, two below."""
        if digits is None:
            digits = 0 if not is_finite(value) or abs(value) >= 100 or float(value).is_integer() else 2
        return format_number(value, self.lang, digits)

    def percent(self, share: float | None) -> str:
        """A share as a percentage with one decimal."""
        return format_percent(share, self.lang)

    def factor(self, value: float | None) -> str:
        """A growth factor (``3.1×``, ``3,1 lần``)."""
        return self.text("times", value=format_number(value, self.lang, 1)) if is_finite(value) else MISSING

    def duration(self, seconds: float | None) -> str:
        """A duration in the unit that reads best (seconds, minutes, hours, days)."""
        if not is_finite(seconds):
            return MISSING
        for limit, scale, unit in ((60, 1, "unit_s"), (3600, 60, "unit_min"), (86400, 3600, "unit_h"), (math.inf, 86400, "unit_d")):
            if abs(seconds) < limit:
                value = round(seconds / scale, 1)
                return self.text(unit, value=format_number(value, self.lang, 0 if value.is_integer() else 1))
        return MISSING  # pragma: no cover - the last limit is infinite

    def figure(self, kind: str, value: float | None) -> str:
        """A figure by its kind: ``"percent"`` (a share), ``"duration"`` (seconds), ``"factor"``, else a number."""
        if kind == "percent":
            return self.percent(value)
        if kind == "duration":
            return self.duration(value)
        if kind == "factor":
            return self.factor(value)
        return self.number(value)

    def station(self, name: str) -> str:
        """A station name in this language: the model's English suffix translated, the agency name untouched.

        The model names a province's platform ``<agency> (platform)`` and the
        hub ``<name> (hub)``; the suffix comes from the catalogue
        (``station_platform``, ``station_hub``), the agency name is never
        transliterated.

        Examples
        --------
        >>> Locale("vi").station("Tỉnh Thanh Hóa (platform)")
        'Tỉnh Thanh Hóa (nền tảng tích hợp)'
        >>> Locale("en").station("Tỉnh Thanh Hóa (platform)"), Locale("vi").station("Bộ Tài chính")
        ('Tỉnh Thanh Hóa (platform)', 'Bộ Tài chính')
        """
        for suffix, key in ((" (platform)", "station_platform"), (" (hub)", "station_hub")):
            if name.endswith(suffix):
                return unicodedata.normalize("NFC", self.text(key, name=name[: -len(suffix)]))
        return name

    def parameter(self, path: str) -> str:
        """A swept parameter in words (``traffic multiplier``), else its key path as written in the scenario."""
        return parameter_label(path, self.lang)

    def parameter_axis(self, path: str) -> str:
        """A swept parameter in words with its unit, for an axis (:func:`parameter_axis_label`)."""
        return parameter_axis_label(path, self.lang)

    def clock(self, hours: float) -> str:
        """An instant of simulated time as day and clock time (``day 2 06:00``, ``ngày 2 06:00``).

        Examples
        --------
        >>> Locale("en").clock(30.5), Locale("vi").clock(0)
        ('day 2 06:30', 'ngày 1 00:00')
        """
        minutes = int(round(hours * 60))
        day, minute = divmod(minutes, 24 * 60)
        return self.text("clock", day=day + 1, time=f"{minute // 60:02d}:{minute % 60:02d}")

    def tick(self, value: float) -> str:
        """A chart tick value in this language's number format (``12 000``, ``0,5``)."""
        for digits in range(4):
            if abs(value - round(value, digits)) < 1e-9:
                return format_number(value, self.lang, digits)
        return format_number(value, self.lang, 4)

    def kind(self, kind: str) -> str:
        """A station kind in words (``Integration platform``)."""
        return messages(self.lang).get(f"kind_{kind}", kind)
