"""Outages: scheduled periods when a station starts no new service (work in progress finishes).

Each outage is a long-lived SimPy process; outages of one station may
overlap, and the station is down while any of them lasts.
"""
from __future__ import annotations

from typing import Iterator

import simpy

from ..scenario import Outage
from .stations import PriorityStation

__all__ = ["outage"]


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
