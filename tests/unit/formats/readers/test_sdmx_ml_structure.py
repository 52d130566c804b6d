"""The SDMX-ML 2.1/3.0 structure reader against ILOSTAT's real message, every specimen, and XXE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from lxml import etree

from service.formats.readers.sdmx_ml_structure import (
    StructureReadError,
    StructureReadResult,
    parse_urn,
    read_structures,
)
from service.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Attribute,
    AttributeRelationship,
    Categorisation,
    CategoryScheme,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from tests.shared import ILO_SPECIMEN, SHARED, requires_shared

SPECIMENS = SHARED / "specimens"
V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/"
V30 = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
T = TypeVar("T")

ILO_CODELISTS = [
    "CL_AGE", "CL_AREA", "CL_CAT", "CL_CBR", "CL_CCT", "CL_CDS", "CL_CHL", "CL_CLA", "CL_COI",
    "CL_COU", "CL_CPR", "CL_CRS", "CL_CUR", "CL_DECIMALS", "CL_DSB", "CL_DUR", "CL_EC2", "CL_ECO",
    "CL_EDU", "CL_FREQ", "CL_GEO", "CL_GOV", "CL_HHT", "CL_HOW", "CL_INJ", "CL_INS", "CL_JOB",
    "CL_LMS", "CL_MEASURE", "CL_MIG", "CL_MJH", "CL_MTS", "CL_NOC", "CL_OBS_STATUS", "CL_OC2",
    "CL_OCU", "CL_QTL", "CL_SEX", "CL_SOC", "CL_STE", "CL_STU", "CL_TRA", "CL_UNIT_MEASURE",
    "CL_UNIT_MEASURE_TYPE", "CL_UNIT_MULT", "CL_VOL",
]  # fmt: skip


def of_type(artefacts: list[Artefact], cls: type[T]) -> list[T]:
    return [a for a in artefacts if isinstance(a, cls)]


def by_id(artefacts: list[Artefact], cls: type[T], artefact_id: str) -> T:
    found = [a for a in of_type(artefacts, cls) if getattr(a, "id", None) == artefact_id]
    assert len(found) == 1, f"{len(found)} {cls.__name__} {artefact_id}"
    return found[0]


@pytest.fixture(scope="module")
def ilo() -> StructureReadResult:
    if not ILO_SPECIMEN.is_file():
        pytest.skip(f"the ILO specimen is not at {ILO_SPECIMEN}")
    return read_structures(ILO_SPECIMEN)


# -- the real ILOSTAT message ---------------------------------------------------------------


@requires_shared
def test_ilo_specimen_gives_46_codelists_3_concept_schemes_and_the_dsd(
    ilo: StructureReadResult,
) -> None:
    assert ilo.version == "2.1"
    assert ilo.skipped == []
    assert ilo.message_id == "IDREF1"
    assert ilo.prepared_text == "2026-05-18T10:40:07.5186935+02:00"
    assert ilo.prepared is not None
    assert ilo.prepared.isoformat() == "2026-05-18T10:40:07.518693+02:00"
    assert [a.id for a in of_type(ilo.artefacts, Codelist)] == ILO_CODELISTS
    schemes = of_type(ilo.artefacts, ConceptScheme)
    assert [s.id for s in schemes] == ["CS_CLASSIF_TYPE", "CS_ILOSTAT", "CS_NOTE_TYPE"]
    assert [a.id for a in of_type(ilo.artefacts, DataStructure)] == ["IMF_ILOSTAT"]
    assert len(ilo.artefacts) == 50
    for artefact in ilo.artefacts:
        assert (artefact.agency, artefact.version, artefact.is_final) == ("ILO", "1.0", True)
        assert sorted(artefact.names) == ["en", "es", "fr"], artefact.id
        assert not artefact.is_stub


@requires_shared
def test_ilo_parent_names_and_annotations_of_eco_isic4_a(ilo: StructureReadResult) -> None:
    code = by_id(ilo.artefacts, Codelist, "CL_ECO").item("ECO_ISIC4_A")
    assert code is not None
    assert code.parent == "ECO_ISIC4"
    assert code.names == {
        "en": "A. Agriculture; forestry and fishing",
        "es": "A. Agricultura; ganadería; silvicultura y pesca",
        "fr": "A. Agriculture; sylviculture et pêche",
    }
    assert list(code.names) == ["en", "es", "fr"]  # document order
    assert code.annotations == (
        Annotation(title="16950", type="ORDER"),
        Annotation(title="N", type="IS_TOTAL"),
    )


@requires_shared
def test_ilo_area_code_annotations(ilo: StructureReadResult) -> None:
    area = by_id(ilo.artefacts, Codelist, "CL_AREA")
    tha = area.item("THA")
    assert tha is not None
    assert tha.parent is None
    assert tha.names == {"en": "Thailand", "es": "Tailandia", "fr": "Thaïlande"}
    assert tha.annotations == (
        Annotation(type="ORDER", text={"en": "11105", "es": "11110", "fr": "11150"}),
        Annotation(title="N", type="GROUP"),
        Annotation(title="TH", type="ISO2Code"),
        Annotation(title="764", type="M49Code"),
        Annotation(title="X40", type="ILO_REGION"),
        Annotation(title="X04", type="WB_INCOME_GROUP"),
    )
    age = by_id(ilo.artefacts, Codelist, "CL_AGE").item("AGE_CLDVERSION")
    assert age is not None
    assert age.annotations[0] == Annotation(id="@SDMX", title="1020", type="ORDER")


def _raw_items(scheme: etree._Element, tag: str) -> list[tuple[object, ...]]:
    """Every item of a scheme straight from lxml: id, names, descriptions, parent, annotations."""
    rows = []
    for item in scheme.findall(f"{{{V21}structure}}{tag}"):
        names = {n.get(XML_LANG): n.text for n in item.findall(f"{{{V21}common}}Name")}
        descs = {n.get(XML_LANG): n.text for n in item.findall(f"{{{V21}common}}Description")}
        parent = item.find(f"{{{V21}structure}}Parent/Ref")
        annotations = [
            (
                a.get("id"),
                a.findtext(f"{{{V21}common}}AnnotationTitle"),
                a.findtext(f"{{{V21}common}}AnnotationType"),
                a.findtext(f"{{{V21}common}}AnnotationURL"),
                {t.get(XML_LANG): t.text for t in a.findall(f"{{{V21}common}}AnnotationText")},
            )
            for a in item.findall(f"{{{V21}common}}Annotations/{{{V21}common}}Annotation")
        ]
        rows.append(
            (item.get("id"), names, descs, parent.get("id") if parent is not None else None,
             annotations)
        )  # fmt: skip
    return rows


def _model_items(scheme: Codelist | ConceptScheme) -> list[tuple[object, ...]]:
    return [
        (
            item.id,
            item.names,
            item.descriptions,
            item.parent,
            [(a.id, a.title, a.type, a.url, a.text) for a in item.annotations],
        )
        for item in scheme.items
    ]


@requires_shared
def test_ilo_every_code_and_concept_matches_the_raw_xml(ilo: StructureReadResult) -> None:
    root = etree.parse(str(ILO_SPECIMEN)).getroot()
    raw_schemes = root.findall(f".//{{{V21}structure}}Codelist") + root.findall(
        f".//{{{V21}structure}}ConceptScheme"
    )
    schemes = of_type(ilo.artefacts, Codelist) + of_type(ilo.artefacts, ConceptScheme)
    assert [s.get("id") for s in raw_schemes] == [s.id for s in schemes]
    total = 0
    for raw, scheme in zip(raw_schemes, schemes, strict=True):
        tag = "Code" if isinstance(scheme, Codelist) else "Concept"
        assert _model_items(scheme) == _raw_items(raw, tag), scheme.id
        raw_names = [(n.get(XML_LANG), n.text) for n in raw.findall(f"{{{V21}common}}Name")]
        assert list(scheme.names.items()) == raw_names
        total += len(scheme.items)
    assert total == 2866 + 54
    with_parent = sum(1 for s in schemes for i in s.items if i.parent)
    assert with_parent == 1062


@requires_shared
def test_ilo_concepts_carry_their_core_representation(ilo: StructureReadResult) -> None:
    classif = by_id(ilo.artefacts, ConceptScheme, "CS_CLASSIF_TYPE")
    sex = classif.item("SEX")
    assert sex is not None
    assert sex.names == {"en": "Sex", "fr": "Sexe", "es": "Sexo"}
    assert sex.core_representation == Representation(
        enumeration=Ref(cls="Codelist", agency="ILO", id="CL_SEX", version="1.0")
    )
    with_core = sum(
        1 for s in of_type(ilo.artefacts, ConceptScheme) for c in s.items if c.core_representation
    )
    assert with_core == 46


@requires_shared
def test_ilo_dsd_imf_ilostat(ilo: StructureReadResult) -> None:
    dsd = by_id(ilo.artefacts, DataStructure, "IMF_ILOSTAT")
    assert list(dsd.names) == ["en", "es", "fr"]
    assert dsd.names["en"] == "DSD for ILOSTAT data exchange with IMF"
    assert dsd.annotations == (Annotation(id="@SDMX", title="1024", type="MAXTEXTATTRIBUTELENGTH"),)
    assert [(d.id, d.position, d.kind) for d in dsd.dimensions] == [
        *[(d, i, "dimension") for i, d in enumerate(
            ["REF_AREA", "FREQ", "MEASURE", "SEX", "AGE", "MTS", "OCU", "INS", "DSB", "ECO", "EDU"],
            start=1,
        )],
        ("TIME_PERIOD", 12, "time"),
    ]  # fmt: skip
    sex = dsd.component("SEX")
    assert sex is not None
    assert sex.concept == Ref(cls="Concept", agency="ILO", id="CS_CLASSIF_TYPE", item="SEX")
    assert sex.representation == Representation(
        enumeration=Ref(cls="Codelist", agency="ILO", id="CL_SEX")
    )
    time_dim = dsd.time_dimension
    assert time_dim is not None
    assert time_dim.representation == Representation(text_type="ObservationalTimePeriod")
    relationships = {a.id: a.relationship for a in dsd.attributes}
    observation = AttributeRelationship(level="observation")
    by_measure = AttributeRelationship(level="dimensions", dimensions=("MEASURE",))
    notes = AttributeRelationship(
        level="dimensions", dimensions=("REF_AREA", "MEASURE", "TIME_PERIOD")
    )
    assert relationships == {
        "OBS_STATUS": observation,
        "UNIT_MEASURE_TYPE": by_measure,
        "UNIT_MEASURE": by_measure,
        "UNIT_MULT": by_measure,
        "SOURCE": notes,
        "NOTE_SOURCE": notes,
        "NOTE_INDICATOR": notes,
        "NOTE_CLASSIF": observation,
        "DECIMALS": observation,
        "UPPER_BOUND": observation,
        "LOWER_BOUND": observation,
    }
    assert not any(a.mandatory for a in dsd.attributes)
    assert [(m.id, m.concept.item) for m in dsd.measures] == [("OBS_VALUE", "OBS_VALUE")]
    assert dsd.groups == ()


# -- every specimen --------------------------------------------------------------------------


def _specimen_files() -> list[Path]:
    return sorted(SPECIMENS.rglob("*.xml")) if SPECIMENS.is_dir() else []


def _root_name(path: Path) -> str:
    for _, el in etree.iterparse(str(path), events=("start",), resolve_entities=False):
        return str(el.tag)
    raise AssertionError(f"{path} has no root element")


def _raw_counts(path: Path) -> dict[str, int]:
    root = etree.parse(str(path)).getroot()
    ns = V21 if root.tag.startswith("{" + V21) else V30
    s = f"{{{ns}structure}}"

    def count(collection: str, kind: str) -> int:
        return len(root.findall(f".//{s}{collection}/{s}{kind}"))

    flows = root.findall(f".//{s}Dataflows/{s}Dataflow")
    return {
        "Codelist": count("Codelists", "Codelist"),
        "ConceptScheme": count("Concepts", "ConceptScheme")
        + count("ConceptSchemes", "ConceptScheme"),
        "DataStructure": count("DataStructures", "DataStructure"),
        # a dataflow that names no structure cannot be a model Dataflow (it is noted instead)
        "Dataflow": sum(1 for f in flows if f.find(f"{s}Structure") is not None),
        "ContentConstraint": count("Constraints", "ContentConstraint")
        + count("DataConstraints", "DataConstraint"),
    }


def _structure_specimens() -> Iterator[Path]:
    for path in _specimen_files():
        if _root_name(path).endswith("}Structure"):
            yield path


@requires_shared
@pytest.mark.parametrize("path", _specimen_files(), ids=lambda p: str(p.relative_to(SPECIMENS)))
def test_every_specimen_reads_or_is_refused_as_not_a_structure_message(path: Path) -> None:
    root = _root_name(path)
    if not root.endswith("}Structure"):
        with pytest.raises(StructureReadError, match="not a structure message"):
            read_structures(path)
        return
    result = read_structures(path)
    assert result.version == ("2.1" if V21 in root else "3.0")
    counts = dict.fromkeys(_raw_counts(path), 0)
    for artefact in result.artefacts:
        kind = type(artefact).__name__
        if kind in counts:
            counts[kind] += 1
    assert counts == _raw_counts(path)


@requires_shared
def test_the_specimen_sweep_covers_both_versions_and_data_messages() -> None:
    files = _specimen_files()
    structures = list(_structure_specimens())
    versions = {read_structures(p).version for p in structures}
    assert versions == {"2.1", "3.0"}
    assert len(structures) >= 60
    assert len(files) - len(structures) >= 20  # data, metadata, query and error messages


@requires_shared
def test_unsupported_artefact_kinds_are_listed_not_fatal() -> None:
    hcl = read_structures(SPECIMENS / "BIS/hierarchicalcodelist-0.xml")
    assert hcl.artefacts == []
    assert len(hcl.skipped) == 1
    assert hcl.skipped[0].startswith("19 HierarchicalCodelist skipped")
    assert "BIS:HCL_COUNTRY(1.0)" in hcl.skipped[0]
    esms = read_structures(SPECIMENS / "ESTAT/esms-structure.xml")
    assert any(s.startswith("1 MetadataStructure skipped") for s in esms.skipped)
    sets = read_structures(SPECIMENS / "IMF/structureset-0.xml")
    assert sets.skipped == [
        "1 StructureSet skipped (not supported by this service): IMF:CODELIST_MAPPING(1.0)"
    ]


# -- SDMX-ML 2.1 constructs beyond ILOSTAT's ----------------------------------------------


@requires_shared
def test_21_nested_categories_and_categorisation() -> None:
    result = read_structures(SPECIMENS / "BIS/gh-180.xml")
    scheme = of_type(result.artefacts, CategoryScheme)[0]
    assert [(c.id, c.parent) for c in scheme.items][:4] == [
        ("CPMI", None),
        ("CPMI_CT", "CPMI"),
        ("CPMI_CT_PT", "CPMI_CT"),
        ("CPMI_CT_PT_COMPARATIVE", "CPMI_CT_PT"),
    ]
    assert scheme.path("CPMI_CT_PT") == "CPMI.CPMI_CT.CPMI_CT_PT"
    categorisation = of_type(result.artefacts, Categorisation)[0]
    assert categorisation.source == Ref(cls="PublicationTable", agency="BIS", id="CPMI_CT13B")
    assert categorisation.target == Ref(
        cls="Category",
        agency="BIS",
        id="BIS_DP",
        item="CPMI.CPMI_CT.CPMI_CT_PT.CPMI_CT_PT_COMPARATIVE.CPMI_CT_PT_COMPARATIVE_RETAIL",
    )


@requires_shared
def test_21_organisation_schemes_provision_agreement_and_constraint() -> None:
    result = read_structures(SPECIMENS / "UNICEF/GLOBAL_DATAFLOW-structure.xml")
    providers = of_type(result.artefacts, DataProviderScheme)[0]
    assert (providers.id, providers.is_final) == ("DATA_PROVIDERS", False)
    assert [p.id for p in providers.items][:3] == ["UNICEF", "UNICEF_DRAFT", "EDUCATION"]
    assert len(of_type(result.artefacts, AgencyScheme)) == 2
    agreement = of_type(result.artefacts, ProvisionAgreement)[0]
    assert agreement.dataflow == Ref(cls="Dataflow", agency="UNICEF", id="GLOBAL_DATAFLOW")
    assert agreement.provider == Ref(
        cls="DataProvider", agency="UNICEF", id="DATA_PROVIDERS", item="UNICEF"
    )
    assert any("DataKeySet is not supported" in s for s in result.skipped)


@requires_shared
def test_21_constraint_cube_region_and_time_range() -> None:
    result = read_structures(SPECIMENS / "ISTAT/actualconstraint-0.xml")
    constraint = of_type(result.artefacts, ContentConstraint)[0]
    assert constraint.role == "Actual"
    region = constraint.cube_regions[0]
    assert region.include is True
    assert region.key_values["FREQ"] == ("A",)
    assert region.key_values["DATA_TYPE_AGGR"][:3] == ("B1G", "D1", "D11")
    raw = etree.parse(str(SPECIMENS / "ISTAT/actualconstraint-0.xml"))
    values = raw.getroot().findall(f".//{{{V21}common}}KeyValue/{{{V21}common}}Value")
    assert sum(len(v) for v in region.key_values.values()) == len(values)
    timed = [
        r
        for p in _structure_specimens()
        for c in of_type(read_structures(p).artefacts, ContentConstraint)
        for r in c.cube_regions
        if r.time_start
    ]
    assert {(r.time_start, r.time_end) for r in timed} >= {
        ("2020-04-15T00:00:00", "2023-04-25T00:00:00")
    }


@requires_shared
def test_21_attachment_groups_dataset_attributes_and_measure_dimension() -> None:
    weo = of_type(read_structures(SPECIMENS / "IMF_RES/WEO-structure.xml").artefacts, DataStructure)
    functional = weo[0].component("FUNCTIONAL_CAT")
    assert isinstance(functional, Attribute)
    assert functional.relationship == AttributeRelationship(
        level="dimensions", dimensions=("INDICATOR",), attachment_group="GROUP_INDICATOR"
    )
    ecofin = read_structures(SPECIMENS / "IMF/ECOFIN_DSD-structure.xml").artefacts
    relations = [a.relationship for d in of_type(ecofin, DataStructure) for a in d.attributes]
    assert any(r.level == "dataset" for r in relations)
    demography = read_structures(SPECIMENS / "ESTAT/demography-structure.xml")
    dsd = of_type(demography.artefacts, DataStructure)[0]
    measure_dim = [d for d in dsd.dimensions if d.representation and d.representation.enumeration
                   and d.representation.enumeration.cls == "ConceptScheme"]  # fmt: skip
    assert len(measure_dim) == 1
    assert any("MeasureDimension read as an ordinary dimension" in s for s in demography.skipped)


# -- SDMX-ML 3.0 ---------------------------------------------------------------------------


@requires_shared
def test_30_ecb_dsd_with_urn_references_groups_and_facets() -> None:
    result = read_structures(SPECIMENS / "v3/xml/ECB_EXR_CA_DSD.xml")
    assert result.version == "3.0"
    dsd = of_type(result.artefacts, DataStructure)[0]
    assert (dsd.agency, dsd.id, dsd.version, dsd.is_final) == (
        "ECB", "ECB_EXR_COMPLEX_ATTRIBUTES", "1.0", True
    )  # fmt: skip
    assert [d.id for d in dsd.dimensions] == [
        "FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX", "TIME_PERIOD"
    ]  # fmt: skip
    assert dsd.dimensions[-1].kind == "time"
    assert dsd.dimensions[-1].position == 6
    assert dsd.dimensions[0].concept == Ref(
        cls="Concept", agency="ECB", id="ECB_CONCEPTS", item="FREQ"
    )
    assert [(g.id, g.dimensions) for g in dsd.groups] == [
        ("Group", ("CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX"))
    ]
    time_format = dsd.component("TIME_FORMAT")
    assert time_format is not None
    assert time_format.representation == Representation(
        text_type="String", facets={"minLength": "3", "maxLength": "3"}
    )
    obs_status = dsd.component("OBS_STATUS")
    assert isinstance(obs_status, Attribute)
    assert obs_status.relationship == AttributeRelationship(level="observation")
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]


@requires_shared
def test_30_codelists_concepts_dataflows_and_data_constraints() -> None:
    codelist = of_type(read_structures(SPECIMENS / "v3/xml/codelist.xml").artefacts, Codelist)[0]
    assert [c.id for c in codelist.items] == ["Y", "M", "W", "D", "H"]
    assert codelist.structure_url == (
        "https://registry.sdmx.org/FusionRegistry/ws/rest/codelist/SDMX/CL_AGE/1.0"
    )
    union = read_structures(SPECIMENS / "v3/xml/codelist - discriminated union.xml")
    flows = of_type(union.artefacts, Dataflow)
    assert flows[0].structure == Ref(
        cls="DataStructure", agency="EXAMPLE", id="LABOUR", version="1.0.0"
    )
    constraints = of_type(union.artefacts, ContentConstraint)
    assert [(c.id, c.role) for c in constraints] == [
        ("ISIC_CONSTRAINT", "Allowed"),
        ("NACE_CONSTRAINT", "Allowed"),
    ]
    assert constraints[0].attachment == (Ref(cls="Dataflow", agency="EXAMPLE", id="LABOUR_ISIC"),)
    assert constraints[0].allowed_codes("ACTIVITY") == ("ISIC4_%",)
    agencies = of_type(union.artefacts, AgencyScheme)[0]
    assert [a.id for a in agencies.items] == ["SDMX", "EXAMPLE"]
    assert any("CodelistExtension is not expanded" in s for s in union.skipped)
    imf = of_type(read_structures(SPECIMENS / "IMF/CL_FREQ-3.0-structure.xml").artefacts, Codelist)[
        0
    ]
    assert imf.version == "1.0.3"
    assert Annotation(id="origin", value="INTEGRATION") in imf.annotations
    schemes = of_type(
        read_structures(SPECIMENS / "v3/xml/conceptscheme.xml").artefacts, ConceptScheme
    )
    assert len(schemes) == 1
    assert len(schemes[0].items) > 0


# -- synthetic messages: every AttributeRelationship form, stubs, errors -----------------------


def _message_21(structures: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mes:Structure xmlns:mes="{V21}message" xmlns:str="{V21}structure" xmlns:com="{V21}common">
  <mes:Header><mes:ID>T1</mes:ID><mes:Test>false</mes:Test>
    <mes:Prepared>2024-01-02T03:04:05Z</mes:Prepared><mes:Sender id="ILO"/></mes:Header>
  <mes:Structures>{structures}</mes:Structures>
</mes:Structure>""".encode()


