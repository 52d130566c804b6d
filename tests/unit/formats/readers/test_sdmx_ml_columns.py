"""The columnar SDMX-ML reader gives exactly the rows ``read_rows`` gives, or refuses.

Every message here is read both ways: when ``read_columns`` gives columns, they must be the
rows of ``read_rows`` cell for cell (in the columns' layout); what it refuses must be read by
``read_rows`` (which the upload then takes).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from service.formats.readers.sdmx_ml_columns import (
    NotColumnar,
    is_structure_specific,
    read_columns,
)
from service.formats.readers.sdmx_ml_data import read_rows
from service.model.data import ACTION_CODES, DataReadError
from service.model.structures import DataStructure
from tests.shared import requires_shared
from tests.unit.formats.readers.test_sdmx_ml_data import (
    GENERIC,
    MIG,
    SPECIMEN_DSDS,
    SPECIMENS,
    SS,
    SS30,
    SS_CROSS_SECTION,
    SS_FLAT,
    SS_TS,
    _dsd_of,
    make_dsd,
)

ATTRIBUTES = ("SOURCE", "UNIT_MULT", "OBS_STATUS", "NOTE", "TITLE")
Cells = list[tuple[str, ...]]

#: Two data sets (actions, data set attributes), series attributes, observation attributes
#: in different sets and orders, a value left out, xsi:type and namespaced XML attributes.
PLAIN = (
    SS.split("  </message:Header>")[0]
    + """    <message:DataSetAction>Append</message:DataSetAction>
  </message:Header>
  <message:DataSet ss:structureRef="STR1" xsi:type="ns1:DataSetType" SOURCE="LFS">
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_F" UNIT_MULT="3" xsi:type="ns1:SeriesType">
      <Obs TIME_PERIOD="2018" OBS_VALUE="1"/>
      <Obs TIME_PERIOD="2019" OBS_VALUE="2" OBS_STATUS="E" xsi:type="ns1:ObsType"/>
      <Obs OBS_STATUS="M" TIME_PERIOD="2020"/>
      <Obs TIME_PERIOD="2021" OBS_VALUE="4" SOURCE="Census" NOTE="a &quot;note&quot;"/>
      <Obs TIME_PERIOD="2022" OBS_VALUE="5" xsi:schemaLocation="urn:x y.xsd"/>
    </Series>
    <Series SEX="SEX_M" FREQ="A" REF_AREA="THA">
      <Obs TIME_PERIOD="2018" OBS_VALUE="6" UNIT_MULT="0"/>
    </Series>
  </message:DataSet>
  <message:DataSet ss:structureRef="STR1" action="Replace">
    <Series REF_AREA="VNM" FREQ="Q" SEX="SEX_T" TITLE="Quarterly">
      <Obs TIME_PERIOD="2020-Q1" OBS_VALUE="7"/>
      <Obs TIME_PERIOD="2020-Q2" OBS_VALUE="8" OBS_STATUS="P"/>
      <Obs TIME_PERIOD="2020-Q3" OBS_VALUE="9"/>
    </Series>
  </message:DataSet>
</message:StructureSpecificData>
"""
)


def rows_as_cells(data: bytes, dsd: DataStructure, attributes: Sequence[str]) -> Cells:
    """``read_rows``'s rows in ``read_columns``' layout; fails for rows it cannot give."""
    dims = [d.id for d in dsd.key_dimensions]
    cells = []
    for row in read_rows(io.BytesIO(data), dsd):
        assert set(row.key) == set(dims), row
        assert row.time is not None, row
        assert set(row.attrs) <= set(attributes), row
        assert "" not in row.attrs.values(), row
        cells.append(
            (
                ACTION_CODES[row.action],
                *(row.key[d] for d in dims),
                row.time,
                row.value or "",
                *(row.attrs.get(a, "") for a in attributes),
            )
        )
    return cells


def columns_as_cells(
    data: bytes, dsd: DataStructure, attributes: Sequence[str], batch_rows: int
) -> tuple[Cells, list[int]]:
    """``read_columns``' batches as rows of cells, and the size of each batch."""
    batches = list(read_columns(io.BytesIO(data), dsd, attributes, batch_rows=batch_rows))
    cells = [row for b in batches for row in zip(*(c.to_pylist() for c in b.columns), strict=True)]
    return cells, [b.num_rows for b in batches]


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 4, 1000])
def test_plain_messages_give_the_rows_of_read_rows(batch_rows: int) -> None:
    data = PLAIN.encode()
    cells, sizes = columns_as_cells(data, MIG, ATTRIBUTES, batch_rows)
    assert cells == rows_as_cells(data, MIG, ATTRIBUTES)
    assert [c[0] for c in cells] == ["A"] * 6 + ["R"] * 3
    assert all(size >= batch_rows for size in sizes[:-1])  # series straddle batches


@pytest.mark.parametrize(
    "xml",
    [
        SS_TS,
        SS30.replace("ss:action", "ss:x")  # an action the columns give (not Delete)
        .split('<Series REF_AREA="THA" FREQ="A" SEX="SEX_F">')[0]
        .rstrip()
        + """
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_M"><Obs TIME_PERIOD="2020" OBS_VALUE="1"/></Series>
  </message:DataSet>
</message:StructureSpecificData>""",
    ],
    ids=["2.1 time series", "3.0"],
)
def test_other_structure_specific_flavours(xml: str) -> None:
    data = xml.encode()
    assert columns_as_cells(data, MIG, ATTRIBUTES, 10)[0] == rows_as_cells(data, MIG, ATTRIBUTES)


