"""The SDMX-JSON 1.0/2.0 data reader: official samples, OECD, malformed input, streaming."""

from __future__ import annotations

import copy
import io
import json
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.formats.readers.sdmx_json_data import MEDIA_TYPES, detect, read_rows
from service.model.base import Ref
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import (
    Attribute,
    AttributeRelationship,
    DataStructure,
    Dimension,
    Measure,
)
from tests.shared import SHARED, requires_shared

SPECIMENS = SHARED / "specimens"
JSON_SAMPLES = SPECIMENS / "v3" / "json" / "data"
EXPECTED = SPECIMENS / "expected"
CONCEPT = Ref(cls="Concept", agency="TEST", id="CS", version="1.0", item="X")
INFO, REPLACE, DELETE = Action.INFORMATION, Action.REPLACE, Action.DELETE


def make_dsd(
    dims: Iterable[str],
    attrs: Iterable[str] = (),
    *,
    time: str | None = "TIME_PERIOD",
    measures: Iterable[str] = ("OBS_VALUE",),
) -> DataStructure:
    dimensions = [Dimension(id=d, position=n, concept=CONCEPT) for n, d in enumerate(dims)]
    if time is not None:
        dimensions.append(
            Dimension(id=time, position=len(dimensions), concept=CONCEPT, kind="time")
        )
    relationship = AttributeRelationship(level="observation")
    return DataStructure(
        agency="TEST",
        id="DSD",
        dimensions=tuple(dimensions),
        attributes=tuple(
            Attribute(id=a, concept=CONCEPT, relationship=relationship) for a in attrs
        ),
        measures=tuple(Measure(id=m, concept=CONCEPT) for m in measures),
    )


def read(message: Any, dsd: DataStructure) -> list[DataRow]:
    data = message if isinstance(message, bytes) else json.dumps(message).encode()
    return list(read_rows(io.BytesIO(data), dsd))


def error(message: Any, dsd: DataStructure) -> DataReadError:
    with pytest.raises(DataReadError) as caught:
        read(message, dsd)
    return caught.value


# -- a small SDMX-JSON 2.0 message to vary -----------------------------------------------------


def comp(id_: str, *codes: str, **fields: Any) -> dict[str, Any]:
    return {"id": id_, **fields, "values": [{"id": c, "name": f"{c} name"} for c in codes]}


FLOW = Ref(cls="Dataflow", agency="ILO", id="DF_MIG", version="1.0")
DSD_ATTRS = ["UNIT_MULT", "NOTE", "TITLE", "OBS_STATUS"]
DSD = make_dsd(["FREQ", "REF_AREA", "SEX"], DSD_ATTRS)
STRUCTURE: dict[str, Any] = {
    "links": [
        {
            "rel": "datastructure",
            "urn": "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=ILO:DSD_MIG(1.0)",
        },
        {
            "rel": "dataflow",
            "urn": "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ILO:DF_MIG(1.0)",
        },
    ],
    "dimensions": {
        "dataSet": [comp("FREQ", "A", keyPosition=0)],
        "series": [
            comp("REF_AREA", "FR", "DE", keyPosition=1),
            comp("SEX", "F", "M", keyPosition=2),
        ],
        "observation": [comp("TIME_PERIOD", "2020", "2021", keyPosition=3)],
    },
    "measures": {"observation": [{"id": "OBS_VALUE"}]},
    "attributes": {
        "dataSet": [comp("UNIT_MULT", "0", "3")],
        "dimensionGroup": [{"id": "NOTE"}],
        "series": [{"id": "TITLE"}],
        "observation": [comp("OBS_STATUS", "A", "E")],
    },
}
SERIES: dict[str, Any] = {
    "0:1": {"attributes": ["France, men"], "observations": {"0": [1.5, 1], "1": ["2.50"]}},
    "1:0": {"attributes": [None], "observations": {"1": [None, 0]}},
}


def message(*datasets: dict[str, Any], structure: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "meta": {"id": "test", "prepared": "2024-01-01T00:00:00Z"},
        "data": {
            "structures": [copy.deepcopy(structure or STRUCTURE)],
            "dataSets": copy.deepcopy(list(datasets)),
        },
    }


