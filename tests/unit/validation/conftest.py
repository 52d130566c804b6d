"""Fixtures: a small DSD that exercises every rule, and the real ILMS structures from dsd/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from service.formats.readers.sdmx_ml_structure import read_structures
from service.model import (
    Annotation,
    Attribute,
    AttributeRelationship,
    Code,
    Codelist,
    ContentConstraint,
    CubeRegion,
    DataStructure,
    Dimension,
    Measure,
    Ref,
    Representation,
)
from service.model.data import Action, DataRow
from service.model.structures import AttachmentLevel
from service.validation import RowValidator, ValidationContext
from tests.shared import ROOT

Codelists = dict[tuple[str, str, str], Codelist]


def _concept(cid: str) -> Ref:
    return Ref(cls="Concept", agency="TEST", id="CS", item=cid)


def codelist(cid: str, codes: dict[str, str]) -> Codelist:
    return Codelist(
        agency="TEST",
        id=cid,
        items=tuple(Code(id=k, names={"en": v}) for k, v in codes.items()),
    )


def coded(cid: str) -> Representation:
    return Representation(enumeration=Ref(cls="Codelist", agency="TEST", id=cid))


def dimension(did: str, position: int, cl: str) -> Dimension:
    return Dimension(id=did, position=position, concept=_concept(did), representation=coded(cl))


def attribute(
    aid: str,
    level: AttachmentLevel,
    rep: Representation | None = None,
    dims: tuple[str, ...] = (),
    mandatory: bool = False,
) -> Attribute:
    return Attribute(
        id=aid,
        concept=_concept(aid),
        relationship=AttributeRelationship(level=level, dimensions=dims),
        representation=rep,
        mandatory=mandatory,
    )


CODELISTS = [
    codelist("CL_AREA", {"THA": "Thailand", "VNM": "Viet Nam", "FRA": "France"}),
    codelist("CL_FREQ", {c: c for c in "ABDFMOQSTW"}),
    codelist("CL_MEASURE", {"M1": "Measure 1", "M2": "Measure 2", "M3": "Measure 3"}),
    codelist(
        "CL_OBS_STATUS",
        {
            "E": "Estimate",
            "M": "Model-based extrapolation",
            "N": "Not available",
            "X": "Not applicable",
        },
    ),
    codelist("CL_UNIT_MULT", {"0": "Units", "3": "Thousands"}),
    codelist("CL_CONF", {"F": "Free", "C": "Confidential"}),
]

#: REF_AREA, FREQ, MEASURE, TIME_PERIOD; attributes at every level, some mandatory.
DSD = DataStructure(
    agency="TEST",
    id="DSD_T",
    annotations=(Annotation(type="MAXTEXTATTRIBUTELENGTH", title="20"),),
    dimensions=(
        dimension("REF_AREA", 1, "CL_AREA"),
        dimension("FREQ", 2, "CL_FREQ"),
        dimension("MEASURE", 3, "CL_MEASURE"),
        Dimension(
            id="TIME_PERIOD",
            position=4,
            concept=_concept("TIME_PERIOD"),
            kind="time",
            representation=Representation(text_type="ObservationalTimePeriod"),
        ),
    ),
    attributes=(
        attribute("OBS_STATUS", "observation", coded("CL_OBS_STATUS")),
        attribute("UNIT_MULT", "dimensions", coded("CL_UNIT_MULT"), ("MEASURE",), True),
        attribute("TITLE", "dataset", mandatory=True),
        attribute("OBS_CONF", "observation", coded("CL_CONF"), mandatory=True),
        attribute("COMMENT", "observation", Representation(facets={"maxLength": "10"})),
        attribute("NOTE", "dimensions", None, ("REF_AREA", "MEASURE", "TIME_PERIOD")),
        attribute("UPPER", "observation", Representation(text_type="Double")),
    ),
    measures=(Measure(id="OBS_VALUE", concept=_concept("OBS_VALUE")),),
)

#: The dataflow allows M1 and M2 only (M3 is in the codelist); FRA is excluded.
CONSTRAINT = ContentConstraint(
    agency="TEST",
    id="CR_T",
    attachment=(Ref(cls="Dataflow", agency="TEST", id="DF_T"),),
    cube_regions=(
        CubeRegion(key_values={"MEASURE": ("M1", "M2")}),
        CubeRegion(include=False, key_values={"REF_AREA": ("FRA",)}),
    ),
)

VALID_KEY = {"REF_AREA": "THA", "FREQ": "A", "MEASURE": "M1"}
VALID_ATTRS = {"UNIT_MULT": "3", "TITLE": "Test data", "OBS_CONF": "F"}


def make_row(**changes: Any) -> DataRow:
    """A valid row of DSD_T, with ``changes``; key/attrs given as dicts are merged in."""
    key = {**VALID_KEY, **changes.pop("key", {})}
    attrs = {**VALID_ATTRS, **changes.pop("attrs", {})}
    for dim in changes.pop("drop_key", ()):
        key.pop(dim)
    for aid in changes.pop("drop_attrs", ()):
        attrs.pop(aid)
    fields: dict[str, Any] = {
        "key": key,
        "time": "2023",
        "value": "12.5",
        "attrs": attrs,
        "action": Action.INFORMATION,
        "location": "line 7",
    }
    fields.update(changes)
    return DataRow(**fields)


@pytest.fixture(scope="session")
def test_context() -> ValidationContext:
    codelists = {c.key: c for c in CODELISTS}
    return ValidationContext.build(
        DSD, codelists, [CONSTRAINT], provider_areas=frozenset({"THA", "FRA"})
    )


@pytest.fixture
def validator(test_context: ValidationContext) -> RowValidator:
    return RowValidator(test_context)


@dataclass(frozen=True)
class Ilms:
    """The ILMS stock DSD, its dataflows' constraints and ILOSTAT's codelists."""

    dsd: DataStructure
    constraints: dict[str, ContentConstraint]
    codelists: Codelists

    def context(self, table: str = "A05", **kwargs: Any) -> ValidationContext:
        constraint = self.constraints[f"CR_ILMS_{table}"]
        return ValidationContext.build(self.dsd, self.codelists, [constraint], **kwargs)


@pytest.fixture(scope="session")
def ilms() -> Ilms:
    artefacts = read_structures(ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml").artefacts
    codelists: Codelists = {}
    for path in sorted((ROOT / "codelists").glob("*.xml")):
        codelists.update(
            {a.key: a for a in read_structures(path).artefacts if isinstance(a, Codelist)}
        )
    return Ilms(
        dsd=next(a for a in artefacts if isinstance(a, DataStructure)),
        constraints={a.id: a for a in artefacts if isinstance(a, ContentConstraint)},
        codelists=codelists,
    )


def ilms_row(**changes: Any) -> DataRow:
    """A valid row of ILMS table 5 (DF_ILMS_A05) for Thailand, with ``changes``."""
    key = {
        "REF_AREA": "THA",
        "FREQ": "A",
        "MEASURE": "MST_TEMP_NB",
        "SEX": "SEX_T",
        "AGE": "AGE_AGGREGATE_TOTAL",
        "EDU": "EDU_ISCED11_TOTAL",
        "ECO": "ECO_ISIC4_C",
        "OCU": "OCU_ISCO08_TOTAL",
        "STE": "STE_ICSE93_TOTAL",
        "CBR": "CBR_BIR_FOREIGN",
        "CCT": "CCT_CIT_TOTAL",
    }
    key.update(changes.pop("key", {}))
    attrs = {"UNIT_MEASURE_TYPE": "NB", "UNIT_MEASURE": "PS", "UNIT_MULT": "3"}
    attrs.update(changes.pop("attrs", {}))
    fields: dict[str, Any] = {
        "key": key,
        "time": "2023",
        "value": "1234.5",
        "attrs": attrs,
        "action": Action.INFORMATION,
        "location": "row 2",
    }
    fields.update(changes)
    return DataRow(**fields)
