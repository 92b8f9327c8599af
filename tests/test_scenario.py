"""Tests of simulator.scenario: loading, defaults, units, freezing, dumping and errors (the JSON Schema: test_schema.py)."""
from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulator.errors import Problem, ScenarioError, SimulatorError, missing_value, quote
from simulator.scenario import (
    KindSpec,
    Scenario,
    apply_parameters,
    dump_scenario,
    load_scenario,
    scenario_from_dict,
)
from simulator.topology import build_topology

NATIONAL = Path(__file__).parents[1] / "scenarios" / "national-2020.toml"

MINIMAL = """\
[run]
horizon = "2h"
[network.hub]
servers = 2
service = { distribution = "exponential", mean = "1s" }
[kinds.agency]
rate = "20/h"
[[agencies]]
id = "A"
name = "Bộ Tài chính"
[[agencies]]
id = "B"
name = "Kiên Giang"
"""

BARE = """\
[[agencies]]
id = "A"
[[agencies]]
id = "B"
"""

RICH = """\
name = "rich"
description = "Mọi trường có đơn vị"

[run]
horizon = "3d"
warmup = "2h"
seed = 7
replications = 3
timeseries_interval = "30min"

[calendar]
weekdays = ["mon", "wed", "sat"]
hours = [["07:30", "11:45"], ["13:00", "17:15"]]

[network]
dataset = "none"

[network.hub]
servers = 4
buffer = 100
service = { distribution = "lognormal", mean = "250ms", cv = 1.5 }
outages = [{ start = "1d", duration = "30min", every = "1w" }, { start = "36h", duration = "90s" }]

[network.platform]
servers = 2
service = { distribution = "gamma", mean = "1.5s", cv = 0.5 }

[network.agency]
service = { distribution = "deterministic", mean = "2s" }

[network.access]
latency = "20ms"
bandwidth = "20Mbit/s"

[network.backbone]
latency = "10ms"
bandwidth = "10MB/s"

[kinds.ministry]
rate = "18/h"
weight = 2.0
adoption = 0.9

[kinds.province]
rate = "104/d"
connected = false

[[agencies]]
id = "BTC"
name = "Bộ Tài chính"
kind = "ministry"
platform = { servers = 3, service = { distribution = "exponential", mean = "500ms" } }

[[agencies]]
id = "KG"
name = "Kiên Giang"
kind = "province"
rate = "2/min"
adoption = 0.5

[[agencies]]
id = "KG.STC"
name = "Sở Tài chính Kiên Giang"
kind = "province"
parent = "KG"
weight = 0.5
connected = true
station = { servers = 1, service = { distribution = "exponential", mean = "3s" } }

[traffic]
recipients = "uniform"

[[traffic.fanout]]
share = 0.2
recipients = 2

[[traffic.fanout]]
share = 0.05
recipients = "all"
kind = "province"

[traffic.types]
urgent = 0.1
classified = 0.04

[traffic.size]
median = "2MB"
sigma = 0.5

[traffic.postal_delay]
distribution = "gamma"
mean = "2.5d"
cv = 0.5

[[traffic.statuses]]
code = "01"
after = { distribution = "exponential", mean = "30s" }

[[traffic.statuses]]
code = "06"
after = { distribution = "exponential", mean = "3d" }

[[traffic.script]]
at = "1h"
origin = "BTC"
recipients = ["KG", "KG.STC"]
type = "urgent"
size = "1MiB"
"""


@pytest.fixture(scope="module")
def rich() -> Scenario:
    """The rich scenario that sets every unit-typed field."""
    return load_scenario(RICH)


def expected_line(source: str, problem: Problem) -> str:
    """The documented rendering of one problem: ``FILE: key = value: rule`` (no ``= value`` when absent)."""
    if problem.value is missing_value():
        return f"{source}: {problem.key}: {problem.rule}"
    return f"{source}: {problem.key} = {problem.value!r}: {problem.rule}"


def assert_well_formed(err: ScenarioError, source: str) -> None:
    """Every problem has key, value and rule, and str() is one documented line per problem."""
    assert err.problems
    assert source == err.source
    for problem in err.problems:
        assert isinstance(problem, Problem)
        assert isinstance(problem.key, str) and problem.key
        assert isinstance(problem.rule, str) and problem.rule
        assert hasattr(problem, "value")
    assert [expected_line(source, p) for p in err.problems] == str(err).splitlines()


# --------------------------------------------------------------------------- loading


def test_load_from_text() -> None:
    """TOML text (anything with a newline or '=') is parsed, validated and labelled <text>."""
    scenario = load_scenario(MINIMAL)
    assert 7200.0 == scenario.run.horizon
    assert ("A", "B") == tuple(a.id for a in scenario.agencies)
    assert "<text>" == scenario.source
    assert "scenario" == scenario.name


def test_load_from_path(tmp_path: Path) -> None:
    """A pathlib.Path is read as UTF-8, named after its stem and labelled with its path."""
    path = tmp_path / "small-case.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    scenario = load_scenario(path)
    assert "small-case" == scenario.name
    assert str(path) == scenario.source
    assert load_scenario(MINIMAL).model_dump() | {"name": "small-case"} == scenario.model_dump()


