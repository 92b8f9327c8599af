"""The shipped 2020 baseline reproduces its calibration targets (docs/sources.md, section 10)."""
from __future__ import annotations

from pathlib import Path

import pytest

import simulator
from simulator.topology import build_topology

NATIONAL_2020 = Path(__file__).parents[1] / "scenarios" / "national-2020.toml"


@pytest.fixture(scope="module")
def baseline() -> simulator.results.RunResult:
    """national-2020 as shipped, without status messages (they do not change modes or volumes)."""
    scenario = simulator.load_scenario(NATIONAL_2020)
    quick = scenario.replace(traffic=scenario.traffic.model_copy(update={"statuses": ()}))
    return simulator.run(quick, seed=scenario.run.seed)


def test_structure_is_94_top_level_nodes():
    """31 central bodies and 63 provinces, each with its platform and its document system, and one hub."""
    topology = build_topology(simulator.load_scenario(NATIONAL_2020))
    kinds = topology.agencies.kinds
    assert 94 == len(kinds)
    assert 63 == kinds.count("province")
    assert 31 == len(kinds) - kinds.count("province")
    assert 1 + 94 + 94 == len(topology.stations)
    assert "Tỉnh Kiên Giang" in topology.agencies.names and "Bộ Tài chính" in topology.agencies.names


def test_electronic_share_is_86_5_percent(baseline):
    """86.5 % +- 0.5 pp of documents go electronically (2019 actual), from connection, classification and adoption."""
    share = baseline.summary["electronic_share"]
    assert 0.860 <= share <= 0.870, share
    # nine working days (2 April 2020 is a holiday): binomial s.d. of the share < 0.11 pp
    assert baseline.summary["documents"]["generated"] > 98_000


def test_volume_and_recipients(baseline):
    """About 9-10 thousand electronic documents per working day, about 2.3 recipients per document."""
    summary = baseline.summary
    assert 9_000 <= summary["electronic_per_working_day"] <= 10_000, summary["electronic_per_working_day"]
    assert 2.2 <= summary["recipients_per_document"] <= 2.4, summary["recipients_per_document"]
    documents = summary["documents"]
    assert documents["generated"] == documents["delivered"] + documents["paper"] + documents["dropped"] + documents["in_flight"]
