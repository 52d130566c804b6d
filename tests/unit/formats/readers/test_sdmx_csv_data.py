"""The SDMX-CSV 1.0/2.0 data reader: every official 2.0 example, malformed input, streaming."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Collection, Iterable
from pathlib import Path

import pytest

from service.formats.readers.sdmx_csv_data import (
    DEFAULT_CUSTOM_COLUMNS,
    MEDIA_TYPES,
    detect,
    read_rows,
)
from service.model.base import Ref, Representation
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import (
    Attribute,
    AttributeRelationship,
    DataStructure,
    Dimension,
    Measure,
)
from tests.shared import SHARED, requires_shared

CSV_EXAMPLES = SHARED / "specimens" / "v3" / "csv"
CONCEPT = Ref(cls="Concept", agency="TEST", id="CS", version="1.0", item="X")
CODES = Representation(enumeration=Ref(cls="Codelist", agency="TEST", id="CL", version="1.0"))
NA_MAIN = Ref(cls="Dataflow", agency="ESTAT", id="NA_MAIN", version="1.6.0")
INFO, APPEND, REPLACE, DELETE = Action.INFORMATION, Action.APPEND, Action.REPLACE, Action.DELETE


def make_dsd(
    dims: Iterable[str],
    attrs: Iterable[str] = (),
    *,
    time: str | None = None,
    measures: Iterable[str] = ("OBS_VALUE",),
    coded: Iterable[str] = (),
) -> DataStructure:
    """A data structure with these component ids (``coded`` attributes have a codelist)."""
    dimensions = [Dimension(id=d, position=n, concept=CONCEPT) for n, d in enumerate(dims)]
    if time is not None:
        dimensions.append(
            Dimension(id=time, position=len(dimensions), concept=CONCEPT, kind="time")
        )
    coded_ids = set(coded)
    return DataStructure(
        agency="TEST",
        id="DSD",
        dimensions=tuple(dimensions),
        attributes=tuple(
            Attribute(
                id=a,
                concept=CONCEPT,
                relationship=AttributeRelationship(level="observation"),
                representation=CODES if a in coded_ids else None,
            )
            for a in attrs
        ),
        measures=tuple(Measure(id=m, concept=CONCEPT) for m in measures),
    )


#: The structure of the spec's examples: DIM_3 holds periods (2014-01), ATTR_1/2 are coded.
NA_DSD = make_dsd(
    ["DIM_1", "DIM_2"], ["ATTR_1", "ATTR_2", "ATTR_3"], time="DIM_3", coded=["ATTR_1", "ATTR_2"]
)


def read(
    text: str | bytes,
    dsd: DataStructure = NA_DSD,
    custom_columns: Collection[str] = DEFAULT_CUSTOM_COLUMNS,
) -> list[DataRow]:
    data = text.encode() if isinstance(text, str) else text
    return list(read_rows(io.BytesIO(data), dsd, custom_columns=custom_columns))


def error(text: str | bytes, dsd: DataStructure = NA_DSD) -> DataReadError:
    with pytest.raises(DataReadError) as caught:
        read(text, dsd)
    return caught.value


def row(
    key: dict[str, str],
    time: str | None,
    value: str | None,
    attrs: dict[str, str],
    action: Action,
    location: str,
    structure: Ref | None = NA_MAIN,
) -> DataRow:
    return DataRow(key, time, value, attrs, action, location, structure)


AB = {"DIM_1": "A", "DIM_2": "B"}
NSO = "Normal, special and other values"

# -- every official SDMX-CSV 2.0 example ------------------------------------------------------

# (file, what it demonstrates, the data structure to read it with, the rows or the error)
EXAMPLES: list[tuple[str, str, DataStructure, list[DataRow] | str]] = [
    (
        "example-01.csv",
        "ordinary case; UPDATED is a custom column",
        NA_DSD,
        [
            row(
                AB, "2014-01", "12.4", {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "N"}, INFO, "row 2"
            ),
            row(
                AB, "2014-02", "10.8", {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "Y"}, INFO, "row 3"
            ),
        ],
    ),
    (
        "example-02.csv",
        "any column order, multi-valued ATTR_1[], two measures: rows hold one measure",
        make_dsd(
            ["DIM_1", "DIM_2"],
            ["ATTR_1", "ATTR_3"],
            time="DIM_3",
            measures=["OBS_VALUE1", "OBS_VALUE2"],
        ),
        "row 1: column 5: measure 'OBS_VALUE2' is not the first measure (OBS_VALUE1)",
    ),
    (
        "example-03.csv",
        "key=series (SERIES_KEY), two measures: rows hold one measure",
        make_dsd(
            ["DIM_1", "DIM_2"],
            ["ATTR_1", "ATTR_3"],
            time="DIM_3",
            measures=["OBS_VALUE1", "OBS_VALUE2"],
        ),
        "row 1: column 6: measure 'OBS_VALUE2' is not the first measure (OBS_VALUE1)",
    ),
    (
        "example-04.csv",
        "labels=both, key=both, ';' delimiter, '|' sub-field separator, decimal comma",
        NA_DSD,
        [
            row(
                AB, "2014-01", "12.4", {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "N"}, INFO, "row 2"
            ),
            row(
                AB, "2014-02", "10.8", {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "Y"}, INFO, "row 3"
            ),
        ],
    ),
    (
        "example-05.csv",
        "labels=both, timeFormat=normalized",
        NA_DSD,
        [
            row(
                AB,
                "2014-01-01",
                "12.4",
                {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "N"},
                INFO,
                "row 2",
            ),
            row(
                AB,
                "2014-02-01",
                "10.8",
                {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "Y"},
                INFO,
                "row 3",
            ),
        ],
    ),
    (
        "example-06.csv",
        "labels=name: STRUCTURE_NAME and a name column after each component",
        NA_DSD,
        [
            row(
                AB, "2014-01", "12.4", {"ATTR_1": "Y", "ATTR_2": NSO, "ATTR_3": "N"}, INFO, "row 2"
            ),
            row(
                AB, "2014-02", "10.8", {"ATTR_1": "Y", "ATTR_2": NSO, "ATTR_3": "Y"}, INFO, "row 3"
            ),
        ],
    ),
    (
        "example-07.csv",
        "multi-valued attributes: cells kept as sent",
        NA_DSD,
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": "Value X;Value Y", "ATTR_2": "M, N & O;P & Q", "ATTR_3": "A;B;C"},
                INFO,
                "row 2",
            ),
            row(
                AB,
                "2014-02",
                "10.8",
                {"ATTR_1": "Value X;Value Y", "ATTR_2": "M, N & O;P & Q", "ATTR_3": "A;C"},
                INFO,
                "row 3",
            ),
        ],
    ),
    (
        "example-08.csv",
        "multilingual ATTR_1[en;fr]; rows for two dataflow versions",
        NA_DSD,
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": "en:Any Value;fr:N'importe quelle Valeur"},
                INFO,
                "row 2",
            ),
            row(
                AB,
                "2014-02",
                "10.8",
                {"ATTR_1": 'en:Value "X";fr:Valeur "X"'},
                INFO,
                "row 3",
                Ref(cls="Dataflow", agency="ESTAT", id="NA_MAIN", version="1.7.0"),
            ),
        ],
    ),
    (
        "example-09A.csv",
        "dataflow, datastructure and dataprovision rows",
        NA_DSD,
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": "en:Any Value;fr:N'importe quelle Valeur"},
                INFO,
                "row 2",
                Ref(cls="Dataflow", agency="ESTAT", id="DF_NA_MAIN", version="1.6.0"),
            ),
            row(
                AB,
                "2014-02",
                "10.8",
                {"ATTR_1": 'en:Value "X";fr:Valeur "X"'},
                INFO,
                "row 3",
                Ref(cls="DataStructure", agency="ESTAT", id="DSD_NA_MAIN", version="1.7.0"),
            ),
            row(
                AB,
                "2014-03",
                "11.2",
                {"ATTR_1": 'en:Value "Y";fr:Valeur "Y"'},
                INFO,
                "row 4",
                Ref(cls="ProvisionAgreement", agency="ESTAT", id="DPA_NA_MAIN", version="1.8.0"),
            ),
        ],
    ),
    (
        "example-09B.csv",
        "rows of three data structures: read with one, a second measure column remains",
        make_dsd(
            ["DIM_A1B1", "DIM_A2", "DIM_A3C2", "DIM_B2", "DIM_C1", "DIM_C3"],
            ["ATTR_A1", "ATTR_B1"],
            measures=["MEAS_A1B1C1", "MEAS_C2"],
        ),
        "row 1: column 11: measure 'MEAS_C2' is not the first measure (MEAS_A1B1C1)",
    ),
    (
        "example-10.csv",
        "actions per row (Append, Replace)",
        NA_DSD,
        [
            row(AB, "2014-01", "12.4", {"ATTR_1": "X"}, APPEND, "row 2"),
            row(AB, "2014-02", "10.8", {"ATTR_1": "Y"}, REPLACE, "row 3"),
        ],
    ),
    (
        "example-11.csv",
        "a structure id without version (read as 1.0, the model's default)",
        NA_DSD,
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": "N"},
                INFO,
                "row 2",
                Ref(cls="DataStructure", agency="AGENCY", id="DF_ID", version="1.0"),
            ),
            row(
                AB,
                "2014-02",
                "10.8",
                {"ATTR_1": "Y"},
                INFO,
                "row 3",
                Ref(cls="DataStructure", agency="AGENCY", id="DF_ID", version="1.0"),
            ),
        ],
    ),
    (
        "example-12.csv",
        "attributes attached to partial keys, for a provision agreement",
        NA_DSD,
        [
            row(
                {"DIM_2": "B"},
                "2014-01",
                None,
                {"ATTR_1": "N"},
                INFO,
                "row 2",
                Ref(cls="ProvisionAgreement", agency="AGENCY", id="DPA_ID", version="1.0.0"),
            ),
            row(
                {"DIM_2": "B"},
                "2014-02",
                None,
                {"ATTR_1": "Y"},
                INFO,
                "row 3",
                Ref(cls="ProvisionAgreement", agency="AGENCY", id="DPA_ID", version="1.0.0"),
            ),
        ],
    ),
    (
        "example-13.csv",
        "an observation row and a partial-key attribute row (no period: time None)",
        make_dsd(["DIM_1", "DIM_2"], ["ATTR_1", "ATTR_2"], time="DIM_3", measures=["MEAS_1"]),
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": "N"},
                INFO,
                "row 2",
                Ref(cls="Dataflow", agency="AGENCY", id="DF_ID", version="1.0.0"),
            ),
            row(
                {"DIM_2": "B"},
                None,
                None,
                {"ATTR_2": "Y"},
                INFO,
                "row 3",
                Ref(cls="Dataflow", agency="AGENCY", id="DF_ID", version="1.0.0"),
            ),
        ],
    ),
    (
        "example-14.csv",
        "nested reference-metadata attributes: no DSD component can be named COLLECTION.METHOD",
        make_dsd(["DIM_2"], ["ATTR_1"]),
        "row 1: column 5 'COLLECTION.METHOD[en;fr]' is not a component of data structure",
    ),
    (
        "example-15.csv",
        "XHTML values with a line break inside quotes (rows are records, not lines)",
        NA_DSD,
        [
            row(
                AB,
                "2014-01",
                "12.4",
                {"ATTR_1": '<p>This is some "xhtml" with a line\nbreak</p>'},
                INFO,
                "row 2",
            ),
            row(
                AB,
                "2014-02",
                "10.8",
                {"ATTR_1": '<p>This is some other "xhtml"</p>'},
                INFO,
                "row 3",
            ),
        ],
    ),
    (
        "example-16.csv",
        "deleting one measure value and one attribute value",
        NA_DSD,
        [
            row(AB, "2014-01", "-", {}, DELETE, "row 2"),
            row(AB, "2014-02", None, {"ATTR_3": "-"}, DELETE, "row 3"),
        ],
    ),
    (
        "example-17.csv",
        "deleting values with wildcarded dimensions",
        NA_DSD,
        [
            row({"DIM_2": "A"}, None, "-", {}, DELETE, "row 2"),
            row({"DIM_2": "B"}, None, None, {"ATTR_3": "-"}, DELETE, "row 3"),
        ],
    ),
    (
        "example-18.csv",
        "deleting whole observations with wildcarded dimensions",
        NA_DSD,
        [
            row({"DIM_2": "A"}, None, None, {}, DELETE, "row 2"),
            row({"DIM_2": "B"}, "C", None, {}, DELETE, "row 3"),
        ],
    ),
    (
        "example-19A.csv",
        "deleting all data of a data structure: no component column",
        NA_DSD,
        [
            row(
                {},
                None,
                None,
                {},
                DELETE,
                "row 2",
                Ref(cls="DataStructure", agency="ESTAT", id="DSD_NA_MAIN", version="1.6.0"),
            )
        ],
    ),
    (
        "example-19B.csv",
        "deleting all data of a data structure: empty dimension cells",
        NA_DSD,
        [
            row(
                {},
                None,
                None,
                {},
                DELETE,
                "row 2",
                Ref(cls="DataStructure", agency="ESTAT", id="DSD_NA_MAIN", version="1.6.0"),
            )
        ],
    ),
]


@requires_shared
@pytest.mark.parametrize(
    ("name", "dsd", "expected"),
    [
        pytest.param(name, dsd, expected, id=f"{name}: {what}")
        for name, what, dsd, expected in EXAMPLES
    ],
)
def test_official_examples(name: str, dsd: DataStructure, expected: list[DataRow] | str) -> None:
    path = CSV_EXAMPLES / name
    if isinstance(expected, str):
        with path.open("rb") as stream, pytest.raises(DataReadError) as caught:
            list(read_rows(stream, dsd))
        assert str(caught.value).startswith(expected)
        assert caught.value.location == "row 1"
    else:
        with path.open("rb") as stream:
            assert list(read_rows(stream, dsd)) == expected


@requires_shared
def test_every_official_example_is_covered() -> None:
    assert sorted(p.name for p in CSV_EXAMPLES.glob("*.csv")) == sorted(e[0] for e in EXAMPLES)


# -- SDMX-CSV 1.0 -------------------------------------------------------------------------------

V10 = """DATAFLOW,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_2,ATTR_3,ATTR_1,SERIESKEY
ESTAT:NA_MAIN(1.6),A,B,2014-01,12.4,Y,"Normal, special and other values",N,A.B
ESTAT:NA_MAIN(1.6),A,B,2014-02,10.8,Y,"Normal, special and other values",Y,A.B
"""
V10_LABELS = """\ufeffDATAFLOW;DIM_1: Dimension 1;DIM_2: Dimension 2;DIM_3: Dimension 3;OBS_VALUE;\
ATTR_2: Attribut 2;ATTR_3: Attribut 3;ATTR_1: Attribut 1;SERIESKEY
ESTAT:NA_MAIN(1.6): Principaux agrégats;A: Value A;B: Value B;2014-01;12,4;Y: Oui;\
Normal, special and other values;N: Non;A.B
"""


def test_v10_message_reads_dataflow_column_and_observation_value() -> None:
    flow = Ref(cls="Dataflow", agency="ESTAT", id="NA_MAIN", version="1.6")
    assert read(V10) == [
        row(
            AB,
            "2014-01",
            "12.4",
            {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "N"},
            INFO,
            "row 2",
            flow,
        ),
        row(
            AB,
            "2014-02",
            "10.8",
            {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "Y"},
            INFO,
            "row 3",
            flow,
        ),
    ]


def test_v10_labels_semicolons_bom_and_decimal_comma() -> None:
    (only,) = read(V10_LABELS.encode("utf-8"))
    assert only == row(
        AB,
        "2014-01",
        "12.4",
        {"ATTR_2": "Y", "ATTR_3": NSO, "ATTR_1": "N"},
        INFO,
        "row 2",
        Ref(cls="Dataflow", agency="ESTAT", id="NA_MAIN", version="1.6"),
    )


def test_v10_observation_value_column_is_the_primary_measure_whatever_its_id() -> None:
    dsd = make_dsd(["DIM_1"], measures=["VALUE"])
    (only,) = read("DATAFLOW,DIM_1,OBS_VALUE\nX:Y(1.0),A,3\n", dsd)
    assert only.value == "3"


# -- labels, free text, order, keys ------------------------------------------------------------


def test_labels_are_stripped_only_from_coded_cells() -> None:
    text = (
        "STRUCTURE,STRUCTURE_ID,DIM_1: D1,DIM_2: D2,DIM_3: Period,OBS_VALUE: Value,"
        "ATTR_1: Coded,ATTR_3: Free text\n"
        "dataflow,ESTAT:NA_MAIN(1.6.0): Name: with colon,A: Value A,B: Value: B,2014: 2014,"
        "1: one,N: No,Note: see: annex\n"
    )
    (only,) = read(text)
    assert only == row(
        AB, "2014", "1: one", {"ATTR_1": "N", "ATTR_3": "Note: see: annex"}, INFO, "row 2"
    )


def test_without_labels_cells_are_kept_as_sent() -> None:
    (only,) = read("STRUCTURE,STRUCTURE_ID,DIM_1,ATTR_1\ndataflow,ESTAT:NA_MAIN(1.6.0),A: x,N: y\n")
    assert (only.key, only.attrs) == ({"DIM_1": "A: x"}, {"ATTR_1": "N: y"})


def test_labels_are_stripped_from_each_value_of_a_multi_valued_coded_attribute() -> None:
    text = "STRUCTURE[;],STRUCTURE_ID,DIM_1: D,ATTR_1[]: A\ndataflow,E:F(1.0),A: a,X: x;Y: y\n"
    (only,) = read(text)
    assert only.attrs == {"ATTR_1": "X;Y"}


def test_any_column_order_series_and_observation_key_columns_and_no_action() -> None:
    text = (
        "STRUCTURE,STRUCTURE_ID,SERIES_KEY,OBS_KEY,ATTR_1,OBS_VALUE,DIM_3,DIM_2,DIM_1\n"
        "dataflow,ESTAT:NA_MAIN(1.6.0),A.B,A.B.2014-01,N,12.4,2014-01,B,A\n"
    )
    assert read(text) == [row(AB, "2014-01", "12.4", {"ATTR_1": "N"}, INFO, "row 2")]


def test_quoted_header_cells_and_tab_delimiter() -> None:
    text = '"STRUCTURE"\t"STRUCTURE_ID"\t"DIM_1"\r\n"dataflow"\t"ESTAT:NA_MAIN(1.6.0)"\t"A"\r\n'
    assert read(text) == [row({"DIM_1": "A"}, None, None, {}, INFO, "row 2")]


def test_actions_by_letter_or_name_and_empty_cell_means_information() -> None:
    text = "STRUCTURE,STRUCTURE_ID,ACTION,DIM_1\n" + "".join(
        f"dataflow,ESTAT:NA_MAIN(1.6.0),{a},A\n" for a in ("M", "d", "Delete", "", "I")
    )
    assert [r.action for r in read(text)] == [Action.MERGE, DELETE, DELETE, INFO, INFO]


def test_custom_columns_can_be_added() -> None:
    text = "STRUCTURE,STRUCTURE_ID,DIM_1,PREPARED\ndataflow,E:F(1.0),A,2024-01-01\n"
    assert "PREPARED" not in DEFAULT_CUSTOM_COLUMNS
    (only,) = read(text, custom_columns={"PREPARED"})
    assert only.key == {"DIM_1": "A"}


def test_blank_lines_are_skipped_and_counted() -> None:
    rows = read(
        "STRUCTURE,STRUCTURE_ID,DIM_1\r\ndataflow,E:F(1.0),A\r\n\r\ndataflow,E:F(1.0),B\r\n"
    )
    assert [(r.key, r.location) for r in rows] == [
        ({"DIM_1": "A"}, "row 2"),
        ({"DIM_1": "B"}, "row 4"),
    ]


def test_rows_never_share_their_dicts() -> None:
    rows = read("STRUCTURE,STRUCTURE_ID,DIM_1,ATTR_1\n" + "dataflow,E:F(1.0),A,N\n" * 3)
    rows[0].key["DIM_1"] = "changed"
    rows[1].attrs.clear()
    assert rows[2].key == {"DIM_1": "A"}
    assert rows[2].attrs == {"ATTR_1": "N"}
    assert len({id(r.key) for r in rows}) == 3


def test_the_callers_stream_stays_open() -> None:
    stream = io.BytesIO(b"STRUCTURE,STRUCTURE_ID,DIM_1\ndataflow,E:F(1.0),A\n")
    rows = read_rows(stream, NA_DSD)
    assert len(list(rows)) == 1
    del rows
    assert not stream.closed


def test_reading_starts_with_the_iteration() -> None:
    rows = read_rows(io.BytesIO(b"not csv"), NA_DSD)  # nothing read yet: no error
    with pytest.raises(DataReadError):
        next(rows)


# -- malformed messages: each error says exactly where -----------------------------------------

HEAD = "STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_1\n"
GOOD = "dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-01,1.5,N\n"


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("", "row 1", "empty message"),
        ("\n\n", "row 1", "empty message"),
        ("DIM_1,DIM_2\nA,B\n", "row 1", "not an SDMX-CSV data message"),
        ("STRUCTURE\n", "row 1", "no column delimiter"),
        ("STRUCTURE[;,STRUCTURE_ID\n", "row 1", "unclosed '['"),
        ("STRUCTURE,ID,DIM_1\n", "row 1", "column 2 must be STRUCTURE_ID"),
        ("STRUCTURE,STRUCTURE_ID,DIM_9\n", "row 1", "column 3 'DIM_9' is not a component"),
        ("STRUCTURE,STRUCTURE_ID,DIM_1,DIM_1: again\n", "row 1", "columns 3 and 4 are both"),
        ('STRUCTURE,STRUCTURE_ID,"DIM_1\n', "row 1", "malformed header row"),
        (
            HEAD + GOOD + "dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B\n",
            "row 3",
            "expected 8 cells as in the header row, found 5",
        ),
        (
            HEAD + GOOD + GOOD.replace("1.5,N", "1.5,N,extra"),
            "row 3",
            "expected 8 cells as in the header row, found 9",
        ),
        (
            HEAD + GOOD + 'dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-01,"1"5,N\n',
            "row 3",
            "malformed CSV: ',' expected after '\"'",
        ),
        (
            HEAD + GOOD + GOOD + 'dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-01,1,"N\n',
            "row 4",
            "malformed CSV: unexpected end of data",
        ),
        (
            HEAD + GOOD.replace("dataflow", "dataset"),
            "row 2",
            "STRUCTURE 'dataset' is not dataflow, datastructure or dataprovision",
        ),
        (
            HEAD + GOOD.replace("ESTAT:NA_MAIN(1.6.0)", "NA_MAIN"),
            "row 2",
            "STRUCTURE_ID 'NA_MAIN' is not AGENCY:ID(VERSION)",
        ),
        ("DATAFLOW,DIM_1\nNA_MAIN,A\n", "row 2", "DATAFLOW 'NA_MAIN' is not AGENCY:ID(VERSION)"),
        (
            HEAD + GOOD + GOOD.replace(",I,", ",X,"),
            "row 3",
            "ACTION 'X' is not one of I, A, M, R, D",
        ),
        (
            HEAD + GOOD + GOOD.replace("1.5", "x" * 200_000),
            "row 3",
            "malformed CSV: field larger than field limit",
        ),
    ],
)
def test_malformed_messages(text: str, location: str, message: str) -> None:
    caught = error(text)
    assert caught.location == location
    assert message in str(caught)


def test_undecodable_bytes_are_located_by_byte_offset() -> None:
    data = (HEAD + GOOD).encode() + b"dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-01,1,\xff\n"
    caught = error(data)
    assert caught.location == "byte " + str(data.index(b"\xff"))
    assert str(caught).endswith("invalid UTF-8 (bytes ff); SDMX-CSV messages are UTF-8")


def test_undecodable_bytes_far_into_a_large_message() -> None:
    data = (HEAD + GOOD * 20_000).encode() + b"dataflow,E:F(1.0),I,\xc3(,B,2014,1,N\n"
    assert error(data).location == "byte " + str(data.index(b"\xc3("))


def test_a_measure_that_is_not_the_first_one_of_the_structure() -> None:
    dsd = make_dsd(["DIM_1"], measures=["M1", "M2"])
    caught = error("STRUCTURE,STRUCTURE_ID,DIM_1,M2\n", dsd)
    assert str(caught) == (
        "row 1: column 4: measure 'M2' is not the first measure (M1) of data structure "
        "TEST:DSD(1.0); rows carry a single measure value"
    )


def test_header_row_without_end_is_refused() -> None:
    assert "header row longer than" in str(error("STRUCTURE," + "X" * (1 << 20)))


# -- sniffing and media types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "version"),
    [
        (b"STRUCTURE,STRUCTURE_ID,", "2.0"),
        (b"\xef\xbb\xbfSTRUCTURE[;];STRUCTURE_ID", "2.0"),
        (b'"STRUCTURE","STRUCTURE_ID"', "2.0"),
        (b"DATAFLOW;DIM_1", "1.0"),
        (b"STRUCTURE_ID,", None),
        (b"DATAFLOWS,", None),
        (b"<?xml", None),
        (b"", None),
    ],
)
def test_detect(head: bytes, version: str | None) -> None:
    assert detect(head) == version


def test_media_types() -> None:
    assert MEDIA_TYPES == (
        "application/vnd.sdmx.data+csv;version=1.0.0",
        "application/vnd.sdmx.data+csv;version=2.0.0",
        "text/csv",
    )


# -- streaming: constant memory -----------------------------------------------------------------

STREAM_HEADER = b"STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_1,ATTR_3\r\n"
#: 40 observation rows, then a row with a 100 kB free-text attribute (large messages, few rows).
STREAM_CHUNK = (
    "".join(
        f"dataflow,ESTAT:NA_MAIN(1.6.0),I,A{n // 10},B{n % 4},{2000 + n % 10},{n}.5,N,\r\n"
        for n in range(40)
    ).encode()
    + b'dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,,,,"'
    + b"x" * 100_000
    + b'"\r\n'
)


class GeneratedStream(io.RawIOBase):
    """A message made up as it is read: a header, then ``chunks`` copies of STREAM_CHUNK."""

    def __init__(self, chunks: int) -> None:
        self.left = chunks
        self.view = memoryview(STREAM_HEADER)
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self.view:
            if not self.left:
                return 0
            self.left -= 1
            self.view = memoryview(STREAM_CHUNK)
        n = min(len(buffer), len(self.view))
        buffer[:n] = self.view[:n]
        self.view = self.view[n:]
        self.size += n
        return n


def test_a_200_mb_message_streams_in_constant_memory() -> None:
    raw = GeneratedStream(chunks=2_000)
    count = 0
    last = None
    tracemalloc.start()
    try:
        for current in read_rows(io.BufferedReader(raw, 1 << 16), NA_DSD):
            count += 1
            last = current
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.size > 200_000_000
    assert count == 2_000 * 41
    assert last is not None
    assert last.location == f"row {count + 1}"
    assert len(last.attrs["ATTR_3"]) == 100_000
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB"


def test_files_are_read_as_streams(tmp_path: Path) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(STREAM_HEADER + STREAM_CHUNK * 3)
    with path.open("rb") as stream:
        assert sum(1 for _ in read_rows(stream, NA_DSD)) == 123
