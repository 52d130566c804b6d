"""SDMX-JSON 1.0 structure writer: schema validity, SDMX 2.1 flavour, ILOSTAT codelists.

The model samples and the ILO specimen helper come from the 2.0.0 tests.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from service.errors import NoResultsFound, SdmxError, SemanticError
from service.formats.base import Lang, StructureWriter
from service.formats.writers.sdmx_json_10_structure import SdmxJson10StructureWriter
from service.model import Artefact, CubeRegion
from tests.jsonschemas import validate_sdmx_json
from tests.shared import requires_shared
from tests.unit.formats.writers.test_sdmx_json_20_structure import (
    AGREEMENT,
    ALL,
    AREA,
    CATEGORIES,
    CATEGORISATION,
    CONCEPTS,
    CONSTRAINT,
    DSD,
    FLOW,
    FREQ,
    HEADER,
    NOTE,
    PARTIAL,
    PROVIDER_REF,
    SEX,
    STUB_URL,
    by_id,
    ilo_structures,
    only,
    self_urn,
    stub,
)

WRITER = SdmxJson10StructureWriter()
ENGLISH = Lang()
#: The start of every URN.
U = "urn:sdmx:org.sdmx.infomodel."


def write(artefacts: tuple[Artefact, ...] | list[Artefact], lang: Lang = ENGLISH) -> dict[str, Any]:
    """Write, validate against the official 1.0 schema, decode."""
    raw = WRITER.write_structures(artefacts, header=HEADER, lang=lang)
    validate_sdmx_json(raw, "structure", "1.0")
    doc: dict[str, Any] = json.loads(raw)
    return doc


class TestMessage:
    def test_is_a_structure_writer(self) -> None:
        writer: StructureWriter = WRITER
        assert writer.media_type == "application/vnd.sdmx.structure+json;version=1.0.0"

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
            "contentConstraints",
            "provisionAgreements",
            "categorisations",
        ]
        assert [c["id"] for c in data["codelists"]] == [
            "CL_FREQ",
            "CL_SEX",
            "CL_AREA",
            "CL_MEASURE",
        ]

    def test_meta(self) -> None:
        meta = write([FREQ], Lang(("es",)))["meta"]
        assert meta["schema"].endswith("/schemas/1.0/sdmx-json-structure-schema.json")
        assert (meta["id"], meta["prepared"], meta["sender"]) == (
            "IDREF42",
            "2026-05-18T10:40:07+00:00",
            {"id": "ILO"},
        )
        assert meta["contentLanguages"] == ["es", "en", "fr"]


class TestItemSchemes:
    @pytest.mark.parametrize("is_final", [True, False])
    def test_maintainable_properties(self, is_final: bool) -> None:
        model = msgspec.structs.replace(FREQ, is_final=is_final)
        codelist = only(write([model], Lang(("fr",))), "codelists")
        assert codelist["isFinal"] is is_final
        assert codelist["isExternalReference"] is False
        assert self_urn(codelist) == U + "codelist.Codelist=ILO:CL_FREQ(1.0)"
        assert (codelist["name"], codelist["names"]) == ("Fréquence", FREQ.names)
        assert (codelist["description"], codelist["descriptions"]) == (
            "À quelle fréquence",
            FREQ.descriptions,
        )

    def test_annotations_have_no_value(self) -> None:
        (annotation,) = only(write([FREQ], Lang(("es",))), "codelists")["annotations"]
        assert annotation == {
            "id": "NOTE1",
            "title": "Scope",
            "type": "NOTE",
            "text": "Solo migrantes",
            "texts": NOTE.text,
            "links": [{"rel": "self", "href": "https://ilostat.ilo.org/methods/"}],
        }

    def test_codes_with_parents(self) -> None:
        codes = only(write([SEX]), "codelists")["codes"]
        assert [c.get("parent") for c in codes] == [None, "SEX_T", "SEX_T"]
        assert self_urn(codes[2]) == U + "codelist.Code=ILO:CL_SEX(1.0).SEX_F"

    def test_partial(self) -> None:
        assert only(write([PARTIAL]), "codelists")["isPartial"] is True

    def test_concepts(self) -> None:
        concepts = by_id(only(write([CONCEPTS]), "conceptSchemes")["concepts"])
        assert concepts["FREQ"]["coreRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_FREQ(1.0)",
            "enumerationFormat": {"textType": "String", "maxLength": 1},
        }
        assert concepts["OBS_VALUE"]["coreRepresentation"] == {
            "textFormat": {"textType": "Double", "decimals": 2, "minValue": 0, "isSequence": False}
        }
        # SDMX-JSON 1.0 spells a concept's parent as a URN.
        assert concepts["NOTE_SOURCE"]["parent"] == (
            U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).OBS_STATUS"
        )

    def test_categories_are_nested(self) -> None:
        roots = only(write([CATEGORIES]), "categorySchemes")["categories"]
        assert [c["id"] for c in roots] == ["STOCK", "ABROAD"]
        assert roots[0]["categories"][0]["categories"][0]["id"] == "STOCK_EMP_ECO"


class TestDataStructure:
    def components(self) -> dict[str, Any]:
        dsd = only(write([DSD]), "dataStructures")
        components: dict[str, Any] = dsd["dataStructureComponents"]
        return components

    def test_dimensions_and_time_dimensions(self) -> None:
        dims = self.components()["dimensionList"]
        assert [(d["id"], d["position"], d["type"]) for d in dims["dimensions"]] == [
            ("REF_AREA", 1, "Dimension"),
            ("FREQ", 2, "Dimension"),
            ("SEX", 3, "Dimension"),
        ]
        assert dims["dimensions"][2]["localRepresentation"] == {
            "enumeration": U + "codelist.Codelist=ILO:CL_SEX(1.0)"
        }
        assert dims["timeDimensions"] == [
            {
                "id": "TIME_PERIOD",
                "position": 4,
                "type": "TimeDimension",
                "conceptIdentity": U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).TIME_PERIOD",
                "localRepresentation": {"textFormat": {"textType": "ObservationalTimePeriod"}},
            }
        ]

    def test_attributes_at_every_attachment_level(self) -> None:
        attributes = self.components()["attributeList"]["attributes"]
        found = {a["id"]: (a["assignmentStatus"], a["attributeRelationship"]) for a in attributes}
        assert found == {
            "UNIT_MULT": ("Conditional", {"none": {}}),
            "NOTE_SOURCE": ("Conditional", {"dimensions": ["REF_AREA", "TIME_PERIOD"]}),
            "DECIMALS": (
                "Conditional",
                {"dimensions": ["REF_AREA", "FREQ"], "attachmentGroups": ["SIBLING"]},
            ),
            "NOTE_GROUP": ("Conditional", {"group": "SIBLING"}),
            "OBS_STATUS": ("Mandatory", {"primaryMeasure": "OBS_VALUE"}),
        }

    def test_primary_measure_and_groups(self) -> None:
        components = self.components()
        assert components["measureList"] == {
            "id": "MeasureDescriptor",
            "primaryMeasure": {
                "id": "OBS_VALUE",
                "conceptIdentity": U + "conceptscheme.Concept=ILO:CS_ILMS(1.0).OBS_VALUE",
                "localRepresentation": {"textFormat": {"textType": "Double"}},
            },
        }
        assert components["groups"] == [{"id": "SIBLING", "groupDimensions": ["REF_AREA", "FREQ"]}]

    def test_dataflow(self) -> None:
        flow = only(write([FLOW]), "dataflows")
        assert flow["structure"] == U + "datastructure.DataStructure=ILO:DSD_ILMS_STOCK(1.0)"


class TestConstraintsAgreementsCategorisations:
    def test_content_constraint(self) -> None:
        constraint = only(write([CONSTRAINT]), "contentConstraints")
        assert self_urn(constraint) == U + "registry.ContentConstraint=ILO:CC_ILMS_STOCK_SEX(1.0)"
        assert constraint["type"] == "Allowed"
        assert constraint["constraintAttachment"] == {
            "dataflows": [U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)"]
        }
        included, excluded = constraint["cubeRegions"]
        assert included == {
            "isIncluded": True,
            "keyValues": [
                {"id": "REF_AREA", "values": ["THA", "PHL"]},
                {"id": "SEX", "values": ["SEX_T", "SEX_M", "SEX_F"]},
                {
                    "id": "TIME_PERIOD",
                    "timeRange": {
                        "startPeriod": {"period": "2010", "isInclusive": True},
                        "endPeriod": {"period": "2024", "isInclusive": True},
                    },
                },
            ],
        }
        assert excluded["isIncluded"] is False
        assert excluded["keyValues"][1]["timeRange"] == {
            "afterPeriod": {"period": "2000-01", "isInclusive": True}
        }

    def test_attachment_to_several_kinds(self) -> None:
        constraint = msgspec.structs.replace(
            CONSTRAINT,
            role="Actual",
            attachment=(PROVIDER_REF, FLOW.ref(), DSD.ref(), FLOW.ref()),
            cube_regions=(CubeRegion(time_end="2024"),),
        )
        written = only(write([constraint]), "contentConstraints")
        assert written["type"] == "Actual"
        assert written["constraintAttachment"] == {
            "dataProvider": U + "base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_MOL",
            "dataflows": [U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)"],
            "dataStructures": [U + "datastructure.DataStructure=ILO:DSD_ILMS_STOCK(1.0)"],
        }
        assert written["cubeRegions"][0]["keyValues"] == [
            {
                "id": "TIME_PERIOD",
                "timeRange": {"beforePeriod": {"period": "2024", "isInclusive": True}},
            }
        ]

    def test_provision_agreement(self) -> None:
        agreement = only(write([AGREEMENT]), "provisionAgreements")
        assert (
            agreement["structureUsage"] == U + "datastructure.Dataflow=ILO:DF_ILMS_STOCK_SEX(1.0)"
        )
        assert agreement["dataProvider"] == U + "base.DataProvider=ILO:DATA_PROVIDERS(1.0).THA_MOL"

    def test_categorisation(self) -> None:
        categorisation = only(write([CATEGORISATION]), "categorisations")
        assert categorisation["target"] == (
            U + "categoryscheme.Category=ILO:CAT_ILMS(1.0).STOCK.STOCK_EMP"
        )


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
    (written,) = next(iter(write([stub(artefact)])["data"].values()))
    assert written["isExternalReference"] is True
    assert written["links"][0]["href"] == STUB_URL
    assert not CONTENT_KEYS & written.keys()


@pytest.mark.parametrize(
    "error",
    [NoResultsFound("no dataflow matches ILO:DF_NONE(1.0)"), SemanticError("")],
    ids=["with-detail", "without-detail"],
)
def test_error_message(error: SdmxError) -> None:
    raw = WRITER.write_error(error, header=HEADER)
    validate_sdmx_json(raw, "structure", "1.0")
    doc = json.loads(raw)
    assert set(doc) == {"meta", "errors"}
    (entry,) = doc["errors"]
    assert (entry["code"], entry["title"]) == (error.code, error.title)
    assert entry.get("details") == ({"en": error.detail} if error.detail else None)


def test_validator_checks_uri_format() -> None:
    doc = write([AREA])
    doc["data"]["codelists"][0]["links"][0]["urn"] = "not a urn"
    with pytest.raises(AssertionError, match="uri"):
        validate_sdmx_json(doc, "structure", "1.0")


@requires_shared
class TestIlostat:
    @pytest.mark.parametrize("scheme_id", ["CL_SEX", "CL_AREA", "CL_ECO", "CS_ILOSTAT"])
    def test_scheme_keeps_names_in_three_languages_and_parents(self, scheme_id: str) -> None:
        model = ilo_structures()[scheme_id]
        collection = "conceptSchemes" if scheme_id.startswith("CS_") else "codelists"
        scheme = only(write([model], Lang(("es",))), collection)
        assert scheme["isFinal"] is True
        assert set(scheme["names"]) == {"en", "fr", "es"}
        items = scheme["concepts" if collection == "conceptSchemes" else "codes"]
        assert [i["id"] for i in items] == [i.id for i in model.items]
        for written, item in zip(items, model.items, strict=True):
            assert written["names"] == item.names
            assert written["name"] == item.names.get("es", item.names["en"])
            assert written.get("parent") == item.parent

    def test_every_specimen_scheme_validates_together(self) -> None:
        data = write(list(ilo_structures().values()))["data"]
        assert len(data["codelists"]) + len(data["conceptSchemes"]) == len(ilo_structures())
