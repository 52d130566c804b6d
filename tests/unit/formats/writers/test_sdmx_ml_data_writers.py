"""The SDMX-ML data message writers: 2.1 GenericData and GenericTimeSeriesData, 2.1
StructureSpecificData and StructureSpecificTimeSeriesData, 3.0 StructureSpecificData.

Every format x dimension at observation x detail is validated against the official XSDs (the
structure specific flavours together with the data structure specific schema the standard
derives from the DSD: ``structure_specific_schema.py``) and read back by sdmx1 and pysdmx, whose
keys, periods, values and attributes must be what was written. A hypothesis property round-trips
random messages through sdmx1.

The DSD is ILMS's DSD_ILMS_STOCK with one data set level attribute added (ILMS has none).
Known client limits, worked around here: sdmx1 2.28 reads neither a data set's ``action`` nor
its validity (checked with lxml and pysdmx instead); it fails on a data set level attribute of
an SDMX-ML 3.0 message (its 3.0 data set has no attributes), so 3.0 messages are read by sdmx1
with a DSD that lacks it; and it reads a 2.1 data set attribute's enumeration through the
concept's core representation, which a concept known by reference only lacks (patched).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, NamedTuple

import msgspec
import pytest
import sdmx

# sdmx1 adds a structure-specific message's ``ns1`` to its SDMX-ML 2.1 namespaces, which breaks
# a later first import of its 3.0 reader: import it first (as tests/api/test_data_query.py).
import sdmx.reader.xml.v30  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pysdmx.io import read_sdmx

from service.errors import NotAcceptable
from service.formats.base import Header, Lang
from service.formats.readers.sdmx_ml_structure import read_structures
from service.formats.writers import sdmx_ml_21_generic_data as generic
from service.formats.writers import sdmx_ml_21_ss_data as ss21
from service.formats.writers import sdmx_ml_30_ss_data as ss30
from service.formats.writers.data_common import (
    ALL_DIMENSIONS,
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    Detail,
    OutRow,
    Structure,
)
from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter
from service.formats.writers.sdmx_ml_data_common import FLUSH, escape
from service.model import Attribute, AttributeRelationship, Codelist, DataStructure, Ref
from tests.shared import ROOT
from tests.unit.formats.writers.structure_specific_schema import validate_structure_specific
from tests.xsd import validate_sdmx_ml

DSD_FILE = ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml"
DATASET_ATTRIBUTE = "COMMENT_DSET"
#: Attributes attached to MEASURE only: on the series whenever MEASURE is not at observation.
SERIES_ATTRIBUTES = ("UNIT_MEASURE_TYPE", "UNIT_MEASURE", "UNIT_MULT")
#: Attributes attached to REF_AREA, MEASURE and TIME_PERIOD: on the series when another
#: dimension than those is at observation (TIME_PERIOD is then part of the series key).
TIMED_ATTRIBUTES = ("SOURCE", "NOTE_SOURCE", "NOTE_INDICATOR")
TIME = "TIME_PERIOD"
PREPARED = dt.datetime(2026, 5, 18, 10, 40, 7, tzinfo=dt.UTC)
VALID_FROM = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
VALID_TO = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
REFS: dict[Structure, tuple[str, str, str]] = {
    "dataflow": ("ILO", "DF_ILMS_A05", "1.0"),
    "datastructure": ("ILO", "DSD_ILMS_STOCK", "1.0"),
    "provisionagreement": ("ILO", "PA_THA_ILMS", "1.0"),
}
V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
V30 = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0"

Record = tuple[tuple[str, str], ...]


class Flavour(NamedTuple):
    fmt: DataFormat
    #: The SDMX-ML version of its schema.
    version: str
    structure_specific: bool
    time_series: bool


FLAVOURS = {
    "generic": Flavour(generic.FORMATS[0], "2.1", False, False),
    "generic_ts": Flavour(generic.FORMATS[1], "2.1", False, True),
    "ss21": Flavour(ss21.FORMATS[0], "2.1", True, False),
    "ss21_ts": Flavour(ss21.FORMATS[1], "2.1", True, True),
    "ss30": Flavour(ss30.FORMATS[0], "3.0", True, False),
}
DIMENSIONS_AT_OBSERVATION = (TIME, "SEX", ALL_DIMENSIONS)
DETAILS: tuple[Detail, ...] = ("full", "dataonly", "serieskeysonly", "nodata")
VARIANTS = [
    pytest.param(name, dim, detail, id=f"{name}-{dim}-{detail}")
    for name, flavour in FLAVOURS.items()
    for dim in DIMENSIONS_AT_OBSERVATION
    if dim == TIME or not flavour.time_series
    for detail in DETAILS
]


# -- structures ----------------------------------------------------------------------------------


@cache
def ilms_dsd() -> DataStructure:
    """DSD_ILMS_STOCK plus a data set level attribute."""
    [dsd] = [a for a in read_structures(DSD_FILE).artefacts if isinstance(a, DataStructure)]
    concept = msgspec.structs.replace(dsd.attributes[0].concept, item=DATASET_ATTRIBUTE)
    extra = Attribute(
        id=DATASET_ATTRIBUTE, concept=concept, relationship=AttributeRelationship(level="dataset")
    )
    return msgspec.structs.replace(dsd, attributes=(*dsd.attributes, extra))


DIMS = tuple(d.id for d in ilms_dsd().key_dimensions)


@cache
def sdmx1_dsd(with_dataset_attribute: bool) -> Any:
    """The DSD as sdmx1 reads it (from our own SDMX-ML 2.1 structure message)."""
    dsd = ilms_dsd()
    if not with_dataset_attribute:
        dsd = msgspec.structs.replace(dsd, attributes=dsd.attributes[:-1])
    header = Header(id="DSD", prepared=PREPARED)
    xml = SdmxMl21StructureWriter().write_structures([dsd], header=header, lang=Lang())
    found = sdmx.read_sdmx(io.BytesIO(xml)).structure[dsd.id]
    if with_dataset_attribute:
        concept = found.attributes.get(DATASET_ATTRIBUTE).concept_identity
        concept.core_representation = sdmx.model.common.Representation()
    return found


@cache
def codelist_codes(ref: Ref) -> tuple[str, ...] | None:
    path = ROOT / "codelists" / f"{ref.agency}_{ref.id}_{ref.version}.xml"
    if not path.is_file():
        return None
    [codelist] = [a for a in read_structures(path).artefacts if isinstance(a, Codelist)]
    return tuple(code.id for code in codelist.items)


def codes_of(component: str) -> tuple[str, ...]:
    found = ilms_dsd().component(component)
    assert found is not None
    assert found.representation is not None
    assert found.representation.enumeration is not None
    codes = codelist_codes(found.representation.enumeration)
    assert codes
    return codes


# -- messages ------------------------------------------------------------------------------------

KEY = {
    "REF_AREA": "THA",
    "FREQ": "A",
    "MEASURE": "EMP_TEMP_NB",
    "SEX": "SEX_T",
    "AGE": "AGE_YTHADULT_YGE15",
    "EDU": "EDU_AGGREGATE_TOTAL",
    "ECO": "ECO_AGGREGATE_TOTAL",
    "OCU": "OCU_SKILL_TOTAL",
    "STE": "STE_AGGREGATE_TOTAL",
    "CBR": "CBR_BIR_TOTAL",
    "CCT": "CCT_CIT_TOTAL",
}
#: Text needing every kind of escaping, and non-ASCII characters that must stay UTF-8.
NOTE = 'Labour force survey "LFS" <Q4> & co.\ttab\nline\r é 中 😀'
COMMENT = 'Données <provisoires> & "révisées" l\'an'


def row(area: str, sex: str, year: str, value: str, **attrs: str) -> OutRow:
    key = {**KEY, "REF_AREA": area, "SEX": sex}
    every = {
        "UNIT_MEASURE_TYPE": "NB",
        "UNIT_MEASURE": "PS",
        "UNIT_MULT": "3",
        "SOURCE": f"{NOTE} {area} {year}",  # attached to REF_AREA, MEASURE and TIME_PERIOD
        "DECIMALS": "1",
        "UPPER_BOUND": "",  # empty values are left out
        DATASET_ATTRIBUTE: COMMENT,
    }
    return [key[d] for d in DIMS], year, value, {**every, **attrs}


def sample_rows() -> list[OutRow]:
    rows = []
    for i, (area, sex, year) in enumerate(
        (a, s, y)
        for a in ("THA", "VNM")
        for s in ("SEX_T", "SEX_F")
        for y in ("2019", "2020", "2021")
    ):
        missing = (area, sex, year) == ("VNM", "SEX_F", "2021")
        status = "M" if missing else "E" if year == "2019" else ""
        rows.append(row(area, sex, year, "" if missing else f"{i}.5", OBS_STATUS=status))
    return rows


def deleted_rows() -> list[OutRow]:
    """A Delete data set: a whole observation, and the status of another."""
    key = [KEY[d] for d in DIMS]
    return [(key, "2019", "", {}), (key, "2020", "", {"OBS_STATUS": "E"})]


def component(row: OutRow, name: str) -> str:
    return row[1] if name == TIME else row[0][DIMS.index(name)]


def ordered(rows: Iterable[OutRow], dim: str) -> list[OutRow]:
    """The rows as the caller orders them: a series' rows consecutive, then by ``dim``."""
    every = [*DIMS, TIME]
    order = every if dim == ALL_DIMENSIONS else [d for d in every if d != dim] + [dim]
    return sorted(rows, key=lambda r: [component(r, d) for d in order])


