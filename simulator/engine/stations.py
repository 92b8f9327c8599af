"""Stations: the state of one queueing station during a run, and its one way to start a service.

A station has ``servers`` parallel servers. ``free`` is a heap of the time
each server finishes its current (or last) job, so the earliest free server
is ``free[0]``, kept as a native number in ``first_free`` for the hot path
(a station of one server, most of them, keeps only that, and its list is
brought up to date when read: :meth:`StationState.servers_free`). Service
starts in :meth:`StationState.begin`, the only place that draws a service
time and books it; the departure time is known at once,
so ``begin`` schedules the job's next step (its arrival at the next station,
after the link) for then. No event marks the end of a service: a job costs
one event per station it visits.

Two kinds of station share that core:

* :class:`FifoStation`: first come, first served, no priority, no buffer, no
  outages. A job's start is fixed at its arrival (Lindley's recursion over
  the server heap), so it never waits in a queue object.
* :class:`PriorityStation`: non-preemptive priority for urgent jobs, an
  optional buffer and outages. A job that finds no free server waits in one
  of two queues; the station schedules itself (it is its own SimPy event) for
  the moment a server frees, and starts the most urgent waiting job then.
  :class:`FailingStation` also fails by chance, on the calendar, and
  :class:`WearingStation` after a random amount of its servers' work.

Both report the same snapshot (:class:`StationSnapshot`) from which the
observer builds time integrals, so neither keeps per-job history.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from heapq import heapify, heappop, heappush, heapreplace
from typing import TYPE_CHECKING, Callable, Final, NamedTuple, Sequence

from .agenda import Agenda, Event
from .variates import Variates

if TYPE_CHECKING:  # pragma: no cover
    from .flow import Job

__all__ = ["StationSnapshot", "StationState", "FifoStation", "Line", "PriorityStation", "FailingStation",
           "WearingStation", "Alarm", "URGENT", "total_backlog", "busy_areas", "occupancy"]

#: Priority of urgent documents (and of their status messages); normal is 1.
URGENT: Final = 0
#: A failure time when none is foreseen.
INFINITY: Final = float("inf")
#: Bound once (compiled, a module-level name is otherwise looked up in the module's namespace at every call).
_heapreplace: Final = heapreplace
#: A :class:`Line` cuts the jobs that have left from its list once they are this many and half of it.
_COMPACT_FROM: Final = 1024


class StationSnapshot(NamedTuple):
    """Counters and time integrals of one station from time 0 to an instant."""

    arrived: int
    started: int
    served: int
    dropped: int
    wait_sum: float
    busy_area: float
    wait_area: float
    in_system: int


class StationState(Event, ABC):
    """What every station keeps: its servers' free times, the service sampler and running sums.

    ``first_free`` is when the earliest server frees (``free[0]``, unboxed).
    ``service_sum`` adds up every service begun, so the busy server-time up
    to ``t`` is ``service_sum`` less the work still ahead of the servers
    after ``t``. A job arriving here is an event of the job
    (:meth:`Job.fire <simulator.engine.flow.Job.fire>` calls :meth:`arrive`);
    ``rearrival`` (:meth:`rearrive`), bound once, is the action of a job the
    station refused coming back, ``resending`` counts those still on their
    way back. ``agenda`` is where the station schedules; ``finish`` and
    ``branch`` come from the flow (:meth:`connect`): what ends a route or
    splits it.
    """

    __slots__ = ("index", "servers", "free", "first_free", "service", "agenda", "started", "dropped", "wait_sum",
                 "service_sum", "max_queue", "resending", "rearrival", "finish", "branch", "passable", "next_failure",
                 "passing")

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda):
        self.index = index
        self.servers = servers
        self.free = [0.0] * servers  # a valid heap
        self.first_free = 0.0
        self.service = service
        self.agenda = agenda
        self.started = 0
        self.dropped = 0
        self.wait_sum = 0.0
        self.service_sum = 0.0
        self.max_queue = 0
        self.resending = 0
        self.rearrival: Callable[["Job", float], None] = self.rearrive
        self.finish: Callable[[Job, float], None] = _unset
        self.branch: Callable[[Job, float], None] = _unset
        #: A station of no service time that can fail (a backbone link): crossed without an event of its own by a
        #: job that reaches it before ``next_failure``, the time of its next failure (:meth:`pass_through`).
        self.passable = False
        #: When the station fails next (kept by its failure process; 0 while down or unknown).
        self.next_failure = 0.0
        #: Heap of the times of crossings booked ahead (:meth:`pass_through`) and not yet read past.
        self.passing: list[float] = []

    def connect(self, finish: Callable[["Job", float], None], branch: Callable[["Job", float], None]) -> None:
        """Give the station the flow's actions that end a route or split it."""
        self.finish, self.branch = finish, branch

    def disconnect(self) -> None:
        """Forget the flow's actions (after a run), so the station and the flow no longer refer to each other."""
        self.finish = self.branch = self.rearrival = _unset

    def begin(self, job: "Job", start: float) -> None:
        """Start ``job``'s service at ``start`` on the earliest free server, and send it on from its end.

        The end of the service is known at once, so the job's next step (the
        link to its next station and the arrival there, the branches of a
        delivery tree, or the end of its route) is scheduled for then: a
        service costs no event of its own.
        """
        self.send_on(job, self.book(start))

    def book(self, start: float) -> float:
        """Draw a service starting at ``start`` on the earliest free server; return its end."""
        service = self.service.next()
        end = start + service
        if self.servers == 1:  # the list is brought up to date when read (a float object per service saved)
            self.first_free = end
        else:
            free = self.free
            _heapreplace(free, end)
            self.first_free = free[0]
        self.started += 1
        self.service_sum += service
        return end

    def send_on(self, job: "Job", end: float) -> None:
        """Schedule what follows ``job``'s service ending at ``end``: the link and the next station, or the end.

        After the last station of a pair's first leg, the job's route becomes
        the second leg (:attr:`Path.then <simulator.engine.routes.Path.then>`);
        the link between the two adds the first leg's last link and the
        second's first, in the order a joined path adds them (the same times
        to the last bit).

        The end of a route is settled at once (the flow's ``finish`` called
        with its time) when it comes before the agenda's ``unread_until``:
        what it does (count the copy, keep its latency, schedule the
        recipient's status messages) depends on nothing that happens in the
        meantime, and nobody reads the counters before then. Not for what
        senders wait to be acknowledged (a copy they track, or the status
        message that acknowledges it): a copy sent again could overtake it,
        or a timer go off, in the meantime. A delivery tree's branches set out
        the same way (``branch``).
        """
        route = job.route
        hop = job.hop + 1
        then = route.then
        if hop == route.length and then is not None:  # the end of a pair's first leg: on along the second
            if route.has_links or then.has_links:  # the link between them: both legs' parts, as one path adds them
                end += ((route.latency[hop] + then.latency[0])
                        + job.size * (route.inv_bandwidth[hop] + then.inv_bandwidth[0]))
            route = then
            job.route = route
            hop = 0
        elif route.has_links:
            end += route.latency[hop] + job.size * route.inv_bandwidth[hop]
        if hop < route.length:
            job.hop = hop
            station = route.stations[hop]
            if station.passable and end < station.next_failure:
                station.pass_through(job, end)
                return
            job.arriving = station
        elif route.tails:
            self.branch(job, end)
            return
        elif end < self.agenda.unread_until and _settles_alone(job):  # before anybody reads what its end changes
            self.finish(job, end)
            return
        else:
            job.act = self.finish
        self.agenda.at(end, job)

    def servers_free(self) -> list[float]:
        """Each server's end of service, as a heap (with one server, ``free`` is brought up to date first)."""
        if self.servers == 1:
            self.free[0] = self.first_free
        return self.free

    def pass_through(self, job: "Job", at: float) -> None:
        """``job`` crosses this station (of no service time, up until after ``at``) at ``at``, without an event.

        A link that is up and has nobody waiting serves an arrival at once in no time, so the crossing is
        settled when the job is sent towards it: counted as started and the job sent on to the station after.
        Only a failure could stop it, and ``at`` is before the next one. A crossing after the next reading of
        the counters (the agenda's ``unread_until``) is also noted, to be taken back out of a snapshot taken
        before it (:meth:`crossings_ahead`); one before it needs no note.
        """
        if at >= self.agenda.unread_until:
            heappush(self.passing, at)
        self.started += 1
        self.send_on(job, at)

    def crossings_ahead(self, now: float) -> int:
        """Crossings booked ahead (:meth:`pass_through`) that happen after ``now``; those before are forgotten."""
        passing = self.passing
        while passing and passing[0] <= now:
            heappop(passing)
        return len(passing)

    def _busy(self, now: float) -> tuple[int, float]:
        """Servers busy at ``now`` and the service time they still have ahead of them."""
        busy = 0
        ahead = 0.0
        for end in self.servers_free():
            if end > now:
                busy += 1
                ahead += end - now
        return busy, ahead

    def busy_area(self, now: float) -> float:
        """Busy server-seconds from time 0 to ``now`` (read every sample: crossings read past are forgotten)."""
        if self.passable:
            self.crossings_ahead(now)
        return self.service_sum - self._busy(now)[1]

    def rearrive(self, job: "Job", now: float) -> None:
        """A job this station refused is sent again and arrives at ``now``."""
        self.resending -= 1
        self.arrive(job, now)

    def backlog(self, now: float) -> int:
        """Documents and status messages waiting for this station: in its queue, or refused and to be resent."""
        return self.waiting(now) + self.resending

    @abstractmethod
    def arrive(self, job: "Job", now: float) -> None:
        """A job arrives at ``now`` (each kind of station decides when it starts)."""

    @abstractmethod
    def snapshot(self, now: float) -> StationSnapshot:
        """Counters and time integrals from 0 to ``now``."""

    @abstractmethod
    def waiting(self, now: float) -> int:
        """Jobs that arrived by ``now`` and have not started."""

    def down_seconds(self, now: float) -> float:
        """Time the station has been down (outages and failures) from time 0 to ``now``."""
        return 0.0

    def standby_seconds(self, now: float) -> float:
        """Time a standby has served in the station's place from time 0 to ``now``."""
        return 0.0

    def switchover_count(self) -> int:
        """Times a standby has taken over."""
        return 0

    def reset_max_queue(self, now: float) -> None:
        """Start the longest-line record afresh (at the end of the warm-up)."""
        self.max_queue = self.waiting(now)

    def in_system(self, now: float) -> int:
        """Jobs waiting or in service at ``now``."""
        return self._busy(now)[0] + self.waiting(now)


