"""Tests for the SDMX-ML 2.1 structure writer.

Also home of what both SDMX-ML writer tests use: ``sample_artefacts()`` (one artefact of
every model class, hand-built), ``ilo_artefacts()`` (the ILO specimen's codelists, concept
schemes and DSD, parsed here with lxml) and ``client_readable()``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import msgspec
import pytest
import sdmx
from lxml import etree
from pysdmx.errors import Invalid
from pysdmx.io import read_sdmx

from service.errors import NoResultsFound, QuerySyntaxError
from service.formats.base import Header, Lang
from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter
from service.model import (
    Agency,
    AgencyScheme,
    Annotation,
    Attribute,
    AttributeRelationship,
    Categorisation,
    Category,
    CategoryScheme,
    Code,
    Codelist,
    Concept,
    ConceptScheme,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProvider,
    DataProviderScheme,
    DataStructure,
    Dimension,
    Group,
    MaintainableArtefact,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.types import Artefact
from tests.shared import ILO_SPECIMEN, requires_shared
from tests.xsd import validate_sdmx_ml

MES = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message}"
STR = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure}"
COM = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

HEADER = Header(id="IDREF42", prepared=dt.datetime(2026, 5, 18, 10, 40, 7, tzinfo=dt.UTC))
LANG = Lang()
WRITER = SdmxMl21StructureWriter()

A = TypeVar("A")
M = TypeVar("M", bound=MaintainableArtefact)


# --- shared artefacts (also used by test_sdmx_ml_30_structure) ----------------------------


def _concept(item: str) -> Ref:
    return Ref(cls="Concept", agency="ILO", id="CS_ILMS", item=item)


def _codelist_ref(id_: str) -> Ref:
    return Ref(cls="Codelist", agency="ILO", id=id_)


ANNOTATIONS = (
    Annotation(id="@SDMX", title="10010", type="ORDER"),
    Annotation(
        id="note",
        title="Sources",
        type="NOTE",
        url="https://ilostat.ilo.org/methods/",
        text={"en": "Labour force survey", "fr": "Enquête sur la population active"},
        value="LFS",
    ),
)
PROVIDER = Ref(cls="DataProvider", agency="ILO", id="DATA_PROVIDERS", item="THA_NSO")


def sample_artefacts() -> dict[str, Artefact]:
    """One artefact of every model class, by class name, with every optional feature used."""
    codelist = Codelist(
        agency="ILO",
        id="CL_SEX",
        names={"en": "Sex", "fr": "Sexe", "es": "Sexo"},
        descriptions={"en": "Sex of the person", "fr": "Sexe de la personne"},
        annotations=ANNOTATIONS,
        valid_from="2020-01-01T00:00:00",
        valid_to="2030-12-31T23:59:59",
        items=(
            Code(id="SEX_T", names={"en": "Total", "fr": "Total"}, annotations=ANNOTATIONS),
            Code(id="SEX_M", names={"en": "Male"}, descriptions={"en": "Men"}, parent="SEX_T"),
            Code(id="SEX_F", names={"en": "Female"}, parent="SEX_T"),
        ),
    )
    concepts = ConceptScheme(
        agency="ILO",
        id="CS_ILMS",
        names={"en": "ILMS concepts"},
        items=(
            Concept(
                id="REF_AREA",
                names={"en": "Reference area"},
                core_representation=Representation(enumeration=_codelist_ref("CL_AREA")),
            ),
            Concept(
                id="SEX",
                names={"en": "Sex"},
                core_representation=Representation(
                    enumeration=_codelist_ref("CL_SEX"),
                    text_type="String",
                    facets={"maxLength": "5"},
                ),
            ),
            Concept(
                id="TIME_PERIOD",
                names={"en": "Time"},
                core_representation=Representation(text_type="ObservationalTimePeriod"),
            ),
            Concept(id="OBS_VALUE", names={"en": "Value"}, annotations=ANNOTATIONS),
            Concept(id="OBS_STATUS", names={"en": "Observation status"}),
            Concept(id="UNIT_MEASURE", names={"en": "Unit of measure"}),
            Concept(id="SOURCE", names={"en": "Source"}),
            Concept(id="TITLE", names={"en": "Title"}),
            Concept(
                id="NOTE",
                names={"en": "Note"},
                parent="OBS_VALUE",
                core_representation=Representation(
                    text_type="String", facets={"maxLength": "1000", "isMultiLingual": "true"}
                ),
            ),
        ),
    )
    categories = CategoryScheme(
        agency="ILO",
        id="CAT_ILMS",
        names={"en": "ILMS topics"},
        items=(
            Category(id="A", names={"en": "Stocks"}),
            Category(id="A1", names={"en": "Population"}, parent="A"),
            Category(id="A1a", names={"en": "By age"}, parent="A1"),
            Category(id="B", names={"en": "Flows"}, annotations=ANNOTATIONS),
            Category(id="A2", names={"en": "Employment"}, parent="A"),
        ),
    )
    agencies = AgencyScheme(
        agency="SDMX",
        id="AGENCIES",
        names={"en": "SDMX agencies"},
        items=(Agency(id="ILO", names={"en": "International Labour Organization"}),),
    )
    providers = DataProviderScheme(
        agency="ILO",
        id="DATA_PROVIDERS",
        names={"en": "ILMS focal points"},
        items=(
            DataProvider(id="THA_NSO", names={"en": "Thailand NSO"}),
            DataProvider(id="MYS_MOHR", names={"en": "Malaysia MOHR"}, descriptions={"en": "x"}),
        ),
    )
    dsd = DataStructure(
        agency="ILO",
        id="DSD_ILMS_STOCK",
        names={"en": "ILMS stocks"},
        annotations=ANNOTATIONS,
        dimensions=(
            Dimension(
                id="REF_AREA",
                position=1,
                concept=_concept("REF_AREA"),
                representation=Representation(enumeration=_codelist_ref("CL_AREA")),
                annotations=ANNOTATIONS,
            ),
            Dimension(
                id="SEX",
                position=2,
                concept=_concept("SEX"),
                representation=Representation(enumeration=_codelist_ref("CL_SEX")),
            ),
            Dimension(
                id="TIME_PERIOD",
                position=3,
                concept=_concept("TIME_PERIOD"),
                kind="time",
                representation=Representation(
                    text_type="ObservationalTimePeriod",
                    facets={"startTime": "2000", "maxLength": "4"},
                ),
            ),
        ),
        groups=(Group(id="SiblingGroup", dimensions=("REF_AREA",), annotations=ANNOTATIONS),),
        attributes=(
            Attribute(
                id="OBS_STATUS",
                concept=_concept("OBS_STATUS"),
                relationship=AttributeRelationship(level="observation"),
                representation=Representation(enumeration=_codelist_ref("CL_OBS_STATUS")),
                mandatory=True,
                annotations=ANNOTATIONS,
            ),
            Attribute(
                id="UNIT_MEASURE",
                concept=_concept("UNIT_MEASURE"),
                relationship=AttributeRelationship(level="dataset"),
            ),
            Attribute(
                id="SOURCE",
                concept=_concept("SOURCE"),
                relationship=AttributeRelationship(
                    level="dimensions",
                    dimensions=("REF_AREA", "TIME_PERIOD"),
                    attachment_group="SiblingGroup",
                ),
                representation=Representation(
                    text_type="String", facets={"maxLength": "1000", "isMultiLingual": "true"}
                ),
            ),
            Attribute(
                id="TITLE",
                concept=_concept("TITLE"),
                relationship=AttributeRelationship(level="group", group="SiblingGroup"),
            ),
        ),
        measures=(
            Measure(
                id="OBS_VALUE",
                concept=_concept("OBS_VALUE"),
                representation=Representation(text_type="Double"),
                annotations=ANNOTATIONS,
            ),
        ),
    )
    dataflow = Dataflow(
        agency="ILO",
        id="DF_ILMS_T01",
        names={"en": "ILMS table 1"},
        descriptions={"en": "Resident population"},
        structure=dsd.ref(),
    )
    constraint = ContentConstraint(
        agency="ILO",
        id="CC_ILMS_T01",
        names={"en": "Table 1 codes"},
        role="Allowed",
        attachment=(dataflow.ref(),),
        cube_regions=(
            CubeRegion(
                key_values={"REF_AREA": ("THA", "MYS"), "SEX": ("SEX_T", "SEX_M", "SEX_F")},
                time_start="2000",
                time_end="2024",
            ),
            CubeRegion(include=False, key_values={"REF_AREA": ("MYS",)}, time_start="2023"),
        ),
    )
    agreement = ProvisionAgreement(
        agency="ILO",
        id="PA_THA_NSO_T01",
        names={"en": "Thailand NSO reports table 1"},
        dataflow=dataflow.ref(),
        provider=PROVIDER,
    )
    categorisation = Categorisation(
        agency="ILO",
        id="CAT_DF_ILMS_T01",
        names={"en": "Table 1 is a stock"},
        source=dataflow.ref(),
        target=Ref(cls="Category", agency="ILO", id="CAT_ILMS", item="A.A1"),
    )
    artefacts: tuple[Artefact, ...] = (
        codelist,
        concepts,
        categories,
        agencies,
        providers,
        dsd,
        dataflow,
        constraint,
        agreement,
        categorisation,
    )
    return {type(a).__name__: a for a in artefacts}


def sample(cls: type[A]) -> A:
    """The sample artefact of a class, typed."""
    artefact = sample_artefacts()[cls.__name__]
    assert isinstance(artefact, cls)
    return artefact


def actual_constraint() -> ContentConstraint:
    """An Actual constraint attached to a data provider, with an open-ended time range."""
    return ContentConstraint(
        agency="ILO",
        id="CC_THA_NSO_ACTUAL",
        names={"en": "Reported by Thailand NSO"},
        role="Actual",
        attachment=(PROVIDER,),
        cube_regions=(CubeRegion(key_values={"REF_AREA": ("THA",)}, time_end="2024"),),
    )


def stub(artefact: M) -> M:
    url = f"https://ilms.example.org/{artefact.id}"
    return msgspec.structs.replace(artefact, is_stub=True, structure_url=url)


def client_readable() -> list[Artefact]:
    """Every class, minus what the installed clients cannot read, plus what they need.

    - sdmx1 2.28 reads no ``BeforePeriod``/``AfterPeriod`` (2.1) and no 3.0 ``TimeRange``;
    - pysdmx 1.20 reads no annotations on groups and no 3.0 ``AnnotationValue``;
    - pysdmx needs the codelists that concepts and components refer to.
    """
    samples = sample_artefacts()
    dsd = sample(DataStructure)
    groups = tuple(msgspec.structs.replace(g, annotations=()) for g in dsd.groups)
    samples["DataStructure"] = msgspec.structs.replace(dsd, groups=groups)
    constraint = sample(ContentConstraint)
    regions = tuple(
        msgspec.structs.replace(r, time_start=None, time_end=None) for r in constraint.cube_regions
    )
    samples["ContentConstraint"] = msgspec.structs.replace(constraint, cube_regions=regions)
    extra = [
        Codelist(agency="ILO", id=id_, names={"en": id_}, items=(Code(id="A", names={"en": "A"}),))
        for id_ in ("CL_AREA", "CL_OBS_STATUS")
    ]
    return [_without_annotation_values(a) for a in (*samples.values(), *extra)]


def _without_annotation_values(artefact: Artefact) -> Artefact:
    def strip(annotations: tuple[Annotation, ...]) -> tuple[Annotation, ...]:
        return tuple(msgspec.structs.replace(a, value=None) for a in annotations)

    changes: dict[str, Any] = {"annotations": strip(artefact.annotations)}
    items = getattr(artefact, "items", None)
    if items is not None:
        changes["items"] = tuple(
            msgspec.structs.replace(i, annotations=strip(i.annotations)) for i in items
        )
    return msgspec.structs.replace(artefact, **changes)


# --- XML helpers --------------------------------------------------------------------------


def tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, parser=etree.XMLParser(huge_tree=True))


def one(el: etree._Element, path: str) -> etree._Element:
    """The element at ``path``, which must exist."""
    found = el.find(path)
    assert found is not None, path
    return found


def attrib_of(el: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items()}


def localnames(el: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in el]


def c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n")


def by_id(parent: etree._Element, tag: str) -> dict[str, etree._Element]:
    return {el.get("id", ""): el for el in parent.iter(tag)}


# --- the ILO specimen, parsed with lxml ---------------------------------------------------


def _texts(el: etree._Element, tag: str) -> dict[str, str]:
    return {t.get(XML_LANG, "en"): t.text or "" for t in el.iterfind(COM + tag)}


def _annotations(el: etree._Element) -> tuple[Annotation, ...]:
    return tuple(
        Annotation(
            id=a.get("id"),
            title=a.findtext(COM + "AnnotationTitle"),
            type=a.findtext(COM + "AnnotationType"),
            url=a.findtext(COM + "AnnotationURL"),
            text=_texts(a, "AnnotationText"),
        )
        for a in el.iterfind(f"{COM}Annotations/{COM}Annotation")
    )


def _ref(el: etree._Element) -> Ref:
    r = one(el, "Ref")
    cls, agency = r.get("class", ""), r.get("agencyID", "")
    if parent := r.get("maintainableParentID"):
        version = r.get("maintainableParentVersion", "1.0")
        return Ref(cls=cls, agency=agency, id=parent, version=version, item=r.get("id"))
    return Ref(cls=cls, agency=agency, id=r.get("id", ""), version=r.get("version", "1.0"))


def _representation(el: etree._Element | None) -> Representation | None:
    if el is None:
        return None
    if (enum := el.find(STR + "Enumeration")) is not None:
        return Representation(enumeration=_ref(enum))
    fmt = one(el, STR + "TextFormat")
    facets = {k: v for k, v in attrib_of(fmt).items() if k != "textType"}
    return Representation(text_type=fmt.get("textType"), facets=facets)


def _parent(el: etree._Element) -> str | None:
    parent = el.find(STR + "Parent")
    return None if parent is None else _ref(parent).id


def _nameable(make: Callable[..., A], el: etree._Element, **fields: Any) -> A:
    return make(
        names=_texts(el, "Name"),
        descriptions=_texts(el, "Description"),
        annotations=_annotations(el),
        **fields,
    )


def _maintainable(make: Callable[..., A], el: etree._Element, **fields: Any) -> A:
    return _nameable(
        make,
        el,
        agency=el.get("agencyID", ""),
        id=el.get("id", ""),
        version=el.get("version", "1.0"),
        **fields,
    )


def _parse_codelist(el: etree._Element) -> Codelist:
    codes = tuple(
        _nameable(Code, c, id=c.get("id", ""), parent=_parent(c)) for c in el.iterfind(STR + "Code")
    )
    return _maintainable(Codelist, el, items=codes)


def _parse_concept_scheme(el: etree._Element) -> ConceptScheme:
    concepts = tuple(
        _nameable(
            Concept,
            c,
            id=c.get("id", ""),
            parent=_parent(c),
            core_representation=_representation(c.find(STR + "CoreRepresentation")),
        )
        for c in el.iterfind(STR + "Concept")
    )
    return _maintainable(ConceptScheme, el, items=concepts)


def _parse_relationship(el: etree._Element) -> AttributeRelationship:
    if el.find(STR + "PrimaryMeasure") is not None:
        return AttributeRelationship(level="observation")
    if (group := el.find(STR + "Group")) is not None:
        return AttributeRelationship(level="group", group=_ref(group).id)
    if dims := tuple(_ref(d).id for d in el.iterfind(STR + "Dimension")):
        return AttributeRelationship(level="dimensions", dimensions=dims)
    return AttributeRelationship(level="dataset")


def _parse_dimension(el: etree._Element) -> Dimension:
    return Dimension(
        id=el.get("id", ""),
        position=int(el.get("position", "0")),
        concept=_ref(one(el, STR + "ConceptIdentity")),
        representation=_representation(el.find(STR + "LocalRepresentation")),
        kind="time" if el.tag == STR + "TimeDimension" else "dimension",
    )


def _parse_attribute(el: etree._Element) -> Attribute:
    return Attribute(
        id=el.get("id", ""),
        concept=_ref(one(el, STR + "ConceptIdentity")),
        relationship=_parse_relationship(one(el, STR + "AttributeRelationship")),
        representation=_representation(el.find(STR + "LocalRepresentation")),
        mandatory=el.get("assignmentStatus") == "Mandatory",
    )


def _parse_dsd(el: etree._Element) -> DataStructure:
    comps = one(el, STR + "DataStructureComponents")
    measures = comps.iterfind(f"{STR}MeasureList/{STR}PrimaryMeasure")
    return _maintainable(
        DataStructure,
        el,
        dimensions=tuple(map(_parse_dimension, comps.iterfind(f"{STR}DimensionList/*"))),
        attributes=tuple(
            map(_parse_attribute, comps.iterfind(f"{STR}AttributeList/{STR}Attribute"))
        ),
        measures=tuple(
            Measure(id=m.get("id", ""), concept=_ref(one(m, STR + "ConceptIdentity")))
            for m in measures
        ),
    )


@cache
def ilo_specimen() -> etree._Element:
    """The ILO specimen's ``message:Structures``, blank text removed."""
    parser = etree.XMLParser(remove_blank_text=True, huge_tree=True)
    return one(etree.parse(str(ILO_SPECIMEN), parser).getroot(), MES + "Structures")


