"""Plain SDMX-CSV 2.0 exports written by PostgreSQL (usecases/csv_export.py) say exactly what
the general path writes: the same header, the same cells (numbers as numbers), the same rows."""

from __future__ import annotations

import csv
import gc
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from service.formats.base import Lang
from service.query.data import DataParams
from service.query.structure import ApiVersion
from service.storage.structures import StructureRepository
from service.usecases import csv_export, data, pg_export
from tests.api import export_helpers
from tests.api.export_helpers import both_paths, export_settings
from tests.api.test_upload_columnar import first_load, first_rows, message, obs, revision
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
    with open_env(export_settings(tmp_path, "csv_export")) as env:
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
    assert_both_paths_alike(loaded, monkeypatch, url)


def spy_on_applies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What ``csv_export.applies`` answers, query after query."""
    return export_helpers.spy_on_applies(monkeypatch, csv_export)


def assert_both_paths_alike(env: Env, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    fast, general = both_paths(env, monkeypatch, csv_export, url, CSV20)
    assert rows(fast) == rows(general)
    assert len(rows(fast)[1]) > 0


def test_values_above_the_observation_are_quoted_alike(
    env_pg: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attribute values attached to the series and to the period are written by PostgreSQL
    once per series (or period): quotes, commas, backslashes and line breaks as in a cell."""
    odd = 'Survey, "quoted" \\ back\\slash\ntwo lines'
    sent = [
        obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", str(year), "1.5", SOURCE=odd)
        for year in range(2015, 2018)
    ]
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2015", "2", SOURCE="plain"))
    assert env_pg.post(message(sent)).status_code == 201
    assert_both_paths_alike(env_pg, monkeypatch, A05)
    _, found = rows(env_pg.client.get(A05, headers={"Accept": CSV20}).content)
    assert sum(odd in line for line in found) == 3


def test_an_export_leaves_the_request_session_its_connection(tmp_path: Path) -> None:
    """The COPY takes a connection of its own once the request's session has let go of its
    one: with a pool of one connection, the export is served (else it waits for the pool's
    timeout, then fails)."""
    settings = fresh_settings("postgres", tmp_path, "csv_pool")
    with open_env(settings) as env:
        assert env.post(first_load()).status_code == 201
    one = settings.model_copy(
        update={"pool_size": 1, "max_overflow": 0, "export_min_observations": 0}
    )
    with open_env(one) as env:
        response = env.client.get(A05, headers={"Accept": CSV20})
        assert response.status_code == 200, response.text[:500]
        assert len(rows(response.content)[1]) == len(first_rows())


def test_queries_it_does_not_serve_take_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = spy_on_applies(monkeypatch)
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
    monkeypatch.setattr(pg_export, "CHUNK", 64)  # many chunks: stop inside the COPY
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


def test_an_export_collected_in_a_reference_cycle_lets_go_of_its_connection(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An abandoned export may be collected from a reference cycle, whose weak references the
    collector clears first: the pool's then rolls back the export's connection. The COPY runs
    in a thread of its own, which then ends it, rather than holding the connection locked
    inside the abandoned generator (the rollback would wait for ever)."""
    monkeypatch.setattr(pg_export, "CHUNK", 64)  # many chunks: stop inside the COPY
    engine = create_engine(loaded.settings.database_url, pool_size=1, max_overflow=0)
    with Session(engine) as session:
        repo = StructureRepository(session)
        target = data.locate_v2(repo, "dataflow", "ILO", "DF_ILMS_A05", "1.0")
        plan = data.plan_query(target, None, DataParams.parse([]), ApiVersion.V2)
        state = data.data_state(session, plan)
        assert state.dataset_pk is not None
        options = data.MessageOptions(Lang(("en",)), "ILO", {})
        message = data.build_message(plan, options)
        found = csv_export.export(session, plan, state.dataset_pk, message, cap=1000)
        assert found is not None
        next(found)
        cycle: list[object] = [found]
        cycle.append(cycle)
        del found, cycle
    collected: list[int] = []
    collector = threading.Thread(target=lambda: collected.append(gc.collect()))
    collector.start()
    collector.join(timeout=60)  # a deadlock, not a speed
    assert collected
    with engine.connect() as conn:  # the pool's one connection came back
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
