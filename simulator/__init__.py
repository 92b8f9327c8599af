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

import os
import sys

import _signal  # the C module: `signal` would import enum first, while Ctrl-C is not yet ours


def interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C while the ``axis-sim`` command is still importing: one line, exit 130, no traceback.

    ``simulator.cli.main`` hands Ctrl-C back to Python's KeyboardInterrupt
    once its own handler is in place; a program that imports the package
    (not the command) keeps its own handler.
    """
    os.write(2, b"axis-sim: interrupted\n")
    os._exit(130)


if sys.argv and os.path.basename(sys.argv[0]) == "axis-sim":
    _signal.signal(_signal.SIGINT, interrupted_while_starting)

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any  # noqa: E402 - after the start-up Ctrl-C handler, on purpose

__all__ = ["__version__", "analytic", "apply_parameters", "errors", "load_scenario", "run", "sweep"]

if TYPE_CHECKING:  # pragma: no cover - the names below, for type checkers
    from . import analytic, errors
    from .experiment import run, sweep
    from .scenario import apply_parameters, load_scenario

#: Where each public name lives: imported on first use, so ``import simulator`` (and ``axis-sim --help``)
#: loads nothing heavy, and Ctrl-C while the command starts is caught by ``axis-sim`` itself.
_LAZY = {"analytic": ("analytic", None), "errors": ("errors", None), "run": ("experiment", "run"),
         "sweep": ("experiment", "sweep"), "apply_parameters": ("scenario", "apply_parameters"),
         "load_scenario": ("scenario", "load_scenario")}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
