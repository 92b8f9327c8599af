"""The documentation builds with warnings as errors, and its code examples run.

``docs/`` is a Sphinx site (MyST Markdown pages, numpydoc docstrings, the scenario reference generated
from :func:`simulator.scenario.json_schema`). These tests

* build it exactly as the README says, ``python -m sphinx -W -b html docs docs/_build/html`` (into a
  temporary folder), so a broken cross-reference, a docstring numpydoc cannot parse or a page left out
  of every table of contents fails the suite;
* run every ``bash`` and ``python`` code block of the pages, in order, page by page, in a temporary
  folder holding a copy of ``scenarios/``, at a reduced scale: ``axis-sim run``, ``sweep`` and
  ``capacity`` get ``--set run.horizon=9h --set run.warmup=0s`` (the first office hour of Monday 23 March
  2020 for the dated scenarios), one job, one replication, a sweep keeps one of its points and a
  capacity search one evaluation; ``axis-sim`` lines run in this process (``simulator.cli.main``); a ``toml`` block whose first line is ``# file: NAME`` is written
  to that file first (the scenarios the how-to guides write); in Python, ``simulator.load_scenario`` returns the scenario
  with the same changes. ``pip install`` lines are skipped (the package is installed), and so is a
  block whose first line says ``(not run by the tests: REASON)``, with a REASON of :data:`NOT_RUN`
  (one that needs a cluster, or runs the whole suite): such a block is checked instead (its
  commands parse with the program's own argument parser, its Python compiles and calls existing
  arguments, the command it defers to runs elsewhere);
* run the README's quickstart command the same way, and check that its other two commands are those of
  ``.ci/run`` and of the build;
* check that the output of ``axis-sim check`` shown on a page is what it prints today (the analytic model
  is deterministic and quick at full scale);
* check that every other ``toml`` block is valid TOML, and a valid scenario on top of ``national-2020.toml``
  when it is a scenario fragment;
* check that every module of the package but the engine and the command line has a page in the API
  reference, and that its public functions have numpydoc Parameters and Returns sections;
* check that every file, key and column a run, a sweep and a capacity search write (those of the
  tutorial and the how-to guides) is named in ``docs/reference/outputs.md``, and every column of a
  traced run's exchange log in ``docs/background/traces.md``.

Without Sphinx (the ``docs`` extra) the build test skips and says why; with the environment variable
``CI`` set (``.ci/run`` sets it) it fails instead, as the report's browser tests do.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .test_report import browser  # noqa: F401 - the module-scoped Chromium fixture (skips, or fails in CI)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The scale the examples run at: the first office hour of the first day, no warm-up.
REDUCED = {"run.horizon": "9h", "run.warmup": "0s"}
SKIP_MARK = "not run by the tests"
#: The working folder of each page whose blocks ran (the outputs test reads the tutorial's result folder).
_FOLDERS: dict[str, Path] = {}
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                    re.S | re.M)
#: A TOML block whose first line is ``# file: NAME`` is written to NAME before the blocks after it run.
_FILE = re.compile(r"#\s*file:\s*(?P<name>[\w.\-/]+\.toml)\s*\n")
_COMMAND = re.compile(r"^(?P<head>(?:axis-sim|python -m simulator)\s+(?P<command>run|sweep|capacity|check)\b)(?P<rest>.*)$")


def _pages() -> list[Path]:
    """The Markdown pages of the site (not the build, not what the build generates)."""
    return sorted(p for p in DOCS.rglob("*.md") if not {"_build", "_generated", "generated"} & set(p.relative_to(DOCS).parts))


def _blocks(page: Path) -> list[tuple[str, str]]:
    """(language, code) of every ``bash`` and ``python`` block of ``page``, and of every ``# file:`` TOML block, in order."""
    found = []
    for match in _FENCE.finditer(page.read_text(encoding="utf-8")):
        language = match["info"].strip()
        body = match["body"]
        if language in {"bash", "python"} and SKIP_MARK not in body.splitlines()[0]:
            found.append((language, body))
        elif language == "toml" and _FILE.match(body):
            found.append((language, body))
    return found


def _pages_with_code() -> list[Path]:
    return [page for page in _pages() if _blocks(page)]


