"""How full exports read the store (storage/data_reads.py, usecases/data.py): no count when the
store holds fewer observation versions than the cap, PostgreSQL's planner settings left as they
were, and rows read ahead in batches come in order, all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.db import make_engine
from service.storage.data_reads import DataReads, Scope
from service.usecases import data as data_usecase
from service.usecases.rendering import ResponseCache
from tests.api.conftest import Env
from tests.api.test_data_query import A05, SS21, data_env, get_csv
from tests.api.test_upload import csv as message
from tests.api.test_upload import row

YEARS = range(2010, 2020)


@pytest.fixture(params=["sqlite", "postgres"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    with data_env(str(request.param), tmp_path, "reads", max_data_observations=100) as env:
        rows = [row(year=str(year)) for year in YEARS]
        rows += [row(area="VNM", year=str(year)) for year in YEARS]
        assert env.post(message(*rows)).status_code == 201
        yield env


def reads(env: Env) -> tuple[Session, Scope]:
    session = Session(make_engine(env.settings))
    dataset = session.execute(text("SELECT pk FROM dataset")).scalar_one()
    return session, Scope(int(dataset))


def count_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``up_to`` of every count made from now on."""
    counted: list[int] = []
    count = DataReads.count

    def spy(self: DataReads, *args: Any, up_to: int, **kwargs: Any) -> int:
        counted.append(up_to)
        return count(self, *args, up_to=up_to, **kwargs)

    monkeypatch.setattr(DataReads, "count", spy)
    return counted


def test_a_cap_above_every_stored_version_needs_no_count(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = count_spy(monkeypatch)
    assert len(get_csv(loaded, A05)) == 2 * len(YEARS)
    assert loaded.client.get(A05, headers={"Accept": SS21}).status_code == 200
    # nothing is counted up to the cap: on PostgreSQL, the exports PostgreSQL writes ask
    # whether anything matches (one row is enough) and whether the answer is large enough
    least = loaded.settings.export_min_observations
    assert all(up_to in (1, least) for up_to in counted)
    assert loaded.settings.max_data_observations + 1 not in counted
    session, scope = reads(loaded)
    with session:
        found = DataReads(session)
        assert found.most_rows() >= found.count(scope, up_to=1000) == 2 * len(YEARS)


def test_a_store_holding_more_than_the_cap_is_counted(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DataReads, "most_rows", lambda self: 10**9)
    monkeypatch.setattr(data_usecase, "_MOST_ROWS", ResponseCache(64))  # as on a first query
    counted = count_spy(monkeypatch)
    assert len(get_csv(loaded, A05)) == 2 * len(YEARS)
    assert loaded.client.get(A05, headers={"Accept": SS21}).status_code == 200
    assert counted.count(101) == 2  # the cap and one more


def test_the_stores_bound_is_asked_once_while_the_data_set_is_unchanged(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_usecase, "_MOST_ROWS", ResponseCache(64))
    asked: list[int] = []
    real = DataReads.most_rows

    def most_rows(self: DataReads) -> int:
        asked.append(1)
        return real(self)

    monkeypatch.setattr(DataReads, "most_rows", most_rows)
    for n in range(1, 4):  # three queries, each read from the store (not a kept answer)
        found = loaded.client.get(A05, params={"lastNObservations": n}, headers={"Accept": SS21})
        assert found.status_code == 200
    assert len(asked) == 1


def test_rows_read_ahead_in_batches_come_whole_and_in_order(loaded: Env) -> None:
    session, scope = reads(loaded)
    with session:
        one_go = list(DataReads(session).observations(scope))
        in_threes = list(DataReads(session, yield_per=3).observations(scope))
    assert [tuple(r) for r in in_threes] == [tuple(r) for r in one_go]
    assert len(one_go) == 2 * len(YEARS)
    assert [r[0:2] for r in one_go] == sorted(r[0:2] for r in one_go)


def test_planner_settings_are_as_before_after_a_read(loaded: Env) -> None:
    """A whole data set is planned in index order, without sorts nor JIT; then as before."""
    session, scope = reads(loaded)
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL planner settings")
    settings = ("enable_sort", "jit")
    with session:
        session.execute(text("SET LOCAL jit = off"))
        before = [session.execute(text(f"SHOW {name}")).scalar_one() for name in settings]
        assert len(list(DataReads(session).observations(scope))) == 2 * len(YEARS)
        after = [session.execute(text(f"SHOW {name}")).scalar_one() for name in settings]
    assert before == after == ["on", "off"]
