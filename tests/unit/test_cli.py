"""The ``ilms`` command, through typer's runner, against throwaway SQLite stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from service.cli import app
from service.settings import PROJECT_ROOT, get_settings
from service.storage.migrate import head_revision
from service.storage.tables import ArtefactRow
from tests.shared import ILO_SPECIMEN, SHARED, requires_shared

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ILMS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def count(url: str, artefact_type: str | None = None) -> int:
    engine = create_engine(url)
    stmt = select(func.count(ArtefactRow.pk))
    if artefact_type:
        stmt = stmt.where(ArtefactRow.type == artefact_type)
    with engine.connect() as conn:
        found = int(conn.execute(stmt).scalar_one())
    engine.dispose()
    return found


def test_db_upgrade(store: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"at migration {head_revision()}" in result.output
    assert count(store) == 0


def test_structures_load_the_shipped_folders(store: str) -> None:
    result = runner.invoke(
        app, ["structures", "load", str(PROJECT_ROOT / "codelists"), str(PROJECT_ROOT / "dsd")]
    )
    assert result.exit_code == 0, result.output
    assert count(store, "codelist") == 46
    assert count(store, "dataflow") == 18
    again = runner.invoke(app, ["structures", "load", str(PROJECT_ROOT / "codelists")])
    assert "0 inserted, 0 updated, 49 unchanged" in again.output


@requires_shared
@pytest.mark.parametrize(
    ("relative", "codelists"),
    [("ESTAT/CL_FREQ.xml", 1), ("v3/xml/ECB_EXR_CA_DSD.xml", None)],
)
def test_structures_load_other_agencies_sdmx_21_and_30(
    store: str, relative: str, codelists: int | None
) -> None:
    result = runner.invoke(app, ["structures", "load", str(SHARED / "specimens" / relative)])
    assert result.exit_code == 0, result.output
    if codelists is not None:
        assert count(store, "codelist") == codelists
    else:
        assert count(store, "datastructure") >= 1


def test_structures_load_refuses_a_dtd_clearly(store: str, tmp_path: Path) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    result = runner.invoke(app, ["structures", "load", str(evil)])
    assert result.exit_code == 1
    assert "DTD" in result.output
    assert count(store) == 0


def test_structures_load_missing_path(store: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["structures", "load", str(tmp_path / "nope.xml")])
    assert result.exit_code == 1
    assert "no structure file or folder" in result.output


@requires_shared
def test_import_ilo_reproduces_the_committed_codelists(tmp_path: Path) -> None:
    """codelists/ is exactly what our tooling makes from the real ILOSTAT message."""
    result = runner.invoke(
        app, ["structures", "import-ilo", str(ILO_SPECIMEN), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    made = {p.name: p.read_bytes() for p in tmp_path.glob("*.xml")}
    committed = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "codelists").glob("*.xml")}
    assert made.keys() == committed.keys()
    stale = sorted(name for name in made if made[name] != committed[name])
    assert not stale, f"codelists/ is stale; run `ilms structures import-ilo`: {stale}"


def test_build_ilms_reproduces_the_committed_dsd_folder(tmp_path: Path) -> None:
    """dsd/ is exactly what `ilms structures build-ilms` makes from service/ilms/."""
    result = runner.invoke(app, ["structures", "build-ilms", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    made = {p.name: p.read_bytes() for p in tmp_path.glob("*.xml")}
    committed = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "dsd").glob("*.xml")}
    assert made.keys() == committed.keys()
    stale = sorted(name for name in made if made[name] != committed[name])
    assert not stale, f"dsd/ is stale; run `ilms structures build-ilms`: {stale}"


def test_bad_database_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ILMS_DATABASE_URL", "oracle://nobody@nowhere/x")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "ILMS_DATABASE_URL must start with" in result.output
