"""Catalogue: every text a planner reads (report, comparison, charts) in Vietnamese and English, from one place.

``simulator/messages/<lang>.json`` maps a key to a text with ``{placeholders}``;
both languages have the same keys. :func:`messages` reads one language (NFC),
:func:`parameter_label` names a swept key path in words. The report and the
charts both read it, so a label is written once.
"""
from __future__ import annotations

import functools
import json
import unicodedata
from importlib import resources
from typing import Literal, Mapping, get_args

from .errors import ExperimentError

__all__ = ["Language", "LANGUAGES", "messages", "parameter_label"]

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
    """A swept parameter in words (``traffic multiplier (× the scenario's volume)``), else its key path.

    Examples
    --------
    >>> parameter_label("network.hub.servers"), parameter_label("run.seed")
    ('hub servers', 'run.seed')
    """
    return messages(lang).get(f"param_{path}", path)
