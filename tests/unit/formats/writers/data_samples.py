"""Data messages for the SDMX-CSV and SDMX-JSON data writer tests: a tiny structure whose
output is spelled out in the tests, and the real ILMS stock structure with ILOSTAT's codes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from service.formats.readers.sdmx_ml_structure import read_structures
from service.formats.writers.data_common import DataMessage, DataSetInfo, DataSetPart, OutRow
from service.model import (
    Attribute,
    AttributeRelationship,
    Codelist,
    ConceptScheme,
    DataStructure,
    Dimension,
    Measure,
    Ref,
    Representation,
)

ROOT = Path(__file__).resolve().parents[4]
PREPARED = dt.datetime(2026, 5, 18, 10, 40, 7, tzinfo=dt.UTC)


def _concept(item: str) -> Ref:
    return Ref(cls="Concept", agency="TEST", id="CS", version="1.0", item=item)


def _codes(codelist: str) -> Representation:
    return Representation(enumeration=Ref(cls="Codelist", agency="TEST", id=codelist))


def _attribute(ident: str, rel: AttributeRelationship, coded: bool) -> Attribute:
    rep = _codes(f"CL_{ident}") if coded else None
    return Attribute(id=ident, concept=_concept(ident), relationship=rel, representation=rep)


#: REF_AREA, SEX, TIME_PERIOD; COMMENT (data set, uncoded), UNIT_MULT (attached to REF_AREA:
#: series level), OBS_STATUS (observation, coded), NOTE (observation, uncoded).
TINY = DataStructure(
    agency="TEST",
    id="DSD_TINY",
    dimensions=(
        Dimension(
            id="REF_AREA",
            position=0,
            concept=_concept("REF_AREA"),
            representation=_codes("CL_AREA"),
        ),
        Dimension(id="SEX", position=1, concept=_concept("SEX"), representation=_codes("CL_SEX")),
        Dimension(id="TIME_PERIOD", position=2, concept=_concept("TIME_PERIOD"), kind="time"),
    ),
    attributes=(
        _attribute("COMMENT", AttributeRelationship(level="dataset"), coded=False),
        _attribute(
            "UNIT_MULT",
            AttributeRelationship(level="dimensions", dimensions=("REF_AREA",)),
            coded=True,
        ),
        _attribute("OBS_STATUS", AttributeRelationship(level="observation"), coded=True),
        _attribute("NOTE", AttributeRelationship(level="observation"), coded=False),
    ),
    measures=(Measure(id="OBS_VALUE", concept=_concept("OBS_VALUE")),),
)

TINY_COMPONENT_NAMES = {
    "REF_AREA": "Reference area",
    "SEX": "Sex",
    "TIME_PERIOD": "Time",
    "OBS_VALUE": "Observation value",
    "COMMENT": "Comment",
    "UNIT_MULT": "Unit multiplier",
    "OBS_STATUS": "Status",
    "NOTE": "Note",
}
TINY_CODE_NAMES = {
    ("REF_AREA", "THA"): "Thailand",
    ("SEX", "SEX_F"): "Female",
    ("SEX", "SEX_M"): "Male",
    ("UNIT_MULT", "3"): "Thousands",
    ("OBS_STATUS", "E"): "Estimated value",
}

#: Two series of THA: SEX_F (2019, 2020), SEX_M (2019, without value).
TINY_ROWS: list[OutRow] = [
    (("THA", "SEX_F"), "2019", "10.5", {"COMMENT": "Demo", "UNIT_MULT": "3", "OBS_STATUS": "E"}),
    (
        ("THA", "SEX_F"),
        "2020",
        "11",
        {"COMMENT": "Demo", "UNIT_MULT": "3", "NOTE": 'Break, "new" series'},
    ),
    (("THA", "SEX_M"), "2019", "", {"COMMENT": "Demo", "UNIT_MULT": "3"}),
]


def tiny_message(**options: Any) -> DataMessage:
    """A message for TEST:DF_TINY(1.0), time at observation level, names known."""
    fields: dict[str, Any] = {
        "structure": "dataflow",
        "ref": ("TEST", "DF_TINY", "1.0"),
        "dsd": TINY,
        "dimension_at_observation": "TIME_PERIOD",
        "prepared": PREPARED,
        "message_id": "IREF42",
        "component_name": TINY_COMPONENT_NAMES.get,
        "code_name": lambda component, code: TINY_CODE_NAMES.get((component, code)),
        "structure_name": "Tiny flow",
    }
    fields.update(options)
    return DataMessage(**fields)


def one(rows: Iterable[OutRow], action: str = "I", **info: Any) -> list[DataSetPart]:
    return [DataSetPart(DataSetInfo(action=action, **info), rows)]


def text(chunks: Iterable[bytes]) -> str:
    return b"".join(chunks).decode()


def crlf(*lines: str) -> str:
    """The lines of an SDMX-CSV message (LF-terminated: PostgreSQL writes plain exports)."""
    return "".join(f"{line}\n" for line in lines)


# -- the real ILMS stock structure ------------------------------------------------------------


@functools.cache
def stock_dsd() -> DataStructure:
    result = read_structures(ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml")
    found = [a for a in result.artefacts if isinstance(a, DataStructure)]
    return found[0]


@functools.cache
def _codelist(codelist_id: str) -> Codelist:
    result = read_structures(ROOT / "codelists" / f"ILO_{codelist_id}_1.0.xml")
    return next(a for a in result.artefacts if isinstance(a, Codelist))


@functools.cache
def _concepts(scheme_id: str) -> dict[str, dict[str, str]]:
    result = read_structures(ROOT / "codelists" / f"ILO_{scheme_id}_1.0.xml")
    scheme = next(a for a in result.artefacts if isinstance(a, ConceptScheme))
    return {c.id: c.names for c in scheme.items}


def stock_codes() -> dict[str, list[str]]:
    """The codes of each coded dimension and attribute of the stock structure."""
    dsd = stock_dsd()
    out: dict[str, list[str]] = {}
    components: list[Dimension | Attribute] = [*dsd.key_dimensions, *dsd.attributes]
    for component in components:
        rep = component.representation
        if rep is not None and rep.enumeration is not None:
            out[component.id] = [c.id for c in _codelist(rep.enumeration.id).items]
    return out


def stock_names(
    language: str = "en",
) -> tuple[Callable[[str], str | None], Callable[[str, str], str | None]]:
    """``component_name`` and ``code_name`` for the stock structure, from ILOSTAT's schemes."""
    dsd = stock_dsd()
    components: dict[str, Mapping[str, str]] = {}
    codelists: dict[str, str] = {}
    every: list[Dimension | Attribute | Measure] = [*dsd.dimensions, *dsd.attributes, *dsd.measures]
    for component in every:
        concepts = _concepts(component.concept.id)
        components[component.id] = concepts.get(component.concept.item or component.id, {})
        rep = component.representation
        if rep is not None and rep.enumeration is not None:
            codelists[component.id] = rep.enumeration.id

    def component_name(component: str) -> str | None:
        return components.get(component, {}).get(language)

    def code_name(component: str, code: str) -> str | None:
        codelist = codelists.get(component)
        if codelist is None:
            return None
        found = next((c for c in _codelist(codelist).items if c.id == code), None)
        return found.names.get(language) if found is not None else None

    return component_name, code_name


def stock_message(**options: Any) -> DataMessage:
    component_name, code_name = stock_names()
    fields: dict[str, Any] = {
        "structure": "dataflow",
        "ref": ("ILO", "DF_ILMS_A01", "1.0"),
        "dsd": stock_dsd(),
        "dimension_at_observation": "TIME_PERIOD",
        "prepared": PREPARED,
        "component_name": component_name,
        "code_name": code_name,
        "structure_name": "International migrant stock",
    }
    fields.update(options)
    return DataMessage(**fields)