_PARSERS: dict[str, Callable[[etree._Element], Artefact]] = {
    "Codelist": _parse_codelist,
    "ConceptScheme": _parse_concept_scheme,
    "DataStructure": _parse_dsd,
}


@cache
def ilo_artefacts() -> tuple[Artefact, ...]:
    """Every codelist, concept scheme and DSD of the ILO specimen, in document order."""
    return tuple(_PARSERS[etree.QName(el).localname](el) for el in ilo_specimen().iterfind("*/*"))


def ilo(cls: type[A], id_: str) -> A:
    """An artefact of the ILO specimen, typed."""
    artefact = next(a for a in ilo_artefacts() if a.id == id_)
    assert isinstance(artefact, cls)
    return artefact


# --- the message --------------------------------------------------------------------------


def write(*artefacts: Artefact) -> bytes:
    return WRITER.write_structures(artefacts, header=HEADER, lang=LANG)


class TestMessage:
    def test_media_type(self) -> None:
        assert SdmxMl21StructureWriter.media_type == (
            "application/vnd.sdmx.structure+xml;version=2.1"
        )

    def test_declaration_and_root(self) -> None:
        xml = write()
        assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
        assert tree(xml).tag == MES + "Structure"
        validate_sdmx_ml(xml, "2.1")

    def test_header(self) -> None:
        header = one(tree(write()), MES + "Header")
        assert localnames(header) == ["ID", "Test", "Prepared", "Sender"]
        assert header.findtext(MES + "ID") == "IDREF42"
        assert header.findtext(MES + "Test") == "false"
        assert header.findtext(MES + "Prepared") == "2026-05-18T10:40:07Z"
        assert attrib_of(one(header, MES + "Sender")) == {"id": "ILO"}

    def test_header_test_flag_and_offset(self) -> None:
        prepared = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        header = Header(id="X1", prepared=prepared, sender="ILO_TEST", test=True)
        root = tree(WRITER.write_structures([], header=header, lang=LANG))
        assert root.findtext(f"{MES}Header/{MES}Test") == "true"
        assert root.findtext(f"{MES}Header/{MES}Prepared") == "2026-01-02T03:04:05+02:00"
        assert one(root, f"{MES}Header/{MES}Sender").get("id") == "ILO_TEST"

    def test_containers_in_schema_order_and_artefacts_in_given_order(self) -> None:
        second = msgspec.structs.replace(sample(Codelist), id="CL_AAA")
        root = tree(write(*reversed(sample_artefacts().values()), second, actual_constraint()))
        assert localnames(one(root, MES + "Structures")) == [
            "OrganisationSchemes",
            "Dataflows",
            "CategorySchemes",
            "Categorisations",
            "Codelists",
            "Concepts",
            "DataStructures",
            "Constraints",
            "ProvisionAgreements",
        ]
        codelists = root.iterfind(f"{MES}Structures/{STR}Codelists/{STR}Codelist")
        assert [c.get("id") for c in codelists] == ["CL_SEX", "CL_AAA"]
        schemes = one(root, f"{MES}Structures/{STR}OrganisationSchemes")
        assert localnames(schemes) == ["DataProviderScheme", "AgencyScheme"]
        constraints = root.iterfind(f"{MES}Structures/{STR}Constraints/*")
        assert [c.get("id") for c in constraints] == ["CC_ILMS_T01", "CC_THA_NSO_ACTUAL"]

    def test_unknown_class_is_refused(self) -> None:
        with pytest.raises(TypeError, match="Annotation"):
            write(Annotation(id="x"))  # type: ignore[arg-type]


