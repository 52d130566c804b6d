"""Module for writing SDMX-ML 2.1 structure messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Final

from lxml import etree

from service.formats import xml_common as xc
from service.model import (
    AgencyScheme,
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
    Measure,
    ProvisionAgreement,
    Ref,
)
from service.model.types import Artefact
from service.model.urn import package_of

NS: Final = xc.SDMX_ML_21
_El = etree._Element

#: The primary measure has a fixed id in SDMX-ML 2.1 (the time dimension's: xc.TIME_PERIOD).
PRIMARY_MEASURE_ID: Final = "OBS_VALUE"

#: ``message:Structures`` children, in the order SDMXStructure.xsd requires.
CONTAINER_ORDER: Final = (
    "OrganisationSchemes",
    "Dataflows",
    "Metadataflows",
    "CategorySchemes",
    "Categorisations",
    "Codelists",
    "HierarchicalCodelists",
    "Concepts",
    "MetadataStructures",
    "DataStructures",
    "StructureSets",
    "ReportingTaxonomies",
    "Processes",
    "Constraints",
    "ProvisionAgreements",
)

_Spec = xc.StructureSpec


class SdmxMl21StructureWriter(xc.SdmxMlStructureWriter):
    """Writes SDMX-ML 2.1 ``Structure`` and ``Error`` messages. Stateless and thread-safe.

    What SDMX-ML 2.1 cannot say is adapted, not dropped silently where avoidable:

    - the primary measure is always ``OBS_VALUE`` (only the first measure is written; a
      data structure without a measure or a dimension cannot be valid SDMX-ML 2.1);
    - agency and data provider schemes never carry ``isFinal`` (the XSD fixes it to false);
    - a constraint attaches to one kind of artefact: attachments of another kind than the
      first are left out;
    - an artefact or item without names gets its id as English name (Name is required).
    """

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+xml;version=2.1"
    ns = NS
    container_order = CONTAINER_ORDER
    specs: ClassVar[Mapping[type[Artefact], _Spec]] = {
        AgencyScheme: _Spec("OrganisationSchemes", "AgencyScheme"),
        DataProviderScheme: _Spec("OrganisationSchemes", "DataProviderScheme"),
        Dataflow: _Spec("Dataflows", "Dataflow"),
        CategoryScheme: _Spec("CategorySchemes", "CategoryScheme"),
        Categorisation: _Spec("Categorisations", "Categorisation"),
        Codelist: _Spec("Codelists", "Codelist"),
        ConceptScheme: _Spec("Concepts", "ConceptScheme"),
        DataStructure: _Spec("DataStructures", "DataStructure"),
        ContentConstraint: _Spec("Constraints", "ContentConstraint"),
        ProvisionAgreement: _Spec("ProvisionAgreements", "ProvisionAgreement"),
    }
    with_annotation_value = False
    item_urns = False
    with_is_final = True
    versioned_organisation_schemes = True
    role_attribute = "type"
    time_position = True
    common_key_values = True
    agreement_dataflow = "StructureUsage"

    # -- references -------------------------------------------------------------------------

    def add_ref(self, parent: _El, tag: str, ref: Ref) -> None:
        etree.SubElement(etree.SubElement(parent, NS.s(tag)), "Ref", _ref_attrib(ref))

    def add_local_ref(self, parent: _El, tag: str, id_: str) -> None:
        etree.SubElement(etree.SubElement(parent, NS.s(tag)), "Ref", {"id": id_})

    # -- data structures --------------------------------------------------------------------

    def add_attribute(self, parent: _El, attribute: Attribute) -> None:
        status = "Mandatory" if attribute.mandatory else "Conditional"
        attrib = {"id": attribute.id, "assignmentStatus": status}
        el = self.add_component(parent, "Attribute", attrib, attribute)
        self.add_representation(el, "LocalRepresentation", attribute.representation, simple=True)
        self.add_relationship(
            etree.SubElement(el, NS.s("AttributeRelationship")), attribute.relationship
        )

    def add_relationship(self, el: _El, rel: AttributeRelationship) -> None:
        """None (data set), Dimension+ [AttachmentGroup], Group, or PrimaryMeasure (observation)."""
        if rel.level == "observation":
            self.add_local_ref(el, "PrimaryMeasure", PRIMARY_MEASURE_ID)
        elif rel.level == "group" and rel.group:
            self.add_local_ref(el, "Group", rel.group)
        elif rel.level == "dimensions" and rel.dimensions:
            for dim_id in rel.dimensions:
                self.add_local_ref(el, "Dimension", dim_id)
            if rel.attachment_group:
                self.add_local_ref(el, "AttachmentGroup", rel.attachment_group)
        else:
            etree.SubElement(el, NS.s("None"))

    def add_measures(self, parent: _El, measures: Sequence[Measure]) -> None:
        """The primary measure: the first measure, under SDMX 2.1's fixed id."""
        measure = measures[0]
        el = self.add_component(parent, "PrimaryMeasure", {"id": PRIMARY_MEASURE_ID}, measure)
        self.add_representation(el, "LocalRepresentation", measure.representation, simple=True)


def _ref_attrib(ref: Ref) -> dict[str, str]:
    """``Ref`` attributes as the ILO specimen writes them (item refs name their parent)."""
    if ref.item is None:
        attrib = {"id": ref.id, "version": ref.version}
    else:
        attrib = {
            "id": ref.item,
            "maintainableParentID": ref.id,
            "maintainableParentVersion": ref.version,
        }
    attrib["agencyID"] = ref.agency
    attrib["package"] = package_of(ref.cls)
    attrib["class"] = ref.cls
    return attrib
