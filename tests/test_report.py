"""Report: the planner's HTML page (in a real browser), its message catalogue and number formats, tables.xlsx.

The browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright. Without it they skip,
saying why; with the environment variable CI set (``.ci/run`` sets it) they fail instead.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import string
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import pytest

from simulator.cli import main
from simulator.report import LANGUAGES, Locale, format_number, format_percent, messages

ROOT = Path(__file__).parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run folder: national-2020 for one simulated day, no warm-up, two replications (so intervals)."""
    out = tmp_path_factory.mktemp("report") / "national"
    assert 0 == main(["run", str(ROOT / "scenarios" / "national-2020.toml"), "--set", "run.horizon=1d", "--set",
                      "run.warmup=0s", "--replications", "2", "--jobs", "1", "--quiet", "-o", str(out)])
    return out


@pytest.fixture(scope="module")
def hostile_folder(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder with a hostile scenario name and station name in summary.json."""
    out = tmp_path_factory.mktemp("hostile") / "hostile"
    shutil.copytree(run_folder, out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"] = HOSTILE
    summary["stations"][0]["name"] = HOSTILE
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    return out


def _report(folder: Path, lang: str, name: str | None = None) -> Path:
    output = folder.parent / (name or f"report-{lang}.html")
    assert 0 == main(["report", str(folder), "-o", str(output), "--lang", lang])
    return output


# ---- the message catalogue and number formats (no browser) ----

_NUMBER = {"vi": re.compile("-?\\d{1,3}(?:\u202f\\d{3})*(?:,\\d+)?"), "en": re.compile(r"-?\d{1,3}(?:,\d{3})*(?:\.\d+)?")}


def parse_number(text: str, lang: str) -> float:
    """The first number of a text as the language writes it (Vietnamese ``11\u202f020,5``, English ``11,020.5``)."""
    found = _NUMBER[lang].search(text)
    assert found, f"no {lang} number in {text!r}"
    number = found.group()
    number = number.replace("\u202f", "").replace(",", ".") if lang == "vi" else number.replace(",", "")
    return float(number)


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_key_is_in_every_language_with_the_same_placeholders():
    """en and vi have the same keys, every text non-empty, NFC, with the same {placeholders}."""
    english, vietnamese = messages("en"), messages("vi")
    assert set(english) == set(vietnamese)
    for key in english:
        assert english[key].strip() and vietnamese[key].strip(), key
        assert _placeholders(english[key]) == _placeholders(vietnamese[key]), key
    raw = (ROOT / "simulator" / "messages" / "vi.json").read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", raw) == raw
    assert "Câu trả lời" == vietnamese["section_answer"] and "Trạm" == vietnamese["col_station"]


def test_vietnamese_numbers_group_with_thin_spaces_and_mark_decimals_with_a_comma():
    """12 345,7 in Vietnamese (U+202F groups thousands), 12,345.7 in English; percentages, durations and factors alike."""
    assert "12\u202f345,7" == format_number(12345.678, "vi", 1)
    assert "1\u202f234\u202f567" == format_number(1234567, "vi") and "-1\u202f000,50" == format_number(-1000.5, "vi", 2)
    assert "." not in format_number(1234567.25, "vi", 2) and 1234567.25 == parse_number(format_number(1234567.25, "vi", 2), "vi")
    assert "12,345.7" == format_number(12345.678, "en", 1)
    assert "86,5%" == format_percent(0.865, "vi") and "86.5%" == format_percent(0.865, "en")
    assert "–" == format_number(float("nan"), "vi") and "–" == format_percent(None, "en")
    vi, en = Locale("vi"), Locale("en")
    assert "2,5 giờ" == vi.duration(9000) and "2.5 h" == en.duration(9000)
    assert "1 ngày" == vi.duration(86400) and "6,3 giây" == vi.duration(6.3) and "1,5 phút" == vi.duration(90)
    assert "3,1 lần" == vi.factor(3.06) and "3.1×" == en.factor(3.06)


def test_tables_xlsx_holds_the_three_tables_as_numbers(run_folder: Path):
    """tables.xlsx: summary, stations, timeseries; numbers stored as numbers, header frozen, Vietnamese intact."""
    import csv

    from openpyxl import load_workbook

    book = load_workbook(run_folder / "tables.xlsx")
    assert ["summary", "stations", "timeseries"] == book.sheetnames
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    rows = {row[0]: row[1:] for row in book["summary"].iter_rows(min_row=2, values_only=True)}
    same = lambda value: pytest.approx(value, rel=1e-15)  # noqa: E731 - openpyxl writes 16 significant digits
    assert same(summary["electronic_share"]) == rows["electronic_share"][0]
    assert same(summary["electronic_share_ci"]) == list(rows["electronic_share"][1:])
    assert same(summary["latency_seconds"]["p95"]) == rows["latency_seconds.p95"][0]
    with open(run_folder / "stations.csv", encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    sheet = book["stations"]
    assert table[0] == [c.value for c in sheet[1]]
    assert len(table) == sheet.max_row
    names = [c.value for c in sheet["B"][1:]]
    assert "Trục liên thông văn bản quốc gia (hub)" in names and any("Thanh Hóa" in n for n in names)
    utilization = table[0].index("utilization")
    assert all(isinstance(row[utilization], float) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert {"A2"} == {book[name].freeze_panes for name in book.sheetnames}
    assert "time_hours" == book["timeseries"]["B1"].value and isinstance(book["timeseries"]["B2"].value, (int, float))


def test_the_page_escapes_names_and_carries_everything_inside(hostile_folder: Path):
    """Autoescaping: a hostile name is text; no external reference (no src= or href= to anything but #anchors)."""
    html = _report(hostile_folder, "en", "hostile.html").read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert [] == [ref for ref in re.findall(r'(?:src|href)="([^"]*)"', html) if not ref.startswith("#")]
    assert "Content-Security-Policy" in html


def test_the_language_defaults_to_the_scenario_language_key_else_english(run_folder: Path, tmp_path: Path):
    """No --lang: the scenario.toml language key (when it names a catalogue language), else English."""
    output = tmp_path / "default.html"
    assert 0 == main(["report", str(run_folder), "-o", str(output)])
    assert '<html lang="en">' in output.read_text(encoding="utf-8")
    folder = tmp_path / "vi"
    shutil.copytree(run_folder, folder)
    scenario = folder / "scenario.toml"
    text = scenario.read_text(encoding="utf-8")
    assert 'language = "en"\n' in text  # written out with every default
    scenario.write_text(text.replace('language = "en"\n', 'language = "vi"\n', 1), encoding="utf-8")
    assert 0 == main(["report", str(folder)])
    assert '<html lang="vi">' in (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("arguments, words", [
    (["{missing}"], ["missing", "no such folder"]),
    (["{empty}"], ["empty", "not a result folder", "summary.json"]),
    (["{file}"], ["notes.txt", "is a file"]),
    (["{run}", "--lang", "fr"], ["--lang fr", "unknown language", "vi"]),
    (["{run}", "-o", "{missing}/r.html"], ["-o", "does not exist"]),
    (["{run}", "-o", "{empty}"], ["-o", "is a folder"]),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(run_folder: Path, tmp_path: Path, capsys: Any,
                                                             arguments: list[str], words: list[str]):
    """A missing folder, a folder that is no result, a file, an unknown language, a bad -o: exit 2, one line."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    places = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "file": tmp_path / "notes.txt", "run": run_folder}
    before = sorted(p.name for p in tmp_path.iterdir())
    assert 2 == main(["report", *(a.format(**places) for a in arguments)])
    err = capsys.readouterr().err
    assert 1 == len(err.strip().splitlines()) and "Traceback" not in err, err
    assert all(word in err for word in words), err
    assert before == sorted(p.name for p in tmp_path.iterdir())


# ---- in a real browser ----

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium through Playwright; skipped with the reason when missing, a failure when CI is set."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"no browser at {CHROMIUM} (apt-get install chromium)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the report's browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Opened:
    """A page opened from disk, with the console errors, requests and dialogs it produced."""

    def __init__(self, browser: Any, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")


@pytest.fixture(scope="module", params=LANGUAGES)
def opened(request: Any, browser: Any, run_folder: Path) -> Iterator[Opened]:
    """The report of the run folder, in each language, open in Chromium."""
    page = Opened(browser, _report(run_folder, request.param))
    yield page
    page.page.close()


def test_the_page_loads_without_errors_or_requests(opened: Opened):
    """No console error, no request but the file itself (no network, no external style, script or font)."""
    assert [] == opened.errors
    assert [opened.page.url] == opened.requests


def test_headline_figures_shown_equal_summary_json(opened: Opened, run_folder: Path):
    """Every data-key / data-value on the page is the figure of summary.json, and the main ones are there."""
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    shown = opened.page.eval_on_selector_all("[data-key][data-value]", "cells => cells.map(c => [c.dataset.key, c.dataset.value])")
    keys = {key for key, _ in shown}
    assert {"electronic_share", "documents_per_working_day", "throughput_per_day", "latency_seconds.mean",
            "latency_seconds.p95", "same_day_share", "bottleneck.utilization", "peak_bottleneck.utilization",
            "analytic.latency_mean_seconds", "analytic.bottleneck_utilization", "analytic.headroom"} <= keys
    for key, value in shown:
        node: Any = summary
        for part in key.split("."):
            node = node[part]
        assert node == float(value), key


def test_headline_texts_parse_back_to_summary_json(opened: Opened, run_folder: Path):
    """The text shown for a percentage or a count, parsed in the page's number format, is the summary's figure rounded."""
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    lang = opened.page.evaluate("document.documentElement.lang")
    shown = dict(opened.page.eval_on_selector_all("[data-key][data-value]", "cells => cells.map(c => [c.dataset.key, c.innerText])"))
    scales = {"electronic_share": 100, "same_day_share": 100, "bottleneck.utilization": 100,
              "peak_bottleneck.utilization": 100, "documents_per_working_day": 1, "throughput_per_day": 1}
    for key, scale in scales.items():
        value = summary
        for part in key.split("."):
            value = value[part]
        text = shown[key].splitlines()[0]
        if lang == "vi":
            assert "." not in text, text  # thousands are grouped with U+202F, decimals marked with a comma
        assert parse_number(text, lang) == pytest.approx(value * scale, abs=0.051 if scale == 100 else 0.51), (key, text)


def _column(opened: Opened, index: int) -> list[str]:
    return opened.page.eval_on_selector_all(
        "#stations tbody tr", f"rows => rows.filter(r => !r.hidden).map(r => r.cells[{index}].dataset.sort)")


def test_clicking_a_column_header_sorts_the_station_table(opened: Opened):
    """Servers: ascending on the first click, descending on the second; names sort as text; the kind filter filters."""
    page = opened.page
    header = page.locator("#stations thead th").nth(3)  # servers
    header.click()
    values = [float(v) for v in _column(opened, 3)]
    assert values == sorted(values) and len(set(values)) > 1
    assert "ascending" == header.get_attribute("aria-sort")
    header.click()
    assert [float(v) for v in _column(opened, 3)] == sorted(values, reverse=True)
    page.locator("#stations thead th").nth(0).click()
    names = _column(opened, 0)
    assert names != sorted(names, key=str.lower, reverse=True) and len(names) == len(set(names)) + names.count("")
    page.select_option("#kind-filter", "hub")
    assert 1 == len(_column(opened, 0)) and "1" == page.inner_text("#rows-shown")
    page.select_option("#kind-filter", "")
    assert [] == opened.errors


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_first_screen_is_not_blank(browser: Any, run_folder: Path, lang: str):
    """A screenshot of the first screen has many distinct pixels (text and colour, not a white page)."""
    from PIL import Image, ImageStat

    opened = Opened(browser, _report(run_folder, lang))
    png = opened.page.screenshot()
    opened.page.close()
    (run_folder.parent / f"first-screen-{lang}.png").write_bytes(png)  # to look at
    image = Image.open(io.BytesIO(png)).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 20
    assert sum(1 for count in image.histogram() if count) > 50  # grey levels in use


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_hostile_scenario_name_renders_as_text(browser: Any, hostile_folder: Path, lang: str):
    """<script>alert(1)</script> as the scenario and a station name shows as those characters; nothing runs."""
    opened = Opened(browser, _report(hostile_folder, lang, f"hostile-{lang}.html"))
    try:
        assert HOSTILE in opened.page.inner_text("#title")
        assert HOSTILE == opened.page.inner_text("#scenario-name")
        assert HOSTILE in opened.page.inner_text("#stations")
        assert [] == opened.dialogs and [] == opened.errors
        assert 1 == opened.page.locator("script").count()  # the page's own script only
    finally:
        opened.page.close()


def test_the_station_table_fits_a_1280_pixel_window(opened: Opened):
    """At 1280 x 900 no column of the station table (or any table) runs past its box: no sideways scrolling."""
    widths = opened.page.eval_on_selector_all(
        "table", "tables => tables.map(t => [t.id || t.className, t.scrollWidth, t.parentElement.clientWidth])")
    assert widths and all(inner <= outer for _, inner, outer in widths), widths
    assert opened.page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_vietnamese_station_names_carry_no_english_suffix(opened: Opened):
    """In Vietnamese "(platform)" becomes "(nền tảng tích hợp)" and the hub loses "(hub)"; agency names stay as
    written. In English the model's names are shown unchanged."""
    text = opened.page.inner_text("body")
    if opened.page.evaluate("document.documentElement.lang") == "vi":
        assert "(platform)" not in text and "(hub)" not in text
        assert "Tỉnh Thanh Hóa (nền tảng tích hợp)" in text and "Trục liên thông văn bản quốc gia" in text
        assert unicodedata.normalize("NFC", text) == text
    else:
        assert "Tỉnh Thanh Hóa (platform)" in text and "Trục liên thông văn bản quốc gia (hub)" in text


def test_headline_intervals_stay_in_the_figures_range():
    """Plain intervals below 0 % or 0 s are shown as the logit- or log-scale interval: no negative share or time."""
    from simulator.report import headline_figures

    summary = {"electronic_share": 0.02, "electronic_share_ci": [-0.1, 0.14], "latency_seconds": {"mean": 5.0,
               "mean_ci": [-3.0, 13.0]}, "stations": []}
    for lang in LANGUAGES:
        figures = {f.key: f for f in headline_figures(summary, Locale(lang))}
        for key in ("electronic_share", "latency_seconds.mean"):
            assert figures[key].interval_text and "-" not in figures[key].interval_text.replace(" – ", ""), figures[key]


def test_the_scenario_language_key_chooses_the_language_of_reports_and_charts(tmp_path: Path):
    """language = "vi" in the scenario makes Vietnamese the default of report and charts; an unknown one is exit 2."""
    from simulator.catalogue import scenario_language
    from simulator.errors import ScenarioError
    from simulator.scenario import load_scenario

    base = '[[agencies]]\nid = "A"\nname = "Bộ Tài chính"\n[[agencies]]\nid = "B"\nname = "Kiên Giang"\n'
    assert "en" == scenario_language(load_scenario(base))
    assert "vi" == scenario_language(load_scenario('language = "vi"\n' + base))
    with pytest.raises(ScenarioError, match="language"):
        load_scenario('language = "fr"\n' + base)


def test_every_chart_has_a_title_and_a_one_line_reading(run_folder: Path):
    """Each chart of the run report carries a title and one sentence that reads it in figures (the busiest station and
    its utilisation, the longest queue, the busiest interval), in each language; the page prints it under the chart."""
    from simulator.report import build_run_report, load_run_folder, render_run_report

    folder = load_run_folder(run_folder)
    busiest = max(folder.summary["stations"], key=lambda s: s["utilization"])
    for lang in LANGUAGES:
        report = build_run_report(folder, lang)
        assert ["utilization", "queues", "documents"] == [chart.key for chart in report.charts]
        for chart in report.charts:
            assert chart.title and chart.reading.endswith(".") and 1 == len(chart.reading.splitlines()), chart.key
        assert Locale(lang).station(busiest["name"]) in report.charts[0].reading
        assert Locale(lang).percent(busiest["utilization"]) in report.charts[0].reading
        html = render_run_report(report)
        assert len(report.charts) == html.count('<figcaption class="reading">')


def test_analytic_values_outside_the_interval_are_flagged_and_the_caveats_say_why():
    """An analytic value outside the simulated 95 % interval is marked as such and listed; the analytic model's caveats
    are shown in the reader's language; a different analytic bottleneck is named; the 80 % growth is in the answer."""
    from simulator.report import build_run_report, RunFolder, render_run_report

    summary = {"scenario": "s", "stations": [], "latency_seconds": {"mean": 5.0, "mean_ci": [4.5, 5.5]},
               "bottleneck": {"id": "a", "name": "Bộ Tài chính", "utilization": 0.5, "utilization_ci": [0.4, 0.6]},
               "analytic": {"latency_mean_seconds": 7.0, "bottleneck_id": "b", "bottleneck": "Tỉnh Thanh Hóa (platform)",
                            "bottleneck_utilization": 0.55, "headroom": 3.0, "exact": False,
                            "caveats": ["finite buffers: losses are ignored"]}}
    for lang, outside, caveat in (("en", "outside the 95% interval", "Finite buffers"),
                                  ("vi", "nằm ngoài khoảng tin cậy 95%", "Bộ đệm hữu hạn")):
        report = build_run_report(RunFolder(Path("x"), summary, {}, {}), lang)
        figures = {f.key: f for f in report.figures}
        assert figures["latency_seconds.mean"].outside and outside == figures["latency_seconds.mean"].verdict
        assert figures["bottleneck.utilization"].outside is None  # the analytic value is another station's
        assert figures["latency_seconds.mean"].label in report.theory.findings[0]
        assert any(Locale(lang).station("Tỉnh Thanh Hóa (platform)") in f for f in report.theory.findings)
        assert [caveat] == [c.split(":")[0] for c in report.theory.caveats]
        assert Locale(lang).factor(2.4) in report.answer[0] and Locale(lang).factor(3.0) in report.answer[0]
        html = render_run_report(report)
        assert outside in html and caveat in html


def test_every_caveat_the_analytic_model_writes_has_a_text_in_the_catalogue():
    """Each caveat simulator/analytic.py can write begins as one of report.CAVEATS, whose texts are in both languages."""
    from simulator.report import CAVEATS, caveat_text

    source = (ROOT / "simulator" / "analytic.py").read_text(encoding="utf-8")
    written = re.findall(r'notes\.append\("([^"]+)"', source)
    assert len(written) >= 9
    for caveat in written:
        for lang in LANGUAGES:
            assert caveat_text(caveat, Locale(lang)) != caveat, caveat
    assert all(key in messages(lang) for _, key in CAVEATS for lang in LANGUAGES)


#: The width an A4 page leaves for the text (210 mm less the 12 mm margins of report.css) in CSS pixels (96 per inch).
A4_TEXT_WIDTH = round((210 - 2 * 12) / 25.4 * 96)


def check_print(page: Any) -> None:
    """The page as printed on A4: each section after the first two starts a page, every table fits the text width
    (nothing cut at the right edge), a table's heading row repeats on each page with its text (the sort buttons,
    which Chromium leaves blank in a repeated heading, print as their text), and the PDF is A4."""
    page.set_viewport_size({"width": A4_TEXT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    try:
        breaks = page.eval_on_selector_all("section.page", "s => s.map(e => getComputedStyle(e).breakBefore)")
        assert breaks and {"page"} == set(breaks)
        widths = page.eval_on_selector_all("table", "ts => ts.map(t => [t.id || t.className, t.scrollWidth, "
                                           "t.parentElement.clientWidth])")
        assert widths and all(inner <= outer for _, inner, outer in widths), widths
        assert {"table-header-group"} == set(page.eval_on_selector_all("table thead", "h => h.map(e => getComputedStyle(e).display)"))
        assert {"contents"} == set(page.eval_on_selector_all("thead th button", "b => b.map(e => getComputedStyle(e).display)"))
        pdf = page.pdf(format="A4")
        size = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert size and abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2, size  # A4 in pt
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 900})


def test_the_run_report_prints_to_a4_with_sections_on_new_pages_and_no_cut_table(opened: Opened):
    """Print media at the width of an A4 page: see :func:`check_print`."""
    check_print(opened.page)


def test_the_structure_is_named_in_words_in_each_language(run_folder: Path):
    """The question names the built-in structure in the reader's language, not by its dataset key."""
    from simulator.report import build_run_report, load_run_folder

    folder = load_run_folder(run_folder)
    for lang in LANGUAGES:
        structure = build_run_report(folder, lang).facts.structure
        assert structure.startswith(messages(lang)["dataset_national-2020"]) and "national-2020" not in structure
