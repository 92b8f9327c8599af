"""Engine: exact event times on deterministic micro-scenarios, and each station feature."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.engine import simulate
from simulator.scenario import apply_parameters, load_scenario
from simulator.topology import build_topology

SEED = np.random.SeedSequence(7)

# Two agencies A and B. Agency systems: deterministic 2 s, one server; platforms pass-through;
# hub deterministic 1 s, one server; 0.5 s access links. A copy A -> B therefore takes
# 2 (A) + 0.5 (link) + 1 (hub) + 0.5 (link) + 2 (B) = 6 s when nothing queues.
MICRO = """
[run]
horizon = "{horizon}"
[network.agency]
service = {{ distribution = "deterministic", mean = "2s" }}
{agency_extra}
[network.hub]
service = {{ distribution = "deterministic", mean = "1s" }}
{hub_extra}
[network.access]
latency = "0.5s"
[[agencies]]
id = "A"
name = "Bộ Tài chính"
[[agencies]]
id = "B"
name = "Kiên Giang"
{more}
"""


def _doc(at: str, kind: str = "normal", origin: str = "A", recipients: str = '["B"]') -> str:
    return f'[[traffic.script]]\nat = "{at}"\norigin = "{origin}"\nrecipients = {recipients}\ntype = "{kind}"\n'


def _run(more: str, horizon: str = "60s", agency_extra: str = "", hub_extra: str = ""):
    scenario = load_scenario(MICRO.format(horizon=horizon, agency_extra=agency_extra, hub_extra=hub_extra, more=more))
    topology = build_topology(scenario)
    return simulate(scenario, topology, SEED, keep_latencies=True), topology


def test_three_documents_exact_latencies_with_priority():
    """A at 0 s, B at 1 s (normal) and C at 1.5 s (urgent) queue at A; the urgent one overtakes.

    Hand computation: A serves 0-2 (first), 2-4 (urgent), 4-6 (second); hub 2.5-3.5, 4.5-5.5,
    6.5-7.5; B serves 4-6, 6-8, 8-10. Latencies in delivery order: 6.0, 8.0 - 1.5 = 6.5, 10 - 1 = 9.0.
    """
    out, _ = _run(_doc("0s") + _doc("1s") + _doc("1.5s", "urgent"), horizon="20s")
    assert [6.0, 6.5, 9.0] == out.latencies
    window = out.window
    assert [3.0, 6.0, 6.0] == pytest.approx(window.busy_area.tolist())  # stations: hub, agency A, agency B
    assert [0.0, 3.5, 0.0] == pytest.approx(window.wait_area.tolist())  # second waits 3 s, urgent 0.5 s
    assert [3, 3, 3] == window.served.tolist()
    assert [0, 2, 0] == out.max_queue.tolist()


def test_status_message_route_and_time():
    """Status 01 one second after delivery (t = 7) returns B -> hub -> A: 2 + 0.5 + 1 + 0.5 + 2 = 6 s."""
    statuses = '[[traffic.statuses]]\ncode = "01"\nafter = { distribution = "deterministic", mean = "1s" }\n'
    out, _ = _run(_doc("0s") + statuses, horizon="30s")
    assert [6.0] == out.latencies
    assert 1 == out.ledger.statuses_generated == out.ledger.statuses_delivered
    assert 6.0 == out.status_latency.mean
    assert [2.0, 4.0, 4.0] == pytest.approx(out.window.busy_area.tolist())  # statuses load the same stations


def test_buffer_full_drops_and_counts():
    """With no waiting room at A, the second of two simultaneous documents is dropped and counted."""
    out, _ = _run(_doc("0s") + _doc("0s"), agency_extra="buffer = 0")
    ledger = out.ledger
    assert (2, 1, 1, 0) == (ledger.documents_electronic, ledger.documents_delivered, ledger.documents_dropped,
                            ledger.documents_in_flight)
    assert [0, 1, 0] == out.window.dropped.tolist()


def test_outage_delays_service_until_the_hub_is_back():
    """Hub down from 1 s to 11 s: the copy reaching it at 2.5 s waits until 11 s and arrives at 14.5 s."""
    out, _ = _run(_doc("0s"), hub_extra="outages = [{ start = \"1s\", duration = \"10s\" }]")
    assert [14.5] == out.latencies  # hub 11-12, link 0.5, B 12.5-14.5
    assert [8.5, 0.0, 0.0] == pytest.approx(out.window.wait_area.tolist())
    assert 10.0 == out.outage_seconds[0]


def test_classified_document_goes_on_paper_without_touching_stations():
    """A classified document counts as paper and no station sees it."""
    out, _ = _run(_doc("0s", "classified"))
    assert (1, 0, 1) == (out.ledger.documents_generated, out.ledger.documents_electronic, out.ledger.documents_paper)
    assert {"sender_not_connected": 0, "classified": 1, "not_adopted": 0, "recipient_not_connected": 0} == out.ledger.paper_reasons
    assert [0, 0, 0] == out.window.started.tolist()


def test_unconnected_recipient_gets_a_paper_copy():
    """A copy to an agency that is not connected goes on paper; the other copy travels."""
    more = '[[agencies]]\nid = "C"\nconnected = false\n' + _doc("0s", recipients='["B", "C"]')
    out, _ = _run(more)
    ledger = out.ledger
    assert (1, 1, 0, 2, 1, 1) == (ledger.documents_generated, ledger.documents_electronic, ledger.documents_paper,
                                  ledger.copies_generated, ledger.copies_electronic, ledger.copies_paper)
    assert 1 == ledger.paper_reasons["recipient_not_connected"]
    assert [6.0] == out.latencies


def test_fanout_crosses_the_hub_once_and_splits_after_it():
    """One document to B and C: A and the hub serve it once; B and C each receive a copy at 6 s."""
    more = '[[agencies]]\nid = "C"\n' + _doc("0s", recipients='["B", "C"]')
    out, topology = _run(more)
    served = dict(zip((s.node for s in topology.stations), out.window.served.tolist()))
    assert {"hub": 1, "agency:A": 1, "agency:B": 1, "agency:C": 1} == served
    assert [6.0, 6.0] == out.latencies
    assert (1, 0) == (out.ledger.documents_delivered, out.ledger.documents_in_flight)


def test_same_platform_copy_never_visits_the_hub():
    """An agency behind its parent's platform reaches a sibling without the national hub."""
    text = """
[run]
horizon = "60s"
[network.hub]
service = { distribution = "deterministic", mean = "1s" }
[network.platform]
service = { distribution = "deterministic", mean = "3s" }
[[agencies]]
id = "P"
[[agencies]]
id = "X"
parent = "P"
[[agencies]]
id = "Y"
parent = "P"
[[traffic.script]]
at = "0s"
origin = "X"
recipients = ["Y"]
"""
    scenario = load_scenario(text)
    topology = build_topology(scenario)
    out = simulate(scenario, topology, SEED, keep_latencies=True)
    served = dict(zip((s.node for s in topology.stations), out.window.served.tolist()))
    assert {"hub": 0, "platform:P": 1} == served
    assert [3.0] == out.latencies