# --- XSD validity -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(sample_artefacts()))
def test_each_class_is_xsd_valid(name: str) -> None:
    validate_sdmx_ml(write(sample_artefacts()[name]), "2.1")


@pytest.mark.parametrize("name", sorted(sample_artefacts()))
def test_each_class_as_stub_is_xsd_valid(name: str) -> None:
    validate_sdmx_ml(write(stub(sample_artefacts()[name])), "2.1")


def test_everything_together_is_xsd_valid() -> None:
    validate_sdmx_ml(write(*sample_artefacts().values(), actual_constraint()), "2.1")


def test_validator_rejects_what_the_xsd_forbids() -> None:
    """The XSD helper can fail: a codelist without a name is not SDMX-ML 2.1."""
    root = tree(write(sample(Codelist)))
    codelist = one(root, f"{MES}Structures/{STR}Codelists/{STR}Codelist")
    for name in codelist.findall(COM + "Name"):
        codelist.remove(name)
    with pytest.raises(AssertionError, match="Name"):
        validate_sdmx_ml(etree.tostring(root), "2.1")


# --- maintainable artefacts and items -----------------------------------------------------

_CONTAINERS = {
    AgencyScheme: "OrganisationSchemes",
    DataProviderScheme: "OrganisationSchemes",
    ConceptScheme: "Concepts",
    ContentConstraint: "Constraints",
    CategoryScheme: "CategorySchemes",
}


