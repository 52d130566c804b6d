"""Module for writing SDMX-ML 3.0 structure messages."""

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
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Measure,
    ProvisionAgreement,
    Ref,
)
from service.model.types import Artefact
from service.model.urn import ref_urn as _ref_urn

NS: Final = xc.SDMX_ML_30
_El = etree._Element

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

_Spec = xc.StructureSpec


def sdmx_30_class(sdmx_class: str) -> str:
    """The SDMX 3.0 name of a class (``ContentConstraint`` is ``DataConstraint``)."""
    return _CLASS_30.get(sdmx_class, sdmx_class)


def ref_urn(ref: Ref) -> str:
    """The SDMX 3.0 URN of a reference."""
    return _ref_urn(ref, sdmx_30_class(ref.cls))


class SdmxMl30StructureWriter(xc.SdmxMlStructureWriter):
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
    ns = NS
    container_order = CONTAINER_ORDER
    specs: ClassVar[Mapping[type[Artefact], _Spec]] = {
        AgencyScheme: _Spec("AgencySchemes", "AgencyScheme"),
        Categorisation: _Spec("Categorisations", "Categorisation"),
        CategoryScheme: _Spec("CategorySchemes", "CategoryScheme"),
        Codelist: _Spec("Codelists", "Codelist"),
        ConceptScheme: _Spec("ConceptSchemes", "ConceptScheme"),
        ContentConstraint: _Spec("DataConstraints", "DataConstraint"),
        Dataflow: _Spec("Dataflows", "Dataflow"),
        DataProviderScheme: _Spec("DataProviderSchemes", "DataProviderScheme"),
        DataStructure: _Spec("DataStructures", "DataStructure"),
        ProvisionAgreement: _Spec("ProvisionAgreements", "ProvisionAgreement"),
    }
    class_aliases = _CLASS_30
    with_annotation_value = True
    item_urns = True
    with_is_final = False
    versioned_organisation_schemes = False
    role_attribute = "role"
    time_position = False
    common_key_values = False
    agreement_dataflow = "Dataflow"

    # -- references -------------------------------------------------------------------------

    def add_ref(self, parent: _El, tag: str, ref: Ref) -> None:
        etree.SubElement(parent, NS.s(tag)).text = ref_urn(ref)

    def add_local_ref(self, parent: _El, tag: str, id_: str) -> None:
        etree.SubElement(parent, NS.s(tag)).text = id_

    # -- data structures --------------------------------------------------------------------

    def add_attribute(self, parent: _El, attribute: Attribute) -> None:
        usage = "mandatory" if attribute.mandatory else "optional"
        el = self.add_component(
            parent, "Attribute", {"id": attribute.id, "usage": usage}, attribute
        )
        self.add_representation(el, "LocalRepresentation", attribute.representation)
        self.add_relationship(
            etree.SubElement(el, NS.s("AttributeRelationship")), attribute.relationship
        )

    def add_relationship(self, el: _El, rel: AttributeRelationship) -> None:
        """Dataflow (data set), Dimension+, Group, or Observation."""
        if rel.level == "observation":
            etree.SubElement(el, NS.s("Observation"))
        elif rel.level == "group" and rel.group:
            self.add_local_ref(el, "Group", rel.group)
        elif rel.level == "dimensions" and rel.dimensions:
            for dim_id in rel.dimensions:
                self.add_local_ref(el, "Dimension", dim_id)
        else:
            etree.SubElement(el, NS.s("Dataflow"))

    def add_measures(self, parent: _El, measures: Sequence[Measure]) -> None:
        for measure in measures:
            el = self.add_component(parent, "Measure", {"id": measure.id}, measure)
            self.add_representation(el, "LocalRepresentation", measure.representation)

    # -- constraints ------------------------------------------------------------------------

    def cube_regions(self, constraint: ContentConstraint) -> Sequence[CubeRegion]:
        return merge_regions(constraint.cube_regions)


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