def total_backlog(stations: Sequence[StationState], now: float) -> int:
    """Jobs waiting for any of ``stations`` at ``now`` (:meth:`StationState.backlog`), in compiled code."""
    total = 0
    for station in stations:
        total += station.backlog(now)
    return total


def busy_areas(stations: Sequence[StationState], now: float) -> list[float]:
    """Each station's busy server-seconds from 0 to ``now`` (:meth:`StationState.busy_area`), in compiled code."""
    return [station.busy_area(now) for station in stations]


def occupancy(stations: Sequence[StationState], indices: Sequence[int], now: float) -> list[int]:
    """Jobs waiting or in service at ``now`` at the stations ``indices`` (:meth:`StationState.in_system`)."""
    return [stations[i].in_system(now) for i in indices]


class FifoStation(StationState):
    """First come, first served without priority, buffer or outages: Lindley's recursion at arrival.

    A job starts at ``max(arrival, free[0])``; one that has to wait leaves
    ``(start, arrival)`` in ``queued`` until the snapshot no longer needs it.
    Starts are in arrival order, so entries leave from the left.
    """

    __slots__ = ("queued",)

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda):
        super().__init__(index, servers, service, agenda)
        self.queued: deque[tuple[float, float]] = deque()

    def arrive(self, job: "Job", now: float) -> None:
        """A job arrives at ``now``: it starts at once or when the earliest server frees."""
        free_at = self.first_free
        if free_at > now:
            queued = self.queued
            while queued and queued[0][0] <= now:
                queued.popleft()
            queued.append((free_at, now))
            if len(queued) > self.max_queue:
                self.max_queue = len(queued)
            self.wait_sum += free_at - now
            self.begin(job, free_at)
        else:
            self.begin(job, now)

    def waiting(self, now: float) -> int:
        """Jobs that arrived by ``now`` and start after it."""
        return sum(1 for start, _ in self.queued if start > now)

    def snapshot(self, now: float) -> StationSnapshot:
        """Counters from 0 to ``now``: jobs booked to start later are taken back out."""
        later = [(start, arrival) for start, arrival in self.queued if start > now]
        busy, ahead = self._busy(now)
        started = self.started - len(later)
        wait_sum = self.wait_sum - sum(start - arrival for start, arrival in later)
        wait_area = self.wait_sum - sum(start - now for start, _ in later)
        return StationSnapshot(arrived=started + len(later) + self.dropped, started=started, served=started - busy,
                               dropped=self.dropped, wait_sum=wait_sum, busy_area=self.service_sum - ahead,
                               wait_area=wait_area, in_system=busy + len(later))