def write_one(artefact: Artefact) -> etree._Element:
    """The element of ``artefact``, written alone (the message is checked against the XSD)."""
    xml = write(artefact)
    validate_sdmx_ml(xml, "2.1")
    container = _CONTAINERS.get(type(artefact), type(artefact).__name__ + "s")
    (el,) = one(tree(xml), f"{MES}Structures/{STR}{container}")
    return el


class TestMaintainable:
    def test_attributes(self) -> None:
        assert attrib_of(write_one(sample(Codelist))) == {
            "id": "CL_SEX",
            "urn": "urn:sdmx:org.sdmx.infomodel.codelist.Codelist=ILO:CL_SEX(1.0)",
            "agencyID": "ILO",
            "version": "1.0",
            "validFrom": "2020-01-01T00:00:00",
            "validTo": "2030-12-31T23:59:59",
            "isFinal": "true",
        }

    def test_names_descriptions_annotations(self) -> None:
        el = write_one(sample(Codelist))
        assert localnames(el)[:6] == ["Annotations", "Name", "Name", "Name"] + ["Description"] * 2
        assert [(n.get(XML_LANG), n.text) for n in el.iterfind(COM + "Name")] == [
            ("en", "Sex"),
            ("fr", "Sexe"),
            ("es", "Sexo"),
        ]
        order, note = el.iterfind(f"{COM}Annotations/{COM}Annotation")
        assert attrib_of(order) == {"id": "@SDMX"}
        assert localnames(order) == ["AnnotationTitle", "AnnotationType"]
        assert note.get("id") == "note"
        assert localnames(note) == [
            "AnnotationTitle",
            "AnnotationType",
            "AnnotationURL",
            "AnnotationText",
            "AnnotationText",
        ]
        assert note.findtext(COM + "AnnotationURL") == "https://ilostat.ilo.org/methods/"
        texts = [(t.get(XML_LANG), t.text) for t in note.iterfind(COM + "AnnotationText")]
        assert texts == [("en", "Labour force survey"), ("fr", "Enquête sur la population active")]

    def test_not_final_and_partial(self) -> None:
        el = write_one(msgspec.structs.replace(sample(Codelist), is_final=False, is_partial=True))
        assert (el.get("isFinal"), el.get("isPartial")) == ("false", "true")

    def test_partial_codelist(self) -> None:
        codelist = sample(Codelist)
        partial = msgspec.structs.replace(codelist, is_partial=True, items=codelist.items[1:2])
        el = write_one(partial)
        assert el.get("isPartial") == "true"
        assert [c.get("id") for c in el.iterfind(STR + "Code")] == ["SEX_M"]

    def test_organisation_schemes_have_no_is_final(self) -> None:
        assert write_one(sample(AgencyScheme)).get("isFinal") is None
        assert write_one(sample(DataProviderScheme)).get("isFinal") is None

    def test_missing_name_falls_back_to_id(self) -> None:
        el = write_one(Codelist(agency="ILO", id="CL_X", items=(Code(id="A"),)))
        assert [(n.get(XML_LANG), n.text) for n in el.iter(COM + "Name")] == [
            ("en", "CL_X"),
            ("en", "A"),
        ]

    def test_stub(self) -> None:
        el = write_one(stub(sample(Codelist)))
        assert el.get("isExternalReference") == "true"
        assert el.get("structureURL") == "https://ilms.example.org/CL_SEX"
        assert localnames(el) == ["Annotations", "Name", "Name", "Name"] + ["Description"] * 2

    def test_stub_without_url(self) -> None:
        el = write_one(msgspec.structs.replace(sample(Codelist), is_stub=True))
        assert el.get("isExternalReference") == "true"
        assert el.get("structureURL") is None

    def test_stubs_drop_what_the_xsd_lets_go(self) -> None:
        assert localnames(write_one(stub(sample(DataStructure))))[-1] == "Name"
        assert localnames(write_one(stub(sample(Dataflow))))[-1] == "Description"
        assert localnames(write_one(stub(sample(ContentConstraint))))[-1] == "Name"
        assert localnames(write_one(stub(sample(Categorisation))))[-1] == "Name"
        assert localnames(write_one(stub(sample(CategoryScheme))))[-1] == "Name"
        agreement = write_one(stub(sample(ProvisionAgreement)))
        assert localnames(agreement)[-2:] == ["StructureUsage", "DataProvider"]


