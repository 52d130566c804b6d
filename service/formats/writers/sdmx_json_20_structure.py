"""Module for writing SDMX-JSON 2.0.0 structure messages.

SDMX-JSON 2.0.0 follows the SDMX 3.0 information model: no ``isFinal`` (a version without a
pre-release extension is final), data constraints with a ``role``, attribute relationships to
the ``dataflow``/``dimensions``/``group``/``observation`` and a ``measureList`` of measures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from service.formats.writers.json_common import (
    ATTACHMENT_KEYS,
    JsonObj,
    SdmxJsonStructureWriter,
    StructureBuilder,
)
from service.model import (
    Attribute,
    AttributeRelationship,
    CubeRegion,
    DataStructure,
    Group,
    Measure,
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


class _Builder(StructureBuilder):
    schema_url = SCHEMA_URL
    constraints_key = "dataConstraints"
    class_aliases: ClassVar[Mapping[str, str]] = {"ContentConstraint": "DataConstraint"}
    format_key = "format"
    type_key = "dataType"
    coded_facets = _CODED_FACETS
    with_is_final = False
    with_annotation_value = True
    concept_parent_urn = False
    role_key = "role"
    agreement_dataflow_key = "dataflow"
    typed_dimensions = False
    time_dimension_array = False

    # -- data structures ----------------------------------------------------------------------

    def attributes(self, dsd: DataStructure) -> list[JsonObj]:
        return [self.attribute(a) for a in dsd.attributes]

    def measures(self, measures: Sequence[Measure]) -> JsonObj:
        return {"measures": [self.component(m) for m in measures]}

    def group(self, group: Group) -> JsonObj:
        out = self.identified(group.id, group.annotations)
        if group.dimensions:
            out["groupDimensions"] = list(dict.fromkeys(group.dimensions))
        return out

    def attribute(self, attribute: Attribute) -> JsonObj:
        out = self.component(attribute)
        out["usage"] = "mandatory" if attribute.mandatory else "optional"
        out["attributeRelationship"] = attribute_relationship(attribute.relationship)
        return out

    # -- constraints --------------------------------------------------------------------------

    def constraint_attachment(self, refs: Sequence[Ref]) -> JsonObj | None:
        """What the constraint constrains: one kind of artefact, as the schema's ``oneOf`` and
        SDMX 3.0 require; the kind of the first reference wins."""
        if not refs:
            return None
        kind = refs[0].cls
        if kind == "DataProvider":
            return {"dataProvider": self.ref_urn(refs[0])}
        key = ATTACHMENT_KEYS.get(kind)
        if key is None:
            return None
        return {key: list(dict.fromkeys(self.ref_urn(r) for r in refs if r.cls == kind))}

    def cube_region(self, region: CubeRegion) -> JsonObj:
        out: JsonObj = {"include": region.include}
        keys = self.key_values(region)
        if keys:
            out["keyValues"] = keys
        return out

    def key_value(self, component: str, values: Sequence[str]) -> JsonObj:
        """Values are ``{"value": ...}`` objects: the schema allows them and pysdmx needs them."""
        if not values:
            return {"id": component}
        return {"id": component, "values": [{"value": v} for v in values]}


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


class SdmxJson20StructureWriter(SdmxJsonStructureWriter):
    """SDMX-JSON 2.0.0 structure and error messages."""

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+json;version=2.0.0"
    builder = _Builder
