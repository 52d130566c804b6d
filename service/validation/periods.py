"""SDMX 2.1 time periods (ObservationalTimePeriodType): parsing, calendar checks, FREQ rules."""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import NamedTuple


class PeriodKind(enum.StrEnum):
    """What an SDMX time period denotes, whichever of its spellings was used."""

    YEAR = "year"  # 2023 (xs:gYear), 2023-A1 (reporting year)
    SEMESTER = "semester"  # 2023-S1
    TRIMESTER = "trimester"  # 2023-T1 (four months)
    QUARTER = "quarter"  # 2023-Q1
    MONTH = "month"  # 2023-01 (xs:gYearMonth), 2023-M01
    WEEK = "week"  # 2023-W05 (ISO 8601 week: the reporting year starts on 1 January)
    DAY = "day"  # 2023-01-31 (xs:date), 2023-D031
    DATETIME = "date-time"  # 2023-01-31T13:45:00 (xs:dateTime), a point in time
    RANGE = "time range"  # 2023-01-01/P1Y: a start date or date-time and a duration


class Span(NamedTuple):
    """The length of a time range, normalised: P1Y and P12M are both Span(12, 0, 0)."""

    months: int
    days: int
    seconds: float


class Period(NamedTuple):
    """A valid period: its kind, and its length when it is a time range."""

    kind: PeriodKind
    span: Span | None = None


_TZ = r"(?P<tz>Z|[+-]\d\d:\d\d)?"
_DATE_OR_TIME = (
    r"(?P<month>\d\d)(?:-(?P<day>\d\d)"
    r"(?:T(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)(?P<fraction>\.\d+)?)?)?"
)
#: Every spelling of ObservationalTimePeriodType (SDMXCommon.xsd), values checked afterwards:
#: [year], [year]-[A|S|T|Q][n], [year]-[M|W][nn], [year]-D[nnn], [year]-[mm], [year]-[mm]-[dd],
#: [date]T[hh:mm:ss(.f)], each with an optional time zone; and [date or date-time]/[duration].
_REPORTING = r"(?P<rtype>[ASTQ])(?P<r1>\d)|(?P<rtype2>[MW])(?P<r2>\d\d)|D(?P<r3>\d{3})"
_PERIOD = re.compile(
    rf"(?P<year>\d{{4}})(?:-(?:{_REPORTING}|{_DATE_OR_TIME}))?{_TZ}(?:/(?P<duration>.*))?"
)
_DURATION = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_REPORTING_KINDS = {
    "A": (PeriodKind.YEAR, 1),
    "S": (PeriodKind.SEMESTER, 2),
    "T": (PeriodKind.TRIMESTER, 3),
    "Q": (PeriodKind.QUARTER, 4),
    "M": (PeriodKind.MONTH, 12),
    "W": (PeriodKind.WEEK, 53),
}
_MAX_TZ_MINUTES = 14 * 60
_FORMS = "use a form such as 2023, 2023-S1, 2023-Q1, 2023-01, 2023-W05 or 2023-01-31"


class PeriodError(ValueError):
    """A text that is not a valid SDMX time period; the message says why."""