class TestItems:
    def test_code_content_order_and_parent(self) -> None:
        codes = write_one(sample(Codelist)).findall(STR + "Code")
        assert [c.get("id") for c in codes] == ["SEX_T", "SEX_M", "SEX_F"]
        assert localnames(codes[0]) == ["Annotations", "Name", "Name"]
        assert localnames(codes[1]) == ["Name", "Description", "Parent"]
        assert attrib_of(one(codes[1], f"{STR}Parent/Ref")) == {"id": "SEX_T"}

    def test_categories_are_nested(self) -> None:
        scheme = write_one(sample(CategoryScheme))

        def ids(parent: etree._Element) -> list[str | None]:
            return [c.get("id") for c in parent.iterfind(STR + "Category")]

        assert ids(scheme) == ["A", "B"]
        a = one(scheme, STR + "Category")
        assert ids(a) == ["A1", "A2"]
        assert ids(one(a, STR + "Category")) == ["A1a"]
        assert localnames(one(scheme, f"{STR}Category[@id='B']")) == ["Annotations", "Name"]

    def test_category_with_unknown_parent_is_a_root(self) -> None:
        scheme = CategoryScheme(
            agency="ILO", id="CS", items=(Category(id="X", parent="NOPE", names={"en": "x"}),)
        )
        assert [c.get("id") for c in write_one(scheme)] == [None, "X"]

    def test_organisations(self) -> None:
        agencies = write_one(sample(AgencyScheme))
        assert [a.get("id") for a in agencies.iterfind(STR + "Agency")] == ["ILO"]
        providers = write_one(sample(DataProviderScheme))
        assert [p.get("id") for p in providers.iterfind(STR + "DataProvider")] == [
            "THA_NSO",
            "MYS_MOHR",
        ]

    def test_concept_representations(self) -> None:
        concepts = by_id(write_one(sample(ConceptScheme)), STR + "Concept")
        enum = one(concepts["REF_AREA"], f"{STR}CoreRepresentation/{STR}Enumeration/Ref")
        assert attrib_of(enum) == {
            "id": "CL_AREA",
            "version": "1.0",
            "agencyID": "ILO",
            "package": "codelist",
            "class": "Codelist",
        }
        fmt = one(concepts["SEX"], f"{STR}CoreRepresentation/{STR}EnumerationFormat")
        assert attrib_of(fmt) == {"textType": "String", "maxLength": "5"}
        text = one(concepts["NOTE"], f"{STR}CoreRepresentation/{STR}TextFormat")
        assert attrib_of(text) == {
            "textType": "String",
            "maxLength": "1000",
            "isMultiLingual": "true",
        }
        assert localnames(concepts["NOTE"]) == ["Name", "Parent", "CoreRepresentation"]
        assert localnames(concepts["OBS_VALUE"]) == ["Annotations", "Name"]


