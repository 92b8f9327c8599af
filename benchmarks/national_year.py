"""Benchmark: a simulated year of the full 2025 structure, run as a user runs it.

Runs ``scenarios/national-2025-full.toml`` (about 4,000 agencies, status messages on) for N
simulated days, one replication on one core, the way a user meets it: a child process

    axis-sim run scenarios/national-2025-full.toml --set run.horizon=<N>d --replications 1 --jobs 1 -o <tmp>

timed from outside (the whole process: interpreter start, imports, building the network,
simulating, writing the result folder and its charts), with the child's peak resident set
size (``os.wait4``, see ``child_process.py``). Documents generated and ``events`` are read
from the folder's ``summary.json``. The scenario's one-day warm-up is kept; a run of one day
or less sets ``run.warmup=0s`` (the warm-up must be shorter than the horizon).

Targets (issue 9): a year in at most 20 minutes, a week in at most 23 s, peak RSS at most
1 GiB, and a year's peak RSS at most 1.2x a month's (memory flat in the horizon). For a run
shorter than a year the year's time is extrapolated linearly from its wall time (start-up
costs included, so the figure is slightly pessimistic); a run of whole weeks extrapolates fairly,
a run of a few working days (day 0 is a Monday) overstates the year, whose weekends are quiet.

Usage::

    python benchmarks/national_year.py                  # 365 simulated days
    python benchmarks/national_year.py --days 7 30      # one row per length, ratios of peak RSS
    python benchmarks/national_year.py --memory-check   # 30 and 365 days: is memory flat in the horizon?
    python benchmarks/national_year.py --days 1         # a quick check that the benchmark works
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from child_process import ROOT, axis_sim, run_timed  # noqa: E402

SCENARIO = ROOT / "scenarios" / "national-2025-full.toml"
YEAR_DAYS = 365.0
YEAR_TARGET_SECONDS = 20 * 60.0
WEEK_TARGET_SECONDS = 23.0
RSS_TARGET_MIB = 1024.0
RSS_GROWTH_TARGET = 1.2  # a year's peak RSS against a month's


@dataclass(frozen=True)
class Measurement:
    """One timed run of ``axis-sim run``."""

    days: float
    wall_seconds: float
    documents: int
    events: int
    peak_rss_mib: float


def command(days: float, output: Path) -> list[str]:
    """The command line of one run: the scenario for ``days`` simulated days, one replication, one core."""
    overrides = [f"run.horizon={days:g}d"] + (["run.warmup=0s"] if days <= 1 else [])
    sets = [token for override in overrides for token in ("--set", override)]
    return [*axis_sim(), "run", str(SCENARIO), *sets, "--replications", "1", "--jobs", "1", "-o", str(output)]


def measure(days: float) -> Measurement:
    """Run the scenario for ``days`` simulated days in a child process and read its summary."""
    with tempfile.TemporaryDirectory(prefix="national-year-") as folder:
        output = Path(folder) / "result"
        timed = run_timed(command(days, output), Path(folder) / "output.log")
        summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    return Measurement(days, timed.wall_seconds, int(summary["documents"]["generated"]), int(summary["events"]),
                       timed.peak_rss_mib)


def row(m: Measurement) -> str:
    """One line of the results table."""
    return (f"{m.days:>6g}  {m.wall_seconds:>9.1f}  {m.documents:>11,d}  {m.documents / m.wall_seconds:>8,.0f}  "
            f"{m.events:>13,d}  {m.events / m.wall_seconds:>10,.0f}  {m.events / max(m.documents, 1):>10.1f}  "
            f"{m.peak_rss_mib:>9.0f}")


def verdict(ok: bool) -> str:
    """How a figure stands against its target."""
    return "meets" if ok else "MISSES"


def targets(m: Measurement) -> list[str]:
    """The figures of one run next to their targets."""
    year = m.wall_seconds * YEAR_DAYS / m.days
    how = "measured" if m.days == YEAR_DAYS else f"extrapolated linearly from {m.days:g} days"
    lines = [f"{m.days:g} days: year {year / 60:.1f} min ({how}); target <= {YEAR_TARGET_SECONDS / 60:.0f} min: "
             f"{verdict(year <= YEAR_TARGET_SECONDS)}"]
    if m.days == 7:
        lines.append(f"{m.days:g} days: week {m.wall_seconds:.1f} s; target <= {WEEK_TARGET_SECONDS:.0f} s: "
                     f"{verdict(m.wall_seconds <= WEEK_TARGET_SECONDS)}")
    lines.append(f"{m.days:g} days: peak RSS {m.peak_rss_mib:.0f} MiB; target <= {RSS_TARGET_MIB:.0f} MiB (1 GiB): "
                 f"{verdict(m.peak_rss_mib <= RSS_TARGET_MIB)}")
    return lines


def ratios(runs: list[Measurement]) -> list[str]:
    """Peak RSS of each longer run against the shortest: memory should not grow with the horizon."""
    shortest = min(runs, key=lambda m: m.days)
    lines = []
    for m in sorted(runs, key=lambda m: m.days):
        if m.days == shortest.days:
            continue
        ratio = m.peak_rss_mib / shortest.peak_rss_mib
        line = f"peak RSS {m.days:g} days / {shortest.days:g} days: {ratio:.2f}x; target <= {RSS_GROWTH_TARGET}x"
        if (shortest.days, m.days) == (30, YEAR_DAYS):
            line += f": {verdict(ratio <= RSS_GROWTH_TARGET)}"
        else:
            line += " for 365 days against 30"
        lines.append(line)
    return lines


def main() -> None:
    """Parse the options, run each length in turn, print the table, the targets and the RSS ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, nargs="+", default=[YEAR_DAYS],
                        help="simulated days, one run each (default 365)")
    parser.add_argument("--memory-check", action="store_true", help="run 30 and 365 days and compare peak RSS")
    args = parser.parse_args()
    days = [30.0, YEAR_DAYS] if args.memory_check else args.days
    if any(d <= 0 for d in days):
        parser.error("--days must be positive")
    print(f"{SCENARIO.name}, one replication, one core, status messages on; each run timed from outside:")
    print(f"  {' '.join(command(days[0], Path('<tmp>')))}\n", flush=True)
    print("  days  wall (s)    documents    docs/s         events    events/s  events/doc  peak RSS (MiB)")
    runs = []
    for d in days:
        runs.append(measure(d))
        print(row(runs[-1]), flush=True)
    print()
    for m in runs:
        print("\n".join(targets(m)))
    if len(runs) > 1:
        print("\n".join(ratios(runs)))


if __name__ == "__main__":
    main()