def _message_30(structures: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mes:Structure xmlns:mes="{V30}message" xmlns:str="{V30}structure" xmlns:com="{V30}common">
  <mes:Header><mes:ID>T3</mes:ID><mes:Test>false</mes:Test>
    <mes:Prepared>2024-01-02</mes:Prepared><mes:Sender id="ILO"/></mes:Header>
  <mes:Structures>{structures}</mes:Structures>
</mes:Structure>""".encode()


def _concept_21(concept: str) -> str:
    return (
        f'<str:ConceptIdentity><Ref id="{concept}" maintainableParentID="CS" agencyID="ILO" '
        'class="Concept"/></str:ConceptIdentity>'
    )


DSD_21 = f"""<str:DataStructures>
<str:DataStructure id="DSD" agencyID="ILO" version="1.2" isFinal="false" validFrom="2020-01-01"
    validTo="2030-12-31"><com:Name>Test DSD</com:Name>
 <str:DataStructureComponents>
  <str:DimensionList>
   <str:Dimension id="A" position="1">{_concept_21("A")}</str:Dimension>
   <str:Dimension id="B" position="2">{_concept_21("B")}</str:Dimension>
   <str:TimeDimension position="3">{_concept_21("TIME_PERIOD")}</str:TimeDimension>
  </str:DimensionList>
  <str:Group id="SIBLING"><str:GroupDimension><str:DimensionReference><Ref id="A"/>
   </str:DimensionReference></str:GroupDimension></str:Group>
  <str:AttributeList>
   <str:Attribute id="AT_NONE" assignmentStatus="Mandatory">{_concept_21("AT_NONE")}
    <str:AttributeRelationship><str:None/></str:AttributeRelationship></str:Attribute>
   <str:Attribute id="AT_DIMS" assignmentStatus="Conditional">{_concept_21("AT_DIMS")}
    <str:AttributeRelationship><str:Dimension><Ref id="A"/></str:Dimension>
     <str:AttachmentGroup><Ref id="SIBLING"/></str:AttachmentGroup></str:AttributeRelationship>
   </str:Attribute>
   <str:Attribute id="AT_GROUP" assignmentStatus="Conditional">{_concept_21("AT_GROUP")}
    <str:LocalRepresentation><str:TextFormat textType="String" maxLength="10"/>
    </str:LocalRepresentation>
    <str:AttributeRelationship><str:Group><Ref id="SIBLING"/></str:Group>
    </str:AttributeRelationship>
   </str:Attribute>
   <str:Attribute id="AT_OBS" assignmentStatus="Conditional">{_concept_21("AT_OBS")}
    <str:AttributeRelationship><str:PrimaryMeasure><Ref id="OBS_VALUE"/></str:PrimaryMeasure>
    </str:AttributeRelationship></str:Attribute>
  </str:AttributeList>
  <str:MeasureList><str:PrimaryMeasure>{_concept_21("OBS_VALUE")}</str:PrimaryMeasure></str:MeasureList>
 </str:DataStructureComponents>
</str:DataStructure></str:DataStructures>"""


def test_21_every_attribute_relationship_form() -> None:
    result = read_structures(_message_21(DSD_21))
    assert result.message_id == "T1"
    assert result.prepared is not None
    assert result.prepared.year == 2024
    dsd = of_type(result.artefacts, DataStructure)[0]
    assert (dsd.version, dsd.is_final, dsd.valid_from, dsd.valid_to) == (
        "1.2", False, "2020-01-01", "2030-12-31"
    )  # fmt: skip
    assert dsd.names == {"en": "Test DSD"}  # xml:lang defaults to English
    assert [(d.id, d.kind) for d in dsd.dimensions] == [
        ("A", "dimension"), ("B", "dimension"), ("TIME_PERIOD", "time")
    ]  # fmt: skip
    assert dsd.dimensions[0].concept == Ref(cls="Concept", agency="ILO", id="CS", item="A")
    assert [(g.id, g.dimensions) for g in dsd.groups] == [("SIBLING", ("A",))]
    attributes = {a.id: a for a in dsd.attributes}
    assert attributes["AT_NONE"].relationship == AttributeRelationship(level="dataset")
    assert attributes["AT_NONE"].mandatory is True
    assert attributes["AT_DIMS"].relationship == AttributeRelationship(
        level="dimensions", dimensions=("A",), attachment_group="SIBLING"
    )
    assert attributes["AT_DIMS"].mandatory is False
    assert attributes["AT_GROUP"].relationship == AttributeRelationship(
        level="group", group="SIBLING"
    )
    assert attributes["AT_GROUP"].representation == Representation(
        text_type="String", facets={"maxLength": "10"}
    )
    assert attributes["AT_OBS"].relationship == AttributeRelationship(level="observation")
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
    assert result.skipped == []


DSD_30 = """<str:DataStructures>
<str:DataStructure id="DSD" agencyID="ILO" version="1.0.0-draft">
 <com:Annotations><com:Annotation id="a1"><com:AnnotationTitle>T</com:AnnotationTitle>
  <com:AnnotationURL>https://example.org/a</com:AnnotationURL>
  <com:AnnotationText xml:lang="fr">texte</com:AnnotationText>
  <com:AnnotationValue>v</com:AnnotationValue></com:Annotation></com:Annotations>
 <com:Name xml:lang="en">Test</com:Name><com:Name xml:lang="fr">Essai</com:Name>
 <str:DataStructureComponents>
  <str:DimensionList>
   <str:Dimension id="A" position="1">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).A</str:ConceptIdentity>
    <str:LocalRepresentation><str:Enumeration>
     urn:sdmx:org.sdmx.infomodel.codelist.Codelist=ILO:CL_A(1.0)</str:Enumeration>
    </str:LocalRepresentation></str:Dimension>
   <str:TimeDimension id="TIME_PERIOD">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).TIME_PERIOD</str:ConceptIdentity>
    <str:LocalRepresentation><str:TextFormat textType="ObservationalTimePeriod"/>
    </str:LocalRepresentation>
   </str:TimeDimension>
  </str:DimensionList>
  <str:Group id="G"><str:GroupDimension><str:DimensionReference>A</str:DimensionReference>
   </str:GroupDimension></str:Group>
  <str:AttributeList>
   <str:Attribute id="AT_FLOW" usage="mandatory">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).AT_FLOW</str:ConceptIdentity>
    <str:AttributeRelationship><str:Dataflow/></str:AttributeRelationship></str:Attribute>
   <str:Attribute id="AT_DIM">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).AT_DIM</str:ConceptIdentity>
    <str:AttributeRelationship><str:Dimension>A</str:Dimension></str:AttributeRelationship></str:Attribute>
   <str:Attribute id="AT_GROUP">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).AT_GROUP</str:ConceptIdentity>
    <str:AttributeRelationship><str:Group>G</str:Group></str:AttributeRelationship></str:Attribute>
   <str:Attribute id="AT_OBS">
    <str:ConceptIdentity>urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).AT_OBS</str:ConceptIdentity>
    <str:AttributeRelationship><str:Observation/></str:AttributeRelationship></str:Attribute>
  </str:AttributeList>
  <str:MeasureList>
   <str:Measure id="M1"><str:ConceptIdentity>
    urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).M1</str:ConceptIdentity>
   </str:Measure>
   <str:Measure id="M2"><str:ConceptIdentity>
    urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept=ILO:CS(1.0).M2</str:ConceptIdentity>
   </str:Measure>
  </str:MeasureList>
 </str:DataStructureComponents>