def test_load_from_path_string(tmp_path: Path) -> None:
    """A string without newline or '=' is taken for a file path."""
    path = tmp_path / "case.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    scenario = load_scenario(str(path))
    assert str(path) == scenario.source
    assert 7200.0 == scenario.run.horizon


def test_name_precedence(tmp_path: Path) -> None:
    """The file's own name wins over the name argument, which wins over the stem or 'scenario'."""
    path = tmp_path / "stem.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert "given" == load_scenario(path, name="given").name
    assert "given" == load_scenario(MINIMAL, name="given").name
    named = 'name = "own"\n' + MINIMAL
    assert "own" == load_scenario(named, name="given").name


def test_national_scenario_loads_and_builds() -> None:
    """The shipped national-2020 scenario is valid and builds its 94-agency network."""
    scenario = load_scenario(NATIONAL)
    assert "national-2020" == scenario.name
    assert 14 * 86400.0 == scenario.run.horizon
    assert 86400.0 == scenario.run.warmup
    assert 2020 == scenario.run.seed
    assert 94 == len(build_topology(scenario).agencies)


# --------------------------------------------------------------------------- defaults


def test_run_defaults() -> None:
    """An absent [run] simulates 7 days, no warm-up, seed 1, one replication, hourly series."""
    run = load_scenario(BARE).run
    assert 604800.0 == run.horizon
    assert 0.0 == run.warmup
    assert 1 == run.seed
    assert 1 == run.replications
    assert 3600.0 == run.timeseries_interval


def test_network_defaults_are_passthrough() -> None:
    """Undescribed stations are pass-through, links instant, and no dataset is used."""
    network = load_scenario(BARE).network
    assert "none" == network.dataset
    for station in (network.hub, network.platform, network.agency):
        assert True is station.passthrough
        assert None is station.service
        assert 1 == station.servers
        assert () == station.outages
    assert 0.0 == network.access.latency
    assert None is network.access.bandwidth
    assert 0.0 == network.backbone.latency


def test_described_station_is_modelled() -> None:
    """A station given a service is modelled, while the others stay pass-through."""
    network = load_scenario(MINIMAL).network
    assert False is network.hub.passthrough
    assert 2 == network.hub.servers
    assert True is network.platform.passthrough
    assert True is network.agency.passthrough


def test_traffic_and_calendar_defaults() -> None:
    """Traffic defaults: weighted recipients, no fan-out, 360 KB, 2.5-day post; no calendar."""
    scenario = load_scenario(BARE)
    traffic = scenario.traffic
    assert None is scenario.calendar
    assert "weighted" == traffic.recipients
    assert () == traffic.fanout
    assert (0.0, 0.0) == (traffic.types.urgent, traffic.types.classified)
    assert (360000.0, 0.0) == (traffic.size.median, traffic.size.sigma)
    assert ("deterministic", 216000.0) == (traffic.postal_delay.distribution, traffic.postal_delay.mean)
    assert () == traffic.statuses
    assert "" == scenario.description


def test_kind_defaults() -> None:
    """A kind the scenario does not set gets rate 0, weight 1, connected, full adoption."""
    kind = load_scenario(BARE).kind("ministry")
    assert KindSpec(rate=0.0, weight=1.0, connected=True, adoption=1.0) == kind


def test_calendar_defaults_when_table_present() -> None:
    """An empty [calendar] means Monday to Friday, 08:00-12:00 and 13:00-17:00."""
    calendar = load_scenario("[calendar]\n" + BARE).calendar
    assert ("mon", "tue", "wed", "thu", "fri") == calendar.weekdays
    assert ((28800.0, 43200.0), (46800.0, 61200.0)) == calendar.hours
    assert 8 * 3600.0 == calendar.open_seconds_per_day
    assert (0, 1, 2, 3, 4) == calendar.weekday_numbers


def test_distribution_scv() -> None:
    """Squared cv: exponential 1, deterministic 0, lognormal and gamma cv**2."""
    rich = load_scenario(RICH)
    assert 2.25 == rich.network.hub.service.scv
    assert 0.25 == rich.network.platform.service.scv
    assert 0.0 == rich.network.agency.service.scv
    assert 1.0 == rich.traffic.statuses[0].after.scv


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("run.horizon", 3 * 86400.0),
        ("run.warmup", 7200.0),
        ("run.timeseries_interval", 1800.0),
        ("calendar.hours", ((27000.0, 42300.0), (46800.0, 62100.0))),
        ("network.hub.service.mean", 0.25),
        ("network.hub.outages[0].start", 86400.0),
        ("network.hub.outages[0].duration", 1800.0),
        ("network.hub.outages[0].every", 604800.0),
        ("network.hub.outages[1].start", 129600.0),
        ("network.hub.outages[1].duration", 90.0),
        ("network.platform.service.mean", 1.5),
        ("network.agency.service.mean", 2.0),
        ("network.access.latency", 0.02),
        ("network.access.bandwidth", 2.5e6),
        ("network.backbone.latency", 0.01),
        ("network.backbone.bandwidth", 1e7),
        ("kinds[ministry].rate", 18 / 3600),
        ("kinds[province].rate", 104 / 86400),
        ("agencies[0].platform.service.mean", 0.5),
        ("agencies[1].rate", 2 / 60),
        ("agencies[2].station.service.mean", 3.0),
        ("traffic.size.median", 2e6),
        ("traffic.postal_delay.mean", 216000.0),
        ("traffic.statuses[0].after.mean", 30.0),
        ("traffic.statuses[1].after.mean", 259200.0),
        ("traffic.script[0].at", 3600.0),
        ("traffic.script[0].size", 1048576.0),
    ],
)
def test_unit_fields_are_converted_to_si(rich: Scenario, field: str, expected: object) -> None:
    """Every unit-typed field is stored in SI units: seconds, per second, bytes, bytes per second."""
    value: object = rich
    for name, index in re.findall(r"(\w+)(?:\[([\w.]+)\])?", field):
        value = getattr(value, name)
        if index:
            value = value[int(index)] if index.isdigit() else value[index]
    assert expected == value


