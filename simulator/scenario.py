"""Scenario: the validated, frozen description of one simulation study.

A scenario is a TOML file (or text) that a planner edits. :func:`load_scenario`
parses it once, validates every value up front and returns a frozen
:class:`Scenario`; nothing downstream reads raw dictionaries or defaults of its
own. Every default lives here, in the schema, and :func:`json_schema` publishes
it. Quantities carry units in the file ("250ms", "20/h", "360KB") and are SI
inside (seconds, per second, bytes). TOML is data only: a scenario can never
execute code.

Errors name the file, the dotted key path, the bad value and the rule, e.g.::

    scenarios/x.toml: network.hub.servers = -2: must be greater than 0

and an unknown key suggests the nearest valid one.
"""
from __future__ import annotations

import datetime
import difflib
import errno
import math
import os
import re
import stat
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .errors import Problem, ScenarioError, missing_value, quote
from .units import (
    BANDWIDTH_UNITS,
    DATE_CLOCK,
    DURATION_UNITS,
    SIZE_UNITS,
    format_duration,
    format_rate,
    format_size,
    parse_bandwidth,
    parse_clock,
    parse_moment,
    parse_duration,
    parse_rate,
    parse_size,
)

__all__ = [
    "Distribution",
    "Outage",
    "Standby",
    "StationSpec",
    "LinkSpec",
    "BackboneSpec",
    "NetworkSpec",
    "KindSpec",
    "AgencySpec",
    "FanoutSpec",
    "TypesSpec",
    "SizeSpec",
    "StatusSpec",
    "ScriptedDocument",
    "TrafficSpec",
    "CalendarSpec",
    "ProfileSpec",
    "PeriodEndSpec",
    "NamedPeriod",
    "RunSpec",
    "PrecisionSpec",
    "ConnectionSpec",
    "SweepParameter",
    "SweepSpec",
    "AnalysisSpec",
    "Scenario",
    "DATASETS",
    "load_scenario",
    "scenario_from_dict",
    "json_schema",
    "dump_scenario",
    "apply_parameters",
]

#: Built-in structures a scenario may start from (see :mod:`simulator.structures`).
DATASETS = ("none", "national-2020", "national-2025")
#: Tables and arrays nested deeper than this are refused (the deepest key a scenario has is about 8 levels down).
MAX_DEPTH = 16
#: Longest chain of files extending each other (``extends``).
MAX_EXTENDS = 16
#: Largest scenario file read, in bytes.
MAX_FILE_BYTES = 16 * 1024 * 1024


def _unit(parse: Any, fmt: Any, pattern: str, description: str, examples: list[str],
          largest: float | None = None) -> list[Any]:
    """The validator, the serializer and the JSON Schema of a quantity written with a unit.

    The schema takes what ``parse`` takes: text matching ``pattern``, or a
    non-negative number already in SI units (at most ``largest``).
    """
    def before(value: Any) -> Any:
        return parse(value)

    number: dict[str, Any] = {"type": "number", "minimum": 0}
    if largest is not None:
        number["maximum"] = largest
    return [
        BeforeValidator(before),
        PlainSerializer(fmt, return_type=Union[str, float], when_used="json"),
        WithJsonSchema({"anyOf": [{"type": "string", "pattern": pattern}, number],
                        "description": description, "examples": examples}),
    ]


def _format_bandwidth(value: float) -> Union[str, float]:
    return value


def _format_clock(seconds: float) -> str:
    """Seconds after midnight as ``"HH:MM"``."""
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


# The patterns accept what simulator.units parses (ASCII digits and white space; JSON Schema regexes are ECMA-262).
_SPACE = r"[ \t\n\r\f\v]*"
_NUMBER = r"\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _quantity_pattern(units: Any, unit_required: bool = False, per_time: bool = False) -> str:
    """A regex for a number followed by one of ``units`` (``COUNT/UNIT`` with ``per_time``)."""
    unit = "(?:" + "|".join(re.escape(u) for u in units) + ")"
    if per_time:
        return f"^{_SPACE}{_NUMBER}{_SPACE}/{_SPACE}{unit}{_SPACE}$"
    return f"^{_SPACE}{_NUMBER}{_SPACE}{unit}{'' if unit_required else '?'}{_SPACE}$"


Duration = Annotated[float, *_unit(
    parse_duration, format_duration, _quantity_pattern(DURATION_UNITS),
    f"A duration: a number and a unit ({', '.join(DURATION_UNITS)}); a bare number is seconds.",
    ["250ms", "30min", "8h", "7d"])]
Rate = Annotated[float, *_unit(
    parse_rate, lambda v: format_rate(v, "h"), _quantity_pattern(DURATION_UNITS, per_time=True),
    f"A rate: a count per unit of time ({', '.join(DURATION_UNITS)}); a bare number is per second.",
    ["20/h", "1200/h", "1500/d"])]
Size = Annotated[float, *_unit(
    parse_size, format_size, _quantity_pattern(SIZE_UNITS),
    f"A size: a number and a unit ({', '.join(SIZE_UNITS)}; KB = 1000 B, KiB = 1024 B); a bare number is bytes.",
    ["360KB", "2MB"])]
Bandwidth = Annotated[float, *_unit(
    parse_bandwidth, _format_bandwidth, _quantity_pattern(BANDWIDTH_UNITS),
    f"A bandwidth: a number and a unit ({', '.join(BANDWIDTH_UNITS)}); a bare number is bytes per second.",
    ["100Mbit/s", "10MB/s"])]
Moment = Annotated[float, *_unit(
    parse_moment, format_duration,
    _quantity_pattern(DURATION_UNITS) + r"|^[ \t]*(?:mon|tue|wed|thu|fri|sat|sun)[ \t]+(?:[01]?[0-9]|2[0-3]):[0-5][0-9][ \t]*$"
    r"|^[ \t]*[0-9]{4}-[0-9]{2}-[0-9]{2}[ \tT]+(?:[01]?[0-9]|2[0-3]):[0-5][0-9][ \t]*$",
    'A moment of the run: a duration from the start (day 0, 00:00), or a weekday and time of the first week, '
    '"mon 08:00" (the first Monday from day 0 on; day 0 is the weekday of run.start, or a Monday), or with run.start '
    'a date and time, "2020-03-23 08:00" (local time).', ["mon 08:00", "33h", "2020-03-23 08:00"])]
Clock = Annotated[float, *_unit(
    parse_clock, _format_clock, f"^{_SPACE}(?:[01]?[0-9]|2[0-3]):[0-5][0-9]{_SPACE}$|^{_SPACE}24:00{_SPACE}$",
    'A time of day "HH:MM" from "00:00" to "24:00"; a bare number is seconds after midnight.',
    ["08:00", "17:30"], largest=86400.0)]
# Scalars are strict: no true for 1, no "4" for 4, no "yes" for true (a float field still takes an integer).
Integer = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]
Share = Annotated[Number, Field(ge=0.0, le=1.0)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]


#: Unicode control characters (category Cc) and the line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The same, less the line breaks and tabs free text may hold.
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def _no_control_characters(text: str, pattern: re.Pattern[str] = _CONTROL) -> str:
    """``text`` unchanged, or ValueError naming its first control character (or line separator)."""
    found = pattern.search(text)
    if found:
        raise ValueError(f"must not contain control characters ({found.group()!r} at position {found.start()})")
    return text


#: A name shown in tables and file names: printable, on one line (length limits go before it in Annotated).
OneLine = AfterValidator(_no_control_characters)
#: Free text: may span lines, but holds no other control character.
Text = Annotated[str, AfterValidator(lambda text: _no_control_characters(text, _CONTROL_IN_TEXT))]


def _finite_value(value: Any) -> Any:
    """``value`` unchanged, or ValueError if it is or holds a non-finite number (TOML ``inf``, ``nan``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"must be a finite number, not {item!r}" if item is value
                             else f"must not hold {item!r}; numbers must be finite")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return value


def _non_empty(rule: str) -> AfterValidator:
    """A validator refusing an empty list with ``rule``.

    Unlike ``Field(min_length=1)``, it stays silent when the list had items
    that were all refused (pydantic would report those and an empty list).
    """
    def check(items: tuple[Any, ...]) -> tuple[Any, ...]:
        if not items:
            raise ValueError(rule)
        return items

    return AfterValidator(check)


def _without_default(schema: dict[str, Any]) -> None:
    """Drop the default from a field's JSON Schema: the loader supplies a value of its own."""
    schema.pop("default", None)


class _Model(BaseModel):
    # allow_inf_nan: no float field takes TOML's inf or nan; revalidate_instances: Scenario.replace(run=...) with a
    # model built by model_copy(update=...) is checked again (pydantic would otherwise trust the instance)
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False,
                              revalidate_instances="always")


class FrozenDict(dict):  # type: ignore[type-arg]
    """A read-only dict, for the tables of a frozen scenario (picklable, unlike a mapping proxy)."""

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a scenario's tables are read-only; use Scenario.replace or simulator.apply_parameters")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


