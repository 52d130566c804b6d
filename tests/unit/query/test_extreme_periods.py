"""Periods, instants and filters at the edges of what Python represents: year 9999 periods
whose exclusive end is in year 10000, time zones and durations past either end, instants whose
offset moves them out of years 1 to 9999, and non-numbers compared with a numeric measure."""

from __future__ import annotations

import datetime as dt

import pytest

from service.errors import QuerySyntaxError
from service.instants import EARLIEST, LATEST, in_utc
from service.query.data import ComponentFilter, DataParams, period_bounds
from service.storage.tables import as_utc
from service.validation.periods import PeriodError


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


US = dt.timedelta(microseconds=1)


class TestYear9999:
    @pytest.mark.parametrize(
        ("text", "start"),
        [
            ("9999", utc(9999, 1, 1)),
            ("9999-A1", utc(9999, 1, 1)),
            ("9999-S2", utc(9999, 7, 1)),
            ("9999-T3", utc(9999, 9, 1)),
            ("9999-Q4", utc(9999, 10, 1)),
            ("9999-12", utc(9999, 12, 1)),
            ("9999-M12", utc(9999, 12, 1)),
            ("9999-W52", utc(9999, 12, 27)),
            ("9999-D365", utc(9999, 12, 31)),
            ("9999-12-31", utc(9999, 12, 31)),
            ("9999-12-31T20:00:00/PT5H", utc(9999, 12, 31, 20)),
            ("9999-12-31-14:00", utc(9999, 12, 31, 14)),
            ("9999-12-31T23:00:00-02:00", LATEST - US),  # an instant after the last one
            ("9999-12-31T24:00:00", LATEST - US),
            ("9999-01-01/P2Y", utc(9999, 1, 1)),
            ("9999-06-01/P400D", utc(9999, 6, 1)),
            ("9999-06-01/P99999999999999999999D", utc(9999, 6, 1)),
            ("9999-06-01/P99999999999999999999Y", utc(9999, 6, 1)),
            ("9999-06-01/PT" + "9" * 400 + "S", utc(9999, 6, 1)),
        ],
    )
    def test_the_end_is_the_last_instant(self, text: str, start: dt.datetime) -> None:
        assert period_bounds(text) == (start, LATEST)

    def test_ends_before_the_last_instant_are_kept(self) -> None:
        assert period_bounds("9999-12-30") == (utc(9999, 12, 30), utc(9999, 12, 31))
        assert period_bounds("9999-W51") == (utc(9999, 12, 20), utc(9999, 12, 27))
        assert period_bounds("9999-12-31T23:59:59") == (
            utc(9999, 12, 31, 23, 59, 59),
            utc(9999, 12, 31, 23, 59, 59) + US,
        )
        assert period_bounds("9999+02:00") == (
            utc(9998, 12, 31, 22),
            LATEST - 2 * 3600 * 10**6 * US,
        )

    def test_the_last_instant_is_in_year_9999(self) -> None:
        start, end = period_bounds("9999-12-31T23:59:59.999999")
        year = period_bounds("9999")
        assert (start, end) == (LATEST - US, LATEST)
        assert start < year[1]  # overlaps
        assert end > year[0]


class TestYear1:
    def test_offsets_before_the_first_instant(self) -> None:
        assert period_bounds("0001-01-01+14:00") == (EARLIEST, utc(1, 1, 1, 10))
        assert period_bounds("0001+01:00") == (EARLIEST, utc(1, 12, 31, 23))
        assert period_bounds("0001-01-01T00:00:00+14:00") == (EARLIEST, EARLIEST + US)
        assert period_bounds("0001-W01") == (utc(1, 1, 1), utc(1, 1, 8))

    @pytest.mark.parametrize("text", ["0000", "10000", "0000-01-01"])
    def test_other_years_are_not_periods(self, text: str) -> None:
        with pytest.raises(PeriodError):
            period_bounds(text)


EVERY_SPELLING = (
    "{y}",
    "{y}-A1",
    "{y}-S1",
    "{y}-S2",
    "{y}-T1",
    "{y}-T3",
    "{y}-Q1",
    "{y}-Q4",
    "{y}-01",
    "{y}-12",
    "{y}-M01",
    "{y}-M12",
    "{y}-W01",
    "{y}-W52",
    "{y}-D001",
    "{y}-D365",
    "{y}-01-01",
    "{y}-12-31",
    "{y}-01-01T00:00:00",
    "{y}-12-31T23:59:59.999999",
    "{y}-12-31T24:00:00",
    "{y}-01-01/P1Y",
    "{y}-12-31T12:00:00/P1Y2M3DT4H5M6.5S",
)


