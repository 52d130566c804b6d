"""Parsing of SDMX REST data queries (v1 and v2): path keys and references, time periods,
component filters and the query parameters, into frozen typed objects.

Everything here is syntax: what a query asks for, checked without the data structure. Whether
the components it names exist is checked against the DSD by ``service.usecases.data``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from service.errors import NotAcceptable, NotImplementedYet, QuerySyntaxError
from service.instants import EARLIEST, LATEST, in_utc
from service.query.structure import ApiVersion
from service.validation.periods import PeriodError, parse_period

#: Per key dimension, the codes asked for (None: any code).
KeyFilter = tuple[frozenset[str] | None, ...]
Detail = Literal["full", "dataonly", "serieskeysonly", "nodata"]
Labels = Literal["id", "name", "both"]
TimeFormat = Literal["original", "normalized"]
CsvKeys = Literal["none", "obs", "series", "both"]

#: The keyword that packages observations flat, without series.
ALL_DIMENSIONS: Final = "AllDimensions"


# --- path: keys, flow and provider references -------------------------------------------------


def parse_key(key: str | None, dimensions: Sequence[str], api: ApiVersion) -> list[KeyFilter]:
    """The filters a data query key asks for: several keys are OR-ed (v2 ``,``).

    v1: parts separated by ``.``, an empty part matches any code, ``+`` separates codes, and
    ``all`` is every key. v2: the same, with ``*`` for any code and ``,`` between whole keys;
    trailing parts may be left out.
    """
    if key is None or key in ("", "all", "*"):
        return [tuple(None for _ in dimensions)]
    keys = key.split(",") if api is ApiVersion.V2 else [key]
    return [_one_key(k, dimensions, api) for k in keys]


def _one_key(key: str, dimensions: Sequence[str], api: ApiVersion) -> KeyFilter:
    parts = key.split(".")
    if len(parts) > len(dimensions) or (api is ApiVersion.V1 and len(parts) != len(dimensions)):
        raise QuerySyntaxError(
            f"the key {key!r} has {len(parts)} parts; this dataflow's key has "
            f"{len(dimensions)} dimensions ({'.'.join(dimensions)})"
        )
    parts += [""] * (len(dimensions) - len(parts))
    return tuple(_part(p) for p in parts)


def _part(part: str) -> frozenset[str] | None:
    if part in ("", "*"):
        return None
    return frozenset(p for p in part.split("+") if p)


def parse_flow_ref(flow_ref: str) -> tuple[str, str, str]:
    """v1 ``flowRef``: ``ID``, ``AGENCY,ID`` or ``AGENCY,ID,VERSION`` (``all`` any agency,
    ``latest``/``all`` the latest version) as (agency, id, version); ``*`` stands for any."""
    parts = flow_ref.split(",")
    if len(parts) > 3 or not all(parts):
        raise QuerySyntaxError(f"flowRef {flow_ref!r}: expected ID, AGENCY,ID or AGENCY,ID,VERSION")
    if len(parts) == 1:
        parts = ["all", *parts]
    agency, flow_id, version = (*parts, "latest") if len(parts) == 2 else parts
    return (
        "*" if agency == "all" else agency,
        flow_id,
        "latest" if version in ("all", "latest") else version,
    )


_PROVIDER = re.compile(r"(?:([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)*),)?([\w@$-]+)")


def parse_provider_ref(provider_ref: str | None) -> tuple[tuple[str | None, str], ...] | None:
    """v1 ``providerRef``: ``all`` (None: any provider) or providers separated by ``+``, each
    ``ID`` or ``AGENCY,ID``, as (agency or None for any, provider id)."""
    if provider_ref is None or provider_ref in ("", "all"):
        return None
    found = []
    for part in provider_ref.split("+"):
        match = _PROVIDER.fullmatch(part)
        if match is None:
            raise QuerySyntaxError(
                f"providerRef {provider_ref!r}: expected PROVIDER_ID or AGENCY,PROVIDER_ID, "
                "several separated by '+', or 'all'"
            )
        found.append((match.group(1), match.group(2)))
    return tuple(found)


# --- time periods -----------------------------------------------------------------------------

#: An interval of time, in UTC, end excluded.
Bounds = tuple[dt.datetime, dt.datetime]

_PARTS = re.compile(
    r"(?P<year>\d{4})(?:-(?:(?P<letter>[ASTQMWD])(?P<number>\d{1,3})"
    r"|(?P<month>\d\d)(?:-(?P<day>\d\d)(?:T(?P<clock>[\d:.]+))?)?))?"
    r"(?P<tz>Z|[+-]\d\d:\d\d)?(?:/(?P<duration>.+))?"
)
_DURATION = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
#: Months per reporting period letter (the reporting year starts on 1 January).
_MONTHS = {"A": 12, "S": 6, "T": 4, "Q": 3, "M": 1}
_INSTANT = dt.timedelta(microseconds=1)
# A period's end that would fall after LATEST (the exclusive end of year 9999, a time zone or a
# duration past it) is clamped to it, and a start before EARLIEST (``0001-01-01+14:00``) to it:
# no data can lie beyond them, so the clamped interval selects the same observations.


def _utc(year: int, month: int, day: int) -> dt.datetime:
    """Midnight UTC of a day; after year 9999: the last representable instant."""
    return dt.datetime(year, month, day, tzinfo=dt.UTC) if year <= 9999 else LATEST


def _shift(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``moment + delta``, clamped to the representable instants."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > dt.timedelta() else EARLIEST


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if year > 9999:
        return LATEST
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _clock(date: dt.datetime, clock: str | None) -> dt.datetime:
    if clock is None:
        return date
    hours, minutes, seconds = clock.split(":")
    return _shift(
        date, dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
    )


def _range_end(start: dt.datetime, duration: str) -> dt.datetime:
    match = _DURATION.fullmatch(duration)
    assert match is not None  # parse_period checked it
    n = match.groupdict(default="0")
    end = _add_months(start, int(n["y"]) * 12 + int(n["mo"]))
    try:
        length = dt.timedelta(
            days=int(n["d"]), hours=int(n["h"]), minutes=int(n["mi"]), seconds=float(n["s"])
        )
    except (OverflowError, ValueError):  # longer than a timedelta (or an infinite float)
        return LATEST
    return _shift(end, length)


def _reporting(year: int, letter: str, number: int) -> Bounds:
    if letter == "W":
        start = dt.datetime.combine(dt.date.fromisocalendar(year, number, 1), dt.time(), dt.UTC)
        return start, _shift(start, dt.timedelta(days=7))
    if letter == "D":
        start = _utc(year, 1, 1) + dt.timedelta(days=number - 1)
        return start, _shift(start, dt.timedelta(days=1))
    months = _MONTHS[letter]
    start = _add_months(_utc(year, 1, 1), months * (number - 1))
    return start, _add_months(start, months)


def period_bounds(text: str) -> Bounds:
    """When an SDMX time period starts and ends (UTC, end excluded).

    Every ObservationalTimePeriodType spelling: years, reporting periods (``2023-Q3``,
    ``2023-W05``, ``2023-D031``; the reporting year starts on 1 January, weeks are ISO 8601
    weeks), months, days, date-times (an instant: one microsecond long) and time ranges
    (``2023-01-01/P6M``); a time zone shifts the interval to UTC. Bounds beyond the
    representable instants are clamped to :data:`EARLIEST` and :data:`LATEST` (the end of year
    9999 is ``LATEST``, so its last microsecond counts as the one before it).

    Raises:
        PeriodError: ``text`` is not an SDMX time period.
    """
    parse_period(text)
    match = _PARTS.fullmatch(text)
    assert match is not None  # parse_period accepted it
    p = match.groupdict()
    year = int(p["year"])
    if p["letter"]:
        start, end = _reporting(year, p["letter"], int(p["number"]))
    elif p["month"] is None:
        start, end = _utc(year, 1, 1), _utc(year + 1, 1, 1)
    elif p["day"] is None:
        start = _utc(year, int(p["month"]), 1)
        end = _add_months(start, 1)
    else:
        start = _clock(_utc(year, int(p["month"]), int(p["day"])), p["clock"])
        end = _shift(start, dt.timedelta(days=1) if p["clock"] is None else _INSTANT)
    if p["duration"]:
        end = _range_end(start, p["duration"])
    if p["tz"] and p["tz"] != "Z":
        sign = 1 if p["tz"][0] == "+" else -1
        offset = dt.timedelta(hours=int(p["tz"][1:3]), minutes=int(p["tz"][4:6])) * sign
        start, end = _shift(start, -offset), _shift(end, -offset)
    if end <= start:  # an instant clamped to the first or the last: still one microsecond
        start, end = (end - _INSTANT, end) if end == LATEST else (start, start + _INSTANT)
    return start, end


def _query_period(name: str, text: str) -> Bounds:
    try:
        return period_bounds(text)
    except PeriodError as err:
        raise QuerySyntaxError(f"{name}={text!r} is not an SDMX time period: {err}") from None


# --- component filters (v2 c[COMPONENT]=...) ----------------------------------------------------


class Operator(enum.StrEnum):
    """The comparison operators of sdmx-rest ``c[...]`` filters."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    CO = "co"
    NC = "nc"
    SW = "sw"
    EW = "ew"


