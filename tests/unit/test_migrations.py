"""Alembic is the only thing that creates the schema, and it matches the SQLAlchemy tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from service.db import make_engine
from service.settings import Settings
from service.storage.migrate import current_revision, head_revision, upgrade
from service.storage.tables import Base
from tests.conftest import store_url


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_migrations_build_exactly_the_tables(kind: str, tmp_path: Path) -> None:
    engine = make_engine(Settings(database_url=store_url(kind, tmp_path, "migrations")))
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        upgrade(engine)  # idempotent
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"tables.py and the migrations disagree: {diff}"
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_downgrade_to_base_and_back(kind: str, tmp_path: Path) -> None:
    from alembic import command
    from service.storage.migrate import alembic_config

    engine = make_engine(Settings(database_url=store_url(kind, tmp_path, "downgrade")))
    try:
        upgrade(engine)
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert "artefact" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
