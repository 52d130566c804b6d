"""Harvesting with ``updatedAfter`` never misses a change that an upload stamped earlier but
had not committed yet (PostgreSQL: the harvest waits for the data set's writer)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Connection, text

from service.db import make_engine
from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20, records
from tests.api.test_upload import csv as message
from tests.api.test_upload import row


def stamp_a_new_version(writer: Connection) -> dt.datetime:
    """What an upload does before it commits: lock the data set, stamp, write a new version of
    2020 (99), note the data set's change. Returns the stamp."""
    writer.execute(text("SELECT pk FROM dataset FOR UPDATE"))
    stamp = dt.datetime.now(dt.UTC)
    current = writer.execute(
        text(
            "SELECT pk, series_pk, submission_pk FROM observation "
            "WHERE time_period = '2020' AND superseded_at IS NULL"
        )
    ).one()
    writer.execute(
        text("UPDATE observation SET superseded_at = :t WHERE pk = :pk"),
        {"t": stamp, "pk": current[0]},
    )
    writer.execute(
        text(
            "INSERT INTO observation (series_pk, time_period, value, deleted, recorded_at, "
            "submission_pk) VALUES (:s, '2020', 99, FALSE, :t, :sub)"
        ),
        {"s": current[1], "t": stamp, "sub": current[2]},
    )
    writer.execute(text("UPDATE dataset SET last_changed = :t"), {"t": stamp})
    return stamp


def test_a_harvest_waits_for_an_upload_in_flight(env: Env) -> None:
    if not env.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers and readers see only commits: no lock to wait on")
    assert env.post(message(row(year="2019"), row(year="2020"))).status_code == 201
    engine = make_engine(env.settings)
    found: dict[str, Any] = {}
    with engine.connect() as writer:
        transaction = writer.begin()
        stamp = stamp_a_new_version(writer)
        after = (stamp - dt.timedelta(microseconds=1)).isoformat()

        def harvest() -> None:
            found["response"] = env.client.get(
                A05, params={"updatedAfter": after}, headers={"Accept": CSV20}
            )

        reader = threading.Thread(target=harvest)
        reader.start()
        time.sleep(0.5)  # the harvest is under way, before the upload commits
        transaction.commit()
        reader.join(timeout=60)
    response = found["response"]
    assert response.status_code == 200, response.text[:500]
    assert [(r["TIME_PERIOD"], r["OBS_VALUE"]) for r in records(response)] == [("2020", "99")]


@pytest.mark.parametrize("conditional", [False, True], ids=["kept answer", "304"])
def test_a_repeated_harvest_waits_too(env: Env, conditional: bool) -> None:
    """The same ``updatedAfter`` query asked again while an upload is between stamping and
    committing: neither the kept answer nor a 304 may stand for it (either would hide the
    upload's versions, stamped before the query came, from the harvester's next query)."""
    if not env.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers and readers see only commits: no lock to wait on")
    assert env.post(message(row(year="2019"), row(year="2020"))).status_code == 201
    params = {"updatedAfter": "2000-01-01T00:00:00Z"}
    first = env.client.get(A05, params=params, headers={"Accept": CSV20})
    assert len(records(first)) == 2
    headers = {"Accept": CSV20}
    if conditional:
        headers["If-None-Match"] = first.headers["etag"]
    engine = make_engine(env.settings)
    found: dict[str, Any] = {}
    with engine.connect() as writer:
        transaction = writer.begin()
        stamp_a_new_version(writer)

        def harvest() -> None:
            found["response"] = env.client.get(A05, params=params, headers=headers)

        reader = threading.Thread(target=harvest)
        reader.start()
        time.sleep(0.5)  # the harvest is under way, before the upload commits
        transaction.commit()
        reader.join(timeout=60)
    engine.dispose()
    response = found["response"]
    assert response.status_code == 200, response.text[:500]
    assert ("2020", "99") in [(r["TIME_PERIOD"], r["OBS_VALUE"]) for r in records(response)]