class Distribution(_Model):
    """A non-negative random duration, given by its mean and coefficient of variation.

    ``exponential`` has cv = 1 and ``deterministic`` cv = 0 by definition;
    ``lognormal`` and ``gamma`` take ``cv`` (default 1).
    """

    distribution: Literal["exponential", "deterministic", "lognormal", "gamma"] = Field(
        "exponential", description="The law of the duration: exponential (cv 1), deterministic (always the mean, cv 0), "
        "lognormal or gamma (both with the cv you give).", examples=["lognormal"])
    mean: Duration = Field(description="Mean duration.", examples=["250ms", "1.5s", "2h"])
    cv: Annotated[Number, Field(gt=0.0)] | None = Field(
        None, description="Coefficient of variation (standard deviation over mean), for lognormal and gamma only; "
        "unset means 1.", examples=[0.5, 1.5])

    @field_validator("cv")
    @classmethod
    def _cv_fits(cls, cv: float | None, info: ValidationInfo) -> float | None:
        law = info.data.get("distribution")
        if cv is not None and law in ("exponential", "deterministic"):
            raise ValueError(f"is fixed for the {law} distribution; remove cv")
        return cv

    @property
    def scv(self) -> float:
        """Squared coefficient of variation (0 deterministic, 1 exponential)."""
        if self.distribution == "deterministic":
            return 0.0
        if self.distribution == "exponential":
            return 1.0
        return (1.0 if self.cv is None else self.cv) ** 2


class Outage(_Model):
    """A window in which a station starts no new service (work in progress finishes)."""

    start: Moment = Field(description="When the first outage begins: a duration from the start of the simulation "
                          '(day 0, 00:00) or a weekday and time of the first week ("mon 08:00": the first Monday '
                          'from day 0 on, day 0 being the weekday of run.start, or a Monday); with every = "1w" it '
                          'repeats weekly.', examples=["mon 08:00", "33h"])
    duration: Annotated[Duration, Field(gt=0)] = Field(description="How long each outage lasts.",
                                                       examples=["1h", "30min"])
    every: Annotated[Duration, Field(gt=0)] | None = Field(
        None, description="Repeat the outage with this period (longer than its duration); unset means once.",
        examples=["7d"])

    @field_validator("start", mode="before")
    @classmethod
    def _in_the_week_of_day_0(cls, start: Any, info: ValidationInfo) -> Any:
        """A weekday and time counts from day 0's weekday, a date and time from day 0's date (run.start's weekday
        and date, given as validation context)."""
        context = info.context or {}
        first_weekday = context.get("first_weekday", 0)
        if isinstance(start, str) and (first_weekday or DATE_CLOCK.match(start)):
            return parse_moment(start, first_weekday, context.get("first_day"))
        return start

    @field_validator("every")
    @classmethod
    def _longer_than_duration(cls, every: float | None, info: ValidationInfo) -> float | None:
        duration = info.data.get("duration")
        if every is not None and duration is not None and duration >= every:
            raise ValueError(f"must be longer than the outage duration ({format_duration(duration)})")
        return every


class Failures(_Model):
    """Failures by chance: the station runs for a random time, fails, and is repaired after a random time.

    The time runs on the calendar, or counts only the station's work (``clock = "busy"``).
    """

    between: Distribution = Field(description="Time from a repair to the next failure (the first counts from the "
                                  'start of the run); with clock = "busy", seconds of work done.',
                                  examples=[{"distribution": "exponential", "mean": "30d"}])
    repair: Distribution = Field(description="Time a failure lasts, until the station serves again.",
                                 examples=[{"distribution": "lognormal", "mean": "2h", "cv": 1.0}])
    interrupted: Literal["resume", "restart"] = Field(
        "resume", description='What happens to the documents in service when the station fails: "resume" finishes '
        'their service after the repair, "restart" serves them again from the start after the repair.',
        examples=["restart"])
    clock: Literal["calendar", "busy"] = Field(
        "calendar", description='What the time between failures counts: "calendar" counts all time, busy or idle; '
        '"busy" counts only the work the station does (server-seconds of service), so it fails only while it '
        'serves: with several servers, in proportion to those busy (with one server, exactly while busy). Not on '
        "a backbone link, which does no work.", examples=["busy"])

    @field_validator("between", "repair")
    @classmethod
    def _positive_mean(cls, value: Distribution) -> Distribution:
        if value.mean <= 0:
            raise ValueError("needs a mean above 0 (a station cannot fail, or be repaired, in no time)")
        return value


class Standby(_Model):
    """A standby that takes over a station while it is down (the hub's secondary site).

    When the station goes down (outage or failure) the standby starts serving
    after ``switchover``; it hands back when the station is up again. Documents
    in service on the station when it went down stay with it (as
    ``failures.interrupted`` says); those in service on the standby at the hand
    back finish there.
    """

    servers: Annotated[Integer, Field(gt=0)] = Field(1, description="Documents the standby serves at once.",
                                                     examples=[2])
    service: Distribution = Field(description="Service time on the standby.",
                                  examples=[{"distribution": "exponential", "mean": "400ms"}])
    switchover: Annotated[Duration, Field(ge=0)] = Field(300.0, description="Time from the station going down until "
                                                         "the standby serves.", examples=["5min"])


class StationSpec(_Model):
    """A queueing station: servers, service-time distribution, optional buffer, outages and failures.

    ``passthrough = true`` leaves the station out of the model: documents cross
    it without service or queueing (links around it still count), so any other
    setting on it would have no effect and is refused.
    """

    passthrough: Flag = Field(False, description="Leave the station out of the model: documents cross it without "
                              "service or queueing.", examples=[True])
    servers: Annotated[Integer, Field(gt=0)] = Field(1, description="Documents served at once.", examples=[4])
    service: Distribution | None = Field(
        default=None, validate_default=True,
        description="Service time of one document or status message; required unless passthrough = true.",
        examples=[{"distribution": "exponential", "mean": "1.5s"}])
    buffer: Annotated[Integer, Field(ge=0)] | None = Field(
        None, description="Places in the queue (besides the servers); an arrival finding them full is dropped. "
        "Unset means unlimited.", examples=[100])
    outages: tuple[Outage, ...] = Field((), description="Windows in which the station starts no new service.",
                                        examples=[[{"start": "33h", "duration": "1h"}]])
    failures: Failures | None = Field(
        None, description="Failures by chance (random time between failures and random repair time); unset means "
        "the station never fails by chance.",
        examples=[{"between": {"mean": "30d"}, "repair": {"mean": "2h"}, "interrupted": "resume"}])
    while_down: Literal["hold", "reject"] = Field(
        "hold", description='What the station does with arrivals during an outage or failure: "hold" accepts and '
        'queues them, "reject" refuses them (the sender retries as network.retry says).', examples=["reject"])
    standby: Standby | None = Field(
        None, description="A standby that serves while the station is down (after the switchover) and hands back "
        "when it is up; needs outages or failures. Unset means no standby.",
        examples=[{"servers": 2, "service": {"mean": "400ms"}, "switchover": "5min"}])

    @field_validator("service")
    @classmethod
    def _service_given(cls, service: Distribution | None, info: ValidationInfo) -> Distribution | None:
        if service is None and info.data.get("passthrough", True) is False:  # absent: passthrough itself is invalid
            raise ValueError("is required (or set passthrough = true to leave the station out)")
        return service

    @model_validator(mode="after")
    def _nothing_set_on_a_passthrough(self) -> "StationSpec":
        """A pass-through station is not modelled: a setting on it would be silently ignored, so it is an error.

        ``service`` may stay (a file that extends another cannot remove it); the
        others must be at their defaults.
        """
        if self.passthrough:
            ignored = [key for key, default in _STATION_DEFAULTS.items() if getattr(self, key) != default]
            if ignored:
                defaults = ", ".join(f"{key} = {_STATION_DEFAULT_TEXT[key]}" for key in ignored)
                raise ValueError(f"{', '.join(ignored)} cannot be set on a pass-through station (passthrough = true "
                                 "leaves it out of the model, so it would have no effect): remove "
                                 f"{'it' if len(ignored) == 1 else 'them'}, or set passthrough = false "
                                 f"(in a file that extends another: {defaults})")
        if self.standby is not None and not self.outages and self.failures is None:
            raise ValueError("standby needs outages or failures on the station: a standby of a station that never "
                             "goes down would have no effect")
        return self


#: StationSpec settings that only a modelled (not pass-through) station uses, with their defaults.
_STATION_DEFAULTS: dict[str, object] = {"servers": 1, "buffer": None, "outages": (), "failures": None,
                                        "while_down": "hold", "standby": None}
_STATION_DEFAULT_TEXT = {"servers": "1", "buffer": "(unset: remove it)", "outages": "[]",
                         "failures": "(unset: remove it)", "while_down": '"hold"', "standby": "(unset: remove it)"}




class LinkSpec(_Model):
    """A network link: fixed latency plus size / bandwidth (no bandwidth = instant)."""

    latency: Duration = Field(0.0, description="Fixed delay of every crossing.", examples=["20ms"])
    bandwidth: Annotated[Bandwidth, Field(gt=0)] | None = Field(
        None, description="Transfer rate: a package takes its size over the bandwidth. Unset means instant.",
        examples=["100Mbit/s"])


class BackboneSpec(LinkSpec):
    """The link between a platform and the national hub, which can be cut.

    While a backbone is cut (an outage or a failure by chance), the side that
    must send across it holds the packages (store-and-forward) and sends them
    when the link returns; the link's latency and bandwidth then apply as usual.
    Each platform's backbone is cut on its own (its own random failures).
    """

    outages: tuple[Outage, ...] = Field((), description="Windows in which the link is cut.",
                                        examples=[[{"start": "mon 09:00", "duration": "2h"}]])
    failures: Failures | None = Field(
        None, description="Cuts by chance (random time between cuts and random repair time); unset means the link "
        "is never cut by chance. interrupted has no effect on a link (a package is held before it crosses).",
        examples=[{"between": {"mean": "60d"}, "repair": {"mean": "4h"}}])

    @field_validator("failures")
    @classmethod
    def _cut_by_the_calendar(cls, failures: Failures | None) -> Failures | None:
        """A link does no work: a clock of its busy time would never run, so the link would never be cut."""
        if failures is not None and failures.clock == "busy":
            raise ValueError('clock = "busy" counts work done, and a link does none (it would never be cut): '
                             'remove clock, or set clock = "calendar"')
        return failures

    @property
    def can_be_cut(self) -> bool:
        """Whether the link has outages or failures."""
        return bool(self.outages) or self.failures is not None


