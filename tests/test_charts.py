"""Charts: every figure draws from results on the Agg backend, with its labels, and saves as a PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import simulator  # noqa: E402
from simulator import charts  # noqa: E402
from simulator.experiment import sweep  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402
from simulator.topology import build_topology  # noqa: E402

from .conftest import hub_spoke_text  # noqa: E402


@pytest.fixture(scope="module")
def result() -> simulator.results.RunResult:
    """A small run whose agencies have Vietnamese names."""
    text = hub_spoke_text(horizon="30h", warmup="1h").replace('id = "A0"', 'id = "A0"\nname = "Bộ Tài chính"')
    return simulator.run(load_scenario(text), seed=1, replications=2)


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure after each test."""
    yield
    plt.close("all")


def test_utilization_chart_labels_and_vietnamese_names(result):
    """Bars per station, percent axis, the analytic marks and names with diacritics."""
    ax = charts.plot_station_utilization(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Bộ Tài chính" in labels
    assert "utilisation (%)" == ax.get_xlabel()
    assert {"simulated", "analytic (M/G/c)"} <= {t.get_text() for t in ax.get_legend().get_texts()}


def test_latency_and_queue_charts(result):
    """The CDF rises to 100 %; the queue chart has one line per busy station."""
    ax = charts.plot_latency_cdf(result)
    assert 100 == pytest.approx(max(ax.get_lines()[0].get_ydata()), abs=0.01)
    assert "latency" in ax.get_xlabel()
    ax = charts.plot_occupancy(result, top=3)
    assert 3 == len(ax.get_lines())


def test_network_map_and_saved_files(result, tmp_path: Path):
    """The map colours modelled stations; save_charts writes four non-empty PNGs."""
    topology = build_topology(result.scenario)
    ax = charts.plot_network_map(result, topology)
    assert ax.get_title().startswith("Network map")
    written = charts.save_charts(result, tmp_path, topology)
    assert 5 == len(written)
    assert all(path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000 for path in written)


def test_sweep_charts(tmp_path: Path):
    """Sweep charts draw one line per value of the second parameter, with analytic lines where given."""
    text = hub_spoke_text(horizon="20h", warmup="1h") + (
        "[sweep]\n[[sweep.parameters]]\npath = \"traffic.multiplier\"\nvalues = [0.5, 1.0]\n"
        "[[sweep.parameters]]\npath = \"network.hub.servers\"\nvalues = [2, 3]\n")
    outcome = sweep(load_scenario(text), tmp_path / "s", replications=2)
    ax = charts.plot_sweep_figure(outcome, "bottleneck_utilization", analytic="predicted_bottleneck_utilization")
    assert "traffic multiplier (× the scenario's volume) [traffic.multiplier]" == ax.get_xlabel()
    assert {"hub servers = 2", "hub servers = 3"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    assert ax.get_ylim()[0] == 0 and all(0 <= y <= 100 for c in ax.collections for p in c.get_paths()
                                         for _, y in p.vertices)  # bands inside [0, 100] %
    assert 4 == len(ax.get_lines())  # two simulated lines, two analytic
    written = charts.save_sweep_charts(outcome, tmp_path / "s")
    assert all(path.stat().st_size > 10_000 for path in written)


def test_backlog_chart_with_outages_and_backbone_cuts(tmp_path: Path):
    """A hub outage and cut backbones: save_charts adds backlog.png (the outages shaded, the largest drain written
    above), and the network map places the link stations."""
    text = hub_spoke_text(agencies=4, horizon="12h", warmup="0s", extra="").replace(
        "[kinds.agency]", '[network.backbone]\noutages = [{ start = "5h", duration = "1h" }]\n[kinds.agency]').replace(
        '[network.hub]\n', '[network.hub]\noutages = [{ start = "2h", duration = "2h" }]\n')
    result = simulator.run(load_scenario(text), seed=1, replications=2)
    assert {"hub"} | {f"link:A{i}" for i in range(4)} == {o["station"] for o in result.summary["outages"]}
    assert result.timeseries["backlog"].max() > 0
    ax = charts.plot_backlog(result)
    assert "Backlog and outages" in ax.get_title()
    assert {"backlog (all stations)", "down"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    written = charts.save_charts(result, tmp_path, build_topology(result.scenario))
    assert "backlog.png" in {path.name for path in written}
