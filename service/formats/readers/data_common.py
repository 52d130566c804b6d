"""Helpers shared by the SDMX-CSV (1.0, 2.0) and SDMX-JSON (1.0, 2.0) data readers."""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Literal

from service.model.base import Ref
from service.model.structures import DataStructure

ComponentKind = Literal["dimension", "time", "attribute", "measure"]

#: SDMX-CSV 2.0 ``STRUCTURE`` cell values and SDMX-JSON link relations -> SDMX class names.
STRUCTURE_CLASSES: Final[dict[str, str]] = {
    "dataflow": "Dataflow",
    "datastructure": "DataStructure",
    "dataprovision": "ProvisionAgreement",
    "provisionagreement": "ProvisionAgreement",
}

#: ``AGENCY:ID(VERSION)`` (the version may be left out since SDMX 3.0), optionally followed by
#: ``: Name`` as written with ``labels=both``. Agency ids may be nested (``SDMX.ILO``).
_STRUCTURE_ID: Final = re.compile(
    r"^\s*(?P<agency>[A-Za-z0-9_@$.\-]+):(?P<id>[A-Za-z0-9_@$\-]+)"
    r"(?:\((?P<version>[A-Za-z0-9_.+~*\-]+)\))?(?::\s.*)?\s*$",
    re.DOTALL,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Components:
    """What the readers need to know of a data structure: each component id and its role."""

    dsd: DataStructure
    kinds: dict[str, ComponentKind]
    #: The measure a row's ``value`` holds (the first one; SDMX 2.1's primary measure).
    primary_measure: str | None
    #: Attributes whose values are codes (a ``CODE: Label`` cell may be stripped to the code).
    coded_attributes: frozenset[str]

    @classmethod
    def of(cls, dsd: DataStructure) -> Components:
        kinds: dict[str, ComponentKind] = {}
        for dim in dsd.dimensions:
            kinds[dim.id] = "time" if dim.kind == "time" else "dimension"
        for attr in dsd.attributes:
            kinds[attr.id] = "attribute"
        for measure in dsd.measures:
            kinds[measure.id] = "measure"
        coded = frozenset(
            a.id
            for a in dsd.attributes
            if a.representation is not None and a.representation.enumeration is not None
        )
        primary = dsd.measures[0].id if dsd.measures else None
        return cls(dsd=dsd, kinds=kinds, primary_measure=primary, coded_attributes=coded)

    def describe(self) -> str:
        """``data structure AGENCY:ID(VERSION)``, for messages."""
        return f"data structure {self.dsd.agency}:{self.dsd.id}({self.dsd.version})"

    def measure_problem(self, measure_id: str) -> str | None:
        """Why a measure in a message cannot be read into a row's single ``value``, if it can't."""
        if self.kinds.get(measure_id) != "measure":
            return f"{measure_id!r} is not a measure of {self.describe()}"
        if measure_id != self.primary_measure:
            return (
                f"measure {measure_id!r} is not the first measure ({self.primary_measure}) of "
                f"{self.describe()}; rows carry a single measure value"
            )
        return None


def parse_structure_id(text: str) -> tuple[str, str, str] | None:
    """``(agency, id, version)`` from ``AGENCY:ID(VERSION)`` (a ``: Name`` suffix is ignored).

    A missing version (allowed since SDMX 3.0 for non-versioned artefacts) reads as ``1.0``,
    the information model's default.
    """
    match = _STRUCTURE_ID.match(text)
    if match is None:
        return None
    return match["agency"], match["id"], match["version"] or "1.0"


def structure_ref(kind: str, text: str) -> Ref | None:
    """The reference a structure kind (``dataflow``...) and ``AGENCY:ID(VERSION)`` spell."""
    cls = STRUCTURE_CLASSES.get(kind.strip().lower())
    parts = parse_structure_id(text)
    if cls is None or parts is None:
        return None
    agency, id_, version = parts
    return Ref(cls=cls, agency=agency, id=id_, version=version)


def strip_label(text: str) -> str:
    """``CODE`` from ``CODE: Label`` (SDMX-CSV ``labels=both``); other text unchanged."""
    return text.partition(": ")[0] if ": " in text else text
