"""Loads SDMX-ML structure messages (files or folders) into the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from service.formats.readers.sdmx_ml_structure import read_structures
from service.model import Artefact
from service.storage.structures import SaveResult, StructureRepository


@dataclass
class LoadReport:
    files: int = 0
    artefacts: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, result: SaveResult) -> None:
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged


def structure_files(paths: Iterable[Path]) -> list[Path]:
    """The ``.xml`` files named, and those inside the folders named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.xml")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no structure file or folder at {path}")
    return files


def read_files(
    files: Sequence[Path], progress: Callable[[Path], None] | None = None
) -> tuple[list[Artefact], list[str]]:
    artefacts: list[Artefact] = []
    skipped: list[str] = []
    for path in files:
        result = read_structures(path)
        # a stub (isExternalReference) only points at an artefact kept elsewhere: storing it
        # would pass off an empty codelist or DSD as the real one
        artefacts.extend(a for a in result.artefacts if not a.is_stub)
        skipped.extend(f"{path.name}: {note}" for note in result.skipped)
        skipped.extend(
            f"{path.name}: {a.sdmx_class} {a.agency}:{a.id}({a.version}) is an external "
            "reference (stub), not stored"
            for a in result.artefacts
            if a.is_stub
        )
        if progress is not None:
            progress(path)
    return artefacts, skipped


def load_paths(
    session: Session,
    paths: Iterable[Path],
    *,
    replace: bool = True,
    progress: Callable[[Path], None] | None = None,
) -> LoadReport:
    """Read every structure message under ``paths`` and save its artefacts (one transaction)."""
    files = structure_files(paths)
    artefacts, skipped = read_files(files, progress)
    report = LoadReport(files=len(files), artefacts=len(artefacts), skipped=skipped)
    report.add(StructureRepository(session).save(artefacts, replace=replace))
    return report
