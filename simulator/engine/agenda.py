"""Agenda: the engine's event queue beside SimPy's, with an annex for the far future, so the heap stays short.

Status messages are sent hours or days after a delivery (registration,
assignment, completion), so most scheduled events lie far ahead: on the full
2025 structure the heap would hold a hundred thousand of them and every pop
would pay for its depth. The agenda keeps events beyond the current
``width``-second slot in per-slot lists, and a ticker moves a slot's events
onto the heap when the slot begins.

The heap is the agenda's own: a binary heap of :class:`Entry` objects whose
time, priority and sequence number are compared as machine numbers (SimPy's
heap holds tuples, and comparing tuples of Python floats was a fifth of a
run). SimPy's queue keeps only SimPy's own events (the outage, sampling and
warm-up processes); :func:`run_until` takes the earlier of the two heads.
Every entry keeps the id it got from SimPy's counter when it was scheduled,
so events run in exactly the order one heap of all of them would give: the
agenda takes over SimPy's counter (``Environment._eid``) and numbers both
its own entries and SimPy's events, as a machine integer.
"""
from __future__ import annotations

from typing import Any, Callable, Final, Iterator


__all__ = ["Agenda", "Entry", "Event", "NORMAL_EVENT", "run_until"]

#: SimPy event priority of everything the engine schedules (``simpy.core.NORMAL``).
NORMAL_EVENT: Final = 1
#: SimPy's urgent priority: the ticker runs before the events of its instant.
_URGENT_EVENT: Final = 0
#: Slots ahead of the open one kept in a ring of lists (2^14 ten-second slots: 45 hours); events further ahead are
#: parked in a dictionary by slot. Reaching a list of the ring is a list index, where a dictionary costs a lookup
#: and a Python integer per event (2 % of a run of the full 2025 structure, status messages being posted hours
#: ahead).
_RING: Final = 1 << 14
_RING_MASK: Final = _RING - 1


class Event:
    """What the agenda schedules: :meth:`fire` runs it when its time comes; by default it calls ``act(event, now)``.

    Jobs, stations waking, timers and sources derive from it. The most
    frequent events override :meth:`fire` with a direct call (a job arriving
    at a station, a station waking, the agenda's ticker): compiled, that is a
    native call with the time as a machine number, where calling ``act``
    goes through Python's calling convention.
    """

    __slots__ = ("act",)

    act: Callable[[Any, float], None]

    def fire(self, now: float) -> None:
        """The event's time ``now`` has come: run its action."""
        self.act(self, now)


class Entry:
    """One scheduled event: when, its priority and sequence number (SimPy's order), and the event (its ``act``).

    A ``cancelled`` entry (:meth:`Agenda.cancel`) keeps its place in the
    order but is skipped: it neither runs nor counts as processed.
    """

    __slots__ = ("time", "priority", "seq", "event", "cancelled")

    def __init__(self, time: float, priority: int, seq: int, event: Event):
        self.time = time
        self.priority = priority
        self.seq = seq
        self.event = event
        self.cancelled = False


def _before(a: Entry, b: Entry) -> bool:
    """Whether ``a`` runs before ``b``: earlier, or as early and more urgent, or scheduled first."""
    if a.time != b.time:
        return a.time < b.time
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.seq < b.seq


def _push(heap: list[Entry], entry: Entry) -> None:
    """Add ``entry`` to the heap (``heapq.heappush``'s algorithm)."""
    heap.append(entry)
    _sift_towards_root(heap, 0, len(heap) - 1)


def _pop(heap: list[Entry]) -> Entry:
    """Remove and return the earliest entry (``heapq.heappop``'s algorithm)."""
    last = heap.pop()
    if not heap:
        return last
    first = heap[0]
    heap[0] = last
    _sift_towards_leaves(heap, 0)
    return first


def _sift_towards_root(heap: list[Entry], root: int, position: int) -> None:
    item = heap[position]
    time = item.time
    while position > root:
        parent_position = (position - 1) >> 1
        parent = heap[parent_position]
        # times first, inline (compiled, a field read): the full order only on a tie
        if time > parent.time or (time == parent.time and not _before(item, parent)):
            break
        heap[position] = parent
        position = parent_position
    heap[position] = item


