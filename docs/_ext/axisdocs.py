"""Sphinx extension of the axis-simulator docs: the scenario reference, generated at build time.

On ``builder-inited`` it calls :func:`simulator.scenario.json_schema` (the schema that
``axis-sim schema`` prints, generated from the models the loader validates with) and writes
``docs/_generated/scenario-keys.md``: one table per table of the scenario format (key,
type and unit, default, example, description), linked to each other. The page
``reference/scenario.md`` includes it, so the reference and the validator cannot drift: a key
added to, renamed in or removed from the models changes the page at the next build.

The generated folder is rewritten on every build and not kept in git (``.gitignore``).

It also renders the equations to MathML at build time (``html_math_renderer = "mathml"``, with
``latex2mathml``), so a page with equations loads no script: ``sphinx.ext.mathjax`` would fetch MathJax
from a CDN, and the site must read offline, from disk (``tests/test_docs.py`` opens it in Chromium
and fails on any request that is not ``file://``). Browsers render MathML Core natively.

Finally, the pages under ``vi/`` are marked ``<html lang="vi">`` (the site's language is English).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Unit words for the string patterns of :mod:`simulator.units` (checked in this order).
_PATTERN_UNITS = [
    ("bit/s", "bandwidth (`bit/s kbit/s Mbit/s Gbit/s B/s KB/s MB/s GB/s`; a bare number is bytes per second)"),
    ("KiB", "size (`B KB MB GB KiB MiB GiB`; a bare number is bytes)"),
    ("/[ \\t\\n\\r\\f\\v]*(?:us", "rate (`COUNT/UNIT`: `20/h`, `1500/d`)"),
    ("mon|tue", "moment (a duration from day 0, a weekday and time of the first week: `\"mon 08:00\"`, or with "
                "`run.start` a local date and time: `\"2020-03-23 08:00\"`)"),
    ("24:00", "time of day (`\"HH:MM\"`)"),
    ("[0-9]{4}-", "date (`\"YYYY-MM-DD\"`)"),
    ("min|h|d|w", "duration (`us ms s min h d w`; a bare number is seconds)"),
    ("[\\w.\\-]", "identifier (letters, digits, `.`, `-`, `_`)"),
]

#: Section titles of the top-level tables, in the order of the file format.
_SECTION_TITLES = {
    "Scenario": "Top level",
    "RunSpec": "`[run]`",
    "CalendarSpec": "`[calendar]`",
    "ProfileSpec": "`[calendar.profile]`",
    "NetworkSpec": "`[network]`",
    "TrafficSpec": "`[traffic]`",
    "ConnectionSpec": "`[connection]`",
    "AnalysisSpec": "`[analysis]`",
    "SweepSpec": "`[sweep]`",
}


def _anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def _code(value: Any) -> str:
    """A value as inline code, written as in a TOML file."""
    return "`" + _toml(value).replace("|", "\\|") + "`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _text(value: str) -> str:
    """Plain schema text for a Markdown table cell."""
    return " ".join(value.split()).replace("|", "\\|")


def _model_name(ref: str) -> str:
    return ref.removeprefix("#/$defs/").removesuffix("Override")


def _kind(prop: dict[str, Any]) -> str:
    """Type and unit of a property, in words, with a link for a nested table."""
    if "$ref" in prop:
        name = _model_name(prop["$ref"])
        return f"table, see [{name}](#{_anchor(name)})"
    if "const" in prop:
        return _code(prop["const"])
    if "enum" in prop:
        return "one of " + ", ".join(_code(v) for v in prop["enum"])
    if "anyOf" in prop:
        kinds: list[str] = []
        for branch in prop["anyOf"]:
            kind = _kind(branch)
            if kind.startswith("duration") and "number" in kinds:
                kinds.remove("number")
            if kind == "number" and any(k.split(" ")[0] in {"duration", "rate", "size", "bandwidth", "moment"} for k in kinds):
                continue
            if kind not in kinds:
                kinds.append(kind)
        return " or ".join(kinds)
    if "pattern" in prop:
        for marker, words in _PATTERN_UNITS:
            if marker in prop["pattern"]:
                return words
        return "text"
    kind = prop.get("type", "any")
    if kind == "array":
        items = prop.get("items") or (prop.get("prefixItems") or [{}])[0]
        count = ""
        if prop.get("minItems") is not None and prop.get("minItems") == prop.get("maxItems"):
            count = f"{prop['minItems']} "
        return f"list of {count}" + _kind(items)
    if kind == "object":
        values = prop.get("additionalProperties") or next(iter(prop.get("patternProperties", {}).values()), None)
        if isinstance(values, dict):
            return "table of " + _kind(values) + " by name"
        return "table"
    return {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean"}.get(kind, kind)


def _children(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """(suffix, model name) of the nested tables a property leads to."""
    found: list[tuple[str, str]] = []
    if "$ref" in prop:
        found.append(("", _model_name(prop["$ref"])))
    for branch in prop.get("anyOf", []):
        found.extend(_children(branch))
    if prop.get("type") == "array":
        items = prop.get("items") or (prop.get("prefixItems") or [{}])[0]
        found.extend(("[]" + suffix, name) for suffix, name in _children(items))
    if prop.get("type") == "object":
        values = prop.get("additionalProperties") or next(iter(prop.get("patternProperties", {}).values()), None)
        if isinstance(values, dict):
            found.extend((".<name>" + suffix, name) for suffix, name in _children(values))
    return found


def scenario_reference(schema: dict[str, Any]) -> str:
    """The Markdown of the scenario reference: one table per model of ``schema``."""
    defs = schema["$defs"]
    models: dict[str, dict[str, Any]] = {"Scenario": schema}
    models.update({name: model for name, model in defs.items() if not name.endswith("Override")})
    used_at: dict[str, list[str]] = {"Scenario": [""]}
    order = ["Scenario"]
    queue = ["Scenario"]
    while queue:  # breadth first from the top: the order of the tables and every path a table is found at
        name = queue.pop(0)
        for path in used_at[name][:1]:
            for key, prop in models[name]["properties"].items():
                for suffix, child in _children(prop):
                    child_path = f"{path}.{key}{suffix}".lstrip(".")
                    if child not in used_at:
                        used_at[child] = []
                        order.append(child)
                        queue.append(child)
                    if child_path not in used_at[child]:
                        used_at[child].append(child_path)
        for path in used_at[name][1:]:
            for key, prop in models[name]["properties"].items():
                for suffix, child in _children(prop):
                    child_path = f"{path}.{key}{suffix}"
                    if child_path not in used_at[child]:
                        used_at[child].append(child_path)
    lines = ["<!-- Generated by docs/_ext/axisdocs.py from simulator.scenario.json_schema(); do not edit. -->", ""]
    for name in order:
        model = models[name]
        title = _SECTION_TITLES.get(name, f"{name}")
        lines += [f"({_anchor(name)})=", f"## {title}", ""]
        if name != "Scenario":
            paths = ", ".join(f"`{p}`" for p in used_at[name])
            lines += [f"Found at: {paths}.", ""]
        description = model.get("description", "")
        if description:
            lines += [description.strip(), ""]
        required = set(model.get("required", []))
        if name == "Scenario":
            required |= set(schema.get("then", {}).get("required", []))
        lines += ["| key | type and unit | default | example | description |", "| --- | --- | --- | --- | --- |"]
        for key, prop in model["properties"].items():
            default = "required" if key in required else (_code(prop["default"]) if "default" in prop else "unset")
            examples = prop.get("examples", [])
            example = _code(examples[0]) if examples else ""
            lines.append(f"| `{key}` | {_kind(prop)} | {default} | {example} | {_text(prop.get('description', ''))} |")
        lines.append("")
    return "\n".join(lines)


def _write_reference(app: Any) -> None:
    from simulator.scenario import json_schema

    folder = Path(app.srcdir) / "_generated"
    folder.mkdir(parents=True, exist_ok=True)
    text = scenario_reference(json_schema())
    target = folder / "scenario-keys.md"
    if not target.exists() or target.read_text(encoding="utf-8") != text:  # unchanged: no rebuild of the page
        target.write_text(text, encoding="utf-8")


def _mathml(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip(), display="block" if display else "inline")


def _visit_math(self: Any, node: Any) -> None:
    from docutils import nodes

    self.body.append(_mathml(node.astext(), display=False))
    raise nodes.SkipNode


def _visit_displaymath(self: Any, node: Any) -> None:
    from docutils import nodes

    latex = node.astext()
    if not node.get("nowrap") and "\\begin{" not in latex and "\\\\" in latex:
        latex = "\\begin{aligned}" + latex + "\\end{aligned}"  # several lines, as sphinx.ext.mathjax would split them
    self.body.append(f'<div class="math notranslate nohighlight">{_mathml(latex, display=True)}</div>')
    raise nodes.SkipNode


def _page_language(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if pagename.startswith("vi/"):
        context["language"] = "vi"


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _write_reference)
    app.connect("html-page-context", _page_language)
    app.add_html_math_renderer("mathml", (_visit_math, None), (_visit_displaymath, None))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
