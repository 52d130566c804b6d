"""Engine and session handling: one engine per process, one session per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings.database_url`` (SQLite: WAL mode and foreign keys on)."""
    url = settings.database_url
    if settings.is_sqlite:
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(
            url,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_pre_ping=True,
        )
    event.listen(engine, "reset", _close_open_streams)
    return engine


_STREAMS = "ilms_open_streams"


@contextmanager
def open_stream(conn: Connection, close: Callable[[], None]) -> Iterator[None]:
    """While the block runs, ``close`` (a streamed result's or server-side cursor's) is
    called if the connection goes back to the pool first.

    A streamed read is a generator, suspended between rows: when what consumes it fails, it
    is not closed until the collector finds it, and its connection would go back to the pool
    with the statement still open (SQLite then refuses the next user's DDL, "database table is
    locked"; PostgreSQL's cursor would be closed later from another thread, in another
    request's transaction)."""
    streams: dict[object, Callable[[], None]] = conn.info.setdefault(_STREAMS, {})
    token = object()
    streams[token] = close
    try:
        yield
    finally:
        streams.pop(token, None)


def _close_open_streams(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
    """Pool ``reset`` (before the rollback): close what ``open_stream`` left open."""
    for close in list(connection_record.info.pop(_STREAMS, {}).values()):
        with suppress(Exception):  # the rollback that follows ends it anyway
            close()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    dbapi_conn.create_function("split_part", 3, split_part, deterministic=True)


def split_part(value: str | None, separator: str, position: int) -> str | None:
    """PostgreSQL's ``split_part`` for SQLite: the ``position``-th (from 1) part of ``value``
    split on ``separator``, "" beyond the last (data queries read key codes with it)."""
    if value is None:
        return None
    parts = value.split(separator)
    return parts[position - 1] if 0 < position <= len(parts) else ""


#: Execution option: start the SQLite transaction with BEGIN IMMEDIATE (take the write lock
#: first). A writer that reads before it writes must, or two of them deadlock on the upgrade
#: from read to write lock and one fails at once with "database is locked".
SQLITE_IMMEDIATE = "ilms_sqlite_immediate"


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