class Line:
    """Jobs waiting at a station in arrival order: a list and the position of its head.

    Compiled, every operation is a native list operation (a deque's are
    Python method calls). The jobs that have left stay in the list until
    they are :data:`_COMPACT_FROM` or more and half of it, then the list is
    cut; an emptied line starts afresh.
    """

    __slots__ = ("jobs", "head")

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.head = 0

    def length(self) -> int:
        """Jobs waiting."""
        return len(self.jobs) - self.head

    def push(self, job: "Job") -> None:
        """``job`` joins the end of the line."""
        self.jobs.append(job)

    def pop(self) -> "Job":
        """The job at the head leaves the line (it must not be empty)."""
        jobs = self.jobs
        head = self.head
        job = jobs[head]
        head += 1
        if head == len(jobs):
            jobs.clear()
            head = 0
        elif head >= _COMPACT_FROM and 2 * head >= len(jobs):
            del jobs[:head]
            head = 0
        self.head = head
        return job

    def waiting(self) -> list["Job"]:
        """The jobs waiting, head first."""
        return self.jobs[self.head:]

    def clear(self) -> None:
        """Forget every job."""
        self.jobs.clear()
        self.head = 0


class PriorityStation(StationState):
    """Non-preemptive priority, an optional buffer and outages; waiting jobs are started when a server frees.

    The station is its own SimPy event: while jobs wait and it is up, it is
    scheduled for ``free[0]`` (``act`` is :meth:`wake`). ``drop`` is the
    flow's callback for a job the station turns away: the buffer is full, or
    the station is down and ``reject`` (``while_down = "reject"``).

    A station with a standby (:meth:`add_standby`) keeps the standby's servers
    (``spare_free``), service sampler and server count beside its own and
    swaps them in when the standby takes over (:meth:`take_over`) and back
    when it is up again (:meth:`hand_back`). ``halted`` is what the hot path
    reads: down and not served by the standby.
    """

    __slots__ = ("urgent", "normal", "limit", "reject", "down", "halted", "down_since", "outage_seconds", "wake_pending",
                 "drop", "has_standby", "switchover", "on_standby", "spare_free", "spare_service",
                 "spare_servers", "switchovers", "standby_since", "standby_time", "downs")

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, buffer: int | None,
                 reject: bool = False):
        super().__init__(index, servers, service, agenda)
        self.reject = reject
        self.urgent = Line()
        self.normal = Line()
        self.limit = float("inf") if buffer is None else buffer
        self.down = 0
        self.halted = False
        self.downs = 0
        self.down_since = 0.0
        self.outage_seconds = 0.0
        self.wake_pending = False
        self.act = self.wake
        self.drop: Callable[[Job, float], None] = _unset
        self.has_standby = False
        self.switchover = 0.0
        self.on_standby = False
        self.spare_free: list[float] = []
        self.spare_service = service
        self.spare_servers = 0
        self.switchovers = 0
        self.standby_since = 0.0
        self.standby_time = 0.0

    def add_standby(self, servers: int, service: Variates, switchover: float) -> None:
        """Give the station a standby of ``servers`` servers that serves ``switchover`` seconds after it goes down."""
        self.has_standby = True
        self.switchover = switchover
        self.spare_free = [0.0] * servers
        self.spare_service = service
        self.spare_servers = servers

    def _swap(self) -> None:
        own = self.servers_free()  # up to date before it becomes the spare
        self.free, self.spare_free = self.spare_free, own
        self.service, self.spare_service = self.spare_service, self.service
        self.servers, self.spare_servers = self.spare_servers, self.servers
        self.first_free = self.free[0]

    def take_over(self, now: float) -> None:
        """The standby starts serving at ``now`` (the station is down): the waiting jobs start on its servers."""
        self._swap()
        self.on_standby = True
        self.halted = False
        self.switchovers += 1
        self.standby_since = now
        self.wake_pending = False  # a wake booked for the station's own servers may come too late: serve anew
        self.serve(now)

    def hand_back(self, now: float) -> None:
        """The station is up again at ``now``: its own servers take over (the standby finishes what it started)."""
        self._swap()
        self.on_standby = False
        self.standby_time += now - self.standby_since
        self.wake_pending = False

    def standby_seconds(self, now: float) -> float:
        """Time the standby has served from time 0 to ``now``."""
        return self.standby_time + (now - self.standby_since if self.on_standby else 0.0)

    def switchover_count(self) -> int:
        """Times the standby has taken over."""
        return self.switchovers

    def arrive(self, job: "Job", now: float) -> None:
        """A job arrives at ``now``: it starts if a server is free and nobody waits; else it waits, or is dropped."""
        urgent, normal = self.urgent, self.normal
        length = urgent.length() + normal.length()
        if self.first_free <= now and not self.halted and not length:
            self.begin(job, now)
            return
        if length >= self.limit or (self.halted and self.reject):
            self.dropped += 1
            self.drop(job, now)
            return
        job.t_in = now
        if job.prio == URGENT:
            urgent.push(job)
        else:
            normal.push(job)
        if length >= self.max_queue:
            self.max_queue = length + 1
        if not self.wake_pending and not self.halted:
            self._schedule_wake()

    def _schedule_wake(self) -> None:
        self.wake_pending = True
        self.agenda.at(self.first_free, self)

    def wake(self, _: object, now: float) -> None:
        """A server has freed: start waiting jobs (the station's event action)."""
        self.wake_pending = False
        if not self.halted:
            self.serve(now)

    def fire(self, now: float) -> None:
        """The station's event: :meth:`wake` (a direct call)."""
        self.wake(self, now)

    def serve(self, now: float) -> None:
        """Start waiting jobs, most urgent first, while a server is free; wake again when the next one frees."""
        urgent, normal = self.urgent, self.normal
        while self.first_free <= now:
            if urgent.length():
                job = urgent.pop()
            elif normal.length():
                job = normal.pop()
            else:
                break
            self.wait_sum += now - job.t_in
            self.begin(job, now)
        if (urgent.length() or normal.length()) and not self.wake_pending:
            self._schedule_wake()

    def go_down(self, now: float) -> None:
        """An outage begins (outages may overlap): no new service starts; work in progress finishes."""
        self.down += 1
        if self.down == 1:
            self.down_since = now
            self.downs += 1
            self.halted = True

    def come_up(self, now: float) -> None:
        """An outage ends; when none is left, count the time down, take back from the standby and serve."""
        self.down -= 1
        if self.down == 0:
            self.outage_seconds += now - self.down_since
            if self.on_standby:
                self.hand_back(now)
            self.halted = False
            self.serve(now)

    def down_seconds(self, now: float) -> float:
        """Time down (outages may overlap: counted once) from time 0 to ``now``."""
        return self.outage_seconds + (now - self.down_since if self.down else 0.0)

    def _busy(self, now: float) -> tuple[int, float]:
        """Servers busy at ``now`` (the standby's too) and the service time they still have ahead of them."""
        busy, ahead = super()._busy(now)
        for end in self.spare_free:
            if end > now:
                busy += 1
                ahead += end - now
        return busy, ahead

    def waiting(self, now: float) -> int:
        """Jobs in the queues."""
        return self.urgent.length() + self.normal.length()

    def disconnect(self) -> None:
        """Forget the flow's actions and the jobs still waiting (after a run)."""
        super().disconnect()
        self.urgent.clear()
        self.normal.clear()
        self.drop = self.act = _unset

    def waiting_jobs(self) -> list["Job"]:
        """The jobs in the queues (for the census)."""
        return [*self.urgent.waiting(), *self.normal.waiting()]

    def snapshot(self, now: float) -> StationSnapshot:
        """Counters from 0 to ``now``, with the waiting jobs' time so far."""
        waiting = self.waiting(now)
        busy, ahead = self._busy(now)
        started = self.started - self.crossings_ahead(now)
        wait_area = (self.wait_sum + sum(now - job.t_in for job in self.urgent.waiting())
                     + sum(now - job.t_in for job in self.normal.waiting()))
        return StationSnapshot(arrived=started + waiting + self.dropped, started=started,
                               served=started - busy, dropped=self.dropped, wait_sum=self.wait_sum,
                               busy_area=self.service_sum - ahead, wait_area=wait_area,
                               in_system=busy + waiting)


