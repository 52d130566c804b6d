"""Module for writing SDMX-ML 2.1 structure messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Final

from lxml import etree

from service.errors import SdmxError
from service.formats import xml_common as xc
from service.formats.base import Header, Lang
from service.model import (
    AgencyScheme,
    Annotation,
    Attribute,
    AttributeRelationship,
    Categorisation,
    Category,
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
    Item,
    ItemScheme,
    MaintainableArtefact,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)
from service.model.types import Artefact

NS: Final = xc.SDMX_ML_21
_El = etree._Element

#: The primary measure and the time dimension have fixed ids in SDMX-ML 2.1.
PRIMARY_MEASURE_ID: Final = "OBS_VALUE"
TIME_DIMENSION_ID: Final = xc.TIME_PERIOD

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


class SdmxMl21StructureWriter:
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

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        root = xc.new_message(NS, "Structure", header)
        if artefacts:
            structures = etree.SubElement(root, NS.m("Structures"))
            groups = xc.group_by_container(artefacts, _CONTAINER_OF, CONTAINER_ORDER)
            for name, members in groups:
                container = etree.SubElement(structures, NS.s(name))
                for artefact in members:
                    _write_artefact(container, artefact)
        return xc.to_bytes(root)

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        return xc.error_message(NS, error)


# --- maintainable artefacts -------------------------------------------------------------


def _write_artefact(container: _El, artefact: Artefact) -> None:
    spec = _SPECS[type(artefact)]
    el = etree.SubElement(container, NS.s(spec.element), _maintainable_attrib(artefact))
    _add_nameable(el, artefact.annotations, artefact.names, artefact.descriptions, artefact.id)
    if not artefact.is_stub or spec.body_required:
        spec.body(el, artefact)


def _maintainable_attrib(artefact: MaintainableArtefact) -> dict[str, str]:
    attrib = {
        "id": artefact.id,
        "urn": artefact.urn,
        "agencyID": artefact.agency,
        "version": artefact.version,
    }
    if artefact.valid_from:
        attrib["validFrom"] = artefact.valid_from
    if artefact.valid_to:
        attrib["validTo"] = artefact.valid_to
    if artefact.is_stub:
        attrib["isExternalReference"] = "true"
        if artefact.structure_url:
            attrib["structureURL"] = artefact.structure_url
    if not isinstance(artefact, AgencyScheme | DataProviderScheme):
        attrib["isFinal"] = xc.bool_text(artefact.is_final)
    if isinstance(artefact, ItemScheme) and artefact.is_partial:
        attrib["isPartial"] = "true"
    if isinstance(artefact, ContentConstraint):
        attrib["type"] = artefact.role
    return attrib


def _add_nameable(
    el: _El,
    annotations: Sequence[Annotation],
    names: Mapping[str, str],
    descriptions: Mapping[str, str],
    fallback_name: str,
) -> None:
    xc.add_annotations(el, NS, annotations, with_value=False)
    xc.add_names(el, NS, names, fallback_name)
    xc.add_texts(el, NS.c("Description"), descriptions)


# --- references ---------------------------------------------------------------------------


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
    attrib["package"] = xc.package_of(ref.cls)
    attrib["class"] = ref.cls
    return attrib


def _add_ref(parent: _El, tag: str, ref: Ref) -> None:
    etree.SubElement(etree.SubElement(parent, tag), "Ref", _ref_attrib(ref))


def _add_local_ref(parent: _El, tag: str, id_: str) -> None:
    etree.SubElement(etree.SubElement(parent, tag), "Ref", {"id": id_})


# --- item schemes -------------------------------------------------------------------------


def _add_item(parent: _El, tag: str, item: Item) -> _El:
    el = etree.SubElement(parent, NS.s(tag), {"id": item.id})
    _add_nameable(el, item.annotations, item.names, item.descriptions, item.id)
    return el


def _codelist(el: _El, codelist: Codelist) -> None:
    for code in codelist.items:
        code_el = _add_item(el, "Code", code)
        if code.parent:
            _add_local_ref(code_el, NS.s("Parent"), code.parent)


def _concept_scheme(el: _El, scheme: ConceptScheme) -> None:
    for concept in scheme.items:
        concept_el = _add_item(el, "Concept", concept)
        if concept.parent:
            _add_local_ref(concept_el, NS.s("Parent"), concept.parent)
        _add_representation(concept_el, "CoreRepresentation", concept.core_representation)


def _category_scheme(el: _El, scheme: CategoryScheme) -> None:
    _add_categories(el, xc.category_tree(scheme), None)


def _add_categories(
    el: _El, children: Mapping[str | None, list[Category]], parent: str | None
) -> None:
    for category in children.get(parent, ()):
        _add_categories(_add_item(el, "Category", category), children, category.id)


def _agency_scheme(el: _El, scheme: AgencyScheme) -> None:
    for agency in scheme.items:
        _add_item(el, "Agency", agency)


def _data_provider_scheme(el: _El, scheme: DataProviderScheme) -> None:
    for provider in scheme.items:
        _add_item(el, "DataProvider", provider)


# --- representations ----------------------------------------------------------------------


def _add_enumeration(parent: _El, ref: Ref) -> None:
    _add_ref(parent, NS.s("Enumeration"), ref)


def _add_representation(
    parent: _El, tag: str, rep: Representation | None, *, simple: bool = False
) -> None:
    xc.add_representation(
        parent, NS.s(tag), rep, ns=NS, add_enumeration=_add_enumeration, simple=simple
    )


# --- data structures ----------------------------------------------------------------------


def _data_structure(el: _El, dsd: DataStructure) -> None:
    components = etree.SubElement(el, NS.s("DataStructureComponents"))
    dims = etree.SubElement(components, NS.s("DimensionList"), {"id": "DimensionDescriptor"})
    for dim in dsd.key_dimensions:
        _add_dimension(dims, dim)
    if dsd.time_dimension is not None:
        _add_time_dimension(dims, dsd.time_dimension)
    for group in dsd.groups:
        _add_group(components, group)
    if dsd.attributes:
        attrs = etree.SubElement(components, NS.s("AttributeList"), {"id": "AttributeDescriptor"})
        for attribute in dsd.attributes:
            _add_attribute(attrs, attribute)
    if dsd.measures:
        measures = etree.SubElement(components, NS.s("MeasureList"), {"id": "MeasureDescriptor"})
        _add_measure(measures, dsd.measures[0])


def _add_component(
    parent: _El, tag: str, attrib: dict[str, str], comp: Dimension | Attribute | Measure
) -> _El:
    el = etree.SubElement(parent, NS.s(tag), attrib)
    xc.add_annotations(el, NS, comp.annotations, with_value=False)
    _add_ref(el, NS.s("ConceptIdentity"), comp.concept)
    return el


def _add_dimension(parent: _El, dim: Dimension) -> None:
    attrib = {"id": dim.id, "position": str(dim.position)}
    el = _add_component(parent, "Dimension", attrib, dim)
    _add_representation(el, "LocalRepresentation", dim.representation, simple=True)


def _add_time_dimension(parent: _El, dim: Dimension) -> None:
    attrib = {"id": TIME_DIMENSION_ID, "position": str(dim.position)}
    el = _add_component(parent, "TimeDimension", attrib, dim)
    xc.add_time_representation(el, NS, dim.representation)


def _add_group(parent: _El, group: Group) -> None:
    el = etree.SubElement(parent, NS.s("Group"), {"id": group.id})
    xc.add_annotations(el, NS, group.annotations, with_value=False)
    for dim_id in group.dimensions:
        dim_el = etree.SubElement(el, NS.s("GroupDimension"))
        _add_local_ref(dim_el, NS.s("DimensionReference"), dim_id)


def _add_attribute(parent: _El, attribute: Attribute) -> None:
    status = "Mandatory" if attribute.mandatory else "Conditional"
    attrib = {"id": attribute.id, "assignmentStatus": status}
    el = _add_component(parent, "Attribute", attrib, attribute)
    _add_representation(el, "LocalRepresentation", attribute.representation, simple=True)
    _add_relationship(etree.SubElement(el, NS.s("AttributeRelationship")), attribute.relationship)


def _add_relationship(el: _El, rel: AttributeRelationship) -> None:
    """None (data set), Dimension+ [AttachmentGroup], Group, or PrimaryMeasure (observation)."""
    if rel.level == "observation":
        _add_local_ref(el, NS.s("PrimaryMeasure"), PRIMARY_MEASURE_ID)
    elif rel.level == "group" and rel.group:
        _add_local_ref(el, NS.s("Group"), rel.group)
    elif rel.level == "dimensions" and rel.dimensions:
        for dim_id in rel.dimensions:
            _add_local_ref(el, NS.s("Dimension"), dim_id)
        if rel.attachment_group:
            _add_local_ref(el, NS.s("AttachmentGroup"), rel.attachment_group)
    else:
        etree.SubElement(el, NS.s("None"))


def _add_measure(parent: _El, measure: Measure) -> None:
    el = _add_component(parent, "PrimaryMeasure", {"id": PRIMARY_MEASURE_ID}, measure)
    _add_representation(el, "LocalRepresentation", measure.representation, simple=True)


# --- other structures ---------------------------------------------------------------------


def _dataflow(el: _El, dataflow: Dataflow) -> None:
    _add_ref(el, NS.s("Structure"), dataflow.structure)


def _categorisation(el: _El, categorisation: Categorisation) -> None:
    _add_ref(el, NS.s("Source"), categorisation.source)
    _add_ref(el, NS.s("Target"), categorisation.target)


def _provision_agreement(el: _El, agreement: ProvisionAgreement) -> None:
    _add_ref(el, NS.s("StructureUsage"), agreement.dataflow)
    _add_ref(el, NS.s("DataProvider"), agreement.provider)


def _content_constraint(el: _El, constraint: ContentConstraint) -> None:
    _add_attachment(el, constraint.attachment)
    for region in constraint.cube_regions:
        _add_cube_region(el, region)


def _add_attachment(parent: _El, refs: Sequence[Ref]) -> None:
    """ConstraintAttachment: one data provider, or data structures, dataflows or agreements."""
    if not refs:
        return
    el = etree.SubElement(parent, NS.s("ConstraintAttachment"))
    kind = refs[0].cls
    for ref in refs if kind != "DataProvider" else refs[:1]:
        if ref.cls == kind:
            _add_ref(el, NS.s(kind), ref)


def _add_cube_region(parent: _El, region: CubeRegion) -> None:
    el = etree.SubElement(parent, NS.s("CubeRegion"), {"include": xc.bool_text(region.include)})
    for component, values in region.key_values.items():
        key_el = etree.SubElement(el, NS.c("KeyValue"), {"id": component})
        for value in values:
            etree.SubElement(key_el, NS.c("Value")).text = value
    if region.time_start or region.time_end:
        key_el = etree.SubElement(el, NS.c("KeyValue"), {"id": TIME_DIMENSION_ID})
        xc.add_time_range(key_el, NS.c, region.time_start, region.time_end)


# --- dispatch -----------------------------------------------------------------------------


_Spec = xc.StructureSpec

_SPECS: Final[Mapping[type, _Spec]] = {
    AgencyScheme: _Spec("OrganisationSchemes", "AgencyScheme", _agency_scheme),
    DataProviderScheme: _Spec("OrganisationSchemes", "DataProviderScheme", _data_provider_scheme),
    Dataflow: _Spec("Dataflows", "Dataflow", _dataflow),
    CategoryScheme: _Spec("CategorySchemes", "CategoryScheme", _category_scheme),
    Categorisation: _Spec("Categorisations", "Categorisation", _categorisation),
    Codelist: _Spec("Codelists", "Codelist", _codelist),
    ConceptScheme: _Spec("Concepts", "ConceptScheme", _concept_scheme),
    DataStructure: _Spec("DataStructures", "DataStructure", _data_structure),
    ContentConstraint: _Spec("Constraints", "ContentConstraint", _content_constraint),
    ProvisionAgreement: _Spec(
        "ProvisionAgreements", "ProvisionAgreement", _provision_agreement, body_required=True
    ),
}

_CONTAINER_OF: Final = {cls: spec.container for cls, spec in _SPECS.items()}