def test_bare_numbers_are_si(tmp_path: Path) -> None:
    """Bare numbers in unit-typed fields are already seconds, per second, bytes, bytes per second."""
    text = BARE + """
[run]
horizon = 7200
warmup = 60.5
[network.access]
latency = 0.25
bandwidth = 1000
[kinds.agency]
rate = 0.5
[traffic.size]
median = 1234
"""
    scenario = load_scenario(text)
    assert (7200.0, 60.5) == (scenario.run.horizon, scenario.run.warmup)
    assert (0.25, 1000.0) == (scenario.network.access.latency, scenario.network.access.bandwidth)
    assert 0.5 == scenario.kind("agency").rate
    assert 1234.0 == scenario.traffic.size.median


# --------------------------------------------------------------------------- frozen


def test_scenario_is_frozen(rich: Scenario) -> None:
    """Assigning to any field of a scenario or of its parts raises."""
    with pytest.raises(ValidationError, match="frozen"):
        rich.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        rich.run.horizon = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        rich.network.hub.servers = 9  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        rich.agencies[0].rate = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        rich.traffic.types.urgent = 0.5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        rich.agencies.append(rich.agencies[0])  # type: ignore[attr-defined]
    assert 3 * 86400.0 == rich.run.horizon


def test_scenario_kinds_cannot_be_mutated() -> None:
    """The kinds table of a frozen scenario cannot be changed in place either."""
    scenario = load_scenario(RICH)
    with pytest.raises(TypeError):
        scenario.kinds["ministry"] = KindSpec(rate=1.0)  # type: ignore[index]


# --------------------------------------------------------------------------- dump round trip


def test_dump_round_trip_rich(rich: Scenario) -> None:
    """load_scenario(dump_scenario(s)) == s for a scenario that sets every field."""
    assert rich == load_scenario(dump_scenario(rich))


def test_dump_round_trip_minimal_and_bare() -> None:
    """The round trip also holds when most fields are left to their defaults."""
    for text in (MINIMAL, BARE):
        scenario = load_scenario(text)
        assert scenario == load_scenario(dump_scenario(scenario))


def test_dump_writes_units(rich: Scenario) -> None:
    """The dump restores units for durations, rates and sizes and keeps every default."""
    text = dump_scenario(rich)
    data = tomllib.loads(text)
    assert "3d" == data["run"]["horizon"]
    assert "30min" == data["run"]["timeseries_interval"]
    assert "18/h" == data["kinds"]["ministry"]["rate"]
    assert "2MB" == data["traffic"]["size"]["median"]
    assert [["07:30", "11:45"], ["13:00", "17:15"]] == data["calendar"]["hours"]
    assert 1 == load_scenario(BARE).run.seed == tomllib.loads(dump_scenario(load_scenario(BARE)))["run"]["seed"]


def test_dump_round_trip_national_content() -> None:
    """Dumping and reloading national-2020 keeps every field's value."""
    scenario = load_scenario(NATIONAL)
    again = load_scenario(dump_scenario(scenario))
    assert scenario.model_dump() == again.model_dump()


def test_dump_round_trip_national_from_text() -> None:
    """load_scenario(dump_scenario(s)) == s for national-2020 read as text."""
    scenario = load_scenario(NATIONAL.read_text(encoding="utf-8"))
    assert scenario == load_scenario(dump_scenario(scenario))


def test_dump_round_trip_national_from_file() -> None:
    """load_scenario(dump_scenario(s)) == s for national-2020 read from its file."""
    scenario = load_scenario(NATIONAL)
    assert scenario == load_scenario(dump_scenario(scenario))


def test_dump_round_trip_rate_given_per_second() -> None:
    """A rate written as a bare number per second survives the dump exactly."""
    scenario = load_scenario("[kinds.agency]\nrate = 0.011\n" + BARE)
    assert scenario == load_scenario(dump_scenario(scenario))


# --------------------------------------------------------------------------- UTF-8