#: The comparisons, for numbers and text alike.
_COMPARISONS: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
}
_TEXT_TESTS: dict[Operator, Callable[[str, str], bool]] = {
    **_COMPARISONS,
    Operator.CO: lambda v, o: o in v,
    Operator.NC: lambda v, o: o not in v,
    Operator.SW: lambda v, o: v.startswith(o),
    Operator.EW: lambda v, o: v.endswith(o),
}
_ORDERING = (Operator.LT, Operator.LE, Operator.GT, Operator.GE)
#: Period operators, with the observation's (start, end) and the operand's: overlap semantics.
_PERIOD_TESTS: dict[Operator, Callable[[Bounds, Bounds], bool]] = {
    Operator.EQ: lambda p, o: p[0] < o[1] and p[1] > o[0],
    Operator.NE: lambda p, o: not (p[0] < o[1] and p[1] > o[0]),
    Operator.GE: lambda p, o: p[1] > o[0],
    Operator.GT: lambda p, o: p[0] >= o[1],
    Operator.LE: lambda p, o: p[0] < o[1],
    Operator.LT: lambda p, o: p[1] <= o[0],
}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_TEXT_TESTS_ONLY = (Operator.CO, Operator.NC, Operator.SW, Operator.EW)
_NUMBER_TESTS: dict[Operator, Callable[[float, float], bool]] = dict(_COMPARISONS)


