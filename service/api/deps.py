"""FastAPI dependencies: settings and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import AsyncContentStream, StreamingResponse

from service.settings import Settings

T = TypeVar("T")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed when the request succeeds, rolled back otherwise."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def app_settings(request: Request) -> Settings:
    """The settings the application was built with (``create_app``). Kept on ``app.state``
    rather than given as a dependency override: FastAPI rebuilds every dependency's signature
    on each request while any override is set. Async: nothing to wait for, so no trip to the
    thread pool."""
    settings: Settings = request.app.state.settings
    return settings


async def in_session(request: Request, work: Callable[[Session], T]) -> T:
    """``work`` run with a read session of its own, in one trip to the thread pool.

    For reads, which write nothing (the session is closed, not committed). FastAPI runs each
    sync dependency and the endpoint in the thread pool one after another (the session's
    setup, the endpoint, the session's teardown): for small, frequent queries those trips
    cost more than the query. A streamed answer keeps its session until its last chunk has
    gone, or the client has left. On PostgreSQL, no more run at once than the pool keeps
    connections (``app.state.read_limiter``); the others wait their turn on the event loop.
    """
    session: Session = request.app.state.sessionmaker()  # no I/O: it connects on first use

    def run() -> T:
        try:
            result = work(session)
        except BaseException:
            session.close()
            raise
        if isinstance(result, StreamingResponse):
            result.body_iterator = _closing(result.body_iterator, session)
        else:
            session.close()
        return result

    limiter: anyio.CapacityLimiter | None = request.app.state.read_limiter
    return await anyio.to_thread.run_sync(run, limiter=limiter)


async def closing_stream(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks`` (made on the thread pool, as Starlette would), closed as soon as the answer
    ends: finished, failed, or its client gone.

    Starlette leaves a generator it streamed from suspended when the client goes away, until
    the collector finds it (in a reference cycle, maybe much later): what it holds open
    meanwhile (a COPY that PostgreSQL cannot send on, a server-side cursor, a pooled
    connection) is held that long, and closed then from whatever thread collects it."""
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):  # a client that left cancels the stream
                await run_in_threadpool(close)


async def _closing(chunks: AsyncContentStream, session: Session) -> AsyncIterator[str | bytes]:
    try:
        async for chunk in chunks:
            yield chunk if isinstance(chunk, str | bytes) else bytes(chunk)
    finally:
        with anyio.CancelScope(shield=True):  # a client that left cancels the stream
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
