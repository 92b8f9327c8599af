"""Agenda: SimPy's event queue with an annex for the far future, so the heap stays short.

Status messages are sent hours or days after a delivery (registration,
assignment, completion), so most scheduled events lie far ahead: on the full
2025 structure the heap would hold a hundred thousand of them and every pop
would pay for its depth. The agenda keeps events beyond the current
``width``-second slot in per-slot lists, and a ticker moves a slot's events
onto SimPy's heap when the slot begins. Every entry keeps the id it got when
it was scheduled, so events run in exactly the order a single heap would give.
"""
from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any, Callable, Iterator


__all__ = ["Agenda", "NORMAL_EVENT", "run_until"]

#: SimPy event priority of everything the engine schedules (``simpy.core.NORMAL``).
NORMAL_EVENT = 1
#: SimPy's urgent priority: the ticker runs before the events of its instant.
_URGENT_EVENT = 0


class Agenda:
    """Schedules the engine's events on SimPy's queue, parking far ones until their slot opens.

    Parameters
    ----------
    queue : list
        SimPy's event heap (``Environment._queue``).
    ids : itertools.count
        SimPy's event-id counter (``Environment._eid``).
    width : float
        Slot width, seconds.
    """

    __slots__ = ("queue", "ids", "width", "slot", "open_until", "slots", "act", "unread_until")

    def __init__(self, queue: list, ids: count, width: float = 600.0):
        self.queue = queue
        self.ids = ids
        self.width = width
        self.slot = 0  # the open slot: [slot * width, open_until)
        self.open_until = width  # events before this go straight onto the heap
        self.slots: dict[int, list[tuple]] = {}
        #: Nobody reads the run's counters before this instant (the observer's next sample, the end of the
        #: warm-up or the horizon): a copy or status message that reaches the end of its route earlier may be
        #: settled when its arrival there is known, without an event (0: nothing is settled early).
        self.unread_until = 0.0
        self.act: Callable[[object, float], None] = self.tick
        heappush(queue, (self.open_until, _URGENT_EVENT, next(ids), self))

    def at(self, time: float, event: object) -> None:
        """Schedule ``event`` (which carries its ``act``) at ``time``."""
        entry = (time, NORMAL_EVENT, next(self.ids), event)
        if time < self.open_until:
            heappush(self.queue, entry)
            return
        slot = int(time // self.width)
        if slot * self.width > time:  # floating-point edge: the slot must not begin after the event
            slot -= 1
        if slot <= self.slot:
            slot = self.slot + 1
        parked = self.slots.get(slot)
        if parked is None:
            self.slots[slot] = [entry]
        else:
            parked.append(entry)

    def tick(self, _: object, now: float) -> None:
        """A slot begins: its parked events join the heap, and the next slot's tick is scheduled."""
        queue = self.queue
        self.slot += 1
        for entry in self.slots.pop(self.slot, ()):
            heappush(queue, entry)
        self.open_until = (self.slot + 1) * self.width
        heappush(queue, (self.open_until, _URGENT_EVENT, next(self.ids), self))

    def close(self) -> None:
        """Forget the parked events and the ticker's action (after a run): no reference cycle keeps them alive."""
        self.slots.clear()
        self.act = _spent

    def events(self) -> Iterator[object]:
        """Every event scheduled and not yet run: on the heap or parked."""
        for entry in self.queue:
            yield entry[3]
        for parked in self.slots.values():
            for entry in parked:
                yield entry[3]


def _spent(*_: object) -> None:  # pragma: no cover - only an event left over from a finished run would call it
    raise AssertionError("the run is over")


def run_until(env: Any, horizon: float) -> int:
    """Process events until ``horizon`` (events at the horizon itself do not run, as with ``env.run``).

    The loop pops SimPy's event queue itself: the engine's own events (jobs,
    sources, stations waking, the agenda's ticker) carry their action in
    ``act`` and are handled directly; any other event (the outage, sampling
    and warm-up processes) is put back and processed by
    ``Environment.step``, so SimPy's processes run unchanged next to the hot
    path. This relies on SimPy 4's queue entries ``(time, priority, id,
    event)``, pinned in setup.cfg.

    Parameters
    ----------
    env : simpy.Environment
    horizon : float

    Returns
    -------
    int
        Events processed.
    """
    queue: list = env._queue
    processed = 0
    while queue:
        entry: tuple = heappop(queue)
        now: float = entry[0]
        if now >= horizon:
            heappush(queue, entry)
            break
        event: Any = entry[3]
        processed += 1
        try:
            act = event.act
        except AttributeError:  # a SimPy event: SimPy processes it
            heappush(queue, entry)
            env.step()
            continue
        act(event, now)
    env._now = horizon
    return processed
