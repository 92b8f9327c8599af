"""Errors: the exception hierarchy that tells a user what to fix.

Every user-facing error derives from :class:`SimulatorError`. A
:class:`ScenarioError` carries one or more :class:`Problem` records, each naming
the file, the dotted key path, the bad value and the rule it broke, so the
command line can print one line per problem and exit with status 2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["SimulatorError", "Problem", "ScenarioError", "TopologyError", "ExperimentError", "LogError", "quote",
           "MAX_QUOTED", "MAX_PROBLEMS"]

_MISSING = object()

#: At most this many characters of a bad value are quoted in a message (then ``...``).
MAX_QUOTED = 200
#: At most this many problems are printed; the rest are counted in one ``... and N more`` line.
MAX_PROBLEMS = 20
#: Containers nested deeper than this are quoted as ``[...]`` or ``{...}``.
_MAX_QUOTED_DEPTH = 6


class _Full(Exception):
    """Raised inside :func:`quote` once the text is long enough."""


def quote(value: Any, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` on one line, cut after about ``limit`` characters.

    Lists, tuples and dicts are written element by element (so a huge or
    deeply nested value costs no more than the characters shown); containers
    nested more than a few levels deep are written ``[...]`` or ``{...}``;
    strings keep Python's escapes, so control characters never break the line.

    Parameters
    ----------
    value : Any
        The value to show.
    limit : int
        Characters to show at most before ``...``.

    Returns
    -------
    str

    Examples
    --------
    >>> quote({"hub": {"servers": 2}})
    "{'hub': {'servers': 2}}"
    >>> quote("x" * 300)[-6:], len(quote("x" * 300))
    ('xxx...', 203)
    >>> quote([[[[[[[[1]]]]]]]])
    '[[[[[[[...]]]]]]]'
    """
    parts: list[str] = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)
        if size > limit:
            raise _Full

    def walk(item: Any, depth: int) -> None:
        if isinstance(item, (list, tuple, dict)):
            opening, closing = ("{", "}") if isinstance(item, dict) else ("(", ")") if isinstance(item, tuple) else ("[", "]")
            if depth >= _MAX_QUOTED_DEPTH:
                put(f"{opening}...{closing}")
                return
            put(opening)
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for position, (key, element) in enumerate(entries):
                if position:
                    put(", ")
                if isinstance(item, dict):
                    walk(key, depth + 1)
                    put(": ")
                walk(element, depth + 1)
            if isinstance(item, tuple) and len(item) == 1:
                put(",")
            put(closing)
        elif isinstance(item, str) and len(item) > limit:
            put(repr(item[: limit + 1]))
        elif isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 4 * limit:
            put(f"<an integer of about {int(item.bit_length() * 0.30103)} digits>")
        else:
            put(repr(item))

    try:
        walk(value, 0)
    except _Full:
        return "".join(parts)[:limit] + "..."
    return "".join(parts)


def _one_line(text: str, limit: int) -> str:
    """``text`` with control characters escaped, cut after ``limit`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "..."


class SimulatorError(Exception):
    """Base class of every error caused by user input or environment."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in a scenario.

    Parameters
    ----------
    key : str
        Dotted key path, e.g. ``network.hub.servers`` or ``agencies[3].rate``.
    value : Any
        The offending value as read from the file; :func:`missing_value` when
        the key is absent (then no value is shown).
    rule : str
        What the value must be, e.g. ``must be a positive integer``.
    """

    key: str
    value: Any
    rule: str

    def render(self, source: str) -> str:
        """Format as ``SOURCE: key = value: rule``, on one line.

        The value is quoted by :func:`quote` (about 200 characters at most);
        control characters in the source, key and rule are escaped.
        """
        prefix = f"{_one_line(source, 4 * MAX_QUOTED)}: " if source else ""
        key, rule = _one_line(self.key, MAX_QUOTED), _one_line(self.rule, 4 * MAX_QUOTED)
        if self.value is _MISSING:
            return f"{prefix}{key}: {rule}"
        return f"{prefix}{key} = {quote(self.value)}: {rule}"


class ScenarioError(SimulatorError):
    """A scenario file (or text) that cannot be used as given.

    Parameters
    ----------
    source : str
        File path, or ``<text>`` for a scenario given as a string.
    problems : iterable of Problem
        Every problem found; at least one. All are kept in ``problems``; the
        message shows the first :data:`MAX_PROBLEMS`, one line each, then
        ``... and N more problems``.
    """

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        self.problems = tuple(problems)
        assert self.problems, "ScenarioError needs at least one problem"
        lines = [p.render(source) for p in self.problems[:MAX_PROBLEMS]]
        hidden = len(self.problems) - MAX_PROBLEMS
        if hidden > 0:
            lines.append(f"{_one_line(source, 4 * MAX_QUOTED)}: ... and {hidden} more problem{'s' if hidden > 1 else ''}")
        super().__init__("\n".join(lines))

    @classmethod
    def single(cls, source: str, key: str, value: Any, rule: str) -> "ScenarioError":
        """Build an error with exactly one problem."""
        return cls(source, [Problem(key, value, rule)])


def missing_value() -> Any:
    """Sentinel for a :class:`Problem` whose key is absent (no value to show)."""
    return _MISSING


class TopologyError(SimulatorError):
    """A network that cannot be built (for example, no route between two agencies)."""


class ExperimentError(SimulatorError):
    """An experiment that cannot run as requested (bad replications, jobs, output folder)."""


class LogError(SimulatorError):
    """An exchange log that cannot be fitted: one line per problem (file, row or column, value, rule).

    Parameters
    ----------
    source : str
        The log file.
    problems : iterable of str
        Each problem as ``row N, column C = value: rule`` (or ``column C: rule``);
        the message shows the first :data:`MAX_PROBLEMS`, then ``... and N more problems``.
    """

    def __init__(self, source: str, problems: Iterable[str]):
        self.source = source
        self.problems = tuple(problems)
        assert self.problems, "LogError needs at least one problem"
        lines = [f"{_one_line(source, 4 * MAX_QUOTED)}: {_one_line(p, 4 * MAX_QUOTED)}" for p in self.problems[:MAX_PROBLEMS]]
        hidden = len(self.problems) - MAX_PROBLEMS
        if hidden > 0:
            lines.append(f"{_one_line(source, 4 * MAX_QUOTED)}: ... and {hidden} more problem{'s' if hidden > 1 else ''}")
        super().__init__("\n".join(lines))