class RetrySpec(_Model):
    """How a sender resends a document (or status message) that a station refused or dropped.

    The sending side keeps the package (store-and-forward) and sends it again
    after ``first``, then after each wait times ``factor``, at most ``max``,
    each wait scaled by a random factor in [1 - jitter, 1 + jitter]. After
    ``attempts`` resends the package is a dead letter: dropped and counted, or
    sent on paper when ``fallback = "paper"``.
    """

    first: Annotated[Duration, Field(gt=0)] = Field(60.0, description="Wait before the first resend.",
                                                    examples=["1min", "30s"])
    factor: Annotated[Number, Field(ge=1.0, le=100.0)] = Field(2.0, description="Each wait is the previous one "
                                                               "times this factor (exponential backoff).",
                                                               examples=[2.0])
    max: Annotated[Duration, Field(gt=0)] = Field(3600.0, description="Longest wait between two attempts.",
                                                  examples=["1h"])
    attempts: Annotated[Integer, Field(ge=0, le=1000)] = Field(8, description="Resends before the package is a "
                                                               "dead letter.", examples=[8])
    jitter: Share = Field(0.1, description="Each wait is scaled by a random factor between 1 - jitter and "
                          "1 + jitter, so that senders do not resend in step.", examples=[0.1])
    fallback: Literal["none", "paper"] = Field(
        "none", description='What becomes of a dead letter: "none" drops it (counted), "paper" sends the document '
        "on paper instead (with the postal delay).", examples=["paper"])
    ack_timeout: Annotated[Duration, Field(gt=0)] | None = Field(
        None, description='How long a sender waits for the first status message of traffic.statuses ("01 arrived") '
        "after sending a copy (or sending it again) before it sends the copy again, at most attempts times; the "
        "recipient recognises a copy it already has by its document id and counts it as a duplicate instead of "
        "receiving it twice. Unset means senders do not wait for acknowledgements.", examples=["4h"])


class NetworkSpec(_Model):
    """The structure, and the stations and links every agency, platform and the hub get unless overridden.

    ``dataset`` picks a built-in structure at a ``level`` of detail
    (:mod:`simulator.structures`); ``reform = "merge-2025"`` moves the 2020
    structure onto the 2025 provinces and ministries. A station type the
    scenario does not describe is left out (pass-through).
    """

    dataset: Literal["none", "national-2020", "national-2025"] = Field(
        "none", description='Built-in administrative structure to start from: the central bodies and provinces of '
        '2020 or of 2025; "none" means only the agencies listed in the file.', examples=["national-2020"])
    level: Literal["national", "provincial", "full"] = Field(
        "national", description="Detail of the built-in structure: national (central bodies and provinces), "
        "provincial (plus departments and ministry units) or full (plus districts and communes).",
        examples=["provincial"])
    reform: Literal["none", "merge-2025"] = Field(
        "none", description='"merge-2025" puts each 2020 province and central body, with its own traffic, behind '
        "the platform of its 2025 successor.", examples=["merge-2025"])
    units_per_ministry: Annotated[Integer, Field(ge=0, le=200)] = Field(
        8, description="Generic units behind each central body's platform at the provincial and full levels.",
        examples=[8])
    hub: StationSpec = Field(StationSpec(passthrough=True), description="The national hub.",
                             examples=[{"servers": 4, "service": {"distribution": "lognormal", "mean": "250ms",
                                                                 "cv": 1.5}}])
    platform: StationSpec = Field(StationSpec(passthrough=True),
                                  description="Each top-level agency's integration platform, unless the agency "
                                  "sets its own.", examples=[{"servers": 1, "service": {"mean": "1.5s"}}])
    agency: StationSpec = Field(StationSpec(passthrough=True),
                                description="Each agency's document-management system, unless the agency sets "
                                "its own.", examples=[{"servers": 1, "service": {"mean": "1s"}}])
    access: LinkSpec = Field(LinkSpec(), description="The link between an agency's system and its platform.",
                             examples=[{"latency": "20ms", "bandwidth": "20Mbit/s"}])
    backbone: BackboneSpec = Field(BackboneSpec(), description="The link between a platform and the national hub "
                                   "(each platform's own, cut on its own when it has outages or failures).",
                                   examples=[{"latency": "10ms", "bandwidth": "100Mbit/s"}])
    retry: RetrySpec | None = Field(
        None, description="How senders resend what a station refuses (while down with while_down = \"reject\") "
        "or drops (full buffer); unset means a refused or dropped package is lost (counted as dropped).",
        examples=[{"first": "1min", "factor": 2, "max": "1h", "attempts": 8, "fallback": "paper"}])


class KindSpec(_Model):
    """Defaults for every agency of one kind (``ministry``, ``province``, ...)."""

    rate: Rate = Field(0.0, description="Documents each agency of the kind creates (in open hours, with a "
                       "calendar).", examples=["18/h", "1200/h"])
    weight: Annotated[Number, Field(ge=0.0)] = Field(
        1.0, description="Relative chance of being chosen as a recipient.", examples=[2.0])
    connected: Flag = Field(True, description="Whether agencies of the kind are connected to the axis from the "
                            "start (unconnected ones exchange paper).", examples=[False])
    adoption: Share = Field(1.0, description="Share of documents sent electronically when both ends are "
                            "connected, from 0 to 1.", examples=[0.901])


class AgencySpec(_Model):
    """One agency. Unset fields come from ``kinds.<kind>``, then the :class:`KindSpec` defaults.

    A top-level agency (no ``parent``) owns an integration platform; an agency
    with a ``parent`` sends through its parent's platform. With a dataset, an
    entry whose ``id`` matches a dataset agency overrides that agency's fields.
    ``size`` scales its document rate and recipient weight (datasets set it
    from the number of communes); ``connected_at`` is when it joins the axis
    (documents switch from paper to electronic from then).
    """

    id: Identifier = Field(description="Unique id: letters, digits, '.', '_' or '-'; a dataset agency's id "
                           "overrides that agency.", examples=["bo-tai-chinh", "ha-noi"])
    name: Annotated[str, Field(min_length=1), OneLine] | None = Field(
        None, description="Name shown in tables and charts; unset means the id (or the dataset's name).",
        examples=["Bộ Tài chính"])
    kind: Identifier | None = Field(None, description="Kind whose defaults apply (a key of kinds, or a dataset "
                                    "kind); unset means agency.", examples=["ministry", "province"])
    parent: Identifier | None = Field(None, description="Id of the agency whose platform this one sends through; "
                                      "unset means a top-level agency with its own platform.", examples=["ha-noi"])
    rate: Rate | None = Field(None, description="Documents the agency creates; unset means its kind's rate "
                              "(times its size).", examples=["20/h"])
    weight: Annotated[Number, Field(ge=0.0)] | None = Field(
        None, description="Relative chance of being chosen as a recipient; unset means its kind's weight (times "
        "its size).", examples=[2.0])
    size: Annotated[Number, Field(ge=0.0)] | None = Field(
        None, description="Scales the agency's rate and recipient weight (datasets set it from the number of "
        "communes); unset means 1.", examples=[1.5])
    connected: Flag | None = Field(None, description="Whether the agency is connected to the axis from the start; "
                                   "unset means its kind's setting.", examples=[False])
    connected_at: Duration | None = Field(None, description="When the agency joins the axis: its documents switch "
                                          "from paper to electronic from then.", examples=["30d"])
    adoption: Share | None = Field(None, description="Share of documents sent electronically when both ends are "
                                   "connected; unset means its kind's.", examples=[0.95])
    station: StationSpec | None = Field(None, description="The agency's own document-management system; unset "
                                        "means network.agency.", examples=[{"servers": 2, "service": {"mean": "1s"}}])
    platform: StationSpec | None = Field(None, description="The integration platform of a top-level agency; unset "
                                         "means network.platform.",
                                         examples=[{"servers": 4, "service": {"mean": "1.5s"}}])
    backbone: BackboneSpec | None = Field(
        None, description="The link between a top-level agency's platform and the hub (a province's backbone, to "
        "cut it alone); unset means network.backbone.",
        examples=[{"latency": "10ms", "outages": [{"start": "mon 09:00", "duration": "3h"}]}])


class FanoutSpec(_Model):
    """A share of documents addressed to many recipients (a directive to all provinces)."""

    share: Annotated[Number, Field(gt=0.0, le=1.0)] = Field(
        description="Share of documents sent this way (the shares of all fan-outs add up to at most 1).",
        examples=[0.15])
    recipients: Annotated[Integer, Field(ge=2)] | Literal["all"] = Field(
        description='Recipients of each such document, or "all" (every agency, of the kind if given).',
        examples=[3, "all"])
    kind: Identifier | None = Field(None, description="Draw the recipients among agencies of this kind only; "
                                    "unset means any agency.", examples=["province"])


class TypesSpec(_Model):
    """Document types: urgent ones jump queues; classified ones never use the axis."""

    urgent: Share = Field(0.0, description="Share of urgent documents, which are served before the others.",
                          examples=[0.1])
    classified: Share = Field(0.0, description="Share of classified documents, which always go on paper "
                              "(urgent plus classified at most 1).", examples=[0.04])

    @field_validator("classified")
    @classmethod
    def _sum(cls, classified: float, info: ValidationInfo) -> float:
        urgent = info.data.get("urgent")
        if urgent is not None and urgent + classified > 1.0 + 1e-12:
            raise ValueError(f"plus urgent ({urgent}) must not exceed 1")
        return classified