def dataset(**fields: Any) -> dict[str, Any]:
    return {"structure": 0, "action": "Replace", "attributes": [1], **fields}


def obs(
    key: dict[str, str],
    time: str | None,
    value: str | None,
    attrs: dict[str, str],
    action: Action,
    location: str,
    structure: Ref | None = FLOW,
) -> DataRow:
    return DataRow(key, time, value, attrs, action, location, structure)


FR_M = {"FREQ": "A", "REF_AREA": "FR", "SEX": "M"}
DE_F = {"FREQ": "A", "REF_AREA": "DE", "SEX": "F"}
S = "data.dataSets[0].series"


def test_time_series_rows_carry_every_level_of_attributes() -> None:
    assert read(message(dataset(series=SERIES)), DSD) == [
        obs(
            FR_M,
            "2020",
            "1.5",
            {"UNIT_MULT": "3", "TITLE": "France, men", "OBS_STATUS": "E"},
            REPLACE,
            f"{S}['0:1'].observations['0']",
        ),
        obs(
            FR_M,
            "2021",
            "2.50",
            {"UNIT_MULT": "3", "TITLE": "France, men"},
            REPLACE,
            f"{S}['0:1'].observations['1']",
        ),
        obs(
            DE_F,
            "2021",
            None,
            {"UNIT_MULT": "3", "OBS_STATUS": "A"},
            REPLACE,
            f"{S}['1:0'].observations['1']",
        ),
    ]


def test_flat_observations_index_every_observation_level_dimension() -> None:
    structure = copy.deepcopy(STRUCTURE)
    dims = structure["dimensions"]
    dims["observation"] = dims.pop("series") + dims["observation"]
    ds = {"observations": {"0:1:0": [7], "1:0:1": [8, 0]}}
    assert read(message(ds, structure=structure), DSD) == [
        obs(FR_M, "2020", "7", {}, INFO, "data.dataSets[0].observations['0:1:0']"),
        obs(DE_F, "2021", "8", {"OBS_STATUS": "A"}, INFO, "data.dataSets[0].observations['1:0:1']"),
    ]


def test_flat_observations_under_a_structure_with_series_dimensions() -> None:
    # constructed-sample-full.json does this: keys index the series, then observation level
    rows = read(message({"observations": {"0:1:1": [7]}}), DSD)
    assert [(r.key, r.time) for r in rows] == [(FR_M, "2021")]


def test_numbers_keep_their_text_and_other_values_become_text() -> None:
    structure = copy.deepcopy(STRUCTURE)
    structure["attributes"]["observation"] = [{"id": "OBS_STATUS"}, {"id": "NOTE"}]
    values = {"0": [40.3000, True], "1": [1e-7, None, {"en": "a", "fr": "b"}]}
    raw = json.dumps(message({"series": {"0:0": {"observations": values}}}, structure=structure))
    rows = read(raw.replace("40.3", "40.3000").encode(), DSD)
    assert [(r.value, r.attrs) for r in rows] == [
        ("40.3000", {"OBS_STATUS": "true"}),
        ("1E-7", {"NOTE": '{"en":"a","fr":"b"}'}),
    ]


def test_coded_measure_values_are_indexes() -> None:
    structure = copy.deepcopy(STRUCTURE)
    structure["measures"] = {"observation": [comp("OBS_VALUE", "LOW", "HIGH")]}
    good = {"series": {"0:0": {"observations": {"0": [1], "1": [None]}}}}
    assert [r.value for r in read(message(good, structure=structure), DSD)] == ["HIGH", None]
    bad = {"series": {"0:0": {"observations": {"1": [2]}}}}
    caught = error(message(bad, structure=structure), DSD)
    assert (
        str(caught) == f"{S}['0:0'].observations['1']: measure: 2 is not an index of its 2 value(s)"
    )


def test_dimension_group_attributes_match_partial_keys() -> None:
    # ranks follow the order of presentation: FREQ, REF_AREA, SEX, TIME_PERIOD
    groups = {":0::": ["about France"], "::1:1": ["men in 2021"], ":1::": [None]}
    rows = read(message(dataset(dimensionGroupAttributes=groups, series=SERIES)), DSD)
    assert [r.attrs.get("NOTE") for r in rows] == ["about France", "men in 2021", None]


