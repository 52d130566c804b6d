"""The artefact union, and the SDMX REST structure type names that map onto it."""

from __future__ import annotations

import enum

from service.model.itemschemes import (
    AgencyScheme,
    CategoryScheme,
    Codelist,
    ConceptScheme,
    DataProviderScheme,
)
from service.model.structures import (
    Categorisation,
    ContentConstraint,
    Dataflow,
    DataStructure,
    ProvisionAgreement,
)

Artefact = (
    Codelist
    | ConceptScheme
    | CategoryScheme
    | AgencyScheme
    | DataProviderScheme
    | DataStructure
    | Dataflow
    | ContentConstraint
    | ProvisionAgreement
    | Categorisation
)

ARTEFACT_CLASSES: tuple[type[Artefact], ...] = (
    Codelist,
    ConceptScheme,
    CategoryScheme,
    AgencyScheme,
    DataProviderScheme,
    DataStructure,
    Dataflow,
    ContentConstraint,
    ProvisionAgreement,
    Categorisation,
)


class StructureType(enum.StrEnum):
    """The artefact types this service stores, by their SDMX REST v1 path name.

    SDMX REST v2 names constraints ``dataconstraint``; see ``service.query.structure``.
    """

    CODELIST = "codelist"
    CONCEPTSCHEME = "conceptscheme"
    CATEGORYSCHEME = "categoryscheme"
    AGENCYSCHEME = "agencyscheme"
    DATAPROVIDERSCHEME = "dataproviderscheme"
    DATASTRUCTURE = "datastructure"
    DATAFLOW = "dataflow"
    CONTENTCONSTRAINT = "contentconstraint"
    PROVISIONAGREEMENT = "provisionagreement"
    CATEGORISATION = "categorisation"


_BY_TYPE: dict[StructureType, type[Artefact]] = {
    StructureType(str(cls.__struct_config__.tag)): cls for cls in ARTEFACT_CLASSES
}
_BY_SDMX_CLASS: dict[str, type[Artefact]] = {cls.sdmx_class: cls for cls in ARTEFACT_CLASSES}


def artefact_class(key: StructureType | str) -> type[Artefact]:
    """The model class for a structure type (``codelist``) or SDMX class name (``Codelist``)."""
    if key in _BY_SDMX_CLASS:
        return _BY_SDMX_CLASS[key]
    return _BY_TYPE[StructureType(key)]


def structure_type(artefact: Artefact) -> StructureType:
    return StructureType(str(type(artefact).__struct_config__.tag))