</str:DataStructure></str:DataStructures>"""


def test_30_every_attribute_relationship_form_and_annotation_fields() -> None:
    result = read_structures(_message_30(DSD_30))
    assert result.version == "3.0"
    dsd = of_type(result.artefacts, DataStructure)[0]
    assert (dsd.version, dsd.is_final) == ("1.0.0-draft", False)
    assert list(dsd.names) == ["en", "fr"]
    assert dsd.annotations == (
        Annotation(
            id="a1", title="T", url="https://example.org/a", text={"fr": "texte"}, value="v"
        ),
    )
    assert dsd.dimensions[0].representation == Representation(
        enumeration=Ref(cls="Codelist", agency="ILO", id="CL_A")
    )
    assert [(d.id, d.position, d.kind) for d in dsd.dimensions] == [
        ("A", 1, "dimension"), ("TIME_PERIOD", 2, "time")
    ]  # fmt: skip
    assert {a.id: (a.relationship, a.mandatory) for a in dsd.attributes} == {
        "AT_FLOW": (AttributeRelationship(level="dataset"), True),
        "AT_DIM": (AttributeRelationship(level="dimensions", dimensions=("A",)), False),
        "AT_GROUP": (AttributeRelationship(level="group", group="G"), False),
        "AT_OBS": (AttributeRelationship(level="observation"), False),
    }
    assert [m.id for m in dsd.measures] == ["M1", "M2"]


def test_21_stubs_partial_schemes_constraints_and_time_bounds() -> None:
    structures = """