def test_an_attribute_the_caller_leaves_out_is_refused() -> None:
    with pytest.raises(NotColumnar):
        columns_as_cells(PLAIN.encode(), MIG, ("SOURCE", "UNIT_MULT", "OBS_STATUS"), 10)


def test_a_delete_is_given_as_its_letter() -> None:
    xml = PLAIN.replace('action="Replace"', 'action="Delete"')
    cells, _ = columns_as_cells(xml.encode(), MIG, ATTRIBUTES, 10)
    assert [c[0] for c in cells][-3:] == ["D", "D", "D"]


ONE_SERIES = PLAIN.split("  <message:DataSet ")[0] + (
    '  <message:DataSet ss:structureRef="STR1">\n{}\n  </message:DataSet>\n'
    "</message:StructureSpecificData>\n"
)
REFUSED = {
    "a group": SS,
    "time on the series": SS_CROSS_SECTION,
    "flat observations": SS_FLAT,
    "Comp elements (3.0)": SS30.replace('ss:action="Merge"', ""),
    "a generic message": GENERIC,
    "a series without observations": ONE_SERIES.format('<Series REF_AREA="THA" FREQ="A" SEX="F"/>'),
    "a partial key": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A"><Obs TIME_PERIOD="2020"/></Series>'
    ),
    "a dimension on an observation": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Obs TIME_PERIOD="2020" SEX="M"/></Series>'
    ),
    "an observation without a period": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Obs OBS_VALUE="1"/></Series>'
    ),
    "an unknown attribute": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Obs TIME_PERIOD="2020" X="1"/></Series>'
    ),
    "an attribute sent empty": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Obs TIME_PERIOD="2020" NOTE=""/></Series>'
    ),
    "an empty series attribute": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F" NOTE=""><Obs TIME_PERIOD="2020"/></Series>'
    ),
    "the measure on a series": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F" OBS_VALUE="1"><Obs TIME_PERIOD="2020"/></Series>'
    ),
    "annotations in a series": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Annotations/><Obs TIME_PERIOD="2020"/></Series>'
    ),
    "a child of an observation": ONE_SERIES.format(
        '<Series REF_AREA="THA" FREQ="A" SEX="F"><Obs TIME_PERIOD="2020"><X/></Obs></Series>'
    ),
    "a data set of attributes only": ONE_SERIES.format("").replace(
        '<message:DataSet ss:structureRef="STR1">', '<message:DataSet NOTE="n">'
    ),
}


@pytest.mark.parametrize("xml", REFUSED.values(), ids=REFUSED.keys())
def test_what_only_read_rows_reads_is_refused(xml: str) -> None:
    data = xml.encode()
    assert list(read_rows(io.BytesIO(data), MIG))  # the row path reads it
    with pytest.raises(NotColumnar):
        columns_as_cells(data, MIG, ATTRIBUTES, 10)


@pytest.mark.parametrize(
    "xml",
    [
        PLAIN.replace(
            "<message:StructureSpecificData",
            '<!DOCTYPE x [<!ENTITY e "e">]>\n<message:StructureSpecificData',
        ),
        PLAIN.replace('OBS_VALUE="6"', 'OBS_VALUE="&e;"'),
        PLAIN[:-200],
        "<" * 60,
        "".join(f"<a{i}>" for i in range(60)),
    ],
    ids=["DTD", "entity", "truncated", "not XML", "too deep"],
)
def test_unsafe_or_malformed_xml_is_refused_as_read_rows_refuses_it(xml: str) -> None:
    data = xml.encode()
    with pytest.raises(DataReadError):
        list(read_rows(io.BytesIO(data), MIG))
    with pytest.raises((DataReadError, NotColumnar)):
        columns_as_cells(data, MIG, ATTRIBUTES, 10)


def test_deep_elements_in_a_header_are_refused() -> None:
    deep = "".join(f"<a{i}>" for i in range(60)) + "".join(f"</a{i}>" for i in reversed(range(60)))
    xml = PLAIN.replace("<message:DataSetAction>", deep + "<message:DataSetAction>")
    with pytest.raises(DataReadError, match="deeper than"):
        columns_as_cells(xml.encode(), MIG, ATTRIBUTES, 10)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [(PLAIN, True), (SS30, True), (SS_TS, True), (GENERIC, False), ("not xml", False)],
)
def test_is_structure_specific_leaves_the_stream_where_it_was(xml: str, expected: bool) -> None:
    stream = io.BytesIO(b"skipped" + xml.encode())
    stream.seek(7)
    assert is_structure_specific(stream) is expected
    assert stream.tell() == 7


@requires_shared
@pytest.mark.parametrize("specimen", SPECIMEN_DSDS)
def test_specimens_give_the_rows_of_read_rows_or_are_refused(specimen: str) -> None:
    source = SPECIMEN_DSDS[specimen]
    dsd = _dsd_of(source) if isinstance(source, str) else make_dsd(source)
    attributes = tuple(a.id for a in dsd.attributes)
    data = Path(SPECIMENS / specimen).read_bytes()
    try:
        cells, _ = columns_as_cells(data, dsd, attributes, 100)
    except NotColumnar:
        return
    assert cells == rows_as_cells(data, dsd, attributes)
