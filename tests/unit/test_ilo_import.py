"""The ILO import reproduces ILOSTAT's codelists and concept schemes exactly, reproducibly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from lxml import etree

from service.formats.readers.sdmx_ml_structure import StructureReadResult, read_structures
from service.ilo_import import (
    DEFAULT_CODELISTS,
    DEFAULT_CONCEPT_SCHEMES,
    IloImportError,
    import_ilo,
    untouched_files,
)
from service.model import Codelist, ConceptScheme
from tests.shared import ILO_SPECIMEN, requires_shared
from tests.xsd import validate_sdmx_ml

pytestmark = requires_shared

V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/"
STR, COM, MES = f"{{{V21}structure}}", f"{{{V21}common}}", f"{{{V21}message}}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EXPECTED_FILES = [f"ILO_{i}_1.0.xml" for i in (*DEFAULT_CODELISTS, *DEFAULT_CONCEPT_SCHEMES)]


@pytest.fixture(scope="module")
def specimen() -> StructureReadResult:
    return read_structures(ILO_SPECIMEN)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return import_ilo(ILO_SPECIMEN, tmp_path_factory.mktemp("codelists"))


def _coded_concepts_codelists() -> list[str]:
    """Codelists the specimen's concept schemes refer to, in document order (raw lxml)."""
    found: list[str] = []
    for ref in etree.parse(str(ILO_SPECIMEN)).iterfind(
        ".//{*}ConceptScheme//{*}CoreRepresentation/{*}Enumeration/Ref"
    ):
        if ref.get("id") not in found:
            found.append(ref.get("id"))
    return found


def test_one_file_per_codelist_and_concept_scheme(imported: list[Path]) -> None:
    assert len(DEFAULT_CODELISTS) == 21
    names = [p.name for p in imported]
    extra = [c for c in _coded_concepts_codelists() if c not in DEFAULT_CODELISTS]
    assert extra, "ILOSTAT's concepts are coded by codelists beyond the ILMS ones"
    expected = [
        *(f"ILO_{i}_1.0.xml" for i in (*DEFAULT_CODELISTS, *extra)),
        *(f"ILO_{i}_1.0.xml" for i in DEFAULT_CONCEPT_SCHEMES),
    ]
    assert names == expected
    assert sorted(p.name for p in imported[0].parent.iterdir()) == sorted(expected)


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_file_is_valid_sdmx_ml_21(imported: list[Path], name: str) -> None:
    validate_sdmx_ml((imported[0].parent / name).read_bytes(), "2.1")


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_file_reads_back_equal_to_the_specimen(
    imported: list[Path], specimen: StructureReadResult, name: str
) -> None:
    back = read_structures(imported[0].parent / name)
    assert back.skipped == []
    assert len(back.artefacts) == 1
    artefact = back.artefacts[0]
    originals = [
        a
        for a in specimen.artefacts
        if isinstance(a, Codelist | ConceptScheme) and a.id == artefact.id
    ]
    assert len(originals) == 1
    assert artefact == originals[0]  # msgspec struct equality: every field, every item
    assert isinstance(artefact, Codelist | ConceptScheme)
    assert len(artefact.items) == len(originals[0].items) > 0


def test_headers_are_derived_from_the_artefact_and_the_source(
    imported: list[Path], specimen: StructureReadResult
) -> None:
    back = read_structures(imported[0].parent / "ILO_CL_SEX_1.0.xml")
    assert back.message_id == "ILO_CL_SEX_1_0"
    assert back.prepared == specimen.prepared


def _parent(code: etree._Element) -> str | None:
    ref = code.find(f"{STR}Parent/Ref")
    return None if ref is None else ref.get("id")


def _raw_codes(path: Path, codelist_id: str) -> list[tuple[object, ...]]:
    """CL_ECO's codes read with plain lxml, independent of the reader under test."""
    root = etree.parse(str(path)).getroot()
    codelist = root.find(f"{MES}Structures/{STR}Codelists/{STR}Codelist[@id='{codelist_id}']")
    assert codelist is not None
    assert codelist.get("agencyID") == "ILO"
    assert codelist.get("version") == "1.0"
    return [
        (
            code.get("id"),
            [(n.get(XML_LANG), n.text) for n in code.findall(f"{COM}Name")],
            [(n.get(XML_LANG), n.text) for n in code.findall(f"{COM}Description")],
            _parent(code),
            len(code.findall(f"{COM}Annotations/{COM}Annotation")),
            [a.findtext(f"{COM}AnnotationTitle") for a in code.iter(f"{COM}Annotation")],
        )
        for code in codelist.findall(f"{STR}Code")
    ]


def test_cl_eco_raw_xml_is_reproduced(imported: list[Path]) -> None:
    source = _raw_codes(ILO_SPECIMEN, "CL_ECO")
    copy = _raw_codes(imported[0].parent / "ILO_CL_ECO_1.0.xml", "CL_ECO")
    assert copy == source
    by_id = {row[0]: row for row in copy}
    assert by_id["ECO_ISIC4_A"][1] == [
        ("en", "A. Agriculture; forestry and fishing"),
        ("es", "A. Agricultura; ganadería; silvicultura y pesca"),
        ("fr", "A. Agriculture; sylviculture et pêche"),
    ]
    assert by_id["ECO_ISIC4_A"][3] == "ECO_ISIC4"
    assert by_id["ECO_ISIC4_A"][4] == 2
    assert sum(1 for row in copy if row[3] is not None) == 73
    assert len(copy) == len(source) == 78


def test_running_twice_gives_identical_bytes(imported: list[Path], tmp_path: Path) -> None:
    again = import_ilo(ILO_SPECIMEN, tmp_path)
    assert [p.name for p in again] == [p.name for p in imported]
    for first, second in zip(imported, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    rerun = import_ilo(ILO_SPECIMEN, tmp_path)
    assert [p.read_bytes() for p in rerun] == [p.read_bytes() for p in imported]
    assert not list(tmp_path.glob(".*.tmp"))


def test_other_files_are_left_untouched_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = tmp_path / "ILO_CL_OLD_1.0.xml"
    stale.write_bytes(b"<old/>")
    outdated = tmp_path / "ILO_CL_SEX_1.0.xml"
    outdated.write_bytes(b"<outdated/>")
    with caplog.at_level(logging.INFO, logger="service.ilo_import"):
        written = import_ilo(ILO_SPECIMEN, tmp_path, codelist_ids=["CL_SEX"], concept_schemes=[])
    assert written == [outdated]
    assert outdated.read_bytes() != b"<outdated/>"
    assert stale.read_bytes() == b"<old/>"
    assert untouched_files(tmp_path, written) == [stale]
    assert "ILO_CL_OLD_1.0.xml" in caplog.text


def test_a_missing_requested_id_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IloImportError, match="no Codelist CL_NOPE, CL_GONE") as info:
        import_ilo(ILO_SPECIMEN, tmp_path, codelist_ids=["CL_SEX", "CL_NOPE", "CL_GONE"])
    assert "CL_SEX" in str(info.value)  # the message lists what the source does hold
    with pytest.raises(IloImportError, match="no ConceptScheme CS_NOPE"):
        import_ilo(ILO_SPECIMEN, tmp_path, concept_schemes=["CS_NOPE"])
    assert list(tmp_path.iterdir()) == []
