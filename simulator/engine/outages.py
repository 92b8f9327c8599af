"""Outages and failures: when a station starts no new service.

Each scheduled outage is a long-lived SimPy process (work in progress
finishes); outages of one station may overlap, and the station is down
while any of them lasts. Failures by chance are one process per station:
it runs for a random time, fails (the jobs in service are pushed back, see
:class:`~simulator.engine.stations.FailingStation`) and is repaired after a
random time: on the calendar (:func:`failures`), or after a random amount of
its servers' work (:func:`wear_failures`, ``failures.clock = "busy"``).
"""
from __future__ import annotations

import math
from typing import Iterator

import simpy

from ..scenario import Outage
from .flow import Flow
from .output import Recovery
from .stations import FailingStation, PriorityStation, WearingStation
from .variates import Variates

__all__ = ["DRAIN_STEP", "Downtime", "outage", "failures", "wear_failures", "switchover"]

#: How often the backlog of a station that came back up is read, seconds.
DRAIN_STEP = 60.0
#: A backlog not drained this long after the end of its outage is reported as not drained (NaN).
DRAIN_LIMIT = 7 * 86400.0


class Downtime:
    """What the outage and failure processes report to while the run goes on.

    Each outage or failure gets a :class:`~simulator.engine.output.Recovery`
    when it begins (its end and drain are filled in later), and the flow
    knows how many stations are down, so that it can mark the documents
    created meanwhile.

    Parameters
    ----------
    flow : Flow
    """

    def __init__(self, flow: Flow):
        self.flow = flow
        self.recoveries: list[Recovery] = []

    def begin(self, env: simpy.Environment, station: PriorityStation) -> Recovery:
        """A station is about to go down: note its backlog."""
        recovery = Recovery(station.index, env.now, math.nan, station.backlog(env.now))
        self.recoveries.append(recovery)
        self.flow.outages_going_on += 1
        return recovery

    def went_down(self, env: simpy.Environment, station: PriorityStation) -> None:
        """A station has just gone down: its standby, if any, takes over after the switchover."""
        if not station.has_standby or station.down != 1:
            return  # no standby, or down already (the standby serves, or will)
        if station.switchover == 0.0:
            station.take_over(env.now)
        else:
            env.process(switchover(env, station, station.downs))

    def end(self, env: simpy.Environment, station: PriorityStation, recovery: Recovery) -> None:
        """The station comes back up: serve again, and watch its backlog drain.

        The backlog is read first, before the servers start on the queue: all that waited for the station (a
        cut link, which takes no time, empties at once).
        """
        recovery.peak_backlog = max(recovery.peak_backlog, station.backlog(env.now))
        station.come_up(env.now)
        recovery.end = env.now
        self.flow.outages_going_on -= 1
        env.process(drain(env, station, recovery))


def outage(env: simpy.Environment, station: PriorityStation, spec: Outage,
           down: Downtime) -> Iterator[simpy.Event]:
    """Take ``station`` down for ``spec.duration`` from ``spec.start``, and every ``spec.every`` after.

    Parameters
    ----------
    env : simpy.Environment
    station : PriorityStation
    spec : Outage
        ``start``, ``duration`` and the optional period ``every``, seconds.
    down : Downtime
        Where the outage is recorded.
    """
    yield env.timeout(spec.start)
    while True:
        recovery = down.begin(env, station)
        station.go_down(env.now)
        down.went_down(env, station)
        yield env.timeout(spec.duration)
        down.end(env, station, recovery)
        if spec.every is None:
            return
        yield env.timeout(spec.every - spec.duration)


def failures(env: simpy.Environment, station: FailingStation, between: Variates, repair: Variates,
             down: Downtime) -> Iterator[simpy.Event]:
    """Fail ``station`` after each time drawn from ``between``, for a time drawn from ``repair``.

    Parameters
    ----------
    env : simpy.Environment
    station : FailingStation
    between, repair : Variates
        Time from a repair (or the start) to the next failure, and the repair time, seconds.
    down : Downtime
        Where each failure is recorded.
    """
    gap = between.next()
    station.next_failure = env.now + gap  # services ending before it need no event of their own
    while True:
        yield env.timeout(gap)
        duration = repair.next()
        recovery = down.begin(env, station)
        station.fail(env.now, duration)
        down.went_down(env, station)
        yield env.timeout(duration)
        gap = between.next()  # drawn before the station serves again, so that it knows when it fails next
        station.next_failure = env.now + gap
        down.end(env, station, recovery)


def wear_failures(env: simpy.Environment, station: WearingStation, between: Variates, repair: Variates,
                  down: Downtime) -> None:
    """Fail ``station`` each time its servers have worked a time drawn from ``between``, for a time from ``repair``.

    The station foresees its failures itself (:class:`~simulator.engine.stations.WearingStation`) and its alarm
    runs on the agenda, outside SimPy's step: the failure first brings SimPy's clock to its instant, so that the
    records, the standby and the repair (a SimPy process) take their time from it. The draws come in the same
    order as :func:`failures`: the first budget now, then each repair and the budget after it.

    Parameters
    ----------
    env : simpy.Environment
    station : WearingStation
    between, repair : Variates
        Work (busy server-seconds) from a repair (or the start) to the next failure, and the repair time, seconds.
    down : Downtime
        Where each failure is recorded.
    """

    def breakdown(now: float) -> None:
        env._now = now  # what SimPy's step does for its own events
        duration = repair.next()
        recovery = down.begin(env, station)
        station.fail(now, duration)
        down.went_down(env, station)
        env.process(_repaired(env, station, duration, between, down, recovery))

    station.breakdown = breakdown
    station.rearm(between.next(), env.now)


def _repaired(env: simpy.Environment, station: WearingStation, duration: float, between: Variates,
              down: Downtime, recovery: Recovery) -> Iterator[simpy.Event]:
    """Repair ``station`` in ``duration``, then give it its next budget of work before it serves again."""
    yield env.timeout(duration)
    station.rearm(between.next(), env.now)
    down.end(env, station, recovery)


def switchover(env: simpy.Environment, station: PriorityStation, downs: int) -> Iterator[simpy.Event]:
    """The standby of ``station`` takes over ``station.switchover`` seconds after its ``downs``-th time down.

    If the station came back up meanwhile (a repair shorter than the switchover) nothing happens.
    """
    yield env.timeout(station.switchover)
    if station.halted and station.downs == downs:
        station.take_over(env.now)


def drain(env: simpy.Environment, station: PriorityStation, recovery: Recovery) -> Iterator[simpy.Event]:
    """Read the backlog of a station back up every :data:`DRAIN_STEP` until it is within 10 % of its level before.

    Parameters
    ----------
    env : simpy.Environment
    station : PriorityStation
    recovery : Recovery
        Its ``peak_backlog`` and ``drained_at`` are filled in.
    """
    threshold = 1.1 * recovery.backlog_before
    limit = recovery.end + DRAIN_LIMIT
    while True:
        backlog = station.backlog(env.now)
        recovery.peak_backlog = max(recovery.peak_backlog, backlog)
        if backlog <= threshold:
            recovery.drained_at = env.now
            return
        if env.now >= limit:
            return
        yield env.timeout(DRAIN_STEP)