def message(
    dim: str = TIME, detail: Detail = "full", structure: Structure = "dataflow"
) -> DataMessage:
    return DataMessage(
        structure=structure,
        ref=REFS[structure],
        dsd=ilms_dsd(),
        dimension_at_observation=dim,
        detail=detail,
        prepared=PREPARED,
        message_id="IREF42",
    )


def sample_datasets(dim: str) -> list[DataSetPart]:
    return [
        DataSetPart(
            DataSetInfo(action="I", valid_from=VALID_FROM, valid_to=VALID_TO),
            ordered(sample_rows(), dim),
        ),
        DataSetPart(DataSetInfo(action="D", valid_from=VALID_TO), ordered(deleted_rows(), dim)),
    ]


def write(flavour: Flavour, msg: DataMessage, datasets: Iterable[DataSetPart]) -> bytes:
    return b"".join(flavour.fmt.write(msg, datasets))


def validate(flavour: Flavour, xml: bytes) -> None:
    if flavour.structure_specific:
        validate_structure_specific(xml, ilms_dsd(), codelist_codes)
    else:
        validate_sdmx_ml(xml, flavour.version)


# -- what was written, what was read -------------------------------------------------------------


def record(items: dict[str, str]) -> Record:
    return tuple(sorted(items.items()))


