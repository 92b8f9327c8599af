"""Built-in structures: counts, the 2020 -> 2025 mapping, names, levels, reform, onboarding, locality."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.analytic import reform_load_change
from simulator.engine import simulate
from simulator.scenario import load_scenario
from simulator.structures import dataset_agencies, load_table, province_successors
from simulator.topology import build_topology

SCENARIOS = Path(__file__).parents[1] / "scenarios"


def test_dataset_counts():
    """34 provinces / 3,321 communes (2025); 63 / 696 / 10,035 (before the merger); 14 + 3 central bodies in 2025."""
    assert 34 == len(load_table("provinces-2025"))
    assert 3321 == len(load_table("communes-2025"))
    assert 63 == len(load_table("provinces-2020"))
    assert 696 == len(load_table("districts-2020"))
    assert 10035 == len(load_table("communes-2020"))
    kinds_2025 = Counter(row["kind"] for row in load_table("central-2025"))
    assert (14, 3, 5) == (kinds_2025["ministry"], kinds_2025["ministerial-agency"], kinds_2025["government-agency"])
    kinds_2020 = Counter(row["kind"] for row in load_table("central-2020"))
    assert (18, 4, 8, 1) == (kinds_2020["ministry"], kinds_2020["ministerial-agency"], kinds_2020["government-agency"],
                             kinds_2020["central-other"])
    assert Counter({"Xã": 2621, "Phường": 687, "Đặc khu": 13}) == Counter(row["type"] for row in load_table("communes-2025"))


def test_every_province_maps_once_and_every_new_province_has_predecessors():
    """Each 2020 province maps to exactly one 2025 province; each 2025 province has at least one predecessor."""
    successors = province_successors()
    new_ids = {row["id"] for row in load_table("provinces-2025")}
    assert 63 == len(successors) and set(successors.values()) == new_ids
    for row in load_table("provinces-2025"):
        predecessors = row["predecessors_2020"].split(";")
        assert predecessors and all(successors[p] == row["id"] for p in predecessors)
    assert 63 == sum(len(row["predecessors_2020"].split(";")) for row in load_table("provinces-2025"))
    assert {"an-giang", "kien-giang"} == set(next(r for r in load_table("provinces-2025") if r["id"] == "an-giang")
                                             ["predecessors_2020"].split(";"))
    central = {row["id"] for row in load_table("central-2025")}
    assert all(row["successor_2025"] in central for row in load_table("central-2020"))


def test_names_keep_their_diacritics():
    """UTF-8 names survive from the data files to the stations."""
    names = {row["name"] for row in load_table("provinces-2020")}
    assert {"Tỉnh Kiên Giang", "Tỉnh Đắk Lắk", "Thành phố Hồ Chí Minh"} <= names
    assert "Bộ Nông nghiệp và Môi trường" in {row["name"] for row in load_table("central-2025")}
    communes = {row["name"] for row in load_table("communes-2025")}
    assert any("ư" in name or "ơ" in name for name in communes)
    topology = build_topology(load_scenario(SCENARIOS / "national-2025.toml"))
    assert "Tỉnh Đắk Lắk (platform)" in [s.name for s in topology.stations]


def test_sizes_average_one_per_kind():
    """Province sizes (the stand-in for population) average 1, so national volumes do not move with them."""
    for era in ("2020", "2025"):
        sizes = [float(row["size"]) for row in load_table(f"provinces-{era}")]
        assert 1.0 == pytest.approx(np.mean(sizes), abs=1e-3)
        assert max(sizes) > 1.5 > 0.5 > min(sizes)


@pytest.mark.parametrize("dataset, level, expected", [
    ("national-2020", "national", {"province": 63, "ministry": 18}),
    ("national-2025", "national", {"province": 34, "ministry": 14}),
    ("national-2025", "provincial", {"province": 34, "department": 34 * 13, "ministry-unit": 22 * 8}),
    ("national-2025", "full", {"commune": 3321, "department": 442}),
    ("national-2020", "full", {"district": 696, "commune": 10035, "department": 63 * 17}),
])
def test_levels_add_their_units(dataset: str, level: str, expected: dict[str, int]):
    """Each level adds its kinds of agencies, all behind their province's or ministry's platform."""
    agencies = dataset_agencies(dataset, level)
    counts = Counter(a.kind for a in agencies)
    for kind, count in expected.items():
        assert count == counts[kind], kind
    top = {a.id for a in agencies if a.parent is None}
    assert all(a.parent in top for a in agencies if a.parent is not None)


def test_reform_moves_2020_provinces_behind_34_platforms():
    """merge-2025: 63 provinces keep their traffic behind 34 provincial platforms; merged ministries behind successors."""
    scenario = load_scenario(SCENARIOS / "reform-2025.toml")
    topology = build_topology(scenario)
    platforms = [s for s in topology.stations if s.kind == "platform"]
    table = topology.agencies
    provincial = {table.ids[table.platform_of[i]] for i, kind in enumerate(table.kinds) if kind == "province"}
    assert 34 == len(provincial)
    assert 22 == len(platforms) - 34  # the 2025 central bodies
    kien_giang = table.index("kien-giang")
    assert "an-giang" == table.ids[table.platform_of[kien_giang]]
    assert table.rate[kien_giang] > 0
    assert "bo-tai-chinh" == table.ids[table.platform_of[table.index("bo-ke-hoach-va-dau-tu")]]
    changes = reform_load_change(scenario)
    assert 34 == len(changes)
    merged = next(c for c in changes if c.province == "Tỉnh An Giang")
    assert ("an-giang", "kien-giang") == merged.predecessors
    assert merged.peak_utilization_after > merged.peak_utilization_before


def test_reform_needs_the_2020_structure():
    """merge-2025 on the 2025 dataset is a clear error."""
    scenario = load_scenario(SCENARIOS / "national-2025.toml")
    broken = scenario.replace(network=scenario.network.model_copy(update={"reform": "merge-2025"}))
    with pytest.raises(simulator.errors.ScenarioError, match="network.reform = 'merge-2025'"):
        build_topology(broken)


ONBOARDING = """
[run]
horizon = "20d"
[network.hub]
service = {{ distribution = "deterministic", mean = "1s" }}
[[agencies]]
id = "A"
rate = "{rate}"
{extra}
[[agencies]]
id = "B"
"""


def test_onboarding_switches_documents_to_electronic_at_the_date():
    """An agency connected at day 10 sends on paper before and electronically from then on."""
    scenario = load_scenario(ONBOARDING.format(rate="10/h", extra='connected_at = "10d"'))
    topology = build_topology(scenario)
    out = simulate(scenario, topology, np.random.SeedSequence(2))
    series = out.timeseries
    days = series["time"] / 86400
    electronic = np.diff(np.concatenate([[0], series["documents_electronic"]]))
    paper = np.diff(np.concatenate([[0], series["documents_paper"]]))
    assert 0 == electronic[days <= 10].sum() and paper[days <= 10].sum() > 2000
    assert 0 == paper[days > 10.01].sum() and electronic[days > 10.01].sum() > 2000
    assert {"sender_not_connected"} == {k for k, v in out.ledger.paper_reasons.items() if v}


def test_connection_every_connects_the_order_one_by_one():
    """connection.every: the agencies of the order not connected at the start join one per period."""
    text = """