class FailingStation(PriorityStation):
    """A priority station that also fails by chance, interrupting the jobs in service.

    A service here ends with an event of its own (``act`` of the job is
    :meth:`complete`), because a failure moves the end: with ``resume`` the
    job finishes its remaining service after the repair, with ``restart`` it
    is served again from the start. The job's ``due`` is its current end; an
    event whose time is no longer the job's ``due`` was superseded and does
    nothing.
    """

    __slots__ = ("restart", "serving", "complete_act")

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, buffer: int | None,
                 reject: bool, restart: bool):
        super().__init__(index, servers, service, agenda, buffer, reject)
        self.restart = restart
        self.serving: list[tuple[float, Job]] = []
        self.complete_act: Callable[[Job, float], None] = self.complete

    def begin(self, job: "Job", start: float) -> None:
        """Start ``job``'s service at ``start``; its end is an event, so that a failure can move it.

        On the standby the end is known at once (the standby does not fail), a service of no time (a link
        that can be cut) cannot be interrupted, and neither can one that ends before the next failure
        (``next_failure``): all go on at once, without an event of their own (as on a station that never fails).
        """
        end = self.book(start)
        if self.on_standby or end == start or end < self.next_failure:  # nothing a failure could interrupt
            self.send_on(job, end)
            return
        self.hold(job, start, end)

    def hold(self, job: "Job", start: float, end: float) -> None:
        """``job``'s service from ``start`` may be interrupted: its end ``end`` is an event of its own."""
        job.due = end
        job.act = self.complete_act
        self.serving.append((start, job))
        self.agenda.at(end, job)

    def complete(self, job: "Job", now: float) -> None:
        """A service ends (unless a failure moved it): the job goes on."""
        if now != job.due:
            return
        serving = self.serving
        for i in range(len(serving)):
            if serving[i][1] is job:
                del serving[i]
                break
        self.send_on(job, now)

    def fail(self, now: float, repair: float) -> None:
        """A failure at ``now`` lasting ``repair``: down until :meth:`come_up`, services in progress pushed back."""
        self.go_down(now)
        agenda = self.agenda
        ends: list[float] = []
        serving: list[tuple[float, Job]] = []
        for start, job in self.serving:
            extra = repair + (now - start if self.restart else 0.0)  # restart: served again in full once repaired
            if self.restart:
                start = now + repair
            due = job.due + extra
            if due != job.due:  # a new end: the event at the old one is superseded (an unchanged end keeps its event)
                self.service_sum += due - job.due  # the server is held by the job while it is repaired
                job.due = due
                agenda.at(due, job)
            ends.append(job.due)
            serving.append((start, job))
        self.serving = serving
        if self.on_standby:  # down already (an outage), the standby serving: the station's own servers are the spare
            ends += [now] * (self.spare_servers - len(ends))
            heapify(ends)
            self.spare_free = ends
        else:
            ends += [now] * (self.servers - len(ends))
            heapify(ends)
            self.free = ends
            self.first_free = ends[0]

    def disconnect(self) -> None:
        """Forget the flow's actions, the waiting jobs and those in service (after a run)."""
        super().disconnect()
        self.serving.clear()
        self.complete_act = _unset