class TestDataStructure:
    @pytest.fixture
    def comps(self) -> etree._Element:
        return one(write_one(sample(DataStructure)), STR + "DataStructureComponents")

    def test_lists(self, comps: etree._Element) -> None:
        assert localnames(comps) == ["DimensionList", "Group", "AttributeList", "MeasureList"]
        dims = one(comps, STR + "DimensionList")
        assert attrib_of(dims) == {"id": "DimensionDescriptor"}
        assert [(etree.QName(d).localname, d.get("id"), d.get("position")) for d in dims] == [
            ("Dimension", "REF_AREA", "1"),
            ("Dimension", "SEX", "2"),
            ("TimeDimension", "TIME_PERIOD", "3"),
        ]
        assert localnames(dims[0]) == ["Annotations", "ConceptIdentity", "LocalRepresentation"]

    def test_concept_identity_is_an_item_reference(self, comps: etree._Element) -> None:
        ref = one(comps, f"{STR}DimensionList/{STR}Dimension/{STR}ConceptIdentity/Ref")
        assert attrib_of(ref) == {
            "id": "REF_AREA",
            "maintainableParentID": "CS_ILMS",
            "maintainableParentVersion": "1.0",
            "agencyID": "ILO",
            "package": "conceptscheme",
            "class": "Concept",
        }

    def test_time_dimension_keeps_only_time_facets(self, comps: etree._Element) -> None:
        fmt = one(comps, f"{STR}DimensionList/{STR}TimeDimension//{STR}TextFormat")
        assert attrib_of(fmt) == {"textType": "ObservationalTimePeriod", "startTime": "2000"}

    def test_time_dimension_without_representation_gets_one(self) -> None:
        dsd = sample(DataStructure)
        time_dim = msgspec.structs.replace(dsd.dimensions[2], representation=None)
        dsd = msgspec.structs.replace(dsd, dimensions=(*dsd.dimensions[:2], time_dim))
        fmt = one(write_one(dsd), f".//{STR}TimeDimension/{STR}LocalRepresentation/*")
        assert (etree.QName(fmt).localname, attrib_of(fmt)) == (
            "TextFormat",
            {"textType": "ObservationalTimePeriod"},
        )

    def test_group(self, comps: etree._Element) -> None:
        group = one(comps, STR + "Group")
        assert attrib_of(group) == {"id": "SiblingGroup"}
        assert localnames(group) == ["Annotations", "GroupDimension"]
        ref = one(group, f"{STR}GroupDimension/{STR}DimensionReference/Ref")
        assert attrib_of(ref) == {"id": "REF_AREA"}

    def test_attributes_and_every_attachment_level(self, comps: etree._Element) -> None:
        attrs = by_id(one(comps, STR + "AttributeList"), STR + "Attribute")
        assert attrs["OBS_STATUS"].get("assignmentStatus") == "Mandatory"
        assert attrs["UNIT_MEASURE"].get("assignmentStatus") == "Conditional"

        def relationship(attr_id: str) -> list[tuple[str, str | None]]:
            rel = one(attrs[attr_id], STR + "AttributeRelationship")
            return [(etree.QName(c).localname, c[0].get("id") if len(c) else None) for c in rel]

        assert relationship("OBS_STATUS") == [("PrimaryMeasure", "OBS_VALUE")]
        assert relationship("UNIT_MEASURE") == [("None", None)]
        assert relationship("SOURCE") == [
            ("Dimension", "REF_AREA"),
            ("Dimension", "TIME_PERIOD"),
            ("AttachmentGroup", "SiblingGroup"),
        ]
        assert relationship("TITLE") == [("Group", "SiblingGroup")]
        simple = one(attrs["SOURCE"], f"{STR}LocalRepresentation/{STR}TextFormat")
        assert attrib_of(simple) == {"textType": "String", "maxLength": "1000"}

    def test_primary_measure(self, comps: etree._Element) -> None:
        measures = one(comps, STR + "MeasureList")
        assert attrib_of(measures) == {"id": "MeasureDescriptor"}
        assert [(etree.QName(m).localname, m.get("id")) for m in measures] == [
            ("PrimaryMeasure", "OBS_VALUE")
        ]