[run]
horizon = "30d"
[network.hub]
service = { mean = "1s" }
[kinds.agency]
rate = "1/h"
[connection]
order = ["C", "D", "E"]
connected = 1
every = "10d"
""" + "".join(f'[[agencies]]\nid = "{x}"\n' for x in "ABCDE")
    table = build_topology(load_scenario(text)).agencies
    assert [0.0, 0.0, 0.0, 10 * 86400.0, 20 * 86400.0] == table.connect_time.tolist()
    result = simulator.run(load_scenario(text), seed=1)
    shares = result.timeseries["electronic_share_in_interval"].to_numpy()
    days = result.timeseries["time"].to_numpy() / 86400
    first, last = np.nanmean(shares[days <= 10]), np.nanmean(shares[days > 20])
    assert last > first + 0.2  # D and E join: more documents have both ends connected


def test_traffic_inside_a_province_never_visits_the_hub():
    """Departments sending only to agencies of their own province load their platform, never the hub."""
    text = """
[run]
horizon = "1d"
[network]
dataset = "national-2025"
level = "provincial"
units_per_ministry = 0
[network.hub]
service = { mean = "1s" }
[network.platform]
service = { mean = "1s" }
[kinds.department]
rate = "2/h"
[traffic]
local_share = 1.0
"""
    scenario = load_scenario(text)
    topology = build_topology(scenario)
    out = simulate(scenario, topology, np.random.SeedSequence(3))
    served = dict(zip((s.node for s in topology.stations), out.window.served.tolist()))
    assert 0 == served["hub"]
    assert sum(v for k, v in served.items() if k.startswith("platform:")) > 10_000
    assert out.ledger.documents_delivered > 10_000