def test_defaults_apply_to_left_out_attributes_but_not_to_nulls_nor_deletions() -> None:
    structure = copy.deepcopy(STRUCTURE)
    structure["attributes"]["dataSet"][0]["default"] = "0"
    structure["attributes"]["observation"][0]["default"] = "A"
    ds = {"series": {"0:0": {"observations": {"0": [1], "1": [2, None]}}}}
    rows = read(message(ds, {"action": "Delete", **ds}, structure=structure), DSD)
    assert [r.attrs for r in rows] == [
        {"UNIT_MULT": "0", "OBS_STATUS": "A"},
        {"UNIT_MULT": "0"},
        {},
        {},
    ]


def test_deletions_of_whole_series_and_of_a_whole_data_set() -> None:
    ds = {"action": "Delete", "series": {"0:1": {}, "1:0": {"observations": {"0": []}}}}
    everything = {"action": "Delete"}
    assert read(message(ds, everything), DSD) == [
        obs(FR_M, None, None, {}, DELETE, f"{S}['0:1']"),
        obs(DE_F, "2020", None, {}, DELETE, f"{S}['1:0'].observations['0']"),
        obs({"FREQ": "A"}, None, None, {}, DELETE, "data.dataSets[1]"),
    ]


def test_attribute_only_series_and_data_sets_give_rows() -> None:
    ds = {"attributes": [0], "series": {"0:1": {"attributes": ["title"]}, "1:0": {}}}
    assert read(message(ds, {"attributes": [1]}), DSD) == [
        obs(FR_M, None, None, {"UNIT_MULT": "0", "TITLE": "title"}, INFO, f"{S}['0:1']"),
        obs({"FREQ": "A"}, None, None, {"UNIT_MULT": "3"}, INFO, "data.dataSets[1]"),
    ]


def test_structure_links_name_what_the_data_are_for() -> None:
    href = copy.deepcopy(STRUCTURE)
    href["links"] = [{"rel": "dataflow", "href": "https://x.org/rest/dataflow/ILO/DF_MIG/1.0"}]
    none = copy.deepcopy(STRUCTURE)
    none["links"] = [{"rel": "dataflow", "href": "https://x.org/sdmx-json/dataflow/DF_MIG/all"}]
    ds = {"series": {"0:0": {"observations": {"0": [1]}}}}
    assert read(message(ds, structure=href), DSD)[0].structure == FLOW
    assert read(message(ds, structure=none), DSD)[0].structure is None


def test_structures_after_the_data_sets_need_a_seekable_stream() -> None:
    msg = message(dataset(series=SERIES))
    msg["data"] = {"dataSets": msg["data"]["dataSets"], "structures": msg["data"]["structures"]}
    data = b"\xef\xbb\xbf" + json.dumps(msg).encode()
    assert list(read_rows(io.BytesIO(data), DSD)) == read(message(dataset(series=SERIES)), DSD)

    class OneWay(io.BytesIO):
        def seekable(self) -> bool:
            return False

    with pytest.raises(DataReadError) as caught:
        list(read_rows(OneWay(data), DSD))
    assert caught.value.location == "data.dataSets"
    assert "come before the structure part" in str(caught.value)


def test_sdmx_json_10_layouts() -> None:
    structure = copy.deepcopy(STRUCTURE)
    del structure["measures"]
    structure["attributes"]["observation"].insert(0, {"id": "NOTE", "values": []})
    ds = {"series": {"0:1": {"observations": {"0": [5, 1]}}}}
    official = {"meta": {}, "data": {"structure": structure, "dataSets": [ds]}}
    oecd = {"header": {}, "dataSets": [ds], "structure": structure}
    expected = [obs(FR_M, "2020", "5", {"OBS_STATUS": "E"}, INFO, f"{S}['0:1'].observations['0']")]
    assert read(official, DSD) == expected
    assert read(oecd, DSD) == [expected[0]._replace(location=expected[0].location[5:])]