class SizeSpec(_Model):
    """Lognormal package size: median and log-space sigma (0 = every package the median)."""

    median: Annotated[Size, Field(gt=0)] = Field(360e3, description="Median package size.", examples=["360KB"])
    sigma: Annotated[Number, Field(ge=0.0, le=5.0)] = Field(
        0.0, description="Spread of the sizes: standard deviation of their logarithm (0: every package the median).",
        examples=[1.0])

    @property
    def mean(self) -> float:
        """Mean size in bytes."""
        return self.median * math.exp(self.sigma**2 / 2)


class StatusSpec(_Model):
    """An edXML status message each recipient sends back, ``after`` the previous one."""

    code: Literal["01", "02", "03", "04", "05", "06"] = Field(
        description="edXML status code: 01 arrived, 02 rejected, 03 registered, 04 assigned, 05 being processed, "
        "06 done.", examples=["01", "03"])
    after: Distribution = Field(Distribution(distribution="deterministic", mean=0.0),
                                description="Delay since the previous status (since arrival for the first).",
                                examples=[{"distribution": "exponential", "mean": "2h"}])


class ScriptedDocument(_Model):
    """One document created at a given time, besides the Poisson traffic (for what-if cases and checks).

    It goes electronically unless it is classified or an end is not
    connected; the sender's adoption rate does not apply.
    """

    at: Duration = Field(description="When the document is created, from the start of the simulation.",
                         examples=["9h", "1d"])
    origin: Identifier = Field(description="Id of the sending agency.", examples=["van-phong-chinh-phu"])
    recipients: Annotated[tuple[Identifier, ...], Field(min_length=1)] = Field(
        description="Ids of the receiving agencies.", examples=[["ha-noi", "da-nang"]])
    type: Literal["normal", "urgent", "classified"] = Field("normal", description="Document type.",
                                                           examples=["urgent"])
    size: Annotated[Size, Field(gt=0)] | None = Field(None, description="Package size; unset means "
                                                      "traffic.size.median.", examples=["2MB"])


class TrafficSpec(_Model):
    """How documents are addressed, typed, sized and acknowledged.

    ``multiplier`` scales every agency's document rate (a growth scenario).
    ``local_share`` of single-recipient documents go to an agency behind the
    sender's own platform (its province or ministry), when it has any.
    """

    recipients: Literal["uniform", "weighted"] = Field(
        "weighted", description="How recipients are drawn: in proportion to their weight, or all alike.",
        examples=["uniform"])
    local_share: Share = Field(0.0, description="Share of single-recipient documents sent to an agency behind "
                               "the sender's own platform (its province or ministry), when it has any.",
                               examples=[0.8])
    multiplier: Annotated[Number, Field(ge=0.0)] = Field(
        1.0, description="Scales every agency's document rate (traffic growth).", examples=[2.0, 5.0])
    fanout: tuple[FanoutSpec, ...] = Field(
        (), description="Shares of documents addressed to several recipients; the rest have one.",
        examples=[[{"share": 0.15, "recipients": 3}, {"share": 0.0162, "recipients": "all", "kind": "province"}]])
    types: TypesSpec = Field(TypesSpec(), description="Shares of urgent and classified documents.",
                             examples=[{"urgent": 0.1, "classified": 0.04}])
    size: SizeSpec = Field(SizeSpec(), description="Package sizes (lognormal).",
                           examples=[{"median": "360KB", "sigma": 1.0}])
    postal_delay: Distribution = Field(
        Distribution(distribution="deterministic", mean=2.5 * 86400),
        description="Delivery time of a document exchanged on paper.",
        examples=[{"distribution": "gamma", "mean": "2.5d", "cv": 0.5}])
    statuses: tuple[StatusSpec, ...] = Field(
        (), description="Status messages each recipient sends back, in order.",
        examples=[[{"code": "01", "after": {"distribution": "exponential", "mean": "30s"}}]])
    script: tuple[ScriptedDocument, ...] = Field(
        (), description="Documents created at given times, besides the random traffic.",
        examples=[[{"at": "9h", "origin": "van-phong-chinh-phu", "recipients": ["ha-noi"], "type": "urgent"}]])

    @field_validator("fanout")
    @classmethod
    def _shares(cls, fanout: tuple[FanoutSpec, ...]) -> tuple[FanoutSpec, ...]:
        total = sum(f.share for f in fanout)
        if total > 1.0 + 1e-12:
            raise ValueError(f"shares add up to {total:g}; they must not exceed 1")
        return fanout


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _calendar_date(value: Any) -> Any:
    """A ``datetime.date`` from ``"YYYY-MM-DD"`` text or a TOML date; ValueError otherwise."""
    if isinstance(value, datetime.datetime):
        raise ValueError('must be a date without a time of day, "YYYY-MM-DD"')
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError('is not a date of the calendar ("YYYY-MM-DD")') from None
    raise ValueError('must be a date written "YYYY-MM-DD"')


#: A calendar date, written ``"2020-03-02"`` (a TOML date ``2020-03-02`` is taken too).
CalendarDate = Annotated[datetime.date, BeforeValidator(_calendar_date),
                         PlainSerializer(lambda d: d.isoformat(), return_type=str, when_used="json"),
                         WithJsonSchema({"type": "string", "pattern": _ISO_DATE.pattern,
                                         "description": 'A date of the calendar, "YYYY-MM-DD".',
                                         "examples": ["2020-03-02"]})]
#: A relative rate: 1 is the mean, 1.5 half as much again (positive; close time with hours and holidays instead).
Factor = Annotated[Number, Field(gt=0.0, le=1e6)]
HourOfDay = Annotated[str, Field(pattern=r"^(?:[01][0-9]|2[0-3])$")]


def _holiday_country(code: str | None) -> str | None:
    """``code`` unchanged if the ``holidays`` package knows the country, else ValueError."""
    if code is None:
        return None
    import holidays  # only a scenario with holidays pays for the import

    if code not in holidays.list_supported_countries():
        raise ValueError('is not a country code the holidays package knows (ISO 3166-1, such as "VN")')
    return code


class PeriodEndSpec(_Model):
    """A busier stretch at the end of every month or quarter: its last ``days`` working days."""

    days: Annotated[Integer, Field(ge=1, le=23)] = Field(
        description="How many of the last working days of each month (or quarter) are busier; holidays and "
        "days off do not count.", examples=[2])
    factor: Factor = Field(description="Relative document rate on those days (1 = as the other days).",
                           examples=[1.5])


class NamedPeriod(_Model):
    """A named stretch of dates with its own relative rate (a backlog after Tết, a reporting campaign)."""

    name: Annotated[str, Field(min_length=1, max_length=120), OneLine] = Field(
        description="What the period is, for the reader.", examples=["after Tết"])
    start: CalendarDate = Field(description="First day of the period.", examples=["2020-02-03"])
    end: CalendarDate = Field(description="Last day of the period (included, not before start).",
                              examples=["2020-02-14"])
    factor: Factor = Field(description="Relative document rate in the period (1 = as usual).", examples=[1.3])

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: datetime.date, info: ValidationInfo) -> datetime.date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"is before start ({start.isoformat()})")
        return end


class ProfileSpec(_Model):
    """When in the working time documents are created: relative rates that move documents, not add them.

    The relative rate at an instant is the product of its hour's factor, its
    weekday's factor, the month-end and quarter-end factors and those of the
    named periods it falls in (unlisted: 1). The product is then normalised
    over the open time of the simulated horizon (holidays excluded) so that
    its mean there is 1: every agency creates exactly as many documents, in
    expectation, over the run as without the profile (its rate times the open
    time), only at other moments. Month and quarter ends and periods need
    ``run.start``.
    """

    hours: dict[HourOfDay, Factor] = Field(
        {}, description='Relative rate by hour of the day, keyed "HH" (the hour from HH:00 to the next): '
        '"08" = 1.4 makes 08:00-09:00 40 % busier than an unlisted hour. Only hours with open time.',
        examples=[{"08": 1.4, "09": 1.3, "10": 1.2, "11": 1.0, "13": 0.8, "14": 0.9, "15": 0.9, "16": 0.7}])
    weekdays: dict[Weekday, Factor] = Field(
        {}, description="Relative rate by working day (mon ... sun); unlisted days 1.",
        examples=[{"mon": 1.2, "fri": 0.8}])
    month_end: PeriodEndSpec | None = Field(
        None, description="Factor for the last working days of every month (needs run.start); unset means none.",
        examples=[{"days": 2, "factor": 1.5}])
    quarter_end: PeriodEndSpec | None = Field(
        None, description="Factor for the last working days of March, June, September and December, on top of "
        "the month-end factor (needs run.start); unset means none.", examples=[{"days": 3, "factor": 1.3}])
    periods: tuple[NamedPeriod, ...] = Field(
        (), description="Named date ranges with their own factor, multiplied in (need run.start).",
        examples=[[{"name": "after Tết", "start": "2020-02-03", "end": "2020-02-14", "factor": 1.3}]])

    @field_validator("hours", "weekdays")
    @classmethod
    def _read_only(cls, table: dict[str, float]) -> dict[str, float]:
        return FrozenDict(table)

    @property
    def dated(self) -> bool:
        """Whether a factor depends on the date (month and quarter ends, periods), not only on hour and weekday."""
        return self.month_end is not None or self.quarter_end is not None or bool(self.periods)