def _sift_towards_leaves(heap: list[Entry], position: int) -> None:
    """Move the smaller child up until a leaf, then the item into place (fewer comparisons than the textbook way)."""
    end = len(heap)
    start = position
    item = heap[position]
    child = 2 * position + 1
    while child < end:
        right = child + 1
        if right < end:
            left_entry, right_entry = heap[child], heap[right]
            if right_entry.time < left_entry.time or (right_entry.time == left_entry.time
                                                      and not _before(left_entry, right_entry)):
                child = right
        heap[position] = heap[child]
        position = child
        child = 2 * position + 1
    heap[position] = item
    _sift_towards_root(heap, start, position)


def _push_live(heap: list[Entry], parked: list[Entry]) -> None:
    """Move a slot's parked entries onto the heap, leaving out the cancelled ones."""
    for entry in parked:
        if not entry.cancelled:
            _push(heap, entry)


class Agenda(Event):
    """Schedules the engine's events on its own heap, parking far ones until their slot opens.

    Parameters
    ----------
    env : simpy.Environment
        Its event heap (``Environment._queue``) is merged with the agenda's by
        :func:`run_until`; the agenda becomes its event-id counter
        (``Environment._eid``, which SimPy reads with ``next``), so engine and
        SimPy events share one order and the count is a machine integer.
    width : float
        Slot width, seconds. Ten seconds keep the heap to the events of the
        next few seconds (national-2020: 5 % fewer instructions per event
        than ten-minute slots; at ten times its load, 2 % fewer than
        one-minute slots); a tick every ten seconds costs nothing by
        comparison.

    Events of the next :data:`_RING` slots are parked in ``ring`` (the list
    of slot ``s`` at ``s % _RING``), later ones in ``slots`` (by slot).
    """

    __slots__ = ("queue", "seq", "width", "per_width", "slot", "open_until", "ring", "slots", "unread_until", "heap",
                 "spare")

    def __init__(self, env: Any, width: float = 10.0):
        self.queue: list = env._queue
        self.seq: int = next(env._eid)  # the next id, taken over from SimPy's counter
        env._eid = self
        self.width = width
        self.per_width = 1.0 / width
        self.slot = 0  # the open slot: [slot * width, open_until)
        self.open_until = width  # events before this go straight onto the heap
        self.ring: list[list[Entry] | None] = [None] * _RING
        self.slots: dict[int, list[Entry]] = {}
        #: Nobody reads the run's counters before this instant (the observer's next sample, the end of the
        #: warm-up or the horizon): a copy or status message that reaches the end of its route earlier may be
        #: settled when its arrival there is known, without an event (0: nothing is settled early).
        self.unread_until = 0.0
        self.act = self.tick
        #: Entries whose events have run, kept for the next events: taking one back costs a list pop, where a
        #: new entry is allocated, tracked by the collector and freed (about 3 % of a run's instructions).
        self.spare: list[Entry] = []
        self.heap: list[Entry] = []
        _push(self.heap, self._entry(self.open_until, _URGENT_EVENT, self))

    def __iter__(self) -> "Agenda":
        return self

    def __next__(self) -> Any:  # boxed: mypyc's iterator slot returns an object
        """The next event id (SimPy's ``next(env._eid)``)."""
        return self._next_id()

    def _next_id(self) -> int:
        seq = self.seq
        self.seq = seq + 1
        return seq

    def _entry(self, time: float, priority: int, event: Event) -> Entry:
        """An entry for ``event`` at ``time``, numbered next: a spare one if there is one."""
        spare = self.spare
        if not spare:
            return Entry(time, priority, self._next_id(), event)
        entry = spare.pop()
        entry.time = time
        entry.priority = priority
        entry.seq = self._next_id()
        entry.event = event
        entry.cancelled = False
        return entry

    def at(self, time: float, event: Event) -> Entry:
        """Schedule ``event`` (which carries its ``act``) at ``time``; the entry can be cancelled until it runs."""
        entry = self._entry(time, NORMAL_EVENT, event)
        if time < self.open_until:
            _push(self.heap, entry)
            return entry
        slot = int(time * self.per_width)  # a product, not a floor division (a call to fmod when compiled)
        if slot * self.width > time:  # floating-point edge: the slot must not begin after the event
            slot -= 1
        if slot <= self.slot:
            slot = self.slot + 1
        if slot - self.slot < _RING:
            ring = self.ring
            parked = ring[slot & _RING_MASK]
            if parked is None:
                ring[slot & _RING_MASK] = [entry]
            else:
                parked.append(entry)
            return entry
        far = self.slots.get(slot)
        if far is None:
            self.slots[slot] = [entry]
        else:
            far.append(entry)
        return entry

    @staticmethod
    def cancel(entry: Entry) -> None:
        """The event of ``entry`` will not happen after all (a timer whose reason is gone): it is skipped.

        Only before the event has run: the entry is then reused for another
        event (whoever keeps an entry forgets it when its event runs).
        """
        entry.cancelled = True

    def tick(self, _: object, now: float) -> None:
        """A slot begins: its parked events join the heap, and the next slot's tick is scheduled."""
        heap = self.heap
        self.slot += 1
        ring = self.ring
        near = ring[self.slot & _RING_MASK]
        if near is not None:
            ring[self.slot & _RING_MASK] = None
            _push_live(heap, near)
        if self.slots:  # parked when the slot was beyond the ring
            _push_live(heap, self.slots.pop(self.slot, []))
        self.open_until = (self.slot + 1) * self.width
        _push(heap, self._entry(self.open_until, _URGENT_EVENT, self))

    def fire(self, now: float) -> None:
        """The ticker's time has come: :meth:`tick`."""
        self.tick(self, now)

    def close(self) -> None:
        """Forget the scheduled events and the ticker's action (after a run): no reference cycle keeps them alive."""
        self.heap.clear()
        self.spare.clear()
        self.ring = [None] * _RING
        self.slots.clear()
        self.act = _spent

    def events(self) -> Iterator[Event]:
        """Every event scheduled and not yet run: on the heap or parked."""
        for entry in self.heap:
            if not entry.cancelled:
                yield entry.event
        for parked in (*(near for near in self.ring if near is not None), *self.slots.values()):
            for entry in parked:
                if not entry.cancelled:
                    yield entry.event


