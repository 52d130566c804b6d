"""SDMX-CSV 1.0.0 and 2.0.0 data writer: exact output for each option, details and data sets,
and round trips through the service's reader and pysdmx."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import NotAcceptable
from service.formats.readers.sdmx_csv_data import read_rows
from service.formats.writers import sdmx_csv_20_data
from service.formats.writers.data_common import DataSetInfo, DataSetPart, OutRow
from service.formats.writers.sdmx_csv_data import (
    FORMATS,
    MEDIA_TYPE_10,
    MEDIA_TYPE_20,
    cell,
    normalized_period,
    write_10,
    write_20,
)
from service.model.data import Action
from tests.unit.formats.writers.data_samples import (
    TINY,
    TINY_ROWS,
    crlf,
    one,
    stock_codes,
    stock_dsd,
    stock_message,
    text,
    tiny_message,
)

HEADER_20 = (
    "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE,COMMENT,UNIT_MULT,"
    "OBS_STATUS,NOTE"
)
LEAD = "dataflow,TEST:DF_TINY(1.0)"


def csv20(**options: Any) -> str:
    return text(write_20(tiny_message(**options), one(TINY_ROWS)))


class TestSdmxCsv20:
    def test_default_output(self) -> None:
        assert csv20() == crlf(
            HEADER_20,
            f"{LEAD},I,THA,SEX_F,2019,10.5,Demo,3,E,",
            f'{LEAD},I,THA,SEX_F,2020,11,Demo,3,,"Break, ""new"" series"',
            f"{LEAD},I,THA,SEX_M,2019,,Demo,3,,",
        )

    def test_labels_both(self) -> None:
        assert csv20(labels="both") == crlf(
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA: Reference area,SEX: Sex,TIME_PERIOD: Time,"
            "OBS_VALUE: Observation value,COMMENT: Comment,UNIT_MULT: Unit multiplier,"
            "OBS_STATUS: Status,NOTE: Note",
            "dataflow,TEST:DF_TINY(1.0): Tiny flow,I,THA: Thailand,SEX_F: Female,2019,10.5,Demo,"
            "3: Thousands,E: Estimated value,",
            "dataflow,TEST:DF_TINY(1.0): Tiny flow,I,THA: Thailand,SEX_F: Female,2020,11,Demo,"
            '3: Thousands,,"Break, ""new"" series"',
            "dataflow,TEST:DF_TINY(1.0): Tiny flow,I,THA: Thailand,SEX_M: Male,2019,,Demo,"
            "3: Thousands,,",
        )

    def test_labels_name(self) -> None:
        assert csv20(labels="name") == crlf(
            "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,REF_AREA,Reference area,SEX,Sex,"
            "TIME_PERIOD,Time,OBS_VALUE,Observation value,COMMENT,Comment,UNIT_MULT,"
            "Unit multiplier,OBS_STATUS,Status,NOTE,Note",
            f"{LEAD},Tiny flow,I,THA,Thailand,SEX_F,Female,2019,,10.5,,Demo,,3,Thousands,E,"
            "Estimated value,,",
            f"{LEAD},Tiny flow,I,THA,Thailand,SEX_F,Female,2020,,11,,Demo,,3,Thousands,,,"
            '"Break, ""new"" series",',
            f"{LEAD},Tiny flow,I,THA,Thailand,SEX_M,Male,2019,,,,Demo,,3,Thousands,,,,",
        )

    def test_labels_without_names_keep_the_ids(self) -> None:
        found = csv20(
            labels="both",
            component_name=lambda _c: None,
            code_name=lambda _c, _k: None,
            structure_name=None,
        )
        assert found == csv20()
        named = csv20(labels="name", component_name=lambda _c: None, code_name=lambda _c, _k: None)
        assert named.splitlines()[0].startswith(
            "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,REF_AREA,REF_AREA,SEX,SEX,"
        )
        assert named.splitlines()[1] == (
            f"{LEAD},Tiny flow,I,THA,,SEX_F,,2019,,10.5,,Demo,,3,,E,,,"
        )

    def test_time_format_normalized(self) -> None:
        rows: list[OutRow] = [
            (("THA", "SEX_F"), period, "1", {})
            for period in ("2014", "2014-Q2", "2014-S2", "2014-01", "2014-M02", "2014-W02")
        ]
        found = text(write_20(tiny_message(time_format="normalized"), one(rows)))
        periods = [line.split(",")[5] for line in found.splitlines()[1:]]
        assert periods == [
            "2014-01-01",
            "2014-04-01",
            "2014-07-01",
            "2014-01-01",
            "2014-02-01",
            "2014-01-06",
        ]
        assert "TIME_PERIOD,OBS_VALUE" in found  # the header is unchanged

    @pytest.mark.parametrize(
        ("period", "expected"),
        [
            ("2014", "2014-01-01"),
            ("2014-A1", "2014-01-01"),
            ("2014-T3", "2014-09-01"),
            ("2014-Q4", "2014-10-01"),
            ("2014-12", "2014-12-01"),
            ("2014-M12", "2014-12-01"),
            ("2020-W01", "2019-12-30"),  # ISO 8601 weeks start on Monday
            ("2014-D032", "2014-02-01"),
            ("2014-02-03", "2014-02-03"),
            ("2014-02-03T10:00:00", "2014-02-03T10:00:00"),
            ("2014-01-01/P1Y", "2014-01-01"),
            ("2014-Q1+02:00", "2014-Q1+02:00"),  # zoned reporting periods are left alone
            ("not a period", "not a period"),
        ],
    )
    def test_normalized_periods(self, period: str, expected: str) -> None:
        assert normalized_period(period) == expected

    def test_keys(self) -> None:
        found = csv20(keys="both").splitlines()
        assert found[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,SERIES_KEY,OBS_KEY,REF_AREA,")
        assert found[1] == f"{LEAD},I,THA.SEX_F,THA.SEX_F.2019,THA,SEX_F,2019,10.5,Demo,3,E,"
        assert found[3] == f"{LEAD},I,THA.SEX_M,THA.SEX_M.2019,THA,SEX_M,2019,,Demo,3,,"
        assert csv20(keys="series").splitlines()[1] == (
            f"{LEAD},I,THA.SEX_F,THA,SEX_F,2019,10.5,Demo,3,E,"
        )
        assert csv20(keys="obs").splitlines()[2].startswith(f"{LEAD},I,THA.SEX_F.2020,THA,")

    def test_series_key_follows_the_dimension_at_observation(self) -> None:
        by_sex = csv20(keys="series", dimension_at_observation="SEX").splitlines()
        assert [line.split(",")[3] for line in by_sex[1:]] == [
            "THA.2019",
            "THA.2020",
            "THA.2019",
        ]
        flat = csv20(keys="series", dimension_at_observation="AllDimensions").splitlines()
        assert [line.split(",")[3] for line in flat[1:]] == ["THA.SEX_F", "THA.SEX_F", "THA.SEX_M"]

    def test_keys_use_ids_and_original_periods(self) -> None:
        found = csv20(keys="obs", labels="both", time_format="normalized").splitlines()
        assert found[1].startswith(f"{LEAD}: Tiny flow,I,THA.SEX_F.2019,THA: Thailand,")
        assert ",2019-01-01,10.5," in found[1]

    def test_dimension_at_observation_does_not_change_rows(self) -> None:
        assert csv20(dimension_at_observation="SEX") == csv20()
        assert csv20(dimension_at_observation="AllDimensions") == csv20()

    def test_detail_dataonly(self) -> None:
        assert csv20(detail="dataonly") == crlf(
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE",
            f"{LEAD},I,THA,SEX_F,2019,10.5",
            f"{LEAD},I,THA,SEX_F,2020,11",
            f"{LEAD},I,THA,SEX_M,2019,",
        )

    def test_detail_serieskeysonly(self) -> None:
        assert csv20(detail="serieskeysonly", keys="both") == crlf(
            "STRUCTURE,STRUCTURE_ID,ACTION,SERIES_KEY,OBS_KEY,REF_AREA,SEX",
            f"{LEAD},I,THA.SEX_F,,THA,SEX_F",
            f"{LEAD},I,THA.SEX_M,,THA,SEX_M",
        )
        assert csv20(detail="serieskeysonly", dimension_at_observation="SEX") == crlf(
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,TIME_PERIOD",
            f"{LEAD},I,THA,2019",
            f"{LEAD},I,THA,2020",
            f"{LEAD},I,THA,2019",
        )

    def test_detail_nodata(self) -> None:
        assert csv20(detail="nodata", labels="both") == crlf(
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA: Reference area,SEX: Sex,COMMENT: Comment,"
            "UNIT_MULT: Unit multiplier",
            "dataflow,TEST:DF_TINY(1.0): Tiny flow,I,THA: Thailand,SEX_F: Female,Demo,3: Thousands",
            "dataflow,TEST:DF_TINY(1.0): Tiny flow,I,THA: Thailand,SEX_M: Male,Demo,3: Thousands",
        )
        flat = csv20(detail="nodata", dimension_at_observation="AllDimensions")
        assert flat == csv20(detail="nodata")

    def test_data_sets_and_actions(self) -> None:
        stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        deleted: OutRow = (("THA", "SEX_M"), "2018", "", {})
        datasets = [
            DataSetPart(DataSetInfo("M", valid_from=stamp), TINY_ROWS[:1]),
            DataSetPart(DataSetInfo("D", valid_from=stamp), [deleted]),
            DataSetPart(DataSetInfo("R"), TINY_ROWS[2:]),
        ]
        assert text(write_20(tiny_message(), datasets)) == crlf(
            HEADER_20,  # no column for validity: the spec defines none
            f"{LEAD},A,THA,SEX_F,2019,10.5,Demo,3,E,",  # 2.0 has no Merge
            f"{LEAD},D,THA,SEX_M,2018,,,,,",
            f"{LEAD},R,THA,SEX_M,2019,,Demo,3,,",
        )

    @pytest.mark.parametrize(
        ("structure", "cell_text"),
        [("datastructure", "datastructure"), ("provisionagreement", "dataprovision")],
    )
    def test_structure_kinds(self, structure: str, cell_text: str) -> None:
        found = csv20(structure=structure, ref=("TEST", "X", "2.0.0"))
        assert found.splitlines()[1].startswith(f"{cell_text},TEST:X(2.0.0),I,THA,")

    def test_no_rows(self) -> None:
        assert text(write_20(tiny_message(), one([]))) == crlf(HEADER_20)
        assert text(write_20(tiny_message(), [])) == crlf(HEADER_20)


class TestSdmxCsv10:
    def test_default_output(self) -> None:
        found = text(write_10(tiny_message(), one(TINY_ROWS)))
        assert found == crlf(
            "DATAFLOW,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE,COMMENT,UNIT_MULT,OBS_STATUS,NOTE",
            "TEST:DF_TINY(1.0),THA,SEX_F,2019,10.5,Demo,3,E,",
            'TEST:DF_TINY(1.0),THA,SEX_F,2020,11,Demo,3,,"Break, ""new"" series"',
            "TEST:DF_TINY(1.0),THA,SEX_M,2019,,Demo,3,,",
        )

    def test_labels_both_and_normalized(self) -> None:
        message = tiny_message(labels="both", time_format="normalized")
        found = text(write_10(message, one(TINY_ROWS[:1]))).splitlines()
        assert found == [
            "DATAFLOW,REF_AREA: Reference area,SEX: Sex,TIME_PERIOD: Time,OBS_VALUE,"
            "COMMENT: Comment,UNIT_MULT: Unit multiplier,OBS_STATUS: Status,NOTE: Note",
            "TEST:DF_TINY(1.0): Tiny flow,THA: Thailand,SEX_F: Female,2019-01-01,10.5,Demo,"
            "3: Thousands,E: Estimated value,",
        ]

    def test_details_keep_every_column(self) -> None:
        def lines(detail: str) -> list[str]:
            return text(write_10(tiny_message(detail=detail), one(TINY_ROWS))).splitlines()[1:]

        assert lines("dataonly") == [
            "TEST:DF_TINY(1.0),THA,SEX_F,2019,10.5,,,,",
            "TEST:DF_TINY(1.0),THA,SEX_F,2020,11,,,,",
            "TEST:DF_TINY(1.0),THA,SEX_M,2019,,,,,",
        ]
        assert lines("serieskeysonly") == [
            "TEST:DF_TINY(1.0),THA,SEX_F,,,,,,",
            "TEST:DF_TINY(1.0),THA,SEX_M,,,,,,",
        ]
        assert lines("nodata") == [
            "TEST:DF_TINY(1.0),THA,SEX_F,,,Demo,3,,",
            "TEST:DF_TINY(1.0),THA,SEX_M,,,Demo,3,,",
        ]

    def test_delete_data_sets_are_left_out(self) -> None:
        datasets = [
            DataSetPart(DataSetInfo("A"), TINY_ROWS[:1]),
            DataSetPart(DataSetInfo("D"), TINY_ROWS[1:]),
        ]
        assert len(text(write_10(tiny_message(), datasets)).splitlines()) == 2

    @pytest.mark.parametrize(
        "options",
        [
            {"structure": "datastructure"},
            {"structure": "provisionagreement"},
            {"labels": "name"},
            {"keys": "series"},
        ],
    )
    def test_what_10_cannot_say_is_refused_before_the_first_byte(
        self, options: dict[str, Any]
    ) -> None:
        with pytest.raises(NotAcceptable, match="SDMX-CSV 1.0.0"):
            write_10(tiny_message(**options), one(TINY_ROWS))


class TestFormats:
    def test_formats(self) -> None:
        v20, v10 = FORMATS
        assert (v20.media_type, v10.media_type) == (MEDIA_TYPE_20, MEDIA_TYPE_10)
        assert {"csv", "sdmx-csv", "csvfile"} <= set(v20.format_names)
        assert v20.accept["text/csv"] == ()
        assert v10.structures == frozenset({"dataflow"})
        assert v20.structures == frozenset({"dataflow", "datastructure", "provisionagreement"})
        assert v20.write is write_20
        assert v10.write is write_10

    def test_former_interface(self) -> None:
        found = text(sdmx_csv_20_data.write_data("dataflow", "TEST:DF_TINY(1.0)", TINY, TINY_ROWS))
        assert found == csv20()
        assert sdmx_csv_20_data.MEDIA_TYPE == MEDIA_TYPE_20

    def test_chunks_of_about_64_kb(self) -> None:
        rows: list[OutRow] = [
            (("THA", f"SEX_{n % 7}"), str(1900 + n % 100), str(n), {"NOTE": "x" * (n % 50)})
            for n in range(20_000)
        ]
        chunks = list(write_20(tiny_message(), one(rows)))
        assert len(chunks) > 5
        assert all(len(c) < 66_000 for c in chunks)
        assert b"".join(chunks).count(b"\n") == 20_001

    def test_cell(self) -> None:
        assert cell("plain text") == "plain text"
        assert cell('a "b"') == '"a ""b"""'
        assert cell("a,b") == '"a,b"'
        assert cell("a\nb") == '"a\nb"'
        assert cell("a\rb") == '"a\rb"'