def expected(
    rows: Iterable[OutRow], dim: str, detail: Detail, *, dataset_attr: bool = True
) -> list[Record]:
    """What readers must find: observations (full, dataonly) or series (serieskeysonly, nodata;
    with AllDimensions the series have time at observation)."""
    found = set() if detail in ("serieskeysonly", "nodata") else None
    records = []
    for r in rows:
        attrs = {k: v for k, v in r[3].items() if v and (dataset_attr or k != DATASET_ATTRIBUTE)}
        if found is None:
            items = {**dict(zip(DIMS, r[0], strict=True)), TIME: r[1]}
            if r[2]:
                items["OBS_VALUE"] = r[2]
            if detail == "full":
                items.update(attrs)
            records.append(record(items))
            continue
        at_obs = TIME if dim == ALL_DIMENSIONS else dim
        items = {d: component(r, d) for d in (*DIMS, TIME) if d != at_obs}
        if detail == "nodata":
            kept = (*SERIES_ATTRIBUTES, DATASET_ATTRIBUTE)
            if dim not in (TIME, ALL_DIMENSIONS, "REF_AREA", "MEASURE"):
                kept += TIMED_ATTRIBUTES
            items.update({k: v for k, v in attrs.items() if k in kept})
        found.add(record(items))
    return sorted(records if found is None else found)


def _text(value: Any) -> str:
    return str(getattr(value, "id", value))


def sdmx1_records(xml: bytes, flavour: Flavour, series_only: bool) -> list[list[Record]]:
    """Per data set, the observations (or series) sdmx1 reads, with every attribute that
    applies to them (data set, series and observation level)."""
    structure = sdmx1_dsd(with_dataset_attribute=flavour.version == "2.1")
    read = sdmx.read_sdmx(io.BytesIO(xml), structure=structure)
    datasets = []
    for ds in read.data:
        base = {k: _text(v.value) for k, v in getattr(ds, "attrib", {}).items()}
        records = []
        if series_only:
            for key in ds.series:
                items = {kv.id: _text(kv.value) for kv in key.values.values()}
                items.update({k: _text(v.value) for k, v in key.attrib.items()})
                records.append(record({**items, **base}))
        for obs in [] if series_only else ds.obs:
            items = {kv.id: _text(kv.value) for kv in obs.key.values.values()}
            items.update({k: _text(v.value) for k, v in obs.attrib.items()})
            if obs.value is not None:
                items["OBS_VALUE"] = _text(obs.value)
            records.append(record({**items, **base}))
        datasets.append(sorted(records))
    return datasets


