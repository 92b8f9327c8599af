"""Tests of the published JSON Schema of scenario files (simulator.scenario.json_schema, axis-sim schema)."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Iterator

import pytest

from simulator.cli import main
from simulator.scenario import json_schema, load_scenario

jsonschema = pytest.importorskip("jsonschema")

SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("*.toml"))
NATIONAL = Path(__file__).parents[1] / "scenarios" / "national-2020.toml"

#: Python documentation markup: reST roles, inline literals, numpydoc section underlines, doctest prompts.
MARKUP = re.compile(r":\w+:`|``|^\s*-{3,}\s*$|>>>", re.MULTILINE)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The schema, generated once for the module."""
    return json_schema()


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of the top level and of every model in ``$defs``, as (``Model.key``, its schema)."""
    for key, prop in schema["properties"].items():
        yield key, prop
    for model, definition in schema["$defs"].items():
        for key, prop in definition.get("properties", {}).items():
            yield f"{model}.{key}", prop


def validator(schema: dict[str, Any], part: dict[str, Any]) -> Any:
    """A validator of ``part`` of ``schema`` (its ``$ref`` resolved against the whole schema's ``$defs``)."""
    return jsonschema.Draft202012Validator({**part, "$defs": schema["$defs"]})


def unit_pattern(node: dict[str, Any]) -> str | None:
    """The pattern of a quantity written with a unit (text matching a pattern, or a number), else None."""
    branches = node.get("anyOf", [])
    if {b.get("type") for b in branches} == {"string", "number"} and any("pattern" in b for b in branches):
        return next(b["pattern"] for b in branches if "pattern" in b)
    return next((p for p in (unit_pattern(b) for b in branches) if p), None)


def unit_values(value: Any, node: dict[str, Any], schema: dict[str, Any], where: str) -> Iterator[tuple[str, Any, str]]:
    """Every (place, value, pattern) of ``value`` that ``node`` types as a quantity with a unit."""
    if "$ref" in node:
        node = {**schema["$defs"][node["$ref"].removeprefix("#/$defs/")], **node}
    pattern = unit_pattern(node)
    if pattern is not None:
        yield where, value, pattern
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unit_values(item, node["properties"][key], schema, f"{where}.{key}")
    elif isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            yield from unit_values(item, node["items"], schema, f"{where}[{i}]")


def test_json_schema_shape(schema: dict[str, Any]) -> None:
    """json_schema() is a JSON-serialisable draft 2020-12 schema describing the top-level tables."""
    assert {"run", "network", "agencies", "traffic"} <= set(schema["properties"])
    assert "https://json-schema.org/draft/2020-12/schema" == schema["$schema"]
    assert schema == json.loads(json.dumps(schema))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str], schema: dict[str, Any]) -> None:
    """axis-sim schema prints json_schema() as JSON, Vietnamese examples unescaped."""
    assert 0 == main(["schema"])
    out = capsys.readouterr().out
    assert schema == json.loads(out)
    assert "Bộ Tài chính" in out


def test_every_property_is_described(schema: dict[str, Any]) -> None:
    """Every key of the file has a plain-text description (no Python markup) and examples that are valid values."""
    for where, prop in properties(schema):
        description = prop.get("description", "")
        assert description.strip(), f"{where} has no description"
        assert not MARKUP.search(description), f"{where}: Python markup in {description!r}"
        assert prop.get("examples"), f"{where} has no example"
        check = validator(schema, prop)
        for example in prop["examples"]:
            assert check.is_valid(example), f"{where}: example {example!r} is not a valid value"
    for model, definition in schema["$defs"].items():
        assert not MARKUP.search(definition.get("description", "")), f"{model}: Python markup in its description"
    assert not MARKUP.search(schema["description"])


