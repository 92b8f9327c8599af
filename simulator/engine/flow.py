"""Flow: the hot callbacks that create documents and move copies and status messages between stations.

A document copy or status message in transit is a :class:`Job`, and the job
is itself the event on the agenda: when its time comes it arrives at the
station ``arriving``, or ``act`` runs (finish the route; for a status
message, be sent). Stations move a job from one station to
the next (:meth:`~simulator.engine.stations.StationState.begin`); the flow
starts jobs, splits them at fan-out points and ends them.

:class:`Flow` holds the callbacks and the counters they feed: the
:class:`Tally` (read as a :class:`~simulator.metrics.Ledger`), latency
buffers (flushed into histograms by the observer) and the paper reasons.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Final, Iterator, Sequence

from ..metrics import Ledger
from ..traffic import PAPER_REASONS
from .agenda import Agenda, Entry, Event
from .routes import Path, RouteBook
from .stations import URGENT, StationState
from .variates import Variates

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario import RetrySpec

__all__ = ["Job", "Fanout", "Copy", "Source", "Flow", "Tally", "STATUS", "STATUS_SIZE_BYTES", "leaf_recipients"]

#: Size of an edXML status package (header only, no attachment), bytes.
STATUS_SIZE_BYTES: Final = 2_000.0
_DAY: Final = 86400.0


#: The :class:`~simulator.metrics.Ledger`'s counts a :class:`Tally` keeps (the totals generated are sums of them).
TALLIED: Final = ("documents_electronic", "documents_paper", "documents_delivered", "documents_dropped",
                  "copies_electronic", "copies_paper", "copies_delivered", "copies_dropped", "statuses_generated",
                  "statuses_delivered", "statuses_dropped", "documents_fallback", "copies_fallback", "resends_sent",
                  "dead_letters", "ack_resends", "duplicates", "duplicates_lost")


class Tally:
    """The counts of a run as the hot path keeps them: native integers, named as in the ledger.

    A :class:`~simulator.metrics.Ledger` is an ordinary Python object, each of
    whose counts costs the compiled callbacks a dictionary lookup to read and
    another to write (about 3 % of a run of the full 2025 structure);
    :meth:`Flow.ledger` copies the tally into one when it is read.
    """

    __slots__ = ("documents_electronic", "documents_paper", "documents_delivered", "documents_dropped",
                 "copies_electronic", "copies_paper", "copies_delivered", "copies_dropped", "statuses_generated",
                 "statuses_delivered", "statuses_dropped", "documents_fallback", "copies_fallback", "resends_sent",
                 "dead_letters", "ack_resends", "duplicates", "duplicates_lost", "resends")

    def __init__(self) -> None:
        self.documents_electronic = 0
        self.documents_paper = 0
        self.documents_delivered = 0
        self.documents_dropped = 0
        self.copies_electronic = 0
        self.copies_paper = 0
        self.copies_delivered = 0
        self.copies_dropped = 0
        self.statuses_generated = 0
        self.statuses_delivered = 0
        self.statuses_dropped = 0
        self.documents_fallback = 0
        self.copies_fallback = 0
        self.resends_sent = 0
        self.dead_letters = 0
        self.ack_resends = 0
        self.duplicates = 0
        self.duplicates_lost = 0
        #: Packages by the resends they needed.
        self.resends: dict[int, int] = {}


class Fanout:
    """The shared state of a document with several electronic copies."""

    __slots__ = ("pending", "dropped", "fallback", "copies")

    def __init__(self, pending: int):
        self.pending = pending
        self.dropped = False
        self.fallback = False
        #: With acknowledgements: each recipient's :class:`Copy`.
        self.copies: dict[int, Copy] | None = None


class Copy(Event):
    """One electronic copy as its sender knows it, when senders wait for acknowledgements; its own timer event.

    However many times the copy is sent (the original and each resend after
    an acknowledgement timeout), it ends once: ``state`` is 0 while it
    travels, 1 once received, 2 once it died (dropped or on paper). ``acked``
    is set when the recipient's first status message reaches the sender.
    When the timer fires (``act``) unacknowledged, the sender sends it again.
    """

    __slots__ = ("state", "acked", "timeouts", "origin", "recipient", "doc", "prio", "size", "created",
                 "measured", "in_outage", "timer")

    def __init__(self, origin: int, recipient: int, doc: Fanout | None, prio: int, size: float, created: float,
                 measured: bool, in_outage: bool):
        self.state = 0
        self.acked = False
        self.timeouts = 0
        self.origin = origin
        self.recipient = recipient
        self.doc = doc
        self.prio = prio
        self.size = size
        self.created = created
        self.measured = measured
        self.in_outage = in_outage
        #: The timer's entry on the agenda (cancelled once the copy is acknowledged or has died).
        self.timer: Entry | None = None


#: Marks status messages in ``Job.doc`` (a fan-out of no copies, never counted down).
STATUS: Final = Fanout(0)


class Job(Event):
    """A document copy (or several, before a fan-out point) or a status message in transit; its own event.

    ``doc`` is ``None`` for a document with one electronic copy, a shared
    :class:`Fanout` for a document with several, and :data:`STATUS` for a
    status message. ``created`` is the document's creation time (a status
    message's send time); ``step`` the position of a status message in the
    recipient's sequence. With acknowledgements, ``copy`` is the
    :class:`Copy` of a one-copy job (``None`` before a fan-out point: the
    document's ``copies`` tell) or, on a first status message, of the copy
    it acknowledges; ``duplicate`` marks a copy sent again after a timeout.
    """

    __slots__ = ("route", "hop", "doc", "prio", "size", "created", "origin", "measured", "t_in", "step",
                 "resends", "due", "in_outage", "copy", "duplicate", "arriving")
    t_in: float
    step: int
    due: float

    def __init__(self, route: Path, doc: Fanout | None, prio: int, size: float, created: float, origin: int, measured: bool):
        self.route = route
        self.hop = 0
        self.doc = doc
        self.prio = prio
        self.size = size
        self.created = created
        self.origin = origin
        self.measured = measured
        self.resends = 0
        self.in_outage = False
        self.copy: Copy | None = None
        self.duplicate = False
        #: The station the job's next event is its arrival at (``None``: the next event is ``act``).
        self.arriving: StationState | None = None

    def fire(self, now: float) -> None:
        """The job's time has come: it arrives at ``arriving`` (a direct call), or ``act`` runs."""
        station = self.arriving
        if station is None:
            self.act(self, now)
        else:
            self.arriving = None
            station.arrive(self, now)


class Source(Event):
    """An agency's next document, as an event: ``document`` is created when its time comes."""

    __slots__ = ("agency", "documents", "document")

    def __init__(self, agency: int, documents: Iterator[tuple]):
        self.agency = agency
        self.documents = documents
        self.document: tuple = ()


class Flow:
    """The callbacks of documents and status messages, and what they count.

    Parameters
    ----------
    routes : RouteBook
    agenda : Agenda
        Where the flow schedules its events (on SimPy's queue).
    warmup : float
        Documents created (status messages sent) before it are not measured.
    status_delays : sequence of Variates
        One stream per status message, each the delay after the previous.
    postal : Variates
        The postal delay of paper copies.
    keep_latencies : bool
        Keep every measured copy latency (for checks).
    retry : RetrySpec, optional
        How senders resend what a station turns away; ``None``: it is dropped.
    uniform : Variates, optional
        Uniform variates on [0, 1) for the jitter of resends.
    """

    def __init__(self, routes: RouteBook, agenda: Agenda, warmup: float,
                 status_delays: Sequence[Variates], postal: Variates, keep_latencies: bool,
                 retry: "RetrySpec | None" = None, uniform: Variates | None = None):
        self.routes = routes
        self.agenda = agenda
        self.warmup = warmup
        self.status_delays = tuple(status_delays)
        self.postal = postal
        self.tally = Tally()
        self.paper_reasons = [0] * len(PAPER_REASONS)
        self.same_day = 0
        #: Outages and failures going on at the moment (overlapping ones of one station count apart; kept by their
        #: processes): documents created while it is above 0 are marked ``in_outage``.
        self.outages_going_on = 0
        #: Measured copies sent on paper after their last resend; measured copies of documents created while a
        #: station was down, and how many of them were received (electronically) the same day.
        self.fallback_received = 0
        self.outage_copies = 0
        self.outage_same_day = 0
        self.latencies: list[float] = []
        self.urgent_latencies: list[float] = []
        self.status_latencies: list[float] = []
        self.paper_delays: list[float] = []
        self.kept: list[float] | None = [] if keep_latencies else None
        self.retry_configured = retry is not None
        self.retry_attempts = 0 if retry is None else retry.attempts
        self.retry_first = 0.0 if retry is None else retry.first
        self.retry_factor = 1.0 if retry is None else retry.factor
        self.retry_max = 0.0 if retry is None else retry.max
        self.retry_jitter = 0.0 if retry is None else retry.jitter
        self.fallback_paper = retry is not None and retry.fallback == "paper"
        self.ack_timeout = 0.0 if retry is None or retry.ack_timeout is None else retry.ack_timeout
        self.acking = self.ack_timeout > 0.0
        self.uniform = Variates(_no_variates) if uniform is None else uniform
        # bound once: the actions jobs carry (an arrival at a station is ``Job.arriving``)
        self.finish_act: Callable[[Job, float], None] = self.finish
        self.send_act: Callable[[Job, float], None] = self.send_status
        self.create_act: Callable[[Source, float], None] = self.create
        self.ack_act: Callable[[Copy, float], None] = self.ack_due

    def ledger(self) -> Ledger:
        """The run's ledger so far: the tally's counts, the totals generated and the copies on paper by reason."""
        tally = self.tally
        ledger = Ledger(**{name: getattr(tally, name) for name in TALLIED})
        ledger.documents_generated = tally.documents_electronic + tally.documents_paper
        ledger.copies_generated = tally.copies_electronic + tally.copies_paper
        ledger.resends = dict(tally.resends)
        ledger.paper_reasons = dict(zip(PAPER_REASONS, self.paper_reasons))
        return ledger

    def disconnect(self) -> None:
        """Forget the actions bound to the flow itself (after a run), so that no reference cycle keeps it alive."""
        self.finish_act = self.send_act = self.create_act = self.ack_act = _spent

    # ------------------------------------------------------------------ moving a job

    def launch(self, job: Job, now: float) -> None:
        """Start a job on its route at ``now``: straight into the first station when no link delays it."""
        route = job.route
        if route.length and not (route.has_links and route.latency[0] + job.size * route.inv_bandwidth[0] > 0.0):
            route.stations[0].arrive(job, now)
        else:
            self.start_at(job, now)

    def start_at(self, job: Job, at: float) -> None:
        """Schedule a job that sets out at ``at``: its first link, then its first station (or the end)."""
        route = job.route
        if route.has_links:
            at += route.latency[0] + job.size * route.inv_bandwidth[0]
        if route.length:
            station = route.stations[0]
            if station.passable and at < station.next_failure:  # a branch beginning with a link that is up
                station.pass_through(job, at)
                return
            job.arriving = station
        else:
            job.act = self.finish_act
        self.agenda.at(at, job)

    def branch(self, job: Job, at: float) -> None:
        """A fan-out point at ``at``: one job per branch sets out from there.

        The resends the package needed so far are counted here, once; each
        branch is a new package.
        """
        if job.resends:
            self._count_resends(job)
        for tail in job.route.tails:
            part = Job(tail, job.doc, job.prio, job.size, job.created, job.origin, job.measured)
            part.in_outage = job.in_outage
            self.start_at(part, at)

    # ------------------------------------------------------------------ endings

    def finish(self, job: Job, now: float) -> None:
        """A job reaches the end of its route: branches set out, or a copy or status message is received."""
        route = job.route
        if route.tails:
            self.branch(job, now)
            return
        doc = job.doc
        tally = self.tally
        if job.resends:
            self._count_resends(job)
        if doc is STATUS:
            tally.statuses_delivered += 1
            if job.measured:
                self.status_latencies.append(now - job.created)
            if job.copy is not None:
                self._acknowledged(job.copy)
            return
        copy: Copy | None = None
        if self.acking:
            copy = job.copy if job.copy is not None else _copy_of(doc, route.recipient)
            if copy.state:
                tally.duplicates += 1  # received already (or given up): recognised by its id, not received twice
                return
            copy.state = 1
            copy.doc = None  # ended: what is sent again only needs the copy (and the two must not keep each other)
        tally.copies_delivered += 1
        if job.measured:
            self._measure(job, now)
        if doc is None:
            tally.documents_delivered += 1
        else:
            doc.pending -= 1
            if doc.pending == 0:
                self._document_ended(doc)
        if self.status_delays:
            self.reply(route.recipient, job.origin, job.prio, now, copy)

    def _measure(self, job: Job, now: float) -> None:
        latency = now - job.created
        self.latencies.append(latency)
        if job.prio == URGENT:
            self.urgent_latencies.append(latency)
        same_day = now // _DAY == job.created // _DAY
        if same_day:
            self.same_day += 1
        if job.in_outage:
            self.outage_copies += 1
            self.outage_same_day += same_day
        if self.kept is not None:
            self.kept.append(latency)

    def _document_ended(self, doc: Fanout) -> None:
        """The last copy of a document with several has ended: count the document by its worst copy."""
        tally = self.tally
        if doc.dropped:
            tally.documents_dropped += 1
        elif doc.fallback:
            tally.documents_fallback += 1
        else:
            tally.documents_delivered += 1

    def _count_resends(self, job: Job) -> None:
        resends = self.tally.resends
        resends[job.resends] = resends.get(job.resends, 0) + 1

    def drop(self, job: Job, now: float) -> None:
        """A station turned the job away (full buffer, or down and rejecting): resend it, or it is a dead letter."""
        if job.resends < self.retry_attempts:
            self._resend(job, now)
        else:
            self._dead_letter(job, now)

    def _resend(self, job: Job, now: float) -> None:
        """The sender sends the job again after an exponential backoff with jitter (store-and-forward)."""
        wait = min(self.retry_max, self.retry_first * self.retry_factor ** job.resends)
        if self.retry_jitter:
            wait *= 1.0 + self.retry_jitter * (2.0 * self.uniform.next() - 1.0)
        job.resends += 1
        self.tally.resends_sent += 1
        route = job.route
        hop = job.hop
        at = now + wait
        if route.has_links:
            at += route.latency[hop] + job.size * route.inv_bandwidth[hop]
        station = route.stations[hop]
        station.resending += 1
        job.act = station.rearrival
        self.agenda.at(at, job)

    def _dead_letter(self, job: Job, now: float) -> None:
        """No resend left (or none configured): the job is dropped, or its copies go on paper (``fallback``)."""
        doc = job.doc
        tally = self.tally
        if job.duplicate:  # a copy sent again after a timeout died: its copy travels on (or ended) otherwise
            tally.duplicates_lost += 1
            return
        if self.retry_configured:
            tally.dead_letters += 1
        if job.resends:
            self._count_resends(job)
        if doc is STATUS:
            tally.statuses_dropped += 1
            return
        copies = job.route.copies
        if self.acking:
            copies = self._give_up(job)
            if not copies:
                return
        if self.fallback_paper:
            tally.copies_fallback += copies
            if job.measured:
                self.paper_delays.extend(now - job.created + self.postal.next() for _ in range(copies))
                self.fallback_received += copies
                if job.in_outage:
                    self.outage_copies += copies
        else:
            tally.copies_dropped += copies
        if doc is None:
            if self.fallback_paper:
                tally.documents_fallback += 1
            else:
                tally.documents_dropped += 1
            return
        if self.fallback_paper:
            doc.fallback = True
        else:
            doc.dropped = True
        doc.pending -= copies
        if doc.pending == 0:
            self._document_ended(doc)

    def _give_up(self, job: Job) -> int:
        """An original job died (senders wait for acknowledgements): how many of its copies die with it.

        Those it carries that neither arrived (sent again after a timeout) nor died before; a copy sent again
        that dies is counted apart (``duplicates_lost``) and ends nothing.
        """
        doc = job.doc
        if job.copy is not None:
            copies = [job.copy]
        else:
            copies = [_copy_of(doc, r) for r in leaf_recipients(job.route)]
        alive = 0
        for copy in copies:
            if not copy.state:
                copy.state = 2
                copy.doc = None
                self._stop_timer(copy)
                alive += 1
        return alive

    # ------------------------------------------------------------------ acknowledgements

    def _await(self, copy: Copy, now: float) -> None:
        copy.act = self.ack_act
        copy.timer = self.agenda.at(now + self.ack_timeout, copy)

    def _acknowledged(self, copy: Copy) -> None:
        """The copy's first status message reached its sender: nothing more to wait for."""
        copy.acked = True
        self._stop_timer(copy)

    def _stop_timer(self, copy: Copy) -> None:
        """The copy's timer has no reason left to go off (acknowledged, or died): it is cancelled, not run."""
        if copy.timer is not None:
            self.agenda.cancel(copy.timer)
            copy.timer = None

    def ack_due(self, copy: Copy, now: float) -> None:
        """An acknowledgement timeout: unless the copy's "01" came back (or it died), the sender sends it again."""
        copy.timer = None  # gone off (the entry and the copy must not keep each other)
        if copy.acked or copy.state == 2 or copy.timeouts >= self.retry_attempts:
            return
        copy.timeouts += 1
        self.tally.ack_resends += 1
        again = Job(self.routes.pair(copy.origin, copy.recipient), copy.doc, copy.prio, copy.size, copy.created,
                    copy.origin, copy.measured)
        again.copy = copy
        again.duplicate = True
        again.in_outage = copy.in_outage
        self.launch(again, now)
        copy.timer = self.agenda.at(now + self.ack_timeout, copy)

    # ------------------------------------------------------------------ status messages

    def reply(self, recipient: int, origin: int, prio: int, now: float, copy: Copy | None = None) -> None:
        """The recipient's status messages go back to the sender one after another; schedule the first."""
        at = now + self.status_delays[0].next()
        message = Job(self.routes.pair(recipient, origin), STATUS, prio, STATUS_SIZE_BYTES, at, recipient,
                      at >= self.warmup)
        message.step = 0
        message.copy = copy
        message.act = self.send_act
        self.post_status(message, None)

    def send_status(self, message: Job, now: float) -> None:
        """A status message is sent: schedule the next one of the sequence, then launch this one."""
        self.tally.statuses_generated += 1
        step = message.step + 1
        if step < len(self.status_delays):
            at = now + self.status_delays[step].next()
            following = Job(message.route, STATUS, message.prio, STATUS_SIZE_BYTES, at, message.origin, at >= self.warmup)
            following.step = step
            following.act = self.send_act
            self.post_status(following, message)
        self.launch(message, now)

    def post_status(self, message: Job, previous: Job | None) -> None:
        """Schedule a status message for when it is sent (``previous``: the one before it in its sequence)."""
        self.agenda.at(message.created, message)

    # ------------------------------------------------------------------ documents

    def create(self, source: Source, now: float) -> None:
        """An agency creates its next document: paper copies are booked, electronic ones set out."""
        at, prio, size, electronic, paper, reason = source.document
        agency = source.agency
        tally = self.tally
        measured = at >= self.warmup
        if paper:
            tally.copies_paper += paper
            self.paper_reasons[reason] += paper
            if measured:
                self.paper_delays.extend(self.postal.next() for _ in range(paper))
        if electronic:
            tally.documents_electronic += 1
            copies = len(electronic)
            tally.copies_electronic += copies
            if copies == 1:
                job = Job(self.routes.pair(agency, electronic[0]), None, prio, size, at, agency, measured)
            else:
                job = Job(self.routes.tree(agency, electronic), Fanout(copies), prio, size, at, agency, measured)
            if self.outages_going_on:
                job.in_outage = True
            if self.acking:
                self._track(job, agency, electronic, now)
            self.launch(job, now)
        else:
            tally.documents_paper += 1
        following = next(source.documents, None)
        if following is not None:
            source.document = following
            self.agenda.at(following[0], source)

    def _track(self, job: Job, agency: int, recipients: tuple, now: float) -> None:
        """Senders wait for acknowledgements: one :class:`Copy` per recipient, each with its timer."""
        doc = job.doc
        for recipient in recipients:
            copy = Copy(agency, recipient, doc, job.prio, job.size, job.created, job.measured, job.in_outage)
            if doc is None:
                job.copy = copy
            else:
                if doc.copies is None:
                    doc.copies = {}
                doc.copies[recipient] = copy
            self._await(copy, now)

    def start(self, source: Source) -> None:
        """Schedule a source's first document."""
        source.act = self.create_act
        first = next(source.documents, None)
        if first is not None:
            source.document = first
            self.agenda.at(first[0], source)

    def pending_jobs(self) -> Iterator[Job]:
        """Jobs on the event queue that are in the network (status messages not yet sent excluded), each once.

        A job whose service a failure pushed back is on the queue twice (its
        superseded event does nothing); it is counted once.
        """
        send = self.send_act
        seen: set[int] = set()
        for event in self.agenda.events():
            if not isinstance(event, Job) or id(event) in seen:
                continue
            if event.arriving is not None or event.act is not send:  # sent: a status message not yet sent waits
                seen.add(id(event))
                yield event


def _copy_of(doc: Fanout | None, recipient: int) -> Copy:
    """The :class:`Copy` of a fan-out document's copy to ``recipient``."""
    assert doc is not None and doc.copies is not None
    return doc.copies[recipient]


def leaf_recipients(route: Path) -> list[int]:
    """The recipients a route (a delivery tree or a pair's path) ends at."""
    if not route.tails:
        return [route.recipient]
    found: list[int] = []
    for tail in route.tails:
        found += leaf_recipients(tail)
    return found


def _spent(*_: object) -> None:  # pragma: no cover - only a job left over from a finished run would call it
    raise AssertionError("the run is over")


def _no_variates() -> list[float]:  # pragma: no cover - only a jitter without its stream would call it
    raise AssertionError("resend jitter needs a stream of uniform variates")