def test_vietnamese_names_survive(tmp_path: Path) -> None:
    """Vietnamese names read from a UTF-8 file stay intact through load, topology and dump."""
    path = tmp_path / "vn.toml"
    path.write_bytes(MINIMAL.encode("utf-8"))
    scenario = load_scenario(path)
    assert ("Bộ Tài chính", "Kiên Giang") == tuple(a.name for a in scenario.agencies)
    assert ("Bộ Tài chính", "Kiên Giang") == build_topology(scenario).agencies.names
    text = dump_scenario(scenario)
    assert "Bộ Tài chính" in text and "Kiên Giang" in text
    assert ("Bộ Tài chính", "Kiên Giang") == tuple(a.name for a in load_scenario(text).agencies)


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A file that is not UTF-8 raises ScenarioError on key 'file'."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.encode("utf-8").replace("Kiên".encode("utf-8"), "Kiên".encode("latin-1")))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert "file" == problem.key
    assert re.match(r"^cannot be read as UTF-8 text", problem.rule)
    assert_well_formed(info.value, str(path))


# --------------------------------------------------------------------------- schema: see test_schema.py


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    """A missing file raises ScenarioError 'FILE: file: no such file'."""
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert ("file", "no such file") == (problem.key, problem.rule)
    assert problem.value is missing_value()
    assert f"{path}: file: no such file" == str(info.value)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(str(path))


def _special_file(kind: str, folder: Path) -> Path:
    """A path in ``folder`` that is a directory, a FIFO, a symbolic link loop or a dangling link (or /dev/null)."""
    path = folder / f"{kind}.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to("missing.toml")
    else:
        return Path(os.devnull)
    return path


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("directory", "is a directory, not a scenario file"),
        ("fifo", "is a named pipe (FIFO), not a scenario file"),
        ("devnull", "is a device, not a scenario file"),
        ("loop", "is a symbolic link loop, not a scenario file"),
        ("dangling", "is a symbolic link to a missing file"),
    ],
)
def test_special_file_is_named_for_what_it_is(kind: str, rule: str, tmp_path: Path) -> None:
    """A directory, FIFO, device or symbolic link loop given as the scenario is named as such (never read)."""
    path = _special_file(kind, tmp_path)
    for source in (path, str(path)):
        with pytest.raises(ScenarioError) as info:
            load_scenario(source)
        (problem,) = info.value.problems
        assert ("file", rule) == (problem.key, problem.rule)
        assert f"{path}: file: {rule}" == str(info.value)