def test_defaults_are_written_in_units(schema: dict[str, Any]) -> None:
    """Every default is a valid value, and every duration, rate, size or time of day in it is text with its unit."""
    checked = []
    for where, prop in properties(schema):
        if "default" not in prop:
            continue
        assert validator(schema, prop).is_valid(prop["default"]), f"{where}: default {prop['default']!r} is invalid"
        for place, value, pattern in unit_values(prop["default"], prop, schema, where):
            assert isinstance(value, str) and re.match(pattern, value), f"{place}: default {value!r} has no unit"
            checked.append(place)
    run = schema["$defs"]["RunSpec"]["properties"]
    assert ("1w", "0s", "1h", 1) == (run["horizon"]["default"], run["warmup"]["default"],
                                     run["timeseries_interval"]["default"], run["seed"]["default"])
    assert "360KB" == schema["$defs"]["SizeSpec"]["properties"]["median"]["default"]
    assert "0/h" == schema["$defs"]["KindSpec"]["properties"]["rate"]["default"]
    assert [["08:00", "12:00"], ["13:00", "17:00"]] == schema["$defs"]["CalendarSpec"]["properties"]["hours"]["default"]
    assert {"run.horizon", "traffic.postal_delay.mean", "network.access.latency"} <= set(checked)


def test_defaults_and_examples_hold_no_null(schema: dict[str, Any]) -> None:
    """TOML has no null: no default, example or type alternative is null."""
    text = json.dumps(schema)
    assert "null" not in text


def test_name_default_is_left_to_the_loader(schema: dict[str, Any]) -> None:
    """The name defaults to the file name, so the schema states no default for it."""
    assert "default" not in schema["properties"]["name"]
    assert "file name" in schema["properties"]["name"]["description"]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_schema_validates_every_shipped_scenario(schema: dict[str, Any], path: Path) -> None:
    """Each file of scenarios/, as written (extends and unit strings included), is valid against the schema."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    jsonschema.Draft7Validator(schema).validate(data)  # what editors on older validators (taplo: draft 7) check


def test_schema_reads_the_same_in_draft_7(schema: dict[str, Any]) -> None:
    """No keyword that only draft 2019-09 or 2020-12 know (taplo's validator reads draft 7)."""
    text = json.dumps(schema)
    for keyword in ("prefixItems", "$dynamicRef", "unevaluatedProperties", "unevaluatedItems", "dependentRequired",
                    "dependentSchemas", "$anchor"):
        assert f'"{keyword}"' not in text


@pytest.mark.parametrize(("data", "valid"), [
    ({"netwrk": {}}, False),
    ({"extends": "x.toml", "netwrk": {}}, False),
    ({"run": {"horizon": "2 weeks"}}, False),
    ({"run": {"horizon": "14 d", "warmup": "auto"}}, True),
    ({"kinds": {"province": {"rate": "13/h"}}}, True),
    ({"kinds": {"province": {"rate": "13 per hour"}}}, False),
    ({"calendar": {"hours": [["8:00", "24:00"]]}}, True),
    ({"calendar": {"hours": [["08:00", "24:01"]]}}, False),
    ({"calendar": {"hours": [["08:00"]]}}, False),
])
def test_schema_checks_keys_and_units(schema: dict[str, Any], data: dict[str, Any], valid: bool) -> None:
    """The schema refuses unknown keys and quantities the loader cannot parse, and takes what it can."""
    assert valid == jsonschema.Draft202012Validator(schema).is_valid(data)


def test_extending_file_may_leave_merged_tables_incomplete(schema: dict[str, Any], tmp_path: Path) -> None:
    """With extends, a table merged key by key may omit required keys (the loader takes them from the other file).

    Without extends it may not, and a list entry (replaced whole, never merged) may not either.
    """
    check = jsonschema.Draft202012Validator(schema)
    override = {"network": {"hub": {"service": {"cv": 2.0}}}, "traffic": {"postal_delay": {"cv": 0.8}}}
    assert check.is_valid({"extends": "national-2020.toml", **override})
    assert not check.is_valid(override)
    statuses = {"traffic": {"statuses": [{"code": "01", "after": {"distribution": "gamma", "cv": 2.0}}]}}
    assert not check.is_valid({"extends": "national-2020.toml", **statuses})
    extending = tmp_path / "x.toml"
    extending.write_text(f'extends = {json.dumps(str(NATIONAL))}\n[network.hub.service]\ncv = 2.0\n'
                         '[traffic.postal_delay]\ncv = 0.8\n', encoding="utf-8")
    scenario = load_scenario(extending)
    assert (2.0, 0.8) == (scenario.network.hub.service.cv, scenario.traffic.postal_delay.cv)
