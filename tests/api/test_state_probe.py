"""PostgreSQL: the worker's state probe (``service/storage/probe.py``) that lets a repeated
query be answered on the event loop. Its answers never predate the question, questions
asked together share one statement, a lost connection is replaced, and a query answered
through it equals the one answered through a session."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import psycopg
import pytest
from sqlalchemy import Engine, event, make_url, text

from service.storage.probe import StateProbe, libpq_url
from service.storage.structures import StructureRepository
from tests.api.conftest import Env
from tests.api.test_data_cache import observation_reads
from tests.api.test_data_query import A05, CSV20, JSON20
from tests.api.test_upload import csv as message
from tests.api.test_upload import row


def postgres_only(env: Env) -> None:
    if not env.settings.database_url.startswith("postgresql"):
        pytest.skip("the state probe serves PostgreSQL stores (SQLite answers in a session)")


def session_view(env: Env) -> tuple[str, tuple[int, dt.datetime | None] | None]:
    """What ``StructureRepository.state_and_dataset`` says, through a session."""
    with env.client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        structures, dataset = StructureRepository(session).state_and_dataset(env.dsd.key)
    return structures.tag, dataset


@contextmanager
def engine_statements(env: Env) -> Iterator[list[str]]:
    """The statements that run through the app's engine while the block runs."""
    engine: Engine = env.client.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_probe_says_what_a_session_says(env: Env) -> None:
    postgres_only(env)
    assert env.post(message(row(), row(year="2021"))).status_code == 201

    async def ask() -> tuple[str, object, object]:
        probe = StateProbe(env.settings.database_url)
        try:
            structures, dataset = await probe.ask(env.dsd.key)
            _, missing = await probe.ask(("ILO", "NO_SUCH_DSD", "1.0"))
            return structures.tag, dataset, missing
        finally:
            await probe.close()

    tag, dataset, missing = asyncio.run(ask())
    assert (tag, dataset) == session_view(env)
    assert dataset is not None
    assert dataset[1] is not None
    assert missing is None


def test_questions_asked_together_share_a_statement_sent_after_them(env: Env) -> None:
    postgres_only(env)
    assert env.post(message(row())).status_code == 201
    statements: list[str] = []

    async def ask() -> list[object]:
        probe = StateProbe(env.settings.database_url)
        try:
            conn = await probe._connection()
            conn.add_notice_handler(lambda _: None)
            real = conn.execute

            async def counted(query, params=None, **kw):  # type: ignore[no-untyped-def]
                statements.append(query)
                return await real(query, params, **kw)

            conn.execute = counted  # type: ignore[method-assign]
            first = [probe.ask(env.dsd.key) for _ in range(5)]
            other = probe.ask(("ILO", "NO_DATA_HERE", "1.0"))
            return list(await asyncio.gather(*first, other))
        finally:
            await probe.close()

    answers = asyncio.run(ask())
    assert len(statements) == 1  # six questions, one statement
    assert len({repr(a) for a in answers[:5]}) == 1
    assert answers[0][1] is not None  # type: ignore[index]
    assert answers[5][1] is None  # type: ignore[index]  # no data set


class GatedConnection:
    """A stand-in connection: a statement reads the data set's last change when it is sent,
    and answers when the test opens the gate."""

    def __init__(self) -> None:
        self.changed = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        self.sent: list[dt.datetime] = []
        self.out = asyncio.Event()
        self.gate = asyncio.Event()
        self.closed = False

    async def execute(self, _query: str, _params: object) -> GatedConnection:
        self.sent.append(self.changed)
        self._rows = [(1, self.changed, "ILO", "DSD", "1.0", 7, self.changed)]
        self.out.set()
        await self.gate.wait()
        return self

    async def fetchall(self) -> list[tuple[object, ...]]:
        return self._rows


def test_an_answer_never_predates_its_question() -> None:
    """A question asked while a statement is out waits for the next statement: what was
    committed in between is seen."""
    later = dt.datetime(2031, 1, 2, tzinfo=dt.UTC)

    async def ask() -> tuple[object, object, list[dt.datetime]]:
        probe = StateProbe("postgresql+psycopg://nobody@127.0.0.1:1/none")
        conn = GatedConnection()

        async def connection() -> GatedConnection:
            return conn

        probe._connection = connection  # type: ignore[method-assign,assignment]
        early = asyncio.ensure_future(probe.ask(("ILO", "DSD", "1.0")))
        await conn.out.wait()  # the first statement is out
        conn.changed = later  # a commit made after it was sent
        late = asyncio.ensure_future(probe.ask(("ILO", "DSD", "1.0")))
        await asyncio.sleep(0)
        conn.gate.set()
        return await early, await late, conn.sent

    early, late, sent = asyncio.run(ask())
    assert early[1] == (7, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))  # type: ignore[index]
    assert late[1] == (7, later)  # type: ignore[index]
    assert len(sent) == 2