# -- read back --------------------------------------------------------------------------------


def stock_key(area: str = "THA") -> tuple[str, ...]:
    """A series key of real codes: ``area``, then each dimension's first code."""
    codes = stock_codes()
    return (area, *(codes[d.id][0] for d in stock_dsd().key_dimensions[1:]))


def stock_rows_sample() -> list[OutRow]:
    key = stock_key()
    return [
        (key, "2019", "1250.5", {"OBS_STATUS": "E", "UNIT_MULT": "3", "SOURCE": "LFS, 2019"}),
        (key, "2020", "1300", {"UNIT_MULT": "3", "SOURCE": "Census"}),
        (key, "2021", "", {"UNIT_MULT": "3", "NOTE_SOURCE": 'Line one\nline "two"'}),
    ]


def read_back(message_text: str) -> list[tuple[Any, ...]]:
    rows = read_rows(io.BytesIO(message_text.encode()), stock_dsd())
    return [(tuple(r.key.values()), r.time, r.value, r.attrs, r.action) for r in rows]


def expected(rows: list[OutRow], action: Action = Action.INFORMATION) -> list[tuple[Any, ...]]:
    return [
        (tuple(codes), period, value or None, {k: v for k, v in attrs.items() if v}, action)
        for codes, period, value, attrs in rows
    ]


