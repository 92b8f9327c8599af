"""Architecture: one-way dependencies, a small public API, no matplotlib on import."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_import_layers_hold():
    """lint-imports keeps the layer order of STYLE.md and keeps SimPy in engine, matplotlib in charts."""
    executable = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    completed = subprocess.run([executable, "--config", str(ROOT / "setup.cfg")], cwd=ROOT, capture_output=True, text=True)
    assert 0 == completed.returncode, completed.stdout + completed.stderr


def test_public_api_is_explicit():
    """The package exports exactly its documented API."""
    import simulator

    assert {"__version__", "analytic", "apply_parameters", "errors", "load_scenario", "run", "sweep"} == set(simulator.__all__)
    for name in simulator.__all__:
        assert hasattr(simulator, name)


def test_import_does_not_load_matplotlib():
    """import simulator stays light: no matplotlib until a chart is drawn."""
    code = "import sys, simulator; print('matplotlib' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "False" == completed.stdout.strip()


@pytest.mark.parametrize("module", ["units", "scenario", "streams", "structures", "topology", "traffic", "metrics",
                                    "engine", "analytic", "results", "store", "folders", "experiment", "capacity",
                                    "verification", "charts", "cli", "errors"])
def test_every_module_documents_its_concept(module: str):
    """Each module opens with a docstring whose first line names its concept."""
    import importlib

    doc = importlib.import_module(f"simulator.{module}").__doc__
    assert doc and doc.split(":")[0].strip().lower() == module.replace("_", " ")
