"""Tests for the SDMX-ML 3.0 structure writer.

The artefacts come from the SDMX-ML 2.1 writer tests (``sample_artefacts()``, the parsed
ILO specimen), so both writers are checked against the same input.
"""

from __future__ import annotations

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
import sdmx
from lxml import etree
from pysdmx.errors import Invalid
from pysdmx.io import read_sdmx

from service.errors import NoResultsFound, QuerySyntaxError
from service.formats.base import Header
from service.formats.writers.sdmx_ml_30_structure import (
    SdmxMl30StructureWriter,
    merge_regions,
    ref_urn,
)
from service.model import (
    AgencyScheme,
    Annotation,
    Categorisation,
    CategoryScheme,
    Code,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.types import Artefact
from tests.shared import requires_shared
from tests.unit.formats.writers.test_sdmx_ml_21_structure import (
    COM as COM21,
)
from tests.unit.formats.writers.test_sdmx_ml_21_structure import (
    HEADER,
    LANG,
    PROVIDER,
    XML_LANG,
    actual_constraint,
    attrib_of,
    by_id,
    client_readable,
    ilo,
    ilo_artefacts,
    ilo_specimen,
    localnames,
    one,
    sample,
    sample_artefacts,
    stub,
    tree,
)
from tests.unit.formats.writers.test_sdmx_ml_21_structure import (
    STR as STR21,
)
from tests.xsd import validate_sdmx_ml

MES = "{http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message}"
STR = "{http://www.sdmx.org/resources/sdmxml/schemas/v3_0/structure}"
COM = "{http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common}"
URN = "urn:sdmx:org.sdmx.infomodel"

WRITER = SdmxMl30StructureWriter()


def write(*artefacts: Artefact) -> bytes:
    return WRITER.write_structures(artefacts, header=HEADER, lang=LANG)


_CONTAINERS = {ConceptScheme: "ConceptSchemes", ContentConstraint: "DataConstraints"}


def write_one(artefact: Artefact) -> etree._Element:
    """The element of ``artefact``, written alone (the message is checked against the XSD)."""
    xml = write(artefact)
    validate_sdmx_ml(xml, "3.0")
    container = _CONTAINERS.get(type(artefact), type(artefact).__name__ + "s")
    (el,) = one(tree(xml), f"{MES}Structures/{STR}{container}")
    return el


# --- the message --------------------------------------------------------------------------


class TestMessage:
    def test_media_type(self) -> None:
        assert SdmxMl30StructureWriter.media_type == (
            "application/vnd.sdmx.structure+xml;version=3.0.0"
        )

    def test_root_header_and_namespaces(self) -> None:
        xml = write()
        validate_sdmx_ml(xml, "3.0")
        assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
        root = tree(xml)
        assert root.tag == MES + "Structure"
        assert root.nsmap == {"message": MES[1:-1], "structure": STR[1:-1], "common": COM[1:-1]}
        header = one(root, MES + "Header")
        assert localnames(header) == ["ID", "Test", "Prepared", "Sender"]
        assert header.findtext(MES + "ID") == "IDREF42"
        assert header.findtext(MES + "Test") == "false"
        assert header.findtext(MES + "Prepared") == "2026-05-18T10:40:07Z"
        assert attrib_of(one(header, MES + "Sender")) == {"id": "ILO"}

    def test_test_flag_and_naive_time(self) -> None:
        header = Header(id="X1", prepared=dt.datetime(2026, 1, 2, 3, 4, 5), test=True)  # noqa: DTZ001
        xml = WRITER.write_structures([], header=header, lang=LANG)
        validate_sdmx_ml(xml, "3.0")
        assert tree(xml).findtext(f"{MES}Header/{MES}Test") == "true"
        assert tree(xml).findtext(f"{MES}Header/{MES}Prepared") == "2026-01-02T03:04:05"

    def test_containers_and_artefacts_in_order(self) -> None:
        second = msgspec.structs.replace(sample(Codelist), id="CL_AAA")
        root = tree(write(*reversed(sample_artefacts().values()), second, actual_constraint()))
        assert localnames(one(root, MES + "Structures")) == [
            "AgencySchemes",
            "DataProviderSchemes",
            "Codelists",
            "ConceptSchemes",
            "CategorySchemes",
            "DataStructures",
            "Dataflows",
            "Categorisations",
            "ProvisionAgreements",
            "DataConstraints",
        ]
        codelists = root.iterfind(f"{MES}Structures/{STR}Codelists/{STR}Codelist")
        assert [c.get("id") for c in codelists] == ["CL_SEX", "CL_AAA"]
        constraints = root.iterfind(f"{MES}Structures/{STR}DataConstraints/{STR}DataConstraint")
        assert [c.get("id") for c in constraints] == ["CC_ILMS_T01", "CC_THA_NSO_ACTUAL"]

    def test_unknown_class_is_refused(self) -> None:
        with pytest.raises(TypeError, match="Annotation"):
            write(Annotation(id="x"))  # type: ignore[arg-type]


# --- XSD validity -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(sample_artefacts()))
def test_each_class_is_xsd_valid(name: str) -> None:
    validate_sdmx_ml(write(sample_artefacts()[name]), "3.0")


@pytest.mark.parametrize("name", sorted(sample_artefacts()))
def test_each_class_as_stub_is_xsd_valid(name: str) -> None:
    validate_sdmx_ml(write(stub(sample_artefacts()[name])), "3.0")


def test_everything_together_is_xsd_valid() -> None:
    validate_sdmx_ml(write(*sample_artefacts().values(), actual_constraint()), "3.0")


def test_2_1_output_is_not_3_0() -> None:
    """The validator tells the versions apart."""
    from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter

    xml = SdmxMl21StructureWriter().write_structures([sample(Codelist)], header=HEADER, lang=LANG)
    with pytest.raises(AssertionError, match="not valid SDMX-ML 3.0"):
        validate_sdmx_ml(xml, "3.0")


# --- maintainable artefacts and items -----------------------------------------------------


class TestMaintainable:
    def test_attributes(self) -> None:
        assert attrib_of(write_one(sample(Codelist))) == {
            "id": "CL_SEX",
            "urn": f"{URN}.codelist.Codelist=ILO:CL_SEX(1.0)",
            "agencyID": "ILO",
            "version": "1.0",
            "validFrom": "2020-01-01T00:00:00",
            "validTo": "2030-12-31T23:59:59",
        }

    def test_no_is_final_anywhere(self) -> None:
        root = tree(write(*sample_artefacts().values()))
        assert not [el for el in root.iter() if "isFinal" in el.attrib]

    def test_organisation_schemes_have_no_version(self) -> None:
        agencies = write_one(sample(AgencyScheme))
        assert attrib_of(agencies) == {
            "id": "AGENCIES",
            "urn": f"{URN}.base.AgencyScheme=SDMX:AGENCIES(1.0)",
            "agencyID": "SDMX",
        }
        assert write_one(sample(DataProviderScheme)).get("version") is None

    def test_annotations_with_value(self) -> None:
        el = write_one(sample(Codelist))
        note = el.findall(f"{COM}Annotations/{COM}Annotation")[1]
        assert localnames(note) == [
            "AnnotationTitle",
            "AnnotationType",
            "AnnotationURL",
            "AnnotationText",
            "AnnotationText",
            "AnnotationValue",
        ]
        assert note.findtext(COM + "AnnotationValue") == "LFS"
        assert [(n.get(XML_LANG), n.text) for n in el.iterfind(COM + "Name")] == [
            ("en", "Sex"),
            ("fr", "Sexe"),
            ("es", "Sexo"),
        ]

    def test_partial_codelist(self) -> None:
        codelist = sample(Codelist)
        el = write_one(msgspec.structs.replace(codelist, is_partial=True, items=codelist.items[:1]))
        assert el.get("isPartial") == "true"
        assert [c.get("id") for c in el.iterfind(STR + "Code")] == ["SEX_T"]

    def test_stub(self) -> None:
        el = write_one(stub(sample(Codelist)))
        assert (el.get("isExternalReference"), el.get("structureURL")) == (
            "true",
            "https://ilms.example.org/CL_SEX",
        )
        assert localnames(el) == ["Annotations", "Name", "Name", "Name"] + ["Description"] * 2

    def test_stubs_drop_what_the_xsd_lets_go(self) -> None:
        assert localnames(write_one(stub(sample(DataStructure))))[-1] == "Name"
        assert localnames(write_one(stub(sample(Dataflow))))[-1] == "Description"
        constraint = write_one(stub(sample(ContentConstraint)))
        assert (localnames(constraint)[-1], constraint.get("role")) == ("Name", "Allowed")
        assert localnames(write_one(stub(sample(Categorisation))))[-1] == "Name"
        agreement = write_one(stub(sample(ProvisionAgreement)))
        assert localnames(agreement)[-2:] == ["Dataflow", "DataProvider"]

    def test_missing_name_falls_back_to_id(self) -> None:
        el = write_one(Codelist(agency="ILO", id="CL_X", items=(Code(id="A"),)))
        assert [n.text for n in el.iter(COM + "Name")] == ["CL_X", "A"]


class TestItems:
    def test_codes(self) -> None:
        codes = write_one(sample(Codelist)).findall(STR + "Code")
        assert [attrib_of(c) for c in codes] == [
            {"id": id_, "urn": f"{URN}.codelist.Code=ILO:CL_SEX(1.0).{id_}"}
            for id_ in ("SEX_T", "SEX_M", "SEX_F")
        ]
        assert localnames(codes[0]) == ["Annotations", "Name", "Name"]
        assert localnames(codes[1]) == ["Name", "Description", "Parent"]
        assert codes[1].findtext(STR + "Parent") == "SEX_T"

    def test_categories_are_nested_with_path_urns(self) -> None:
        scheme = write_one(sample(CategoryScheme))
        assert [c.get("id") for c in scheme.iterfind(STR + "Category")] == ["A", "B"]
        a1a = one(scheme, f"{STR}Category[@id='A']/{STR}Category[@id='A1']/{STR}Category")
        assert a1a.get("urn") == f"{URN}.categoryscheme.Category=ILO:CAT_ILMS(1.0).A.A1.A1a"

    def test_organisations(self) -> None:
        agency = one(write_one(sample(AgencyScheme)), STR + "Agency")
        assert agency.get("urn") == f"{URN}.base.Agency=SDMX:AGENCIES(1.0).ILO"
        providers = write_one(sample(DataProviderScheme)).findall(STR + "DataProvider")
        assert [p.get("urn") for p in providers] == [
            f"{URN}.base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_NSO",
            f"{URN}.base.DataProvider=ILO:DATA_PROVIDERS(1.0).MYS_MOHR",
        ]

    def test_concept_representations(self) -> None:
        concepts = by_id(write_one(sample(ConceptScheme)), STR + "Concept")
        rep = one(concepts["SEX"], STR + "CoreRepresentation")
        assert localnames(rep) == ["Enumeration", "EnumerationFormat"]
        assert rep.findtext(STR + "Enumeration") == f"{URN}.codelist.Codelist=ILO:CL_SEX(1.0)"
        assert attrib_of(rep[1]) == {"textType": "String", "maxLength": "5"}
        note = concepts["NOTE"]
        assert localnames(note) == ["Name", "Parent", "CoreRepresentation"]
        assert note.findtext(STR + "Parent") == "OBS_VALUE"
        assert attrib_of(one(note, f"{STR}CoreRepresentation/{STR}TextFormat")) == {
            "textType": "String",
            "maxLength": "1000",
            "isMultiLingual": "true",
        }


class TestDataStructure:
    @pytest.fixture
    def comps(self) -> etree._Element:
        return one(write_one(sample(DataStructure)), STR + "DataStructureComponents")

    def test_lists(self, comps: etree._Element) -> None:
        assert localnames(comps) == ["DimensionList", "Group", "AttributeList", "MeasureList"]
        dims = one(comps, STR + "DimensionList")
        assert [(etree.QName(d).localname, attrib_of(d)) for d in dims] == [
            ("Dimension", {"id": "REF_AREA", "position": "1"}),
            ("Dimension", {"id": "SEX", "position": "2"}),
            ("TimeDimension", {"id": "TIME_PERIOD"}),
        ]
        assert dims[0].findtext(STR + "ConceptIdentity") == (
            f"{URN}.conceptscheme.Concept=ILO:CS_ILMS(1.0).REF_AREA"
        )
        assert dims[0].findtext(f"{STR}LocalRepresentation/{STR}Enumeration") == (
            f"{URN}.codelist.Codelist=ILO:CL_AREA(1.0)"
        )
        time_format = one(dims[2], f"{STR}LocalRepresentation/{STR}TextFormat")
        assert attrib_of(time_format) == {
            "textType": "ObservationalTimePeriod",
            "startTime": "2000",
        }

    def test_group(self, comps: etree._Element) -> None:
        group = one(comps, STR + "Group")
        assert group.get("id") == "SiblingGroup"
        assert [d.text for d in group.iter(STR + "DimensionReference")] == ["REF_AREA"]

    def test_attributes_and_every_attachment_level(self, comps: etree._Element) -> None:
        attrs = by_id(one(comps, STR + "AttributeList"), STR + "Attribute")
        assert attrs["OBS_STATUS"].get("usage") == "mandatory"
        assert attrs["UNIT_MEASURE"].get("usage") == "optional"

        def relationship(attr_id: str) -> list[tuple[str, str | None]]:
            rel = one(attrs[attr_id], STR + "AttributeRelationship")
            return [(etree.QName(c).localname, c.text) for c in rel]

        assert relationship("OBS_STATUS") == [("Observation", None)]
        assert relationship("UNIT_MEASURE") == [("Dataflow", None)]
        assert relationship("SOURCE") == [("Dimension", "REF_AREA"), ("Dimension", "TIME_PERIOD")]
        assert relationship("TITLE") == [("Group", "SiblingGroup")]
        multilingual = one(attrs["SOURCE"], f"{STR}LocalRepresentation/{STR}TextFormat")
        assert multilingual.get("isMultiLingual") == "true"

    def test_every_measure(self) -> None:
        dsd = sample(DataStructure)
        extra = Measure(
            id="OBS_CONF", concept=Ref(cls="Concept", agency="ILO", id="CS_ILMS", item="OBS_CONF")
        )
        el = write_one(msgspec.structs.replace(dsd, measures=(*dsd.measures, extra)))
        measures = one(el, f"{STR}DataStructureComponents/{STR}MeasureList")
        assert measures.get("id") == "MeasureDescriptor"
        assert [(etree.QName(m).localname, m.get("id")) for m in measures] == [
            ("Measure", "OBS_VALUE"),
            ("Measure", "OBS_CONF"),
        ]
        assert localnames(measures[0]) == ["Annotations", "ConceptIdentity", "LocalRepresentation"]


class TestOtherStructures:
    def test_dataflow(self) -> None:
        assert write_one(sample(Dataflow)).findtext(STR + "Structure") == (
            f"{URN}.datastructure.DataStructure=ILO:DSD_ILMS_STOCK(1.0)"
        )

    def test_categorisation(self) -> None:
        el = write_one(sample(Categorisation))
        assert [(etree.QName(c).localname, c.text) for c in el[-2:]] == [
            ("Source", f"{URN}.datastructure.Dataflow=ILO:DF_ILMS_T01(1.0)"),
            ("Target", f"{URN}.categoryscheme.Category=ILO:CAT_ILMS(1.0).A.A1"),
        ]

    def test_provision_agreement(self) -> None:
        el = write_one(sample(ProvisionAgreement))
        assert [(etree.QName(c).localname, c.text) for c in el[-2:]] == [
            ("Dataflow", f"{URN}.datastructure.Dataflow=ILO:DF_ILMS_T01(1.0)"),
            ("DataProvider", f"{URN}.base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_NSO"),
        ]

    def test_data_constraint(self) -> None:
        el = write_one(sample(ContentConstraint))
        assert el.tag == STR + "DataConstraint"
        assert el.get("role") == "Allowed"
        assert el.get("urn") == f"{URN}.registry.DataConstraint=ILO:CC_ILMS_T01(1.0)"
        assert el.findtext(f"{STR}ConstraintAttachment/{STR}Dataflow") == (
            f"{URN}.datastructure.Dataflow=ILO:DF_ILMS_T01(1.0)"
        )
        included, excluded = el.iterfind(STR + "CubeRegion")
        assert (included.get("include"), excluded.get("include")) == ("true", "false")
        values = {k.get("id"): [v.text for v in k.iterfind(STR + "Value")] for k in included}
        assert values == {
            "REF_AREA": ["THA", "MYS"],
            "SEX": ["SEX_T", "SEX_M", "SEX_F"],
            "TIME_PERIOD": [],
        }
        time_range = one(included, f"{STR}KeyValue[@id='TIME_PERIOD']/{STR}TimeRange")
        assert [(etree.QName(p).localname, p.text, p.get("isInclusive")) for p in time_range] == [
            ("StartPeriod", "2000", "true"),
            ("EndPeriod", "2024", "true"),
        ]
        assert one(excluded, f".//{STR}AfterPeriod").text == "2023"

    def test_actual_constraint_on_a_provider(self) -> None:
        el = write_one(actual_constraint())
        assert el.get("role") == "Actual"
        assert el.findtext(f"{STR}ConstraintAttachment/{STR}DataProvider") == ref_urn(PROVIDER)
        assert one(el, f".//{STR}TimeRange/{STR}BeforePeriod").text == "2024"

    def test_three_regions_become_two(self) -> None:
        regions = (
            CubeRegion(key_values={"REF_AREA": ("THA",), "SEX": ("SEX_T",)}, time_start="2001"),
            CubeRegion(include=False, key_values={"SEX": ("SEX_O",)}),
            CubeRegion(key_values={"REF_AREA": ("MYS",), "AGE": ("Y15",)}, time_start="2000"),
        )
        constraint = msgspec.structs.replace(actual_constraint(), cube_regions=regions)
        included, excluded = write_one(constraint).iterfind(STR + "CubeRegion")
        values = {k.get("id"): [v.text for v in k.iterfind(STR + "Value")] for k in included}
        assert values == {"REF_AREA": ["THA", "MYS"], "TIME_PERIOD": []}
        assert one(included, f".//{STR}AfterPeriod").text == "2000"
        assert excluded.get("include") == "false"


class TestMergeRegions:
    def test_one_region_per_kind_is_kept(self) -> None:
        regions = (CubeRegion(key_values={"A": ("1",)}), CubeRegion(include=False))
        assert merge_regions(regions) == list(regions)

    def test_bounding_cube(self) -> None:
        merged = merge_regions(
            (
                CubeRegion(
                    key_values={"A": ("1", "2"), "B": ("x",)}, time_start="2001", time_end="2010"
                ),
                CubeRegion(
                    key_values={"A": ("2", "3"), "C": ("y",)}, time_start="2000", time_end="2005"
                ),
            )
        )
        assert merged == [
            CubeRegion(key_values={"A": ("1", "2", "3")}, time_start="2000", time_end="2010")
        ]

    def test_an_open_time_bound_stays_open(self) -> None:
        merged = merge_regions(
            (CubeRegion(time_start="2001", time_end="2010"), CubeRegion(time_end="2020"))
        )
        assert merged == [CubeRegion(time_end="2020")]


class TestUrns:
    def test_content_constraint_is_a_data_constraint(self) -> None:
        ref = Ref(cls="ContentConstraint", agency="ILO", id="CC")
        assert ref_urn(ref) == f"{URN}.registry.DataConstraint=ILO:CC(1.0)"

    def test_unknown_class(self) -> None:
        with pytest.raises(ValueError, match="Widget"):
            ref_urn(Ref(cls="Widget", agency="ILO", id="W"))


# --- error messages -----------------------------------------------------------------------


class TestError:
    def test_error_message(self) -> None:
        xml = WRITER.write_error(NoResultsFound("no dataflow DF_NOPE"), header=HEADER)
        validate_sdmx_ml(xml, "3.0")
        root = tree(xml)
        assert root.tag == MES + "Error"
        message = one(root, MES + "ErrorMessage")
        assert attrib_of(message) == {"code": "100"}
        text = one(message, COM + "Text")
        assert (text.get(XML_LANG), text.text) == (None, "No Results Found: no dataflow DF_NOPE")

    def test_error_read_by_pysdmx(self) -> None:
        xml = WRITER.write_error(QuerySyntaxError("bad key"), header=HEADER)
        with pytest.raises(Invalid, match="140: Syntax error: bad key$"):
            read_sdmx(xml.decode())


# --- the ILO specimen ---------------------------------------------------------------------

Texts = list[tuple[str | None, str | None]]


def _texts(el: etree._Element, tag: str) -> Texts:
    return [(t.get(XML_LANG), t.text) for t in el.iterfind(tag)]


def _canon(el: etree._Element, com: str, parent: str | None) -> tuple[object, ...]:
    """What an item or artefact says, the same way for SDMX-ML 2.1 and 3.0."""
    annotations = [
        (
            a.get("id"),
            a.findtext(com + "AnnotationTitle"),
            a.findtext(com + "AnnotationType"),
            a.findtext(com + "AnnotationURL"),
            _texts(a, com + "AnnotationText"),
        )
        for a in el.iterfind(f"{com}Annotations/{com}Annotation")
    ]
    names = _texts(el, com + "Name")
    return el.get("id"), names, _texts(el, com + "Description"), annotations, parent


def _canon_21(el: etree._Element) -> tuple[object, ...]:
    parent = el.find(f"{STR21}Parent/Ref")
    return _canon(el, COM21, None if parent is None else parent.get("id"))


def _canon_30(el: etree._Element) -> tuple[object, ...]:
    return _canon(el, COM, el.findtext(STR + "Parent"))


@pytest.fixture(scope="module")
def ilo_xml() -> bytes:
    return write(*ilo_artefacts())


@pytest.fixture(scope="module")
def ilo_written(ilo_xml: bytes) -> etree._Element:
    validate_sdmx_ml(ilo_xml, "3.0")
    return one(tree(ilo_xml), MES + "Structures")


@requires_shared
class TestIloSpecimen:
    """The 3.0 message says what the ILO 2.1 specimen says."""

    @pytest.mark.parametrize(
        ("scheme", "item"), [("Codelist", "Code"), ("ConceptScheme", "Concept")]
    )
    def test_every_item_same(self, ilo_written: etree._Element, scheme: str, item: str) -> None:
        written = by_id(ilo_written, STR + scheme)
        expected = by_id(ilo_specimen(), STR21 + scheme)
        assert list(written) == list(expected)
        for id_, want in expected.items():
            got = written[id_]
            assert _canon_30(got) == _canon_21(want), id_
            got_items = [_canon_30(e) for e in got.iterfind(STR + item)]
            assert got_items == [_canon_21(e) for e in want.iterfind(STR21 + item)], id_

    def test_named_artefacts(self, ilo_written: etree._Element) -> None:
        codelists = by_id(ilo_written, STR + "Codelist")
        assert len(codelists["CL_AREA"].findall(STR + "Code")) == 331
        male = one(codelists["CL_SEX"], f"{STR}Code[@id='SEX_M']")
        assert _texts(male, COM + "Name") == [("en", "Male"), ("fr", "Hommes"), ("es", "Hombres")]
        assert (
            one(codelists["CL_ECO"], f"{STR}Code[@id='ECO_ISIC4_A']/{STR}Parent").text
            == "ECO_ISIC4"
        )
        ilostat = by_id(ilo_written, STR + "ConceptScheme")["CS_ILOSTAT"]
        assert ilostat.findtext(f"{STR}Concept[@id='REF_AREA']//{STR}Enumeration") == (
            f"{URN}.codelist.Codelist=ILO:CL_AREA(1.0)"
        )

    def test_data_structure(self, ilo_written: etree._Element) -> None:
        dsd = ilo(DataStructure, "IMF_ILOSTAT")
        comps = one(
            ilo_written, f"{STR}DataStructures/{STR}DataStructure/{STR}DataStructureComponents"
        )
        dims = one(comps, STR + "DimensionList")
        assert [d.get("id") for d in dims] == [d.id for d in dsd.dimensions]
        assert [d.findtext(STR + "ConceptIdentity") for d in dims] == [
            ref_urn(d.concept) for d in dsd.dimensions
        ]
        assert dims[-1].tag == STR + "TimeDimension"
        source = one(
            comps, f"{STR}AttributeList/{STR}Attribute[@id='SOURCE']/{STR}AttributeRelationship"
        )
        assert [d.text for d in source] == ["REF_AREA", "MEASURE", "TIME_PERIOD"]
        attrs = comps.iterfind(f"{STR}AttributeList/{STR}Attribute")
        assert [a.get("id") for a in attrs] == [a.id for a in dsd.attributes]
        assert [m.get("id") for m in comps.iterfind(f"{STR}MeasureList/{STR}Measure")] == [
            "OBS_VALUE"
        ]


# --- real SDMX clients --------------------------------------------------------------------


@requires_shared
class TestClientsReadIloOutput:
    def test_sdmx1(self, ilo_xml: bytes) -> None:
        msg = sdmx.read_sdmx(io.BytesIO(ilo_xml))
        codelists = [a for a in ilo_artefacts() if isinstance(a, Codelist)]
        assert {k: len(v) for k, v in msg.codelist.items()} == {
            c.id: len(c.items) for c in codelists
        }
        for codelist in codelists:
            assert msg.codelist[codelist.id].name.localizations == codelist.names
        assert msg.codelist["CL_SEX"]["SEX_M"].name.localizations["es"] == "Hombres"
        assert msg.codelist["CL_ECO"]["ECO_ISIC4_A"].parent.id == "ECO_ISIC4"
        assert set(msg.concept_scheme) == {"CS_CLASSIF_TYPE", "CS_ILOSTAT", "CS_NOTE_TYPE"}
        dimensions = msg.structure["IMF_ILOSTAT"].dimensions
        assert [d.id for d in dimensions] == [
            d.id for d in ilo(DataStructure, "IMF_ILOSTAT").dimensions
        ]

    def test_pysdmx(self, ilo_xml: bytes) -> None:
        structures = {s.id: s for s in read_sdmx(ilo_xml.decode()).structures}
        for codelist in (a for a in ilo_artefacts() if isinstance(a, Codelist)):
            read = structures[codelist.id]
            assert read.name == codelist.names["en"]
            assert [c.id for c in read.items] == [c.id for c in codelist.items]
        concepts = ilo(ConceptScheme, "CS_ILOSTAT").items
        assert [c.id for c in structures["CS_ILOSTAT"].items] == [c.id for c in concepts]
        components = structures["IMF_ILOSTAT"].components
        assert [c.id for c in components][:3] == ["REF_AREA", "FREQ", "MEASURE"]


def _without_group_or_dataset_attributes(artefact: Artefact) -> Artefact:
    if not isinstance(artefact, DataStructure):
        return artefact
    levels = ("dimensions", "observation")
    kept = tuple(a for a in artefact.attributes if a.relationship.level in levels)
    return msgspec.structs.replace(artefact, attributes=kept)


class TestClientsReadSamples:
    def test_sdmx1(self) -> None:
        """What sdmx1 2.28's SDMX-ML 3.0 reader cannot take is left out.

        It stops at ``DataProviderSchemes`` and at an attribute attached to a group
        (``AttributeError: Measure``), and takes the dataflow URN of a constraint
        attachment or a provision agreement, and the empty ``<Dataflow/>`` of a data set
        attribute's relationship, for nameless dataflow definitions.
        """
        unreadable = (DataProviderScheme, ContentConstraint, ProvisionAgreement)
        readable = [_without_group_or_dataset_attributes(a) for a in client_readable()]
        readable = [a for a in readable if not isinstance(a, unreadable)]
        msg = sdmx.read_sdmx(io.BytesIO(write(*readable)))
        assert set(msg.codelist) == {"CL_SEX", "CL_AREA", "CL_OBS_STATUS"}
        assert list(msg.codelist["CL_SEX"]) == ["SEX_T", "SEX_M", "SEX_F"]
        assert msg.codelist["CL_SEX"]["SEX_M"].parent.id == "SEX_T"
        assert set(msg.dataflow) == {"DF_ILMS_T01"}
        dsd = msg.structure["DSD_ILMS_STOCK"]
        assert [d.id for d in dsd.dimensions] == ["REF_AREA", "SEX", "TIME_PERIOD"]
        assert [a.id for a in dsd.attributes] == ["OBS_STATUS", "SOURCE"]
        assert msg.dataflow["DF_ILMS_T01"].structure is dsd
        assert set(msg.categorisation) == {"CAT_DF_ILMS_T01"}
        assert msg.category_scheme["CAT_ILMS"]["A1a"].parent.id == "A1"
        assert {s.id for s in msg.organisation_scheme.values()} == {"AGENCIES"}

    def test_pysdmx(self) -> None:
        structures = read_sdmx(write(*client_readable()).decode()).structures
        found = {(type(s).__name__, s.id) for s in structures}
        assert {
            ("Codelist", "CL_SEX"),
            ("ConceptScheme", "CS_ILMS"),
            ("CategoryScheme", "CAT_ILMS"),
            ("DataStructureDefinition", "DSD_ILMS_STOCK"),
            ("Dataflow", "DF_ILMS_T01"),
        } <= found
        codelist = next(s for s in structures if s.id == "CL_SEX")
        assert [c.id for c in codelist.items] == ["SEX_T", "SEX_M", "SEX_F"]


# --- performance and thread safety --------------------------------------------------------


def test_one_writer_shared_by_threads() -> None:
    artefacts = tuple(sample_artefacts().values())
    expected = write(*artefacts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = set(pool.map(lambda _: write(*artefacts), range(32)))
    assert outputs == {expected}


def test_representation_without_anything_is_left_out() -> None:
    scheme = sample(ConceptScheme)
    bare = msgspec.structs.replace(scheme.items[0], core_representation=Representation())
    el = write_one(msgspec.structs.replace(scheme, items=(bare,)))
    assert localnames(one(el, STR + "Concept")) == ["Name"]
