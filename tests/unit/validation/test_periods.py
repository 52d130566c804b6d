"""SDMX time periods: every spelling, calendar edge cases, and what each FREQ accepts."""

from __future__ import annotations

import re

import pytest

from service.validation import (
    PeriodError,
    PeriodKind,
    canonical_period,
    frequency_rule,
    parse_period,
)

VALID = {
    "2023": PeriodKind.YEAR,
    "2023-A1": PeriodKind.YEAR,
    "2023-S2": PeriodKind.SEMESTER,
    "2023-T3": PeriodKind.TRIMESTER,
    "2023-Q4": PeriodKind.QUARTER,
    "2023-01": PeriodKind.MONTH,
    "2023-M12": PeriodKind.MONTH,
    "2020-W53": PeriodKind.WEEK,  # 2020 has 53 ISO weeks
    "2023-W52": PeriodKind.WEEK,
    "2023-01-31": PeriodKind.DAY,
    "2024-02-29": PeriodKind.DAY,
    "2000-02-29": PeriodKind.DAY,  # divisible by 400: a leap year
    "2024-D366": PeriodKind.DAY,
    "2023-01-31T13:45:00": PeriodKind.DATETIME,
    "2023-01-31T24:00:00": PeriodKind.DATETIME,
    "2023-01-31T13:45:00.250+05:30": PeriodKind.DATETIME,
    "2023-01-01/P1Y": PeriodKind.RANGE,
    "2023-01-01T00:00:00Z/PT1H": PeriodKind.RANGE,
    "2023Z": PeriodKind.YEAR,
    "2023-Q1-14:00": PeriodKind.QUARTER,
}

INVALID = {
    "2023-13": "month 13 does not exist",
    "2023-00": "month 00 does not exist",
    "2023-M13": "month 13 does not exist",
    "2023-Q5": "quarter 5 does not exist",
    "2023-Q0": "quarter 0 does not exist",
    "2023-S3": "semester 3 does not exist",
    "2023-T4": "trimester 4 does not exist",
    "2023-A2": "year 2 does not exist (only 2023-A1)",
    "2023-W53": "week 53 does not exist (2023-W01 to 2023-W52)",
    "2023-W00": "week 0 does not exist",
    "2023-02-29": "2023-02 has no day 29",
    "1900-02-29": "1900-02 has no day 29",  # divisible by 100, not by 400
    "2023-02-31": "2023-02 has no day 31",
    "2023-04-31": "2023-04 has no day 31",
    "2023-01-00": "2023-01 has no day 00",
    "2023-D366": "day 366 does not exist in 2023",
    "2023-D000": "day 000 does not exist",
    "2023-01-31T25:00:00": "25:00:00 is not a time of day",
    "2023-01-31T24:00:01": "24:00:01 is not a time of day",
    "2023-01-31T12:60:00": "12:60:00 is not a time of day",
    "2023+14:30": "time zone +14:30",
    "2023/P1Y": "must start with a date",
    "2023-01-01/P": "is not a duration",
    "2023-01-01/P1Y2": "is not a duration",
    "2023-01-01/P0D": "duration P0D is empty",
    "0000": "year 0000 does not exist",
    "2023-1": "use a form such as",
    "2023-M1": "use a form such as",
    "2023-W5": "use a form such as",
    "23": "use a form such as",
    "2023 ": "use a form such as",
    "2023-01-31T13:45": "use a form such as",  # seconds are required
    "": "use a form such as",
}


@pytest.mark.parametrize(("text", "kind"), VALID.items())
def test_valid_periods(text: str, kind: PeriodKind) -> None:
    assert parse_period(text).kind is kind


@pytest.mark.parametrize(("text", "reason"), INVALID.items())
def test_invalid_periods(text: str, reason: str) -> None:
    with pytest.raises(PeriodError, match=re.escape(reason)):
        parse_period(text)


def test_range_lengths_are_normalised() -> None:
    assert parse_period("2023-01-01/P1Y").span == parse_period("2023-01-01/P12M").span
    assert parse_period("2023-01-01T00:00:00/PT1H").span == parse_period("2023-01-01/PT60M").span


