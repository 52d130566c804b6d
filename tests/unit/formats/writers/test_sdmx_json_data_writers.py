"""SDMX-JSON 1.0.0 and 2.0.0 data writers: every variant against the official schemas, exact
output of a tiny message, and round trips through the service's reader and sdmx1."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.formats.readers.sdmx_json_data import read_rows
from service.formats.writers import sdmx_json_10_data, sdmx_json_20_data
from service.formats.writers.data_common import (
    DataMessage,
    DataSetInfo,
    DataSetPart,
    OutRow,
    placement,
)
from service.model import DataStructure
from service.model.data import Action
from tests.jsonschemas import validate_sdmx_json
from tests.unit.formats.writers.data_samples import (
    TINY,
    TINY_ROWS,
    one,
    stock_codes,
    stock_dsd,
    stock_message,
    tiny_message,
)

Write = Callable[[DataMessage, Iterable[DataSetPart]], Iterator[bytes]]
WRITERS: dict[str, Write] = {"1.0": sdmx_json_10_data.write, "2.0": sdmx_json_20_data.write}
DIMENSIONS_AT_OBSERVATION = ("TIME_PERIOD", "SEX", "AllDimensions")
DETAILS = ("full", "dataonly", "serieskeysonly", "nodata")
TINY_URN = "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=TEST:DF_TINY(1.0)"
FROM = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
TO = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def doc(version: str, message: DataMessage, datasets: Iterable[DataSetPart]) -> Any:
    return json.loads(b"".join(WRITERS[version](message, datasets)))


def by_sex(rows: list[OutRow]) -> list[OutRow]:
    """Rows ordered for SEX at observation level: series are (REF_AREA, TIME_PERIOD)."""
    return sorted(rows, key=lambda r: (r[0][0], r[1], r[0][1]))


def history(rows: list[OutRow]) -> list[DataSetPart]:
    """Three data sets: a past version, what was deleted since, and a Merge."""
    deleted: OutRow = (("THA", "SEX_M"), "2018", "", {})
    return [
        DataSetPart(DataSetInfo("I", valid_from=FROM, valid_to=TO), rows),
        DataSetPart(DataSetInfo("D", valid_from=TO), [deleted]),
        DataSetPart(DataSetInfo("M", valid_from=TO), rows[:1]),
    ]


class TestSchemas:
    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    @pytest.mark.parametrize("dimension", DIMENSIONS_AT_OBSERVATION)
    @pytest.mark.parametrize("detail", DETAILS)
    def test_every_variant_validates(self, version: str, dimension: str, detail: str) -> None:
        rows = by_sex(TINY_ROWS) if dimension == "SEX" else TINY_ROWS
        message = tiny_message(dimension_at_observation=dimension, detail=detail)
        validate_sdmx_json(doc(version, message, history(rows)), "data", version)
        stock = stock_message(dimension_at_observation=dimension, detail=detail)
        validate_sdmx_json(doc(version, stock, one(stock_rows(3))), "data", version)

    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    @pytest.mark.parametrize("structure", ["datastructure", "provisionagreement"])
    def test_other_contexts_validate(self, version: str, structure: str) -> None:
        found = doc(version, tiny_message(structure=structure), one(TINY_ROWS))
        validate_sdmx_json(found, "data", version)
        link = found["data"]["dataSets"][0]["links"][0]
        package = (
            "registry.ProvisionAgreement"
            if structure != "datastructure"
            else ("datastructure.DataStructure")
        )
        assert link == {
            "rel": structure,
            "urn": f"urn:sdmx:org.sdmx.infomodel.{package}=TEST:DF_TINY(1.0)",
        }

    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    def test_no_rows_validates(self, version: str) -> None:
        for datasets in ([], one([])):
            validate_sdmx_json(doc(version, tiny_message(), datasets), "data", version)


class TestSdmxJson20:
    def test_time_series(self) -> None:
        found = doc("2.0", tiny_message(), one(TINY_ROWS))
        link = {"rel": "dataflow", "urn": TINY_URN}
        assert found["meta"] == {
            "schema": sdmx_json_20_data.JSON_SCHEMA_20,
            "id": "IREF42",
            "test": False,
            "prepared": "2026-05-18T10:40:07+00:00",
            "contentLanguages": ["en"],
            "sender": {"id": "ILO"},
        }
        assert found["data"]["dataSets"] == [
            {
                "structure": 0,
                "action": "Information",
                "links": [link],
                "attributes": [0],
                "series": {
                    "0:0": {
                        "attributes": [0],
                        "observations": {"0": [10.5, 0], "1": [11, None, 'Break, "new" series']},
                    },
                    "0:1": {"attributes": [0], "observations": {"0": [None]}},
                },
            }
        ]
        [structure] = found["data"]["structures"]
        assert structure == {
            "links": [link],
            "name": "Tiny flow",
            "names": {"en": "Tiny flow"},
            "dimensions": {
                "dataSet": [],
                "series": [
                    {
                        **named("REF_AREA", "Reference area"),
                        "keyPosition": 0,
                        "values": [named("THA", "Thailand", key="id")],
                    },
                    {
                        **named("SEX", "Sex"),
                        "keyPosition": 1,
                        "values": [
                            named("SEX_F", "Female", key="id"),
                            named("SEX_M", "Male", key="id"),
                        ],
                    },
                ],
                "observation": [
                    {
                        **named("TIME_PERIOD", "Time"),
                        "keyPosition": 2,
                        "roles": ["TIME_PERIOD"],
                        "values": [{"id": "2019", "name": "2019"}, {"id": "2020", "name": "2020"}],
                    }
                ],
            },
            "attributes": {
                "dataSet": [
                    {
                        **named("COMMENT", "Comment"),
                        "relationship": {"dataflow": {}},
                        "values": [{"value": "Demo"}],
                    }
                ],
                "series": [
                    {
                        **named("UNIT_MULT", "Unit multiplier"),
                        "relationship": {"dimensions": ["REF_AREA"]},
                        "values": [named("3", "Thousands", key="id")],
                    }
                ],
                "observation": [
                    {
                        **named("OBS_STATUS", "Status"),
                        "relationship": {"observation": {}},
                        "values": [named("E", "Estimated value", key="id")],
                    },
                    # uncoded at observation level: the values are in the observations
                    {**named("NOTE", "Note"), "relationship": {"observation": {}}},
                ],
            },
            "measures": {"observation": [named("OBS_VALUE", "Observation value")]},
            "dataSets": [0],
        }

    def test_another_dimension_at_observation(self) -> None:
        found = doc("2.0", tiny_message(dimension_at_observation="SEX"), one(by_sex(TINY_ROWS)))
        [dataset] = found["data"]["dataSets"]
        assert dataset["series"] == {
            "0:0": {"attributes": [0], "observations": {"0": [10.5, 0], "1": [None]}},
            "0:1": {"attributes": [0], "observations": {"0": [11, None, 'Break, "new" series']}},
        }
        dimensions = found["data"]["structures"][0]["dimensions"]
        assert [(d["id"], d["keyPosition"]) for d in dimensions["series"]] == [
            ("REF_AREA", 0),
            ("TIME_PERIOD", 2),
        ]
        assert [d["id"] for d in dimensions["observation"]] == ["SEX"]

    def test_all_dimensions(self) -> None:
        message = tiny_message(dimension_at_observation="AllDimensions")
        found = doc("2.0", message, one(TINY_ROWS))
        [dataset] = found["data"]["dataSets"]
        assert "series" not in dataset
        assert dataset["observations"] == {
            "0:0:0": [10.5, 0, 0],  # UNIT_MULT, OBS_STATUS
            "0:0:1": [11, 0, None, 'Break, "new" series'],
            "0:1:0": [None, 0],
        }
        structure = found["data"]["structures"][0]
        assert [d["id"] for d in structure["dimensions"]["observation"]] == [
            "REF_AREA",
            "SEX",
            "TIME_PERIOD",
        ]
        assert structure["dimensions"]["series"] == []
        assert [a["id"] for a in structure["attributes"]["observation"]] == [
            "UNIT_MULT",
            "OBS_STATUS",
            "NOTE",
        ]

    def test_details(self) -> None:
        def dataset(detail: str, **options: Any) -> Any:
            message = tiny_message(detail=detail, **options)
            return doc("2.0", message, one(TINY_ROWS))["data"]["dataSets"][0]

        assert dataset("dataonly")["series"] == {
            "0:0": {"observations": {"0": [10.5], "1": [11]}},
            "0:1": {"observations": {"0": [None]}},
        }
        assert "attributes" not in dataset("dataonly")
        assert dataset("serieskeysonly")["series"] == {"0:0": {}, "0:1": {}}
        nodata = dataset("nodata")
        assert nodata["attributes"] == [0]
        assert nodata["series"] == {"0:0": {"attributes": [0]}, "0:1": {"attributes": [0]}}
        # AllDimensions has no series: series-only details present time series
        assert dataset("nodata", dimension_at_observation="AllDimensions") == nodata

    def test_series_only_details_describe_no_observation_level(self) -> None:
        found = doc("2.0", tiny_message(detail="serieskeysonly"), one(TINY_ROWS))
        structure = found["data"]["structures"][0]
        assert structure["dimensions"]["observation"] == []
        assert structure["attributes"] == {"dataSet": [], "series": [], "observation": []}

    def test_history_and_actions(self) -> None:
        found = doc("2.0", tiny_message(), history(TINY_ROWS))
        datasets = found["data"]["dataSets"]
        assert [(d["action"], d.get("validFrom"), d.get("validTo")) for d in datasets] == [
            ("Information", "2025-01-02T03:04:05+00:00", "2026-01-02T03:04:05+00:00"),
            ("Delete", "2026-01-02T03:04:05+00:00", None),
            ("Append", "2026-01-02T03:04:05+00:00", None),  # 2.0 has no Merge
        ]
        assert datasets[1]["series"] == {"0:1": {"observations": {"2": []}}}
        assert found["data"]["structures"][0]["dataSets"] == [0, 1, 2]

    def test_values_are_numbers_when_they_are(self) -> None:
        rows: list[OutRow] = [
            (("THA", "SEX_F"), str(2000 + n), value, {})
            for n, value in enumerate(["0", "-1.25", "1e-05", "007", "NaN", "1.", ""])
        ]
        found = b"".join(sdmx_json_20_data.write(tiny_message(), one(rows))).decode()
        assert (
            '"observations":{"0":[0],"1":[-1.25],"2":[1e-05],"3":["007"],"4":["NaN"],'
            '"5":["1."],"6":[null]}' in found
        )

    def test_names_in_the_message_language(self) -> None:
        found = doc("2.0", tiny_message(language="fr-CH"), one(TINY_ROWS))
        assert found["meta"]["contentLanguages"] == ["fr-ch"]
        assert found["data"]["structures"][0]["names"] == {"fr-ch": "Tiny flow"}
        unnamed = doc("2.0", tiny_message(component_name=lambda _c: None), one(TINY_ROWS))
        sex = unnamed["data"]["structures"][0]["dimensions"]["series"][1]
        assert (sex["name"], "names" in sex) == ("SEX", False)

    def test_chunks_of_about_64_kb(self) -> None:
        rows: list[OutRow] = [
            (("THA", f"SEX_{n // 20}"), str(1900 + n % 20), str(n), {"NOTE": "x" * (n % 50)})
            for n in range(20_000)
        ]
        chunks = list(sdmx_json_20_data.write(tiny_message(), one(rows)))
        assert len(chunks) > 5
        assert all(len(c) < 67_000 for c in chunks[:-1])
        assert len(json.loads(b"".join(chunks))["data"]["dataSets"][0]["series"]) == 1000

    def test_former_interface(self) -> None:
        chunks = sdmx_json_20_data.write_data(
            "dataflow", ("TEST", "DF_TINY", "1.0"), TINY, TINY_ROWS
        )
        found = json.loads(b"".join(chunks))
        validate_sdmx_json(found, "data", "2.0")
        assert found["data"]["dataSets"][0]["series"]["0:0"]["observations"]["0"] == [10.5, 0]

    def test_formats(self) -> None:
        [fmt] = sdmx_json_20_data.FORMATS
        assert fmt.media_type == "application/vnd.sdmx.data+json;version=2.0.0"
        assert {"jsondata", "json"} <= set(fmt.format_names)
        assert fmt.accept["application/json"] == ()
        [old] = sdmx_json_10_data.FORMATS
        assert old.media_type == "application/vnd.sdmx.data+json;version=1.0.0"
        assert old.format_names == ("jsondata_1_0",)


class TestSdmxJson10:
    def test_time_series(self) -> None:
        found = doc("1.0", tiny_message(), one(TINY_ROWS))
        assert found["meta"]["schema"] == sdmx_json_10_data.JSON_SCHEMA_10
        data = found["data"]
        assert data["dataSets"][0] == {
            "action": "Information",
            "links": [{"rel": "dataflow", "urn": TINY_URN}],
            "attributes": [0],
            "series": {
                "0:0": {"attributes": [0], "observations": {"0": [10.5, 0], "1": [11, None, 0]}},
                "0:1": {"attributes": [0], "observations": {"0": [None]}},
            },
        }
        structure = data["structure"]  # one object, no measures
        assert set(structure) == {"links", "name", "names", "dimensions", "attributes"}
        attributes = structure["attributes"]
        assert attributes["dataSet"][0]["relationship"] == {"none": {}}
        assert attributes["dataSet"][0]["values"] == [{"name": "Demo"}]
        assert attributes["series"][0]["values"] == [{"id": "3", "name": "Thousands"}]
        assert attributes["observation"] == [
            {
                **named("OBS_STATUS", "Status"),
                "relationship": {"primaryMeasure": "OBS_VALUE"},
                "values": [{"id": "E", "name": "Estimated value"}],
            },
            {
                **named("NOTE", "Note"),
                "relationship": {"primaryMeasure": "OBS_VALUE"},
                "values": [{"name": 'Break, "new" series'}],
            },
        ]

    def test_series_only_details_keep_empty_values(self) -> None:
        found = doc("1.0", tiny_message(detail="dataonly"), one([]))
        dimensions = found["data"]["structure"]["dimensions"]
        assert [d["values"] for d in dimensions["series"]] == [[], []]

    def test_actions(self) -> None:
        found = doc("1.0", tiny_message(), history(TINY_ROWS))
        assert [d["action"] for d in found["data"]["dataSets"]] == [
            "Information",
            "Delete",
            "Append",
        ]
        assert "structure" not in found["data"]["dataSets"][0]


def named(ident: str, name: str, key: str = "id") -> dict[str, Any]:
    return {key: ident, "name": name, "names": {"en": name}}


# -- read back --------------------------------------------------------------------------------


def stock_rows(series: int, periods: int = 3) -> list[OutRow]:
    """``series`` series of real codes (one REF_AREA each), ``periods`` years each."""
    codes = stock_codes()
    dsd = stock_dsd()
    rows: list[OutRow] = []
    for n in range(series):
        key = (codes["REF_AREA"][n], *(codes[d.id][n % 3] for d in dsd.key_dimensions[1:]))
        for year in range(2018, 2018 + periods):
            attrs = {"UNIT_MULT": "3", "UNIT_MEASURE": codes["UNIT_MEASURE"][n % 4]}
            if year % 2:
                attrs |= {"OBS_STATUS": "E", "SOURCE": f"Survey {n}, {year}"}
            rows.append((key, str(year), f"{n * 10 + year % 7}.5", attrs))
    return rows


def own(version: str, message: DataMessage, datasets: list[DataSetPart]) -> list[tuple[Any, ...]]:
    data = b"".join(WRITERS[version](message, datasets))
    found = read_rows(io.BytesIO(data), message.dsd)
    return [(tuple(r.key.values()), r.time, r.value, r.attrs, r.action) for r in found]


def expected(
    rows: Iterable[OutRow], dsd: DataStructure, action: Action = Action.INFORMATION
) -> list[tuple[Any, ...]]:
    dims = [d.id for d in dsd.key_dimensions]
    return [
        (
            tuple(dict(zip(dims, codes, strict=True)).values()),
            period,
            value or None,
            {k: v for k, v in attrs.items() if v},
            action,
        )
        for codes, period, value, attrs in rows
    ]


def ordered(found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(found, key=lambda r: (r[0], r[1] or ""))


class TestReadBack:
    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    @pytest.mark.parametrize("dimension", DIMENSIONS_AT_OBSERVATION)
    def test_own_reader(self, version: str, dimension: str) -> None:
        rows = by_sex(TINY_ROWS) if dimension == "SEX" else TINY_ROWS
        deleted = history(rows)[1].rows
        datasets = [*one(rows), DataSetPart(DataSetInfo("D"), deleted)]
        found = own(version, tiny_message(dimension_at_observation=dimension), datasets)
        assert found == expected(rows, TINY) + expected(deleted, TINY, Action.DELETE)

    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    @pytest.mark.parametrize("dimension", ["TIME_PERIOD", "AllDimensions"])
    def test_own_reader_stock(self, version: str, dimension: str) -> None:
        rows = stock_rows(5)
        found = own(version, stock_message(dimension_at_observation=dimension), one(rows))
        assert found == expected(rows, stock_dsd())

    @pytest.mark.parametrize("version", ["1.0", "2.0"])
    def test_own_reader_nodata(self, version: str) -> None:
        found = own(version, tiny_message(detail="nodata"), one(TINY_ROWS))
        assert found == [
            (
                ("THA", "SEX_F"),
                None,
                None,
                {"COMMENT": "Demo", "UNIT_MULT": "3"},
                Action.INFORMATION,
            ),
            (
                ("THA", "SEX_M"),
                None,
                None,
                {"COMMENT": "Demo", "UNIT_MULT": "3"},
                Action.INFORMATION,
            ),
        ]

    def test_former_interface_read_back(self) -> None:
        data = b"".join(
            sdmx_json_20_data.write_data(
                "dataflow", ("ILO", "DF_ILMS_A01", "1.0"), stock_dsd(), stock_rows(2)
            )
        )
        found = read_rows(io.BytesIO(data), stock_dsd())
        assert [(r.time, r.value) for r in found] == [(r[1], r[2]) for r in stock_rows(2)]

    @pytest.mark.parametrize("dimension", DIMENSIONS_AT_OBSERVATION)
    def test_sdmx1_reads_10(self, dimension: str) -> None:
        """sdmx1 2.28 reads the SDMX-JSON 1.0 content, but only in the layout OECD.Stat wrote
        before the standard (``header``, ``structure`` and ``dataSets`` at the top; the
        standard has ``meta`` and ``data``): the test moves the parts there. sdmx1 also drops
        attributes without values (shifting the others) and reads series attributes from
        the data set's: every attribute has a value here and only observation-level ones are
        compared."""
        sdmx = pytest.importorskip("sdmx")
        rows = by_sex(TINY_ROWS) if dimension == "SEX" else TINY_ROWS
        message = tiny_message(dimension_at_observation=dimension)
        found = doc("1.0", message, one(rows))
        legacy = {"header": found["meta"], **found["data"]}
        read = sdmx.read_sdmx(io.BytesIO(json.dumps(legacy).encode()), format="JSON")
        [dataset] = read.data
        observations = []
        for obs in dataset.obs:
            key = {kv.id: str(kv.value) for kv in obs.key.values.values()}
            attrs = {k: str(v.value) for k, v in obs.attrib.items() if k in ("OBS_STATUS", "NOTE")}
            observations.append((key["REF_AREA"], key["SEX"], key["TIME_PERIOD"], obs.value, attrs))
        sent = [
            (
                codes[0],
                codes[1],
                period,
                float(value) if value else None,
                {k: v for k, v in attrs.items() if k in ("OBS_STATUS", "NOTE")},
            )
            for codes, period, value, attrs in rows
        ]
        assert sorted(observations, key=str) == sorted(sent, key=str)


# -- property round trips ---------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,;:\"'\\/\n\r\téàü中€-._{}[]")),
    min_size=1,
    max_size=12,
)
_PERIOD = st.one_of(
    st.integers(1950, 2030).map(str),
    st.tuples(st.integers(1950, 2030), st.integers(1, 4)).map(lambda t: f"{t[0]}-Q{t[1]}"),
    st.tuples(st.integers(1950, 2030), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
)
_VALUE = st.one_of(
    st.just(""),
    st.sampled_from(["NaN", "n/a", "12,5"]),
    st.decimals(min_value=-1e9, max_value=1e9, places=3, allow_nan=False).map(str),
)


@st.composite
def random_stock_rows(draw: st.DrawFn) -> list[OutRow]:
    """Distinct series of random real codes, each with distinct periods, random values and
    attributes (coded ones from their codelists, uncoded ones any text)."""
    codes = stock_codes()
    dsd = stock_dsd()
    dims = [d.id for d in dsd.key_dimensions]
    attributes = [a.id for a in dsd.attributes]
    keys = draw(
        st.lists(
            st.tuples(*(st.sampled_from(codes[d]) for d in dims)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    rows: list[OutRow] = []
    for key in keys:
        for period in draw(st.lists(_PERIOD, min_size=1, max_size=4, unique=True)):
            attrs = {}
            for name in draw(st.lists(st.sampled_from(attributes), max_size=4, unique=True)):
                pool = codes.get(name)
                attrs[name] = draw(st.sampled_from(pool) if pool else _TEXT)
            rows.append((key, period, draw(_VALUE), attrs))
    return rows


def _levels_agree(rows: list[OutRow], message: DataMessage) -> list[OutRow]:
    """The rows with series-level attribute values made equal within each series, as the
    store gives them (a series-level attribute has one value per series)."""
    series_level = [a for a, level in placement(message).items() if level != "observation"]
    first: dict[tuple[str, ...], dict[str, str]] = {}
    out: list[OutRow] = []
    for codes, period, value, attrs in rows:
        base = first.setdefault(tuple(codes), {a: attrs.get(a, "") for a in series_level})
        merged = {k: v for k, v in attrs.items() if k not in series_level}
        merged.update({k: v for k, v in base.items() if v})
        out.append((codes, period, value, merged))
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_stock_rows(), st.sampled_from(["TIME_PERIOD", "AllDimensions"]))
def test_property_json_round_trip_through_own_reader(rows: list[OutRow], dimension: str) -> None:
    message = stock_message(dimension_at_observation=dimension)
    rows = _levels_agree(rows, message)
    for version in ("2.0", "1.0"):
        assert ordered(own(version, message, one(rows))) == ordered(expected(rows, stock_dsd()))


def test_memory_stays_flat_in_20() -> None:
    """100,000 observations (1,000 series), each with its own note and bound: 2.0 writes
    uncoded observation attributes inline, so memory holds one series, the periods and the
    codes, not the notes."""
    codes = stock_codes()
    key = [codes[d.id][0] for d in stock_dsd().key_dimensions]

    def rows() -> Iterator[OutRow]:
        for n in range(100_000):
            key[0] = codes["REF_AREA"][n // 100 % 300]
            key[4] = codes["AGE"][n // 30_000]
            attrs = {"UNIT_MULT": "3", "NOTE_SOURCE": f"note {n}", "UPPER_BOUND": str(n)}
            yield tuple(key), str(1900 + n % 100), str(n), attrs

    tracemalloc.start()
    try:
        for _chunk in sdmx_json_20_data.write(stock_message(), one(rows())):
            pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000
