"""Module for writing SDMX-JSON 2.0.0 structure messages.

SDMX-JSON 2.0.0 follows the SDMX 3.0 information model: no ``isFinal`` (a version without a
pre-release extension is final), data constraints with a ``role``, attribute relationships to
the ``dataflow``/``dimensions``/``group``/``observation`` and a ``measureList`` of measures.
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
    "structure-message/tools/schemas/2.0.0/sdmx-json-structure-schema.json"
)

#: The facets ``CodedTextFormatType`` allows (it forbids any other property).
_CODED_FACETS = frozenset(
    {
        "isSequence",
        "interval",
        "startValue",
        "endValue",
        "timeInterval",
        "startTime",
        "endTime",
        "minLength",
        "maxLength",
        "minValue",
        "maxValue",
        "pattern",
    }
)

#: Constraint attachments that are arrays of URNs, by the class they reference.
_ATTACHMENTS = {
    "Dataflow": "dataflows",
    "DataStructure": "dataStructures",
    "ProvisionAgreement": "provisionAgreements",
}


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
        ContentConstraint: "dataConstraints",
        ProvisionAgreement: "provisionAgreements",
        Categorisation: "categorisations",
    }
    class_aliases: ClassVar[Mapping[str, str]] = {"ContentConstraint": "DataConstraint"}
    format_key = "format"
    type_key = "dataType"
    coded_facets = _CODED_FACETS
    with_is_final = False
    with_annotation_value = True
    concept_parent_urn = False
    role_key = "role"

    # -- data structures ----------------------------------------------------------------------

    def components(self, dsd: DataStructure) -> JsonObj:
        out: JsonObj = {"dimensionList": self.dimension_list(dsd)}
        if dsd.groups:
            out["groups"] = [self.group(g) for g in dsd.groups]
        if dsd.attributes:
            out["attributeList"] = {
                "id": "AttributeDescriptor",
                "attributes": [self.attribute(a) for a in dsd.attributes],
            }
        if dsd.measures:
            out["measureList"] = {
                "id": "MeasureDescriptor",
                "measures": [self.component(m) for m in dsd.measures],
            }
        return out

    def dimension_list(self, dsd: DataStructure) -> JsonObj:
        out: JsonObj = {"id": "DimensionDescriptor"}
        if dsd.key_dimensions:
            out["dimensions"] = [self.dimension(d) for d in dsd.key_dimensions]
        time = dsd.time_dimension
        if time is not None:
            out["timeDimension"] = self.time_dimension(time)
        return out

    def dimension(self, dimension: Dimension) -> JsonObj:
        out = self.component(dimension)
        out["position"] = dimension.position
        return out

    def time_dimension(self, dimension: Dimension) -> JsonObj:
        out: JsonObj = {"id": dimension.id}
        if dimension.annotations:
            out["annotations"] = self.annotations(dimension.annotations)
        out["conceptIdentity"] = self.concept_urn(dimension.concept, dimension.id)
        out["localRepresentation"] = self.time_representation(dimension.representation)
        return out

    def group(self, group: Group) -> JsonObj:
        out: JsonObj = {"id": group.id}
        if group.annotations:
            out["annotations"] = self.annotations(group.annotations)
        if group.dimensions:
            out["groupDimensions"] = list(dict.fromkeys(group.dimensions))
        return out

    def attribute(self, attribute: Attribute) -> JsonObj:
        out = self.component(attribute)
        out["usage"] = "mandatory" if attribute.mandatory else "optional"
        out["attributeRelationship"] = attribute_relationship(attribute.relationship)
        return out

    # -- constraints and agreements -----------------------------------------------------------

    def constraint_attachment(self, refs: Sequence[Ref]) -> JsonObj | None:
        """What the constraint constrains: one kind of artefact, as the schema's ``oneOf`` and
        SDMX 3.0 require; the kind of the first reference wins."""
        if not refs:
            return None
        kind = refs[0].cls
        if kind == "DataProvider":
            return {"dataProvider": self.ref_urn(refs[0])}
        key = _ATTACHMENTS.get(kind)
        if key is None:
            return None
        return {key: list(dict.fromkeys(self.ref_urn(r) for r in refs if r.cls == kind))}

    def cube_region(self, region: CubeRegion) -> JsonObj:
        """Values are ``{"value": ...}`` objects: the schema allows them and pysdmx needs them."""
        keys: list[JsonObj] = [
            {"id": component, "values": [{"value": v} for v in values]}
            if values
            else {"id": component}
            for component, values in region.key_values.items()
        ]
        time_range = self.time_range(region)
        if time_range is not None:
            keys.append({"id": TIME_PERIOD, "timeRange": time_range})
        out: JsonObj = {"include": region.include}
        if keys:
            out["keyValues"] = keys
        return out

    def provision_agreement(self, agreement: ProvisionAgreement) -> JsonObj:
        """The dataflow and provider references (kept in stubs too, as 1.0 must)."""
        out = self.maintainable(agreement)
        out["dataflow"] = self.ref_urn(agreement.dataflow, "Dataflow")
        out["dataProvider"] = self.ref_urn(agreement.provider, "DataProvider")
        return out


def attribute_relationship(relationship: AttributeRelationship) -> JsonObj:
    """SDMX 3.0 attachment: exactly one of dataflow, dimensions, group or observation.

    SDMX 3.0 has no attachment groups: an attribute attached to dimensions through a group
    keeps its dimensions.
    """
    if relationship.level == "observation":
        return {"observation": {}}
    if relationship.level == "dimensions" and relationship.dimensions:
        return {"dimensions": list(dict.fromkeys(relationship.dimensions))}
    if relationship.level == "group" and relationship.group:
        return {"group": relationship.group}
    return {"dataflow": {}}


class SdmxJson20StructureWriter:
    """SDMX-JSON 2.0.0 structure and error messages."""

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+json;version=2.0.0"

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        return msgspec.json.encode(_Builder(lang).message(artefacts, header))

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        return error_message(error, header, SCHEMA_URL)
