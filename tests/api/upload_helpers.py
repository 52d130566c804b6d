"""Shared by the upload test modules: a store per test (SQLite, PostgreSQL) and ways to look in it.

``open_env`` migrates a fresh store, loads the shipped ILMS structures (or the structure files
given), creates an admin token and a provider token for Thailand, and serves the app in a
``TestClient``. ``Env`` posts uploads and reads back what the store holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.db import make_engine
from service.main import create_app
from service.model import DataStructure
from service.settings import Settings
from service.storage.loader import load_paths
from service.storage.migrate import upgrade
from service.storage.observations import ObservationStore
from service.storage.structures import StructureRepository
from service.storage.tables import (
    AttributeCurrentRow,
    AttributeValueRow,
    DatasetRow,
    ObservationRow,
    SeriesRow,
    SubmissionRow,
    observation_current,
)
from service.storage.tokens import TokenRepository
from service.usecases.flows import FlowContext, resolve_flow
from tests.conftest import prepare, store_url

STORES = ["sqlite", "postgres"]
#: The codes of a DF_ILMS_A05 key other than REF_AREA, SEX and ECO: annual stock, totals.
A05_TOTALS = {
    "FREQ": "A",
    "MEASURE": "MST_TEMP_NB",
    "AGE": "AGE_AGGREGATE_TOTAL",
    "EDU": "EDU_ISCED11_TOTAL",
    "OCU": "OCU_ISCO08_TOTAL",
    "STE": "STE_ICSE93_TOTAL",
    "CBR": "CBR_BIR_TOTAL",
    "CCT": "CCT_CIT_TOTAL",
}
A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
CSV10 = "application/vnd.sdmx.data+csv;version=1.0.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
JSON20 = "application/vnd.sdmx.data+json;version=2.0.0"
ML21_SS = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
ML21_GEN = "application/vnd.sdmx.genericdata+xml;version=2.1"
ML21_SS_TS = "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"
ML21_GEN_TS = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1"
ML30 = "application/vnd.sdmx.data+xml;version=3.0.0"

#: The tables an upload writes data into; a rejected upload leaves every one of them empty.
DATA_TABLES: dict[str, Any] = {
    "observation": ObservationRow,
    "observation_current": observation_current,
    "series": SeriesRow,
    "attribute_value": AttributeValueRow,
    "attribute_current": AttributeCurrentRow,
}

#: The dimensions of ILO:DSD_ILMS_STOCK(1.0), in DSD order (TIME_PERIOD aside).
STOCK_DIMENSIONS = (
    "REF_AREA",
    "FREQ",
    "MEASURE",
    "SEX",
    "AGE",
    "EDU",
    "ECO",
    "OCU",
    "STE",
    "CBR",
    "CCT",
)


@dataclass
class Env:
    """A prepared store served by the app, with an admin token and a THA provider token."""

    client: TestClient
    settings: Settings
    admin: str
    tha: str

    def post(
        self,
        body: bytes,
        *,
        content_type: str | None = CSV20,
        token: str | None = None,
        url: str = A05,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = dict(headers or {})
        if content_type is not None:
            sent["Content-Type"] = content_type
        token = self.admin if token is None else token
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.post(url, content=body, headers=sent)

    def session(self) -> Session:
        return Session(make_engine(self.settings))

    def flow(self, agency: str = "ILO", flow_id: str = "DF_ILMS_A05") -> FlowContext:
        with self.session() as session:
            return resolve_flow(StructureRepository(session), agency, flow_id, "1.0")

    def current(self, dsd: DataStructure) -> list[tuple[str, str, float | None, dict[str, str]]]:
        """Current observations: (series key, period, value, observation attributes)."""
        with self.session() as session:
            rows = ObservationStore(session).current(dsd)
        return [
            (key, period, value, json.loads(attrs or "{}")) for key, period, value, _, attrs in rows
        ]

    def attributes(self, dsd: DataStructure) -> set[tuple[str, str, str | None]]:
        """Current attribute values above observation level: (attribute, attach key, value)."""
        with self.session() as session:
            return set(ObservationStore(session).current_attributes(dsd))

    def count(self, table: Any) -> int:
        with self.session() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    def data_counts(self) -> dict[str, int]:
        """Rows in each data table (all zero after a rejected upload into a fresh store)."""
        return {name: self.count(table) for name, table in DATA_TABLES.items()}

    def submissions(self) -> list[tuple[str, str | None, str]]:
        """Every recorded submission: (status, provider, dataflow), oldest first."""
        with self.session() as session:
            rows = session.execute(
                select(
                    SubmissionRow.status, SubmissionRow.provider, SubmissionRow.dataflow
                ).order_by(SubmissionRow.pk)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def wipe_data(self) -> None:
        """Remove every stored observation and attribute (keeps structures and tokens)."""
        with self.session() as session, session.begin():
            for table in (
                ObservationRow,
                AttributeCurrentRow,
                AttributeValueRow,
                SeriesRow,
                DatasetRow,
            ):
                session.execute(delete(table))


def fresh_settings(
    kind: str, tmp_path: Path, suffix: str, structures: Sequence[Path] = ()
) -> Settings:
    """A migrated store holding the shipped ILMS structures, or only ``structures`` if given
    (loaded one file at a time, as by one ``ilms structures load`` per file)."""
    url = store_url(kind, tmp_path, suffix)
    if not structures:
        return prepare(url)
    settings = Settings(database_url=url, log_json=False, log_level="WARNING")
    engine = make_engine(settings)
    upgrade(engine)
    for path in structures:
        with Session(engine) as session:
            load_paths(session, [path])
            session.commit()
    engine.dispose()
    return settings


@contextmanager
def open_env(settings: Settings) -> Iterator[Env]:
    """Tokens for ``settings``' store, and the app serving it."""
    with Session(make_engine(settings)) as session:
        admin, _ = TokenRepository(session).create(provider=None, is_admin=True)
        tha, _ = TokenRepository(session).create(provider="ILO:THA", is_admin=False)
        session.commit()
    with TestClient(create_app(settings)) as client:
        yield Env(client, settings, admin, tha)


def series_key(key: dict[str, str]) -> str:
    """The stored series key of an ILMS STOCK key: the codes in DSD order, "." joined."""
    return ".".join(key[d] for d in STOCK_DIMENSIONS)


def attach_key(key: dict[str, str], dims: Sequence[str], period: str | None = None) -> str:
    """Where a higher-level attribute attaches: ``dims``' codes, others empty, "@period"."""
    joined = ".".join(key[d] if d in dims else "" for d in STOCK_DIMENSIONS)
    return f"{joined}@{period}" if period is not None else joined


def problems(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["submission"]["validation"]["problems"])