class CalendarSpec(_Model):
    """Working hours: documents are created only on these weekdays and in these hours, holidays excepted.

    Agency rates are then the intensity while open: ``"20/h"`` means 20
    documents in each open hour on average; a ``profile`` shapes that rate
    over the hours, weekdays and dates without changing the total. Day 0 of
    the simulation is a Monday unless ``run.start`` gives its date (then day
    0 has that date's weekday). Holidays are closed days; they need
    ``run.start``.
    """

    weekdays: Annotated[tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...],
                        _non_empty("must name at least one day")] = Field(
        ("mon", "tue", "wed", "thu", "fri"), description="Working days (day 0 of the simulation is a Monday, or the weekday of run.start).",
        examples=[["mon", "tue", "wed", "thu", "fri", "sat"]])
    hours: tuple[tuple[Clock, Clock], ...] = Field(
        ((8 * 3600.0, 12 * 3600.0), (13 * 3600.0, 17 * 3600.0)),
        description='Open hours of a working day: increasing, non-overlapping ["open", "close"] pairs.',
        examples=[[["07:30", "11:30"], ["13:00", "17:00"]]])
    profile: ProfileSpec | None = Field(
        None, description="Relative document rates by hour, weekday, month and quarter end and named periods, "
        "normalised so that the volume over the run is unchanged; unset means a flat rate in open hours.",
        examples=[{"hours": {"08": 1.4, "16": 0.7}, "month_end": {"days": 2, "factor": 1.5}}])
    holidays: Annotated[str, Field(min_length=2, max_length=3)] | None = Field(
        None, description='Public holidays of a country, from the holidays package, as closed days (needs '
        'run.start): "VN" for Vietnam, with its compensatory days off; unset means none.', examples=["VN"])
    extra_holidays: tuple[CalendarDate, ...] = Field(
        (), description="More closed days, such as the bridge days the government announces (needs run.start).",
        examples=[["2020-01-20", "2020-01-21"]])
    _start: datetime.date | None = PrivateAttr(default=None)

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, code: str | None) -> str | None:
        return _holiday_country(code)

    @field_validator("hours")
    @classmethod
    def _ordered(cls, hours: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        if not hours:
            raise ValueError("must hold at least one [open, close] pair")
        previous = -1.0
        for open_, close in hours:
            if not open_ < close or open_ < previous:
                raise ValueError("must be increasing, non-overlapping [open, close] pairs")
            previous = close
        return hours

    @property
    def open_seconds_per_day(self) -> float:
        """Open seconds on one working day."""
        return sum(close - open_ for open_, close in self.hours)

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        """Working weekdays as numbers, Monday = 0."""
        return tuple(sorted(_WEEKDAYS.index(d) for d in set(self.weekdays)))

    @property
    def start(self) -> datetime.date | None:
        """The date of day 0 (``run.start``, handed over by the scenario), or None: day 0 is then a Monday."""
        return self._start

    @property
    def dated(self) -> bool:
        """Whether the calendar depends on dates (holidays, month or quarter ends, periods), not only on the week."""
        return (self.holidays is not None or bool(self.extra_holidays)
                or (self.profile is not None and self.profile.dated))


class PrecisionSpec(_Model):
    """Sequential stopping: add replications until the chosen figures are precise enough."""

    figures: Annotated[tuple[str, ...], Field(min_length=1)] = Field(
        ("latency_seconds.mean",), description="Figures of summary.json that must be precise enough, by dotted path.",
        examples=[["latency_seconds.mean", "electronic_share"]])
    relative_half_width: Annotated[Number, Field(gt=0.0, lt=1.0)] = Field(
        0.05, description="Largest half-width of the 95 % confidence interval, relative to the mean.",
        examples=[0.02])
    max_replications: Annotated[Integer, Field(ge=2, le=10000)] = Field(
        50, description="Replications at most, precise or not.", examples=[100])


class RunSpec(_Model):
    """How long to simulate, what to discard, and how to seed.

    ``warmup = "auto"`` chooses the warm-up by MSER-5 on a pilot replication
    (:func:`simulator.experiment.mser5`). ``precision`` adds replications
    until the chosen figures reach a relative confidence half-width.
    """

    horizon: Annotated[Duration, Field(gt=0)] = Field(7 * 86400.0, description="Simulated time of each "
                                                      "replication, warm-up included.", examples=["14d", "8h"])
    warmup: Union[Literal["auto"], Duration] = Field(
        0.0, description='Time discarded from the start of each replication (shorter than the horizon), or "auto" '
        "to choose it from a pilot replication (MSER-5).", examples=["1d", "auto"])
    seed: Annotated[Integer, Field(ge=0)] = Field(1, description="Root seed: the same seed gives the same results.",
                                                  examples=[2020])
    replications: Annotated[Integer, Field(gt=0, le=10000)] = Field(
        1, description="Independent replications, for confidence intervals.", examples=[10])
    timeseries_interval: Annotated[Duration, Field(gt=0)] = Field(
        3600.0, description="Time between two rows of the time series.", examples=["30min"])
    start: CalendarDate | None = Field(
        None, description='The date of day 0, "YYYY-MM-DD": weekdays then follow the date, and holidays, month '
        "ends and periods of the calendar fall on their dates; unset means day 0 is a Monday of no date.",
        examples=["2020-03-02"])
    precision: PrecisionSpec | None = Field(
        None, description="Add replications until chosen figures are precise enough; unset means exactly "
        "run.replications.", examples=[{"figures": ["latency_seconds.mean"], "relative_half_width": 0.05}])

    @field_validator("warmup")
    @classmethod
    def _warmup_fits(cls, warmup: float | str, info: ValidationInfo) -> float | str:
        horizon = info.data.get("horizon")
        if warmup != "auto" and horizon is not None and warmup >= horizon:
            raise ValueError(f"must be shorter than the horizon ({format_duration(horizon)})")
        return warmup


class AnalysisSpec(_Model):
    """How the analytic report judges saturation."""

    threshold: Annotated[Number, Field(gt=0.0, le=1.0)] = Field(
        0.8, description="Utilisation from which a station counts as saturated.", examples=[0.7])


class ConnectionSpec(_Model):
    """An onboarding order: the agencies that connect to the axis, in order.

    With ``connected = N`` the first N agencies of ``order`` are connected and
    the others in the list are not (agencies not listed keep their own
    setting); sweeping ``connection.connected`` connects them one by one.
    Without it, the list only sets the order of the roadmap that ``check``
    shows for the agencies not yet connected. With ``every``, the agencies of
    the order not connected at the start join one by one, one every period
    (the first after one period): an onboarding roadmap in time.
    """

    order: tuple[Identifier, ...] = Field((), description="Agency ids in the order they connect to the axis.",
                                          examples=[["van-phong-chinh-phu", "bo-tai-chinh", "bo-noi-vu"]])
    connected: Annotated[Integer, Field(ge=0)] | None = Field(
        None, description="Connect the first N agencies of the order and not the others (at most the length of "
        "the order); unset means each agency keeps its own setting.", examples=[9])
    every: Annotated[Duration, Field(gt=0)] | None = Field(
        None, description="Connect the agencies of the order not yet connected one by one, one every period "
        "(the first after one period).", examples=["30d"])

    @field_validator("connected")
    @classmethod
    def _within_order(cls, connected: int | None, info: ValidationInfo) -> int | None:
        order = info.data.get("order")
        if connected is not None and order is not None and connected > len(order):
            raise ValueError(f"exceeds the {len(order)} agencies listed in connection.order")
        return connected


class SweepParameter(_Model):
    """One swept scenario key: a dotted path and its values."""

    path: Annotated[str, Field(min_length=1)] = Field(
        description="Scenario key to vary, as a dotted path (agencies[<id>] selects an agency).",
        examples=["traffic.multiplier", "network.hub.servers", "agencies[bo-tai-chinh].rate"])
    values: Annotated[tuple[Annotated[Any, AfterValidator(_finite_value)], ...], _non_empty("must have at least 1 item"),
                      Field(json_schema_extra={"minItems": 1})] = Field(
        description="Values the key takes, written as in the file.", examples=[[1.0, 2.0, 4.0], ["20/h", "40/h"]])


class SweepSpec(_Model):
    """Points of a sweep: every combination of the parameters (grid) or their values side by side (zip)."""

    mode: Literal["grid", "zip"] = Field(
        "grid", description="grid: every combination of the values; zip: the i-th values of all parameters "
        "together (lists of equal length).", examples=["zip"])
    parameters: tuple[SweepParameter, ...] = Field(
        (), description="The swept keys and their values.",
        examples=[[{"path": "traffic.multiplier", "values": [1.0, 2.0, 4.0]}]])

    @field_validator("parameters")
    @classmethod
    def _same_lengths(cls, parameters: tuple[SweepParameter, ...], info: ValidationInfo) -> tuple[SweepParameter, ...]:
        if info.data.get("mode") == "zip" and len({len(p.values) for p in parameters}) > 1:
            raise ValueError("in zip mode every parameter needs the same number of values")
        return parameters


class Scenario(_Model):
    """A complete, validated scenario. Build one with :func:`load_scenario`."""

    name: Annotated[str, Field(min_length=1, max_length=120), OneLine] = Field(
        "scenario", description="Name of the scenario, on one line: it names the result folder. Unset means the "
        "file name without .toml (not inherited through extends).", examples=["national-2020"],
        json_schema_extra=_without_default)
    description: Text = Field("", description="What the scenario is for (free text).",
                              examples=["2020 baseline: 31 central bodies and 63 provinces, two working weeks"])
    language: Literal["en", "vi"] = Field(
        "en", description='Language of what the tools write for this scenario: the report, the comparison and the '
        'PNG charts ("vi" Vietnamese, "en" English; --lang overrides it).', examples=["vi"])
    run: RunSpec = Field(RunSpec(), description="How long to simulate, what to discard, and how to seed.",
                         examples=[{"horizon": "14d", "warmup": "1d", "seed": 2020}])
    calendar: CalendarSpec | None = Field(
        None, description="Working days and hours in which documents are created; unset means around the clock.",
        examples=[{"weekdays": ["mon", "tue", "wed", "thu", "fri"], "hours": [["08:00", "12:00"], ["13:00", "17:00"]]}])
    network: NetworkSpec = Field(NetworkSpec(), description="The structure, and the stations and links it is "
                                 "built of.", examples=[{"dataset": "national-2020", "level": "national"}])
    kinds: dict[Identifier, KindSpec] = Field(
        {}, description="Defaults for every agency of a kind, by kind name (ministry, province, ...).",
        examples=[{"province": {"rate": "13/h", "adoption": 0.901}}])
    agencies: tuple[AgencySpec, ...] = Field(
        (), description="The agencies, or changes to a dataset's agencies (by id).",
        examples=[[{"id": "bo-tai-chinh", "rate": "30/h"}]])
    traffic: TrafficSpec = Field(TrafficSpec(), description="How documents are addressed, typed, sized and "
                                 "acknowledged.", examples=[{"multiplier": 2.0}])
    connection: ConnectionSpec = Field(ConnectionSpec(), description="An onboarding order: which agencies "
                                       "connect to the axis, and when.",
                                       examples=[{"order": ["bo-tai-chinh", "bo-noi-vu"], "connected": 1}])
    analysis: AnalysisSpec = Field(AnalysisSpec(), description="When the analytic report (axis-sim check, sweep) "
                                   "calls a station saturated.", examples=[{"threshold": 0.7}])
    sweep: SweepSpec = Field(SweepSpec(), description="Points for axis-sim sweep: scenario keys and their values.",
                             examples=[{"mode": "grid", "parameters": [{"path": "traffic.multiplier",
                                                                        "values": [1.0, 2.0]}]}])
    _source: str = PrivateAttr(default="<scenario>")
    _inherited_kinds: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def source(self) -> str:
        """Where the scenario was read from (file path or ``<text>``), for error messages."""
        return self._source

    @field_validator("kinds")
    @classmethod
    def _read_only_kinds(cls, kinds: dict[str, KindSpec]) -> dict[str, KindSpec]:
        return FrozenDict(kinds)

    @model_validator(mode="after")
    def _date_the_calendar(self) -> "Scenario":
        """Hand ``run.start`` to the calendar, so that a clock built from the calendar alone sees the dates."""
        if self.calendar is not None:
            self.calendar._start = self.run.start
        return self

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal (where the scenario was read from does not count)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # equality is by value; scenarios are not dictionary keys

    def kind(self, name: str) -> KindSpec:
        """Defaults of a kind (the schema defaults when the scenario does not set it)."""
        return self.kinds.get(name, _DEFAULT_KIND)

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with top-level fields replaced and re-validated, nested models included.

        A part built with ``model_copy(update=...)`` (which pydantic does not
        validate) is checked again, so ``replace(run=run.model_copy(update={"warmup": ...}))``
        with a warm-up beyond the horizon raises :class:`ScenarioError`.
        """
        data = self.model_dump(mode="python")
        data.update(changes)
        copy = scenario_from_dict(data, source=self.source)
        copy._inherited_kinds = self._inherited_kinds
        return copy


_DEFAULT_KIND = KindSpec()


# --------------------------------------------------------------------------- loading


def load_scenario(source: str | Path, *, name: str | None = None) -> Scenario:
    """Read, parse and validate a scenario from a file path or TOML text.

    Parameters
    ----------
    source : str or pathlib.Path
        A path to a ``.toml`` file, or the TOML text itself. A string is read
        as text when it has a newline, or has an ``=`` and names no file.
    name : str, optional
        Scenario name when the file does not set one (default: the file stem).

    Returns
    -------
    Scenario
        The frozen, validated scenario.

    Raises
    ------
    ScenarioError
        If the file is missing or unreadable, is not TOML, or breaks a rule;
        the error lists every problem with its key path and value.

    Examples
    --------
    >>> s = load_scenario('[run]\\nhorizon = "2h"\\n[[agencies]]\\nid = "A"\\n[[agencies]]\\nid = "B"')
    >>> s.run.horizon
    7200.0
    """
    if isinstance(source, Path) or ("\n" not in source and (source.endswith(".toml") or _names_a_file(source)
                                                            or "=" not in source)):
        path = Path(source)
        label = str(source)
        text = _read_file(path, label, "file", missing_value(), shown_path=False)
        default_name = name or path.stem
        base_folder = path.parent
        first = _resolved(path)
    else:
        text, label, default_name = source.removeprefix("\ufeff"), "<text>", name or "scenario"
        base_folder, first = Path.cwd(), None
    data = _parse_toml(text, label)
    own_kinds = set(data.get("kinds", {})) if isinstance(data.get("kinds"), dict) else set()
    extended = "extends" in data
    data = _extend(data, base_folder, label, first)
    data.setdefault("name", default_name)
    scenario = scenario_from_dict(data, source=label)
    scenario._inherited_kinds = frozenset(set(scenario.kinds) - own_kinds) if extended else frozenset()
    return scenario


def _names_a_file(source: str) -> bool:
    """Whether a string names an existing path (False for text that cannot be a file name)."""
    try:
        return Path(source).exists()
    except (OSError, ValueError):
        return False


def _resolved(path: Path) -> Path:
    """The absolute path with symbolic links followed, as far as they lead (a loop stops there)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop before Python 3.13
        return Path(os.path.abspath(path))


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a scenario file (a directory, a FIFO, a device, ...), or None if it can."""
    try:
        info = path.stat()
    except ValueError:
        return "is not a valid file name"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "is a symbolic link loop, not a scenario file"
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            return "is a symbolic link to a missing file" if path.is_symlink() else "no such file"
        if err.errno == errno.EACCES:
            return "cannot be read: permission denied"
        return f"cannot be read: {err.strerror or err}"
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a scenario file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a scenario file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a scenario file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a scenario file"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return f"holds {info.st_size:,} bytes; a scenario file holds at most {MAX_FILE_BYTES:,}"
    return None


def _read_file(path: Path, label: str, key: str, value: Any, *, shown_path: bool) -> str:
    """The UTF-8 text of a scenario file, without a leading byte-order mark.

    Problems are reported on ``key`` (``file``, or ``extends`` with its
    ``value``) of ``label``; ``shown_path`` adds the resolved path to the rule.
    """
    where = f" ({path})" if shown_path else ""
    problem = _not_a_file(path)
    if problem is not None:
        raise ScenarioError.single(label, key, value, problem + where)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError.single(label, key, value, f"cannot be read as UTF-8 text{where} ({err})") from None
    return text.removeprefix("\ufeff")  # editors on Windows start UTF-8 files with a byte-order mark


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    """Parse TOML text, refusing tables and arrays nested deeper than :data:`MAX_DEPTH`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(label, [Problem("TOML", missing_value(), f"not valid TOML: {err}")]) from None
    except RecursionError:
        raise ScenarioError(label, [Problem("TOML", missing_value(), "nests arrays or inline tables too deeply to be "
                                            f"read; a scenario needs at most {MAX_DEPTH} levels")]) from None
    problems = _too_deep(data)
    if problems:
        raise ScenarioError(label, problems)
    return data


def _too_deep(data: Any) -> list[Problem]:
    """A problem for each place where tables and arrays nest deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    problems: list[Problem] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, (list, tuple)):
            children = list(enumerate(node))
        else:
            continue
        if len(loc) >= MAX_DEPTH and children:
            problems.append(Problem(_key_path(loc), missing_value(),
                                    f"nests tables and arrays more than {MAX_DEPTH} levels deep; no scenario key lies that deep"))
            continue
        stack.extend((loc + (key,), child) for key, child in reversed(children))
    return problems


def _extend(data: dict[str, Any], folder: Path, label: str, first: Path | None) -> dict[str, Any]:
    """Resolve ``extends = "other.toml"``: the other file's tables, overridden key by key by this one's.

    The chain of files is followed in a loop (no recursion), at most
    :data:`MAX_EXTENDS` files long. A problem inside one file of the chain is
    reported on that file; a cycle or a chain too long on the first file's
    ``extends``, with the files of the chain.
    """
    layers = [data]
    chain: list[Path] = [first] if first is not None else [Path.cwd() / label]
    top_label, top_value = label, data.get("extends")
    while "extends" in layers[-1]:
        base_name = layers[-1].pop("extends")
        if not isinstance(base_name, str):
            raise ScenarioError.single(label, "extends", base_name, "must be the path of another scenario file")
        path = _resolved(folder / base_name)
        if path in chain:
            files = " -> ".join(_shown(p, chain[0]) for p in chain + [path])
            raise ScenarioError.single(top_label, "extends", top_value, f"leads to a cycle of files extending each other: {files}")
        if len(layers) > MAX_EXTENDS:
            files = " -> ".join(_shown(p, chain[0]) for p in chain[:3] + [Path("..."), path])
            raise ScenarioError.single(top_label, "extends", top_value,
                                       f"leads to a chain of more than {MAX_EXTENDS} files extending each other "
                                       f"({files} -> ...); shorten it")
        text = _read_file(path, label, "extends", base_name, shown_path=True)
        base = _parse_toml(text, str(path))
        base.pop("name", None)
        layers.append(base)
        chain.append(path)
        folder, label = path.parent, str(path)
    merged = layers.pop()
    while layers:
        merged = _merge_tables(merged, layers.pop())
    return merged


def _shown(path: Path, first: Path) -> str:
    """``path`` relative to the folder of the first file of a chain, when that is shorter."""
    if str(path) == "...":
        return "..."
    relative = os.path.relpath(path, first.parent)
    return relative if len(relative) < len(str(path)) else str(path)


def _merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    # recursion depth is bounded: _parse_toml refused anything nested deeper than MAX_DEPTH
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def scenario_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> Scenario:
    """Validate an already parsed scenario mapping (see :func:`load_scenario`).

    Parameters
    ----------
    data : dict
        The scenario as nested tables, as ``tomllib`` reads a file (units as
        text: ``"20/h"``).
    source : str, optional
        What error messages name as the file.

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    ScenarioError
        Listing every problem, one line each.
    """
    deep = _too_deep(data)
    if deep:
        raise ScenarioError(source, deep)
    try:
        first_day = _first_day(data)
        scenario = Scenario.model_validate(data, context={"first_weekday": 0 if first_day is None else first_day.weekday(),
                                                          "first_day": first_day})
    except ValidationError as err:
        raise ScenarioError(source, [_problem(e) for e in err.errors()]) from None
    problems = list(_cross_checks(scenario))
    if problems:
        raise ScenarioError(source, problems)
    scenario._source = source
    return scenario


def _first_day(data: dict[str, Any]) -> datetime.date | None:
    """The date of day 0 from the raw ``run.start``; ``None`` when it is unset or not a date (validation then
    names the bad date)."""
    run = data.get("run")
    start = run.get("start") if isinstance(run, dict) else None
    if isinstance(start, str):
        try:
            start = datetime.date.fromisoformat(start.strip())
        except ValueError:
            return None
    if isinstance(start, datetime.datetime):
        return start.date()
    return start if isinstance(start, datetime.date) else None


def _cross_checks(scenario: Scenario) -> typing.Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, agency in enumerate(scenario.agencies):
        if agency.id in seen:
            yield Problem(f"agencies[{i}].id", agency.id, f"duplicates agencies[{seen[agency.id]}].id; ids must be unique")
        seen.setdefault(agency.id, i)
    retry = scenario.network.retry
    if retry is not None and retry.ack_timeout is not None and not scenario.traffic.statuses:
        yield Problem("network.retry.ack_timeout", format_duration(retry.ack_timeout),
                      'needs traffic.statuses: the first status message ("01 arrived") is the acknowledgement the '
                      "sender waits for")
    if scenario.network.dataset == "none" and len(scenario.agencies) < 2:
        yield Problem("agencies", len(scenario.agencies), "needs at least 2 agencies when network.dataset is \"none\"")
    yield from _calendar_problems(scenario)


#: The last date a dated calendar can reach (``datetime.date.max``).
_LAST_DATE = datetime.date.max


def _calendar_problems(scenario: Scenario) -> typing.Iterator[Problem]:
    """Calendar keys that need ``run.start``, and profile factors for time that is never open."""
    calendar = scenario.calendar
    if calendar is None:
        return
    profile = calendar.profile
    start = scenario.run.start
    needs = "needs run.start (the date of day 0) to fall on dates"
    if start is None:
        if calendar.holidays is not None:
            yield Problem("calendar.holidays", calendar.holidays, needs)
        if calendar.extra_holidays:
            yield Problem("calendar.extra_holidays", [d.isoformat() for d in calendar.extra_holidays], needs)
        for key in ("month_end", "quarter_end"):
            if profile is not None and getattr(profile, key) is not None:
                yield Problem(f"calendar.profile.{key}", getattr(profile, key).model_dump(), needs)
        if profile is not None and profile.periods:
            yield Problem("calendar.profile.periods", profile.periods[0].name, needs)
    elif calendar.dated and (_LAST_DATE - start).days * 86400.0 < scenario.run.horizon:
        yield Problem("run.horizon", format_duration(scenario.run.horizon),
                      f"runs past {_LAST_DATE.isoformat()}, the last date a dated calendar knows")
    if profile is None:
        return
    for hour in sorted(profile.hours):
        begin = int(hour) * 3600.0
        if not any(open_ < begin + 3600.0 and close > begin for open_, close in calendar.hours):
            yield Problem(f"calendar.profile.hours.{hour}", profile.hours[hour],
                          f"{hour}:00-{int(hour) + 1:02d}:00 holds no open time of calendar.hours")
    for day in profile.weekdays:
        if day not in calendar.weekdays:
            yield Problem(f"calendar.profile.weekdays.{day}", profile.weekdays[day],
                          f"{day} is not a working day of calendar.weekdays")


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(str(item))
    return "".join(parts) or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds union-branch tags such as 'int' or 'literal[...]' or 'function-after[...]'
    out = []
    for item in loc:
        if isinstance(item, str) and ("[" in item or item in ("int", "str", "float", "bool", "constrained-int")):
            continue
        out.append(item)
    return tuple(out)


def _problem(error: Any) -> Problem:
    kind = error["type"]
    loc = tuple(error["loc"])
    # the last item of an unknown key's path is the key as written, even one that looks like a union tag ("int", "a[0]")
    loc = _clean_loc(loc[:-1]) + loc[-1:] if kind == "extra_forbidden" else _clean_loc(loc)
    if kind == "missing":
        return Problem(_key_path(loc), missing_value(), "is required")
    if kind == "extra_forbidden":
        parent_keys = _allowed_keys(loc[:-1])
        bad = str(loc[-1])
        hint = difflib.get_close_matches(bad, parent_keys, n=1, cutoff=0.5)
        rule = "is not a known key"
        if hint:
            rule += f"; did you mean {hint[0]!r}?"
        elif parent_keys:
            rule += f"; known keys here: {', '.join(parent_keys)}"
        return Problem(_key_path(loc), error["input"], rule)
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    for subject in ("Input", "String", "List", "Tuple", "Value", "Dictionary"):
        if message.startswith(f"{subject} should"):
            message = "must" + message[len(f"{subject} should"):]
    if message.startswith("Input "):
        message = message[len("Input "):]
    value = error.get("input")
    if value is None:
        return Problem(_key_path(loc), missing_value(), message)
    if isinstance(value, dict) and error["type"] == "value_error":
        # model-level rule: show no whole table as the value
        return Problem(_key_path(loc), missing_value(), message)
    return Problem(_key_path(loc), value, message)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (for 'did you mean' hints)."""
    current: Any = Scenario
    for item in loc:
        current = _unwrap(current)
        if isinstance(item, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(item))
            current = field.annotation if field else None
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Annotated wrappers; keep tuple/dict containers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, getattr(__import__("types"), "UnionType")):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


