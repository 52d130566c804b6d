"""The dsd/ folder: written byte-stable, schema-valid, and read back by us, sdmx1 and pysdmx."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pysdmx.io
import pytest
import sdmx

from service.formats.readers.sdmx_ml_structure import read_structures
from service.ilms.build import ilms_files, write_dsd_dir
from service.model import Artefact, Codelist, ContentConstraint, DataStructure
from tests.unit.ilms.conftest import CODELISTS_DIR, DSD_DIR
from tests.xsd import validate_sdmx_ml

DSD_FILES = sorted(DSD_DIR.glob("*.xml"))
CODELIST_FILES = sorted(CODELISTS_DIR.glob("*.xml"))
EXPECTED_FILES = {
    "ILO_DSD_ILMS_STOCK_1.0.xml",
    "ILO_DSD_ILMS_FLOW_1.0.xml",
    "ILO_DSD_ILMS_ABROAD_1.0.xml",
    "ILO_CAS_ILMS_1.0.xml",
    "ILO_DATA_PROVIDERS_1.0.xml",
}
#: sdmx1 and pysdmx class names -> ours.
CLASSES = {
    "DataStructureDefinition": "DataStructure",
    "DataflowDefinition": "Dataflow",
    "DataConstraint": "ContentConstraint",
}

Key = tuple[str, str, str]


def _by_key(artefacts: list[Artefact]) -> dict[tuple[str, Key], Artefact]:
    return {(type(a).__name__, a.key): a for a in artefacts}


@pytest.fixture(scope="module")
def written(codelists_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_dsd_dir(codelists_dir, tmp_path_factory.mktemp("dsd"))


@pytest.fixture(scope="module")
def expected_files(ilo_codelists: list[Codelist]) -> dict[str, list[Artefact]]:
    return ilms_files(ilo_codelists)


def test_files_written(written: list[Path]) -> None:
    assert {p.name for p in written} == EXPECTED_FILES
    assert all(p.stat().st_size > 1000 for p in written)


def test_output_is_byte_stable(written: list[Path], codelists_dir: Path, tmp_path: Path) -> None:
    again = write_dsd_dir(codelists_dir, tmp_path)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]


def test_written_files_read_back_to_the_built_structures(
    written: list[Path], structures: list[Artefact], expected_files: dict[str, list[Artefact]]
) -> None:
    read: dict[tuple[str, Key], Artefact] = {}
    for path in written:
        result = read_structures(path)
        assert result.skipped == [], path.name
        assert result.version == "2.1"
        assert _by_key(result.artefacts) == _by_key(expected_files[path.name])
        read.update(_by_key(result.artefacts))
    assert read == _by_key(structures)


def test_written_files_are_schema_valid(written: list[Path]) -> None:
    for path in written:
        validate_sdmx_ml(path.read_bytes(), "2.1")


def test_a_module_file_holds_its_dsd_and_tables(
    expected_files: dict[str, list[Artefact]],
) -> None:
    abroad = expected_files["ILO_DSD_ILMS_ABROAD_1.0.xml"]
    ids = sorted(a.id for a in abroad)
    assert ids[0] == "CAT_DF_ILMS_C13"
    assert "DSD_ILMS_ABROAD" in ids
    assert "DF_ILMS_C18_XRET" in ids
    assert "CR_ILMS_C18_XRET" in ids
    assert not any(a.id.startswith(("DF_ILMS_A", "DF_ILMS_B")) for a in abroad)


# -- the committed dsd/ folder --------------------------------------------------------------------


def test_dsd_folder_is_up_to_date(written: list[Path]) -> None:
    if not DSD_FILES:
        pytest.skip(f"{DSD_DIR} is not generated yet (python -m service.ilms.build)")
    assert sorted(p.name for p in DSD_FILES) == sorted(p.name for p in written)
    for path in written:
        assert (DSD_DIR / path.name).read_bytes() == path.read_bytes(), path.name


def test_dsd_folder_reads_back_to_the_built_structures(structures: list[Artefact]) -> None:
    if not DSD_FILES:
        pytest.skip(f"{DSD_DIR} is not generated yet (python -m service.ilms.build)")
    read: dict[tuple[str, Key], Artefact] = {}
    for path in DSD_FILES:
        read.update(_by_key(read_structures(path).artefacts))
    assert read == _by_key(structures)


@pytest.mark.parametrize("path", DSD_FILES, ids=lambda p: p.name)
def test_dsd_file_is_schema_valid(path: Path) -> None:
    validate_sdmx_ml(path.read_bytes(), "2.1")


# -- other SDMX clients --------------------------------------------------------------------------


def _sdmx1_own(path: Path) -> dict[tuple[str, str], Any]:
    """What sdmx1 reads from a file, without the stubs it makes for references."""
    with _quiet("sdmx"):
        message: Any = sdmx.read_sdmx(path)
    return {
        (CLASSES.get(type(o).__name__, type(o).__name__), o.id): o
        for o in message.iter_objects()
        if not o.is_external_reference
    }


def _pysdmx_own(path: Path) -> dict[tuple[str, str], Any]:
    structures: Sequence[Any] = pysdmx.io.read_sdmx(path).structures or []
    return {(CLASSES.get(type(o).__name__, type(o).__name__), o.id): o for o in structures}


class _quiet:
    """Silence a library's warnings (sdmx1 warns on constraints attached to data providers)."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def __enter__(self) -> None:
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self.logger.setLevel(self.level)


