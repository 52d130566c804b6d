"""Small data answers are sent whole, larger ones streamed (``ReadCaches.respond``).

An answer that ends within ``WHOLE_ANSWER`` bytes is read on the thread that made it and sent
as one body with its Content-Length; beyond, it streams chunk by chunk. Both give the same
bytes, with or without the answer cache, and a streamed answer that ends small enough is
kept all the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.api import answers
from service.usecases import data as data_usecase
from service.usecases import pg_export
from tests.api.conftest import Env
from tests.api.export_helpers import export_settings
from tests.api.test_data_query import A05, CSV20, JSON20, SS21, data_env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.api.test_upload_columnar import first_load
from tests.api.upload_helpers import open_env

IDENTITY = {"Accept-Encoding": "identity"}
#: A message's id and when it was prepared.
VOLATILE = re.compile(r"IREF[0-9a-f]+|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?")


@pytest.fixture(params=["sqlite", "postgres"])
def uncached(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    """A store whose workers keep no answers."""
    with data_env(str(request.param), tmp_path, "whole", data_cache_bytes=0) as env:
        yield env


def load(env: Env) -> None:
    rows = [row(area=area, year=str(year)) for area in ("THA", "VNM") for year in range(2000, 2020)]
    assert env.post(message(*rows)).status_code == 201


@pytest.mark.parametrize("accept", [CSV20, JSON20, SS21])
def test_a_small_answer_is_sent_whole_with_its_length(uncached: Env, accept: str) -> None:
    load(uncached)
    answer = uncached.client.get(A05, headers={"Accept": accept, **IDENTITY})
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content) > 0
    assert "content-encoding" not in answer.headers


@pytest.mark.parametrize("accept", [CSV20, JSON20, SS21])
def test_a_larger_answer_streams_the_same_bytes(
    uncached: Env, accept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(uncached)
    whole = uncached.client.get(A05, headers={"Accept": accept, **IDENTITY})
    monkeypatch.setattr(answers, "WHOLE_ANSWER", 100)
    streamed = uncached.client.get(A05, headers={"Accept": accept, **IDENTITY})
    assert streamed.status_code == 200
    assert "content-length" not in streamed.headers  # chunked: streamed
    assert len(streamed.content) > 100
    assert _without_prepared(streamed.text) == _without_prepared(whole.text)
    assert streamed.headers["etag"] == whole.headers["etag"]


def test_a_whole_answer_is_gzipped_for_a_client_that_takes_gzip(uncached: Env) -> None:
    load(uncached)
    answer = uncached.client.get(A05, headers={"Accept": CSV20, "Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["vary"]
    assert answer.text.count("\n") == 41  # httpx decoded it: the header and 40 rows


def test_whole_and_streamed_answers_are_kept_alike(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache on: the second of two identical queries is the kept answer, whether the
    first was sent whole or streamed."""
    load(env)
    for limit in (answers.WHOLE_ANSWER, 100):
        monkeypatch.setattr(answers, "WHOLE_ANSWER", limit)
        accept = JSON20 if limit == 100 else CSV20
        first = env.client.get(A05, headers={"Accept": accept, **IDENTITY})
        kept = env.client.app.state.read_caches.answers.get(  # type: ignore[attr-defined]
            first.headers["etag"]
        )
        assert kept is not None
        assert kept.body == first.content
        again = env.client.get(A05, headers={"Accept": accept, **IDENTITY})
        assert again.content == first.content
        assert int(again.headers["content-length"]) == len(first.content)


def _without_prepared(text: str) -> str:
    """The message without its id and preparation time, which differ per answer."""
    return VOLATILE.sub("", text)


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_head_says_what_get_would_without_a_body(
    uncached: Env, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(uncached)
    headers = {"Accept": CSV20, "Accept-Encoding": encoding}
    get, head = (uncached.client.request(m, A05, headers=headers) for m in ("GET", "HEAD"))
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers.get("content-encoding") == get.headers.get("content-encoding")
    monkeypatch.setattr(answers, "WHOLE_ANSWER", 100)  # streamed: no length to tell
    head = uncached.client.head(A05, headers=headers)
    assert head.status_code == 200
    assert head.content == b""
    assert "content-length" not in head.headers


@pytest.mark.parametrize("accept", [CSV20, JSON20, SS21])
def test_an_export_postgresql_writes_streams_from_its_first_chunk(
    tmp_path: Path, accept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export is large (``export_min_observations``): its head goes out at once, not after
    a read-ahead that would wait for the parts (SDMX-JSON's numbering pass first)."""
    with open_env(export_settings(tmp_path, "whole_export")) as env:
        assert env.post(first_load()).status_code == 201
        exported = env.client.get(A05, headers={"Accept": accept, **IDENTITY})
        monkeypatch.setattr(pg_export, "large", lambda *_: False)  # the general path
        general = env.client.get(A05, headers={"Accept": accept, **IDENTITY})
    assert (exported.status_code, general.status_code) == (200, 200)
    assert "content-length" not in exported.headers
    assert int(general.headers["content-length"]) == len(general.content)


def test_a_failure_inside_a_whole_answer_is_an_sdmx_error(
    uncached: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDMX-CSV header is made before the rows; a row that fails after it still comes
    back as an SDMX error (500), not as a transfer broken after a 200."""
    rows = [
        row(area=area, sex=sex, year=str(year))
        for area in ("THA", "VNM", "LAO", "KHM", "MMR")
        for sex in ("SEX_T", "SEX_M", "SEX_F")
        for year in range(1990, 2020)
    ]
    assert uncached.post(message(*rows)).status_code == 201
    shape = data_usecase._Shaper.row
    calls = 0

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == len(rows):  # the last: the first chunks are made by then
            raise RuntimeError("a row could not be shaped")
        return shape(self, *args, **kwargs)

    monkeypatch.setattr(data_usecase._Shaper, "row", failing)
    answer = uncached.client.get(A05, headers={"Accept": CSV20})
    assert answer.status_code == 500
    assert answer.json()["errors"][0]["code"] == 500
    assert calls == len(rows)
