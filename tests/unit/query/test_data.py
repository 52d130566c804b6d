"""Parsing of data queries: time periods as intervals, component filters, the parameters, and
data format negotiation."""

from __future__ import annotations

import datetime as dt

import pytest

from service.errors import NotAcceptable, NotImplementedYet, QuerySyntaxError
from service.formats.writers.data_formats import CATALOGUE, OFFERED, error_media_type
from service.query.data import (
    ComponentFilter,
    DataParams,
    Operator,
    SortTerm,
    parse_key,
    parse_provider_ref,
    period_bounds,
)
from service.query.negotiation import negotiate_with_params
from service.query.structure import ApiVersion
from service.validation.periods import PeriodError


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


class TestPeriodBounds:
    @pytest.mark.parametrize(
        ("period", "start", "end"),
        [
            ("2023", utc(2023, 1, 1), utc(2024, 1, 1)),
            ("2023-A1", utc(2023, 1, 1), utc(2024, 1, 1)),
            ("2023-S2", utc(2023, 7, 1), utc(2024, 1, 1)),
            ("2023-T2", utc(2023, 5, 1), utc(2023, 9, 1)),
            ("2023-Q3", utc(2023, 7, 1), utc(2023, 10, 1)),
            ("2023-M02", utc(2023, 2, 1), utc(2023, 3, 1)),
            ("2023-02", utc(2023, 2, 1), utc(2023, 3, 1)),
            ("2023-W01", utc(2023, 1, 2), utc(2023, 1, 9)),  # ISO week 1 of 2023
            ("2020-W53", utc(2020, 12, 28), utc(2021, 1, 4)),
            ("2024-D060", utc(2024, 2, 29), utc(2024, 3, 1)),  # a leap year
            ("2023-02-28", utc(2023, 2, 28), utc(2023, 3, 1)),
            ("2023-01-31/P1M", utc(2023, 1, 31), utc(2023, 2, 28)),  # month ends clamp
            ("2023-01-01/P1Y6M", utc(2023, 1, 1), utc(2024, 7, 1)),
            ("2023-01-01T12:00:00/PT6H", utc(2023, 1, 1, 12), utc(2023, 1, 1, 18)),
            ("2023Z", utc(2023, 1, 1), utc(2024, 1, 1)),
            ("2023-01-01+02:00", utc(2022, 12, 31, 22), utc(2023, 1, 1, 22)),
        ],
    )
    def test_intervals(self, period: str, start: dt.datetime, end: dt.datetime) -> None:
        assert period_bounds(period) == (start, end)

    def test_a_date_time_is_an_instant(self) -> None:
        start, end = period_bounds("2023-02-28T10:00:00-03:00")
        assert start == utc(2023, 2, 28, 13)
        assert end - start == dt.timedelta(microseconds=1)

    @pytest.mark.parametrize("text", ["2023-Q5", "2023-13", "23", "2023-02-30", "soon"])
    def test_not_periods(self, text: str) -> None:
        with pytest.raises(PeriodError):
            period_bounds(text)


class TestComponentFilter:
    def test_alternatives_and_conjunctions(self) -> None:
        found = ComponentFilter.parse("X", "A,ge:B+le:D,ne:C")
        assert [[(c.op, c.operand) for c in alt] for alt in found.alternatives] == [
            [(Operator.EQ, "A")],
            [(Operator.GE, "B"), (Operator.LE, "D")],
            [(Operator.NE, "C")],
        ]
        assert found.accepts("A")
        assert found.accepts("Bz")  # between B and D
        assert found.accepts("E")  # not C
        assert not ComponentFilter.parse("X", "ne:A+ne:B").accepts("B")
        assert ComponentFilter.parse("X", "ne:A,B").accepts("B")

    def test_a_space_is_an_unencoded_plus(self) -> None:
        assert ComponentFilter.parse("X", "ge:B le:D") == ComponentFilter.parse("X", "ge:B+le:D")

    def test_text_operators_and_missing_values(self) -> None:
        assert ComponentFilter.parse("X", "co:BC").accepts("ABCD")
        assert ComponentFilter.parse("X", "nc:BC").accepts(None)
        assert not ComponentFilter.parse("X", "eq:A").accepts(None)
        assert ComponentFilter.parse("X", "sw:AB").accepts("ABC")
        assert ComponentFilter.parse("X", "ew:BC").accepts("ABC")
        # A value that merely contains a colon is a value.
        assert ComponentFilter.parse("X", "10:30").accepts("10:30")

    def test_numbers(self) -> None:
        assert ComponentFilter.parse("V", "gt:9").accepts("10", numeric=True)
        assert not ComponentFilter.parse("V", "gt:9").accepts("10")  # as text, "10" < "9"
        assert ComponentFilter.parse("V", "eq:12.50").accepts("12.5", numeric=True)

    def test_periods_overlap(self) -> None:
        found = ComponentFilter.parse("TIME_PERIOD", "ge:2023-Q3").on_periods()
        assert found.accepts_period("2023", period_bounds("2023"))
        assert not found.accepts_period("2023-Q2", period_bounds("2023-Q2"))
        after = ComponentFilter.parse("TIME_PERIOD", "gt:2023-Q2").on_periods()
        assert not after.accepts_period("2023", period_bounds("2023"))
        assert after.accepts_period("2023-Q3", period_bounds("2023-Q3"))
        during = ComponentFilter.parse("TIME_PERIOD", "2023").on_periods()
        assert during.accepts_period("2023-07", period_bounds("2023-07"))
        text = ComponentFilter.parse("TIME_PERIOD", "sw:2023-Q").on_periods()
        assert text.accepts_period("2023-Q1", period_bounds("2023-Q1"))
        assert not text.accepts_period("2023", period_bounds("2023"))

    @pytest.mark.parametrize("text", ["xx:A", "A,", "ge:A+"])
    def test_errors(self, text: str) -> None:
        with pytest.raises(QuerySyntaxError):
            ComponentFilter.parse("X", text)

    def test_period_operands_must_be_periods(self) -> None:
        with pytest.raises(QuerySyntaxError):
            ComponentFilter.parse("TIME_PERIOD", "ge:soon").on_periods()


