"""Tracing: variants of the flow and the stations that report every hop to a trace log.

A traced run builds these classes instead of :class:`~simulator.engine.flow.Flow`
and the stations; an untraced run never sees them, so the hot path pays
nothing for tracing (no ``if tracing`` test anywhere). Each variant reports to
a ``tracer`` (:class:`~simulator.engine.tracelog.Tracer`) and then does
exactly what its base class does: a traced run draws the same random numbers
and gives the same results as an untraced one.

The stations report a job's arrival, the start of its service and its
departure (the end of the service, before the next link); the flow reports
documents created, fan-out branches, copies and status messages that end,
and which document each status message answers.
"""
from __future__ import annotations

from typing import Any

from .agenda import Agenda
from .flow import STATUS, STATUS_SIZE_BYTES, Flow, Job, Source
from .stations import FailingStation, FifoStation, PriorityStation
from .variates import Variates

__all__ = ["TracingFlow", "TracingFifoStation", "TracingPriorityStation", "TracingFailingStation"]


class TracingFifoStation(FifoStation):
    """A :class:`FifoStation` that reports arrivals, service starts and departures to ``tracer``."""

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, tracer: Any):
        super().__init__(index, servers, service, agenda)
        self.tracer = tracer

    def arrive(self, job: Job, now: float) -> None:
        self.tracer.arrive(job, self.index, now)
        super().arrive(job, now)

    def begin(self, job: Job, start: float) -> None:
        self.tracer.begin(job, start)
        super().begin(job, start)

    def send_on(self, job: Job, end: float) -> None:
        self.tracer.depart(job, end)
        super().send_on(job, end)


class TracingPriorityStation(PriorityStation):
    """A :class:`PriorityStation` that reports arrivals, service starts and departures to ``tracer``."""

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, buffer: int | None,
                 reject: bool, tracer: Any):
        super().__init__(index, servers, service, agenda, buffer, reject)
        self.tracer = tracer

    def arrive(self, job: Job, now: float) -> None:
        self.tracer.arrive(job, self.index, now)
        super().arrive(job, now)

    def begin(self, job: Job, start: float) -> None:
        self.tracer.begin(job, start)
        super().begin(job, start)

    def send_on(self, job: Job, end: float) -> None:
        self.tracer.depart(job, end)
        super().send_on(job, end)


class TracingFailingStation(FailingStation):
    """A :class:`FailingStation` that reports arrivals, service starts and departures to ``tracer``."""

    def __init__(self, index: int, servers: int, service: Variates, agenda: Agenda, buffer: int | None,
                 reject: bool, restart: bool, tracer: Any):
        super().__init__(index, servers, service, agenda, buffer, reject, restart)
        self.tracer = tracer

    def arrive(self, job: Job, now: float) -> None:
        self.tracer.arrive(job, self.index, now)
        super().arrive(job, now)

    def begin(self, job: Job, start: float) -> None:
        self.tracer.begin(job, start)
        super().begin(job, start)

    def send_on(self, job: Job, end: float) -> None:
        self.tracer.depart(job, end)
        super().send_on(job, end)


class TracingFlow(Flow):
    """A :class:`Flow` that reports documents, branches, endings and status messages to ``tracer``.

    ``reply`` and ``send_status`` repeat the base class's few lines (the
    status message they create must be named to the tracer before it is
    scheduled); the other callbacks report and then call the base class.
    """

    tracer: Any

    def create(self, source: Source, now: float) -> None:
        self.tracer.created(source.agency, source.document)
        super().create(source, now)

    def launch(self, job: Job, now: float) -> None:
        self.tracer.launch(job)
        super().launch(job, now)

    def branch(self, job: Job, at: float) -> None:
        self.tracer.branching(job)
        super().branch(job, at)
        self.tracer.branched(job)

    def start_at(self, job: Job, at: float) -> None:
        self.tracer.launch(job)
        super().start_at(job, at)

    def finish(self, job: Job, now: float) -> None:
        if job.route.tails:
            super().finish(job, now)
            return
        self.tracer.finishing(job, now)
        super().finish(job, now)

    def _dead_letter(self, job: Job, now: float) -> None:
        self.tracer.dead(job, now, self.fallback_paper)
        super()._dead_letter(job, now)

    def reply(self, recipient: int, origin: int, prio: int, now: float) -> None:
        at = now + self.status_delays[0].next()
        message = Job(self.routes.pair(recipient, origin), STATUS, prio, STATUS_SIZE_BYTES, at, recipient,
                      at >= self.warmup)
        message.step = 0
        message.act = self.send_act
        self.tracer.status(message, None)
        self.agenda.at(at, message)

    def send_status(self, message: Job, now: float) -> None:
        self.ledger.statuses_generated += 1
        step = message.step + 1
        if step < len(self.status_delays):
            at = now + self.status_delays[step].next()
            following = Job(message.route, STATUS, message.prio, STATUS_SIZE_BYTES, at, message.origin, at >= self.warmup)
            following.step = step
            following.act = self.send_act
            self.tracer.status(following, message)
            self.agenda.at(at, following)
        self.launch(message, now)