def test_the_callers_stream_stays_open_and_reading_starts_with_the_iteration() -> None:
    stream = io.BytesIO(json.dumps(message(dataset(series=SERIES))).encode())
    rows = read_rows(stream, DSD)
    assert stream.tell() == 0
    assert len(list(rows)) == 3
    assert not stream.closed


# -- malformed messages: each error says exactly where -----------------------------------------


def broken(**changes: Any) -> dict[str, Any]:
    msg = message(dataset(series=copy.deepcopy(SERIES)))
    for path, value in changes.items():
        target = msg
        *parents, last = path.split("/")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    return msg


SERIES_0 = "data/dataSets/0/series/0:1"
OBS_0 = f"{S}['0:1'].observations['0']"


@pytest.mark.parametrize(
    ("msg", "location", "text"),
    [
        ([1, 2], "$", "not an SDMX-JSON message: expected a JSON object"),
        ({"meta": {}, "data": {"structures": [STRUCTURE]}}, "data", "no dataSets"),
        (
            broken(**{f"{SERIES_0}/observations": {"0": [1, 7]}}),
            OBS_0,
            "attribute OBS_STATUS: 7 is not an index of its 2 value(s)",
        ),
        (
            broken(**{f"{SERIES_0}/observations": {"0": [1, "A"]}}),
            OBS_0,
            "attribute OBS_STATUS: A is not an index",
        ),
        (
            broken(**{f"{SERIES_0}/observations": {"5": [1]}}),
            f"{S}['0:1'].observations['5']",
            "dimension TIME_PERIOD: '5' is not an index of its 2 value(s)",
        ),
        (
            broken(**{f"{SERIES_0}/observations": {"0": 1.5}}),
            OBS_0,
            "an observation must be an array",
        ),
        (
            broken(**{"data/dataSets/0/series": {"0:2": {}}}),
            f"{S}['0:2']",
            "dimension SEX: '2' is not an index of its 2 value(s)",
        ),
        (
            broken(**{"data/dataSets/0/series": {"0": {}}}),
            f"{S}['0']",
            "key '0' has 1 index(es) for 2 dimension(s) (REF_AREA, SEX)",
        ),
        (
            broken(**{"data/dataSets/0/attributes": [2]}),
            "data.dataSets[0].attributes",
            "attribute UNIT_MULT: 2 is not an index",
        ),
        (
            broken(**{"data/dataSets/0/structure": 1}),
            "data.dataSets[0].structure",
            "no structure 1: the message has 1",
        ),
        (
            broken(**{"data/dataSets/0/action": "Upsert"}),
            "data.dataSets[0].action",
            "unknown action 'Upsert'",
        ),
        (
            message({"dimensionGroupAttributes": {"0:0:0": ["x"]}, "series": SERIES}),
            "data.dataSets[0].dimensionGroupAttributes['0:0:0']",
            "key has 3 position(s) for the message's 4 dimension(s)",
        ),
        (
            message({"dimensionGroupAttributes": {":5::": ["x"]}, "series": SERIES}),
            "data.dataSets[0].dimensionGroupAttributes[':5::']",
            "dimension REF_AREA: '5' is not an index",
        ),
        (
            broken(**{"data/structures/0/dimensions/series/1/id": "AGE"}),
            "data.structures[0].dimensions.series[1]",
            "dimension 'AGE' is not a dimension of data structure TEST:DSD(1.0)",
        ),
        (
            broken(**{"data/structures/0/attributes/series/0/id": "REF_AREA"}),
            "data.structures[0].attributes.series[0]",
            "attribute 'REF_AREA' is not an attribute",
        ),
        (
            broken(
                **{"data/structures/0/measures/observation": [{"id": "OBS_VALUE"}, {"id": "X"}]}
            ),
            "data.structures[0].measures.observation[1]",
            "'X' is not a measure",
        ),
        (
            broken(
                **{"data/structures/0/dimensions/series/1/values": [{"name": "?"}, {"id": "M"}]}
            ),
            "data.structures[0].dimensions.series[1]",
            "dimension SEX: a value has no id",
        ),
    ],
)
def test_malformed_messages(msg: Any, location: str, text: str) -> None:
    caught = error(msg, DSD)
    assert caught.location == location
    assert text in str(caught)