def pysdmx_datasets(xml: bytes) -> list[tuple[str, list[Record]]]:
    """Per data set, its action and the rows pysdmx reads, with the data set's attributes."""
    datasets = []
    for ds in read_sdmx(xml.decode()).data:
        # pysdmx reports the structure specific data set's validity as attributes.
        base = {k: v for k, v in ds.attributes.items() if k not in ("validFromDate", "validToDate")}
        records = [
            record({**base, **{k: str(v) for k, v in r.items() if isinstance(v, str) and v}})
            for r in ds.data.to_dict("records")
        ]
        datasets.append((ds.action.value, sorted(records)))
    return datasets


def data_sets(xml: bytes) -> list[etree._Element]:
    root = etree.fromstring(xml)
    return root.findall(f"{{{root.nsmap['message']}}}DataSet")


# -- every variant -------------------------------------------------------------------------------


class TestEveryVariant:
    @pytest.mark.parametrize(("name", "dim", "detail"), VARIANTS)
    def test_valid(self, name: str, dim: str, detail: Detail) -> None:
        flavour = FLAVOURS[name]
        validate(flavour, write(flavour, message(dim, detail), sample_datasets(dim)))

    @pytest.mark.parametrize(("name", "dim", "detail"), VARIANTS)
    def test_read_by_sdmx1(self, name: str, dim: str, detail: Detail) -> None:
        flavour = FLAVOURS[name]
        xml = write(flavour, message(dim, detail), sample_datasets(dim))
        series_only = detail in ("serieskeysonly", "nodata")
        with_dataset_attr = flavour.version == "2.1"
        assert sdmx1_records(xml, flavour, series_only) == [
            expected(sample_rows(), dim, detail, dataset_attr=with_dataset_attr),
            expected(deleted_rows(), dim, detail),
        ]

    @pytest.mark.parametrize(("name", "dim", "detail"), VARIANTS)
    def test_read_by_pysdmx(self, name: str, dim: str, detail: Detail) -> None:
        flavour = FLAVOURS[name]
        xml = write(flavour, message(dim, detail), sample_datasets(dim))
        information = "Information"
        assert pysdmx_datasets(xml) == [
            (information, expected(sample_rows(), dim, detail)),
            ("Delete", expected(deleted_rows(), dim, detail)),
        ]


# -- header and data sets ------------------------------------------------------------------------


