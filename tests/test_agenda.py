"""The agenda: the engine's heap beside SimPy's queue runs events in the one order a single heap gives."""
from __future__ import annotations

import numpy as np
import pytest
import simpy

from simulator.engine.agenda import Agenda, Event, run_until


class _Event(Event):
    """An engine event that notes when it ran (by its ``act``, the default :meth:`Event.fire`)."""

    def __init__(self, name: str, ran: list):
        self.name = name
        self.ran = ran
        self.act = self.note

    def note(self, _: object, now: float) -> None:
        self.ran.append((now, self.name))


@pytest.mark.parametrize("width", [60.0, 0.07])
def test_engine_and_simpy_events_run_in_time_order_ties_in_scheduling_order(width):
    """Random times (with ties) on both queues, near and far (parked) ones: the merged order is (time, priority,
    scheduling order), SimPy's processes see their own clock, and events at the horizon do not run. With slots
    of 0.07 s the ring of parked slots reaches 1,147 s ahead: later events wait in the dictionary of far slots
    (and whole seconds are mostly inside a slot, not at its start)."""
    env = simpy.Environment()
    agenda = Agenda(env, width=width)
    ran: list[tuple[float, str]] = []
    rng = np.random.default_rng(4)
    times = np.round(rng.uniform(0, 3_000, 400), 0)  # whole seconds: many ties
    expected = []

    def process(env: simpy.Environment, at: float, name: str):
        yield env.timeout(at)
        ran.append((env.now, name))

    for i, at in enumerate(times):
        name = f"e{i}"
        if i % 3 == 0:
            env.process(process(env, float(at), name))
        else:
            agenda.at(float(at), _Event(name, ran))
        if at < 2_500:
            expected.append((float(at), i))
    processed = run_until(env, agenda, 2_500.0)
    # SimPy's processes start with an urgent event at 0, so their timeouts are scheduled after every agenda entry
    # of time 0: within a tie, agenda entries (scheduled while building) come first, then the processes' timeouts
    order = sorted(expected, key=lambda item: (item[0], item[1] % 3 == 0, item[1]))
    assert [(at, f"e{i}") for at, i in order] == ran
    assert env.now == 2_500.0 and processed >= len(expected)


def test_a_cancelled_event_neither_runs_nor_counts():
    """Cancelled on the heap or while parked for a later slot: skipped, not counted as processed."""
    env = simpy.Environment()
    agenda = Agenda(env, width=60.0)
    ran: list[tuple[float, str]] = []
    near = agenda.at(10.0, _Event("near", ran))
    agenda.at(20.0, _Event("kept", ran))
    far = agenda.at(500.0, _Event("far", ran))
    agenda.cancel(near)
    agenda.cancel(far)
    processed = run_until(env, agenda, 1_000.0)
    assert [(20.0, "kept")] == ran
    assert 1 == processed  # the ticker's 16 ticks (a slot every 60 s) are not the model's events
    assert 1_000 // 60 == agenda.slot
    assert [] == [e for e in agenda.events() if isinstance(e, _Event)]
