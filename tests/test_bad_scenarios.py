"""Broken scenario files: each user error is reported with its file, key path, value and rule."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.errors import MAX_PROBLEMS, ScenarioError, quote
from simulator.scenario import load_scenario
from simulator.topology import build_topology

BAD = Path(__file__).parent / "data" / "bad"
NATIONAL = Path(__file__).parents[1] / "scenarios" / "national-2020.toml"
PREFIX = "axis-sim: error: "

#: file name -> (key path, value as it appears in the message or None when no value is shown, rule regex)
EXPECTED: dict[str, tuple[str, str | None, str]] = {
    "top_level_typo.toml": (
        "netwrk",
        "{'hub': {'servers': 2, 'service': {'distribution': 'exponential', 'mean': '1s'}}}",
        r"^is not a known key; did you mean 'network'\?$",
    ),
    "run_key_typo.toml": ("run.horizn", "'2h'", r"^is not a known key; did you mean 'horizon'\?$"),
    "negative_rate.toml": ("kinds.agency.rate", "'-3/h'", r"^must not be negative$"),
    "unknown_duration_unit.toml": (
        "network.hub.service.mean",
        "'5x'",
        r"^has an unknown duration unit 'x'; use one of us, ms, s, min, h, d, w$",
    ),
    "zero_servers.toml": ("network.hub.servers", "0", r"^must be greater than 0$"),
    "share_above_one.toml": ("traffic.types.urgent", "1.5", r"^must be less than or equal to 1$"),
    "urgent_plus_classified.toml": ("traffic.types.classified", "0.4", r"^plus urgent \(0\.7\) must not exceed 1$"),
    "warmup_not_shorter.toml": ("run.warmup", "'3h'", r"^must be shorter than the horizon \(2h\)$"),
    "duplicate_agency_id.toml": ("agencies[1].id", "'A'", r"^duplicates agencies\[0\]\.id; ids must be unique$"),
    "unknown_parent.toml": ("agencies[2].parent", "'Z'", r"^is not the id of any agency$"),
    "cv_for_exponential.toml": (
        "network.hub.service.cv",
        "2.0",
        r"^is fixed for the exponential distribution; remove cv$",
    ),
    "servers_without_service.toml": (
        "network.hub.service",
        None,
        r"^is required \(or set passthrough = true to leave the station out\)$",
    ),
    "fanout_unknown_kind.toml": (
        "traffic.fanout[0].kind",
        "'province'",
        r"^no agency has this kind; kinds present: agency$",
    ),
    "single_agency.toml": ("agencies", "1", r"needs at least 2 agencies"),
    "clock_out_of_range.toml": ("calendar.hours[0][1]", "'25:00'", r"^is not a time of day between 00:00 and 24:00$"),
    "missing_agency_id.toml": ("agencies[1].id", None, r"^is required$"),
    "invalid_toml.toml": ("TOML", None, r"^not valid TOML: .*\(at line 2, column \d+\)$"),
    # issue 10: once internal errors (exit 1)
    "deep_nested_array.toml": ("TOML", None, r"^(nests arrays or inline tables too deeply to be read|not valid TOML: .*nest)"),
    "deep_inline_table.toml": ("TOML", None, r"^(nests arrays or inline tables too deeply to be read|not valid TOML: .*nest)"),
    "deep_dotted_keys.toml": (".".join(["a"] * 16), None, r"^nests tables and arrays more than 16 levels deep"),
    "extends_chain_too_long.toml": (
        "extends",
        "'extends/chain-01.toml'",
        r"^leads to a chain of more than 16 files extending each other \(extends_chain_too_long\.toml -> "
        r"extends/chain-01\.toml -> extends/chain-02\.toml -> \.\.\. -> extends/chain-17\.toml -> \.\.\.\); shorten it$",
    ),
    "extends_cycle.toml": (
        "extends",
        "'extends/cycle-b.toml'",
        r"^leads to a cycle of files extending each other: extends_cycle\.toml -> extends/cycle-b\.toml -> "
        r"extends/cycle-c\.toml -> extends_cycle\.toml$",
    ),
    "nul_in_name.toml": ("name", "'national\\x00-2020'", r"^must not contain control characters \('\\x00' at position 8\)$"),
    "sweep_value_inf.toml": ("sweep.parameters[0].values[2]", "inf", r"^must be a finite number, not inf$"),
    "sweep_value_nan.toml": ("sweep.parameters[0].values[1]", None, r"^must not hold nan; numbers must be finite$"),
    # issue 10: once accepted by lenient coercion
    "servers_true.toml": ("network.hub.servers", "True", r"^must be a valid integer$"),
    "servers_string.toml": ("network.hub.servers", "'4'", r"^must be a valid integer$"),
    "passthrough_yes.toml": ("network.platform.passthrough", "'yes'", r"^must be a valid boolean$"),
    "sigma_true.toml": ("traffic.size.sigma", "True", r"^must be a valid number$"),
    "unit_non_ascii_digit.toml": ("run.horizon", "'\u0663h'", r"^is not a duration; .*\(digits 0-9 only\)$"),
    # issue 10: once accepted, then wrong
    "kind_typo.toml": (
        "agencies[1].kind",
        "'comune'",
        r"^is not a known kind; did you mean 'commune'\? \(a new kind is declared with a \[kinds\.comune\] table\)$",
    ),
    "fanout_all_reaches_nobody.toml": (
        "traffic.fanout[0].kind",
        "'ministry'",
        r"^has one agency only \(A\), which sends documents itself: its fan-out to all others of the kind would reach nobody$",
    ),
    # issue 10: messages
    "long_value.toml": ("name", "'" + "Trục liên thông " * 12 + "Trục li...", r"^must have at most 120 characters$"),
    "many_problems.toml": ("agencies[0].rate", "'-1/h'", r"^must not be negative$"),
}

#: Files with more than one problem: how many (the table names the first). The message shows 20, then "... and N more".
PROBLEMS = {"many_problems.toml": 25}

#: Files that load_scenario accepts: only build_topology can tell what is wrong with them.
TOPOLOGY_ONLY = {"unknown_parent.toml", "fanout_unknown_kind.toml", "kind_typo.toml", "fanout_all_reaches_nobody.toml"}

FILES = sorted(EXPECTED)


def load_and_build(path: Path) -> None:
    """What the simulator does with a scenario file before simulating it."""
    build_topology(load_scenario(path))


def test_every_bad_file_is_in_the_table() -> None:
    """The table and the data/bad folder list the same files, each starting with a comment line."""
    on_disk = sorted(p.name for p in BAD.glob("*.toml"))
    assert FILES == on_disk
    assert len(on_disk) >= 10
    for name in on_disk:
        first = (BAD / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), name


@pytest.mark.parametrize("name", FILES)
def test_bad_scenario_is_reported(name: str) -> None:
    """Each broken file raises ScenarioError with one problem naming the file, key path, value and rule."""
    path = BAD / name
    key, value, rule = EXPECTED[name]
    if name in TOPOLOGY_ONLY:
        scenario = load_scenario(path)
        with pytest.raises(ScenarioError) as info:
            build_topology(scenario)
    else:
        with pytest.raises(ScenarioError) as info:
            load_and_build(path)
    err = info.value
    assert str(path) == err.source
    count = PROBLEMS.get(name, 1)
    assert count == len(err.problems), str(err)
    problem = err.problems[0]
    assert key == problem.key
    assert re.search(rule, problem.rule), problem.rule
    line, *others = str(err).splitlines()
    assert min(count, MAX_PROBLEMS) + (count > MAX_PROBLEMS) == 1 + len(others)
    head = f"{path}: {key}: " if value is None else f"{path}: {key} = {value}: "
    assert line.startswith(head), line
    assert re.search(rule, line[len(head):]), line
    assert len(line) < len(head) + 400
    if value is not None:
        assert value == quote(problem.value)


@pytest.mark.parametrize("name", FILES)
def test_check_command_reports_bad_file(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim check BAD' exits 2 and prints one error line per problem, with file and key, no traceback."""
    path = BAD / name
    with pytest.raises(ScenarioError) as info:
        load_and_build(path)
    problems = info.value.problems
    assert 2 == main(["check", str(path)])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    if len(problems) > MAX_PROBLEMS:
        assert f"{PREFIX}{path}: ... and {len(problems) - MAX_PROBLEMS} more problems" == lines.pop()
    assert len(problems[:MAX_PROBLEMS]) == len(lines)
    for line, problem in zip(lines, problems):
        assert line.startswith(PREFIX), line
        assert str(path) in line
        assert problem.key in line
    assert EXPECTED[name][0] in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "" == captured.out