def test_in_flight_at_the_horizon_is_counted():
    """A document still travelling at the horizon is in flight, not lost."""
    out, _ = _run(_doc("0s"), horizon="3s")
    ledger = out.ledger
    assert (1, 0, 1) == (ledger.documents_electronic, ledger.documents_delivered, ledger.documents_in_flight)


def test_same_day_share_counts_calendar_days():
    """A copy sent at 23:59:59 and received 6 s later crosses midnight: one of two copies is same-day."""
    from simulator.results import summarize

    out, topology = _run(_doc("0s") + _doc("86399s"), horizon="2d")
    assert 1 == out.same_day_deliveries
    summary = summarize(out, out_scenario(), topology, None)
    assert 0.5 == summary["same_day_share"]


def out_scenario():
    """The micro scenario itself (for summarize)."""
    return load_scenario(MICRO.format(horizon="2d", agency_extra="", hub_extra="", more=""))


@pytest.mark.parametrize("name", ["national-2025.toml", "failures-2025.toml"])
def test_a_run_leaves_no_reference_cycles_that_grow_with_it(name):
    """The collector is paused while a run goes on, so nothing of it may hang in a reference cycle: after a run,
    a collection finds nothing, after 2 days as after 4, outages included (reference counting freed it all).
    Acknowledgement records and their documents, the flow's and the agenda's bound actions kept tens of
    thousands; SimPy's waiting processes (the sampler, outages) kept the whole model alive through the events
    they waited for (the first collection after a run on the full structure took half a second)."""
    import gc
    from pathlib import Path

    from simulator.scenario import apply_parameters

    base = load_scenario(Path(__file__).parents[1] / "scenarios" / name)
    found = []
    for days in (2, 4):
        scenario = apply_parameters(base, {"run.horizon": f"{days}d", "run.warmup": "0s", "traffic.multiplier": 0.1,
                                           "network.level": "provincial"})
        topology = build_topology(scenario)
        gc.collect()
        gc.disable()
        try:
            out = simulate(scenario, topology, SEED, watch=range(10))
            found.append(gc.collect())
        finally:
            gc.enable()
        assert out.ledger.copies_delivered > 1_000 * days
    assert found == [0, 0], found


