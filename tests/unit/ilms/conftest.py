"""Fixtures: ILOSTAT's codelists, the ILMS structures built on them, ILMS.md's tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.formats.readers.sdmx_ml_structure import read_structures
from service.ilms.build import build_ilms_structures, read_codelists
from service.model import Artefact, Codelist, ConceptScheme
from tests.shared import ILO_SPECIMEN, ROOT, SHARED

CODELISTS_DIR = ROOT / "codelists"
DSD_DIR = ROOT / "dsd"

#: How ILMS.md names a breakdown -> the dimensions that carry it.
MD_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "migrant status": ("CBR", "CCT"),
    "country of birth / citizenship": ("CBR", "CCT"),
    **{dim: (dim,) for dim in ("SEX", "AGE", "EDU", "ECO", "OCU", "STE", "CRS", "CDS", "CPR")},
}
_ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*$")
_MEASURE = re.compile(r"\b(?:MST|MFL|MNA)_[A-Z0-9]{4}_[A-Z]{2}\b")


@dataclass(frozen=True)
class MdTable:
    """One row of the table of ILMS tables in ILMS.md."""

    number: int
    module: str
    title: str
    measures: frozenset[str]
    breakdowns: frozenset[str]


def parse_md_tables(text: str) -> dict[int, MdTable]:
    rows: dict[int, MdTable] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        module, title, measures, breakdowns = (c.strip() for c in match.group(2).split("|"))
        dims = [MD_BREAKDOWNS[b.strip()] for b in breakdowns.split(",")]
        rows[int(match.group(1))] = MdTable(
            number=int(match.group(1)),
            module=module[0],
            title=title,
            measures=frozenset(_MEASURE.findall(measures)),
            breakdowns=frozenset(d for group in dims for d in group),
        )
    return rows


@pytest.fixture(scope="session")
def ilms_md() -> str:
    path = SHARED / "ILMS.md"
    if not path.is_file():
        pytest.skip(f"the public reference files are not at {SHARED}")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def md_tables(ilms_md: str) -> dict[int, MdTable]:
    return parse_md_tables(ilms_md)


@pytest.fixture(scope="session")
def specimen() -> list[Artefact]:
    """Every artefact of the real ILOSTAT structure message."""
    if not ILO_SPECIMEN.is_file():
        pytest.skip(f"the ILOSTAT specimen is not at {ILO_SPECIMEN}")
    return read_structures(ILO_SPECIMEN).artefacts


def _generated_codelists() -> list[Codelist]:
    return read_codelists(CODELISTS_DIR) if CODELISTS_DIR.is_dir() else []


@pytest.fixture(scope="session")
def ilo_codelists(request: pytest.FixtureRequest) -> list[Codelist]:
    """ILOSTAT's codelists: the generated codelists/ folder, else the ILOSTAT specimen."""
    found = _generated_codelists()
    if found:
        return found
    artefacts: list[Artefact] = request.getfixturevalue("specimen")
    return [a for a in artefacts if isinstance(a, Codelist)]


@pytest.fixture(scope="session")
def ilo_concept_schemes(request: pytest.FixtureRequest) -> list[ConceptScheme]:
    """ILOSTAT's concept schemes: from codelists/ once generated, else the ILOSTAT specimen."""
    paths = sorted(CODELISTS_DIR.glob("*.xml"))
    artefacts = [a for p in paths for a in read_structures(p).artefacts]
    found = [a for a in artefacts if isinstance(a, ConceptScheme)]
    if found:
        return found
    specimen: list[Artefact] = request.getfixturevalue("specimen")
    return [a for a in specimen if isinstance(a, ConceptScheme)]


@pytest.fixture(scope="session")
def structures(ilo_codelists: list[Codelist]) -> list[Artefact]:
    return build_ilms_structures(ilo_codelists)


@pytest.fixture(scope="session")
def codelists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of ILOSTAT codelists: codelists/ once generated, else one holding the specimen."""
    if _generated_codelists():
        return CODELISTS_DIR
    if not ILO_SPECIMEN.is_file():
        pytest.skip(f"neither {CODELISTS_DIR} nor the ILOSTAT specimen is there")
    folder = tmp_path_factory.mktemp("codelists")
    (folder / ILO_SPECIMEN.name).symlink_to(ILO_SPECIMEN)
    return folder