@pytest.mark.parametrize("name", ["negative_rate.toml", "unknown_parent.toml"])
def test_run_command_rejects_bad_file(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim run BAD -o OUT' exits 2 before writing anything, whichever stage finds the problem."""
    out = tmp_path / "out"
    assert 2 == main(["run", str(BAD / name), "-o", str(out)])
    captured = capsys.readouterr()
    assert 1 == len(captured.err.splitlines())
    assert captured.err.startswith(PREFIX + str(BAD / name) + ": " + EXPECTED[name][0])
    assert "Traceback" not in captured.err
    assert [] == list(tmp_path.iterdir())


def test_check_command_accepts_national(capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim check' on the shipped national scenario exits 0 and says it is valid."""
    assert 0 == main(["check", str(NATIONAL)])
    captured = capsys.readouterr()
    assert "valid scenario" in captured.out
    assert "" == captured.err


def test_schema_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim schema' exits 0 and prints a JSON Schema that json.loads parses."""
    assert 0 == main(["schema"])
    schema = json.loads(capsys.readouterr().out)
    assert {"run", "network", "agencies", "traffic"} <= set(schema["properties"])


def test_run_command_missing_file_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim run' on a missing file exits 2 and leaves no output folder nor temporary sibling."""
    out = tmp_path / "out"
    assert 2 == main(["run", "no/such/file.toml", "-o", str(out)])
    captured = capsys.readouterr()
    assert [PREFIX + "no/such/file.toml: file: no such file"] == captured.err.splitlines()
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert [] == list(tmp_path.iterdir())


def test_check_command_path_with_equals_sign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'axis-sim check' reads a scenario file whose name contains '='."""
    path = tmp_path / "seed=7.toml"
    path.write_text(
        '[[agencies]]\nid = "A"\nname = "Bộ Tài chính"\n[[agencies]]\nid = "B"\nname = "Kiên Giang"\n',
        encoding="utf-8",
    )
    assert 0 == main(["check", str(path)])
    assert "valid scenario" in capsys.readouterr().out