def test_memory_does_not_grow_with_the_horizon():
    """Peak traced memory of a 20-day run of the 2025 structure is at most 1.2x that of a 5-day run.

    Status messages, routes, samples and station state are bounded; only one
    time-series row per hour grows with the horizon. (The full structure over
    a year is measured by ``benchmarks/national_year.py``.)
    """
    import tracemalloc
    from pathlib import Path

    from simulator.scenario import apply_parameters

    base = load_scenario(Path(__file__).parents[1] / "scenarios" / "national-2025.toml")
    peaks = []
    for days in (5, 20):
        scenario = apply_parameters(base, {"run.horizon": f"{days}d", "run.warmup": "0s", "traffic.multiplier": 0.05})
        topology = build_topology(scenario)
        tracemalloc.start()
        out = simulate(scenario, topology, SEED, watch=range(10))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert out.ledger.statuses_generated > 5_000 * days / 5
    assert peaks[1] <= 1.2 * peaks[0], [p / 2**20 for p in peaks]



def test_watching_no_station_records_empty_occupancy_rows():
    """``watch=[]`` samples nothing per station, yet keeps one (empty) row per sampling instant."""
    scenario = apply_parameters(load_scenario(Path(__file__).parents[1] / "scenarios" / "national-2025.toml"),
                                {"run.horizon": "1d", "run.warmup": "0s", "traffic.multiplier": 0.05})
    out = simulate(scenario, build_topology(scenario), SEED, watch=[])
    assert out.occupancy.shape == (len(out.timeseries["time"]), 0)
    assert out.ledger.documents_generated > 100

# ---------------------------------------------------------------- compiled engine

_REPO = Path(__file__).resolve().parents[1]
_DIGEST = """
import hashlib, json, sys
import numpy as np
import simulator.engine as engine
from simulator.scenario import load_scenario
from simulator.topology import build_topology
scenario = load_scenario(sys.argv[1])
scenario = scenario.replace(run=scenario.run.model_copy(update={"horizon": float(sys.argv[2]), "warmup": 3600.0}))
out = engine.simulate(scenario, build_topology(scenario), np.random.SeedSequence(11), keep_latencies=True)
print(json.dumps({"compiled": engine.COMPILED, "file": engine.__file__, "ledger": out.ledger.as_dict(), "events": out.events,
                  "latencies": hashlib.sha256(repr(out.latencies).encode()).hexdigest(),
                  "max_queue": out.max_queue.tolist(), "outage": out.outage_seconds.tolist(),
                  "busy": repr(out.window.busy_area.tolist())}))
"""