@pytest.mark.parametrize("year", ["0001", "9999"])
@pytest.mark.parametrize("tz", ["", "Z", "+14:00", "-14:00", "+00:01", "-00:01"])
@pytest.mark.parametrize("spelling", EVERY_SPELLING)
def test_every_spelling_at_either_end(year: str, tz: str, spelling: str) -> None:
    """No valid period raises anything but PeriodError, and each lasts a while."""
    text = spelling.format(y=year)
    text = text.replace("/", tz + "/") if "/" in text else text + tz
    start, end = period_bounds(text)
    assert EARLIEST <= start < end <= LATEST


class TestInstants:
    @pytest.mark.parametrize(
        ("value", "found"),
        [
            ("0001-01-01T00:00:00+14:00", EARLIEST),
            ("0001-01-01T00:00:00+00:01", EARLIEST),
            ("0001-01-01T00:00:00Z", utc(1, 1, 1)),
            ("0001-01-01T00:00:00-01:00", utc(1, 1, 1, 1)),
            ("9999-12-31T23:59:59-14:00", LATEST),
            ("9999-12-31T23:59:59-00:01", LATEST),
            ("9999-12-31T23:59:59+01:00", utc(9999, 12, 31, 22, 59, 59)),
            ("9999-12-31T23:59:59", utc(9999, 12, 31, 23, 59, 59)),
        ],
    )
    def test_updated_after_and_as_of_are_clamped(self, value: str, found: dt.datetime) -> None:
        params = DataParams.parse([("updatedAfter", value), ("asOf", value)])
        assert params.updated_after == params.as_of == found
        assert in_utc(dt.datetime.fromisoformat(value)) == found

    def test_still_ordered_after_clamping(self) -> None:
        with pytest.raises(QuerySyntaxError, match="later than asOf"):
            DataParams.parse(
                [("updatedAfter", "9999-12-31T23:59:59-14:00"), ("asOf", "9999-12-31T00:00:00")]
            )

    @pytest.mark.parametrize(
        ("value", "found"),
        [
            (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))), EARLIEST),
            (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-14))), LATEST),
            (dt.datetime(9999, 12, 31, 23), utc(9999, 12, 31, 23)),  # noqa: DTZ001 (naive: UTC)
        ],
    )
    def test_as_utc(self, value: dt.datetime, found: dt.datetime) -> None:
        assert as_utc(value) == found


class TestPeriodWindow:
    def test_open_ends_cover_every_period(self) -> None:
        start_only = DataParams.parse([("startPeriod", "2020")]).period_window()
        assert start_only == (utc(2020, 1, 1), LATEST)
        end_only = DataParams.parse([("endPeriod", "2020")]).period_window()
        assert end_only == (EARLIEST, utc(2021, 1, 1))
        last_day = period_bounds("9999-12-31")
        assert last_day[0] < start_only[1]  # 31 December 9999 is after startPeriod=2020

    @pytest.mark.parametrize("name", ["startPeriod", "endPeriod"])
    @pytest.mark.parametrize("value", ["9999", "9999-Q4", "9999-W52", "9999-D365", "9999-12-31"])
    def test_year_9999_parameters(self, name: str, value: str) -> None:
        window = DataParams.parse([(name, value)]).period_window()
        assert window is not None
        assert window[1] == LATEST


class TestNumericFilters:
    @pytest.mark.parametrize(
        "text", ["gt:abc", "gt:nan", "lt:inf", "ge:-Infinity", "le:1e999", "eq:abc", "abc", "ne:x"]
    )
    def test_comparisons_need_a_finite_number(self, text: str) -> None:
        parsed = ComponentFilter.parse("OBS_VALUE", text)
        with pytest.raises(QuerySyntaxError, match=r"c\[OBS_VALUE\].*finite number"):
            parsed.on_numbers()

    def test_one_bad_term_among_good_ones(self) -> None:
        with pytest.raises(QuerySyntaxError):
            ComponentFilter.parse("OBS_VALUE", "ge:1+le:2,gt:x").on_numbers()

    @pytest.mark.parametrize(
        "text", ["gt:10", "le:-1.5e3", "ge:1+le:2,eq:7", "ne:0", "12", "co:abc", "sw:x", "ew:.5"]
    )
    def test_numbers_and_text_tests_pass(self, text: str) -> None:
        parsed = ComponentFilter.parse("OBS_VALUE", text)
        assert parsed.on_numbers() is parsed