@pytest.mark.parametrize("kind", ["directory", "fifo", "devnull", "loop"])
def test_special_file_as_base_is_named(kind: str, tmp_path: Path) -> None:
    """An ``extends`` that leads to a directory, FIFO, device or link loop names it, with its path."""
    base = _special_file(kind, tmp_path)
    path = tmp_path / "child.toml"
    path.write_text(f'extends = "{base}"\n' + BARE, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert ("extends", str(base)) == (problem.key, problem.value)
    assert re.match(r"^is (a directory|a named pipe|a device|a symbolic link loop)", problem.rule), problem.rule


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark at the start of a file (or of text, or of an extended file) is ignored."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert load_scenario(MINIMAL).model_dump() | {"name": "bom"} == load_scenario(path).model_dump()
    assert load_scenario(MINIMAL) == load_scenario("\ufeff" + MINIMAL)
    child = tmp_path / "child.toml"
    child.write_bytes(b'\xef\xbb\xbfextends = "bom.toml"\n')
    assert 7200.0 == load_scenario(child).run.horizon


def test_invalid_toml_text() -> None:
    """Broken TOML text raises ScenarioError on key 'TOML' naming the parser's complaint."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("[run\nhorizon = ")
    (problem,) = info.value.problems
    assert "TOML" == problem.key
    assert re.match(r"^not valid TOML: .*line 1", problem.rule)
    assert str(info.value).startswith("<text>: TOML: not valid TOML: ")
    assert_well_formed(info.value, "<text>")


def test_invalid_toml_file(tmp_path: Path) -> None:
    """Broken TOML in a file is reported with the file's path."""
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\nname = "y"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: TOML: not valid TOML: ")
    assert_well_formed(info.value, str(path))


def test_scenario_error_is_a_simulator_error() -> None:
    """ScenarioError derives from SimulatorError, which the command line catches."""
    assert issubclass(ScenarioError, SimulatorError)


@pytest.mark.parametrize(
    ("text", "key", "value", "rule"),
    [
        ("[run]\nzzz = 1\n", "run.zzz", 1,
         r"^is not a known key; known keys here: horizon, warmup, seed, replications, timeseries_interval, start, precision$"),
        ("[run]\nhorizn = \"2h\"\n", "run.horizn", "2h", r"^is not a known key; did you mean 'horizon'\?$"),
        ("[traffic]\nrecipents = \"uniform\"\n", "traffic.recipents", "uniform", r"did you mean 'recipients'\?"),
        ("[run]\nseed = -1\n", "run.seed", -1, r"^must be greater than or equal to 0$"),
        ("[run]\nreplications = 10001\n", "run.replications", 10001, r"^must be less than or equal to 10000$"),
        ("[run]\nhorizon = \"0s\"\n", "run.horizon", "0s", r"^must be greater than 0$"),
        ("[run]\nhorizon = true\n", "run.horizon", True, r"^is not a duration$"),
        ("[network]\ndataset = \"world\"\n", "network.dataset", "world", r"^must be 'none', 'national-2020' or 'national-2025'$"),
        ("[network.hub]\nservice = { distribution = \"weibull\", mean = \"1s\" }\n",
         "network.hub.service.distribution", "weibull", r"^must be 'exponential', 'deterministic', 'lognormal' or 'gamma'$"),
        ("[network.hub]\nservice = { distribution = \"gamma\" }\n", "network.hub.service.mean", None, r"^is required$"),
        ("[network.hub]\nservice = { mean = \"1s\" }\nbuffer = -1\n", "network.hub.buffer", -1,
         r"^must be greater than or equal to 0$"),
        ("[network.access]\nbandwidth = \"0Mbit/s\"\n", "network.access.bandwidth", "0Mbit/s", r"^must be greater than 0$"),
        ("[network.hub]\nservice = { mean = \"1s\" }\noutages = [{ start = \"1h\", duration = \"2h\", every = \"1h\" }]\n",
         "network.hub.outages[0].every", "1h", r"^must be longer than the outage duration \(2h\)$"),
        ("[network.hub]\nservers = 3\n", "network.hub.service", None,
         r"^is required \(or set passthrough = true to leave the station out\)$"),
        ("[network.hub]\nservice = { mean = \"1s\", cv = 2.0 }\n", "network.hub.service.cv", 2.0,
         r"^is fixed for the exponential distribution; remove cv$"),
        ("[network.hub]\nservice = { distribution = \"deterministic\", mean = \"1s\", cv = 0.5 }\n",
         "network.hub.service.cv", 0.5, r"^is fixed for the deterministic distribution; remove cv$"),
        ("[network.hub]\nservice = { distribution = \"gamma\", mean = \"1s\", cv = 0 }\n",
         "network.hub.service.cv", 0, r"^must be greater than 0$"),
        ("[kinds.agency]\nadoption = 1.2\n", "kinds.agency.adoption", 1.2, r"^must be less than or equal to 1$"),
        ("[kinds.agency]\nrate = \"20h\"\n", "kinds.agency.rate", "20h", r"^is not a rate"),
        ("[traffic.size]\nsigma = 6\n", "traffic.size.sigma", 6, r"^must be less than or equal to 5$"),
        ("[traffic.size]\nmedian = \"0KB\"\n", "traffic.size.median", "0KB", r"^must be greater than 0$"),
        ("[[traffic.fanout]]\nshare = 0.7\nrecipients = 2\n[[traffic.fanout]]\nshare = 0.6\nrecipients = 3\n",
         "traffic.fanout", [{"share": 0.7, "recipients": 2}, {"share": 0.6, "recipients": 3}],
         r"^shares add up to 1.3; they must not exceed 1$"),
        ("[[traffic.fanout]]\nshare = 0\nrecipients = 2\n", "traffic.fanout[0].share", 0, r"^must be greater than 0$"),
        ("[traffic.types]\nclassified = 0.4\nurgent = 0.7\n", "traffic.types.classified", 0.4,
         r"^plus urgent \(0.7\) must not exceed 1$"),
        ("[run]\nwarmup = \"2h\"\nhorizon = \"1h\"\n", "run.warmup", "2h", r"^must be shorter than the horizon \(1h\)$"),
        ("[[traffic.statuses]]\ncode = \"07\"\n", "traffic.statuses[0].code", "07", r"^must be '01', '02', "),
        ("[calendar]\nweekdays = []\n", "calendar.weekdays", [], r"^must name at least one day$"),
        ("[calendar]\nhours = []\n", "calendar.hours", [], r"^must hold at least one \[open, close\] pair$"),
        ("[calendar]\nhours = [[\"13:00\", \"17:00\"], [\"08:00\", \"12:00\"]]\n", "calendar.hours",
         [["13:00", "17:00"], ["08:00", "12:00"]], r"^must be increasing, non-overlapping \[open, close\] pairs$"),
        ("[calendar]\nhours = [[\"08:00\", \"07:00\"]]\n", "calendar.hours", [["08:00", "07:00"]],
         r"^must be increasing"),
        ("[calendar]\nhours = [[\"08:00\", \"25:00\"]]\n", "calendar.hours[0][1]", "25:00",
         r"^is not a time of day between 00:00 and 24:00$"),
        ("[calendar]\nhours = [[\"08:00\", 90000]]\n", "calendar.hours[0][1]", 90000, r"^is not a time of day"),
        ("[calendar]\nweekdays = [\"monday\"]\n", "calendar.weekdays[0]", "monday", r"^must be 'mon', 'tue'"),
        ("name = \"\"\n", "name", "", r"at least 1 character$"),
        # strict types (issue 10): no coercion of booleans, strings or floats
        ("[network.hub]\nservers = true\nservice = { mean = \"1s\" }\n", "network.hub.servers", True, r"^must be a valid integer$"),
        ("[network.hub]\nservers = \"4\"\nservice = { mean = \"1s\" }\n", "network.hub.servers", "4", r"^must be a valid integer$"),
        ("[network.hub]\nservers = 2.0\nservice = { mean = \"1s\" }\n", "network.hub.servers", 2.0, r"^must be a valid integer$"),
        ("[network.hub]\npassthrough = \"yes\"\n", "network.hub.passthrough", "yes", r"^must be a valid boolean$"),
        ("[network.hub]\npassthrough = 1\n", "network.hub.passthrough", 1, r"^must be a valid boolean$"),
        ("[kinds.agency]\nconnected = \"true\"\n", "kinds.agency.connected", "true", r"^must be a valid boolean$"),
        ("[traffic.size]\nsigma = true\n", "traffic.size.sigma", True, r"^must be a valid number$"),
        ("[traffic]\nmultiplier = \"2\"\n", "traffic.multiplier", "2", r"^must be a valid number$"),
        ("[run]\nseed = \"7\"\n", "run.seed", "7", r"^must be a valid integer$"),
        ("[run]\nhorizon = \"\u0663h\"\n", "run.horizon", "\u0663h", r"\(digits 0-9 only\)$"),
        # non-finite numbers
        ("[traffic]\nmultiplier = inf\n", "traffic.multiplier", float("inf"), r"^must be a finite number$"),
        ("[kinds.agency]\nweight = inf\n", "kinds.agency.weight", float("inf"), r"^must be a finite number$"),
        ("[analysis]\nthreshold = -inf\n", "analysis.threshold", float("-inf"), r"^must be a finite number$"),
        ("[[sweep.parameters]]\npath = \"traffic.multiplier\"\nvalues = [1, inf]\n", "sweep.parameters[0].values[1]",
         float("inf"), r"^must be a finite number, not inf$"),
        ("[[sweep.parameters]]\npath = \"calendar.hours\"\nvalues = [[[8.0, -inf]]]\n", "sweep.parameters[0].values[0]",
         [[8.0, float("-inf")]], r"^must not hold -inf; numbers must be finite$"),
        # control characters in names
        ("name = \"a\\u0000b\"\n", "name", "a\x00b", r"^must not contain control characters \('\\x00' at position 1\)$"),
        ("name = \"two\\nlines\"\n", "name", "two\nlines", r"^must not contain control characters \('\\n' at position 3\)$"),
        ("description = \"a\\u0007\"\n", "description", "a\x07", r"^must not contain control characters"),
    ],
)
def test_scenario_error_problems(text: str, key: str, value: object, rule: str) -> None:
    """Each broken rule yields one Problem with the dotted key, the value as read and the rule."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(text + BARE)
    err = info.value
    assert 1 == len(err.problems), str(err)
    (problem,) = err.problems
    assert key == problem.key
    if value is None:
        assert problem.value is missing_value()
    else:
        assert value == problem.value
        assert type(value) is type(problem.value)
    assert re.search(rule, problem.rule), problem.rule
    assert_well_formed(err, "<text>")


def test_agency_id_rules() -> None:
    """Agency ids must be non-empty words (letters, digits, '.', '-', '_')."""
    with pytest.raises(ScenarioError) as info:
        load_scenario('[[agencies]]\nid = "A B"\n[[agencies]]\nid = ""\n')
    keys = [p.key for p in info.value.problems]
    assert ["agencies[0].id", "agencies[1].id"] == keys
    assert re.search(r"match pattern", info.value.problems[0].rule)
    assert "A B" == info.value.problems[0].value
    assert_well_formed(info.value, "<text>")


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    """Several broken rules in one file are all reported, one line each, in file order."""
    path = tmp_path / "many.toml"
    path.write_text(
        '[run]\nseed = -1\n[network.hub]\nservers = 0\nservice = { mean = "1s" }\n'
        '[kinds.agency]\nrate = "-3/h"\n' + BARE,
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert [
        ("run.seed", -1, "must be greater than or equal to 0"),
        ("network.hub.servers", 0, "must be greater than 0"),
        ("kinds.agency.rate", "-3/h", "must not be negative"),
    ] == [(p.key, p.value, p.rule) for p in err.problems]
    assert [
        f"{path}: run.seed = -1: must be greater than or equal to 0",
        f"{path}: network.hub.servers = 0: must be greater than 0",
        f"{path}: kinds.agency.rate = '-3/h': must not be negative",
    ] == str(err).splitlines()
    assert_well_formed(err, str(path))


def test_problem_render() -> None:
    """Problem.render writes 'SOURCE: key = value: rule', or 'SOURCE: key: rule' with no value."""
    assert "f.toml: run.seed = -1: must be >= 0" == Problem("run.seed", -1, "must be >= 0").render("f.toml")
    assert "f.toml: run: bad" == Problem("run", missing_value(), "bad").render("f.toml")
    assert "run.seed = 'x': bad" == Problem("run.seed", "x", "bad").render("")


def test_scenario_error_single() -> None:
    """ScenarioError.single builds an error with exactly one problem."""
    err = ScenarioError.single("cli", "--seed", -3, "must be a non-negative integer")
    assert (Problem("--seed", -3, "must be a non-negative integer"),) == err.problems
    assert "cli: --seed = -3: must be a non-negative integer" == str(err)


def test_nan_is_refused() -> None:
    """nan in a float field is refused (nan compares false with every bound, so no range rule would catch it)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("[traffic]\nmultiplier = nan\n" + BARE)
    (problem,) = info.value.problems
    assert ("traffic.multiplier", "must be a finite number") == (problem.key, problem.rule)
    assert math.isnan(problem.value)


def test_names_and_description_text() -> None:
    """Agency names and the scenario name take any printable text; the description may also span lines."""
    text = 'name = "Trục liên thông 2020"\ndescription = """Hai dòng\n\tthụt lề"""\n'
    scenario = load_scenario(text + BARE.replace('id = "B"', 'id = "B"\nname = "Sở Tài chính Kiên Giang"'))
    assert "Hai dòng\n\tthụt lề" == scenario.description
    with pytest.raises(ScenarioError) as info:
        load_scenario(BARE.replace('id = "B"', 'id = "B"\nname = "Sở\\rTài chính"'))
    (problem,) = info.value.problems
    assert ("agencies[1].name", "Sở\rTài chính") == (problem.key, problem.value)
    assert "\r" not in str(info.value)


def test_replace_revalidates_nested_models() -> None:
    """A warm-up beyond the horizon set through Scenario.replace or apply_parameters with a model built by
    model_copy (which pydantic does not validate) is refused as a ScenarioError, not left to the engine."""
    scenario = load_scenario(MINIMAL)
    late = scenario.run.model_copy(update={"warmup": 3 * 3600.0})
    with pytest.raises(ScenarioError) as info:
        scenario.replace(run=late)
    (problem,) = info.value.problems
    assert ("run.warmup", 10800.0) == (problem.key, problem.value)
    assert "must be shorter than the horizon (2h)" == problem.rule
    with pytest.raises(ScenarioError, match=r"run.warmup = 10800.0: must be shorter than the horizon"):
        apply_parameters(scenario, {"run": late})
    broken_hub = scenario.network.hub.model_copy(update={"servers": 0})
    with pytest.raises(ScenarioError, match=r"network.hub.servers = 0: must be greater than 0"):
        scenario.replace(network=scenario.network.model_copy(update={"hub": broken_hub}))


def test_deep_nesting_is_refused_without_recursion() -> None:
    """Tables or arrays nested 17 to 5,000 levels deep give one problem each, never a RecursionError."""
    for depth in (17, 100, 5000):
        with pytest.raises(ScenarioError) as info:
            load_scenario("x" + ".y" * depth + " = 1\n" + BARE)
        (problem,) = info.value.problems
        assert "x" + ".y" * 15 == problem.key
        assert problem.rule.startswith("nests tables and arrays more than 16 levels deep")
    for text in ("[" * 500 + "]" * 500, "{a = " * 500 + "1" + "}" * 500):
        with pytest.raises(ScenarioError) as info:
            load_scenario(f"description = {text}\n" + BARE)
        (problem,) = info.value.problems
        assert "TOML" == problem.key
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"description": deep, "agencies": [{"id": "A"}, {"id": "B"}]})
    assert ["description" + "[0]" * 15] == [p.key for p in info.value.problems]
    assert len(str(info.value)) < 300