#: The event of a spare entry (none).
_IDLE: Final = Event()


def _spent(*_: object) -> None:  # pragma: no cover - only an event left over from a finished run would call it
    raise AssertionError("the run is over")


def run_until(env: Any, agenda: Agenda, horizon: float) -> int:
    """Process events until ``horizon`` (events at the horizon itself do not run, as with ``env.run``).

    The loop takes the earlier of the agenda's next entry and SimPy's next
    event (SimPy's queue entries are ``(time, priority, id, event)`` in
    SimPy 4, pinned in setup.cfg). The engine's own events (jobs, sources,
    stations waking, the agenda's ticker) are run directly
    (:meth:`Event.fire`); SimPy's (the outage, sampling and warm-up processes)
    are processed by ``Environment.step``, so SimPy's processes run
    unchanged next to the hot path.

    Parameters
    ----------
    env : simpy.Environment
    agenda : Agenda
        The agenda built on ``env``'s queue and counter.
    horizon : float

    Returns
    -------
    int
        Events processed: the model's and SimPy's, not the agenda's own
        ticks (so the count does not depend on the slot width).
    """
    queue: list = env._queue
    heap = agenda.heap
    spare = agenda.spare
    processed = 0
    while heap or queue:
        if queue and (not heap or _simpy_first(queue[0], heap[0])):
            at: float = queue[0][0]
            if at >= horizon:
                break
            processed += 1
            env.step()
            continue
        entry = heap[0]
        now = entry.time
        if now >= horizon:
            break
        _pop(heap)
        if not entry.cancelled:
            processed += 1
            entry.event.fire(now)
        entry.event = _IDLE  # the entry is spare: it keeps nothing alive
        spare.append(entry)
    env._now = horizon
    return processed - agenda.slot  # each tick opened one slot


def _simpy_first(head: tuple, entry: Entry) -> bool:
    """Whether SimPy's next event ``head`` runs before the agenda's next ``entry`` (the same order as one heap)."""
    at: float = head[0]
    if at != entry.time:
        return at < entry.time
    priority: int = head[1]
    if priority != entry.priority:
        return priority < entry.priority
    seq: int = head[2]
    return seq < entry.seq
