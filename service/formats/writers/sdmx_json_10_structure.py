"""Module for writing SDMX-JSON 1.0 structure messages.

SDMX-JSON 1.0 follows the SDMX 2.1 information model: ``isFinal``, content constraints with a
``type``, ``assignmentStatus``, attribute relationships to ``none``/``dimensions`` (with
attachment groups)/``group``/``primaryMeasure`` and a single primary measure.
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
    "structure-message/tools/schemas/1.0/sdmx-json-structure-schema.json"
)

#: SDMX 2.1's primary measure id, for observation-level attributes of a DSD without measures.
_OBS_VALUE = "OBS_VALUE"


class _Builder(StructureBuilder):
    schema_url = SCHEMA_URL
    constraints_key = "contentConstraints"
    class_aliases: ClassVar[Mapping[str, str]] = {"DataConstraint": "ContentConstraint"}
    format_key = "textFormat"
    type_key = "textType"
    coded_facets = None
    with_is_final = True
    with_annotation_value = False
    concept_parent_urn = True
    role_key = "type"
    agreement_dataflow_key = "structureUsage"
    typed_dimensions = True
    time_dimension_array = True

    # -- data structures ----------------------------------------------------------------------

    def attributes(self, dsd: DataStructure) -> list[JsonObj]:
        primary = dsd.measures[0].id if dsd.measures else _OBS_VALUE
        return [self.attribute(a, primary) for a in dsd.attributes]

    def measures(self, measures: Sequence[Measure]) -> JsonObj:
        """SDMX 2.1 has one primary measure: the first measure (2.1 sources have only one)."""
        return {"primaryMeasure": self.component(measures[0])}

    def group(self, group: Group) -> JsonObj:
        out = self.identified(group.id, group.annotations)
        out["groupDimensions"] = list(group.dimensions)
        return out

    def attribute(self, attribute: Attribute, primary_measure: str) -> JsonObj:
        out = self.component(attribute)
        out["assignmentStatus"] = "Mandatory" if attribute.mandatory else "Conditional"
        out["attributeRelationship"] = attribute_relationship(
            attribute.relationship, primary_measure
        )
        return out

    # -- constraints --------------------------------------------------------------------------

    def constraint_attachment(self, refs: Sequence[Ref]) -> JsonObj:
        out: JsonObj = {}
        for ref in refs:
            if ref.cls == "DataProvider":
                out.setdefault("dataProvider", self.ref_urn(ref))
            elif ref.cls in ATTACHMENT_KEYS:
                urns = out.setdefault(ATTACHMENT_KEYS[ref.cls], [])
                urn = self.ref_urn(ref)
                if urn not in urns:
                    urns.append(urn)
        return out

    def cube_region(self, region: CubeRegion) -> JsonObj:
        return {"isIncluded": region.include, "keyValues": self.key_values(region)}

    def key_value(self, component: str, values: Sequence[str]) -> JsonObj:
        return {"id": component, "values": list(values)}


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


class SdmxJson10StructureWriter(SdmxJsonStructureWriter):
    """SDMX-JSON 1.0 structure and error messages."""

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+json;version=1.0.0"
    builder = _Builder