class TestParams:
    def test_defaults(self) -> None:
        params = DataParams.parse([])
        assert params == DataParams()
        assert params.period_window() is None

    def test_values(self) -> None:
        params = DataParams.parse(
            [
                ("startPeriod", "2020-Q3"),
                ("endPeriod", "2021"),
                ("updatedAfter", "2024-01-01T10:00:00 02:00"),  # "+" decoded to a space
                ("asOf", "2024-02-01"),
                ("includeHistory", "TRUE"),
                ("lastNObservations", "2"),
                ("c[REF_AREA]", "THA"),
                ("attributes", "OBS_STATUS,SOURCE"),
                ("sort", "series_key+TIME_PERIOD:desc"),
                ("offset", "0"),
                ("unrelated", "ignored"),
            ]
        )
        assert params.period_window() == (utc(2020, 7, 1), utc(2022, 1, 1))
        assert params.updated_after == utc(2024, 1, 1, 8)
        assert params.as_of == utc(2024, 2, 1)
        assert params.include_history
        assert params.last_n == 2
        assert set(params.components) == {"REF_AREA"}
        assert params.attributes == ("OBS_STATUS", "SOURCE")
        assert params.sort == (SortTerm("series_key"), SortTerm("TIME_PERIOD", descending=True))

    @pytest.mark.parametrize(
        "items",
        [
            [("startPeriod", "2020-Q9")],
            [("firstNObservations", "0")],
            [("limit", "ten")],
            [("offset", "-1")],
            [("detail", "all")],
            [("includeHistory", "yes")],
            [("updatedAfter", "2024-02-01"), ("asOf", "2024-01-01")],
            [("c[SEX]", "A"), ("c[SEX]", "B")],
            [("c[]", "A")],
            [("startPeriod", "2020"), ("startPeriod", "2021")],
            [("sort", "A:up")],
            [("labels", "codes")],
            [("reportingYearStartDay", "--13-01")],
            # what would otherwise be ignored, and the unfiltered data come back
            [("c", "TIME_PERIOD=ge:2024")],
            [("C[TIME_PERIOD]", "ge:2024")],
            [("startperiod", "2024")],
            [("LASTNOBSERVATIONS", "1")],
            [("formatversion", "2.0.0")],
        ],
    )
    def test_errors(self, items: list[tuple[str, str]]) -> None:
        with pytest.raises(QuerySyntaxError):
            DataParams.parse(items)

    def test_reporting_year_start_day(self) -> None:
        DataParams.parse([("reportingYearStartDay", "--01-01")])
        with pytest.raises(NotImplementedYet):
            DataParams.parse([("reportingYearStartDay", "--07-01")])


class TestPaths:
    def test_keys(self) -> None:
        dims = ["A", "B", "C"]
        assert parse_key("x+y..z", dims, ApiVersion.V1) == [
            (frozenset({"x", "y"}), None, frozenset({"z"}))
        ]
        assert parse_key("x,*.y", dims, ApiVersion.V2) == [
            (frozenset({"x"}), None, None),
            (None, frozenset({"y"}), None),
        ]
        with pytest.raises(QuerySyntaxError):
            parse_key("x.y", dims, ApiVersion.V1)

    def test_provider_refs(self) -> None:
        assert parse_provider_ref(None) is None
        assert parse_provider_ref("all") is None
        assert parse_provider_ref("THA+ILO,VNM") == ((None, "THA"), ("ILO", "VNM"))
        with pytest.raises(QuerySyntaxError):
            parse_provider_ref("A,B,C")


class TestNegotiation:
    @pytest.mark.parametrize(
        ("accept", "fmt", "api", "expected"),
        [
            (None, None, ApiVersion.V1, "application/vnd.sdmx.genericdata+xml;version=2.1"),
            (None, None, ApiVersion.V2, "application/vnd.sdmx.data+json;version=2.0.0"),
            ("application/xml", None, ApiVersion.V2, "application/vnd.sdmx.data+xml;version=3.0.0"),
            (None, "csv", ApiVersion.V1, "application/vnd.sdmx.data+csv;version=1.0.0"),
            (None, "compact_2_1", ApiVersion.V2, OFFERED[2]),
        ],
    )
    def test_choice(
        self, accept: str | None, fmt: str | None, api: ApiVersion, expected: str
    ) -> None:
        found = negotiate_with_params(accept, fmt, api, OFFERED, catalogue=CATALOGUE)
        assert found.media_type == expected

    def test_csv_parameters(self) -> None:
        accept = "application/vnd.sdmx.data+csv;version=2.0.0;labels=both;timeFormat=normalized"
        found = negotiate_with_params(accept, None, ApiVersion.V2, OFFERED, catalogue=CATALOGUE)
        assert dict(found.params) == {"labels": "both", "timeformat": "normalized"}

    def test_not_acceptable(self) -> None:
        with pytest.raises(NotAcceptable):
            negotiate_with_params("text/html", None, ApiVersion.V2, OFFERED, catalogue=CATALOGUE)

    def test_error_formats(self) -> None:
        assert error_media_type(OFFERED[0]) == "application/vnd.sdmx.structure+xml;version=2.1"
        assert error_media_type("application/vnd.sdmx.data+csv;version=2.0.0") is None