def parse_period(text: str) -> Period:
    """The kind (and range length) of an SDMX time period; PeriodError if it is not one."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise PeriodError(_FORMS)
    parts = match.groupdict()
    year = int(parts["year"])
    if year == 0:
        raise PeriodError("year 0000 does not exist")
    _check_time_zone(parts["tz"])
    if parts["duration"] is not None:
        if parts["day"] is None:
            raise PeriodError("a time range must start with a date or a date-time")
        _check_date_time(year, parts)
        return Period(PeriodKind.RANGE, _parse_duration(parts["duration"]))
    if parts["month"] is not None:
        return Period(_check_date_time(year, parts))
    return Period(_reporting_kind(year, parts))


def _reporting_kind(year: int, parts: dict[str, str | None]) -> PeriodKind:
    letter = parts["rtype"] or parts["rtype2"]
    if letter is None:
        if parts["r3"] is None:
            return PeriodKind.YEAR
        day = int(parts["r3"])
        days = 366 if calendar.isleap(year) else 365
        if not 1 <= day <= days:
            raise PeriodError(f"day {day:03d} does not exist in {year} ({days} days)")
        return PeriodKind.DAY
    kind, last = _REPORTING_KINDS[letter]
    digits = parts["r1"] or parts["r2"] or "0"
    number = int(digits)
    if kind is PeriodKind.WEEK:
        last = dt.date(year, 12, 28).isocalendar().week  # 28 December is in the last ISO week
    if not 1 <= number <= last:
        first = f"{year}-{letter}{1:0{len(digits)}d}"
        valid = f"only {first}" if last == 1 else f"{first} to {year}-{letter}{last}"
        raise PeriodError(f"{kind} {number} does not exist ({valid})")
    return kind


def _check_date_time(year: int, parts: dict[str, str | None]) -> PeriodKind:
    month = int(parts["month"] or "0")
    if not 1 <= month <= 12:
        raise PeriodError(f"month {month:02d} does not exist")
    if parts["day"] is None:
        return PeriodKind.MONTH
    day = int(parts["day"])
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise PeriodError(f"{year}-{month:02d} has no day {day:02d} (it has {last} days)")
    if parts["hour"] is None:
        return PeriodKind.DAY
    _check_clock(parts)
    return PeriodKind.DATETIME


def _check_clock(parts: dict[str, str | None]) -> None:
    hour, minute, second = (int(parts[p] or "0") for p in ("hour", "minute", "second"))
    fraction = float(parts["fraction"] or "0")
    end_of_day = hour == 24 and minute == 0 and second == 0 and fraction == 0
    if not end_of_day and (hour > 23 or minute > 59 or second > 59):
        raise PeriodError(f"{hour:02d}:{minute:02d}:{second:02d} is not a time of day")


def _check_time_zone(tz: str | None) -> None:
    if tz is None or tz == "Z":
        return
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    if minutes > 59 or hours * 60 + minutes > _MAX_TZ_MINUTES:
        raise PeriodError(f"time zone {tz} is not between -14:00 and +14:00")


def _parse_duration(text: str) -> Span:
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise PeriodError(f"{text!r} is not a duration such as P1Y, P3M or P7D")
    n = match.groupdict(default="0")
    span = Span(
        months=int(n["y"]) * 12 + int(n["mo"]),
        days=int(n["d"]),
        seconds=int(n["h"]) * 3600 + int(n["mi"]) * 60 + float(n["s"]),
    )
    if span == (0, 0, 0):
        raise PeriodError(f"duration {text} is empty")
    return span


def canonical_period(text: str) -> str:
    """One spelling per period, for identity: 2023-A1 -> 2023, 2023-M01 -> 2023-01,
    2023-D031 -> 2023-01-31. Without a reporting year start day (ILMS has none), SDMX reporting
    years start on 1 January and these periods coincide. Other texts are returned unchanged.
    """
    if len(text) < 7 or text[4] != "-" or text[5] not in "AMD" or not text[6:].isdigit():
        return text
    year, letter, number = text[:4], text[5], int(text[6:])
    if letter == "A":
        return year
    if letter == "M":
        return f"{year}-{number:02d}"
    try:
        day = dt.date(int(year), 1, 1) + dt.timedelta(days=number - 1)
    except ValueError:  # year 0000; not valid anyway
        return text
    return day.isoformat() if day.year == int(year) else text


@dataclass(frozen=True, slots=True)
class FrequencyRule:
    """The periods one FREQ code accepts: kinds, time-range lengths, and an example to cite."""

    code: str
    kinds: frozenset[PeriodKind]
    spans: frozenset[Span]
    example: str
    any_period: bool = False

    def problem(self, text: str) -> tuple[str, str] | None:
        """None if ``text`` is a valid period for this frequency, else (rule, message)."""
        try:
            period = parse_period(text)
        except PeriodError as err:
            return "bad_time_period", f"{text!r} is not a valid SDMX time period: {err}."
        if self.any_period or period.kind in self.kinds or period.span in self.spans:
            return None
        return "period_frequency_mismatch", (
            f"{text!r} is a {period.kind} but FREQ {self.code} expects {self.example}."
        )


_Y, _M = PeriodKind.YEAR, PeriodKind.MONTH
_YEAR_EXAMPLE = "a year such as 2023 or 2023-A1"
#: The periods each code of ILOSTAT's CL_FREQ accepts (B: every 2 years, F: every 5 years,
#: T: three times a year), plus SDMX's H (hourly) and N (minutely). O (other) takes any period.
#: Columns: code, period kinds, time-range length, what to say in a problem.
_FREQUENCIES: tuple[tuple[str, PeriodKind, Span, str], ...] = (
    ("A", _Y, Span(12, 0, 0), _YEAR_EXAMPLE),
    ("B", _Y, Span(24, 0, 0), _YEAR_EXAMPLE),
    ("F", _Y, Span(60, 0, 0), _YEAR_EXAMPLE),
    ("S", PeriodKind.SEMESTER, Span(6, 0, 0), "a semester such as 2023-S1"),
    ("T", PeriodKind.TRIMESTER, Span(4, 0, 0), "a trimester such as 2023-T1"),
    ("Q", PeriodKind.QUARTER, Span(3, 0, 0), "a quarter such as 2023-Q1"),
    ("M", _M, Span(1, 0, 0), "a month such as 2023-01 or 2023-M01"),
    ("W", PeriodKind.WEEK, Span(0, 7, 0), "a week such as 2023-W05"),
    ("D", PeriodKind.DAY, Span(0, 1, 0), "a day such as 2023-01-31 or 2023-D031"),
    ("H", PeriodKind.DATETIME, Span(0, 0, 3600), "a date-time such as 2023-01-31T13:00:00"),
    ("N", PeriodKind.DATETIME, Span(0, 0, 60), "a date-time such as 2023-01-31T13:45:00"),
)
FREQUENCY_RULES: dict[str, FrequencyRule] = {
    code: FrequencyRule(code, frozenset((kind,)), frozenset((span,)), example)
    for code, kind, span, example in _FREQUENCIES
}


def frequency_rule(code: str | None) -> FrequencyRule:
    """The rule for a FREQ code; any valid SDMX period for O, unknown codes, or no FREQ."""
    known = FREQUENCY_RULES.get(code or "")
    if known is not None:
        return known
    return FrequencyRule(code or "", frozenset(), frozenset(), "any period", any_period=True)
