"""Sweep report and ``--excel``: ``axis-sim report SWEEP_DIR`` in a real browser; CSV files with a byte-order mark.

One small sweep is made once for the module: national-2020 for 10 simulated hours (office hours 08:00-10:00
included), traffic x1 and x6, two replications, written with ``--excel``. The browser tests drive Debian's
Chromium as tests/test_report.py does (skip without it, fail when CI is set).
"""
from __future__ import annotations

import codecs
import csv
import json
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import pytest

from simulator.cli import main
from simulator.report import LANGUAGES, load_run_folder

from .test_report import Opened, browser, check_print  # noqa: F401 - the module-scoped Chromium fixture

ROOT = Path(__file__).parents[1]
SCENARIO = """extends = "{base}"
name = "small-sweep"
description = "Traffic x1 and x6 on the 2020 baseline"

[run]
horizon = "10h"
warmup = "0s"
replications = 2

[analysis]
threshold = 0.8

[sweep]
mode = "grid"

[[sweep.parameters]]
path = "traffic.multiplier"
values = [1.0, 6.0]
"""


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sweep, written with --excel."""
    base = tmp_path_factory.mktemp("sweep")
    scenario = base / "small-sweep.toml"
    scenario.write_text(SCENARIO.format(base=(ROOT / "scenarios" / "national-2020.toml").as_posix()), encoding="utf-8")
    assert 0 == main(["sweep", str(scenario), "--jobs", "2", "--quiet", "--excel", "-o", str(base / "out")])
    return base / "out"


def _points(folder: Path) -> list[dict[str, str]]:
    with open(folder / "points.csv", encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


# ---- --excel ----

def test_excel_csv_files_start_with_a_byte_order_mark_and_names_round_trip(sweep_folder: Path):
    """points.csv and each point's stations.csv / timeseries.csv start with EF BB BF; read back (utf-8-sig),
    the header has no stray mark and the Vietnamese names equal summary.json's, NFC."""
    point = sweep_folder / "points" / "p000"
    for file in (sweep_folder / "points.csv", point / "stations.csv", point / "timeseries.csv"):
        assert file.read_bytes().startswith(codecs.BOM_UTF8), file
    assert "point" == next(iter(_points(sweep_folder)[0]))
    with open(point / "stations.csv", encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    summary = json.loads((point / "summary.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in summary["stations"]] == [r["name"] for r in rows]
    names = {r["name"] for r in rows}
    assert "Tỉnh Thanh Hóa" in names and all(unicodedata.normalize("NFC", n) == n for n in names)
    assert "time_hours" in load_run_folder(point).timeseries  # the run report reads it despite the mark


# ---- the report of a sweep folder ----

def _first_over(rows: list[dict[str, str]], threshold: float) -> str | None:
    return next((r["point"] for r in rows if r["peak_utilization"] and float(r["peak_utilization"]) >= threshold), None)


def test_the_sweep_report_names_the_first_point_over_the_threshold(sweep_folder: Path, tmp_path: Path):
    """The answer and the marked row name the first point whose busiest interval reaches 80 % (from points.csv)."""
    from simulator.report import Locale
    from simulator.sweepreport import build_sweep_report, load_sweep_folder

    report = build_sweep_report(load_sweep_folder(sweep_folder), "en")
    expected = _first_over(_points(sweep_folder), 0.8)
    assert "p001" == expected  # x6 takes a platform's busiest interval past 80 % (x1 stays near 16 %): the case to show
    assert [expected] == [row.point for row in report.points if row.crossed]
    assert f"point {expected}" in report.answer[0] and "80.0%" in report.answer[0]
    assert ["peak", "throughput", "latency"] == [chart.key for chart in report.charts]
    assert "traffic multiplier" in Locale("en").parameter("traffic.multiplier")


@pytest.fixture(scope="module", params=LANGUAGES)
def opened(request: Any, browser: Any, sweep_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:  # noqa: F811
    """The sweep report in each language, open in Chromium."""
    output = tmp_path_factory.mktemp(f"sweep-{request.param}") / "report.html"
    assert 0 == main(["report", str(sweep_folder), "-o", str(output), "--lang", request.param])
    page = Opened(browser, output)
    yield page
    page.page.close()


def test_the_sweep_page_loads_without_errors_or_requests_and_shows_points_csv(opened: Opened, sweep_folder: Path):
    """No console error, no request but the file; every figure on the page is points.csv's value; three SVG charts."""
    assert [] == opened.errors
    assert [opened.page.url] == opened.requests
    rows = {r["point"]: r for r in _points(sweep_folder)}
    shown = opened.page.eval_on_selector_all(
        "#point-table tbody tr", "rows => rows.map(r => [r.dataset.point, [...r.querySelectorAll('[data-key]')]"
        ".map(c => [c.dataset.key, c.dataset.value])])")
    assert sorted(rows) == sorted(point for point, _ in shown)
    for point, cells in shown:
        assert {"peak_utilization", "throughput_per_day", "latency_p95_seconds"} <= {key for key, _ in cells}
        for key, value in cells:
            assert (float(rows[point][key]) if rows[point][key] else None) == (float(value) if value else None), key
    assert 3 == opened.page.locator("#charts figure svg").count()
    crossed = opened.page.eval_on_selector_all("#point-table tr.crossed", "rows => rows.map(r => r.dataset.point)")
    expected = _first_over(list(rows.values()), 0.8)
    assert crossed == ([expected] if expected else [])


def test_clicking_a_heading_sorts_the_points(opened: Opened):
    """The peak-utilisation heading sorts the points ascending, then descending."""
    headers = opened.page.locator("#point-table thead th")
    index = headers.count() - 3  # peak utilisation (then the busiest station and the headroom)
    for order in ("ascending", "descending"):
        headers.nth(index).click()
        values = [float(v) for v in opened.page.eval_on_selector_all(
            "#point-table tbody tr", f"rows => rows.map(r => r.cells[{index}].dataset.sort)")]
        assert values == sorted(values, reverse=order == "descending")
    assert [] == opened.errors


def test_an_unfinished_sweep_folder_is_refused_with_what_to_do(tmp_path: Path, capsys: Any):
    """runs.sqlite without points.csv (a sweep stopped before its end): exit 2, one line saying to rerun the sweep."""
    (tmp_path / "runs.sqlite").write_bytes(b"")
    assert 2 == main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert 1 == len(err.strip().splitlines()) and "has not finished" in err and "rerun axis-sim sweep" in err
    assert not (tmp_path / "r.html").exists()


def test_the_first_screen_of_the_sweep_report_is_not_blank(opened: Opened):
    """A screenshot of the first screen has text and charts on it (grey levels spread, not one flat colour)."""
    import io

    from PIL import Image, ImageStat

    opened.page.evaluate("window.scrollTo(0, 0)")
    image = Image.open(io.BytesIO(opened.page.screenshot())).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 20
    assert [] == opened.errors


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_hostile_scenario_name_is_text_in_the_sweep_report(browser: Any, sweep_folder: Path,  # noqa: F811
                                                              tmp_path: Path, lang: str):
    """<script>alert(1)</script> as the sweep's scenario name shows as those characters; no dialog opens."""
    import shutil

    from .test_report import HOSTILE

    hostile = tmp_path / "hostile"
    shutil.copytree(sweep_folder, hostile, ignore=shutil.ignore_patterns("points"))
    manifest = json.loads((hostile / "manifest.json").read_text(encoding="utf-8"))
    manifest["scenario"] = HOSTILE
    (hostile / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    output = tmp_path / "report.html"
    assert 0 == main(["report", str(hostile), "-o", str(output), "--lang", lang])
    opened = Opened(browser, output)
    try:
        assert HOSTILE == opened.page.inner_text("#scenario-name")
        assert [] == opened.dialogs and [] == opened.errors
    finally:
        opened.page.close()


def test_every_sweep_chart_has_a_one_line_reading(sweep_folder: Path):
    """The capacity curves each carry one sentence: the first point over the threshold, the range of copies per day
    and of the 95 % delivery time, with the points named (from points.csv)."""
    from simulator.report import Locale
    from simulator.sweepreport import build_sweep_report, load_sweep_folder

    rows = _points(sweep_folder)
    for lang in LANGUAGES:
        report = build_sweep_report(load_sweep_folder(sweep_folder), lang)
        readings = {chart.key: chart.reading for chart in report.charts}
        assert all(reading.endswith(".") and 1 == len(reading.splitlines()) for reading in readings.values()), readings
        assert _first_over(rows, 0.8) in readings["peak"]
        top = max(rows, key=lambda r: float(r["throughput_per_day"]))
        assert Locale(lang).number(float(top["throughput_per_day"])) in readings["throughput"] and top["point"] in readings["throughput"]


def test_the_sweep_folder_has_tables_xlsx_with_the_points_as_numbers(sweep_folder: Path):
    """tables.xlsx of a sweep folder: sheet "points", the header of points.csv, numbers as numbers, Vietnamese names
    intact, header row frozen; each point folder keeps its own summary, stations and timeseries sheets."""
    from openpyxl import load_workbook

    book = load_workbook(sweep_folder / "tables.xlsx")
    assert ["points"] == book.sheetnames
    sheet = book["points"]
    rows = _points(sweep_folder)
    assert list(rows[0]) == [c.value for c in sheet[1]] and len(rows) + 1 == sheet.max_row
    assert "A2" == sheet.freeze_panes
    for row, cells in zip(rows, sheet.iter_rows(min_row=2, values_only=True)):
        shown = dict(zip(rows[0], cells))
        assert isinstance(shown["peak_utilization"], float)
        assert float(row["peak_utilization"]) == pytest.approx(shown["peak_utilization"], rel=1e-15)
        assert row["peak_bottleneck"] == shown["peak_bottleneck"] and unicodedata.is_normalized("NFC", row["peak_bottleneck"])
    assert ["summary", "stations", "timeseries"] == load_workbook(sweep_folder / "points" / "p000" / "tables.xlsx").sheetnames


def test_the_sweep_report_prints_to_a4_with_sections_on_new_pages_and_no_cut_table(opened: Opened):
    """Print media at the width of an A4 page (tests/test_report.py's check_print)."""
    check_print(opened.page)