def _keys(artefacts: list[Artefact]) -> set[tuple[str, str]]:
    return {(type(a).__name__, a.id) for a in artefacts}


def _cube(constraint: ContentConstraint) -> dict[str, set[str]]:
    (region,) = constraint.cube_regions
    return {dim: set(values) for dim, values in region.key_values.items()}


def _dataflow_constraints(artefacts: list[Artefact]) -> list[ContentConstraint]:
    return [
        a
        for a in artefacts
        if isinstance(a, ContentConstraint) and a.attachment[0].cls == "Dataflow"
    ]


def test_sdmx1_reads_the_written_files(
    written: list[Path], expected_files: dict[str, list[Artefact]]
) -> None:
    for path in written:
        ours = expected_files[path.name]
        theirs = _sdmx1_own(path)
        assert set(theirs) == _keys(ours), path.name
        for constraint in _dataflow_constraints(ours):
            region = theirs["ContentConstraint", constraint.id].data_content_region[0]
            members = {d.id: {v.value for v in m.values} for d, m in region.member.items()}
            assert members == _cube(constraint)


def test_sdmx1_reads_the_dsds(written: list[Path], structures: list[Artefact]) -> None:
    ours = {a.id: a for a in structures if isinstance(a, DataStructure)}
    read = 0
    for path in written:
        for (cls, dsd_id), dsd in _sdmx1_own(path).items():
            if cls != "DataStructure":
                continue
            assert [d.id for d in dsd.dimensions] == [d.id for d in ours[dsd_id].dimensions]
            assert [a.id for a in dsd.attributes] == [a.id for a in ours[dsd_id].attributes]
            assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
            read += 1
    assert read == len(ours)


def test_pysdmx_reads_the_written_files(
    written: list[Path], expected_files: dict[str, list[Artefact]]
) -> None:
    for path in written:
        ours = expected_files[path.name]
        theirs = _pysdmx_own(path)
        assert set(theirs) == _keys(ours), path.name
        for constraint in (a for a in ours if isinstance(a, ContentConstraint)):
            (region,) = theirs["ContentConstraint", constraint.id].cube_regions
            values = {kv.id: {v.value for v in kv.values} for kv in region.key_values}
            assert values == _cube(constraint)


@pytest.mark.parametrize("path", DSD_FILES, ids=lambda p: p.name)
def test_sdmx1_and_pysdmx_read_dsd_file(path: Path) -> None:
    ours = _keys(read_structures(path).artefacts)
    assert set(_sdmx1_own(path)) == ours
    assert set(_pysdmx_own(path)) == ours


@pytest.mark.parametrize("path", CODELIST_FILES, ids=lambda p: p.name)
def test_sdmx1_and_pysdmx_read_codelist_file(path: Path) -> None:
    ours = {
        (type(a).__name__, a.id): len(getattr(a, "items", ()))
        for a in read_structures(path).artefacts
    }
    assert ours
    for theirs in (_sdmx1_own(path), _pysdmx_own(path)):
        assert {k: len(list(getattr(o, "items", ()))) for k, o in theirs.items()} == ours
