"""SDMX URNs: the package of each SDMX class, and building and parsing URNs.

``urn:sdmx:org.sdmx.infomodel.<package>.<Class>=<AGENCY>:<ID>(<VERSION>)[.<ITEM>]``. The one
place that knows this syntax: the model, every writer and the reader use it. A writer whose
SDMX version names a class differently (SDMX 3.0 ``DataConstraint``) passes its own name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from service.model.base import Ref

URN_PREFIX: Final = "urn:sdmx:org.sdmx.infomodel"

#: The URN package (and SDMX-ML 2.1 ``Ref/@package``) of each SDMX class a reference may name.
PACKAGES: Final[Mapping[str, str]] = {
    "Agency": "base",
    "AgencyScheme": "base",
    "DataConsumer": "base",
    "DataConsumerScheme": "base",
    "DataProvider": "base",
    "DataProviderScheme": "base",
    "OrganisationUnit": "base",
    "OrganisationUnitScheme": "base",
    "Categorisation": "categoryscheme",
    "Category": "categoryscheme",
    "CategoryScheme": "categoryscheme",
    "ReportingTaxonomy": "categoryscheme",
    "Code": "codelist",
    "Codelist": "codelist",
    "HierarchicalCodelist": "codelist",
    "Hierarchy": "codelist",
    "ValueList": "codelist",
    "Concept": "conceptscheme",
    "ConceptScheme": "conceptscheme",
    "Dataflow": "datastructure",
    "DataStructure": "datastructure",
    "Dimension": "datastructure",
    "TimeDimension": "datastructure",
    "DataAttribute": "datastructure",
    "Measure": "datastructure",
    "PrimaryMeasure": "datastructure",
    "Metadataflow": "metadatastructure",
    "MetadataStructure": "metadatastructure",
    "AttachmentConstraint": "registry",
    "ContentConstraint": "registry",
    "DataConstraint": "registry",
    "MetadataConstraint": "registry",
    "ProvisionAgreement": "registry",
    "StructureSet": "mapping",
    "Process": "process",
}

#: The item class of each item scheme class (for item URNs).
ITEM_CLASSES: Final[Mapping[str, str]] = {
    "Codelist": "Code",
    "ConceptScheme": "Concept",
    "CategoryScheme": "Category",
    "AgencyScheme": "Agency",
    "DataProviderScheme": "DataProvider",
}

#: Any package and class are accepted when parsing: a reference may name what we cannot write.
_URN: Final = re.compile(
    rf"^{re.escape(URN_PREFIX)}\.(?P<package>[A-Za-z]+)\.(?P<cls>[A-Za-z]+)="
    r"(?P<agency>[^:]+):(?P<id>[^()]+)\((?P<version>[^()]*)\)(?:\.(?P<item>.+))?$"
)


def package_of(sdmx_class: str) -> str:
    """The URN package of an SDMX class.

    Raises:
        ValueError: for a class this service does not know.
    """
    try:
        return PACKAGES[sdmx_class]
    except KeyError:
        raise ValueError(f"no SDMX package known for class {sdmx_class!r}") from None


def urn(sdmx_class: str, agency: str, id: str, version: str, item: str | None = None) -> str:
    """The URN of an artefact, or of an item or component of it when ``item`` is given.

    Raises:
        ValueError: for a class this service does not know.
    """
    base = f"{URN_PREFIX}.{package_of(sdmx_class)}.{sdmx_class}={agency}:{id}({version})"
    return f"{base}.{item}" if item else base


def ref_urn(ref: Ref, sdmx_class: str | None = None) -> str:
    """The URN of a reference; ``sdmx_class`` replaces the class it names (a version's name)."""
    return urn(sdmx_class or ref.cls, ref.agency, ref.id, ref.version, ref.item)


def parse_urn(text: str) -> Ref:
    """The reference an SDMX URN spells (surrounding white space is ignored).

    Raises:
        ValueError: when ``text`` is not an SDMX artefact or item URN.
    """
    match = _URN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an SDMX artefact URN")
    return Ref(
        cls=match["cls"],
        agency=match["agency"],
        id=match["id"],
        version=match["version"],
        item=match["item"],
    )
