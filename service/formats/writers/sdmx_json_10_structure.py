"""Module for writing SDMX-JSON 1.0 structure messages.

SDMX-JSON 1.0 follows the SDMX 2.1 information model: ``isFinal``, content constraints with a
``type``, ``assignmentStatus``, attribute relationships to ``none``/``dimensions`` (with
attachment groups)/``group``/``primaryMeasure`` and a single primary measure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import msgspec

from service.errors import SdmxError
from service.formats.base import Header, Lang
from service.formats.writers.json_common import (
    TIME_PERIOD,
    JsonObj,
    StructureBuilder,
    error_message,
)
from service.model import (
    AgencyScheme,
    Artefact,
    Attribute,
    AttributeRelationship,
    Categorisation,
    CategoryScheme,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Dimension,
    Group,
    ProvisionAgreement,
    Ref,
)

SCHEMA_URL = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/"
    "structure-message/tools/schemas/1.0/sdmx-json-structure-schema.json"
)

#: Constraint attachments that are arrays of URNs, by the class they reference.
_ATTACHMENTS = {
    "Dataflow": "dataflows",
    "DataStructure": "dataStructures",
    "ProvisionAgreement": "provisionAgreements",
}

#: SDMX 2.1's primary measure id, for observation-level attributes of a DSD without measures.
_OBS_VALUE = "OBS_VALUE"


class _Builder(StructureBuilder):
    schema_url = SCHEMA_URL
    collections: ClassVar[Mapping[type[Artefact], str]] = {
        Codelist: "codelists",
        ConceptScheme: "conceptSchemes",
        CategoryScheme: "categorySchemes",
        AgencyScheme: "agencySchemes",
        DataProviderScheme: "dataProviderSchemes",
        DataStructure: "dataStructures",
        Dataflow: "dataflows",
        ContentConstraint: "contentConstraints",
        ProvisionAgreement: "provisionAgreements",
        Categorisation: "categorisations",
    }
    class_aliases: ClassVar[Mapping[str, str]] = {"DataConstraint": "ContentConstraint"}
    format_key = "textFormat"
    type_key = "textType"
    coded_facets = None
    with_is_final = True
    with_annotation_value = False
    concept_parent_urn = True
    role_key = "type"

    # -- data structures ----------------------------------------------------------------------

    def components(self, dsd: DataStructure) -> JsonObj:
        """SDMX 2.1 has one primary measure: the first measure (2.1 sources have only one)."""
        out: JsonObj = {"dimensionList": self.dimension_list(dsd)}
        if dsd.groups:
            out["groups"] = [self.group(g) for g in dsd.groups]
        if dsd.attributes:
            primary = dsd.measures[0].id if dsd.measures else _OBS_VALUE
            out["attributeList"] = {
                "id": "AttributeDescriptor",
                "attributes": [self.attribute(a, primary) for a in dsd.attributes],
            }
        if dsd.measures:
            out["measureList"] = {
                "id": "MeasureDescriptor",
                "primaryMeasure": self.component(dsd.measures[0]),
            }
        return out

    def dimension_list(self, dsd: DataStructure) -> JsonObj:
        out: JsonObj = {"id": "DimensionDescriptor"}
        if dsd.key_dimensions:
            out["dimensions"] = [self.dimension(d) for d in dsd.key_dimensions]
        time = dsd.time_dimension
        if time is not None:
            out["timeDimensions"] = [self.time_dimension(time)]
        return out

    def dimension(self, dimension: Dimension) -> JsonObj:
        out = self.component(dimension)
        out["position"] = dimension.position
        out["type"] = "Dimension"
        return out

    def time_dimension(self, dimension: Dimension) -> JsonObj:
        out: JsonObj = {"id": dimension.id}
        if dimension.annotations:
            out["annotations"] = self.annotations(dimension.annotations)
        out["position"] = dimension.position
        out["type"] = "TimeDimension"
        out["conceptIdentity"] = self.concept_urn(dimension.concept, dimension.id)
        out["localRepresentation"] = self.time_representation(dimension.representation)
        return out

    def group(self, group: Group) -> JsonObj:
        out: JsonObj = {"id": group.id}
        if group.annotations:
            out["annotations"] = self.annotations(group.annotations)
        out["groupDimensions"] = list(group.dimensions)
        return out

    def attribute(self, attribute: Attribute, primary_measure: str) -> JsonObj:
        out = self.component(attribute)
        out["assignmentStatus"] = "Mandatory" if attribute.mandatory else "Conditional"
        out["attributeRelationship"] = attribute_relationship(
            attribute.relationship, primary_measure
        )
        return out

    # -- constraints and agreements -----------------------------------------------------------

    def constraint_attachment(self, refs: Sequence[Ref]) -> JsonObj:
        out: JsonObj = {}
        for ref in refs:
            if ref.cls == "DataProvider":
                out.setdefault("dataProvider", self.ref_urn(ref))
            elif ref.cls in _ATTACHMENTS:
                urns = out.setdefault(_ATTACHMENTS[ref.cls], [])
                urn = self.ref_urn(ref)
                if urn not in urns:
                    urns.append(urn)
        return out

    def cube_region(self, region: CubeRegion) -> JsonObj:
        keys: list[JsonObj] = [
            {"id": component, "values": list(values)}
            for component, values in region.key_values.items()
        ]
        time_range = self.time_range(region)
        if time_range is not None:
            keys.append({"id": TIME_PERIOD, "timeRange": time_range})
        return {"isIncluded": region.include, "keyValues": keys}

    def provision_agreement(self, agreement: ProvisionAgreement) -> JsonObj:
        """The dataflow and provider references, which the 1.0 schema requires (even of a stub)."""
        out = self.maintainable(agreement)
        out["structureUsage"] = self.ref_urn(agreement.dataflow, "Dataflow")
        out["dataProvider"] = self.ref_urn(agreement.provider, "DataProvider")
        return out


def attribute_relationship(relationship: AttributeRelationship, primary_measure: str) -> JsonObj:
    """SDMX 2.1 attachment: none (data set), dimensions (+ attachment group), group or the
    primary measure (observation)."""
    if relationship.level == "observation":
        return {"primaryMeasure": primary_measure}
    if relationship.level == "dimensions" and relationship.dimensions:
        out: JsonObj = {"dimensions": list(relationship.dimensions)}
        if relationship.attachment_group:
            out["attachmentGroups"] = [relationship.attachment_group]
        return out
    if relationship.level == "group" and relationship.group:
        return {"group": relationship.group}
    return {"none": {}}


class SdmxJson10StructureWriter:
    """SDMX-JSON 1.0 structure and error messages."""

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+json;version=1.0.0"

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        return msgspec.json.encode(_Builder(lang).message(artefacts, header))

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        return error_message(error, header, SCHEMA_URL)
