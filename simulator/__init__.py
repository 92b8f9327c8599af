"""axis-simulator: capacity planning for national electronic document exchange hubs.

Simulates how official documents and their status messages cross agencies,
integration platforms and the national hub (Trục liên thông văn bản quốc gia),
and checks the figures against queueing theory.

The public API:

* :func:`load_scenario` reads and validates a scenario (TOML file or text);
  :func:`apply_parameters` returns a copy with dotted keys changed;
* :func:`run` simulates it (replications, seeds, parallel jobs) and returns a
  :class:`~simulator.results.RunResult`; :func:`sweep` runs every point of its
  ``[sweep]`` section;
* :mod:`analytic` gives the queueing-theory prediction without simulating;
* :mod:`errors` holds the exceptions (:class:`~simulator.errors.SimulatorError`).

Documented modules for the rest: :mod:`simulator.charts` (figures; it loads
matplotlib, ``import simulator`` does not), :mod:`simulator.capacity` (capacity
search), :mod:`simulator.verification` (reference cases), :mod:`simulator.topology`
(the built network).
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import analytic, errors
from .experiment import run, sweep
from .scenario import apply_parameters, load_scenario

__all__ = ["__version__", "analytic", "apply_parameters", "errors", "load_scenario", "run", "sweep"]
