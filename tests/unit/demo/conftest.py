"""Fixtures: the shipped ILMS structures, and the demo written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.demo.ilms import write_demo
from service.demo.structures import IlmsStructures, load_structures


@pytest.fixture(scope="session")
def structures() -> IlmsStructures:
    return load_structures()


@pytest.fixture(scope="session")
def demo_files(
    structures: IlmsStructures, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, Path]]:
    return write_demo(tmp_path_factory.mktemp("demo"), structures)
