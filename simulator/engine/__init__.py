"""Engine: the SimPy model of documents and status messages crossing the stations.

The engine is a thin, hot SimPy core, one concept per module:

* :mod:`~simulator.engine.stations`: a station's state and its one way to
  start a service, which also schedules the job's next step (FIFO stations
  fix a departure at arrival; priority stations queue and wake when a
  server frees);
* :mod:`~simulator.engine.routes`: routes compiled for the hot path, joined
  from per-agency halves;
* :mod:`~simulator.engine.flow`: the callbacks that create documents,
  launch, branch and finish jobs and send status messages; a job in transit
  is its own SimPy event;
* :mod:`~simulator.engine.agenda`: SimPy's queue with an annex for the far
  future (status messages sent days later), so the heap stays short, and
  the event loop;
* :mod:`~simulator.engine.variates`: random numbers drawn in batches,
  served one at a time;
* :mod:`~simulator.engine.outages`: outage processes;
* :mod:`~simulator.engine.observer`: sampling, warm-up, busy-hour
  utilisation, latency histograms and the census;
* :mod:`~simulator.engine.output`: the typed :class:`EngineOutput`;
* :mod:`~simulator.engine.model`: one run's assembly;
* :mod:`~simulator.engine.tracing` and :mod:`~simulator.engine.tracelog`:
  the tracing variants of the flow and the stations, built only for a traced
  run, and the exchange log they write.

``agenda``, ``flow``, ``routes``, ``stations``, ``variates`` and ``tracing`` are compiled with mypyc
when the package is installed as a wheel (see ``setup.py``); they are
ordinary typed Python and run unchanged from source in an editable install.
:data:`COMPILED` tells which one this process runs.

The public entry point is :func:`simulate`; :mod:`simulator.experiment`
wraps it into replications.
"""
from . import agenda, flow, routes, stations, variates
from .flow import STATUS_SIZE_BYTES
from .model import simulate
from .output import Census, EngineOutput

__all__ = ["COMPILED", "Census", "EngineOutput", "simulate", "STATUS_SIZE_BYTES"]

#: Whether the hot modules run compiled (mypyc extensions) rather than from their Python source.
COMPILED: bool = all(not str(module.__file__).endswith(".py") for module in (agenda, flow, routes, stations, variates))
