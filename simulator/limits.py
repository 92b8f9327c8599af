"""Limits: what a command may spend before it starts (``--max-events``, ``--max-memory``, ``--allow-unstable``).

The defaults and the parsing of the options live here, apart from the
estimate that :mod:`simulator.workload` checks against them, so that the
command line can state the defaults in ``axis-sim --help`` without loading
the analytic model (NumPy, NetworkX, pydantic). :mod:`simulator.workload`
re-exports every name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .units import parse_size

__all__ = ["DEFAULT_MAX_EVENTS", "DEFAULT_MAX_MEMORY", "Limits", "parse_memory"]

#: Default limits: what a laptop survives (about 35 minutes of simulation; a quarter of 16 GB).
DEFAULT_MAX_EVENTS = 2e9
DEFAULT_MAX_MEMORY = 4e9


@dataclass(frozen=True)
class Limits:
    """What a command may spend: ``--max-events``, ``--max-memory``, ``--allow-unstable``.

    Attributes
    ----------
    max_events : float
        Events over every replication (and sweep point) of the command.
    max_memory : float
        Bytes at the peak, over all worker processes at once.
    allow_unstable : bool
        Simulate a network with a station at utilisation 1 or more.
    """

    max_events: float = DEFAULT_MAX_EVENTS
    max_memory: float = DEFAULT_MAX_MEMORY
    allow_unstable: bool = False


def parse_memory(text: str) -> float:
    """Bytes of a memory limit: ``"4GB"``, ``"512MB"``, ``"2GiB"`` or a bare number of bytes.

    Raises
    ------
    ValueError
        If the text is not a positive size.

    Parameters
    ----------
    text : str
        A size with a unit of :data:`simulator.units.SIZE_UNITS`, or bytes.

    Returns
    -------
    float
        Bytes.

    Examples
    --------
    >>> parse_memory("4GB"), parse_memory("1.5GiB"), parse_memory("1e9")
    (4000000000.0, 1610612736.0, 1000000000.0)
    """
    value = parse_size(float(text) if _is_number(text) else text)
    if not value > 0 or not math.isfinite(value):
        raise ValueError("must be a positive size such as 4GB or 512MB")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
