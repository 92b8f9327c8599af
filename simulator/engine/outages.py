"""Outages and failures: when a station starts no new service.

Each scheduled outage is a long-lived SimPy process (work in progress
finishes); outages of one station may overlap, and the station is down
while any of them lasts. Failures by chance are one process per station:
it runs for a random time, fails (the jobs in service are pushed back, see
:class:`~simulator.engine.stations.FailingStation`) and is repaired after a
random time.
"""
from __future__ import annotations

from typing import Iterator

import simpy

from ..scenario import Outage
from .stations import FailingStation, PriorityStation
from .variates import Variates

__all__ = ["outage", "failures"]


def outage(env: simpy.Environment, station: PriorityStation, spec: Outage) -> Iterator[simpy.Event]:
    """Take ``station`` down for ``spec.duration`` from ``spec.start``, and every ``spec.every`` after.

    Parameters
    ----------
    env : simpy.Environment
    station : PriorityStation
    spec : Outage
        ``start``, ``duration`` and the optional period ``every``, seconds.
    """
    yield env.timeout(spec.start)
    while True:
        station.go_down(env.now)
        yield env.timeout(spec.duration)
        station.come_up(env.now)
        if spec.every is None:
            return
        yield env.timeout(spec.every - spec.duration)


def failures(env: simpy.Environment, station: FailingStation, between: Variates,
             repair: Variates) -> Iterator[simpy.Event]:
    """Fail ``station`` after each time drawn from ``between``, for a time drawn from ``repair``.

    Parameters
    ----------
    env : simpy.Environment
    station : FailingStation
    between, repair : Variates
        Time from a repair (or the start) to the next failure, and the repair time, seconds.
    """
    while True:
        yield env.timeout(between.next())
        duration = repair.next()
        station.fail(env.now, duration)
        yield env.timeout(duration)
        station.come_up(env.now)
