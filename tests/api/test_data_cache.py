"""Small data answers kept per worker (``ILMS_DATA_CACHE_BYTES``): an identical query on
unchanged data and structures is answered without reading the store's observations, and any
upload or structure change is seen at once. Read sessions are given back after every answer."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import msgspec
import pytest
from sqlalchemy import Engine, TextClause, event

from service.api import availability as availability_api
from service.storage.data_reads import DataReads
from service.storage.structures import StructureRepository
from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20, JSON20, SS21, data_env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row


@contextmanager
def observation_reads(env: Env) -> Iterator[list[str]]:
    """The SQL statements that read observations while the block runs: through the engine, or
    streamed on the driver's own cursors (``DataReads._stream``, PostgreSQL)."""
    engine: Engine = env.client.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "observation" in statement and "dataset" not in statement.split("FROM", 1)[-1][:9]:
            seen.append(statement)

    streamed = DataReads._stream

    def stream(self: DataReads, statement: TextClause, *args: Any, **kwargs: Any) -> Any:
        seen.append(statement.text)
        return streamed(self, statement, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with patch.object(DataReads, "_stream", stream):
            yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def checked_out(env: Env) -> int:
    engine: Engine = env.client.app.state.engine  # type: ignore[attr-defined]
    return int(engine.pool.checkedout())  # type: ignore[attr-defined]


@pytest.fixture
def uploaded(env: Env) -> Env:
    assert env.post(message(row(), row(year="2021", value="11"))).status_code == 201
    return env


def test_an_identical_query_is_answered_without_reading_observations(uploaded: Env) -> None:
    first = uploaded.client.get(A05, headers={"Accept": JSON20})
    with observation_reads(uploaded) as reads:
        again = uploaded.client.get(A05, headers={"Accept": JSON20})
    assert reads == []
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == first.headers["content-type"]
    with observation_reads(uploaded) as reads:  # another format is another answer
        other = uploaded.client.get(A05, headers={"Accept": CSV20})
    assert other.status_code == 200
    assert reads


def test_an_upload_is_seen_at_once(uploaded: Env) -> None:
    before = uploaded.client.get(A05, headers={"Accept": CSV20})
    assert ",11," in before.text or ",11\n" in before.text
    assert uploaded.post(message(row(year="2021", value="42"))).status_code == 201
    after = uploaded.client.get(A05, headers={"Accept": CSV20})
    assert after.headers["etag"] != before.headers["etag"]
    assert "42" in after.text
    assert after.content != before.content


def test_a_structure_change_is_seen_at_once(uploaded: Env) -> None:
    """Names and constraints are part of an answer: any structure change makes it anew."""
    before = uploaded.client.get(A05, headers={"Accept": JSON20})
    with uploaded.session() as session:
        repo = StructureRepository(session)
        [codelist] = repo.load([e for e in repo.index() if e.id == "CL_FREQ"]).values()
        repo.save([msgspec.structs.replace(codelist, version="9.9")])
        session.commit()
    with observation_reads(uploaded) as reads:
        after = uploaded.client.get(A05, headers={"Accept": JSON20})
    assert reads
    assert after.headers["etag"] != before.headers["etag"]


def test_kept_answers_are_gzipped_and_answer_head(uploaded: Env) -> None:
    plain = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    kept = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "gzip"})
    assert kept.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in kept.headers["vary"]
    assert kept.content == plain.content  # httpx decodes it
    raw = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "identity"}).content
    assert gzip.decompress(gzip.compress(raw)) == plain.content
    head = uploaded.client.head(A05, headers={"Accept": SS21})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == plain.headers["etag"]
    refused = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    assert refused.content == plain.content


@pytest.mark.parametrize("cache_bytes", [0, 64 * 50])
def test_disabled_or_too_large_answers_are_read_again(
    store_kind: str, tmp_path: Path, cache_bytes: int
) -> None:
    """0 disables the cache; an answer over 1/64 of it (here 50 bytes) is never kept."""
    with data_env(store_kind, tmp_path, "nocache", data_cache_bytes=cache_bytes) as env:
        assert env.post(message(row())).status_code == 201
        first = env.client.get(A05, headers={"Accept": CSV20})
        with observation_reads(env) as reads:
            again = env.client.get(A05, headers={"Accept": CSV20})
        assert reads
        assert again.text == first.text


def test_read_sessions_are_given_back(uploaded: Env) -> None:
    """Every read gives its connection back: streamed, HEAD, kept, 304, errors, availability."""
    etag = uploaded.client.get(A05, headers={"Accept": CSV20}).headers["etag"]
    uploaded.client.get(A05 + "?detail=serieskeysonly", headers={"Accept": CSV20})
    uploaded.client.head(A05 + "?lastNObservations=1")
    uploaded.client.get(A05, headers={"Accept": CSV20, "If-None-Match": etag})
    assert uploaded.client.get(A05 + "?startPeriod=nope").status_code == 400
    assert uploaded.client.get("/rest/data/DF_NOPE").status_code == 404
    assert uploaded.client.get("/rest/availableconstraint/DF_ILMS_A05").status_code == 200
    assert checked_out(uploaded) == 0


def test_availability_answers_are_kept_until_the_data_change(
    uploaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(PostgreSQL streams availability's reads on a raw cursor, out of SQLAlchemy's events:
    the summing up itself is counted.)"""
    url = "/rest/availableconstraint/ILO,DF_ILMS_A05,1.0/THA.........."
    summed: list[object] = []
    original = availability_api.availability

    def counted(*args: Any, **kwargs: Any) -> Any:
        summed.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(availability_api, "availability", counted)
    first = uploaded.client.get(url)
    assert first.status_code == 200, first.text
    again = uploaded.client.get(url)
    assert len(summed) == 1
    assert again.content == first.content
    assert uploaded.post(message(row(year="2030", value="1"))).status_code == 201
    after = uploaded.client.get(url)
    assert len(summed) == 2
    assert "2030" in after.text
    assert "2030" not in first.text