class TestOtherStructures:
    def test_dataflow(self) -> None:
        assert attrib_of(one(write_one(sample(Dataflow)), f"{STR}Structure/Ref")) == {
            "id": "DSD_ILMS_STOCK",
            "version": "1.0",
            "agencyID": "ILO",
            "package": "datastructure",
            "class": "DataStructure",
        }

    def test_categorisation(self) -> None:
        el = write_one(sample(Categorisation))
        assert attrib_of(one(el, f"{STR}Source/Ref")) == {
            "id": "DF_ILMS_T01",
            "version": "1.0",
            "agencyID": "ILO",
            "package": "datastructure",
            "class": "Dataflow",
        }
        assert attrib_of(one(el, f"{STR}Target/Ref")) == {
            "id": "A.A1",
            "maintainableParentID": "CAT_ILMS",
            "maintainableParentVersion": "1.0",
            "agencyID": "ILO",
            "package": "categoryscheme",
            "class": "Category",
        }

    def test_provision_agreement(self) -> None:
        el = write_one(sample(ProvisionAgreement))
        assert one(el, f"{STR}StructureUsage/Ref").get("id") == "DF_ILMS_T01"
        assert attrib_of(one(el, f"{STR}DataProvider/Ref")) == {
            "id": "THA_NSO",
            "maintainableParentID": "DATA_PROVIDERS",
            "maintainableParentVersion": "1.0",
            "agencyID": "ILO",
            "package": "base",
            "class": "DataProvider",
        }

    def test_allowed_constraint(self) -> None:
        el = write_one(sample(ContentConstraint))
        assert el.get("type") == "Allowed"
        assert localnames(el)[-3:] == ["ConstraintAttachment", "CubeRegion", "CubeRegion"]
        assert one(el, f"{STR}ConstraintAttachment/{STR}Dataflow/Ref").get("id") == "DF_ILMS_T01"
        included, excluded = el.iterfind(STR + "CubeRegion")
        assert (included.get("include"), excluded.get("include")) == ("true", "false")
        keys = {k.get("id"): [v.text for v in k.iterfind(COM + "Value")] for k in included}
        assert keys == {
            "REF_AREA": ["THA", "MYS"],
            "SEX": ["SEX_T", "SEX_M", "SEX_F"],
            "TIME_PERIOD": [],
        }
        time_range = one(included, f"{COM}KeyValue[@id='TIME_PERIOD']/{COM}TimeRange")
        assert [(etree.QName(p).localname, p.text) for p in time_range] == [
            ("StartPeriod", "2000"),
            ("EndPeriod", "2024"),
        ]
        after = one(excluded, f".//{COM}TimeRange/{COM}AfterPeriod")
        assert (after.text, after.get("isInclusive")) == ("2023", "true")

    def test_actual_constraint_on_a_provider(self) -> None:
        el = write_one(actual_constraint())
        assert el.get("type") == "Actual"
        provider = one(el, f"{STR}ConstraintAttachment/{STR}DataProvider/Ref")
        assert provider.get("id") == "THA_NSO"
        assert one(el, f".//{COM}TimeRange/{COM}BeforePeriod").text == "2024"

    def test_stub_keeps_its_type(self) -> None:
        assert write_one(stub(actual_constraint())).get("type") == "Actual"

    def test_constraint_attachments_of_one_kind_only(self) -> None:
        constraint = msgspec.structs.replace(
            actual_constraint(),
            attachment=(
                Ref(cls="Dataflow", agency="ILO", id="DF_A"),
                PROVIDER,
                Ref(cls="Dataflow", agency="ILO", id="DF_B"),
            ),
        )
        attachment = one(write_one(constraint), STR + "ConstraintAttachment")
        assert [r.get("id") for r in attachment.iter("Ref")] == ["DF_A", "DF_B"]


# --- error messages -----------------------------------------------------------------------


class TestError:
    def test_error_message(self) -> None:
        xml = WRITER.write_error(NoResultsFound("no codelist CL_NOPE"), header=HEADER)
        validate_sdmx_ml(xml, "2.1")
        root = tree(xml)
        assert root.tag == MES + "Error"
        message = one(root, MES + "ErrorMessage")
        assert attrib_of(message) == {"code": "100"}
        text = one(message, COM + "Text")
        assert (text.get(XML_LANG), text.text) == (None, "No Results Found: no codelist CL_NOPE")

    def test_error_read_by_pysdmx(self) -> None:
        xml = WRITER.write_error(QuerySyntaxError("bad key"), header=HEADER)
        with pytest.raises(Invalid, match="140: Syntax error: bad key$"):
            read_sdmx(xml.decode())


# --- the ILO specimen ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ilo_xml() -> bytes:
    return write(*ilo_artefacts())


@pytest.fixture(scope="module")
def ilo_written(ilo_xml: bytes) -> etree._Element:
    validate_sdmx_ml(ilo_xml, "2.1")
    return one(tree(ilo_xml), MES + "Structures")


