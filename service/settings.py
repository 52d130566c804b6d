"""Service settings, read from ``ILMS_*`` environment variables and validated at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project checkout (or image) root: where ``codelists/``, ``dsd/``, ``alembic/`` and
#: ``openapi.yaml`` live. ILMS_HOME overrides it for non-editable installs (the Docker image).
PROJECT_ROOT = Path(os.environ.get("ILMS_HOME") or Path(__file__).resolve().parents[1])

_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


class Settings(BaseSettings):
    """Configuration. Every field can be set as ``ILMS_<FIELD>`` (e.g. ``ILMS_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="ILMS_", extra="ignore")

    #: The store. Default: an embedded SQLite file. ``postgresql+psycopg://…`` selects PostgreSQL.
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'ilms.db'}"
    #: Connections kept open per worker process (PostgreSQL only). A request holds one while
    #: it runs (a streamed answer until its last byte): beyond them, overflow connections are
    #: opened and closed per request, and PostgreSQL starts a backend process for each. A
    #: worker therefore makes no more read answers at once than this (the others wait).
    pool_size: int = 16
    max_overflow: int = 24
    #: Folders of SDMX-ML structure messages loaded into a fresh store by ``ilms serve``.
    structure_dirs: list[Path] = [PROJECT_ROOT / "codelists", PROJECT_ROOT / "dsd"]
    #: The sender id in message headers.
    sender_id: str = "ILO"
    #: ``Access-Control-Allow-Origin``; ``*`` lets any web page read the (public) API.
    cors_origins: list[str] = ["*"]
    #: How many rendered structure responses each worker keeps (0 disables the cache).
    response_cache_size: int = 512
    #: Bytes of data answers each worker keeps, to answer identical data queries on unchanged
    #: data and structures without reading the store again (0 disables). An answer larger than
    #: 1/64 of it is never kept: the cache serves the many small queries of web applications.
    data_cache_bytes: int = 64 * 1024**2
    #: Bodies smaller than this are not gzipped.
    gzip_minimum_size: int = 1000
    #: zlib level of answers gzipped as they stream (1 fastest .. 9 smallest): like nginx's
    #: default for dynamic content, 1 (9 takes three times the CPU for a third fewer bytes).
    gzip_level: int = Field(default=1, ge=1, le=9)
    #: Reads (structure and data queries) need no token when true; any valid token otherwise.
    public_reads: bool = True
    #: The largest upload body accepted, in bytes (after gzip decoding too): 413 beyond.
    max_upload_bytes: int = 2 * 1024**3
    #: The most observations (series, for serieskeysonly/nodata) one data query may return:
    #: beyond, 413 with SDMX error 510, decided before the first byte.
    max_data_observations: int = 10_000_000
    #: How many PostgreSQL connections write one plain SDMX-CSV 2.0 or SDMX-ML 2.1
    #: structure-specific export at once, each a share of its series (PostgreSQL writes a
    #: share on one core). 1 writes every export on one connection.
    export_streams: int = Field(default=2, ge=1, le=8)
    #: Such exports are written by PostgreSQL from this many observations on; smaller answers
    #: take the general path (an export by PostgreSQL costs a thread and a few connections and
    #: statements more, worth it beyond some thousands of observations).
    export_min_observations: int = Field(default=10_000, ge=0)
    #: Load the synthetic demo data into a fresh embedded SQLite store on `ilms serve`.
    #: Never into PostgreSQL unless ILMS_DEMO_DATA=force (synthetic data must not reach a real
    #: store by accident).
    demo_data: str = "auto"
    log_level: str = "INFO"
    #: One JSON log line per request when true; plain text when false.
    log_json: bool = True

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme = url.split(":", 1)[0]
        if scheme not in _SCHEMES:
            raise ValueError(
                f"ILMS_DATABASE_URL must start with one of {', '.join(s + '://' for s in _SCHEMES)}"
                f"; got {scheme!r}. Example: postgresql+psycopg://user@127.0.0.1:5432/ilms"
            )
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