def _sphinx_missing() -> str | None:
    for module in ("sphinx", "myst_parser", "numpydoc", "sphinxarg", "latex2mathml"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[docs]')"
    return None


def _require_sphinx() -> None:
    reason = _sphinx_missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the documentation cannot be built in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for the module with ``python -m sphinx -W -b html docs OUT``: the HTML folder."""
    _require_sphinx()
    out = tmp_path_factory.mktemp("docs")
    completed = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                                "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                               cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert completed.returncode == 0, completed.stderr[-4000:]
    return out / "html"


def test_docs_build_with_warnings_as_errors(site: Path) -> None:
    """``python -m sphinx -W -b html docs OUT`` exits 0: no warning anywhere in the site."""
    assert (site / "reference" / "scenario.html").exists()
    scenario_page = (site / "reference" / "scenario.html").read_text(encoding="utf-8")
    assert "timeseries_interval" in scenario_page and "units_per_ministry" in scenario_page
    cli_page = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for command in ("run", "sweep", "capacity", "check", "schema", "fit", "verify", "report", "compare"):
        assert f'id="axis-sim-{command}"' in cli_page, f"the CLI reference does not show the command {command}"
    # options as typed: no typographic dash or quote made of the program's help text ("--set", not an en dash)
    assert "--set run.horizon=365d" in cli_page and "\u2013set" not in cli_page and "\u201c" not in scenario_page
    # the API reference is autodoc/autosummary rendered by numpydoc: a function's page has its sections as field lists
    for function in ("load_scenario", "apply_parameters", "run", "sweep"):
        api_page = (site / "reference" / "generated" / f"simulator.{function}.html").read_text(encoding="utf-8")
        for section in ("Parameters", "Returns"):
            assert re.search(rf'<dt class="field-\w+">{section}<', api_page), f"simulator.{function}: no {section} rendered"
    # pydantic's machinery is not documented as if it were the scenario format
    scenario_api = (site / "reference" / "generated" / "simulator.scenario.html").read_text(encoding="utf-8")
    assert "model_config" not in scenario_api and "Bases:" not in scenario_api
    # no page of the site loads a script, style sheet or font from the network (MathJax from a CDN did)
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)
    for html in site.rglob("*.html"):
        found = remote.search(html.read_text(encoding="utf-8"))
        assert found is None, f"{html.relative_to(site)} loads {found[0]}"


def test_scenario_reference_is_the_validators_schema(site: Path) -> None:
    """The scenario reference is generated from ``simulator.scenario.json_schema()`` at build time: every key of
    every table of the schema is on the built page, and every row gives a type (with its unit), a default
    (or "required" / "unset"), an example and a description."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from axisdocs import scenario_reference
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    from simulator.scenario import json_schema

    schema = json_schema()
    text = scenario_reference(schema)
    page = (site / "reference" / "scenario.html").read_text(encoding="utf-8")
    models = [schema, *(model for name, model in schema["$defs"].items() if not name.endswith("Override"))]
    for model in models:
        for key in model["properties"]:
            assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{key}</span></code>" in page, key
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) >= sum(len(model["properties"]) for model in models) > 100
    for row in rows:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert len(cells) == 5 and all(cells), f"an empty cell: {row}"


# ---- the built site in a real browser ----

#: page -> (start of its <title>, its first heading, a string that must be in its text)
BROWSED = {
    "index.html": ("axis-simulator", "axis-simulator", "Trục liên thông văn bản quốc gia"),
    "tutorial.html": ("Tutorial: the bottleneck and headroom of the 2020 axis",
                      "Tutorial: the bottleneck and headroom of the 2020 axis", "national-2020"),
    "reference/scenario.html": ("Scenario format", "Scenario format", "timeseries_interval"),
    "background/analytic.html": ("The analytic model: equations", "The analytic model: equations", "Jackson"),
    "vi/index.html": ("Tài liệu tiếng Việt", "Tài liệu tiếng Việt", "Trục liên thông văn bản quốc gia"),
    "vi/tutorial.html": ("Hướng dẫn nhập môn: điểm nghẽn và dư địa của Trục năm 2020",
                         "Hướng dẫn nhập môn: điểm nghẽn và dư địa của Trục năm 2020",
                         "nền tảng tích hợp của tỉnh Thanh Hóa"),
    "vi/howto/province.html": ("Viết kịch bản cho một tỉnh", "Viết kịch bản cho một tỉnh", "Thanh Hóa"),
}
#: Screenshots of these pages go to the folder named by AXIS_DOCS_SCREENSHOTS, when it is set (to look at them).
SCREENSHOTS = {"index.html": "index.png", "background/analytic.html": "analytic.png", "tutorial.html": "tutorial.png",
               "reference/scenario.html": "scenario.png", "vi/index.html": "vi-index.png", "vi/tutorial.html": "vi-tutorial.png",
               "vi/howto/province.html": "vi-province.png"}


