"""Module for writing SDMX-ML 3.0 structure messages."""

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

NS: Final = xc.SDMX_ML_30
_El = etree._Element

TIME_DIMENSION_ID: Final = xc.TIME_PERIOD

#: ``message:Structures`` children this writer uses. SDMXStructure.xsd takes them in any
#: order (``xs:all``); this one puts what is referred to before what refers to it, so that
#: readers resolving references as they go (sdmx1) never meet a forward reference.
CONTAINER_ORDER: Final = (
    "AgencySchemes",
    "DataProviderSchemes",
    "Codelists",
    "ConceptSchemes",
    "CategorySchemes",
    "DataStructures",
    "Dataflows",
    "Categorisations",
    "ProvisionAgreements",
    "DataConstraints",
)

#: SDMX 3.0 renamed the content constraint.
_CLASS_30: Final[Mapping[str, str]] = {"ContentConstraint": "DataConstraint"}


class SdmxMl30StructureWriter:
    """Writes SDMX-ML 3.0.0 ``Structure`` and ``Error`` messages. Stateless and thread-safe.

    References are URNs. What SDMX-ML 3.0 cannot say is adapted:

    - there is no ``isFinal`` (finality is in the version) and organisation schemes have no
      ``version`` attribute (their URN still says ``1.0``);
    - a data constraint holds at most one included and one excluded cube region: several
      regions of one kind are merged into the smallest cube that holds them all;
    - an attribute relationship has no attachment group (the dimensions are kept);
    - a constraint attaches to one kind of artefact: attachments of another kind than the
      first are left out;
    - an artefact or item without names gets its id as English name (Name is required).
    """

    media_type: ClassVar[str] = "application/vnd.sdmx.structure+xml;version=3.0.0"

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


# --- URNs ---------------------------------------------------------------------------------


def sdmx_30_class(sdmx_class: str) -> str:
    """The SDMX 3.0 name of a class (``ContentConstraint`` is ``DataConstraint``)."""
    return _CLASS_30.get(sdmx_class, sdmx_class)


def ref_urn(ref: Ref) -> str:
    """The SDMX 3.0 URN of a reference."""
    return xc.urn(sdmx_30_class(ref.cls), ref.agency, ref.id, ref.version, ref.item)


def _add_urn(parent: _El, tag: str, ref: Ref) -> None:
    etree.SubElement(parent, NS.s(tag)).text = ref_urn(ref)


# --- maintainable artefacts ---------------------------------------------------------------


def _write_artefact(container: _El, artefact: Artefact) -> None:
    spec = _SPECS[type(artefact)]
    el = etree.SubElement(container, NS.s(spec.element), _maintainable_attrib(artefact))
    _add_nameable(el, artefact.annotations, artefact.names, artefact.descriptions, artefact.id)
    if not artefact.is_stub or spec.body_required:
        spec.body(el, artefact)


def _maintainable_attrib(artefact: MaintainableArtefact) -> dict[str, str]:
    sdmx_class = sdmx_30_class(artefact.sdmx_class)
    attrib = {
        "id": artefact.id,
        "urn": xc.urn(sdmx_class, artefact.agency, artefact.id, artefact.version),
        "agencyID": artefact.agency,
    }
    if not isinstance(artefact, AgencyScheme | DataProviderScheme):
        attrib["version"] = artefact.version
    if artefact.valid_from:
        attrib["validFrom"] = artefact.valid_from
    if artefact.valid_to:
        attrib["validTo"] = artefact.valid_to
    if artefact.is_stub:
        attrib["isExternalReference"] = "true"
        if artefact.structure_url:
            attrib["structureURL"] = artefact.structure_url
    if isinstance(artefact, ItemScheme) and artefact.is_partial:
        attrib["isPartial"] = "true"
    if isinstance(artefact, ContentConstraint):
        attrib["role"] = artefact.role
    return attrib


def _add_nameable(
    el: _El,
    annotations: Sequence[Annotation],
    names: Mapping[str, str],
    descriptions: Mapping[str, str],
    fallback_name: str,
) -> None:
    xc.add_annotations(el, NS, annotations, with_value=True)
    xc.add_names(el, NS, names, fallback_name)
    xc.add_texts(el, NS.c("Description"), descriptions)


# --- item schemes -------------------------------------------------------------------------


