"""Errors: the exception hierarchy that tells a user what to fix.

Every user-facing error derives from :class:`SimulatorError`. A
:class:`ScenarioError` carries one or more :class:`Problem` records, each naming
the file, the dotted key path, the bad value and the rule it broke, so the
command line can print one line per problem and exit with status 2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["SimulatorError", "Problem", "ScenarioError", "TopologyError", "ExperimentError"]

_MISSING = object()


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
        """Format as ``SOURCE: key = value: rule``."""
        prefix = f"{source}: " if source else ""
        if self.value is _MISSING:
            return f"{prefix}{self.key}: {self.rule}"
        return f"{prefix}{self.key} = {self.value!r}: {self.rule}"


class ScenarioError(SimulatorError):
    """A scenario file (or text) that cannot be used as given.

    Parameters
    ----------
    source : str
        File path, or ``<text>`` for a scenario given as a string.
    problems : iterable of Problem
        Every problem found; at least one.
    """

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        self.problems = tuple(problems)
        assert self.problems, "ScenarioError needs at least one problem"
        super().__init__("\n".join(p.render(source) for p in self.problems))

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
