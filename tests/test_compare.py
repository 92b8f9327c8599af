"""Compare: ``axis-sim compare A B``: the Welch interval of a difference, station matching by id, refusals, the page.

Two small run folders are made once for the module (national-2020 for 12 simulated hours, two replications,
traffic x1 and x2). The browser tests drive Debian's Chromium as tests/test_report.py does (skip without it,
fail when CI is set).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from simulator.cli import main
from simulator.compare import Estimate, paired_difference, welch_difference
from simulator.report import LANGUAGES
from simulator.results import confidence_interval

from .test_report import HOSTILE, Opened, browser, check_print  # noqa: F401 - the module-scoped Chromium fixture

ROOT = Path(__file__).parents[1]
HEADLINE = ("electronic_share", "documents_per_working_day", "throughput_per_day", "latency_seconds.mean",
            "latency_seconds.p95", "same_day_share", "bottleneck.utilization", "peak_bottleneck.utilization")


def _run(out: Path, *settings: str) -> Path:
    sets = [arg for setting in settings for arg in ("--set", setting)]
    assert 0 == main(["run", str(ROOT / "scenarios" / "national-2020.toml"), "--set", "run.horizon=12h", "--set",
                      "run.warmup=0s", *sets, "--replications", "2", "--jobs", "1", "--quiet", "-o", str(out)])
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """national-2020 for 12 h (office hours 08:00-12:00 included), two replications; traffic x1 and x2."""
    base = tmp_path_factory.mktemp("compare")
    return _run(base / "base"), _run(base / "double", "traffic.multiplier=2")


def _summary(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _at(summary: dict[str, Any], key: str) -> Any:
    node: Any = summary
    for part in key.split("."):
        node = node[part]
    return node


# ---- statistics (no simulation) ----

@pytest.mark.parametrize("seed", range(20))
def test_the_welch_interval_from_two_intervals_equals_welch_on_the_values(seed: int):
    """From the 95 % intervals alone, the difference's interval and verdict equal Welch's test on the raw values.

    Tolerance: 1e-9 relative on the interval ends (only rounding differs); the verdict (interval excludes 0)
    equals scipy's Welch p-value < 0.05 in every case.
    """
    from scipy import stats

    rng = np.random.default_rng(seed)
    n_a, n_b = rng.integers(2, 9, size=2)
    a, b = rng.normal(10, 2, n_a), rng.normal(10 + rng.uniform(0, 4), rng.uniform(0.5, 4), n_b)
    d = welch_difference(Estimate(float(a.mean()), tuple(confidence_interval(a)), int(n_a)),
                         Estimate(float(b.mean()), tuple(confidence_interval(b)), int(n_b)))
    test = stats.ttest_ind(b, a, equal_var=False)
    low, high = test.confidence_interval(0.95)
    assert d.value == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    assert (d.low, d.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert d.significant == (test.pvalue < 0.05)


@pytest.mark.parametrize("seed", range(20))
def test_the_paired_interval_equals_scipys_paired_t_test(seed: int):
    """Paired by replication: the interval of the differences and the verdict equal scipy's ttest_rel (1e-9 relative)."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    common = rng.normal(10, 3, n)  # what the shared random numbers make common to both runs
    a, b = common + rng.normal(0, 0.5, n), common + rng.uniform(0, 1) + rng.normal(0, 0.5, n)
    d = paired_difference(Estimate(float(a.mean()), tuple(confidence_interval(a)), n, tuple(a)),
                          Estimate(float(b.mean()), tuple(confidence_interval(b)), n, tuple(b)))
    test = stats.ttest_rel(b, a)
    low, high = test.confidence_interval(0.95)
    assert (d.low, d.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert d.significant == (test.pvalue < 0.05)


def test_a_run_without_intervals_is_not_judged():
    """One replication: the difference is shown, its significance is unknown (None), never "not significant"."""
    d = welch_difference(Estimate(1.0, None, 1), Estimate(2.0, (1.5, 2.5), 3))
    assert (1.0, None, None, None) == (d.value, d.low, d.high, d.significant)
    assert welch_difference(Estimate(None, None, 1), Estimate(2.0, None, 1)).value is None


# ---- the command ----

def test_compare_prints_the_figures_and_writes_the_page(runs: tuple[Path, Path], tmp_path: Path, capsys: Any):
    """Exit 0; the terminal table names both runs, every figure row and the method; the page is written."""
    output = tmp_path / "compare.html"
    assert 0 == main(["compare", str(runs[0]), str(runs[1]), "-o", str(output), "--lang", "en"])
    out = capsys.readouterr().out
    assert "national-2020 (base)" in out and "national-2020 (double)" in out  # same scenario name: folder added
    assert "Electronic copies delivered per day" in out and "Welch" in out
    html = output.read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Content-Security-Policy" in html


def _page(runs: tuple[Path, Path], folder: Path, lang: str, *extra: str) -> str:
    output = folder / f"compare-{lang}.html"
    assert 0 == main(["compare", str(runs[0]), *extra, str(runs[1]), "-o", str(output), "--lang", lang])
    return output.read_text(encoding="utf-8")


def test_stations_are_matched_by_id_not_by_name_or_order(runs: tuple[Path, Path], tmp_path: Path):
    """Renaming every station of B and reversing its list changes nothing in the station comparison."""
    from simulator.compare import build_comparison, load_comparison

    renamed = tmp_path / "renamed"
    shutil.copytree(runs[1], renamed)
    summary = _summary(renamed)
    for station in summary["stations"]:
        station["name"] = "x" + station["name"]
    summary["stations"].reverse()
    (renamed / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    compared = [{s.id: (s.utilization, s.utilization_differences, s.wait_differences)
                 for s in build_comparison(load_comparison([runs[0], b]), "en").stations} for b in (runs[1], renamed)]
    assert compared[0] == compared[1] and len(compared[0]) == len(summary["stations"])
    utilization = {s["id"]: s["utilization"] for s in summary["stations"]}
    assert all(values[1] == utilization[ident] for ident, (values, _, _) in compared[1].items())


@pytest.mark.parametrize("arguments, words", [
    (["{base}"], ["two or more run folders"]),
    (["{base}", "{empty}"], ["empty", "not a result folder"]),
    (["{base}", "{sweep}"], ["sweep", "is a sweep folder", "points"]),
    (["{base}", "{other}"], ["other", "no station id in common", "different structures"]),
    (["{base}", "{hubonly}"], ["hubonly", "only the national hub in common", "different structures"]),
    (["{base}", "{double}", "--lang", "fr"], ["--lang fr", "unknown language"]),
])
def test_compare_refuses_what_it_cannot_compare_with_exit_2(runs: tuple[Path, Path], tmp_path: Path, capsys: Any,
                                                            arguments: list[str], words: list[str]):
    """Not a result folder, a sweep folder, no common station, one folder, a bad language: exit 2, the folder named."""
    (tmp_path / "empty").mkdir()
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "points.csv").write_text("point\n", encoding="utf-8")
    other = tmp_path / "other"
    shutil.copytree(runs[1], other)
    summary = _summary(other)
    for station in summary["stations"]:
        station["id"] = "elsewhere:" + station["id"]
    (other / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    hubonly = tmp_path / "hubonly"  # another structure: every station but the hub has an id of its own
    shutil.copytree(runs[1], hubonly)
    summary = _summary(hubonly)
    for station in summary["stations"]:
        station["id"] = station["id"] if station["kind"] == "hub" else "elsewhere:" + station["id"]
    (hubonly / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    places = {"base": runs[0], "double": runs[1], "empty": tmp_path / "empty", "sweep": sweep, "other": other,
              "hubonly": hubonly}
    assert 2 == main(["compare", *(a.format(**places) for a in arguments), "-o", str(tmp_path / "c.html")])
    err = capsys.readouterr().err
    assert 1 == len(err.strip().splitlines()) and "Traceback" not in err, err
    assert all(word in err for word in words), err
    assert not (tmp_path / "c.html").exists()


def test_replications_csv_holds_each_replication_and_its_mean_is_the_summary(runs: tuple[Path, Path]):
    """replications.csv: the mean over replications of each headline figure and station utilisation is summary.json's
    value (1e-12 relative: the same floats, averaged in the same order)."""
    from simulator.compare import replication_values
    from simulator.report import load_run_folder

    folder = load_run_folder(runs[0])
    values = replication_values(folder)
    assert values is not None
    for key in HEADLINE[:6]:
        assert 2 == len(values[(key, "")])
        assert np.mean(values[(key, "")]) == pytest.approx(_at(folder.summary, key), rel=1e-12), key
    for key, figure in (("bottleneck", "utilization"), ("peak_bottleneck", "peak_utilization")):  # the station's own
        summary = folder.summary[key]
        assert np.mean(values[(figure, summary["id"])]) == pytest.approx(summary["utilization"], rel=1e-12), key
    for station in folder.summary["stations"][:20]:
        assert np.mean(values[("utilization", station["id"])]) == pytest.approx(station["utilization"], rel=1e-12)


def test_runs_with_the_same_seed_are_paired_else_welch(runs: tuple[Path, Path], tmp_path: Path):
    """Same seed and replications.csv in both: paired by replication. Without the file in one folder: Welch,
    and the page says so."""
    from simulator.compare import build_comparison, load_comparison, paired_runs

    assert (True,) == paired_runs(load_comparison(list(runs)))
    assert "paired by replication" in build_comparison(load_comparison(list(runs)), "en").method
    older = tmp_path / "older"
    shutil.copytree(runs[1], older)
    (older / "replications.csv").unlink()
    folders = load_comparison([runs[0], older])
    assert (False,) == paired_runs(folders)
    assert "Welch" in build_comparison(folders, "en").method and "paired by" not in build_comparison(folders, "en").method


def test_the_answer_says_when_the_bottleneck_moves(runs: tuple[Path, Path], tmp_path: Path):
    """The bottleneck is matched by id: the same id stays (whatever its name), another id moves."""
    from simulator.compare import build_comparison, load_comparison

    def answer(bottleneck: dict[str, Any]) -> str:
        folder = tmp_path / bottleneck["id"].replace(":", "-")
        shutil.copytree(runs[1], folder)
        summary = _summary(folder)
        summary["bottleneck"].update(bottleneck)
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
        return " ".join(build_comparison(load_comparison([runs[0], folder]), "vi").answer)

    first = _summary(runs[0])["bottleneck"]
    assert "điểm nghẽn vẫn là" in answer({"id": first["id"], "name": "renamed"})
    moved = answer({"id": "platform:ca-mau", "name": "Tỉnh Cà Mau (platform)"})
    assert "điểm nghẽn chuyển từ" in moved and "sang Tỉnh Cà Mau (nền tảng tích hợp)" in moved


def test_without_excel_the_csv_files_have_no_byte_order_mark(runs: tuple[Path, Path]):
    """The default stays plain UTF-8 (``--excel`` adds the mark; tests/test_report_sweep.py)."""
    import codecs

    for name in ("stations.csv", "timeseries.csv"):
        assert not (runs[0] / name).read_bytes().startswith(codecs.BOM_UTF8)


# ---- in a real browser ----

@pytest.fixture(scope="module", params=LANGUAGES)
def compared(request: Any, browser: Any, runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:
    """The comparison of the two runs, in each language, open in Chromium."""
    page = Opened(browser, _written(runs, tmp_path_factory.mktemp(f"page-{request.param}"), request.param))
    yield page
    page.page.close()


def _written(runs: tuple[Path, Path], folder: Path, lang: str) -> Path:
    _page(runs, folder, lang)
    return folder / f"compare-{lang}.html"


def test_the_comparison_loads_without_errors_or_requests(compared: Opened):
    """No console error, no request but the file itself."""
    assert [] == compared.errors
    assert [compared.page.url] == compared.requests


def test_figures_shown_equal_summary_json_and_the_differences_have_the_right_sign(compared: Opened,
                                                                                    runs: tuple[Path, Path]):
    """Each run's figure on the page is summary.json's value; each difference is B - A (doubling the traffic
    doubles the copies delivered: a positive, significant difference)."""
    summaries = [_summary(folder) for folder in runs]
    rows = compared.page.eval_on_selector_all("table.figures tr[data-key]", """rows => rows.map(r => [r.dataset.key,
        [...r.querySelectorAll('td.figure')].map(c => c.dataset.value),
        [...r.querySelectorAll('td.difference')].map(c => [c.dataset.difference, c.dataset.significant])])""")
    shown = {key: (values, differences) for key, values, differences in rows}
    assert set(HEADLINE) <= set(shown)
    for key in HEADLINE:
        values, [(difference, _)] = shown[key]
        expected = [_at(s, key) for s in summaries]
        assert [float(v) if v else None for v in values] == expected, key
        if None not in expected:
            assert float(difference) == pytest.approx(expected[1] - expected[0], rel=1e-12, abs=1e-12), key
    throughput = shown["throughput_per_day"][1][0]
    assert float(throughput[0]) > 0 and "yes" == throughput[1]
    assert _at(summaries[1], "throughput_per_day") > 1.5 * _at(summaries[0], "throughput_per_day")
    language = compared.page.evaluate("document.documentElement.lang")
    answer = compared.page.inner_text("#answer")
    assert ("So sánh" in compared.page.inner_text("#title")) == (language == "vi")
    if language == "vi":  # the platform suffix translated, the agency names as they are
        assert "nền tảng tích hợp" in answer and "(platform)" not in answer and "Thành phố" in answer
    else:
        assert "bottleneck" in answer


def test_the_comparison_table_sorts_and_the_first_screen_is_not_blank(compared: Opened):
    """Clicking the utilisation difference heading sorts the station table; the first screen has content."""
    import io

    from PIL import Image, ImageStat

    page = compared.page
    headers = page.locator("#stations thead th")
    headers.nth(headers.count() - 1).click()
    values = page.eval_on_selector_all("#stations tbody tr", "rows => rows.map(r => r.cells[r.cells.length - 1].dataset.sort)")
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers) and len(numbers) > 10
    page.evaluate("window.scrollTo(0, 0)")
    image = Image.open(io.BytesIO(page.screenshot())).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 20
    assert [] == compared.errors


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_hostile_scenario_name_is_text_in_the_comparison(browser: Any, runs: tuple[Path, Path], tmp_path: Path,  # noqa: F811
                                                           lang: str):
    """<script>alert(1)</script> as the scenario name of B shows as those characters; no dialog opens."""
    hostile = tmp_path / "hostile"
    shutil.copytree(runs[1], hostile)
    summary = _summary(hostile)
    summary["scenario"] = HOSTILE
    (hostile / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    opened = Opened(browser, _written((runs[0], hostile), tmp_path, lang))
    try:
        assert HOSTILE in opened.page.inner_text("#title")
        assert [] == opened.dialogs and [] == opened.errors
        assert 1 == opened.page.locator("script").count()
    finally:
        opened.page.close()


def test_the_comparison_prints_to_a4_with_sections_on_new_pages_and_no_cut_table(compared: Opened):
    """Print media at the width of an A4 page (tests/test_report.py's check_print)."""
    check_print(compared.page)


def test_each_runs_interval_is_shown_inside_the_figures_range():
    """A share of 99.8 % whose plain interval reaches 100.2 % is shown with its logit-scale interval (never above
    100 %), a time's never below 0; a station change that does not show in the figures ("3.8% → 3.8%") makes no
    sentence."""
    from simulator.compare import build_comparison
    from simulator.report import RunFolder

    def folder(name: str, share: float, use: float) -> RunFolder:
        summary = {"scenario": name, "seed": 1, "replications": 3, "same_day_share": share,
                   "same_day_share_ci": [share - 0.004, share + 0.004],
                   "latency_seconds": {"mean": 2.0, "mean_ci": [-1.0, 5.0]},
                   "stations": [{"id": "hub", "kind": "hub", "name": "Trục (hub)", "utilization": use,
                                 "utilization_ci": [use - 0.0001, use + 0.0001]}]}
        return RunFolder(Path(name), summary, {}, {})

    for lang in LANGUAGES:
        comparison = build_comparison([folder("a", 1.0, 0.0381), folder("b", 0.998, 0.0379)], lang)
        figures = {f.key: f for f in comparison.figures}
        shown = figures["same_day_share"].intervals[1]
        assert shown and "100,2" not in shown and "100.2" not in shown, shown
        assert "-" not in figures["latency_seconds.mean"].intervals[0].replace(" – ", ""), figures["latency_seconds.mean"]
        assert not any("3.8% → 3.8%" in s or "3,8% → 3,8%" in s for s in comparison.answer), comparison.answer