@requires_shared
class TestIloSpecimen:
    """Writing what the ILO specimen holds gives it back, item for item."""

    def test_parsed_what_the_tests_name(self) -> None:
        ids = {a.id for a in ilo_artefacts()}
        assert {"CL_SEX", "CL_AREA", "CL_ECO", "CS_ILOSTAT", "IMF_ILOSTAT"} <= ids
        assert len(ilo(Codelist, "CL_AREA").items) == 331

    @pytest.mark.parametrize("tag", ["Codelist", "ConceptScheme", "DataStructure"])
    def test_same_artefacts_in_same_order(self, ilo_written: etree._Element, tag: str) -> None:
        def keys(root: etree._Element) -> list[tuple[str | None, ...]]:
            return [
                (e.get("agencyID"), e.get("id"), e.get("version"), e.get("isFinal"))
                for e in root.iter(STR + tag)
            ]

        assert keys(ilo_written) == keys(ilo_specimen())

    @pytest.mark.parametrize("tag", ["Codelist", "ConceptScheme", "DataStructure"])
    def test_same_names_descriptions_annotations(
        self, ilo_written: etree._Element, tag: str
    ) -> None:
        written = by_id(ilo_written, STR + tag)
        for id_, expected in by_id(ilo_specimen(), STR + tag).items():
            for child in ("Annotations", "Name", "Description"):
                got = [c14n(e) for e in written[id_].iterfind(COM + child)]
                assert got == [c14n(e) for e in expected.iterfind(COM + child)], (id_, child)

    @pytest.mark.parametrize(
        ("scheme", "tag"), [("Codelist", "Code"), ("ConceptScheme", "Concept")]
    )
    def test_every_item_identical(self, ilo_written: etree._Element, scheme: str, tag: str) -> None:
        """Ids, names (every language, same order), descriptions, parents, annotations."""
        written = by_id(ilo_written, STR + scheme)
        count = 0
        for id_, expected in by_id(ilo_specimen(), STR + scheme).items():
            want = [c14n(e) for e in expected.iterfind(STR + tag)]
            assert [c14n(e) for e in written[id_].iterfind(STR + tag)] == want, id_
            count += len(want)
        assert count > (2500 if tag == "Code" else 50)

    def test_named_artefacts_spot_checks(self, ilo_written: etree._Element) -> None:
        codelists = by_id(ilo_written, STR + "Codelist")
        sex = codelists["CL_SEX"].findall(STR + "Code")
        assert [c.get("id") for c in sex] == ["SEX_T", "SEX_M", "SEX_F", "SEX_O", "_Z"]
        assert [(n.get(XML_LANG), n.text) for n in sex[1].iterfind(COM + "Name")] == [
            ("en", "Male"),
            ("fr", "Hommes"),
            ("es", "Hombres"),
        ]
        assert len(codelists["CL_AREA"].findall(STR + "Code")) == 331
        eco = codelists["CL_ECO"]
        assert [n.get(XML_LANG) for n in eco.iterfind(COM + "Name")] == ["en", "es", "fr"]
        isic_a = one(eco, f"{STR}Code[@id='ECO_ISIC4_A']")
        assert attrib_of(one(isic_a, f"{STR}Parent/Ref")) == {"id": "ECO_ISIC4"}
        ilostat = by_id(ilo_written, STR + "ConceptScheme")["CS_ILOSTAT"]
        ref = one(ilostat, f"{STR}Concept[@id='REF_AREA']//{STR}Enumeration/Ref")
        assert (ref.get("id"), ref.get("class")) == ("CL_AREA", "Codelist")

    def test_data_structure_components_identical(self, ilo_written: etree._Element) -> None:
        path = f"{STR}DataStructures/{STR}DataStructure/{STR}DataStructureComponents"
        assert c14n(one(ilo_written, path)) == c14n(one(ilo_specimen(), path))


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
        sex = msg.codelist["CL_SEX"]
        assert sex["SEX_M"].name.localizations == {"en": "Male", "fr": "Hommes", "es": "Hombres"}
        assert msg.codelist["CL_ECO"]["ECO_ISIC4_A"].parent.id == "ECO_ISIC4"
        assert set(msg.concept_scheme) == {"CS_CLASSIF_TYPE", "CS_ILOSTAT", "CS_NOTE_TYPE"}
        dsd = msg.structure["IMF_ILOSTAT"]
        assert [d.id for d in dsd.dimensions] == [
            d.id for d in ilo(DataStructure, "IMF_ILOSTAT").dimensions
        ]

    def test_pysdmx(self, ilo_xml: bytes) -> None:
        structures = {s.id: s for s in read_sdmx(ilo_xml.decode()).structures}
        for codelist in (a for a in ilo_artefacts() if isinstance(a, Codelist)):
            read = structures[codelist.id]
            assert read.name == codelist.names["en"]
            assert [c.id for c in read.items] == [c.id for c in codelist.items]
        assert len(structures["CL_AREA"].items) == 331
        concepts = ilo(ConceptScheme, "CS_ILOSTAT").items
        assert [c.id for c in structures["CS_ILOSTAT"].items] == [c.id for c in concepts]
        assert "OBS_VALUE" in [c.id for c in structures["IMF_ILOSTAT"].components]


class TestClientsReadSamples:
    def test_sdmx1(self) -> None:
        msg = sdmx.read_sdmx(io.BytesIO(write(*client_readable())))
        assert set(msg.codelist) == {"CL_SEX", "CL_AREA", "CL_OBS_STATUS"}
        assert list(msg.codelist["CL_SEX"]) == ["SEX_T", "SEX_M", "SEX_F"]
        assert msg.codelist["CL_SEX"]["SEX_M"].description.localizations == {"en": "Men"}
        assert set(msg.dataflow) == {"DF_ILMS_T01"}
        assert set(msg.structure) == {"DSD_ILMS_STOCK"}
        assert set(msg.constraint) == {"CC_ILMS_T01"}
        assert set(msg.provisionagreement) == {"PA_THA_NSO_T01"}
        assert set(msg.categorisation) == {"CAT_DF_ILMS_T01"}
        assert msg.category_scheme["CAT_ILMS"]["A1a"].parent.id == "A1"
        assert {s.id for s in msg.organisation_scheme.values()} == {"AGENCIES", "DATA_PROVIDERS"}

    def test_pysdmx(self) -> None:
        structures = read_sdmx(write(*client_readable()).decode()).structures
        assert {
            ("Codelist", "CL_SEX"),
            ("ConceptScheme", "CS_ILMS"),
            ("CategoryScheme", "CAT_ILMS"),
            ("DataStructureDefinition", "DSD_ILMS_STOCK"),
            ("Dataflow", "DF_ILMS_T01"),
        } <= {(type(s).__name__, s.id) for s in structures}


# --- performance and thread safety --------------------------------------------------------


def test_one_writer_shared_by_threads() -> None:
    artefacts = tuple(sample_artefacts().values())
    expected = write(*artefacts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = set(pool.map(lambda _: write(*artefacts), range(32)))
    assert outputs == {expected}
