"""A data query that fails while its rows stream leaves nothing open behind it: its
connection goes back to the pool without the statement (``service.db.open_stream``), so the
uploads and queries that take that connection next work as usual."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient

from service.usecases import data as data_usecase
from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20, SS21
from tests.api.test_upload import csv as message
from tests.api.test_upload import row


@pytest.mark.parametrize("accept", [SS21, CSV20])
def test_a_query_that_fails_midway_leaves_the_pool_clean(
    env: Env, monkeypatch: pytest.MonkeyPatch, accept: str
) -> None:
    years = [str(y) for y in range(2000, 2020)]
    assert env.post(message(*(row(year=y) for y in years))).status_code == 201
    gc.disable()  # the failed stream's generators stay uncollected, as in a busy worker
    try:
        real = data_usecase._Shaper.row
        calls = {"n": 0}

        def row_or_fail(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] > 1:
                raise RuntimeError("a bug while shaping a row")
            return real(self, *args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(data_usecase._Shaper, "row", row_or_fail)
            # a few rows per fetch: the statement is still open when the query fails
            patch.setattr(data_usecase.run_query, "__kwdefaults__", {"yield_per": 2})
            client = TestClient(env.client.app, raise_server_exceptions=False)
            for _ in range(3):  # several pooled connections, each left by a failed query
                calls["n"] = 0
                failed = client.get(A05, params={"detail": "full"}, headers={"Accept": accept})
                assert failed.status_code == 500 or failed.status_code == 200
        # every connection the failed queries used is usable: uploads (DDL for staging) and
        # queries succeed, however many times the pool hands them out
        for n in range(6):
            upload = env.post(message(row(year="2020", value=str(100 + n))))
            assert upload.status_code == 201, upload.text[:300]
            answer = env.client.get(A05, headers={"Accept": CSV20})
            assert answer.status_code == 200
            assert f",{100 + n}," in answer.text or f",{100 + n}\n" in answer.text
    finally:
        gc.enable()
