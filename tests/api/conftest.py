"""Fixtures for the data API tests: a prepared store per test, tokens, and read-backs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import make_engine
from service.main import create_app
from service.model import DataStructure
from service.settings import Settings
from service.storage.observations import ObservationStore
from service.storage.structures import StructureRepository
from service.storage.tokens import TokenRepository
from service.usecases.flows import resolve_flow
from tests.conftest import prepare, store_url

FLOW = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"


@dataclass
class Env:
    client: TestClient
    settings: Settings
    admin: str
    tha: str
    dsd: DataStructure

    def post(self, body: bytes, token: str | None = None, **kw: Any) -> Any:
        headers = {"Content-Type": kw.pop("content_type", CSV20), **kw.pop("headers", {})}
        token = self.admin if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post(kw.pop("url", FLOW), content=body, headers=headers, **kw)

    def session(self) -> Session:
        return Session(make_engine(self.settings))

    def current(self) -> list[tuple[Any, ...]]:
        with self.session() as session:
            return ObservationStore(session).current(self.dsd)

    def history(self) -> list[tuple[Any, ...]]:
        with self.session() as session:
            return ObservationStore(session).history(self.dsd)

    def attributes(self) -> list[tuple[str, str, str | None]]:
        with self.session() as session:
            return ObservationStore(session).current_attributes(self.dsd)

    def count(self, table: Any) -> int:
        with self.session() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    settings = prepare(store_url(str(request.param), tmp_path, "upload"))
    with Session(make_engine(settings)) as session:
        admin, _ = TokenRepository(session).create(provider=None, is_admin=True)
        tha, _ = TokenRepository(session).create(provider="ILO:THA", is_admin=False)
        dsd = resolve_flow(StructureRepository(session), "ILO", "DF_ILMS_A05", "1.0").dsd
        session.commit()
    with TestClient(create_app(settings)) as client:
        yield Env(client, settings, admin, tha, dsd)