class TestHeader:
    @pytest.mark.parametrize("name", FLAVOURS)
    @pytest.mark.parametrize("structure", REFS)
    def test_structure_reference(self, name: str, structure: Structure) -> None:
        flavour = FLAVOURS[name]
        xml = write(flavour, message(structure=structure), sample_datasets(TIME))
        validate(flavour, xml)
        root = etree.fromstring(xml)
        m = root.nsmap["message"]
        header = root.find(f"{{{m}}}Header")
        assert header is not None
        assert header.findtext(f"{{{m}}}ID") == "IREF42"
        assert header.findtext(f"{{{m}}}Test") == "false"
        assert header.findtext(f"{{{m}}}Prepared") == "2026-05-18T10:40:07Z"
        sender = header.find(f"{{{m}}}Sender")
        assert sender is not None
        assert sender.get("id") == "ILO"
        structure_el = header.find(f"{{{m}}}Structure")
        assert structure_el is not None
        [usage] = structure_el
        cls = {"dataflow": "Dataflow", "datastructure": "DataStructure"}.get(
            structure, "ProvisionAgreement"
        )
        agency, id_, version = REFS[structure]
        if flavour.version == "3.0":
            package = "registry" if structure == "provisionagreement" else "datastructure"
            assert (
                usage.text
                == f"urn:sdmx:org.sdmx.infomodel.{package}.{cls}={agency}:{id_}({version})"
            )
        else:
            [ref] = usage
            assert (ref.get("agencyID"), ref.get("id"), ref.get("version"), ref.get("class")) == (
                agency,
                id_,
                version,
                cls,
            )

    @pytest.mark.parametrize("name", ["ss21", "ss21_ts", "ss30"])
    @pytest.mark.parametrize("dim", DIMENSIONS_AT_OBSERVATION)
    def test_namespace_names_the_dimension_at_observation(self, name: str, dim: str) -> None:
        flavour = FLAVOURS[name]
        if flavour.time_series and dim != TIME:
            pytest.skip("time series only")
        xml = write(flavour, message(dim), sample_datasets(dim))
        root = etree.fromstring(xml)
        m = root.nsmap["message"]
        structure = root.find(f"{{{m}}}Header/{{{m}}}Structure")
        assert structure is not None
        namespace = structure.get("namespace")
        assert namespace == (
            f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ILO:DF_ILMS_A05(1.0)"
            f":ObsLevelDim:{dim}"
        )
        assert structure.get("dimensionAtObservation") == dim
        assert root.nsmap["ns1"] == namespace
        kind = "TimeSeriesDataSetType" if flavour.time_series else "DataSetType"
        xsi = "{http://www.w3.org/2001/XMLSchema-instance}type"
        assert {ds.get(xsi) for ds in data_sets(xml)} == {f"ns1:{kind}"}

    @pytest.mark.parametrize("name", FLAVOURS)
    @pytest.mark.parametrize("detail", ["serieskeysonly", "nodata"])
    def test_all_dimensions_without_observations_presents_series(
        self, name: str, detail: Detail
    ) -> None:
        flavour = FLAVOURS[name]
        if flavour.time_series:
            pytest.skip("time series only")
        xml = write(flavour, message(ALL_DIMENSIONS, detail), sample_datasets(ALL_DIMENSIONS))
        root = etree.fromstring(xml)
        m = root.nsmap["message"]
        structure = root.find(f"{{{m}}}Header/{{{m}}}Structure")
        assert structure is not None
        assert structure.get("dimensionAtObservation") == TIME
        [first, _] = data_sets(xml)
        assert {etree.QName(child).localname for child in first} <= {"Series", "Attributes"}
        assert len([c for c in first if etree.QName(c).localname == "Series"]) == 4


class TestDataSets:
    @pytest.mark.parametrize("name", FLAVOURS)
    @pytest.mark.parametrize(
        ("action", "v21", "v30"),
        [
            ("I", "Information", "Information"),
            ("A", "Replace", "Append"),  # 2.1 Append never overwrites: Replace is ours
            ("M", "Replace", "Replace"),  # SDMX-ML 3.0.0 has no Merge
            ("R", "Replace", "Replace"),
            ("D", "Delete", "Delete"),
        ],
    )
    def test_action(self, name: str, action: str, v21: str, v30: str) -> None:
        flavour = FLAVOURS[name]
        xml = write(flavour, message(), [DataSetPart(DataSetInfo(action=action), sample_rows())])
        validate(flavour, xml)
        [ds] = data_sets(xml)
        qualified = f"{{{V21 if flavour.version == '2.1' else V30}/data/structurespecific}}"
        prefix = qualified if flavour.structure_specific else ""
        assert ds.get(f"{prefix}action") == (v21 if flavour.version == "2.1" else v30)
        assert ds.get(f"{prefix}validFromDate") is None

    @pytest.mark.parametrize("name", FLAVOURS)
    def test_several_data_sets_with_their_validity(self, name: str) -> None:
        flavour = FLAVOURS[name]
        info = [
            DataSetInfo(valid_from=VALID_FROM, valid_to=VALID_TO),
            DataSetInfo(valid_from=VALID_TO),
            DataSetInfo(action="D", valid_from=VALID_TO),
        ]
        parts = [DataSetPart(i, sample_rows()[:2]) for i in info]
        xml = write(flavour, message(), parts)
        validate(flavour, xml)
        prefix = (
            ""
            if not flavour.structure_specific
            else (f"{{{V21 if flavour.version == '2.1' else V30}/data/structurespecific}}")
        )
        found = [
            (ds.get(f"{prefix}validFromDate"), ds.get(f"{prefix}validToDate"))
            for ds in data_sets(xml)
        ]
        assert found == [
            ("2026-01-02T03:04:05Z", "2026-03-04T05:06:07Z"),
            ("2026-03-04T05:06:07Z", None),
            ("2026-03-04T05:06:07Z", None),
        ]

    @pytest.mark.parametrize("name", FLAVOURS)
    def test_an_empty_data_set(self, name: str) -> None:
        flavour = FLAVOURS[name]
        xml = write(flavour, message(), [DataSetPart(DataSetInfo(), [])])
        validate(flavour, xml)
        [ds] = data_sets(xml)
        assert len(ds) == 0

    def test_data_set_attributes_placement(self) -> None:
        xml = write(FLAVOURS["ss21"], message(), sample_datasets(TIME))
        first = data_sets(xml)[0]
        assert first.get(DATASET_ATTRIBUTE) == COMMENT
        series = first[0]
        assert {k: series.get(k) for k in SERIES_ATTRIBUTES} == {
            "UNIT_MEASURE_TYPE": "NB",
            "UNIT_MEASURE": "PS",
            "UNIT_MULT": "3",
        }
        obs = series[0]
        assert obs.get("SOURCE") == f"{NOTE} THA 2019"  # attached to time: on the observation
        assert obs.get("UPPER_BOUND") is None
        assert obs.get(DATASET_ATTRIBUTE) is None
        assert obs.get("UNIT_MEASURE") is None


