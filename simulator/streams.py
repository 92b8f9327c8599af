"""Streams: the tree of independent random-number generators behind every run.

All randomness comes from ``numpy.random.SeedSequence(seed)``. A replication
gets the child ``spawn(...)`` would give it; inside a replication every named
source (arrivals, service, routing, ...) and every keyed entity (an agency's
stable identifier, a station's name) gets its own child sequence, derived from
the key alone. Adding an agency therefore leaves every other agency's draws
unchanged (common random numbers), and results do not depend on the order in
which streams are created or on which process runs a replication.
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["SOURCES", "replication_seeds", "stream"]

#: Named sources of randomness; the number is part of each stream's key.
SOURCES: dict[str, int] = {
    "arrivals": 1,
    "documents": 2,
    "service": 3,
    "status": 4,
    "outages": 5,
    "postal": 6,
    "failures": 7,
    "repairs": 8,
    "resend": 9,
    "standby": 10,
}


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One independent seed sequence per replication, as ``SeedSequence(seed).spawn`` gives.

    Parameters
    ----------
    seed : int
        The root seed.
    replications : int
        How many replications.

    Returns
    -------
    list of numpy.random.SeedSequence
        Replication r's sequence at index r, the same whatever ``replications``.

    Examples
    --------
    >>> [s.spawn_key for s in replication_seeds(7, 2)]
    [(0,), (1,)]
    """
    return np.random.SeedSequence(seed).spawn(replications)


def _key_number(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def stream(parent: np.random.SeedSequence, source: str, key: str = "") -> np.random.Generator:
    """The generator for one named source and entity key under ``parent``.

    Parameters
    ----------
    parent : numpy.random.SeedSequence
        The replication's seed sequence.
    source : str
        One of :data:`SOURCES`.
    key : str, optional
        A stable identifier (agency id, station name); the same key always
        gives the same stream, whatever else exists.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator.
    """
    child = np.random.SeedSequence(
        entropy=parent.entropy,
        spawn_key=tuple(parent.spawn_key) + (SOURCES[source], _key_number(key)),
        pool_size=parent.pool_size,
    )
    return np.random.Generator(np.random.PCG64(child))