def test_a_second_measure_cannot_be_read_into_a_row() -> None:
    dsd = make_dsd(["FREQ", "REF_AREA", "SEX"], DSD_ATTRS, measures=["OBS_VALUE", "OBS_CONF"])
    msg = broken(
        **{"data/structures/0/measures/observation": [{"id": "OBS_VALUE"}, {"id": "OBS_CONF"}]}
    )
    assert str(error(msg, dsd)) == (
        "data.structures[0].measures.observation[1]: measure 'OBS_CONF' is not the first "
        "measure (OBS_VALUE) of data structure TEST:DSD(1.0); rows carry a single measure value"
    )


GOOD = json.dumps(message(dataset(series=SERIES))).encode()


@pytest.mark.parametrize(
    ("cut_after", "location"),
    [
        (b'"observations": {"0": [1.5', f"{S}['0:1'].observations['0']"),
        (b'"observations": {"0": [1.5, 1], "1": ["2.50"]', f"{S}['0:1'].observations['1']"),
        (b'"attributes": ["Fra', f"{S}['0:1']"),
        (b'"dimensions": {"dataSet": [{"id": "FR', "data.structures"),
        (b'"structure": 0, "action": "Repl', "data.dataSets[0]"),
    ],
)
def test_truncated_messages(cut_after: bytes, location: str) -> None:
    caught = error(GOOD[: GOOD.index(cut_after) + len(cut_after)], DSD)
    assert caught.location == location
    assert "malformed or truncated JSON: parse error: premature EOF" in str(caught)


@pytest.mark.parametrize(
    ("bad", "location"),
    [
        (GOOD.replace(b'"1": ["2.50"]', b'"1": ["2.50",]'), f"{S}['0:1'].observations['1']"),
        (GOOD.replace(b"[1.5, 1]", b"[1.5 1]"), f"{S}['0:1'].observations['0']"),
        (GOOD + b" {}", "$"),
        (GOOD.replace(b"France", b"Fr\xffnce"), f"{S}['0:1']"),
        (b"", "$"),
    ],
)
def test_invalid_json(bad: bytes, location: str) -> None:
    caught = error(bad, DSD)
    assert caught.location == location
    assert "malformed or truncated JSON" in str(caught)


def test_absurd_nesting_is_refused() -> None:
    deep = broken(**{f"{SERIES_0}/attributes": [json.loads("[" * 100 + "]" * 100)]})
    assert str(error(deep, DSD)) == f"{S}['0:1']: JSON nested more than 64 deep"


@pytest.mark.parametrize(
    ("field", "value", "message_text"),
    [
        ("action", "Delete", "action comes after this data set's series or observations"),
        ("structure", 1, "structure comes after this data set's series or observations"),
        ("attributes", [0], "attributes comes after this data set's series or observations"),
        ("dimensionGroupAttributes", {"::0:": ["x"]}, "dimensionGroupAttributes comes after"),
    ],
)
def test_data_set_fields_after_its_series_are_refused(
    field: str, value: Any, message_text: str
) -> None:
    ds = {"series": SERIES, field: value}
    caught = error(message(ds), DSD)
    assert caught.location == f"data.dataSets[0].{field}"
    assert message_text in str(caught)


def test_data_set_fields_after_its_series_that_change_nothing_are_accepted() -> None:
    ds = {"series": SERIES, "action": "Information", "structure": 0, "attributes": [None]}
    assert len(read(message(ds), DSD)) == 3


def test_series_attributes_after_its_observations_are_refused() -> None:
    late = {"0:1": {"observations": {"0": [1]}, "attributes": ["title"]}}
    caught = error(message({"series": late}), DSD)
    assert caught.location == f"{S}['0:1'].attributes"


