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
from .flow import Flow, Job, Source
from .stations import FailingStation, FifoStation, PriorityStation, WearingStation
from .variates import Variates

__all__ = ["TracingFlow", "TracingFifoStation", "TracingPriorityStation", "TracingFailingStation",
           "TracingWearingStation"]


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

    def pass_through(self, job: Job, at: float) -> None:
        self.tracer.arrive(job, self.index, at)
        self.tracer.begin(job, at)
        super().pass_through(job, at)


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

    def pass_through(self, job: Job, at: float) -> None:
        self.tracer.arrive(job, self.index, at)
        self.tracer.begin(job, at)
        super().pass_through(job, at)


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

    def pass_through(self, job: Job, at: float) -> None:
        self.tracer.arrive(job, self.index, at)
        self.tracer.begin(job, at)
        super().pass_through(job, at)


class TracingWearingStation(WearingStation):
    """A :class:`WearingStation` that reports arrivals, service starts and departures to ``tracer``."""

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

    def pass_through(self, job: Job, at: float) -> None:
        self.tracer.arrive(job, self.index, at)
        self.tracer.begin(job, at)
        super().pass_through(job, at)


class TracingFlow(Flow):
    """A :class:`Flow` that reports documents, branches, endings and status messages to ``tracer``.

    Every callback reports to the tracer and then calls the base class
    (status messages are named to the tracer as they are scheduled,
    :meth:`post_status`).
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

    def post_status(self, message: Job, previous: Job | None) -> None:
        self.tracer.status(message, previous)
        super().post_status(message, previous)