# --------------------------------------------------------------------------- publishing


_SEGMENT = re.compile(r"^([A-Za-z_][\w-]*)(?:\[([^\]]+)\])?$")


def apply_parameters(scenario: Scenario, parameters: dict[str, Any], *, where: str = "parameters") -> Scenario:
    r"""A copy of ``scenario`` with dotted-path keys set to new values, re-validated.

    Paths name keys as in the file: ``network.hub.servers``,
    ``traffic.multiplier``, ``kinds.province.rate``,
    ``traffic.statuses[0].after.mean``; ``agencies[<id>]`` selects (or adds)
    the agency with that id. Values are written as in the file (``"20/h"``).

    Parameters
    ----------
    scenario : Scenario
        The scenario to start from; it is not changed.
    parameters : dict of str to object
        Dotted key path to its new value, written as in a scenario file
        (``{"traffic.multiplier": 2.0, "network.hub.service.mean": "4s"}``).
    where : str, optional
        What the message of a :class:`ScenarioError` names as the source of
        the values (``"--set"``, ``"sweep point p003"``).

    Returns
    -------
    Scenario
        A new, validated scenario with the values set.

    Raises
    ------
    ScenarioError
        If a path does not lead to a key or a resulting value breaks a rule;
        the message names ``where`` and the path.

    Examples
    --------
    >>> s = load_scenario('[[agencies]]\nid = "A"\n[[agencies]]\nid = "B"')
    >>> apply_parameters(s, {"agencies[B].rate": "30/h"}).agencies[1].rate * 3600
    30.0
    """
    data = scenario.model_dump(mode="json", exclude_none=True)
    for path, value in parameters.items():
        try:
            table = _set_path(data, path, value)
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ScenarioError(scenario.source, [Problem(f"{where} ({path})", value, f"cannot be set: {err}")]) from None
        if path.endswith(".passthrough") and value is True and table is not None:
            _clear_passthrough_settings(table, path[: -len("passthrough")], parameters)
    try:
        copy = scenario_from_dict(data, source=scenario.source)
        copy._inherited_kinds = scenario._inherited_kinds
        return copy
    except ScenarioError as err:
        described = ", ".join(f"{k} = {quote(v, 60)}" for k, v in parameters.items())
        raise ScenarioError(scenario.source, [Problem(f"{where} [{described}] -> {p.key}", p.value, p.rule)
                                              for p in err.problems]) from None