<str:Codelists>
 <str:Codelist id="CL_STUB" agencyID="ILO" version="2.0" isFinal="true" isExternalReference="true"
   structureURL="https://example.org/codelist/ILO/CL_STUB/2.0"><com:Name>Stub</com:Name>
 </str:Codelist>
 <str:Codelist id="CL_PART" agencyID="ILO" isPartial="true"><com:Name>Part</com:Name>
  <str:Code id="X"><com:Name xml:lang="fr">Ex</com:Name>
   <com:Description xml:lang="fr">D</com:Description>
  </str:Code></str:Codelist>
</str:Codelists>
<str:Constraints>
 <str:ContentConstraint id="CC" agencyID="ILO" type="Allowed"><com:Name>C</com:Name>
  <str:ConstraintAttachment><str:Dataflow><URN>urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ILO:DF_X(1.0)</URN>
  </str:Dataflow></str:ConstraintAttachment>
  <str:CubeRegion include="false"><com:KeyValue id="SEX"><com:Value>SEX_T</com:Value></com:KeyValue>
   <com:KeyValue id="TIME_PERIOD"><com:TimeRange>
    <com:AfterPeriod isInclusive="false">2000</com:AfterPeriod>
   </com:TimeRange></com:KeyValue></str:CubeRegion>
 </str:ContentConstraint>
