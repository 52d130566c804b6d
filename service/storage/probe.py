"""PostgreSQL, per worker: the structures' and data sets' state, asked on the event loop.

A repeated data or availability query answered from the worker's cache still has to ask the
store whether anything changed (``StructureRepository.state_and_dataset``). Through the
thread pool, a pooled SQLAlchemy connection and its ping, that question cost more than the
rest of the answer. Here it is one prepared statement on an asynchronous psycopg connection
of the worker's own, in autocommit, without leaving the event loop.

Questions asked together share one statement: those that arrive while a statement is out
wait for the next one, which is sent after they arrived, so an answer never predates its
question (an upload committed before a query came in is seen by it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from urllib.parse import quote, urlencode

import psycopg
from sqlalchemy.engine import make_url

from service.storage.structures import StoreState
from service.storage.tables import as_utc

log = logging.getLogger(__name__)

DsdKey = tuple[str, str, str]
#: A data set's primary key and last change (None: no data yet), as ``state_and_dataset``.
DatasetState = tuple[int, dt.datetime | None] | None

_STATEMENT = """
SELECT s.n, s.last, d.agency, d.dsd_id, d.version, d.pk, d.last_changed
FROM (SELECT count(*) AS n, max(updated_at) AS last FROM artefact) AS s
LEFT JOIN dataset AS d
  ON (d.agency, d.dsd_id, d.version) IN (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
"""


def libpq_url(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL (its query, e.g. ``options``, kept).

    The query is percent-encoded as libpq decodes it: SQLAlchemy writes a space as ``+``,
    which libpq keeps, so ``options=-csearch_path=a -cstatement_timeout=5s`` would set the
    search path to ``a+-cstatement_timeout=5s``."""
    url = make_url(database_url).set(drivername="postgresql")
    base = url.set(query={}).render_as_string(hide_password=False)
    if not url.query:
        return base
    return f"{base}?{urlencode(url.query, doseq=True, quote_via=quote)}"


class StateProbe:
    """The state questions of one worker (one event loop), on one connection of its own."""

    def __init__(self, database_url: str) -> None:
        self._url = libpq_url(database_url)
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._waiting: dict[DsdKey, list[asyncio.Future[tuple[StoreState, DatasetState]]]] = {}
        self._rounds: asyncio.Task[None] | None = None

    async def ask(self, dsd: DsdKey) -> tuple[StoreState, DatasetState]:
        """The structures' state and ``dsd``'s data set, as they stand now (or raises: the
        caller then asks through its session)."""
        future: asyncio.Future[tuple[StoreState, DatasetState]]
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(dsd, []).append(future)
        if self._rounds is None or self._rounds.done():
            self._rounds = asyncio.create_task(self._run_rounds())
        return await future

    async def close(self) -> None:
        if self._rounds is not None:
            await asyncio.gather(self._rounds, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run_rounds(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                found = await self._query(list(batch))
            except Exception as error:  # every question of the round learns it
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                continue
            structures, datasets = found
            for dsd, futures in batch.items():
                answer = (structures, datasets.get(dsd))
                for future in futures:
                    if not future.done():  # its request may have gone (client left)
                        future.set_result(answer)

    async def _query(self, keys: list[DsdKey]) -> tuple[StoreState, dict[DsdKey, DatasetState]]:
        """One statement; once more on a fresh connection when the old one was lost (a
        restarted server, an idle connection closed by a proxy)."""
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                cursor = await conn.execute(
                    _STATEMENT, [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]
                )
                rows = await cursor.fetchall()
                break
            except psycopg.OperationalError:
                await conn.close()
                self._conn = None
                if attempt == 2:
                    raise
                log.info("state probe: connection lost, reconnecting")
        count, last = rows[0][0], rows[0][1]
        datasets: dict[DsdKey, DatasetState] = {}
        for _, _, agency, dsd_id, version, pk, changed in rows:
            if pk is not None:
                key = (str(agency), str(dsd_id), str(version))
                datasets[key] = (int(pk), as_utc(changed))  # type: ignore[call-overload,arg-type]
        return StoreState(int(count), as_utc(last)), datasets  # type: ignore[call-overload,arg-type]

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, prepare_threshold=0
            )
        return self._conn