# (FREQ, periods it accepts, periods of another frequency it refuses)
FREQUENCIES = [
    (
        "A",
        ["2023", "2023-A1", "2023-01-01/P1Y", "2023-01-01/P12M"],
        ["2023-Q1", "2023-01", "2023-01-01/P6M"],
    ),
    ("B", ["2022", "2022-01-01/P2Y"], ["2022-S1", "2022-01-01/P1Y"]),
    ("F", ["2020", "2020-01-01/P5Y"], ["2020-Q1"]),
    ("S", ["2023-S1", "2023-S2", "2023-07-01/P6M"], ["2023", "2023-Q2"]),
    ("T", ["2023-T1", "2023-T3", "2023-01-01/P4M"], ["2023-Q1", "2023-S1"]),
    ("Q", ["2023-Q1", "2023-Q4", "2023-04-01/P3M"], ["2023", "2023-01", "2023-S1"]),
    ("M", ["2023-01", "2023-M01", "2023-12", "2023-02-01/P1M"], ["2023", "2023-Q1", "2023-01-31"]),
    ("W", ["2023-W05", "2020-W53", "2023-01-02/P7D"], ["2023-01", "2023-01-02"]),
    (
        "D",
        ["2023-01-31", "2023-D031", "2024-02-29", "2023-01-31/P1D"],
        ["2023-01", "2023-01-31T00:00:00"],
    ),
    ("H", ["2023-01-31T13:00:00", "2023-01-31T13:00:00/PT1H"], ["2023-01-31"]),
    ("N", ["2023-01-31T13:45:00", "2023-01-31T13:45:00/PT1M"], ["2023-01-31T13:45:00/PT1H"]),
]


@pytest.mark.parametrize(("freq", "good", "other"), FREQUENCIES)
def test_frequency_rules(freq: str, good: list[str], other: list[str]) -> None:
    rule = frequency_rule(freq)
    assert [rule.problem(text) for text in good] == [None] * len(good)
    for text in other:
        problem = rule.problem(text)
        assert problem is not None
        assert problem[0] == "period_frequency_mismatch", text
        assert f"FREQ {freq} expects" in problem[1]


@pytest.mark.parametrize(
    ("freq", "text"),
    [("A", "2023-A2"), ("S", "2023-S3"), ("T", "2023-T4"), ("Q", "2023-Q5"), ("M", "2023-13"),
     ("M", "2023-M00"), ("W", "2021-W53"), ("D", "2023-02-29"), ("D", "2023-D366"),
     ("H", "2023-01-31T24:30:00")],
)  # fmt: skip
def test_impossible_calendar_values(freq: str, text: str) -> None:
    problem = frequency_rule(freq).problem(text)
    assert problem is not None
    assert problem[0] == "bad_time_period"


def test_other_and_unknown_frequencies_take_any_valid_period() -> None:
    for code in ("O", "ZZ", None):
        rule = frequency_rule(code)
        assert rule.problem("2023-W05") is None
        assert rule.problem("2023-01-01/P3M") is None
        assert rule.problem("2023-Q5") == (
            "bad_time_period",
            "'2023-Q5' is not a valid SDMX time period: quarter 5 does not exist "
            "(2023-Q1 to 2023-Q4).",
        )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("2023", "2023"), ("2023-A1", "2023"), ("2023-M01", "2023-01"), ("2023-M12", "2023-12"),
     ("2023-D001", "2023-01-01"), ("2024-D366", "2024-12-31"), ("2023-D366", "2023-D366"),
     ("2023-Q1", "2023-Q1"), ("2023-S1", "2023-S1"), ("2023-W05", "2023-W05"),
     ("2023-01-31", "2023-01-31"), ("2023-A1Z", "2023-A1Z")],
)  # fmt: skip
def test_canonical_period(text: str, canonical: str) -> None:
    assert canonical_period(text) == canonical
