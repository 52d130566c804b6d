"""PostgreSQL: a worker runs no more reads at once than its pool keeps connections
(``app.state.read_limiter``). A burst of queries waits its turn instead of opening overflow
connections, each a PostgreSQL backend process started and stopped for one request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from service.usecases import data as data_usecase
from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20, data_env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row

POOL = 2
BURST = 8


@pytest.fixture
def small_pool(tmp_path: Path) -> Iterator[Env]:
    with data_env(
        "postgres", tmp_path, "limiter", pool_size=POOL, max_overflow=10, data_cache_bytes=0
    ) as env:
        if not env.settings.database_url.startswith("postgresql"):
            pytest.skip("the read limiter serves PostgreSQL stores")
        yield env


def test_a_burst_of_reads_opens_no_overflow_connection(
    small_pool: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = small_pool
    assert env.post(message(row(), row(year="2021"))).status_code == 201
    engine: Engine = env.client.app.state.engine  # type: ignore[attr-defined]
    # every read holds its connection until all BURST reads have started or the wait ends:
    # without a limit each would need a connection of its own at the same time
    started = threading.Barrier(BURST, timeout=2)
    running = 0
    most = 0
    lock = threading.Lock()
    plan = data_usecase.run_query

    def slow(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        # the limiter lets only POOL in: their wait times out (broken), as it should
        with suppress(threading.BrokenBarrierError):
            started.wait()
        try:
            return plan(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr("service.api.data.run_query", slow)
    opened: list[object] = []

    def connected(*_: object) -> None:
        opened.append(1)

    event.listen(engine, "connect", connected)
    try:
        with ThreadPoolExecutor(BURST) as pool:
            answers = list(
                pool.map(lambda _: env.client.get(A05, headers={"Accept": CSV20}), range(BURST))
            )
    finally:
        event.remove(engine, "connect", connected)
    assert [a.status_code for a in answers] == [200] * BURST
    assert most == POOL  # no more reads at once than the pool has connections
    assert engine.pool.checkedout() == 0
    assert len(opened) <= POOL  # the pool's own connections; no overflow