class Alarm(Event):
    """An event of the agenda that calls ``act(alarm, now)``: a station's own timer beside its wake-up."""

    __slots__ = ()

    def __init__(self, act: Callable[["Alarm", float], None]):
        self.act = act


class WearingStation(FailingStation):
    """A failing station whose time between failures counts its servers' work, not the calendar.

    ``budget`` is the work (server-seconds of service) left before the next
    failure, as of ``worn_at``: each server busy wears it at rate 1, so with
    one server the station fails only while busy and with several in
    proportion to those busy. Nothing wears while the station is broken (under
    repair), nor on the standby. The station's own servers' work ahead is
    known (their ends, in ``free``, or ``spare_free`` while the standby
    serves), and it changes only when a service is booked on them
    (:meth:`begin`) or a failure pushes it back: so at each booking the
    budget is brought up to date and the instant it runs out, were nothing
    else to start, is foreseen (``next_failure``, infinite when the work ahead
    does not use it up) and the ``alarm`` set for then. A later booking can
    only bring the failure forward: the alarm set before is then superseded
    (an alarm that goes off at another time than ``next_failure`` does
    nothing). When it goes off, ``breakdown`` (the failure process's action)
    fails the station; :meth:`rearm` gives it its next budget once repaired.

    A service cannot be interrupted when all the servers working until its
    end could not use up the budget: it goes on at once, without an event of
    its own.
    """

    __slots__ = ("budget", "worn_at", "broken", "alarm", "breakdown")

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, buffer: int | None,
                 reject: bool, restart: bool):
        super().__init__(index, servers, service, agenda, buffer, reject, restart)
        self.budget = 0.0
        self.worn_at = 0.0
        self.broken = False
        self.next_failure = INFINITY
        self.alarm = Alarm(self.ring)
        self.breakdown: Callable[[float], None] = _unset

    def begin(self, job: "Job", start: float) -> None:
        """Start ``job``'s service at ``start``, wearing the budget; an event for its end if a failure could move it."""
        if self.on_standby:  # the standby does not fail
            self.send_on(job, self.book(start))
            return
        self.wear(start)
        end = self.book(start)
        if end == start:
            self.send_on(job, end)
            return
        self.foresee(start)
        if self.servers * (end - start) < self.budget:  # all the servers until its end would not use up the budget
            self.send_on(job, end)
            return
        self.hold(job, start, end)

    def wear(self, now: float) -> None:
        """Bring the budget up to ``now``: take off the work the station's own servers did since ``worn_at``."""
        if not self.broken:
            since = self.worn_at
            worked = 0.0
            for end in self.spare_free if self.on_standby else self.servers_free():
                if end > since:
                    worked += (end if end < now else now) - since
            self.budget -= worked
        self.worn_at = now

    def foresee(self, now: float) -> None:
        """Foresee when the budget (up to date at ``now``) runs out if nothing else starts; set the alarm for then."""
        ends = sorted([end for end in (self.spare_free if self.on_standby else self.servers_free()) if end > now])
        left = self.budget
        at = now
        busy = len(ends)
        failure = INFINITY
        for end in ends:
            work = busy * (end - at)
            if left <= work:
                failure = at + left / busy if left > 0.0 else now
                break
            left -= work
            at = end
            busy -= 1
        if failure != self.next_failure:
            self.next_failure = failure
            if failure < INFINITY:
                self.agenda.at(failure, self.alarm)

    def ring(self, _: Alarm, now: float) -> None:
        """The alarm goes off at ``now``: the station fails if this is still the foreseen instant."""
        if now == self.next_failure:
            self.breakdown(now)

    def fail(self, now: float, repair: float) -> None:
        """A failure at ``now`` lasting ``repair``: nothing wears until :meth:`rearm`."""
        self.broken = True
        self.next_failure = INFINITY
        super().fail(now, repair)

    def rearm(self, budget: float, now: float) -> None:
        """Repaired (or starting) at ``now`` with ``budget`` seconds of work to the next failure: foresee it."""
        self.broken = False
        self.budget = budget
        self.worn_at = now
        self.foresee(now)

    def disconnect(self) -> None:
        """Forget the flow's actions, the jobs, and the failure process's action (after a run)."""
        super().disconnect()
        self.breakdown = _unset
        self.alarm.act = _unset


def _settles_alone(job: "Job") -> bool:
    """Whether no acknowledgement timer or copy sent again depends on ``job``'s end (see :meth:`StationState.send_on`)."""
    if job.copy is not None:
        return False
    doc = job.doc
    return doc is None or doc.copies is None


def _unset(*_: object) -> None:  # pragma: no cover - replaced when the flow is built
    raise AssertionError("station used before the flow connected it")
