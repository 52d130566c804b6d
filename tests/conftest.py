"""Shared fixtures: the stores under test (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from service.db import make_engine
from service.settings import PROJECT_ROOT, Settings
from service.storage.loader import load_paths
from service.storage.migrate import upgrade

PG_ENV = "ILMS_TEST_DATABASE_URL"
SHIPPED = [PROJECT_ROOT / "codelists", PROJECT_ROOT / "dsd"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgres_url(schema_suffix: str) -> str | None:
    """A PostgreSQL URL on a schema of its own (one per xdist worker and purpose), or None.

    With ILMS_REQUIRE_POSTGRES=1 (CI) an unreachable server fails the run instead of skipping.
    """
    base = os.environ.get(PG_ENV)
    if not base:
        return None
    schema = f"ilms_test_{_worker()}_{schema_suffix}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("ILMS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {base} is required (ILMS_REQUIRE_POSTGRES=1) but: {exc}")
        pytest.skip(f"PostgreSQL at {base} is not reachable: {exc}")
    finally:
        admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def store_url(kind: str, tmp_dir: Path, suffix: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_dir / f'{suffix}.db'}"
    url = postgres_url(suffix)
    if url is None:
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL variant")
    return url


def prepare(url: str) -> Settings:
    """Migrate a store and load the shipped structures into it."""
    settings = Settings(database_url=url, log_json=False, log_level="WARNING")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        load_paths(session, SHIPPED)
        session.commit()
    engine.dispose()
    return settings


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def loaded_settings(store_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for a store (per kind) holding the shipped ILMS structures."""
    url = store_url(store_kind, tmp_path_factory.mktemp("store"), "loaded")
    return prepare(url)


@pytest.fixture(scope="session")
def client(loaded_settings: Settings) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from service.main import create_app

    with TestClient(create_app(loaded_settings)) as test_client:
        yield test_client