# -- sniffing and media types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"meta": {"schema": "https://x/sdmx-json-data-schema.json"', True),
        (b'\xef\xbb\xbf  {"header": {}, "dataSets": [', True),
        (b'{"data": {"structures": [', True),
        (b'{"meta": {}, "data": {"dataStructures": [', False),
        (b"STRUCTURE,STRUCTURE_ID", False),
        (b"", False),
    ],
)
def test_detect(head: bytes, expected: bool) -> None:
    assert detect(head) is expected


def test_media_types() -> None:
    assert MEDIA_TYPES == (
        "application/vnd.sdmx.data+json;version=1.0.0",
        "application/vnd.sdmx.data+json;version=2.0.0",
        "application/json",
    )


# -- the official SDMX-JSON 2.0 samples and OECD's SDMX-JSON 1.0 --------------------------------

EXR = make_dsd(
    ["FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX"],
    ["TIME_FORMAT", "TITLE", "OBS_STATUS", "DESCRIPTION", "UNIT_MEAS", "ID", "EMBARGO_TIME"],
)
AGRI = make_dsd(
    ["FREQ", "REF_AREA"],
    [
        "UNIT_MEASURE",
        "UNIT_MULT",
        "BASE_PER",
        "PREF_SCALE",
        "DECIMALS",
        "CONTACT_EMAIL",
        "SOURCE",
        "SERIES_COMMENT",
        "OBS_STATUS",
        "EMBARGO_TIME",
    ],
)
OECD = make_dsd(
    ["LOCATION", "IND", "PER", "GRD", "FLD", "MSR"], ["TIME_FORMAT", "OBS_STATUS"], time=None
)
EXR_PA = Ref(cls="ProvisionAgreement", agency="ECB", id="PA_EXR", version="1.0")
NZD = {
    "FREQ": "D",
    "CURRENCY_DENOM": "EUR",
    "EXR_TYPE": "SP00",
    "EXR_SUFFIX": "A",
    "CURRENCY": "NZD",
}
RUB = {**NZD, "CURRENCY": "RUB"}


def sample(name: str, dsd: DataStructure) -> list[DataRow]:
    with (JSON_SAMPLES / name).open("rb") as stream:
        return list(read_rows(stream, dsd))


def expected_readings(name: str) -> set[tuple[frozenset[tuple[str, str]], str, float]]:
    """The observations ``expected/<name>`` lists (pandas tables: one per row, or by column)."""
    lines = (EXPECTED / name).read_text().splitlines()
    if lines[0].split()[-1] == "value":  # one observation per line
        header = lines[0].split()
        records = [dict(zip(header, line.split(), strict=True)) for line in lines[1:]]
    else:  # a column per observation: "NAME v1 v2" lines, then the column-index dimension
        fields = {line.split()[0]: line.split()[1:] for line in lines if len(line.split()) > 1}
        column = next(line.split()[0] for line in lines if len(line.split()) == 1)
        code = next(
            name
            for name in fields
            if name not in ("FREQ", "TIME_PERIOD") and fields[name][0][0].isdigit()
        )
        values = fields.pop(code)
        records = [
            {**{k: v[n] for k, v in fields.items()}, column: code, "value": values[n]}
            for n in range(len(values))
        ]
    return {
        (
            frozenset((k, v) for k, v in r.items() if k not in ("TIME_PERIOD", "value")),
            r["TIME_PERIOD"],
            float(r["value"]),
        )
        for r in records
    }


def readings(rows: Iterable[DataRow]) -> set[tuple[frozenset[tuple[str, str]], str, float]]:
    return {(frozenset(r.key.items()), r.time or "", float(r.value or "nan")) for r in rows}


@requires_shared
def test_exr_flat_matches_its_expected_reading() -> None:
    rows = sample("exr-flat.json", EXR)
    assert rows[0] == DataRow(
        NZD,
        "2013-01-18",
        "1.5931",
        {"TIME_FORMAT": "P1D", "TITLE": "New Zealand dollar (NZD)", "OBS_STATUS": "A"},
        INFO,
        "data.dataSets[0].observations['0:0']",
        EXR_PA,
    )
    assert readings(rows) == expected_readings("flat-json.txt")