def test_extends_chain_of_2000_files(tmp_path: Path) -> None:
    """A chain of 2,000 files extending each other is refused after 16, naming the chain (no RecursionError)."""
    for i in range(2000):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n' if i < 1999 else BARE, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "c0.toml")
    (problem,) = info.value.problems
    assert ("extends", "c1.toml") == (problem.key, problem.value)
    assert problem.rule.startswith("leads to a chain of more than 16 files extending each other (c0.toml -> c1.toml")
    assert_well_formed(info.value, str(tmp_path / "c0.toml"))
    (tmp_path / "c16.toml").write_text(BARE, encoding="utf-8")
    assert 2 == len(load_scenario(tmp_path / "c0.toml").agencies)  # 16 files: accepted


def test_extends_cycle_names_the_files(tmp_path: Path) -> None:
    """A cycle of files extending each other (or a file extending itself) is named with the files in it."""
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "sub/c.toml"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.toml").write_text('extends = "../b.toml"\n', encoding="utf-8")
    (tmp_path / "self.toml").write_text('extends = "self.toml"\n', encoding="utf-8")
    for name, files in (("a.toml", "a.toml -> b.toml -> sub/c.toml -> b.toml"), ("self.toml", "self.toml -> self.toml")):
        with pytest.raises(ScenarioError) as info:
            load_scenario(tmp_path / name)
        (problem,) = info.value.problems
        assert "extends" == problem.key
        assert f"leads to a cycle of files extending each other: {files}" == problem.rule