class TestTimeSeriesFormats:
    @pytest.mark.parametrize("name", ["generic_ts", "ss21_ts"])
    @pytest.mark.parametrize("dim", ["SEX", ALL_DIMENSIONS])
    def test_other_dimensions_are_refused_before_the_first_byte(self, name: str, dim: str) -> None:
        flavour = FLAVOURS[name]
        assert flavour.fmt.time_series_only
        with pytest.raises(NotAcceptable, match=f"only the time dimension.*not {dim}"):
            flavour.fmt.write(message(dim), [])  # raised by the call, not by iterating

    def test_the_others_take_any_dimension(self) -> None:
        assert not any(f.fmt.time_series_only for f in FLAVOURS.values() if not f.time_series)


def test_formats() -> None:
    found = {
        f.media_type: (f.format_names, dict(f.accept), f.extension)
        for module in (generic, ss21, ss30)
        for f in module.FORMATS
    }
    assert found == {
        "application/vnd.sdmx.genericdata+xml;version=2.1": (
            ("genericdata", "generic_2_1"),
            {
                "application/vnd.sdmx.genericdata+xml": ("2.1",),
                "application/xml": (),
                "text/xml": (),
            },
            "xml",
        ),
        "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1": (
            ("generictimeseriesdata",),
            {"application/vnd.sdmx.generictimeseriesdata+xml": ("2.1",)},
            "xml",
        ),
        "application/vnd.sdmx.structurespecificdata+xml;version=2.1": (
            ("structurespecificdata", "compact_2_1", "structurespecific"),
            {"application/vnd.sdmx.structurespecificdata+xml": ("2.1",)},
            "xml",
        ),
        "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1": (
            ("structurespecifictimeseriesdata",),
            {"application/vnd.sdmx.structurespecifictimeseriesdata+xml": ("2.1",)},
            "xml",
        ),
        "application/vnd.sdmx.data+xml;version=3.0.0": (
            ("structurespecificdata_3_0", "xml_3_0"),
            {"application/vnd.sdmx.data+xml": ("3.0.0", "3.0")},
            "xml",
        ),
    }


# -- escaping and streaming ----------------------------------------------------------------------


class TestEscaping:
    @pytest.mark.parametrize(
        ("text", "escaped"),
        [
            ("plain 1.5", "plain 1.5"),
            ('a "b" <c> & d', "a &quot;b&quot; &lt;c&gt; &amp; d"),
            ("tab\tline\ncr\r", "tab&#9;line&#10;cr&#13;"),
            ("é 中 😀 '", "é 中 😀 '"),
            ("bell\x07 nul\x00 \ufffe \ud800", "bell\ufffd nul\ufffd \ufffd \ufffd"),
        ],
    )
    def test_escape(self, text: str, escaped: str) -> None:
        assert escape(text) == escaped

    @pytest.mark.parametrize("name", FLAVOURS)
    def test_non_ascii_stays_utf8(self, name: str) -> None:
        xml = write(FLAVOURS[name], message(), sample_datasets(TIME))
        assert "Données".encode() in xml
        assert "😀".encode() in xml
        assert b"&#" not in xml.replace(b"&#9;", b"").replace(b"&#10;", b"").replace(b"&#13;", b"")

    def test_characters_xml_cannot_carry_are_replaced(self) -> None:
        rows = [row("THA", "SEX_T", "2020", "1", NOTE_SOURCE="bad\x01char")]
        xml = write(FLAVOURS["ss21"], message(), [DataSetPart(DataSetInfo(), rows)])
        validate(FLAVOURS["ss21"], xml)
        assert etree.fromstring(xml).find(".//Obs").get("NOTE_SOURCE") == "bad\ufffdchar"