def _editable_install() -> bool:
    """Whether axis-simulator is installed in editable mode (pip's direct_url.json says so)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("axis-simulator").read_text("direct_url.json")
    except PackageNotFoundError:
        return True  # not installed: the source is all there is
    return bool(text and json.loads(text).get("dir_info", {}).get("editable"))


def _digest(cwd: Path, scenario: str, horizon: float) -> dict:
    done = subprocess.run([sys.executable, "-c", _DIGEST, str(_REPO / "scenarios" / scenario), str(horizon)],
                          cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("scenario, horizon", [("covid-surge-2020.toml", 1.5 * 86400.0),  # priority, outage, statuses
                                               ("national-2025.toml", 12 * 3600.0)])
def test_the_compiled_engine_reproduces_its_source_exactly(tmp_path: Path, scenario: str, horizon: float):
    """Where the installed package runs the mypyc-compiled hot modules, they give the source engine's results, bit for bit.

    Run from outside the repository, ``import simulator`` finds the installed
    package (compiled by ``pip install .``); run from the repository, the
    source. An editable install runs the source both ways: nothing to compare.
    """
    if _editable_install() or os.environ.get("AXIS_SIM_PURE_PYTHON"):
        pytest.skip("the installed package runs the engine from source (editable install or AXIS_SIM_PURE_PYTHON)")
    compiled = _digest(tmp_path, scenario, horizon)
    installed = Path(compiled.pop("file"))
    if installed.resolve().is_relative_to((_REPO / "simulator").resolve()):  # an editable install direct_url missed
        pytest.skip(f"the installed package is this source tree ({installed.parent}): nothing compiled to compare")
    assert compiled.pop("compiled"), f"{installed.parent} was installed from a wheel but runs from source: mypyc failed"
    source = _digest(_REPO, scenario, horizon)
    assert source.pop("compiled") is False
    source.pop("file")
    assert compiled == source
    assert compiled["ledger"]["copies_delivered"] > 1000


def test_a_station_line_keeps_arrival_order_through_its_cuts():
    """A waiting line hands jobs out first in, first out, however its list is cut and emptied on the way."""
    from simulator.engine.stations import Line

    line, expected = Line(), []
    arrived = iter(range(10_000))
    rng = np.random.default_rng(2)
    for _ in range(6_000):
        if rng.random() < 0.55 or not expected:  # the line grows past the cut threshold, then drains
            job = next(arrived)
            line.push(job)
            expected.append(job)
        else:
            assert line.pop() == expected.pop(0)
        assert line.length() == len(expected) and line.waiting() == expected
    while expected:
        assert line.pop() == expected.pop(0)
    assert line.length() == 0 and line.waiting() == [] and line.jobs == []


def test_the_tally_keeps_every_count_of_the_ledger(mm_network):
    """The flow's native tally names every count of the ledger but the totals generated (sums of two of them), and
    its ledger copies each one: a count added to the ledger and not to the tally would stay 0 unnoticed."""
    import dataclasses

    from simulator.engine.flow import TALLIED
    from simulator.engine.model import Model
    from simulator.metrics import Ledger

    counts = {f.name for f in dataclasses.fields(Ledger) if f.type in ("int", int)}
    assert set(TALLIED) == counts - {"documents_generated", "copies_generated"}
    flow = Model(mm_network, build_topology(mm_network), np.random.SeedSequence(1), False, None, None).flow
    for value, name in enumerate(TALLIED, start=1):
        setattr(flow.tally, name, value)
    flow.tally.resends[2] = 5
    ledger = flow.ledger()
    assert [getattr(ledger, name) for name in TALLIED] == list(range(1, len(TALLIED) + 1))
    assert ledger.documents_generated == flow.tally.documents_electronic + flow.tally.documents_paper
    assert ledger.copies_generated == flow.tally.copies_electronic + flow.tally.copies_paper
    assert ledger.resends == {2: 5}