@requires_shared
def test_exr_time_series_reads_as_the_flat_sample() -> None:
    rows = sample("exr-time-series.json", EXR)
    assert [r.location for r in rows][-1] == "data.dataSets[0].series['1'].observations['1']"
    assert rows[3].attrs == {
        "TIME_FORMAT": "P1D",
        "TITLE": "Russian rouble (RUB)",
        "OBS_STATUS": "A",
    }
    assert readings(rows) == expected_readings("flat-json.txt")


@requires_shared
def test_exr_cross_section_matches_its_expected_reading() -> None:
    rows = sample("exr-cross-section.json", EXR)
    assert (rows[1].key, rows[1].time) == (RUB, "2013-01-18")
    assert readings(rows) == expected_readings("xs-json.txt")


@requires_shared
def test_exr_action_delete_has_an_attribute_index_out_of_range() -> None:
    # Its observation attributes are listed as TITLE, OBS_STATUS but its arrays [40.3426, 0, 1]
    # were copied from exr-cross-section.json, where the order is OBS_STATUS, TITLE: OBS_STATUS
    # (one value) gets index 1. Read as sent, that is an error ...
    with pytest.raises(DataReadError) as caught:
        sample("exr-action-delete.json", EXR)
    assert str(caught.value) == (
        "data.dataSets[0].series['0'].observations['1']: attribute OBS_STATUS: 1 is not an "
        "index of its 1 value(s)"
    )
    # ... and with the order of exr-cross-section.json the sample reads as expected.
    msg = json.loads((JSON_SAMPLES / "exr-action-delete.json").read_bytes())
    observation = msg["data"]["structures"][0]["attributes"]["observation"]
    observation.reverse()
    rows = read(msg, EXR)
    assert [(r.action, r.value, r.attrs.get("TITLE")) for r in rows] == [
        (REPLACE, "40.3426", "Russian rouble (RUB)"),
        (REPLACE, "40.3", "Russian rouble (RUB)"),
        (DELETE, None, None),
    ]
    assert readings(rows[:2]) == expected_readings("action-delete-json.txt")
    assert rows[2] == DataRow(
        NZD,
        "2013-01-18",
        None,
        {},
        DELETE,
        "data.dataSets[1].series['0'].observations['0']",
        EXR_PA,
    )