def _add_item(parent: _El, tag: str, item: Item, item_urn: str) -> _El:
    el = etree.SubElement(parent, NS.s(tag), {"id": item.id, "urn": item_urn})
    _add_nameable(el, item.annotations, item.names, item.descriptions, item.id)
    return el


def _item_urn_prefix(scheme: ItemScheme, item_class: str) -> str:
    return xc.urn(item_class, scheme.agency, scheme.id, scheme.version) + "."


def _add_parent(el: _El, parent: str | None) -> None:
    if parent:
        etree.SubElement(el, NS.s("Parent")).text = parent


def _codelist(el: _El, codelist: Codelist) -> None:
    prefix = _item_urn_prefix(codelist, "Code")
    for code in codelist.items:
        _add_parent(_add_item(el, "Code", code, prefix + code.id), code.parent)


def _concept_scheme(el: _El, scheme: ConceptScheme) -> None:
    prefix = _item_urn_prefix(scheme, "Concept")
    for concept in scheme.items:
        concept_el = _add_item(el, "Concept", concept, prefix + concept.id)
        _add_parent(concept_el, concept.parent)
        _add_representation(concept_el, "CoreRepresentation", concept.core_representation)


def _category_scheme(el: _El, scheme: CategoryScheme) -> None:
    _add_categories(el, xc.category_tree(scheme), None, _item_urn_prefix(scheme, "Category"))


def _add_categories(
    el: _El, children: Mapping[str | None, list[Category]], parent: str | None, prefix: str
) -> None:
    for category in children.get(parent, ()):
        category_el = _add_item(el, "Category", category, prefix + category.id)
        _add_categories(category_el, children, category.id, f"{prefix}{category.id}.")


def _agency_scheme(el: _El, scheme: AgencyScheme) -> None:
    prefix = _item_urn_prefix(scheme, "Agency")
    for agency in scheme.items:
        _add_item(el, "Agency", agency, prefix + agency.id)


def _data_provider_scheme(el: _El, scheme: DataProviderScheme) -> None:
    prefix = _item_urn_prefix(scheme, "DataProvider")
    for provider in scheme.items:
        _add_item(el, "DataProvider", provider, prefix + provider.id)


# --- representations ----------------------------------------------------------------------


def _add_enumeration(parent: _El, ref: Ref) -> None:
    _add_urn(parent, "Enumeration", ref)


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
        for measure in dsd.measures:
            _add_measure(measures, measure)


def _add_component(
    parent: _El, tag: str, attrib: dict[str, str], comp: Dimension | Attribute | Measure
) -> _El:
    el = etree.SubElement(parent, NS.s(tag), attrib)
    xc.add_annotations(el, NS, comp.annotations, with_value=True)
    _add_urn(el, "ConceptIdentity", comp.concept)
    return el


def _add_dimension(parent: _El, dim: Dimension) -> None:
    el = _add_component(parent, "Dimension", {"id": dim.id, "position": str(dim.position)}, dim)
    _add_representation(el, "LocalRepresentation", dim.representation, simple=True)


def _add_time_dimension(parent: _El, dim: Dimension) -> None:
    el = _add_component(parent, "TimeDimension", {"id": TIME_DIMENSION_ID}, dim)
    xc.add_time_representation(el, NS, dim.representation)


def _add_group(parent: _El, group: Group) -> None:
    el = etree.SubElement(parent, NS.s("Group"), {"id": group.id})
    xc.add_annotations(el, NS, group.annotations, with_value=True)
    for dim_id in group.dimensions:
        dim_el = etree.SubElement(el, NS.s("GroupDimension"))
        etree.SubElement(dim_el, NS.s("DimensionReference")).text = dim_id


def _add_attribute(parent: _El, attribute: Attribute) -> None:
    usage = "mandatory" if attribute.mandatory else "optional"
    el = _add_component(parent, "Attribute", {"id": attribute.id, "usage": usage}, attribute)
    _add_representation(el, "LocalRepresentation", attribute.representation)
    _add_relationship(etree.SubElement(el, NS.s("AttributeRelationship")), attribute.relationship)


def _add_relationship(el: _El, rel: AttributeRelationship) -> None:
    """Dataflow (data set), Dimension+, Group, or Observation."""
    if rel.level == "observation":
        etree.SubElement(el, NS.s("Observation"))
    elif rel.level == "group" and rel.group:
        etree.SubElement(el, NS.s("Group")).text = rel.group
    elif rel.level == "dimensions" and rel.dimensions:
        for dim_id in rel.dimensions:
            etree.SubElement(el, NS.s("Dimension")).text = dim_id
    else:
        etree.SubElement(el, NS.s("Dataflow"))


