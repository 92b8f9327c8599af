"""axis-simulator: capacity planning for national electronic document exchange hubs.

Simulates how official documents and their status messages cross agencies,
integration platforms and the national hub (Trục liên thông văn bản quốc gia),
and checks the figures against queueing theory.

The public API:

* :func:`load_scenario` reads and validates a scenario (TOML file or text);
* :func:`run` simulates it (replications, seeds, parallel jobs) and returns a
  :class:`~simulator.results.RunResult`;
* :mod:`analytic` gives the queueing-theory prediction without simulating;
* :mod:`errors` holds the exceptions (:class:`~simulator.errors.SimulatorError`).

``import simulator`` does not load matplotlib; :mod:`simulator.charts` does.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import analytic, errors
from .experiment import run
from .scenario import load_scenario

__all__ = ["__version__", "analytic", "errors", "load_scenario", "run"]
