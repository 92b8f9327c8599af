"""Benchmark: speed-up of replications on a local process pool (2 workers) against one process.

Runs the same R replications of the national 2020 baseline (one working week without status
messages, to keep it short) serially and with --jobs 2, in turn, and prints the ratio of wall
times. Results are identical either way (checked here too). Target: at least 1.8x on 2 cores.

Usage::

    python benchmarks/replications.py               # 4 replications, 2 rounds
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import simulator

ROOT = Path(__file__).resolve().parents[1]


def workload() -> simulator.scenario.Scenario:
    """national-2020 for one working week, without status messages."""
    scenario = simulator.load_scenario(ROOT / "scenarios" / "national-2020.toml")
    return scenario.replace(run=scenario.run.model_copy(update={"horizon": 5 * 86400.0, "warmup": 0.0}),
                            traffic=scenario.traffic.model_copy(update={"statuses": ()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    scenario = workload()
    ratios = []
    for round_ in range(1, args.rounds + 1):
        walls, summaries = {}, {}
        for jobs in (1, 2):
            began = time.perf_counter()
            result = simulator.run(scenario, seed=round_, replications=args.replications, jobs=jobs)
            walls[jobs] = time.perf_counter() - began
            summaries[jobs] = json.dumps(result.summary, sort_keys=True, default=str)
        assert summaries[1] == summaries[2], "serial and parallel results differ"
        ratios.append(walls[1] / walls[2])
        print(f"round {round_}: {args.replications} replications, 1 process {walls[1]:.2f} s, "
              f"2 processes {walls[2]:.2f} s, speed-up {ratios[-1]:.2f}x (identical results)", flush=True)
    print(f"\nmedian speed-up with 2 workers: {statistics.median(ratios):.2f}x; target >= 1.8x")


if __name__ == "__main__":
    main()
