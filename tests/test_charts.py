"""Charts: every figure draws from results on the Agg backend, with its labels, and saves as a PNG."""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import simulator  # noqa: E402
from simulator import charts  # noqa: E402
from simulator.catalogue import LANGUAGES, Locale, messages  # noqa: E402
from simulator.experiment import sweep  # noqa: E402
from simulator.results import bounded_interval  # noqa: E402
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
    assert ax.get_xlabel().startswith("delivery time, end to end (")
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
    assert "traffic multiplier (× the scenario's volume)" == ax.get_xlabel()  # words and unit, no raw key
    assert {"hub servers = 2", "hub servers = 3"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    assert ax.get_ylim()[0] == 0 and all(0 <= y <= 100 for c in ax.collections for p in c.get_paths()
                                         for _, y in p.vertices)  # bands inside [0, 100] %
    assert 4 == len(ax.get_lines())  # two simulated lines, two analytic
    vi = Locale("vi")
    ax = charts.plot_sweep_figure(outcome, "latency_mean_seconds", lang="vi")
    assert ax.get_xlabel().startswith(messages("vi")["param_traffic.multiplier"])
    assert {"số máy chủ của trục = 2", "số máy chủ của trục = 3"} == {t.get_text() for t in ax.get_legend().get_texts()}
    assert ax.get_ylabel().startswith(messages("vi")["png_sweep_latency_mean_seconds"])
    assert ax.get_title().replace("\n", " ").startswith(vi.text("png_sweep_title", figure="Thời gian chuyển trung bình",
                                                                 parameter=messages("vi")["param_traffic.multiplier"], scenario=""))
    assert all(len(line) <= 64 for line in ax.get_title().splitlines())  # wrapped, not cut at the figure's edge
    ax = charts.plot_capacity_curve(outcome, lang="vi")
    assert vi.text("png_capacity_title", scenario=outcome.points[0].scenario.name) == ax.get_title()
    assert 2 == len(ax.figure.legends) and all(a.get_legend() is None for a in ax.figure.axes)  # in the margin
    written = charts.save_sweep_charts(outcome, tmp_path / "s", lang="vi")
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


def _texts(ax) -> set[str]:
    """Every non-empty text drawn on the figure of ``ax`` (titles, labels, legends, ticks, annotations)."""
    figure = ax.figure
    texts = [t for t in figure.findobj(Text)]
    for axes in figure.axes:
        texts += [*axes.get_xticklabels(), *axes.get_yticklabels(), axes.xaxis.label, axes.yaxis.label]
    return {t.get_text() for t in texts if t.get_text().strip()}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chart_texts_come_from_the_catalogue(result, lang: str):
    """Titles, axis labels and legends of the run charts are the catalogue's texts of the language asked for."""
    locale, other = Locale(lang), Locale("en" if lang == "vi" else "vi")
    name = result.summary["scenario"]
    ax = charts.plot_station_utilization(result, lang=lang)
    assert locale.text("png_utilization_title", scenario=name) == ax.get_title()
    assert locale.text("chart_utilization_x") == ax.get_xlabel()
    assert {locale.text("chart_simulated"), locale.text("chart_analytic")} == {t.get_text() for t in ax.get_legend().get_texts()}
    ax = charts.plot_latency_cdf(result, lang=lang)
    assert locale.text("png_latency_title", scenario=name) == ax.get_title()
    assert locale.text("png_latency_x_log") == ax.get_xlabel()  # log scale: the ticks carry their units
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and locale.duration(60) in ticks and not any("^" in t or "10" == t for t in ticks), ticks
    assert locale.text("png_latency_y") == ax.get_ylabel()
    p95 = result.summary["latency_seconds"]["p95"]
    assert locale.text("png_quantile", share=95, value=locale.duration(p95)) in {t.get_text() for t in ax.get_legend().get_texts()}
    ax = charts.plot_occupancy(result, lang=lang)
    assert (locale.text("png_queues_title", scenario=name), locale.text("chart_time_x"), locale.text("chart_queues_y")) == (
        ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
    assert locale.clock(24) in _texts(ax)  # day and clock time ticks in the language
    ax = charts.plot_electronic_share_over_time(result, lang=lang)
    assert (locale.text("png_share_title", scenario=name), locale.text("png_share_x"), locale.text("png_share_y")) == (
        ax.get_title(), ax.get_xlabel(), ax.get_ylabel())
    assert {locale.text("png_share_daily"), locale.text("png_share_cumulative")} == {t.get_text() for t in ax.get_legend().get_texts()}
    ax = charts.plot_network_map(result, build_topology(result.scenario), lang=lang)
    assert locale.text("png_map_title", scenario=name) == ax.get_title()
    texts = _texts(ax)
    assert locale.text("chart_utilization_x") in texts and other.text("chart_utilization_x") not in texts


def test_vietnamese_chart_numbers_use_the_vietnamese_format(result):
    """Tick labels of a Vietnamese chart carry decimal commas and thin-space thousands, never a decimal point."""
    ax = charts.plot_latency_cdf(result, lang="vi")
    ticks = {t.get_text() for t in ax.get_yticklabels()}
    assert {"0", "20", "40", "60", "80", "100"} <= ticks
    ax = charts.plot_series([0.0, 1.0, 2.0], {"a": [0.0, 12000.0, 24000.0]}, title="t", xlabel="x", ylabel="y",
                            tick_text=Locale("vi").tick)
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "20\u202f000" in ticks and not any("." in t for t in ticks)


# ---- intervals that respect the range of the figure ----

_RNG = np.random.default_rng(12)


def _adversarial(count: int = 400) -> list[tuple[float, float]]:
    """Means from a hair above the bound to far away, half-widths from tiny to absurd."""
    means = np.concatenate([10.0 ** -_RNG.uniform(0, 12, count // 2), _RNG.uniform(0, 1, count // 2)])
    halves = 10.0 ** _RNG.uniform(-8, 3, count)
    return list(zip(means.tolist(), halves.tolist()))


def test_share_intervals_stay_inside_0_1_on_adversarial_inputs():
    """A logit-scale interval: inside [0, 1] and around the mean, whatever the plain interval (-5 to 6 included)."""
    for mean, half in _adversarial():
        for m in (mean, 1 - mean):
            if not 0 < m < 1:
                continue
            low, high = bounded_interval(m, m - half, m + half, "share")
            assert 0 <= low <= m <= high <= 1, (m, half, low, high)


def test_time_and_count_intervals_stay_at_or_above_0_on_adversarial_inputs():
    """A log-scale interval: at least 0 and around the mean (the upper end is finite for finite inputs)."""
    for mean, half in _adversarial():
        for m in (mean, mean * 1e6):
            low, high = bounded_interval(m, m - half, m + half, "positive")
            assert 0 <= low <= m <= high and (math.isfinite(high) or half / m > 700), (m, half, low, high)


def test_on_a_bound_the_plain_interval_is_kept():
    """Every replication on the bound (a mean of exactly 0 or 1): the transform is undefined; the plain interval stays."""
    assert (0.0, 0.0) == tuple(bounded_interval(0.0, 0.0, 0.0, "share"))
    assert (1.0, 1.0) == tuple(bounded_interval(1.0, 1.0, 1.0, "share"))
    assert (0.0, 0.0) == tuple(bounded_interval(0.0, 0.0, 0.0, "positive"))
    assert tuple(bounded_interval(0.5, math.nan, math.nan, "share")) == pytest.approx((math.nan, math.nan), nan_ok=True)


@pytest.mark.parametrize("scale", ["share", "positive"])
def test_far_from_the_bounds_the_interval_is_the_plain_t_interval(scale: str):
    """Half-width at most 10 % of the distance to the bound: each end within 10 % of the half-width of the plain end."""
    for _ in range(500):
        mean = _RNG.uniform(0.05, 0.95) if scale == "share" else 10.0 ** _RNG.uniform(-3, 6)
        room = min(mean, 1 - mean) if scale == "share" else mean
        half = room * _RNG.uniform(1e-6, 0.1)
        low, high = bounded_interval(mean, mean - half, mean + half, scale)
        assert abs(low - (mean - half)) <= 0.1 * half and abs(high - (mean + half)) <= 0.1 * half, (mean, half)


def test_charts_draw_bounded_whiskers_and_bands():
    """Plain intervals reaching below 0 % and above 100 %: whiskers and bands stay inside the figure's range."""
    stations = [{"name": "a", "utilization": 0.01, "utilization_ci": [-0.3, 0.32]},
                {"name": "b", "utilization": 0.97, "utilization_ci": [0.9, 1.04]}]
    ax = charts.plot_utilization_bars(stations, title="t", xlabel="x", simulated="s", analytic="a")
    whiskers = [x for c in ax.collections for p in c.get_paths() for x, _ in p.vertices]
    assert whiskers and all(0 <= x <= 100 for x in whiskers)
    line = charts.SweepLine("l", [1, 2], [0.02, 0.99], [-0.2, 0.9], [0.24, 1.08])
    ax = charts.plot_sweep_lines([line], title="t", xlabel="x", ylabel="y", percent=True)
    assert all(0 <= y <= 100 for c in ax.collections for p in c.get_paths() for _, y in p.vertices)
    line = charts.SweepLine("l", [1, 2], [3.0, 50.0], [-40.0, -10.0], [46.0, 110.0])
    ax = charts.plot_sweep_lines([line], title="t", xlabel="x", ylabel="y")
    assert all(y >= 0 for c in ax.collections for p in c.get_paths() for _, y in p.vertices)


def test_run_draws_its_png_charts_in_the_language_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """axis-sim run --lang vi draws Vietnamese charts (their titles as saved); an unknown --lang exits 2 before simulating."""
    from simulator.cli import main

    titles: list[str] = []
    save = charts._save
    monkeypatch.setattr(charts, "_save", lambda ax, path: (titles.append(ax.get_title()), save(ax, path))[1])

    scenario = tmp_path / "s.toml"
    scenario.write_text(hub_spoke_text(horizon="4h", warmup="0s"), encoding="utf-8")
    assert 2 == main(["run", str(scenario), "--lang", "fr", "--quiet", "-o", str(tmp_path / "fr")])
    assert not (tmp_path / "fr").exists()
    assert 0 == main(["run", str(scenario), "--lang", "vi", "--quiet", "--jobs", "1", "-o", str(tmp_path / "vi")])
    assert {"utilization.png", "latency_cdf.png", "queues.png"} <= {p.name for p in (tmp_path / "vi" / "charts").iterdir()}
    vi = Locale("vi")
    name = json.loads((tmp_path / "vi" / "summary.json").read_text(encoding="utf-8"))["scenario"]
    assert {vi.text(key, scenario=name) for key in ("png_utilization_title", "png_latency_title", "png_queues_title",
                                                          "png_share_title", "png_map_title")} == set(titles)


def test_a_band_many_times_the_line_is_cut_so_the_lines_stay_readable():
    """Two replications give a log-scale band of a time many times its value: the y axis stops at 1.5 times the
    highest line (the band runs off the top) instead of flattening the lines; a modest band is drawn in full."""
    wide = charts.SweepLine("", [1.0, 2.0], [10.0, 20.0], [5.0, 0.0], [15.0, 40.0])  # log-scale band up to 54
    ax = charts.plot_sweep_lines([wide], title="t", xlabel="x", ylabel="y")
    assert pytest.approx(30.0) == ax.get_ylim()[1]
    modest = charts.SweepLine("", [1.0, 2.0], [10.0, 20.0], [8.0, 16.0], [12.0, 25.0])
    ax = charts.plot_sweep_lines([modest], title="t", xlabel="x", ylabel="y")
    assert ax.get_ylim()[1] >= 25.0
