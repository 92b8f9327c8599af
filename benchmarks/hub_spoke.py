"""Benchmark: the project's engine against idiomatic SimPy on the reference hub-and-spoke workload.

Workload (shared/PERF-ANCHORS.md): 85 agencies, each an M/M/1 gateway (mu = 50/h),
a hub M/M/4 (mu = 500/h per server), 20 documents/h per agency, receiver uniform among
the other 84, route gateway -> hub -> gateway, no status messages. Both models run in
this one process, in turn (A B A B ...), so machine drift hits both alike; the figure
to quote is the median ratio of documents per second.

The engine runs as a user would: scenario text -> build_topology -> simulate, with all
metrics on (station counters, time-weighted areas, latency histogram, time series).

Usage::

    python benchmarks/hub_spoke.py                 # 1,000,000 documents, 2 rounds
    python benchmarks/hub_spoke.py --docs 200000 --rounds 3
    python benchmarks/hub_spoke.py --memory        # peak traced memory at 200k and 1M documents
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_simpy import ANALYTIC_MEAN_SOJOURN_SECONDS, run_idiomatic  # noqa: E402

from simulator.engine import simulate  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402
from simulator.topology import build_topology  # noqa: E402
from simulator.verification import hub_and_spoke_text  # noqa: E402

AGENCIES = 85
TOTAL_PER_HOUR = 20.0 * AGENCIES


def scenario_text(docs: int) -> str:
    """The reference workload as a scenario: agency stations are the gateways, platforms pass through."""
    hours = docs / TOTAL_PER_HOUR
    return 'name = "hub-spoke-benchmark"\n' + hub_and_spoke_text(
        AGENCIES, rate="20/h", gateway_mean="72s", hub_servers=4, hub_mean="7.2s",
        horizon=f"{hours * 3600.0!r}s", warmup="0s", extra="")


def run_engine(docs: int, seed: int) -> dict[str, float]:
    """The project's engine, timed from scenario text to the finished output."""
    began = time.perf_counter()
    scenario = load_scenario(scenario_text(docs))
    topology = build_topology(scenario)
    out = simulate(scenario, topology, np.random.SeedSequence(seed))
    wall = time.perf_counter() - began
    return {"generated": out.ledger.documents_generated, "completed": out.ledger.documents_delivered,
            "mean_sojourn_seconds": out.latency.mean, "wall_seconds": wall}


def memory(sizes: tuple[int, ...] = (200_000, 1_000_000)) -> None:
    """Peak traced Python memory of the engine at several run lengths: it must not grow with documents."""
    import tracemalloc

    peaks = []
    for docs in sizes:
        tracemalloc.start()
        run_engine(docs, 1)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
        print(f"{docs:>9,d} documents: peak traced memory {peaks[-1]:6.1f} MiB", flush=True)
    print(f"ratio of peaks, {sizes[-1]:,} vs {sizes[0]:,} documents: {peaks[-1] / peaks[0]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="measure peak memory instead of speed")
    args = parser.parse_args()
    if args.memory:
        memory()
        return
    ratios, rows = [], []
    for round_ in range(1, args.rounds + 1):
        base = run_idiomatic(args.docs, args.seed + round_)
        ours = run_engine(args.docs, args.seed + round_)
        base_rate = base["generated"] / base["wall_seconds"]
        our_rate = ours["generated"] / ours["wall_seconds"]
        ratios.append(our_rate / base_rate)
        for name, r, rate in (("idiomatic SimPy", base, base_rate), ("axis-simulator engine", ours, our_rate)):
            error = r["mean_sojourn_seconds"] / ANALYTIC_MEAN_SOJOURN_SECONDS - 1
            rows.append(f"round {round_}  {name:22s} {r['generated']:>9,d} docs  {r['wall_seconds']:7.2f} s  "
                        f"{rate:>9,.0f} docs/s  mean sojourn {r['mean_sojourn_seconds'] / 3600:.5f} h ({error:+.2%} vs analytic)")
        print(rows[-2], rows[-1], sep="\n", flush=True)
    print(f"\nspeed ratio engine / idiomatic SimPy: median {statistics.median(ratios):.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)}); target >= 4x")


if __name__ == "__main__":
    main()