def pysdmx_rows(message_text: str) -> list[tuple[Any, ...]]:
    read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
    [dataset] = read_sdmx(message_text).data
    frame = dataset.data
    dims = [d.id for d in stock_dsd().key_dimensions]
    attributes = [a.id for a in stock_dsd().attributes]
    found = []
    for record in frame.to_dict("records"):
        attrs = {a: str(record[a]) for a in attributes if a in record and str(record[a])}
        found.append(
            (
                tuple(str(record[d]) for d in dims),
                str(record["TIME_PERIOD"]),
                float(record["OBS_VALUE"]) if str(record["OBS_VALUE"]) else None,
                attrs,
            )
        )
    return found


def numeric(rows: list[OutRow]) -> list[tuple[Any, ...]]:
    return [
        (tuple(codes), period, float(value) if value else None, {k: v for k, v in a.items() if v})
        for codes, period, value, a in rows
    ]


class TestReadBack:
    @pytest.mark.parametrize("labels", ["id", "both", "name"])
    def test_own_reader_reads_20(self, labels: str) -> None:
        message = stock_message(labels=labels, keys="both")
        found = read_back(text(write_20(message, one(stock_rows_sample()))))
        assert found == expected(stock_rows_sample())

    def test_own_reader_reads_10_with_labels(self) -> None:
        found = read_back(text(write_10(stock_message(labels="both"), one(stock_rows_sample()))))
        assert found == expected(stock_rows_sample())

    def test_own_reader_reads_a_delete_data_set(self) -> None:
        deleted: list[OutRow] = [(stock_rows_sample()[0][0], "2018", "", {})]
        datasets = [*one(stock_rows_sample()), DataSetPart(DataSetInfo("D"), deleted)]
        found = read_back(text(write_20(stock_message(), datasets)))
        assert found == expected(stock_rows_sample()) + expected(deleted, Action.DELETE)

    def test_pysdmx_reads_20(self) -> None:
        assert pysdmx_rows(text(write_20(stock_message(), one(stock_rows_sample())))) == numeric(
            stock_rows_sample()
        )

    def test_pysdmx_reads_20_with_labels(self) -> None:
        rows: list[OutRow] = [
            (c, p, v, {k: x for k, x in a.items() if k == "OBS_STATUS"})
            for c, p, v, a in stock_rows_sample()
        ]
        for labels in ("both", "name"):
            message_text = text(write_20(stock_message(labels=labels), one(rows)))
            assert pysdmx_rows(message_text) == numeric(rows), labels

    def test_pysdmx_reads_10(self) -> None:
        assert pysdmx_rows(text(write_10(stock_message(), one(stock_rows_sample())))) == numeric(
            stock_rows_sample()
        )