@dataclass(frozen=True)
class Condition:
    """One ``op:value`` term of a component filter; ``period`` is the operand's interval when
    the component is the time dimension and the operator compares periods."""

    op: Operator
    operand: str
    period: Bounds | None = None

    def test_text(self, value: str | None, numeric: bool = False) -> bool:
        """Codes and texts compare as strings; measures as numbers when both are numbers."""
        if value is None:
            return self.op in (Operator.NE, Operator.NC)
        if numeric and self.op not in _TEXT_TESTS_ONLY:
            number, operand = _number(value), _number(self.operand)
            if number is not None and operand is not None:
                return _NUMBER_TESTS[self.op](number, operand)
        return _TEXT_TESTS[self.op](value, self.operand)

    def test_period(self, bounds: Bounds | None, value: str) -> bool:
        """Time periods compare by the time they cover: ``ge:2023-Q3`` keeps an annual 2023."""
        if self.period is None:
            return _TEXT_TESTS[self.op](value, self.operand)
        return bounds is not None and _PERIOD_TESTS[self.op](bounds, self.period)


@dataclass(frozen=True)
class ComponentFilter:
    """``c[X]=A,B+C``: alternatives separated by ``,`` (OR), each a conjunction of terms
    separated by ``+`` (AND); ``ge:2020+le:2022,eq:2024`` is (>= 2020 AND <= 2022) OR 2024."""

    component: str
    alternatives: tuple[tuple[Condition, ...], ...]

    @classmethod
    def parse(cls, component: str, text: str) -> ComponentFilter:
        # An unencoded ``+`` in a query string arrives as a space: it is the AND separator.
        alternatives = tuple(
            tuple(_condition(component, term) for term in alt.replace(" ", "+").split("+"))
            for alt in text.split(",")
        )
        if not all(all(c.operand for c in alt) for alt in alternatives):
            raise QuerySyntaxError(f"c[{component}]={text!r}: a value is empty")
        return cls(component, alternatives)

    def accepts(self, value: str | None, numeric: bool = False) -> bool:
        return any(all(c.test_text(value, numeric) for c in alt) for alt in self.alternatives)

    def accepts_period(self, value: str, bounds: Bounds | None) -> bool:
        return any(all(c.test_period(bounds, value) for c in alt) for alt in self.alternatives)

    def on_periods(self) -> ComponentFilter:
        """This filter on the time dimension: comparison operands parsed as periods.

        Raises:
            QuerySyntaxError: an operand of eq, ne, lt, le, gt or ge is not a time period.
        """
        name = f"c[{self.component}]"
        return ComponentFilter(
            self.component,
            tuple(
                tuple(
                    Condition(c.op, c.operand, _query_period(name, c.operand))
                    if c.op in _PERIOD_TESTS
                    else c
                    for c in alt
                )
                for alt in self.alternatives
            ),
        )

    def on_numbers(self) -> ComponentFilter:
        """This filter on a numeric measure: checks that the operands of eq, ne, lt, le, gt
        and ge are finite numbers (co, nc, sw and ew compare the value as text).

        Raises:
            QuerySyntaxError: one of them is not.
        """
        for alt in self.alternatives:
            for c in alt:
                if c.op in _NUMBER_TESTS and not _finite(c.operand):
                    raise QuerySyntaxError(
                        f"c[{self.component}]={c.op.value}:{c.operand}: {self.component} holds "
                        f"numbers; {c.op.value} takes a finite number such as 12.5"
                    )
        return self