def test_long_values_and_many_problems_are_cut() -> None:
    """A message quotes about 200 characters of a value and shows 20 problems, then '... and N more problems'."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(f'name = "{"x" * 100000}"\n' + BARE)
    (line,) = str(info.value).splitlines()
    assert line.startswith("<text>: name = 'xxx") and "...: must have at most 120 characters" in line
    assert len(line) < 300
    with pytest.raises(ScenarioError) as info:
        load_scenario("[calendar]\nweekdays = [" + ", ".join(['"monday"'] * 5000) + "]\n" + BARE)
    err = info.value
    assert 5000 == len(err.problems)
    lines = str(err).splitlines()
    assert 21 == len(lines)
    assert lines[:20] == [expected_line("<text>", p) for p in err.problems[:20]]
    assert "<text>: ... and 4980 more problems" == lines[-1]


@pytest.mark.parametrize("key", ["int", "str", "x[1]", "function-after[y]"])
def test_unknown_key_that_looks_like_a_union_tag(key: str) -> None:
    """An unknown key named like one of pydantic's union tags is still named as the key."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(f'[run]\n"{key}" = 2\n' + BARE)
    (problem,) = info.value.problems
    assert (f"run.{key}", 2) == (problem.key, problem.value)
    assert problem.rule.startswith("is not a known key")


