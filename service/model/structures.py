"""Structural artefacts: data structures, dataflows, constraints, agreements, categorisations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import msgspec

from service.model.base import Annotation, MaintainableArtefact, Ref, Representation

AttachmentLevel = Literal["dataset", "dimensions", "group", "observation"]


class Dimension(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A dimension. ``kind`` is ``time`` for the time dimension (TIME_PERIOD)."""

    id: str
    position: int
    concept: Ref
    representation: Representation | None = None
    kind: Literal["dimension", "time"] = "dimension"
    annotations: tuple[Annotation, ...] = ()


class AttributeRelationship(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False
):
    """Where an attribute attaches.

    - ``dataset``: to the whole data set (2.1 ``None``, 3.0 ``Dataflow``);
    - ``dimensions``: to the listed dimensions (``dimensions``), optionally through a group
      (``attachment_group``);
    - ``group``: to the group ``group``;
    - ``observation``: to the observation (2.1 ``PrimaryMeasure``, 3.0 ``Observation``).
    """

    level: AttachmentLevel
    dimensions: tuple[str, ...] = ()
    group: str | None = None
    attachment_group: str | None = None


class Attribute(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A data attribute. ``mandatory`` is 2.1 ``assignmentStatus="Mandatory"`` / 3.0 usage."""

    id: str
    concept: Ref
    relationship: AttributeRelationship
    representation: Representation | None = None
    mandatory: bool = False
    annotations: tuple[Annotation, ...] = ()


class Measure(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A measure (SDMX 2.1's primary measure, OBS_VALUE)."""

    id: str
    concept: Ref
    representation: Representation | None = None
    annotations: tuple[Annotation, ...] = ()


class Group(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A group key descriptor: a named subset of the dimensions."""

    id: str
    dimensions: tuple[str, ...]
    annotations: tuple[Annotation, ...] = ()


class DataStructure(
    MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True, tag="datastructure"
):
    """A data structure definition. ``dimensions`` are in key order, the time dimension last."""

    sdmx_class = "DataStructure"
    package = "datastructure"
    dimensions: tuple[Dimension, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    measures: tuple[Measure, ...] = ()
    groups: tuple[Group, ...] = ()

    @property
    def key_dimensions(self) -> tuple[Dimension, ...]:
        """The dimensions that form a series key (all but the time dimension)."""
        return tuple(d for d in self.dimensions if d.kind != "time")

    @property
    def time_dimension(self) -> Dimension | None:
        return next((d for d in self.dimensions if d.kind == "time"), None)

    @property
    def components(self) -> tuple[Dimension | Attribute | Measure, ...]:
        return (*self.dimensions, *self.attributes, *self.measures)

    def component(self, component_id: str) -> Dimension | Attribute | Measure | None:
        for comp in self.components:
            if comp.id == component_id:
                return comp
        return None

    def references(self) -> Iterator[Ref]:
        seen: set[Ref] = set()
        for comp in self.components:
            concept_scheme = Ref(
                cls="ConceptScheme",
                agency=comp.concept.agency,
                id=comp.concept.id,
                version=comp.concept.version,
            )
            rep = comp.representation
            for ref in (concept_scheme, rep.enumeration if rep is not None else None):
                if ref is not None and ref not in seen:
                    seen.add(ref)
                    yield ref


class Dataflow(MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True, tag="dataflow"):
    sdmx_class = "Dataflow"
    package = "datastructure"
    structure: Ref

    def references(self) -> Iterator[Ref]:
        yield self.structure


class CubeRegion(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A cube region: for each component, the values it includes (or excludes).

    ``time_start``/``time_end`` bound TIME_PERIOD where the region restricts it.
    """

    include: bool = True
    key_values: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    time_start: str | None = None
    time_end: str | None = None


class ContentConstraint(
    MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True, tag="contentconstraint"
):
    """A content constraint (SDMX 3.0: data constraint).

    ``role`` is ``Allowed`` or ``Actual``; ``attachment`` lists what it constrains (dataflows,
    data structures, provision agreements or data providers).
    """

    sdmx_class = "ContentConstraint"
    package = "registry"
    role: Literal["Allowed", "Actual"] = "Allowed"
    attachment: tuple[Ref, ...] = ()
    cube_regions: tuple[CubeRegion, ...] = ()

    def references(self) -> Iterator[Ref]:
        for ref in self.attachment:
            if ref.item is not None:
                yield Ref(
                    cls=_scheme_of(ref.cls), agency=ref.agency, id=ref.id, version=ref.version
                )
            else:
                yield ref

    def allowed_codes(self, component_id: str) -> tuple[str, ...] | None:
        """The codes an ``Allowed`` constraint includes for a component, or None if unrestricted."""
        values: dict[str, None] = {}  # insertion-ordered and without repeats, in linear time
        restricted = False
        for region in self.cube_regions:
            if region.include and component_id in region.key_values:
                restricted = True
                values.update(dict.fromkeys(region.key_values[component_id]))
        return tuple(values) if restricted else None


def allowed_codes(
    constraints: Iterable[ContentConstraint], component_id: str
) -> frozenset[str] | None:
    """The codes any of ``constraints`` allows for a component; None when none restricts it."""
    codes: set[str] | None = None
    for constraint in constraints:
        allowed = constraint.allowed_codes(component_id)
        if allowed is not None:
            codes = (codes or set()) | set(allowed)
    return frozenset(codes) if codes is not None else None


class ProvisionAgreement(
    MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True, tag="provisionagreement"
):
    """A provision agreement: a data provider may report data for a dataflow."""

    sdmx_class = "ProvisionAgreement"
    package = "registry"
    dataflow: Ref
    provider: Ref  # cls="DataProvider", id="DATA_PROVIDERS", item=<provider id>

    def references(self) -> Iterator[Ref]:
        yield self.dataflow
        yield Ref(
            cls="DataProviderScheme",
            agency=self.provider.agency,
            id=self.provider.id,
            version=self.provider.version,
        )


class Categorisation(
    MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True, tag="categorisation"
):
    """Links an artefact (``source``) to a category (``target``, with the category in ``item``)."""

    sdmx_class = "Categorisation"
    package = "categoryscheme"
    source: Ref
    target: Ref

    def references(self) -> Iterator[Ref]:
        yield self.source
        yield Ref(
            cls="CategoryScheme",
            agency=self.target.agency,
            id=self.target.id,
            version=self.target.version,
        )


_ITEM_SCHEMES = {
    "Code": "Codelist",
    "Concept": "ConceptScheme",
    "Category": "CategoryScheme",
    "Agency": "AgencyScheme",
    "DataProvider": "DataProviderScheme",
}


def _scheme_of(item_cls: str) -> str:
    return _ITEM_SCHEMES.get(item_cls, item_cls)