def _finite(text: str) -> bool:
    number = _number(text)
    return number is not None and math.isfinite(number)


def _condition(component: str, term: str) -> Condition:
    op, sep, operand = term.partition(":")
    if sep and op in Operator.__members__.values():
        return Condition(Operator(op), operand)
    if sep and re.fullmatch(r"[a-z]{2}", op):
        raise QuerySyntaxError(
            f"c[{component}]: unknown operator {op!r}; use one of "
            f"{', '.join(o.value for o in Operator)}"
        )
    return Condition(Operator.EQ, term)


# --- sort ---------------------------------------------------------------------------------------

SERIES_KEY: Final = "series_key"
_SORT_TERM = re.compile(r"([A-Za-z0-9_@$\-]+|\*)(?::(asc|desc))?")


@dataclass(frozen=True)
class SortTerm:
    """One term of ``sort``: a component id, ``*`` (every dimension) or ``series_key``."""

    component: str
    descending: bool = False


def _parse_sort(text: str | None) -> tuple[SortTerm, ...]:
    if not text:
        return ()
    terms = []
    for raw in text.replace(" ", "+").split("+"):
        match = _SORT_TERM.fullmatch(raw)
        if match is None:
            raise QuerySyntaxError(
                f"sort={text!r}: expected component ids, '*' or 'series_key', each with an "
                "optional ':asc' or ':desc', separated by '+'"
            )
        terms.append(SortTerm(match.group(1), match.group(2) == "desc"))
    return tuple(terms)


# --- the query parameters -----------------------------------------------------------------------

_DETAILS: tuple[Detail, ...] = ("full", "dataonly", "serieskeysonly", "nodata")
_LABELS: tuple[Labels, ...] = ("id", "name", "both")
_TIME_FORMATS: tuple[TimeFormat, ...] = ("original", "normalized")
_KEYS: tuple[CsvKeys, ...] = ("none", "obs", "series", "both")
_BOOLEANS = {"true": True, "false": False}
_COMPONENT_PARAM = re.compile(r"c\[([A-Za-z][A-Za-z0-9_-]*)\]")
_RYSD = re.compile(r"--(\d\d)-(\d\d)")
#: The reporting year start day ILMS data use (and SDMX assumes without one).
JANUARY_FIRST: Final = "--01-01"
#: Parameters whose value is a single token (everything but ``c[...]``).
PARAMETERS: Final = (
    "startPeriod",
    "endPeriod",
    "updatedAfter",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "detail",
    "includeHistory",
    "explicitMeasure",
    "attributes",
    "measures",
    "asOf",
    "offset",
    "limit",
    "sort",
    "reportingYearStartDay",
    "labels",
    "timeFormat",
    "keys",
)
#: Names a client may mean (other parameters, e.g. a cache buster, are ignored): what differs
#: from a known one only by case, and ``c`` without its component, would otherwise be
#: ignored silently, and the unfiltered data come back.
_MEANT: Final = {name.lower(): name for name in (*PARAMETERS, "format", "formatVersion")}