@pytest.mark.parametrize("name", list(BROWSED))
def test_site_pages_open_offline_in_a_browser(name: str, site: Path, browser: Any) -> None:  # noqa: F811
    """A page of the built site opened from disk in headless Chromium: no console or script error, no request
    but file:// (the theme fetches no font, style or script from the network), the right title and first
    heading, and its known text in the DOM in Unicode NFC (the Vietnamese diacritics as written)."""
    import unicodedata

    title, heading, text = BROWSED[name]
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto((site / name).as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert [url for url in requests if not url.startswith("file://")] == []
        assert page.title().startswith(title), page.title()
        assert page.inner_text("h1").strip().rstrip("\uf0c1¶#").strip() == heading
        body = page.inner_text("body")
        assert unicodedata.normalize("NFC", text) in body
        assert unicodedata.normalize("NFC", body) == body
        # the theme's style sheet applied: the body text is not the browser's default serif at 16px in black
        assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
        assert page.evaluate("document.documentElement.lang") == ("vi" if name.startswith("vi/") else "en")
        # equations are MathML laid out by the browser (no MathJax): each has a size
        for width in page.eval_on_selector_all("math", "nodes => nodes.map(n => n.getBoundingClientRect().width)"):
            assert width > 0
        shots = os.environ.get("AXIS_DOCS_SCREENSHOTS")
        if shots and name in SCREENSHOTS:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / SCREENSHOTS[name]), full_page=False)
    finally:
        page.close()


def _sweep_options(command: list[str], workdir: Path) -> list[str]:
    """``--set`` options keeping the first value of every parameter of a sweep: one point."""
    import simulator

    file = next(a for a in command[2:] if a.endswith(".toml"))
    scenario = simulator.load_scenario(workdir / file)
    options = []
    for index, parameter in enumerate(scenario.sweep.parameters):
        values = list(parameter.values)[:1]
        options += ["--set", f"sweep.parameters[{index}].values={json.dumps(values)}"]
    return options


def _reduced(line: str, workdir: Path) -> str:
    """``line`` with a simulating command cut to the reduced scale; any other line as it is."""
    code = line.split(" #", 1)[0].rstrip()
    match = _COMMAND.match(code)
    if match is None or match["command"] == "check":
        return code
    words = shlex.split(code)
    extra = [option for key, value in REDUCED.items() for option in ("--set", f"{key}={value}")] + ["--jobs", "1"]
    if match["command"] == "run":
        extra += ["--replications", "1"]
    elif match["command"] == "sweep":
        extra += ["--replications", "1", *_sweep_options(words, workdir)]
    elif match["command"] == "capacity":
        extra += ["--replications", "1", "--max-evaluations", "1"]
    return shlex.join(words + extra)


def _in_process(line: str) -> list[str] | None:
    """The arguments of an ``axis-sim`` line that needs no shell (no redirection, pipe or list), else None."""
    if not re.match(r"(axis-sim|python -m simulator)\s", line):
        return None
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    if any(word and set(word) <= set("();<>|&") for word in words):
        return None
    return words[1:] if words[0] == "axis-sim" else words[3:]


def _run_shell(code: str, workdir: Path) -> None:
    """The lines of a bash block, in order: an ``axis-sim`` command in this process (``simulator.cli.main``:
    the same code as the console script, without starting Python and importing the package once more for
    every command, which took about 2 s a command), any other line (a redirection, a pipe) in bash."""
    from simulator.cli import main

    lines = [_reduced(line, workdir) for line in code.splitlines()
             if not re.match(r"\s*(python -m )?pip install\b", line)]
    environment = dict(os.environ, MPLBACKEND="Agg", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    pending: list[str] = []

    def flush() -> None:
        if not "".join(pending).strip():
            pending.clear()
            return
        script = "set -euo pipefail\n" + "\n".join(pending) + "\n"
        pending.clear()
        completed = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True,
                                   env=environment, timeout=120)
        assert completed.returncode == 0, f"{script}\nexit {completed.returncode}\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"

    previous = Path.cwd()
    for line in lines:
        arguments = _in_process(line)
        if arguments is None:
            pending.append(line)
            continue
        flush()
        os.chdir(workdir)
        try:
            status = main(arguments)
        except SystemExit as exit:  # --version, --help
            status = exit.code or 0
        finally:
            os.chdir(previous)
        assert status == 0, f"{line}: exit {status}"
    flush()


#: A Python block that starts a Dask LocalCluster (howto/dask.md) is compiled, not run: starting the cluster
#: took about 20 s, and tests/test_experiment.py::test_dask_cluster_gives_the_same_results runs the same
#: thing (simulator.run on a two-worker LocalCluster equal to a local run).
CLUSTER_BLOCK = "LocalCluster("


def _check_cluster_block(code: str) -> None:
    """The block compiles, and the names it uses exist with the keyword arguments it passes."""
    import inspect

    import simulator

    compile(code, "<docs block>", "exec")
    pytest.importorskip("dask.distributed").LocalCluster  # noqa: B018 - the name the block imports
    parameters = inspect.signature(simulator.run).parameters
    for keyword in re.findall(r"simulator\.run\([^)]*?\b(\w+)=", code) + re.findall(r",\s*(\w+)=", code):
        if keyword in {"n_workers", "threads_per_worker", "processes", "dashboard_address"}:
            continue
        assert keyword in parameters, f"simulator.run has no argument {keyword}"


