"""The FastAPI application: lifespan (engine), middleware, routers and exception handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import CapacityLimiter
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from service import __version__
from service.api import (
    answers,
    availability,
    data,
    data_upload,
    docs,
    health,
    maintenance,
    notimplemented,
    schema,
)
from service.api import structure as structure_api
from service.api.handlers import add_exception_handlers
from service.api.middleware import SdmxHttpMiddleware
from service.db import make_engine, session_factory
from service.logging_setup import configure_logging
from service.settings import Settings, get_settings
from service.storage.probe import StateProbe


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. ``settings`` defaults to the ``ILMS_*`` environment."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = session_factory(engine)
        probe = None if settings.is_sqlite else StateProbe(settings.database_url)
        app.state.state_probe = probe
        # PostgreSQL: no more reads at once than the pool keeps connections, so that a burst
        # waits its turn rather than open (and close) an overflow connection, and a backend
        # process, per request (in_session)
        app.state.read_limiter = None if probe is None else CapacityLimiter(settings.pool_size)
        # What exists now (the modules, the app) lives as long as the process: out of the
        # collector's sight, a full collection no longer walks 150,000 objects (50-150 ms
        # during which this worker answers nothing).
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()  # an app that stops in a process that goes on (tests) leaves no garbage
        if probe is not None:
            await probe.close()
        engine.dispose()

    app = FastAPI(
        title="ilms-sdmx",
        version=__version__,
        summary="SDMX REST service for the ILO International Labour Migration Statistics",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.state_probe = None  # PostgreSQL: set by the lifespan (storage/probe.py)
    app.state.read_limiter = None  # PostgreSQL: set by the lifespan
    app.state.read_caches = answers.ReadCaches(settings)
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(data_upload.router)
    app.include_router(data.router)
    app.include_router(availability.router)
    app.include_router(maintenance.router)
    app.include_router(schema.router)  # before structure's v1 paths, which its paths would match
    app.include_router(structure_api.router)
    app.include_router(notimplemented.router)
    app.add_middleware(
        GZipMiddleware, minimum_size=settings.gzip_minimum_size, compresslevel=settings.gzip_level
    )
    app.add_middleware(
        SdmxHttpMiddleware, cors_origins=settings.cors_origins, sender=settings.sender_id
    )
    return app