@requires_shared
def test_agri_structures_after_data_sets_groups_multilingual_and_multi_valued() -> None:
    rows = sample("agri.json", AGRI)
    assert len(rows) == 12
    assert rows[1] == DataRow(
        {"FREQ": "A", "REF_AREA": "ASIKHM001"},
        "2015",
        "389.385",
        {
            "UNIT_MEASURE": "TONES",
            "UNIT_MULT": "3",
            "BASE_PER": "2010_100",
            "PREF_SCALE": "-3",
            "DECIMALS": "1",
            "CONTACT_EMAIL": "contact@organisation.org",
            "SOURCE": '["MAFF_Agricultural Statistics_2015","Other sources"]',
            "SERIES_COMMENT": json.dumps(
                {
                    "en": "Comment for Annual data for Banteay Meanchey",
                    "km": "ផ្តល់យោបល់សម្រាប់ទិន្នន័យប្រចាំឆ្នាំសម្រាប់ខេត្តបន្ទាយមានជ័យ",
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ),
            "EMBARGO_TIME": "2019-03-18T11:00:00",
        },
        INFO,
        "data.dataSets[0].observations['0:1']",
        Ref(cls="Dataflow", agency="MA_545", id="MILLED_RICE", version="1.0"),
    )
    assert all("Annual data for Cambodia" in r.attrs["SERIES_COMMENT"] for r in rows[8:])


@requires_shared
def test_constructed_sample_full() -> None:
    rows = sample("constructed-sample-full.json", EXR)
    by_set: dict[str, list[DataRow]] = {}
    for r in rows:
        by_set.setdefault(r.location.split(".")[1], []).append(r)
    assert [len(v) for v in by_set.values()] == [4, 4, 4, 4, 4]
    first = by_set["dataSets[0]"][0]
    assert first.attrs == {
        "TIME_FORMAT": "P1D",
        "DESCRIPTION": '["Description value 1","Description value 2"]',
        "UNIT_MEAS": "NC",  # from dimensionGroupAttributes "0::0::0:" (FREQ, EXR_TYPE, CURRENCY)
        "ID": "ID1",
        "EMBARGO_TIME": "2013-03-18T11:00:00",  # OBS_STATUS: index 0 is a null value
    }
    # dataSets[1]: the flat alternative under the same structure; [2]: series keys only
    assert readings(by_set["dataSets[1]"]) == readings(by_set["dataSets[0]"])
    assert {r.value for r in by_set["dataSets[2]"]} == {None}
    # dataSets[4] ("nodata") leaves the measure out of its arrays, against the positional rule
    # (measures first): read as sent, its embargo time lands in the value, for the validator
    # to refuse as a Double.
    assert by_set["dataSets[4]"][0].value == "2013-03-18T11:00:00"


@requires_shared
def test_generated_sample_is_refused_for_what_it_breaks_first() -> None:
    # Random data generated from the schema: two values for a data-set-level dimension, two
    # measures, indexes far out of range ... The first problem met is reported.
    msg = json.loads((JSON_SAMPLES / "generated-sample.json").read_bytes())
    structure = msg["data"]["structures"][0]
    ids = {
        part: [c["id"] for level in structure[part].values() for c in level]
        for part in ("dimensions", "attributes", "measures")
    }
    dsd = make_dsd(ids["dimensions"], ids["attributes"], time=None, measures=ids["measures"])
    with pytest.raises(DataReadError) as caught:
        sample("generated-sample.json", dsd)
    assert str(caught.value) == (
        "data.structures[0].dimensions.dataSet[0]: dimension wp is at data set level with 2 "
        "values instead of one"
    )
    structure["dimensions"]["series"] += structure["dimensions"].pop("dataSet")
    with pytest.raises(DataReadError) as caught:
        read(msg, dsd)
    assert caught.value.location == "data.structures[0].measures.observation[1]"
    assert "measure 'l3' is not the first measure (kt)" in str(caught.value)


@requires_shared
def test_oecd_sdmx_json_10() -> None:
    with (SPECIMENS / "OECD" / "data-PART2-all-all.json").open("rb") as stream:
        rows = list(read_rows(stream, OECD))
    assert len(rows) == 7
    # TIME_FORMAT is listed without values and left out of the arrays (as sdmx1 reads it)
    assert [r.attrs.get("OBS_STATUS") for r in rows] == [None, "x", None, "w", None, "y", None]
    assert rows[-1] == DataRow(
        {"LOCATION": "OME", "IND": "17CCL", "PER": "CHJ", "GRD": "ZZZ", "FLD": "ZZZ", "MSR": "IND"},
        None,
        "22.0969285714286",
        {},
        INFO,
        "dataSets[0].observations['16:78:3:2:2:2']",
        None,
    )


# -- streaming: constant memory -----------------------------------------------------------------


def generated_message(series: int) -> Iterator[bytes]:
    yield json.dumps(message(dataset(series={})))[:-5].encode()  # ... "series": {
    note = "n" * 50_000
    for n in range(series):
        observations = ",".join(f'"{t % 2}":[{n}.{t},{t % 2}]' for t in range(40))
        comma = "," if n else ""
        yield (
            f'{comma}"{n % 2}:{n // 2 % 2}":{{"attributes":["{note}"],'
            f'"observations":{{{observations}}}}}'
        ).encode()
    yield b"}}]}}"


class GeneratedStream(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.view = memoryview(b"")
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self.view:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.view = memoryview(chunk)
        n = min(len(buffer), len(self.view))
        buffer[:n] = self.view[:n]
        self.view = self.view[n:]
        self.size += n
        return n


def test_a_large_message_streams_in_constant_memory() -> None:
    raw = GeneratedStream(generated_message(series=1_000))
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_rows(io.BufferedReader(raw), DSD))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.size > 50_000_000
    assert count == 40_000
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB"


def test_files_are_read_as_streams(tmp_path: Path) -> None:
    path = tmp_path / "upload.json"
    path.write_bytes(GOOD)
    with path.open("rb") as stream:
        assert sum(1 for _ in read_rows(stream, DSD)) == 3
