"""Plain SDMX-CSV 2.0 exports written by PostgreSQL (usecases/csv_export.py) say exactly what
the general path writes: the same header, the same cells (numbers as numbers), the same rows."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.usecases import csv_export
from tests.api.test_upload_columnar import first_load, revision
from tests.api.upload_helpers import Env, fresh_settings, open_env

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"


def rows(body: bytes) -> tuple[list[str], list[tuple[str, ...]]]:
    """The header and the rows, sorted, with OBS_VALUE as a number."""
    lines = list(csv.reader(io.StringIO(body.decode())))
    header, data = lines[0], lines[1:]
    value = header.index("OBS_VALUE")
    parsed = [
        tuple(repr(float(c)) if i == value and c else c for i, c in enumerate(line))
        for line in data
    ]
    return header, sorted(parsed)


@pytest.fixture
def loaded(env_pg: Env) -> Env:
    for body in (first_load(), revision()):
        assert env_pg.post(body).status_code == 201
    return env_pg


@pytest.fixture
def env_pg(tmp_path: Path) -> Iterator[Env]:
    settings = fresh_settings("postgres", tmp_path, "csv_export")
    with open_env(settings) as env:
        yield env


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"key": "THA.A.MST_TEMP_NB.SEX_T+SEX_F"},  # a key with OR, trailing parts left out
        {"key": "*.A.MST_TEMP_NB.*.*.*.ECO_ISIC4_A"},
    ],
)
def test_postgresql_writes_what_the_general_path_writes(
    loaded: Env, monkeypatch: pytest.MonkeyPatch, query: dict[str, str]
) -> None:
    url = A05 + (f"/{query['key']}" if "key" in query else "")
    used: list[bool] = []
    applies = csv_export.applies

    def spy(*args: Any) -> bool:
        used.append(applies(*args))
        return used[-1]

    monkeypatch.setattr(csv_export, "applies", spy)
    fast = loaded.client.get(url, headers={"Accept": CSV20})
    assert fast.status_code == 200, fast.text[:500]
    assert used == [True]
    monkeypatch.setattr(csv_export, "applies", lambda *args: False)
    general = loaded.client.get(url, headers={"Accept": CSV20})
    assert general.status_code == 200
    assert rows(fast.content) == rows(general.content)
    assert len(rows(fast.content)[1]) > 0


def test_queries_it_does_not_serve_take_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[bool] = []
    applies = csv_export.applies

    def spy(*args: Any) -> bool:
        used.append(applies(*args))
        return used[-1]

    monkeypatch.setattr(csv_export, "applies", spy)
    for params in ({"startPeriod": "2016"}, {"labels": "both"}, {"lastNObservations": "1"}):
        response = loaded.client.get(A05, params=params, headers={"Accept": CSV20})
        assert response.status_code == 200
    assert used == [False, False, False]


def test_nothing_matching_is_204(loaded: Env) -> None:
    none = loaded.client.get(A05 + "/LAO", headers={"Accept": CSV20})
    assert none.status_code == 204


def test_a_client_that_goes_away_mid_export_holds_nothing_up(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The COPY runs on a connection of its own: an export abandoned mid-way (the generator
    left suspended inside the COPY) must not block the request's session or the next one."""
    monkeypatch.setattr(csv_export, "_CHUNK", 64)  # many chunks: stop inside the COPY
    with loaded.client.stream("GET", A05, headers={"Accept": CSV20}) as stream:
        for _ in stream.iter_bytes():
            break
    done: list[int] = []
    worker = threading.Thread(
        target=lambda: done.append(loaded.client.get(A05, headers={"Accept": CSV20}).status_code)
    )
    worker.start()
    worker.join(timeout=60)  # a deadlock, not a speed: the request normally takes milliseconds
    assert done == [200]
