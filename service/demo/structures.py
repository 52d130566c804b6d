"""The shipped ILMS structures (dsd/, codelists/) as the demo and the generator need them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.formats.readers.sdmx_ml_structure import read_structures
from service.ilms.tables import TABLES, IlmsTable
from service.model import Codelist, ContentConstraint, Dataflow, DataStructure
from service.settings import PROJECT_ROOT

Codelists = Mapping[tuple[str, str, str], Codelist]

#: Where the shipped structure messages are (the checkout or ILMS_HOME).
DEFAULT_DIRS: tuple[Path, ...] = (PROJECT_ROOT / "codelists", PROJECT_ROOT / "dsd")
_TABLES = {f"DF_ILMS_{t.code}": t for t in TABLES}


@dataclass(frozen=True, slots=True)
class FlowStructures:
    """One ILMS dataflow with its DSD, its Allowed constraint and its ILMS table."""

    flow: Dataflow
    dsd: DataStructure
    constraint: ContentConstraint
    table: IlmsTable

    @property
    def structure_id(self) -> str:
        """``ILO:DF_ILMS_A03(1.0)``: the dataflow as SDMX-CSV's STRUCTURE_ID spells it."""
        return f"{self.flow.agency}:{self.flow.id}({self.flow.version})"


@dataclass(frozen=True, slots=True)
class IlmsStructures:
    """The ILMS dataflows (in table order), their DSDs and constraints, and every codelist."""

    flows: tuple[FlowStructures, ...]
    codelists: Codelists

    def flow(self, flow_id: str) -> FlowStructures:
        """The dataflow ``DF_ILMS_A03`` (or its table code, ``A03``)."""
        wanted = flow_id if flow_id.startswith("DF_") else f"DF_ILMS_{flow_id}"
        for found in self.flows:
            if found.flow.id == wanted:
                return found
        known = ", ".join(f.flow.id for f in self.flows)
        raise KeyError(f"no ILMS dataflow {flow_id!r}; known: {known}")

    def codes(self, codelist_id: str) -> tuple[str, ...]:
        """The code ids of the ILO codelist ``codelist_id`` (``CL_AREA``), in codelist order."""
        return tuple(code.id for code in self.codelist(codelist_id).items)

    def codelist(self, codelist_id: str) -> Codelist:
        for codelist in self.codelists.values():
            if codelist.id == codelist_id:
                return codelist
        raise KeyError(f"no codelist {codelist_id}")


def load_structures(dirs: Sequence[Path] = DEFAULT_DIRS) -> IlmsStructures:
    """Read the ILMS dataflows, DSDs, constraints and codelists from the folders ``dirs``."""
    return _load(tuple(dirs))


@cache
def _load(dirs: tuple[Path, ...]) -> IlmsStructures:
    artefacts = [a for path in _files(dirs) for a in read_structures(path).artefacts]
    dsds = {a.key: a for a in artefacts if isinstance(a, DataStructure)}
    constraints = {
        ref.id: c
        for c in artefacts
        if isinstance(c, ContentConstraint) and c.role == "Allowed"
        for ref in c.attachment
        if ref.cls == "Dataflow"
    }
    flows = sorted(
        (a for a in artefacts if isinstance(a, Dataflow) and a.id in _TABLES),
        key=lambda f: list(_TABLES).index(f.id),
    )
    return IlmsStructures(
        flows=tuple(
            FlowStructures(f, dsds[f.structure.maintainable_key], constraints[f.id], _TABLES[f.id])
            for f in flows
        ),
        codelists={a.key: a for a in artefacts if isinstance(a, Codelist)},
    )


def _files(dirs: Sequence[Path]) -> Iterator[Path]:
    for folder in dirs:
        yield from sorted(folder.glob("*.xml"))