# -- property round trips ---------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,;:\"'\n\r\téàü中€-._")), min_size=1, max_size=12
)
_PERIOD = st.one_of(
    st.integers(1950, 2030).map(str),
    st.tuples(st.integers(1950, 2030), st.integers(1, 4)).map(lambda t: f"{t[0]}-Q{t[1]}"),
    st.tuples(st.integers(1950, 2030), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
)
_VALUE = st.one_of(
    st.just(""),
    st.decimals(min_value=-1e9, max_value=1e9, places=3, allow_nan=False).map(str),
)


@st.composite
def stock_rows(draw: st.DrawFn) -> list[OutRow]:
    """Series of random real codes, each with distinct periods, random values and attributes
    (coded ones from their codelists, uncoded ones any text)."""
    codes = stock_codes()
    dsd = stock_dsd()
    dims = [d.id for d in dsd.key_dimensions]
    attributes = [a.id for a in dsd.attributes]
    rows: list[OutRow] = []
    for _ in range(draw(st.integers(1, 4))):
        key = tuple(draw(st.sampled_from(codes[d])) for d in dims)
        periods = draw(st.lists(_PERIOD, min_size=1, max_size=4, unique=True))
        for period in periods:
            attrs = {}
            for name in draw(st.lists(st.sampled_from(attributes), max_size=4, unique=True)):
                pool = codes.get(name)
                attrs[name] = draw(st.sampled_from(pool) if pool else _TEXT)
            rows.append((key, period, draw(_VALUE), attrs))
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stock_rows())
def test_property_csv20_round_trip_through_own_reader(rows: list[OutRow]) -> None:
    found = read_back(text(write_20(stock_message(), one(rows))))
    assert found == expected(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stock_rows())
def test_property_csv_round_trip_through_pysdmx(rows: list[OutRow]) -> None:
    """pysdmx reads with pandas, which types columns: values compare as numbers, and uncoded
    texts that look like numbers are left out of the draw's comparison."""
    for write in (write_20, write_10):
        found = pysdmx_rows(text(write(stock_message(), one(rows))))
        assert [r[:3] for r in found] == [r[:3] for r in numeric(rows)]
        for (_, _, _, got), (_, _, _, sent) in zip(found, numeric(rows), strict=True):
            assert {k: v for k, v in got.items() if not _numberlike(v)} == {
                k: v for k, v in sent.items() if not _numberlike(v)
            }


def _numberlike(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_memory_stays_flat() -> None:
    """100,000 rows, each with its own note: what the writer holds does not grow with them
    (its caches start afresh when full, and chunks go out at about 64 kB)."""
    key = stock_key()

    def rows() -> Iterator[OutRow]:
        for n in range(100_000):
            attrs = {"UNIT_MULT": "3", "NOTE_SOURCE": f"note {n}", "UPPER_BOUND": str(n)}
            yield key, str(1000 + n % 1000), str(n), attrs

    tracemalloc.start()
    try:
        for _chunk in write_20(stock_message(), one(rows())):
            pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000