def check_parameter_name(name: str) -> None:
    """Refuse a parameter name that is a known one misspelt in case, or ``c`` without its
    component (what sdmx1's REST v2 client sends for filters)."""
    lowered = name.lower()
    if lowered == "c" or (lowered.startswith("c[") and not name.startswith("c[")):
        raise QuerySyntaxError(
            f"{name}: filters are c[COMPONENT_ID]=value, e.g. c[TIME_PERIOD]=ge:2020 (the "
            "brackets may be percent-encoded)"
        )
    meant = _MEANT.get(lowered)
    if meant is not None and meant != name:
        raise QuerySyntaxError(f"{name}: parameter names are case-sensitive; did you mean {meant}?")


def _choice(name: str, value: str | None, allowed: Sequence[str], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise QuerySyntaxError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _integer(name: str, value: str | None, minimum: int) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) < minimum:
        raise QuerySyntaxError(f"{name}={value!r}: expected an integer >= {minimum}")
    return int(value)


def boolean_parameter(name: str, value: str | None) -> bool:
    """A true/false query parameter (absent: false).

    Raises:
        QuerySyntaxError: another value.
    """
    if value is None:
        return False
    found = _BOOLEANS.get(value.lower())
    if found is None:
        raise QuerySyntaxError(f"{name}={value!r}: expected true or false")
    return found