def _add_measure(parent: _El, measure: Measure) -> None:
    el = _add_component(parent, "Measure", {"id": measure.id}, measure)
    _add_representation(el, "LocalRepresentation", measure.representation)


# --- other structures ---------------------------------------------------------------------


def _dataflow(el: _El, dataflow: Dataflow) -> None:
    _add_urn(el, "Structure", dataflow.structure)


def _categorisation(el: _El, categorisation: Categorisation) -> None:
    _add_urn(el, "Source", categorisation.source)
    _add_urn(el, "Target", categorisation.target)


def _provision_agreement(el: _El, agreement: ProvisionAgreement) -> None:
    _add_urn(el, "Dataflow", agreement.dataflow)
    _add_urn(el, "DataProvider", agreement.provider)


def _data_constraint(el: _El, constraint: ContentConstraint) -> None:
    _add_attachment(el, constraint.attachment)
    for region in merge_regions(constraint.cube_regions):
        _add_cube_region(el, region)


def _add_attachment(parent: _El, refs: Sequence[Ref]) -> None:
    """ConstraintAttachment: one data provider, or data structures, dataflows or agreements."""
    if not refs:
        return
    el = etree.SubElement(parent, NS.s("ConstraintAttachment"))
    kind = refs[0].cls
    for ref in refs if kind != "DataProvider" else refs[:1]:
        if ref.cls == kind:
            _add_urn(el, kind, ref)


def merge_regions(regions: Sequence[CubeRegion]) -> list[CubeRegion]:
    """At most one included and one excluded region, as SDMX-ML 3.0 requires.

    Regions of one kind merge into their bounding cube: a component restricted in every
    region keeps the union of its values; a component left free by any region is free.
    """
    merged: dict[bool, CubeRegion] = {}
    for region in regions:
        seen = merged.get(region.include)
        merged[region.include] = region if seen is None else _bounding_cube(seen, region)
    return list(merged.values())


def _bounding_cube(a: CubeRegion, b: CubeRegion) -> CubeRegion:
    key_values = {
        component: tuple(dict.fromkeys((*values, *b.key_values[component])))
        for component, values in a.key_values.items()
        if component in b.key_values
    }
    start = min(a.time_start, b.time_start) if a.time_start and b.time_start else None
    end = max(a.time_end, b.time_end) if a.time_end and b.time_end else None
    return CubeRegion(include=a.include, key_values=key_values, time_start=start, time_end=end)


def _add_cube_region(parent: _El, region: CubeRegion) -> None:
    el = etree.SubElement(parent, NS.s("CubeRegion"), {"include": xc.bool_text(region.include)})
    for component, values in region.key_values.items():
        key_el = etree.SubElement(el, NS.s("KeyValue"), {"id": component})
        for value in values:
            etree.SubElement(key_el, NS.s("Value")).text = value
    if region.time_start or region.time_end:
        key_el = etree.SubElement(el, NS.s("KeyValue"), {"id": TIME_DIMENSION_ID})
        xc.add_time_range(key_el, NS.s, region.time_start, region.time_end)


# --- dispatch -----------------------------------------------------------------------------


_Spec = xc.StructureSpec

_SPECS: Final[Mapping[type, _Spec]] = {
    AgencyScheme: _Spec("AgencySchemes", "AgencyScheme", _agency_scheme),
    Categorisation: _Spec("Categorisations", "Categorisation", _categorisation),
    CategoryScheme: _Spec("CategorySchemes", "CategoryScheme", _category_scheme),
    Codelist: _Spec("Codelists", "Codelist", _codelist),
    ConceptScheme: _Spec("ConceptSchemes", "ConceptScheme", _concept_scheme),
    ContentConstraint: _Spec("DataConstraints", "DataConstraint", _data_constraint),
    Dataflow: _Spec("Dataflows", "Dataflow", _dataflow),
    DataProviderScheme: _Spec("DataProviderSchemes", "DataProviderScheme", _data_provider_scheme),
    DataStructure: _Spec("DataStructures", "DataStructure", _data_structure),
    ProvisionAgreement: _Spec(
        "ProvisionAgreements", "ProvisionAgreement", _provision_agreement, body_required=True
    ),
}

_CONTAINER_OF: Final = {cls: spec.container for cls, spec in _SPECS.items()}