def test_a_lost_connection_is_replaced(env: Env) -> None:
    postgres_only(env)

    async def ask() -> tuple[object, object]:
        probe = StateProbe(env.settings.database_url)
        try:
            before = await probe.ask(env.dsd.key)
            conn = await probe._connection()
            with psycopg.connect(libpq_url(env.settings.database_url), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
            after = await probe.ask(env.dsd.key)
            return before, after
        finally:
            await probe.close()

    before, after = asyncio.run(ask())
    assert before == after


def test_a_repeated_query_is_answered_without_a_session(env: Env) -> None:
    """The kept answer comes through the probe: no statement runs through the engine, and
    the answer (body, ETag) is the one a session gave."""
    postgres_only(env)
    assert env.post(message(row(), row(year="2021", value="11"))).status_code == 201
    first = env.client.get(A05, headers={"Accept": JSON20})
    with engine_statements(env) as through_engine:
        again = env.client.get(A05, headers={"Accept": JSON20})
        revalidated = env.client.get(
            A05, headers={"Accept": JSON20, "If-None-Match": first.headers["etag"]}
        )
    assert through_engine == []
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["etag"] == first.headers["etag"]
    assert revalidated.status_code == 304
    with observation_reads(env) as reads:  # an upload is seen by the next query
        assert env.post(message(row(year="2021", value="42"))).status_code == 201
        after = env.client.get(A05, headers={"Accept": JSON20})
    assert reads
    assert after.headers["etag"] != first.headers["etag"]


def test_a_failing_probe_leaves_the_answer_to_a_session(env: Env) -> None:
    postgres_only(env)
    assert env.post(message(row())).status_code == 201
    first = env.client.get(A05, headers={"Accept": JSON20})
    app = env.client.app
    probe = app.state.state_probe  # type: ignore[attr-defined]

    async def broken(_dsd: object) -> object:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    probe.ask = broken
    try:
        again = env.client.get(A05, headers={"Accept": JSON20})
    finally:
        del probe.ask
    assert (again.status_code, again.content) == (200, first.content)


def test_an_answer_made_in_a_session_takes_the_probes_state(env: Env) -> None:
    """A query not kept (here: another format) on a known target: the probe asked the state
    for it on the event loop, and the session reads the data without asking it again."""
    postgres_only(env)
    assert env.post(message(row(), row(year="2021", value="11"))).status_code == 201
    first = env.client.get(A05, headers={"Accept": JSON20})  # the target is now known
    with engine_statements(env) as through_engine, observation_reads(env) as reads:
        other = env.client.get(A05, headers={"Accept": CSV20})
    assert other.status_code == 200
    assert other.text.count("\n") == 3  # header and two observations
    assert reads  # made in a session
    assert not [s for s in through_engine if "artefact" in s]  # the state was not asked again
    assert first.status_code == 200


def test_a_changed_structure_store_is_seen_despite_the_probe(env: Env) -> None:
    """The probe's state serves only the target it was asked for: a target resolved anew
    (the structures changed since) asks the state in its session."""
    postgres_only(env)
    assert env.post(message(row())).status_code == 201
    assert env.client.get(A05, headers={"Accept": JSON20}).status_code == 200
    with env.session() as session:  # a structure changes: its fingerprint with it
        session.execute(text("UPDATE artefact SET updated_at = now()"))
        session.commit()
    states: list[object] = []
    real = StructureRepository.state_and_dataset

    def spy(self: StructureRepository, dsd: tuple[str, str, str]) -> Any:
        states.append(dsd)
        return real(self, dsd)

    with patch.object(StructureRepository, "state_and_dataset", spy):
        again = env.client.get(A05, headers={"Accept": CSV20})
    assert again.status_code == 200
    assert states == [env.dsd.key]  # the target was resolved again, then its state asked


def test_the_probe_connects_with_the_urls_options(env: Env) -> None:
    """``options`` with a space (two settings) reach libpq as written: SQLAlchemy's own
    rendering would turn the space into ``+`` and libpq would keep it."""
    postgres_only(env)
    found = make_url(env.settings.database_url)
    options = " ".join(
        filter(None, [found.query.get("options"), "-cstatement_timeout=4321 -capplication_name=p"])
    )
    url = found.update_query_dict({"options": options}).render_as_string(hide_password=False)
    assert "+" in url  # SQLAlchemy's way with a space
    assert libpq_url(url).endswith("statement_timeout%3D4321%20-capplication_name%3Dp")

    async def ask() -> tuple[object, object]:
        probe = StateProbe(url)
        try:
            await probe.ask(env.dsd.key)
            conn = await probe._connection()
            timeout = await (await conn.execute("SHOW statement_timeout")).fetchone()
            name = await (await conn.execute("SHOW application_name")).fetchone()
            return timeout, name
        finally:
            await probe.close()

    assert asyncio.run(ask()) == (("4321ms",), ("p",))