def _instant(name: str, value: str | None) -> dt.datetime | None:
    """An xs:dateTime in UTC; without an offset, UTC (the service's local time). An offset
    that moves it before year 1 or after year 9999 UTC clamps it to :data:`EARLIEST` or
    :data:`LATEST`: nothing is recorded beyond them, so the answer is the same."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise QuerySyntaxError(
            f"{name}={value!r}: expected an ISO 8601 date-time such as 2024-01-31T12:00:00Z"
        ) from None
    return in_utc(moment)


def _list(value: str | None, default: str) -> tuple[str, ...]:
    return tuple(v for v in (value or default).replace(" ", "+").split(",") if v)


def _reporting_year_start_day(value: str | None) -> str | None:
    if value is None:
        return None
    match = _RYSD.fullmatch(value)
    if match is None:
        raise QuerySyntaxError(f"reportingYearStartDay={value!r}: expected --MM-DD")
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise QuerySyntaxError(f"reportingYearStartDay={value!r}: no such day")
    if value != JANUARY_FIRST:
        raise NotImplementedYet(
            f"reportingYearStartDay={value}: only {JANUARY_FIRST} is supported (ILMS "
            "reporting years start on 1 January)"
        )
    return value


@dataclass(frozen=True)
class DataParams:
    """The query parameters of a data query, validated as far as syntax goes.

    Both API versions take every parameter (v1's ``startPeriod``/``endPeriod``/``detail`` on
    v2, v2's ``c[...]``, ``attributes``... on v1): their meaning is the same.
    """

    start: Bounds | None = None
    end: Bounds | None = None
    updated_after: dt.datetime | None = None
    as_of: dt.datetime | None = None
    include_history: bool = False
    first_n: int | None = None
    last_n: int | None = None
    dimension_at_observation: str | None = None
    detail: Detail = "full"
    #: ``c[COMPONENT]`` filters, by component id.
    components: Mapping[str, ComponentFilter] = field(default_factory=dict)
    #: ``attributes``: dsd, msd, dataset, series, obs, all, none or attribute ids.
    attributes: tuple[str, ...] = ("dsd",)
    #: ``measures``: all, none or measure ids.
    measures: tuple[str, ...] = ("all",)
    offset: int = 0
    limit: int | None = None
    sort: tuple[SortTerm, ...] = ()
    #: SDMX-CSV options, also accepted as parameters of the CSV media type.
    labels: Labels | None = None
    time_format: TimeFormat | None = None
    keys: CsvKeys | None = None

    @classmethod
    def parse(cls, items: Iterable[tuple[str, str]]) -> DataParams:
        """From the query string's (name, value) pairs (brackets already percent-decoded)."""
        single: dict[str, str] = {}
        components: dict[str, ComponentFilter] = {}
        for name, value in items:
            match = _COMPONENT_PARAM.fullmatch(name)
            if match is not None:
                if match.group(1) in components:
                    raise QuerySyntaxError(f"c[{match.group(1)}] is given more than once")
                components[match.group(1)] = ComponentFilter.parse(match.group(1), value)
            elif name.startswith("c["):
                raise QuerySyntaxError(f"{name}: expected c[COMPONENT_ID]=value")
            elif name not in PARAMETERS:
                check_parameter_name(name)
            else:
                if name in single:
                    raise QuerySyntaxError(f"{name} is given more than once")
                single[name] = value
        return cls._from(single, components)

    @classmethod
    def _from(cls, p: Mapping[str, str], components: dict[str, ComponentFilter]) -> DataParams:
        updated_after = _instant("updatedAfter", p.get("updatedAfter"))
        as_of = _instant("asOf", p.get("asOf"))
        if updated_after is not None and as_of is not None and updated_after > as_of:
            raise QuerySyntaxError("updatedAfter is later than asOf")
        boolean_parameter(
            "explicitMeasure", p.get("explicitMeasure")
        )  # no measure dimension: no effect
        _reporting_year_start_day(p.get("reportingYearStartDay"))
        start, end = p.get("startPeriod"), p.get("endPeriod")
        return cls(
            start=_query_period("startPeriod", start) if start else None,
            end=_query_period("endPeriod", end) if end else None,
            updated_after=updated_after,
            as_of=as_of,
            include_history=boolean_parameter("includeHistory", p.get("includeHistory")),
            first_n=_integer("firstNObservations", p.get("firstNObservations"), 1),
            last_n=_integer("lastNObservations", p.get("lastNObservations"), 1),
            dimension_at_observation=p.get("dimensionAtObservation") or None,
            detail=cast(Detail, _choice("detail", p.get("detail"), _DETAILS, "full")),
            components=components,
            attributes=_list(p.get("attributes"), "dsd"),
            measures=_list(p.get("measures"), "all"),
            offset=_integer("offset", p.get("offset"), 0) or 0,
            limit=_integer("limit", p.get("limit"), 1),
            sort=_parse_sort(p.get("sort")),
            labels=cast(Labels | None, _option("labels", p, _LABELS)),
            time_format=cast(TimeFormat | None, _option("timeFormat", p, _TIME_FORMATS)),
            keys=cast(CsvKeys | None, _option("keys", p, _KEYS)),
        )

    def period_window(self) -> Bounds | None:
        """The interval ``startPeriod``/``endPeriod`` ask for (open ends: None when neither)."""
        if self.start is None and self.end is None:
            return None
        return (
            self.start[0] if self.start else EARLIEST,
            self.end[1] if self.end else LATEST,
        )


def _option(name: str, p: Mapping[str, str], allowed: Sequence[str]) -> str | None:
    value = p.get(name)
    return None if value is None else _choice(name, value, allowed, "")


def csv_options(
    media_params: Mapping[str, str], params: DataParams
) -> tuple[Labels, TimeFormat, CsvKeys]:
    """SDMX-CSV ``labels``, ``timeFormat`` and ``keys``: the query parameters, else the
    parameters of the negotiated media type (keys lower case), else the defaults.

    Raises:
        NotAcceptable: a media type parameter with a value SDMX-CSV does not define.
    """
    found: list[str] = []
    for name, asked, allowed in (
        ("labels", params.labels, _LABELS),
        ("timeFormat", params.time_format, _TIME_FORMATS),
        ("keys", params.keys, _KEYS),
    ):
        value = asked or media_params.get(name.lower(), allowed[0])
        if value not in allowed:
            raise NotAcceptable(
                f"{name}={value} in the media type: SDMX-CSV takes {', '.join(allowed)}"
            )
        found.append(value)
    labels, time_format, keys = found
    return cast(Labels, labels), cast(TimeFormat, time_format), cast(CsvKeys, keys)
