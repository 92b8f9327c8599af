"""Timing a command as a user meets it: a whole child process, measured from outside.

Shared by ``national_year.py`` and ``hub_spoke.py --whole-process``: the wall time covers
interpreter start and imports; the peak resident set size is the child's own (``os.wait4``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timed:
    """Wall time and peak resident set size of one finished child process."""

    wall_seconds: float
    peak_rss_mib: float


def axis_sim() -> list[str]:
    """The ``axis-sim`` command of this environment (``python -m simulator`` when it is not installed as a script)."""
    beside = Path(sys.executable).with_name("axis-sim")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("axis-sim")
    return [found] if found else [sys.executable, "-m", "simulator"]


def run_timed(argv: list[str], log: Path) -> Timed:
    """Run ``argv`` from the repository root to completion, its output into ``log``, and time it from outside.

    Raises
    ------
    SystemExit
        If the child fails (the message shows its command line and output).
    """
    with open(log, "wb") as sink:
        began = time.perf_counter()
        child = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv)}\nexited with status {child.returncode}:\n{log.read_text(errors='replace')}")
    kib = 1 / 1024 if sys.platform == "darwin" else 1.0  # ru_maxrss is in bytes on macOS, KiB on Linux
    return Timed(wall, usage.ru_maxrss * kib / 1024)