class TestStreaming:
    @staticmethod
    def many_rows(series: int, consumed: list[int]) -> Iterator[OutRow]:
        areas = codes_of("REF_AREA")
        for s in range(series):
            codes = [
                {**KEY, "REF_AREA": areas[s % len(areas)], "AGE": "AGE_YTHADULT_YGE15"}[d]
                for d in DIMS
            ]
            codes[DIMS.index("SEX")] = ("SEX_T", "SEX_M", "SEX_F")[s // len(areas)]
            for year in range(1990, 2010):
                consumed[0] += 1
                yield codes, str(year), f"{s}.{year}", {"OBS_STATUS": "E", "SOURCE": NOTE}

    @pytest.mark.parametrize("name", FLAVOURS)
    def test_chunks_of_about_64_kb_one_series_at_a_time(self, name: str) -> None:
        flavour = FLAVOURS[name]
        consumed = [0]
        chunks = flavour.fmt.write(
            message(), [DataSetPart(DataSetInfo(), self.many_rows(900, consumed))]
        )
        first = next(chunks)
        assert FLUSH < len(first) < FLUSH + 10_000  # a chunk ends after the series that filled it
        assert consumed[0] < 900 * 20 / 4  # the rows are read as the chunks are taken
        rest = list(chunks)
        assert len(rest) > 3
        assert all(len(c) < FLUSH + 10_000 for c in rest)
        xml = first + b"".join(rest)
        validate(flavour, xml)
        assert xml.count(b"<Obs ") + xml.count(b"<generic:Obs>") == 900 * 20


def test_the_former_interface_still_works() -> None:
    rows = [(list(r[0]), r[1], r[2], dict(r[3])) for r in ordered(sample_rows(), TIME)]
    xml = b"".join(ss21.write_data("dataflow", REFS["dataflow"], ilms_dsd(), rows))
    validate(FLAVOURS["ss21"], xml)
    assert sdmx1_records(xml, FLAVOURS["ss21"], series_only=False) == [
        expected(sample_rows(), TIME, "full")
    ]
    with pytest.raises(ValueError, match="unknown structure kind"):
        ss21.write_data("metadataflow", REFS["dataflow"], ilms_dsd(), rows)


# -- property: random messages round-trip through sdmx1 -----------------------------------------

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"))
    | st.sampled_from("&<>\"' \t\n\r"),
    min_size=1,
    max_size=12,
)
PERIODS = st.sampled_from(
    [*map(str, range(1995, 2030)), "2020-Q1", "2020-Q4", "2021-01", "2021-M07"]
)
VALUES = st.one_of(
    st.just(""),
    st.integers(-(10**9), 10**9).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
)


@st.composite
def random_rows(draw: st.DrawFn) -> list[OutRow]:
    """Random series (real codes), each with its observations and attribute values."""
    keys = draw(
        st.lists(
            st.tuples(*(st.sampled_from(codes_of(d)) for d in DIMS)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    comment = draw(st.one_of(st.just(""), TEXT))
    rows: list[OutRow] = []
    for key in keys:
        unit = draw(st.sampled_from(codes_of("UNIT_MEASURE")))
        for period in draw(st.lists(PERIODS, min_size=1, max_size=4, unique=True)):
            attrs = {
                "UNIT_MEASURE": unit,
                "OBS_STATUS": draw(st.one_of(st.just(""), st.sampled_from(codes_of("OBS_STATUS")))),
                "NOTE_SOURCE": draw(st.one_of(st.just(""), TEXT)),
                DATASET_ATTRIBUTE: comment,
            }
            rows.append((list(key), period, draw(VALUES), attrs))
    return rows


@pytest.mark.parametrize("name", ["generic", "ss21", "ss30"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=random_rows(), dim=st.sampled_from(DIMENSIONS_AT_OBSERVATION))
def test_random_messages_round_trip_through_sdmx1(name: str, rows: list[OutRow], dim: str) -> None:
    flavour = FLAVOURS[name]
    xml = write(flavour, message(dim), [DataSetPart(DataSetInfo(), ordered(rows, dim))])
    validate(flavour, xml)
    assert sdmx1_records(xml, flavour, series_only=False) == [
        expected(rows, dim, "full", dataset_attr=flavour.version == "2.1")
    ]
