"""Build script: the engine's hot modules are compiled with mypyc when the wheel is built.

Metadata lives in setup.cfg. The five modules the event loop spends its time
in (``simulator/engine/agenda.py``, ``flow.py``, ``routes.py``,
``stations.py``, ``variates.py``), and ``tracing.py`` whose traced variants
subclass them, are ordinary, fully typed Python; mypyc turns them into C
extensions that run the same code about 1.4x faster. The Python sources stay
in the package, and the engine runs from them unchanged when:

* the install is editable (``pip install -e .``), so that an edit takes
  effect without a rebuild;
* ``AXIS_SIM_PURE_PYTHON=1`` is set at install time;
* mypyc is unavailable or fails on this platform (a warning says so).

``simulator.engine.COMPILED`` tells which one a process runs.
"""
from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HOT_MODULES = [
    "simulator/engine/agenda.py",
    "simulator/engine/flow.py",
    "simulator/engine/routes.py",
    "simulator/engine/stations.py",
    "simulator/engine/variates.py",
    "simulator/engine/tracing.py",  # the traced variants subclass the compiled flow and stations
]
#: setup.py commands that build the package's code (metadata queries compile nothing).
BUILD_COMMANDS = {"bdist_wheel", "build", "build_ext", "install"}
#: Commands of an editable install: the engine runs from the sources.
EDITABLE_COMMANDS = {"editable_wheel", "develop"}


def compiled_extensions() -> list:
    """The mypyc extensions of the hot modules, or none (pure Python) when they are not wanted or cannot be built."""
    commands = set(sys.argv[1:])
    if os.environ.get("AXIS_SIM_PURE_PYTHON") or commands & EDITABLE_COMMANDS or not commands & BUILD_COMMANDS:
        return []
    try:
        from mypyc.build import mypycify
        # the build environment has none of the runtime dependencies: check the hot modules, not what they import
        return mypycify(["--follow-imports=silent", "--ignore-missing-imports", *HOT_MODULES], opt_level="3")
    except (ImportError, SystemExit, Exception) as error:  # noqa: BLE001 - any failure falls back to pure Python
        print(f"warning: the engine is not compiled ({error!r}); it runs as pure Python", file=sys.stderr)
        return []


class BuildOrFallBack(build_ext):
    """Build the compiled engine; if the C compiler fails, warn and install the pure-Python engine instead.

    All extensions go together: the per-module shims import one shared
    library, so a partial build would not import.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - CompileError, CCompilerError, DistutilsExecError, a missing compiler
            print(f"warning: the engine is not compiled ({error!r}); it runs as pure Python", file=sys.stderr)
            self.extensions = []
            self.distribution.ext_modules = []


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": BuildOrFallBack})
