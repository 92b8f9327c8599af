"""Architecture: one-way dependencies, a small public API, no matplotlib on import, a light command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_import_layers_hold():
    """lint-imports keeps the layer order of setup.cfg (scenario to report) and keeps SimPy in engine, matplotlib in charts."""
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


#: Libraries that take a large part of a second to import, and the commands that need them.
HEAVY = ("pandas", "scipy", "matplotlib", "simpy")


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter (from the repository root)."""
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_cli_import_loads_no_heavy_library():
    """import simulator.cli loads neither pandas, SciPy, matplotlib nor SimPy (every command imports what it uses)."""
    assert set() == _loaded_after("import simulator.cli") & set(HEAVY)


def test_help_loads_no_scientific_library():
    """axis-sim --help builds its parser without NumPy, NetworkX or pydantic (the defaults come from simulator.limits)."""
    code = ("import contextlib, io\nfrom simulator.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])")
    assert set() == _loaded_after(code) & {"numpy", "networkx", "pydantic", *HEAVY}


def test_check_loads_no_simulation_library():
    """axis-sim check (analytic prediction, work estimate, sweep points) runs without pandas, SciPy, matplotlib, SimPy."""
    code = ("import contextlib, io\nfrom simulator.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert 0 == main(['check', 'scenarios/connect-ministries.toml'])")
    assert set() == _loaded_after(code) & set(HEAVY)


@pytest.mark.parametrize("module", ["units", "scenario", "streams", "structures", "topology", "traffic", "metrics",
                                    "engine", "analytic", "results", "store", "folders", "experiment", "capacity",
                                    "verification", "charts", "cli", "errors", "limits", "report"])
def test_every_module_documents_its_concept(module: str):
    """Each module opens with a docstring whose first line names its concept."""
    import importlib

    doc = importlib.import_module(f"simulator.{module}").__doc__
    assert doc and doc.split(":")[0].strip().lower() == module.replace("_", " ")