def test_unknown_key_with_control_characters_stays_on_one_line() -> None:
    """An unknown key holding a newline is reported on one line, the newline escaped."""
    with pytest.raises(ScenarioError) as info:
        load_scenario('[run]\n"hori\\nzon" = "2h"\n' + BARE)
    (line,) = str(info.value).splitlines()
    assert line.startswith("<text>: run.hori\\nzon = '2h': is not a known key")


def test_quote_bounds_every_value() -> None:
    """quote() writes a value on one line in about 200 characters, whatever its size or depth."""
    deep: object = "end"
    for _ in range(100000):
        deep = {"a": [deep]}
    assert quote(deep).startswith("{'a': [{'a': [{'a': [{...}]}]}]}") or len(quote(deep)) <= 203
    assert len(quote(list(range(10**6)))) == 203
    assert "'a\\nb'" == quote("a\nb")
    assert "(1,)" == quote((1,))
    assert quote(10**5000).startswith("<an integer of about 5000 digits")
    assert "inf" == quote(float("inf"))


def test_fanout_to_all_reaching_nobody() -> None:
    """A fan-out "to all" of a kind whose only agency sends is refused; when that agency sends nothing it is fine."""
    text = ('[kinds.ministry]\nrate = "{rate}"\n[[traffic.fanout]]\nshare = 0.2\nrecipients = "all"\nkind = "ministry"\n'
            '[[agencies]]\nid = "M"\nkind = "ministry"\n[[agencies]]\nid = "P"\nrate = "5/h"\n')
    with pytest.raises(ScenarioError) as info:
        build_topology(load_scenario(text.format(rate="10/h")))
    (problem,) = info.value.problems
    assert ("traffic.fanout[0].kind", "ministry") == (problem.key, problem.value)
    assert "reach nobody" in problem.rule
    assert 2 == len(build_topology(load_scenario(text.format(rate="0/h"))).agencies)


def test_unknown_kind_and_declared_kind() -> None:
    """A kind neither declared nor a dataset kind is refused with the nearest one; declared in [kinds], it is fine."""
    text = BARE.replace('id = "B"', 'id = "B"\nkind = "{kind}"')
    with pytest.raises(ScenarioError) as info:
        build_topology(load_scenario(text.format(kind="provnce")))
    (problem,) = info.value.problems
    assert ("agencies[1].kind", "provnce") == (problem.key, problem.value)
    assert problem.rule.startswith("is not a known kind; did you mean 'province'?")
    with pytest.raises(ScenarioError, match=r"is not a known kind; known kinds: agency, .*commune, .*province"):
        build_topology(load_scenario(text.format(kind="zzzzzz")))
    for kind in ("province", "commune", "ministry-unit", "agency"):
        assert kind in build_topology(load_scenario(text.format(kind=kind))).agencies.kinds
    declared = build_topology(load_scenario("[kinds.comune]\nrate = \"1/h\"\n" + text.format(kind="comune")))
    assert "comune" in declared.agencies.kinds


def test_fanout_recipients_below_two() -> None:
    """recipients = 1 in a fan-out is reported on its key, naming both accepted forms (>= 2 or 'all')."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("[[traffic.fanout]]\nshare = 0.1\nrecipients = 1\n" + BARE)
    problems = info.value.problems
    assert {("traffic.fanout[0].recipients", 1)} == {(p.key, p.value) for p in problems}
    assert any(re.search(r"greater than or equal to 2", p.rule) for p in problems)
    assert any(re.search(r"'all'", p.rule) for p in problems)
    assert_well_formed(info.value, "<text>")


def test_clock_accepts_seconds_after_midnight() -> None:
    """Calendar hours may be given as seconds after midnight as well as 'HH:MM'."""
    calendar = load_scenario("[calendar]\nhours = [[28800, \"12:00\"]]\n" + BARE).calendar
    assert ((28800.0, 43200.0),) == calendar.hours