def _clear_passthrough_settings(station: dict[str, Any], prefix: str, parameters: dict[str, Any]) -> None:
    """A parameter that makes a station pass-through also takes back its model-only settings (servers, outages ...).

    Sweeping ``network.hub.passthrough`` over ``[false, true]`` means "the hub as described, or left out"; the
    settings the parameters themselves give (``prefix`` + key) are kept, so that setting both is still refused.
    """
    for key in _STATION_DEFAULTS:
        if prefix + key not in parameters:
            station.pop(key, None)


def _set_path(data: Any, path: str, value: Any) -> dict[str, Any] | None:
    """Set ``value`` at a dotted path with ``key[index]`` or ``key[id]`` segments; return the table it went into."""
    segments = path.split(".")
    node = data
    for position, segment in enumerate(segments):
        match = _SEGMENT.match(segment)
        if not match:
            raise ValueError(f"{segment!r} is not a key or key[index]")
        key, index = match.groups()
        last = position == len(segments) - 1
        if index is None:
            if not isinstance(node, dict):
                raise TypeError(f"{key!r} is below a value, not a table")
            if last:
                node[key] = value
                return node
            node = node.setdefault(key, {})
            continue
        items = node.setdefault(key, []) if isinstance(node, dict) else None
        if not isinstance(items, list):
            raise TypeError(f"{key!r} is not a list")
        if index.isdigit():
            target = int(index)
            if target >= len(items):
                raise IndexError(f"{key} has {len(items)} entries, no [{target}]")
        else:
            target = next((i for i, item in enumerate(items) if isinstance(item, dict) and item.get("id") == index), None)
            if target is None:
                items.append({"id": index})
                target = len(items) - 1
        if last:
            items[target] = value
            return None
        node = items[target]


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, for editors and validators.

    Generated from the models :func:`load_scenario` validates with, then fitted
    to what a file holds: every default in the file's own units (``"1w"``,
    ``"360KB"``), no ``null`` (TOML has none), the ``extends`` key, plain-text
    descriptions, pairs written as ``items`` (which older drafts read too), and
    tables that a file extending another may leave incomplete (the loader
    merges them key by key into the other file's).

    Returns
    -------
    dict
        The schema, JSON-serialisable.
    """
    schema = Scenario.model_json_schema(mode="validation")
    _file_defaults(schema)
    schema = _without_nulls(schema)
    _pairs_as_items(schema)
    schema["properties"] = {"extends": dict(_EXTENDS_SCHEMA), **schema["properties"]}
    _extension_overrides(schema)
    _plain_descriptions(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "axis-simulator scenario",
            "description": _SCENARIO_DESCRIPTION}


_SCENARIO_DESCRIPTION = (
    "A scenario of axis-simulator (axis-sim run, check, sweep, capacity): the structure of the national document "
    "exchange axis, its stations and links, the traffic, and how long and how often to simulate. Quantities carry "
    'units ("250ms", "20/h", "360KB", "100Mbit/s"); a bare number is in seconds, per second or bytes.')

#: The ``extends`` key: read by the loader before validation, so it is not a field of :class:`Scenario`.
_EXTENDS_SCHEMA: dict[str, Any] = {
    "type": "string", "minLength": 1, "title": "Extends",
    "description": "Another scenario file this one starts from, relative to this file's folder. Its tables are "
                   "merged key by key with this file's, whose values win; lists are replaced whole, and the name "
                   "is not inherited.",
    "examples": ["national-2020.toml"]}


def _models() -> dict[str, type[BaseModel]]:
    """The scenario models by the name of their ``$defs`` entry (their class name)."""
    models: dict[str, type[BaseModel]] = {}
    pending = list(_Model.__subclasses__())
    while pending:  # subclasses of subclasses too (BackboneSpec extends LinkSpec)
        model = pending.pop()
        models[model.__name__] = model
        pending += model.__subclasses__()
    return models


def _file_defaults(schema: dict[str, Any]) -> None:
    """Write every default of ``schema`` as a file states it: units restored, unset values (None) left out."""
    for name, model in _models().items():
        table = schema if model is Scenario else schema["$defs"].get(name)
        if table is None:
            continue
        for key, field in model.model_fields.items():
            prop = table["properties"].get(key, {})
            if "default" not in prop:
                continue
            if field.default is None:
                del prop["default"]
            else:
                prop["default"] = _file_value(field, field.default)


def _file_value(field: Any, value: Any) -> Any:
    """``value`` of a model field as a scenario file writes it (``604800.0`` -> ``"1w"``)."""
    annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation  # type: ignore[valid-type]
    return TypeAdapter(annotation).dump_python(value, mode="json", exclude_none=True)


def _without_nulls(node: Any) -> Any:
    """``node`` with every ``{"type": "null"}`` alternative removed (a one-branch ``anyOf`` merged into its parent)."""
    if isinstance(node, list):
        return [_without_nulls(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _without_nulls(value) for key, value in node.items()}
    branches = [b for b in node.get("anyOf", []) if b != {"type": "null"}]
    if "anyOf" in node and len(branches) == 1:
        rest = {key: value for key, value in node.items() if key != "anyOf"}
        return {**branches[0], **rest}  # the field's own description, default and examples win over the type's
    if "anyOf" in node:
        node["anyOf"] = branches
    return node


def _pairs_as_items(node: Any) -> None:
    """Write a tuple of equal items (``prefixItems: [A, A]``, two items) as ``items: A`` with two items.

    Both mean the same in draft 2020-12, and validators of older drafts (the
    one behind taplo reads draft 7) understand only the second.
    """
    if isinstance(node, list):
        for item in node:
            _pairs_as_items(item)
        return
    if not isinstance(node, dict):
        return
    prefix = node.get("prefixItems")
    if prefix and all(item == prefix[0] for item in prefix) and node.get("minItems") == node.get("maxItems") == len(prefix):
        node["items"] = node.pop("prefixItems")[0]
    for value in node.values():
        _pairs_as_items(value)


def _extension_overrides(schema: dict[str, Any]) -> None:
    """Let a file with ``extends`` leave out keys required in a table it shares with the extended file.

    The loader merges such tables key by key: ``[network.hub.service]`` with
    only ``cv = 2`` is complete once its ``mean`` comes from the other file.
    Every model reached from the top through named tables (not through lists,
    which are replaced whole; the models under ``kinds`` require nothing)
    that requires keys gets an ``...Override`` copy without ``required``, and
    the top level requires those keys again in a file without ``extends``.
    """
    defs = schema["$defs"]
    restored: dict[str, Any] = {}
    for key, prop in schema["properties"].items():
        schema["properties"][key] = _override(prop, defs, restored.setdefault("properties", {}).setdefault(key, {}))
    restored = _pruned(restored)
    if restored:
        schema["if"] = {"not": {"required": ["extends"]}}
        schema["then"] = restored


def _override(prop: dict[str, Any], defs: dict[str, Any], restored: dict[str, Any]) -> dict[str, Any]:
    """``prop`` (a table's value) pointing to ``...Override`` models; ``restored`` gets the keys they no longer require."""
    name = prop.get("$ref", "").removeprefix("#/$defs/")
    if name not in defs or not _requires_inside(name, defs):
        return prop
    model = defs[name]
    if model.get("required"):
        restored["required"] = list(model["required"])
    children = restored.setdefault("properties", {})
    properties = {key: _override(child, defs, children.setdefault(key, {})) for key, child in model["properties"].items()}
    defs.setdefault(f"{name}Override", _relaxed(model, properties))
    return {**prop, "$ref": f"#/$defs/{name}Override"}


def _relaxed(model: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``model`` with ``properties`` and nothing required."""
    relaxed = {key: value for key, value in model.items() if key != "required"}
    relaxed["properties"] = properties
    if model.get("required"):
        relaxed["description"] = (model.get("description", "") + "\n\nIn a file that extends another, keys "
                                  "required here may come from the other file.").strip()
    return relaxed


def _requires_inside(name: str, defs: dict[str, Any]) -> bool:
    """Whether model ``name``, or a model in one of its tables (not lists), requires keys."""
    model = defs[name]
    if model.get("required"):
        return True
    refs = [prop.get("$ref", "").removeprefix("#/$defs/") for prop in model.get("properties", {}).values()]
    return any(ref in defs and _requires_inside(ref, defs) for ref in refs)


def _pruned(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` without the empty ``properties`` branches that lead to no ``required``."""
    pruned: dict[str, Any] = {}
    if node.get("required"):
        pruned["required"] = node["required"]
    children = {key: _pruned(child) for key, child in node.get("properties", {}).items()}
    children = {key: child for key, child in children.items() if child}
    if children:
        pruned["properties"] = children
    return pruned


#: Sphinx roles (``:class:`~simulator.scenario.KindSpec```), alone in parentheses or not; inline literals
#: (````x````); numpydoc section headers.
_ROLE_ASIDE = re.compile(r"\s*\(:[\w:]+:`[^`]+`\)")
_ROLE = re.compile(r":[\w:]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
_SECTION = re.compile(r"^\s*\S[^\n]*\n\s*-{3,}\s*$", re.MULTILINE)


def _plain_descriptions(node: Any) -> None:
    """Turn every ``description`` of ``node`` (a model's docstring, mostly) into plain text."""
    if isinstance(node, list):
        for item in node:
            _plain_descriptions(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = _plain_text(value)
            else:
                _plain_descriptions(value)


def _plain_text(text: str) -> str:
    r"""Docstring text without Python markup, lines joined, no numpydoc sections.

    A role alone in parentheses (a reference for programmers) is dropped;
    another role becomes the last part of its name, a literal its text.

    Examples
    --------
    >>> _plain_text("Unset fields come from ``kinds.<kind>``, then the\n:class:`~simulator.scenario.KindSpec` defaults.")
    'Unset fields come from kinds.<kind>, then the KindSpec defaults.'
    >>> _plain_text("Chosen by MSER-5 (:func:`simulator.experiment.mser5`).")
    'Chosen by MSER-5.'
    """
    section = _SECTION.search(text)
    text = text[:section.start()] if section else text
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], _ROLE_ASIDE.sub("", text))
    text = _LITERAL.sub(lambda m: m.group(1), text)
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p for p in paragraphs if p)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as TOML text (every default written out, units restored).

    ``load_scenario(dump_scenario(s)) == s`` holds for every valid scenario.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    str
        TOML text, as ``scenario.toml`` of a result folder holds it.
    """
    data = scenario.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)
