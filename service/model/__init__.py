"""The subset of the SDMX information model this service stores and serves.

One model for every SDMX version: the differences between SDMX-ML 2.1, SDMX-ML 3.0 and the
SDMX-JSON flavours live only in ``service/formats``. Every class is a frozen msgspec Struct, so
artefacts are immutable, cheap to build and round-trip losslessly through JSON for storage.
URNs are built and parsed in ``service.model.urn`` (``urn`` itself is imported from there: as a
name of this package it would hide the module).
"""

from service.model.base import (
    Annotation,
    Item,
    ItemScheme,
    Localised,
    MaintainableArtefact,
    Ref,
    Representation,
)
from service.model.itemschemes import (
    Agency,
    AgencyScheme,
    Category,
    CategoryScheme,
    Code,
    Codelist,
    Concept,
    ConceptScheme,
    DataProvider,
    DataProviderScheme,
)
from service.model.structures import (
    Attribute,
    AttributeRelationship,
    Categorisation,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataStructure,
    Dimension,
    Group,
    Measure,
    ProvisionAgreement,
)
from service.model.types import ARTEFACT_CLASSES, Artefact, StructureType, artefact_class
from service.model.urn import parse_urn, ref_urn

__all__ = [
    "ARTEFACT_CLASSES",
    "Agency",
    "AgencyScheme",
    "Annotation",
    "Artefact",
    "Attribute",
    "AttributeRelationship",
    "Categorisation",
    "Category",
    "CategoryScheme",
    "Code",
    "Codelist",
    "Concept",
    "ConceptScheme",
    "ContentConstraint",
    "CubeRegion",
    "DataProvider",
    "DataProviderScheme",
    "DataStructure",
    "Dataflow",
    "Dimension",
    "Group",
    "Item",
    "ItemScheme",
    "Localised",
    "MaintainableArtefact",
    "Measure",
    "ProvisionAgreement",
    "Ref",
    "Representation",
    "StructureType",
    "artefact_class",
    "parse_urn",
    "ref_urn",
]