def _run_python(code: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulator
    from simulator.scenario import apply_parameters, load_scenario

    monkeypatch.setattr(simulator, "load_scenario", lambda *a, **k: apply_parameters(load_scenario(*a, **k), REDUCED))
    monkeypatch.chdir(workdir)
    exec(compile(code, "<docs block>", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("page", _pages_with_code(), ids=lambda p: str(p.relative_to(DOCS)))
def test_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bash and python block of a page runs, in order, at the reduced scale, and exits 0.

    A Vietnamese page whose commands are those of its English page is skipped (the same commands ran
    already), so the suite stays quick.
    """
    blocks = _blocks(page)
    if page.relative_to(DOCS).parts[0] == "vi":
        twin = DOCS / page.relative_to(DOCS / "vi")
        if twin.exists() and _commands(twin) == _commands(page):
            pytest.skip(f"the same commands as {twin.relative_to(DOCS)}, which runs them")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")  # a copy: a block may write next to the scenarios
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _FOLDERS[page.relative_to(DOCS).as_posix()] = tmp_path
    for language, code in blocks:
        if language == "toml":
            target = tmp_path / _FILE.match(code)["name"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code, encoding="utf-8")
        elif language == "bash":
            _run_shell(code, tmp_path)
        elif CLUSTER_BLOCK in code:
            _check_cluster_block(code)
        else:
            _run_python(code, tmp_path, monkeypatch)


#: Why a block may be left out of the runs, and what is checked instead. A block marked ``(not run by the tests:
#: REASON)`` must give one of these reasons (its start), so a block cannot be switched off without saying why here.
NOT_RUN = {
    "starts a long-running scheduler": "the `dask` command is installed with the `dask` extra",
    "needs a scheduler at that address": "the `dask` command is installed with the `dask` extra",
    "needs a running cluster": "its commands parse; its Python compiles and passes only arguments the functions take",
    "about 30 s": "tests/test_theory.py::test_verification_suite_passes runs the same reference cases",
    "the tutorial has the same": "the commands are in the tutorial's blocks, which run",
    "a summary with placeholders": "every line parses with the program's own argument parser",
    "runs the whole test suite": "this is the suite; the command is .ci/run's",
    "the build test runs it": "test_docs_build_with_warnings_as_errors runs the same build",
}
_NOT_RUN_MARK = re.compile(r"^#\s*\(not run by the tests:\s*(?P<reason>[^)]*)")
#: What the capitalised words of a summary block stand for when its commands are parsed.
_PLACEHOLDERS = {"SCENARIO": "scenarios/national-2020.toml", "RESULT_DIR_A": "results/a", "RESULT_DIR_B": "results/b",
                 "RESULT_DIR": "results/a", "OUT": "results/out", "LOG": "trace.parquet", "FILE": "scenarios/national-2020.toml"}


def _not_run_blocks(page: Path) -> list[tuple[str, str, str]]:
    """(language, reason, code) of every block of ``page`` marked as not run by the tests."""
    found = []
    for match in _FENCE.finditer(page.read_text(encoding="utf-8")):
        language, body = match["info"].strip(), match["body"]
        mark = _NOT_RUN_MARK.match(body)
        if language in {"bash", "python"} and mark:
            found.append((language, mark["reason"].strip(), body))
    return found


def _check_call_keywords(code: str) -> None:
    """The block compiles, and every keyword it passes to a function of ``simulator`` is one that function takes."""
    import inspect

    import simulator

    compile(code, "<docs block>", "exec")
    for function, arguments in re.findall(r"simulator\.(\w+)\((.*?)\)\s*$", code, flags=re.S | re.M):
        parameters = inspect.signature(getattr(simulator, function)).parameters
        for keyword in re.findall(r"(?:^|[,(]\s*)(\w+)=", arguments):
            assert keyword in parameters, f"simulator.{function} has no argument {keyword}"


def _check_command_line(line: str) -> None:
    """An ``axis-sim`` line parses with the program's parser (placeholders replaced by real paths)."""
    from simulator.cli import _parser

    code = line.split(" #", 1)[0].strip()
    if not code or code.startswith("#") or "..." in code:
        return
    words = [_PLACEHOLDERS.get(word, word) for word in shlex.split(code)]
    if ">" in words:  # a redirection of the output
        words = words[:words.index(">")]
    if words[0] in {"pip", "python"} and words[1:3] in (["install", "."], ["-m", "pytest"], ["-m", "sphinx"]) or words[:2] == ["pip", "install"]:
        return
    if words[0] == "dask":
        assert (Path(sys.executable).parent / "dask").exists() or shutil.which("dask"), "the dask command is not installed"
        assert words[1] in {"scheduler", "worker"}, code
        return
    assert words[0] == "axis-sim" or words[:3] == ["python", "-m", "simulator"], f"not a command this test knows: {code}"
    arguments = words[1:] if words[0] == "axis-sim" else words[3:]
    try:
        _parser().parse_args(arguments)
    except SystemExit as exit:
        pytest.fail(f"{code}: the parser refuses it (exit {exit.code})")


def _pages_not_run() -> list[Path]:
    return [page for page in _pages() if _not_run_blocks(page)]


@pytest.mark.parametrize("page", _pages_not_run(), ids=lambda p: str(p.relative_to(DOCS)))
def test_blocks_not_run_give_a_checked_reason(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A code block marked ``(not run by the tests: REASON)`` gives a reason of :data:`NOT_RUN`, and is checked
    instead of run: its commands parse with ``axis-sim``'s own parser, its Python compiles and passes only
    arguments the functions take, and a block that defers to the tutorial finds its commands there."""
    for language, reason, code in _not_run_blocks(page):
        known = [key for key in NOT_RUN if reason.startswith(key)]
        assert known, f"{page.relative_to(DOCS)}: a block is not run for a reason tests/test_docs.py does not know: {reason!r}"
        if language == "python":
            _check_call_keywords(code)
            continue
        for line in code.splitlines():
            _check_command_line(line)
        if known[0] == "the tutorial has the same":
            tutorial = [line for _, block in _blocks(DOCS / "tutorial.md") for line in block.splitlines()]
            for line in code.splitlines()[1:]:
                assert not line.strip() or line.strip() in tutorial, f"not in the tutorial's blocks: {line}"
    capsys.readouterr()  # --help output of a parser, if any


def test_no_command_hides_in_a_block_that_is_not_run() -> None:
    """A command is written in a ``bash`` block (run, or checked with a known reason), never in a ``text``,
    ``console``, ``sh`` or unlabelled block, which the runs would pass over: no line of those starts with
    ``axis-sim COMMAND``, ``python -m``, ``pip install`` or a ``$`` prompt."""
    from simulator.cli import _parser

    commands = "|".join(sorted(next(action for action in _parser()._actions if action.choices and isinstance(action.choices, dict)).choices))
    command_line = re.compile(rf"^\s*(\$ |axis-sim ({commands})\b|python3? -m |pip3? install\b)")
    for page in [*_pages(), ROOT / "README.md"]:
        for match in _FENCE.finditer(page.read_text(encoding="utf-8")):
            language = match["info"].strip().split(" ")[0] if match["info"].strip() else ""
            if language in {"", "text", "console", "sh", "shell", "none"}:
                for line in match["body"].splitlines():
                    assert not command_line.match(line), f"{page.relative_to(ROOT)}: a command in a {language or 'plain'} block: {line}"


def _check_outputs(page: Path) -> list[tuple[str, str]]:
    """(command, printed output) of every ``axis-sim check`` block of ``page`` followed by a ``text`` block."""
    fences = list(_FENCE.finditer(page.read_text(encoding="utf-8")))
    pairs = []
    for block, after in zip(fences, fences[1:]):
        lines = [line for line in block["body"].splitlines() if line.strip()]
        if (block["info"].strip() == "bash" and len(lines) == 1 and lines[0].startswith("axis-sim check ")
                and after["info"].strip() == "text"):
            pairs.append((lines[0], after["body"]))
    return pairs


@pytest.mark.parametrize("page", [page for page in _pages() if _check_outputs(page)], ids=lambda p: str(p.relative_to(DOCS)))
def test_check_outputs_on_the_pages_are_what_check_prints(page: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The output of ``axis-sim check`` pasted on a page (whole, or an excerpt of consecutive lines) is what the
    command prints today, exactly (the analytic
    model is deterministic and takes about a second at full scale), so a change of the model or of the shipped
    scenarios cannot leave a page showing old figures."""
    from simulator.cli import main

    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    for language, code in _blocks(page):
        if language == "toml":
            (tmp_path / _FILE.match(code)["name"]).write_text(code, encoding="utf-8")
    previous = Path.cwd()
    for command, shown in _check_outputs(page):
        capsys.readouterr()
        os.chdir(tmp_path)
        try:
            assert main(shlex.split(command)[1:]) == 0
        finally:
            os.chdir(previous)
        printed = capsys.readouterr().out
        # the whole output, or an excerpt of consecutive lines ("the end of the output")
        assert shown.strip("\n") in printed, f"{page.relative_to(DOCS)}: `{command}` prints today:\n{printed}"


def _toml_examples() -> list[tuple[str, str]]:
    """(page, text) of every ``toml`` block that is not written to a file by the runs (``# file:``)."""
    return [(str(page.relative_to(DOCS)), match["body"]) for page in _pages()
            for match in _FENCE.finditer(page.read_text(encoding="utf-8"))
            if match["info"].strip() == "toml" and not _FILE.match(match["body"])]


@pytest.mark.parametrize("page, text", _toml_examples(), ids=[f"{page}:{index}" for index, (page, _) in enumerate(_toml_examples())])
def test_toml_examples_are_valid(page: str, text: str, tmp_path: Path) -> None:
    """A TOML example of the pages is valid TOML, and a scenario fragment (every one but taplo's ``[[rule]]``
    configuration) is a valid scenario on top of ``national-2020.toml``: its keys exist and its values pass
    the loader's rules."""
    import tomllib

    from simulator.scenario import load_scenario

    tomllib.loads(text)
    if "[[rule]]" in text:  # .taplo.toml, the editor's configuration
        return
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    fragment = tmp_path / "scenarios" / "example.toml"
    fragment.write_text('extends = "national-2020.toml"\n' + text, encoding="utf-8")
    load_scenario(fragment)


def _commands(page: Path) -> list[str]:
    """The code of a page's blocks without comments, to compare a translation with its original."""
    return [re.sub(r"\s+#.*$", "", line, flags=re.M).strip() for _, code in _blocks(page) for line in code.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_outputs_page_names_every_column(tmp_path: Path) -> None:
    """Every file of a run folder (and ``trace.parquet``), every key of summary.json and every column of
    stations.csv, timeseries.csv and replications.csv is named in the outputs page.

    Read from the result folder of the tutorial's run when its blocks ran in this session, else from a
    run of its own at the reduced scale.
    """
    page = (DOCS / "reference" / "outputs.md").read_text(encoding="utf-8")
    folder = _FOLDERS.get("tutorial.md", tmp_path) / "results" / "national-2020"
    if not (folder / "summary.json").exists():
        shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
        _run_shell("axis-sim run scenarios/national-2020.toml --quiet", tmp_path)
        folder = tmp_path / "results" / "national-2020"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    names = set(summary) | set(summary["stations"][0]) | set(summary.get("analytic", {}))
    for key in ("documents", "resends", "latency_seconds"):
        names |= set(summary[key])
    for table in ("stations.csv", "timeseries.csv", "replications.csv"):
        header = (folder / table).read_text(encoding="utf-8-sig").splitlines()[0]
        names |= {c for c in header.split(",") if not c.startswith("in_system: ")}
    # every file of the folder, the report the tutorial writes into it, and the trace of run --trace
    names |= {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()} | {"report.html", "trace.parquet"}
    missing = sorted(name for name in names if f"`{name}`" not in page and not re.search(rf"`{re.escape(name)}`", page))
    assert missing == [], f"docs/reference/outputs.md does not name: {missing}"


def test_readme_is_a_landing_page_whose_commands_run(tmp_path: Path) -> None:
    """The README is short and has three commands: install and run the main job on a shipped scenario (run
    here at the reduced scale), install and run the tests (what ``.ci/run`` does), install and build the
    documentation (what the build test does)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 70, "the README is a landing page: what it is, the quickstart, where the docs are"
    blocks = [match["body"].strip() for match in _FENCE.finditer(readme) if match["info"].strip() == "bash"]
    assert len(blocks) == 3, blocks
    run, tests, docs = blocks
    install, command = (part.strip() for part in run.split("&&"))
    assert install == "pip install ." and re.fullmatch(r"axis-sim run scenarios/[\w.-]+\.toml", command), run
    assert tests == 'pip install ".[test,docs]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet ".[test,docs]"' in ci and "\npython -m pytest\n" in ci
    assert docs == 'pip install ".[docs]" && python -m sphinx -W -b html docs docs/_build/html'
    assert "Why Sphinx" in readme and "docs/" in readme
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    _run_shell(command + " --quiet", tmp_path)  # at the reduced scale, as every block
    name = Path(command.split()[-1]).stem
    assert (tmp_path / "results" / name / "summary.json").exists()


def _keys(value: Any, prefix: str = "") -> set[str]:
    """Every key of a JSON value, at any depth (the keys of the items of a list too)."""
    if isinstance(value, dict):
        return {str(k) for k in value} | {n for v in value.values() for n in _keys(v)}
    if isinstance(value, list):
        return {n for v in value for n in _keys(v)}
    return set()


def _undocumented(names: set[str], page: str) -> list[str]:
    return sorted(name for name in names if f"`{name}`" not in page)


def _produced(page: str, folder: str, command: str, tmp_path: Path) -> Path:
    """The folder a page's blocks wrote when they ran in this session, else one written here at the reduced scale."""
    produced = _FOLDERS.get(page, tmp_path) / folder
    if not produced.exists():
        if not (tmp_path / "scenarios").exists():
            shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
        _run_shell(command, tmp_path)  # at the reduced scale
        produced = tmp_path / folder
    return produced


def test_outputs_page_names_every_sweep_and_capacity_output(tmp_path: Path) -> None:
    """Every file of a sweep folder (but the points' run folders), every column of ``points.csv``, every key
    of ``manifest.json``, and every file and key (at any depth) of a capacity folder's ``capacity.json`` is
    named in the outputs page. Read from the folders the how-to guides' blocks wrote when they ran in this
    session, else from a sweep and a search of their own at the reduced scale."""
    page = (DOCS / "reference" / "outputs.md").read_text(encoding="utf-8")
    sweep = _produced("howto/connect.md", "results/connect-ministries-sweep",
                      "axis-sim sweep scenarios/connect-ministries.toml --quiet", tmp_path)
    names = {path.relative_to(sweep).as_posix() for path in sweep.rglob("*") if path.is_file()
             and path.relative_to(sweep).parts[0] != "points"} | {"report.html"}
    names |= set((sweep / "points.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(","))
    names |= _keys(json.loads((sweep / "manifest.json").read_text(encoding="utf-8")))
    names -= {name for name in names if name.startswith(("connection.", "traffic."))}  # the swept keys: "one column per swept key"
    parameters = json.loads((sweep / "manifest.json").read_text(encoding="utf-8"))["points"][0]["parameters"]
    names -= set(parameters)
    # a figure's interval columns are named once, as <figure>_ci_low and <figure>_ci_high
    names = {re.sub(r"^(\w+)_ci_(low|high)$", r"<figure>_ci_\2", name) if re.sub(r"_ci_(low|high)$", "", name) in names else name
             for name in names}
    capacity = _produced("howto/capacity.md", "results/national-2020-capacity",
                         'axis-sim capacity scenarios/national-2020.toml --quiet --target "peak_utilization <= 0.8"', tmp_path)
    names |= {path.relative_to(capacity).as_posix() for path in capacity.rglob("*") if path.is_file()}
    names |= _keys(json.loads((capacity / "capacity.json").read_text(encoding="utf-8")))
    assert _undocumented(names, page) == [], f"docs/reference/outputs.md does not name: {_undocumented(names, page)}"


def test_trace_page_names_every_column_of_the_exchange_log(tmp_path: Path) -> None:
    """Every column of the exchange log a traced run writes (CSV, the same columns as Parquet) is named in the
    traces page (``station_k`` and the like once, for every k)."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    _run_shell("axis-sim run scenarios/calibration-demo.toml --quiet --trace trace.csv -o traced", tmp_path)
    import csv

    with open(tmp_path / "trace.csv", encoding="utf-8", newline="") as log:
        columns = set(next(csv.reader(log)))
    assert {"document", "station_1"} <= columns
    names = {re.sub(r"_\d+$", "_k", column) for column in columns}
    page = (DOCS / "background" / "traces.md").read_text(encoding="utf-8")
    assert _undocumented(names, page) == [], f"docs/background/traces.md does not name: {_undocumented(names, page)}"


#: Modules left out of the API reference, and why (the page says so too).
NOT_IN_API = {"simulator.cli": "the axis-sim command, in the CLI reference", "simulator.__main__": "python -m simulator",
              "simulator.engine": "internal, reached through simulator.run", "simulator.data": "the structures' tables"}
#: The functions the pages and notebooks tell a reader to call: full numpydoc Parameters and Returns sections.
FRONT_DOOR = ["simulator.scenario.load_scenario", "simulator.scenario.apply_parameters", "simulator.scenario.json_schema",
              "simulator.experiment.run", "simulator.experiment.sweep", "simulator.results.RunResult.save",
              "simulator.results.load_result", "simulator.capacity.parse_target", "simulator.capacity.search",
              "simulator.analytic.predict", "simulator.analytic.electronic_share", "simulator.analytic.connect_headroom",
              "simulator.analytic.reform_load_change", "simulator.analytic.erlang_c", "simulator.topology.build_topology",
              "simulator.verification.verify", "simulator.calibration.fit_log",
              # the queueing formulas of the analytic module (background/analytic.md), the units of the scenario format,
              # the seeds and the warm-up rule (background/checking.md)
              *(f"simulator.analytic.{name}" for name in ("erlang_b", "mmc_wait", "mgc_wait", "mmck", "priority_waits",
                                                          "availability", "failure_rate", "standby_share", "mean_excess")),
              *(f"simulator.units.{name}" for name in ("parse_duration", "parse_rate", "parse_size", "parse_bandwidth",
                                                       "parse_clock", "parse_moment", "format_duration", "format_rate",
                                                       "format_size")),
              "simulator.experiment.replication_seed", "simulator.experiment.mser5", "simulator.experiment.expand",
              "simulator.experiment.figure", "simulator.experiment.replicate"]


def test_api_reference_has_every_module() -> None:
    """Every module of the package has a generated page in the API reference (an autosummary entry of
    ``docs/reference/api.md``), but those of :data:`NOT_IN_API`, which the page names as left out."""
    import pkgutil

    import simulator

    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   (simulator\.\w+)\s*$", page, flags=re.M))
    modules = {f"simulator.{info.name}" for info in pkgutil.iter_modules(simulator.__path__)}
    assert NOT_IN_API.keys() - {"simulator.__main__"} <= modules
    missing = sorted(modules - listed - NOT_IN_API.keys())
    assert missing == [], f"docs/reference/api.md has no autosummary entry for {missing}"
    for left_out in NOT_IN_API.keys() - {"simulator.__main__", "simulator.data"}:
        assert f"`{left_out}`" in page, f"docs/reference/api.md does not say why {left_out} is left out"


def _public_functions() -> list[str]:
    """Every function of a documented module's ``__all__`` defined in that module, and :data:`FRONT_DOOR`."""
    import importlib
    import inspect
    import pkgutil

    import simulator

    names = list(FRONT_DOOR)
    for info in sorted(pkgutil.iter_modules(simulator.__path__), key=lambda i: i.name):
        module_name = f"simulator.{info.name}"
        if module_name in NOT_IN_API:
            continue
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if inspect.isfunction(value) and value.__module__ == module_name and f"{module_name}.{name}" not in names:
                names.append(f"{module_name}.{name}")
    return names


@pytest.mark.parametrize("name", _public_functions())
def test_public_functions_have_numpydoc_sections(name: str) -> None:
    """A public function (and a method the pages tell a reader to call) documents every parameter and what it
    returns (numpydoc)."""
    numpydoc_validate = pytest.importorskip("numpydoc.validate")
    errors = [f"{code}: {message}" for code, message in numpydoc_validate.validate(name)["errors"]
              if code in {"GL08", "PR01", "PR02", "RT01"}]
    assert errors == [], f"{name}: {errors}"


#: A reference to notes kept outside the repository, or to a path above it.
OUTSIDE = re.compile(r"\bshared/|DOMAIN\.md|DESIGN\.md|PERF-ANCHORS|STYLE\.md|(?<![\w.])\.\./\.\./\.\.|/work/|/home/|file:///")


def test_pages_are_nfc_and_cite_nothing_outside_the_project() -> None:
    """Every page is UTF-8 in Unicode NFC (Vietnamese as typed, one code point per letter where one exists),
    and no page, nor the README, a scenario, a notebook, the package's code or data, the build configuration
    or the CI script, points to notes kept outside the repository; no scenario ``extends`` a file above
    ``scenarios/``."""
    import unicodedata

    for page in [*_pages(), ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text, f"{page} is not in NFC"
    files = [*_pages(), ROOT / "README.md", *(ROOT / "scenarios").rglob("*.toml"), *(ROOT / "notebooks").glob("*.ipynb"),
             *(ROOT / "notebooks").glob("*.md"), *(ROOT / "simulator").rglob("*.py"), *(ROOT / "simulator").rglob("*.md"),
             *(ROOT / "simulator" / "messages").glob("*.json"), *(ROOT / "benchmarks").rglob("*.py"),
             *(ROOT / "scripts").rglob("*"), DOCS / "conf.py", DOCS / "_ext" / "axisdocs.py", ROOT / "setup.cfg",
             ROOT / "setup.py", ROOT / "pyproject.toml", ROOT / ".ci" / "run"]
    for file in files:
        if file.is_file():
            found = OUTSIDE.search(file.read_text(encoding="utf-8", errors="replace"))
            assert found is None, f"{file.relative_to(ROOT)} cites a file outside the project: {found[0]}"
    for scenario in (ROOT / "scenarios").rglob("*.toml"):
        extends = re.findall(r'^extends\s*=\s*"([^"]*)"', scenario.read_text(encoding="utf-8"), flags=re.M)
        for target in extends:
            resolved = (scenario.parent / target).resolve()
            assert resolved.is_relative_to(ROOT / "scenarios"), f"{scenario.name} extends {target}, outside scenarios/"


def test_every_source_has_an_address_and_a_date() -> None:
    """Every row of ``docs/sources.md`` tagged [C] (official) or [S] (secondary) names its source by URL (or
    refers to one given above: "same ...", "§N") and gives a publication date ("n.d." when the page shows none)."""
    rows = [line for line in (DOCS / "sources.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith(("| ---", "| figure"))]
    assert len(rows) > 30
    for row in rows:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        if len(cells) != 4:  # another table (the assumptions of §11: assumption, value)
            continue
        _, tag, source, published = cells
        if "[C]" in tag or "[S]" in tag:
            assert re.search(r"https?://", source) or source.startswith(("same", "§")), f"no address: {row[:120]}"
            assert published not in {"", "—", "-"}, f"no date: {row[:120]}"