</str:Constraints>"""
    result = read_structures(_message_21(structures))
    stub, part, constraint = result.artefacts
    assert isinstance(stub, Codelist)
    assert isinstance(part, Codelist)
    assert (stub.is_stub, stub.structure_url, stub.version, stub.items) == (
        True, "https://example.org/codelist/ILO/CL_STUB/2.0", "2.0", ()
    )  # fmt: skip
    assert (part.is_partial, part.is_final, part.version) == (True, False, "1.0")
    assert part.items[0].names == {"fr": "Ex"}
    assert part.items[0].descriptions == {"fr": "D"}
    assert isinstance(constraint, ContentConstraint)
    assert constraint.role == "Allowed"
    assert constraint.attachment == (Ref(cls="Dataflow", agency="ILO", id="DF_X"),)
    region = constraint.cube_regions[0]
    assert (region.include, region.key_values, region.time_start, region.time_end) == (
        False, {"SEX": ("SEX_T",)}, "2000", None
    )  # fmt: skip
    assert len(result.skipped) == 1
    assert "exclusive" in result.skipped[0]


def test_parse_urn() -> None:
    assert parse_urn("urn:sdmx:org.sdmx.infomodel.codelist.Code=SDMX.X:CL_A(1.0.0).B") == Ref(
        cls="Code", agency="SDMX.X", id="CL_A", version="1.0.0", item="B"
    )
    assert parse_urn(
        " urn:sdmx:org.sdmx.infomodel.categoryscheme.Category=ESTAT:DS(1.0).PSC.DEM.TOT "
    ) == Ref(cls="Category", agency="ESTAT", id="DS", item="PSC.DEM.TOT")
    with pytest.raises(StructureReadError, match="not an SDMX artefact URN"):
        parse_urn("urn:isbn:0451450523")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<not xml", "not well-formed XML"),
        (b'<a xmlns="urn:x"/>', "is not an SDMX-ML 2.1/3.0 message"),
        (
            f'<m:GenericData xmlns:m="{V21}message"/>'.encode(),
            "SDMX-ML 2.1 GenericData message, not a structure message",
        ),
        (
            _message_21('<str:Codelists><str:Codelist id="CL_X"><com:Name>X</com:Name>'
                        "</str:Codelist></str:Codelists>"),
            r"line 5, Structure/Structures/Codelists/Codelist\[@id='CL_X'\]: "
            "the 'agencyID' attribute is missing",
        ),
        (
            _message_21('<str:Codelists><str:Codelist id="CL_X" agencyID="ILO" isFinal="yes">'
                        "<com:Name>X</com:Name></str:Codelist></str:Codelists>"),
            "isFinal='yes' is not a boolean",
        ),
        (
            _message_30('<str:Dataflows><str:Dataflow id="DF" agencyID="ILO"><com:Name>X</com:Name>'
                        "<str:Structure>urn:nonsense</str:Structure></str:Dataflow></str:Dataflows>"),
            "not an SDMX artefact URN",
        ),
    ],
)  # fmt: skip
def test_clear_errors_say_what_and_where(document: bytes, message: str) -> None:
    with pytest.raises(StructureReadError, match=message):
        read_structures(document)


# -- hostile XML -------------------------------------------------------------------------------

XXE_PAYLOADS = {
    "external entity": (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<mes:Structure xmlns:mes="{V21}message">&xxe;</mes:Structure>'
    ),
    "billion laughs": (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f'<mes:Structure xmlns:mes="{V21}message">&lol3;</mes:Structure>'
    ),
    "external DTD": (
        '<?xml version="1.0"?><!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd">'
        f'<mes:Structure xmlns:mes="{V21}message"/>'
    ),
    "parameter entity": (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'
        f'<mes:Structure xmlns:mes="{V21}message"/>'
    ),
}


@pytest.mark.parametrize("payload", XXE_PAYLOADS.values(), ids=XXE_PAYLOADS.keys())
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_documents_with_a_dtd_are_refused(payload: str, encoding: str, tmp_path: Path) -> None:
    data = payload.replace('<?xml version="1.0"?>', "").encode(encoding)
    with pytest.raises(StructureReadError, match="DTD"):
        read_structures(data)
    path = tmp_path / "evil.xml"
    path.write_bytes(data)
    with pytest.raises(StructureReadError, match="DTD"):
        read_structures(path)
