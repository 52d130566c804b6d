"""Clients that leave in the middle of a large download leave nothing behind: the answer's
generators are closed at once (``service.api.deps.closing_stream``), so the COPY or the
server-side cursor ends and its connections go back to the pool. Found by a newcomer's run:
forty downloads dropped after 50 kB held forty PostgreSQL backends (``ClientWrite``) and
exhausted a worker's pool; later requests waited 30 s, then failed.

A live server (uvicorn, one worker) with a pool of two connections and no overflow: had one
dropped download kept a connection, a few would leave none for the requests after them."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from service.db import make_engine, session_factory
from service.demo.generate import generate
from service.storage.probe import libpq_url
from service.usecases.ingest import Upload, ingest
from tests.api.upload_helpers import STORES, fresh_settings
from tests.live import launch, stop

FLOW = "/rest/v2/data/dataflow/ILO/DF_ILMS_A03/1.0"
OBSERVATIONS = 60_000  # some 12 MB of SDMX-CSV: more than the socket buffers and read-ahead hold
ACCEPTS = [
    "application/vnd.sdmx.data+csv;version=2.0.0",  # PostgreSQL: one COPY on its own thread
    "application/vnd.sdmx.structurespecificdata+xml;version=2.1",  # a server-side cursor
    "application/vnd.sdmx.data+json;version=2.0.0",
]


@pytest.fixture(scope="module", params=STORES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("disconnects")
    settings = fresh_settings(str(request.param), folder, "disconnects")
    path = folder / "a03.csv"
    generate(OBSERVATIONS, "csv", path, "DF_ILMS_A03")
    engine = make_engine(settings)
    with path.open("rb") as body:
        upload = Upload(
            agency="ILO",
            flow_id="DF_ILMS_A03",
            version="1.0",
            body=body,
            media_type="application/vnd.sdmx.data+csv",
            content_sha256="test",
            size_bytes=0,
        )
        assert ingest(session_factory(engine), upload).status == "accepted"
    engine.dispose()
    pool = {"ILMS_POOL_SIZE": "2", "ILMS_MAX_OVERFLOW": "0", "ILMS_DATA_CACHE_BYTES": "0"}
    proc, base = launch(settings.database_url, folder / "server.log", pool)
    try:
        yield base, settings.database_url
    finally:
        stop(proc)


def drop_after(base: str, accept: str, keep: int = 50_000) -> int:
    """A download read for ``keep`` bytes, then the connection closed: the bytes read."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        request = f"GET {FLOW} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n"
        sock.sendall(request.encode())
        read = 0
        while read < keep:
            chunk = sock.recv(65536)
            if not chunk:
                break
            read += len(chunk)
    return read


def busy_backends(database_url: str) -> int:
    """PostgreSQL backends of this store still running a statement (the test's own aside)."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND pid <> pg_backend_pid() AND query NOT ILIKE '%pg_stat%'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_dropped_downloads_leave_the_pool_whole(served: tuple[str, str]) -> None:
    base, database_url = served
    for n in range(9):  # three of each format, more than the pool holds
        assert drop_after(base, ACCEPTS[n % len(ACCEPTS)]) >= 50_000
    # each request after them gets a connection at once (a leak: a 30 s wait, then 500)
    with httpx.Client(base_url=base, timeout=20) as client:
        for accept in ACCEPTS:
            small = client.get(FLOW, params={"lastNObservations": 1}, headers={"Accept": accept})
            assert small.status_code == 200, small.text[:300]
        whole = client.get(FLOW, headers={"Accept": ACCEPTS[0]})
        assert whole.status_code == 200
        assert whole.text.count("\n") == OBSERVATIONS + 1
    if database_url.startswith("postgresql"):
        deadline = time.monotonic() + 10
        while busy_backends(database_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert busy_backends(database_url) == 0  # no COPY or FETCH left waiting to send
